"""One decision rule for the whole book (grubook.verdicts.decide): every page and the claims audit
decide a quantity the same way, and no page decides a comparison by itself."""

import re
from pathlib import Path

import pytest

from grubook import experiments
from grubook.results.files import RESULTS_DIR, load
from grubook.verdicts import claims
from grubook.verdicts.comparisons import by_source
from grubook.verdicts.drift import NONE

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "book").glob("*.md")) + sorted((ROOT / "experiments").glob("*.md"))


@pytest.fixture(scope="module")
def committed():
    return {name: load(name, RESULTS_DIR) for name in experiments.NAMES}


def test_one_quantity_gets_one_interval_wherever_the_book_decides_it(committed):
    seen = {}
    for source, decisions in by_source(committed, NONE).items():
        for c in decisions:
            seen.setdefault(c["key"], []).append((source, c["estimate"], c["low"], c["high"]))
    shared = {key: found for key, found in seen.items() if len({s for s, *_ in found}) > 1}
    assert shared, "no quantity is decided both on a page and in the claims audit"
    for key, found in shared.items():
        assert len({tuple(v) for _, *v in found}) == 1, (key, found)


def test_the_three_contradictions_of_issue_17_are_gone(committed):
    """counting's page against claim "LSTM better in some cases"; ItalyPowerDemand on its page against
    the parity and "LSTM better" claims; chrono in the at_work chapter against the chrono page."""
    rows = {row["name"]: row for row in claims.audit(committed, NONE)}
    decided = {c["key"]: c for row in rows.values() for c in row["comparisons"]}

    reach = experiments.get("counting").comparisons(load_view(committed, "counting"), NONE)["LSTM − GRU"]
    in_claim = decided[reach["key"]]
    assert (in_claim.outcome, in_claim.interval()) == (reach.outcome, reach.interval())
    assert in_claim in rows["lstm_better_in_some_cases"]["comparisons"]
    if reach.outcome == claims.HOLDS:        # the page says "above": the existence claim is supported
        assert rows["lstm_better_in_some_cases"]["verdict"] == claims.SUPPORTED

    italy = experiments.get("real_sequences").comparisons(load_view(committed, "real_sequences"), NONE)[
        "italy_power_demand: GRU − LSTM"]
    for claim in ("on_par_with_lstm", "lstm_better_in_some_cases"):
        c = next(c for c in rows[claim]["comparisons"] if c["key"] == italy["key"])
        assert c.interval() == italy.interval(), claim
    parity = next(c for c in rows["on_par_with_lstm"]["comparisons"] if c["key"] == italy["key"])
    inside = -claims.PARITY_MARGIN <= italy["low"] and italy["high"] <= claims.PARITY_MARGIN
    assert (parity.outcome == claims.HOLDS) == inside

    at_work = (ROOT / "book" / "at_work.md").read_text()
    assert 'experiments.get("chrono").comparisons(chrono)["default − chrono"]' in at_work


def load_view(committed, name):
    from grubook.results.view import Results

    return Results(committed[name])


# Calls that compute a comparison's outcome or word; only grubook.verdicts.decide may.
OWN_DECISIONS = re.compile(r"paired_difference\(|settled_difference|\bdecide\(|\[\"word\"\]|"
                           r"\"(?:above|below|better|worse|faster|slower)\" if ")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_page_decides_a_comparison_itself(page):
    found = [line.strip() for line in page.read_text().splitlines() if OWN_DECISIONS.search(line)]
    assert not found, found


def test_the_old_rules_are_gone():
    for name in ("settled_difference", "paired_difference", "slack", "distance", "comparison", "above", "below", "within"):
        assert not hasattr(claims, name), name
