"""Why the seed_example order control's GRU can read a shuffled order better than the given one:
which columns it reads last.

``make_classification`` shuffles its columns, so its 2 informative and 10 redundant columns, and
its 8 noise columns, sit at arbitrary places in the given order. A GRU that reads the 20 columns
as 20 steps classifies from its last state, and that state holds its last steps best. So an order
serves it by what its last steps carry. Per column, the predictive weight is how strongly it alone
goes with the label on the training samples, ``w_j = |corr(x_j, y)|``; per order, the score is the
share of that weight in the last :data:`LAST_STEPS` steps read,

    share(order) = Σ_{t ≥ T−L} w_{order[t]} / Σ_j w_j.

Everything here is computed from the data and the results file while a page builds: no training.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from ..verdicts.stats import Interval

__all__ = ["LAST_STEPS", "column_weights", "last_steps_share", "mean_position", "share_rank", "rank_correlation", "analysis"]

# How many final steps the score counts: the few a 20-unit GRU's last state holds most of (fixed
# before the runs of issue 17 were looked at; `analysis` also reports 1 to 5 steps, and the mean
# position of the weight, so that a reader sees the choice does not make the result).
LAST_STEPS = 3


def column_weights(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each step's predictive weight on its own, ``w_j = |corr(x_j, y)|``: the absolute standardised
    slope of the label on that one column. x: (n, T, 1) training sequences, y: (n,) labels 0/1;
    returns shape (T,)."""
    columns = x[:, :, 0].astype(float)                                  # (n, T)
    z = (columns - columns.mean(0)) / columns.std(0)
    label = (y - y.mean()) / y.std()
    return np.abs(z.T @ label) / len(y)


def last_steps_share(order, weights: np.ndarray, last: int = LAST_STEPS) -> float:
    """share(order) = Σ_{t ≥ T−L} w_{order[t]} / Σ_j w_j, with ``order[t]`` the column read at step t."""
    read = np.asarray(weights)[np.asarray(order)]
    return float(read[-last:].sum() / read.sum())


def mean_position(order, weights: np.ndarray) -> float:
    """Where the weight sits on average, 0 (first step) to 1 (last): Σ_t (t / (T−1)) w_{order[t]} / Σ_j w_j."""
    read = np.asarray(weights)[np.asarray(order)]
    return float((np.linspace(0, 1, len(read)) * read).sum() / read.sum())


def share_rank(order, weights: np.ndarray, last: int = LAST_STEPS) -> float:
    """The share of all orders of the columns whose last ``last`` steps carry less weight than this
    order's (ties count half): exact, since the share depends only on which columns come last."""
    mine = last_steps_share(order, weights, last)
    shares = np.array([sum(c) for c in itertools.combinations(np.asarray(weights), last)]) / np.sum(weights)
    below, tied = np.sum(shares < mine - 1e-12), np.sum(np.abs(shares - mine) <= 1e-12)
    return float((below + tied / 2) / len(shares))


def rank_correlation(x, y) -> Interval:
    """Spearman's rank correlation of paired values with a 95 % interval (Fisher's z with the
    Bonett–Wright standard error sqrt((1 + r²/2) / (n − 3))). Fewer than 4 pairs, or a constant
    variable, give no estimate (nan) and the interval [−1, 1]."""
    from scipy.stats import spearmanr

    x, y = np.asarray(x, float), np.asarray(y, float)
    n = len(x)
    if n < 4 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return Interval(math.nan, -1.0, 1.0, n)
    r = float(spearmanr(x, y).statistic)
    if abs(r) == 1.0:                         # atanh is infinite: a perfect ranking, no spread to scale
        return Interval(r, r, r, n)
    half = 1.959963984540054 * math.sqrt((1 + r * r / 2) / (n - 3))
    return Interval(r, math.tanh(math.atanh(r) - half), math.tanh(math.atanh(r) + half), n)


def analysis(res) -> dict:
    """What the page says about the order: the columns' weights, each shuffled run's order, share and
    accuracy, the given order's share and rank among all orders, and the rank correlation of the
    shuffled runs' test accuracy with their share (also for 1 to 5 last steps and the mean position).

    Reads ``res.data["order_control"]`` (one entry per shuffled run) and the training samples of
    ``common.make_split`` (the same the jobs trained on)."""
    from .common import make_split

    split = make_split(["seed_example", res.parameters["validation_fraction"], None])
    weights = column_weights(split.x_train, split.y_train)
    given = np.arange(split.time)
    runs = res.data["order_control"]
    accuracy = [r["test_accuracy"] for r in runs]
    scores = {f"share in the last {L} step{'s' if L > 1 else ''}": (lambda o, L=L: last_steps_share(o, weights, L))
              for L in range(1, 6)}
    scores["mean position (0 first, 1 last)"] = lambda o: mean_position(o, weights)
    sensitivity = {name: {"given": score(given), "rho": rank_correlation([score(r["order"]) for r in runs], accuracy)}
                   for name, score in scores.items()}
    share = [last_steps_share(r["order"], weights) for r in runs]
    return {"weights": weights, "given_share": last_steps_share(given, weights), "given_rank": share_rank(given, weights),
            "shares": share, "accuracy": accuracy, "rho": rank_correlation(share, accuracy),
            "given_accuracy": res.present("test_accuracy", model="GRU"),
            "sensitivity": sensitivity, "runs": len(runs)}
