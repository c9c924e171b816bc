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
           "glue_findings"]

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
