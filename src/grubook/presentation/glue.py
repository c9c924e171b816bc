"""Glue for the book's pages: results, numbers, figures and findings, read and glued at build time.

Book pages never type a computed number; they glue it. A page loads an experiment's results with
:func:`load` (a :class:`grubook.results.view.Results`, verified against its seal), computes what
it says with the view and ``grubook.verdicts``, and glues each value under a name of its own with
:func:`value`. Experiment pages glue their findings paragraph with :func:`findings`.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..results.files import RESULTS_DIR
from ..results.files import load as load_file

__all__ = ["BOOK_RESULTS_DIR", "load", "load_all", "value", "figure", "findings", "verdicts", "pct", "start_tensorflow"]

# The results the book reads: the committed ones, unless $GRUBOOK_BOOK_RESULTS names another folder
# (to preview the book from, say, `make reproduce-quick` output; the tests use it too).
BOOK_RESULTS_DIR = Path(os.environ.get("GRUBOOK_BOOK_RESULTS") or RESULTS_DIR)


def value(key: str, x, prose: bool = True) -> None:
    """Glue one plain number or string (numpy scalars are cast). A string is computed prose, which
    the Chinese edition translates (:mod:`grubook.presentation.computed_prose`), unless ``prose``
    is False: a name or a message that no language translates (a platform, an error)."""
    from myst_nb import glue

    from .computed_prose import Prose

    if hasattr(x, "item"):
        x = x.item()
    glue(key, Prose(x) if isinstance(x, str) and prose else x, display=False)


def load(experiment: str):
    """An experiment's verified results from the folder the book reads, as a view; its number of
    seeds and wall time are glued as ``<experiment>.seeds`` and ``<experiment>.wall_seconds``."""
    from ..results.view import Results

    res = Results(load_file(experiment, BOOK_RESULTS_DIR))
    value(f"{experiment}.seeds", len(res.seeds))
    value(f"{experiment}.wall_seconds", float(res.provenance["wall_seconds"]))
    return res


def load_all() -> dict:
    """:func:`load` for every experiment, in the book's order: ``{name: Results}``."""
    from ..experiments import NAMES

    return {name: load(name) for name in NAMES}


def verdicts(results_by_experiment: dict, prefix: str = "verdict") -> list[dict]:
    """Glue every claim's verdict as ``<prefix>.<judging function's name>`` (see
    ``grubook.verdicts.claims``) and return the audit's rows."""
    from ..verdicts.claims import audit

    rows = audit(results_by_experiment)
    for row in rows:
        value(f"{prefix}.{row['name']}", row["verdict"])
    return rows


def findings(text: str, key: str = "findings") -> None:
    """Glue a Markdown paragraph (an experiment's findings, written from its results) for a
    ``{glue:md}`` directive at the top of the page (translated in the Chinese edition)."""
    from myst_nb import glue

    from .computed_prose import Prose

    glue(key, Prose(text, markdown=True), display=False)


def figure(key: str, fig) -> None:
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
