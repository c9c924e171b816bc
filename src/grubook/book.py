"""Helpers for book pages: read results, glue their numbers and figures.

Book pages never type a computed number; they glue it. Every aggregate of an experiment is glued
under ``<experiment>.<metric>`` (its mean) and ``<experiment>.<metric>.std``; every seedless
metric under ``<experiment>.<metric>``. Values are cast to plain Python floats and ints.
"""

from __future__ import annotations

import os
from pathlib import Path

from .results import RESULTS_DIR, load

__all__ = ["BOOK_RESULTS_DIR", "glue_results", "load_results", "glue_value", "glue_verdicts", "glue_figure",
           "pct", "start_tensorflow", "paired_difference",
           "glue_findings", "VERDICT_COLOURS", "TwoFormats", "claims_table", "claims_glance",
           "claims_rules"]

# The results the book reads: the committed ones, unless $GRUBOOK_BOOK_RESULTS names another folder
# (to preview the book from, say, `make reproduce-quick` output; the tests use it too).
BOOK_RESULTS_DIR = Path(os.environ.get("GRUBOOK_BOOK_RESULTS") or RESULTS_DIR)


def glue_value(key: str, value) -> None:
    """Glue one plain number or string (numpy scalars are cast)."""
    from myst_nb import glue

    if hasattr(value, "item"):
        value = value.item()
    glue(key, value, display=False)


def load_results(experiment: str) -> dict:
    """An experiment's verified results from the folder the book reads (``BOOK_RESULTS_DIR``)."""
    return load(experiment, BOOK_RESULTS_DIR)


def glue_results(experiment: str) -> dict:
    """Load an experiment's results and glue every number in it; returns the results."""
    res = load_results(experiment)
    for name, agg in res["aggregates"].items():
        if agg["mean"] is not None:
            glue_value(f"{experiment}.{name}", float(agg["mean"]))
            glue_value(f"{experiment}.{name}.std", float(agg["std"]))
        glue_value(f"{experiment}.{name}.n", int(agg["n"]))
    for name, value in res["metrics"].items():
        if isinstance(value, (int, float)):
            glue_value(f"{experiment}.{name}", value)
    glue_value(f"{experiment}.wall_seconds", float(res["provenance"]["wall_seconds"]))
    glue_value(f"{experiment}.seeds", len(res["seeds"]))
    return res


def glue_verdicts(results_by_experiment: dict, prefix: str = "verdict") -> None:
    """Glue every claim's verdict as ``<prefix>.<judging function's name>`` (see grubook.claims)."""
    from .claims import CLAIMS

    for _, judge in CLAIMS:
        glue_value(f"{prefix}.{judge.__name__}", judge(results_by_experiment)["verdict"])


def glue_findings(text: str, key: str = "findings") -> None:
    """Glue a Markdown paragraph (an experiment's findings, written from its results) for a
    ``{glue:md}`` directive at the top of the page."""
    from IPython.display import Markdown
    from myst_nb import glue

    glue(key, Markdown(text), display=False)


def glue_figure(key: str, fig) -> None:
    """Glue a matplotlib figure (shown where the page uses {glue:figure}) and close it."""
    import matplotlib.pyplot as plt
    from myst_nb import glue

    glue(key, fig, display=False)
    plt.close(fig)


def pct(x: float) -> float:
    """A fraction as a percentage, for text such as "{glue:text}`key:.1f` %"."""
    return 100.0 * float(x)


def start_tensorflow() -> None:
    """Import Keras and run one operation, so TensorFlow's one-time start-up messages (CUDA
    probing, oneDNN notices) are printed by the hidden cell that calls this, not by the first
    visible cell that happens to touch TensorFlow."""
    import keras

    keras.ops.convert_to_numpy(keras.ops.zeros((1,)))


