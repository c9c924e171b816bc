"""The re-run drift of every compared quantity: measured, not assumed.

On one machine the runs are bit-identical (same code, same seeds, same numbers, wherever the jobs
run), so running twice here measures nothing. Another CPU rounds float32 arithmetic differently,
and training amplifies such differences. ``python -m grubook drift`` reruns every experiment with
every initial weight moved by one unit in the last place (:mod:`grubook.jobs.perturb`), the size
of a rounding difference, into ``experiments/results-perturbed``. Timing comparisons are timed
again by the same run, so their drift is an honest re-run's movement on this machine. One re-timing
is a poor measure of that: the timings of separate processes differ far more than the repeats of one
process do, so an experiment that declares ``MACHINE_BOUND`` quantities is re-timed
``RETIMINGS`` times (``{name}.json``, then ``{name}.retimed-2.json``, ...), and each quantity's drift
is the largest movement among them. Even that misses much of a timing's tail, so timings share
their drift: a decision made with a ``drift_pool`` (every GRU/LSTM step-time ratio, whatever the
implementation) takes the largest movement of any quantity in its pool relative to that
quantity's size, times its own size (:func:`pooled`).

:func:`measured` decides every comparison of the book on both sets of results and records, per
comparison key, how far its estimate and its interval bounds moved. The decision rule
(:func:`grubook.verdicts.decide.decide`) calls a decided comparison *borderline* when its
deciding bound lies within that drift of its threshold. Drift is computed while the book builds,
from the two sealed result sets, so a new comparison gets its drift without another run.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

from ..results.files import REPO_ROOT

__all__ = ["Drift", "PERTURBED_RESULTS_DIR", "RETIMINGS", "retimed_files", "measure", "measured", "current",
           "set_current", "NONE"]

PERTURBED_RESULTS_DIR = REPO_ROOT / "experiments" / "results-perturbed"
# Runs of an experiment with MACHINE_BOUND quantities (timings). Four timings of efficiency on one
# idle machine moved a configuration's GRU/LSTM ratio bounds by up to 0.40; one quantity moved 0.03
# in the first rerun and 0.19 in the fourth, which decided it the other way (see also pooled()).
RETIMINGS = 4


def retimed_files(folder: Path, name: str) -> list[Path]:
    """An experiment's reruns in ``folder``: ``{name}.json`` and its further re-timings, in order."""
    extra = sorted(Path(folder).glob(f"{name}.retimed-*.json"), key=lambda p: int(p.stem.rpartition("-")[2]))
    first = Path(folder) / f"{name}.json"
    return ([first] if first.is_file() else []) + extra


class Drift:
    """How far each comparison moved between the results and their perturbed rerun, by key."""

    def __init__(self, moved: dict | None = None, *, source: str = "", unmatched=(), flipped=()):
        self.moved = dict(moved or {})
        self.source = source
        self.unmatched = list(unmatched)      # experiments whose perturbed rerun is of other code or parameters
        self.flipped = list(flipped)          # (key, outcome, outcome when perturbed) of decisions that changed

    def of(self, key: str) -> float:
        """How far the comparison's interval bounds moved (the larger of the two); 0 if unmeasured."""
        entry = self.moved.get(key)
        return float(entry["bounds"]) if entry else 0.0

    def own(self, key: str) -> float:
        """How far the reruns moved the quantity's bounds themselves, before any pooling; 0 if unmeasured."""
        entry = self.moved.get(key)
        return float(entry.get("own", entry["bounds"])) if entry else 0.0

    def measured_for(self, key: str) -> bool:
        return key in self.moved


NONE = Drift(source="none")        # for deciding without drift (measuring it, or hand-made results)


_CURRENT: Drift | None = None          # set by a notebook that computed its own results


def set_current(drift: Drift | None) -> None:
    """Make :func:`current` return ``drift`` for the rest of this process (None: back to the
    measured one). ``spec.run`` sets it when a notebook computes its own results: a kernel runs
    one experiment's notebook, whose findings then are decided without the committed drift."""
    global _CURRENT
    _CURRENT = drift


def current() -> Drift:
    """The drift measured for the results the book reads (``$GRUBOOK_BOOK_RESULTS``, else the
    committed ones). Results other than the committed ones have no perturbed rerun: no drift."""
    import os

    from ..results.files import RESULTS_DIR

    if _CURRENT is not None:
        return _CURRENT
    folder = Path(os.environ.get("GRUBOOK_BOOK_RESULTS") or RESULTS_DIR)
    if folder.resolve() != RESULTS_DIR.resolve():
        return Drift(source="not measured for these results")
    return measured()


def _movement(before: dict, after: dict) -> dict:
    moved = {}
    for part in ("estimate", "low", "high"):
        a, b = before[part], after[part]
        moved[part] = abs(a - b) if math.isfinite(a) and math.isfinite(b) else (0.0 if a == b else math.inf)
    return moved | {"bounds": max(moved["low"], moved["high"])}


def measure(committed: dict, perturbed: dict) -> dict:
    """{key: movement} for every compared quantity of the experiments in ``perturbed``."""
    return _compare(committed, perturbed)[0]


