"""No page or experiment notebook builds a metric's name by hand: they read results through the
view (grubook.results.view.Results), by quantity and coordinates, so a metric's naming scheme lives
in one place, its experiment's SCHEMA."""

import io
import re
import tokenize
from pathlib import Path

import jupytext
import pytest

from grubook import experiments
from grubook.results.view import MetricNames

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "book").glob("*.md")) + sorted((ROOT / "experiments").glob("*.md"))
RAW_ACCESS = re.compile(r"""\[\s*["'](metrics|aggregates|per_seed)["']\s*\]""")
GLUE_REFERENCE = re.compile(r"\{glue:(?:text|md)\}`([^`:]+)")


def schemas() -> dict[str, MetricNames]:
    return {name: MetricNames(experiments.get(name).SCHEMA) for name in experiments.NAMES}


def metric_name_of(text: str, names: dict[str, MetricNames]) -> str | None:
    """The experiment whose schema reads ``text`` as a metric name (format fields count as any
    coordinate), or None. Only dotted names count: a bare word is not a metric name."""
    candidate = re.sub(r"\{[^{}]*\}", "X", text)
    if "." not in candidate:
        return None
    for experiment, scheme in names.items():
        parsed = scheme.parse(candidate)
        if parsed and "." in scheme.templates[parsed[0]]:
            return experiment
    return None


def string_literals(code: str):
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, IndentationError):
        return
    for token in tokens:
        if token.type == tokenize.STRING:
            body = re.sub(r"^[rbufRBUF]*", "", token.string)
            quote = body[:3] if body[:3] in ('"""', "'''") else body[:1]
            yield body[len(quote):-len(quote)]
        elif token.type == getattr(tokenize, "FSTRING_MIDDLE", None):
            yield token.string


def code_cells(page: Path) -> list[str]:
    notebook = jupytext.read(page)
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_page_builds_a_metric_name(page):
    names = schemas()
    found = []
    for source in code_cells(page):
        found += [f"raw access {m.group(0)}" for m in RAW_ACCESS.finditer(source)]
        for literal in string_literals(source):
            experiment = metric_name_of(literal, names)
            if experiment:
                found.append(f"{literal!r} (a metric name of {experiment})")
    prose = jupytext.read(page)
    for cell in prose.cells:
        if cell.cell_type != "markdown":
            continue
        for key in GLUE_REFERENCE.findall(cell.source):
            experiment, _, rest = key.partition(".")
            if experiment in names and rest and metric_name_of(rest, {experiment: names[experiment]}):
                found.append(f"glue reference {key!r}")
    assert not found, f"{page.name} builds metric names by hand: {found}"


def test_the_check_finds_what_it_forbids():
    names = schemas()
    assert metric_name_of("{cell}.T{T}.steps_to_solve", names) == "long_range"
    assert metric_name_of("GRU.test_accuracy", names) is not None
    assert metric_name_of("steps_to_solve", names) is None
    assert RAW_ACCESS.search('r["metrics"]["x"]') and RAW_ACCESS.search("res['aggregates']")
    assert list(string_literals('f"{cell}.T{T}.solved"'))