def paired_difference(res: dict, a: str, b: str) -> dict:
    """Metric ``a`` minus metric ``b``, paired by seed, with a 95 % Student-t interval.

    Returns the mean difference, the interval's half-width, the number of seeds and a word for
    prose: "above", "below", or "indistinguishable from" when the interval contains 0 (or when
    there are too few seeds for an interval).
    """
    from . import stats

    pairs = [(run["metrics"].get(a), run["metrics"].get(b)) for run in res["per_seed"]]
    if not any(x is not None and y is not None for x, y in pairs):
        return {"mean": float("nan"), "half_width": float("inf"), "n": 0, "word": "indistinguishable from"}
    iv = stats.paired_difference([x for x, _ in pairs], [y for _, y in pairs])
    mean, half = iv.estimate, iv.high - iv.estimate
    word = "above" if iv.low > 0 else "below" if iv.high < 0 else "indistinguishable from"
    return {"mean": mean, "half_width": half, "n": iv["n"], "word": word}


def settled_difference(res: dict, a: str, b: str) -> dict:
    """:func:`paired_difference`, with a word that a re-run CI accepts cannot flip.

    ``slack`` is how far the difference of the two means may move while both metrics stay within
    their committed tolerances (the sum of the two). The difference is "above" or "below" only when
    its whole interval clears zero by more than that; otherwise the word is "within noise of".
    """
    from .claims import slack as tolerance_slack

    diff = paired_difference(res, a, b)
    experiment = res["experiment"]
    slack = tolerance_slack({experiment: res}, [(experiment, a), (experiment, b)], "difference", diff["mean"])
    low, high = diff["mean"] - diff["half_width"], diff["mean"] + diff["half_width"]
    word = "above" if low > slack else "below" if high < -slack else "within noise of"
    return diff | {"word": word, "slack": slack, "low": low, "high": high}


# One colour per verdict, wherever a verdict is shown (front page, claims page).
VERDICT_COLOURS = {"supported": "#2e7d32", "partly supported": "#b26a00", "not supported": "#c62828",
                   "inconclusive": "#5c6bc0"}


class TwoFormats:
    """A cell output in two renderings: HTML for the web book, Markdown for the PDF.

    MyST-NB picks the richest format each builder can show: ``text/html`` for HTML, and for
    LaTeX, which cannot show HTML, ``text/markdown``. Cells that show one need the cell option
    ``mystnb: {markdown_format: gfm}`` so that the Markdown's tables are parsed as tables.
    """

    def __init__(self, html: str, markdown: str):
        self.html, self.markdown = html, markdown

    def _repr_html_(self) -> str:
        return self.html

    def _repr_markdown_(self) -> str:
        return self.markdown


def _one_line(text: str) -> str:
    """Text with every run of whitespace, line breaks included, made one space."""
    return " ".join(str(text).split())


def _md_cell(text: str) -> str:
    """Text safe inside a Markdown table cell (GFM): no pipes, no line breaks."""
    return _one_line(text).replace("|", "\\|")


def _unbroken(words: str) -> str:
    """Words joined by no-break spaces, so that LaTeX does not wrap or hyphenate a verdict."""
    return words.replace(" ", "\u00a0")


def _experiment_link(row: dict, prefix: str) -> tuple[str, str]:
    """Where a claim's evidence lives, as (HTML link, Markdown text)."""
    from . import params

    if row["experiment"] in params.EXPERIMENTS:
        name = row["experiment"]
        return f"<a href='{prefix}experiments/results/{name}.html'>{name}</a>", f"`{name}`"
    return f"<a href='{prefix}book/concepts.html#easier-to-implement'>concepts chapter</a>", "concepts chapter"