def _compare(committed: dict, perturbed: dict, before: dict | None = None) -> tuple[dict, list]:
    """({key: movement}, [(key, outcome, outcome when perturbed) of the decisions that changed]).

    Every comparison reads one experiment (the key's prefix), but a claim may read several: the
    perturbed side is therefore decided on the committed results with the perturbed ones in their
    place, and only the quantities of perturbed experiments are kept (the others did not move
    because nothing moved them, which is no measurement)."""
    from .comparisons import every_decision

    before = before if before is not None else every_decision(committed, NONE)   # the committed decisions
    after = every_decision(committed | perturbed, NONE)
    ours = [(key, c) for key, c in before.items() if key in after and key[0].split(":")[0] in perturbed]
    moved = {key[0]: _movement(c, after[key]) for key, c in ours}      # one interval per quantity
    flipped = [(key[0], c.outcome, after[key].outcome) for key, c in ours if after[key].outcome != c.outcome]
    return moved, flipped


@functools.lru_cache(maxsize=4)
def _measured(results_dir: str, perturbed_dir: str) -> Drift:
    from .. import experiments
    from ..results.files import load, verify, read

    # A copy of the package run elsewhere (a test's, a reader's first reproduce) may hold only some
    # results: the drift covers the experiments it has, and an experiment page still renders.
    present = [name for name in experiments.NAMES if (Path(results_dir) / f"{name}.json").is_file()]
    committed = {name: load(name, Path(results_dir)) for name in present}
    matched, unmatched = {}, []                # {name: [first rerun, re-timings...]}
    for name in present:
        these = [verify(read(there), there) for there in retimed_files(Path(perturbed_dir), name)]
        # Only a rerun of the same code, parameters and packages, with its weights perturbed, measures drift.
        if any(r["provenance"]["fingerprint"]["experiment"] != committed[name]["provenance"]["fingerprint"]["experiment"]
               or not (r["provenance"].get("execution") or {}).get("perturb_ulp") for r in these):
            unmatched.append(name)
        elif these:
            matched[name] = these
    # [{name: rerun}]: every experiment's first rerun, then each experiment's second, and so on
    reruns = [{name: rs[i] for name, rs in matched.items() if i < len(rs)}
              for i in range(max(map(len, matched.values()), default=0))]
    if not reruns:
        return Drift(source="no perturbed rerun of these results", unmatched=unmatched)
    from .comparisons import every_decision

    before = every_decision(committed, NONE)   # decided once, for every rerun and for pooling
    moved, flipped = {}, []
    for perturbed in reruns:                   # each quantity: the largest movement of any rerun
        these, changed = _compare(committed, perturbed, before)
        for key, m in these.items():
            moved[key] = m if key not in moved else {part: max(m[part], moved[key][part]) for part in m}
        flipped += [f for f in changed if f not in flipped]
    moved = pooled(moved, {key[0]: c for key, c in before.items()})
    return Drift(moved, source=str(perturbed_dir), unmatched=unmatched, flipped=flipped)


def pooled(moved: dict, decisions: dict) -> dict:
    """``moved`` with the drift of every quantity in a drift pool raised to the pool's share.

    A timing's noise is a slowdown of the process by some factor, so a ratio of two step times
    moves in proportion to its size, and every ratio timed on the machine is exposed to it. A
    handful of re-timings per ratio catches only part of that tail, and which ratios it hits
    depends on where they are timed: in four re-timings alone, Keras + XLA's ratios moved up to
    35 % of their size and PyTorch's at most 17 %; CI's re-runs, in workers that had trained other
    experiments first, moved PyTorch's 128-unit ratios by 31-35 % (0.39 to 0.43). So each quantity
    of a pool (the decisions' ``drift_pool``) takes the largest movement of any of them, relative to
    its committed estimate, times its own estimate, when that is more than its own movement. The
    entry then keeps its own movement as ``own`` and names its ``pool``, the quantity it was pooled
    from and the ``share``. ``decisions``: {key: Decision}, committed."""
    share: dict[str, tuple[float, str]] = {}
    for key, c in decisions.items():
        pool = c.get("drift_pool")
        if pool and key in moved and c["estimate"] and math.isfinite(moved[key]["bounds"]):
            relative = moved[key]["bounds"] / abs(c["estimate"])
            if relative > share.get(pool, (0.0, ""))[0]:
                share[pool] = (relative, key)
    out = dict(moved)
    for key, c in decisions.items():
        pool = c.get("drift_pool")
        if (pool in share and key in moved and key != share[pool][1]
                and share[pool][0] * abs(c["estimate"]) > moved[key]["bounds"]):
            out[key] = moved[key] | {"bounds": share[pool][0] * abs(c["estimate"]), "own": moved[key]["bounds"],
                                     "pool": pool, "pooled_from": share[pool][1], "share": share[pool][0]}
    return out


def measured(results_dir: Path | None = None, perturbed_dir: Path | None = None) -> Drift:
    """The drift of every comparison between the results the book reads and their perturbed rerun."""
    from ..results.files import RESULTS_DIR

    return _measured(str(Path(results_dir or RESULTS_DIR).resolve()),
                     str(Path(perturbed_dir or PERTURBED_RESULTS_DIR).resolve()))