def claims_table(rows: list[dict]) -> TwoFormats:
    """The claims audit (rows from :func:`grubook.claims.audit`): claim, verdict, evidence with
    the intervals behind it, and the experiment, for the page at ``book/claims``."""
    import html

    from . import claims

    mark = {claims.HOLDS: "holds", claims.FAILS: "fails", claims.UNDECIDED: "undecided"}

    def comparison(c: dict) -> str:
        return f"{c['label']}: {claims.interval_text(c)}, rule {c['rule']}: {mark[c['outcome']]}"

    cells = "".join(
        f"<tr><td>{i}</td><td>{html.escape(r['claim'])}</td>"
        f"<td style='color:{VERDICT_COLOURS[r['verdict']]};font-weight:bold'>{r['verdict']}</td>"
        f"<td>{html.escape(r['evidence'])}<details><summary>intervals behind it</summary>"
        f"<ul class='comparisons'>{''.join(f'<li>{html.escape(comparison(c))}</li>' for c in r['comparisons'])}"
        f"</ul></details></td><td>{_experiment_link(r, '../')[0]}</td></tr>"
        for i, r in enumerate(rows, 1))
    as_html = ("<div class='table-wrapper'><table class='table claims-audit'><thead><tr><th>#</th>"
               "<th>claim (paraphrased)</th><th>verdict</th><th>evidence</th><th>experiment</th></tr></thead>"
               f"<tbody>{cells}</tbody></table></div>")
    # A page is too narrow for five columns of prose: the PDF's table keeps the short columns and
    # lists each claim's evidence and intervals after it, under the claim's number.
    lines = ["| # | claim (paraphrased) | verdict | experiment |", "|---|---|---|---|"]
    lines += [f"| {i} | {_md_cell(r['claim'])} | **{_unbroken(r['verdict'])}** | {_experiment_link(r, '../')[1]} |"
              for i, r in enumerate(rows, 1)]
    evidence = [f"{i}. {_one_line(r['evidence'])} Intervals: "
                + "; ".join(_one_line(comparison(c)) for c in r["comparisons"]) + "."
                for i, r in enumerate(rows, 1)]
    as_markdown = "\n".join(lines) + "\n\nThe evidence behind each verdict, by claim number:\n\n" + "\n".join(evidence) + "\n"
    return TwoFormats(as_html, as_markdown)


def claims_glance(rows: list[dict]) -> TwoFormats:
    """One line per claim with its verdict, for the front page."""
    import html

    as_html = ("<div class='table-wrapper'><table class='table claims-glance'><thead><tr><th>claim (paraphrased)</th>"
               "<th>verdict</th></tr></thead><tbody>"
               + "".join(f"<tr><td>{html.escape(r['claim'])}</td><td style='color:{VERDICT_COLOURS[r['verdict']]};"
                         f"font-weight:bold'>{r['verdict']}</td></tr>" for r in rows)
               + "</tbody></table></div>")
    as_markdown = "\n".join(["| claim (paraphrased) | verdict |", "|---|---|"]
                            + [f"| {_md_cell(r['claim'])} | **{_unbroken(r['verdict'])}** |" for r in rows]) + "\n"
    return TwoFormats(as_html, as_markdown)


def claims_rules(rows: list[dict]) -> TwoFormats:
    """Each claim's rule, scope and what would change its verdict."""
    import html

    def paragraphs(text: str) -> list[str]:
        return [_one_line(p) for p in text.split("\n\n")]

    blocks, md = [], []
    for i, r in enumerate(rows, 1):
        rule_html = "</p><p>".join(html.escape(p) for p in paragraphs(r["rule"]))
        blocks.append(
            f"<section class='claim-rule'><h4>{i}. {html.escape(r['claim'])} "
            f"<span style='color:{VERDICT_COLOURS[r['verdict']]}'>({r['verdict']})</span></h4>"
            f"<p><strong>Rule.</strong> {rule_html}</p>"
            f"<p><strong>Scope.</strong> {html.escape(r['scope'])}</p>"
            f"<p><strong>What would change it.</strong> {html.escape(r['change'])}</p></section>")
        rule_md = "\n\n".join(paragraphs(r["rule"]))
        md.append(f"**{i}. {r['claim']} ({r['verdict']})**\n\n*Rule.* {rule_md}\n\n"
                  f"*Scope.* {_one_line(r['scope'])}\n\n*What would change it.* {_one_line(r['change'])}\n")
    return TwoFormats("".join(blocks), "\n".join(md))
