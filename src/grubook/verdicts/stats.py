"""Intervals for the comparisons the book draws: over seeds, over seeds and test items (or
forecast origins), over paired timings, over solve rates.

Every interval is a 95 % interval. Seeds pair two cells' runs (same data, same initial split), so
comparisons use paired differences; solve rates are counts, so they use Wilson's score interval
and Newcombe's hybrid interval for a difference of two rates, which stay sensible at 0/5 and 5/5
where the normal approximation collapses to a point. A test set is itself a sample:
:func:`seeds_and_items` widens a paired difference by the test items' (or forecast origins')
sampling noise as well as the seeds'.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["Interval", "t_interval", "paired_difference", "ratio_interval", "median_ratio_interval", "wilson", "newcombe", "CONFIDENCE"]

CONFIDENCE = 0.95
_Z = 1.959963984540054                                       # standard normal quantile at 0.975


class Interval(dict):
    """A point estimate with a 95 % interval: keys estimate, low, high, n (and what it measures)."""

    def __init__(self, estimate: float, low: float, high: float, n: int, **extra):
        super().__init__(estimate=float(estimate), low=float(low), high=float(high), n=int(n), **extra)

    @property
    def estimate(self) -> float:
        return self["estimate"]

    @property
    def low(self) -> float:
        return self["low"]

    @property
    def high(self) -> float:
        return self["high"]


def _t_quantile(df: int) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.5 + CONFIDENCE / 2, df))


def t_interval(values) -> Interval:
    """Mean of ``values`` with a Student-t interval; a single value gives an infinite interval
    (one seed says nothing about the spread), and no values raise."""
    x = np.asarray([v for v in values if v is not None], dtype=float)
    if len(x) == 0:
        raise ValueError("an interval needs at least one value")
    if len(x) == 1:
        return Interval(x[0], -math.inf, math.inf, 1)
    half = _t_quantile(len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    return Interval(x.mean(), x.mean() - half, x.mean() + half, len(x))


def paired_difference(a, b) -> Interval:
    """Mean of a_i − b_i over the pairs where both are present, with a Student-t interval."""
    if len(a) != len(b):
        raise ValueError(f"paired samples differ in length: {len(a)} and {len(b)}")
    return t_interval([x - y for x, y in zip(a, b) if x is not None and y is not None])


def _long_run_variance(x: np.ndarray, lag: int) -> float:
    """Variance of a series' mean times its length, for losses correlated up to ``lag`` steps.

    ``h``-step forecasts from neighbouring origins share errors, so their losses are correlated up
    to lag h − 1 and no further: Diebold & Mariano (1995) sum those autocovariances with equal
    weights, and Harvey, Leybourne & Newbold (1997) correct the sum's small-sample bias with the
    factor n / (n + 1 − 2h + h(h − 1)/n). Where the equal-weight sum comes out negative, Bartlett's
    weights (Newey & West, 1987), which cannot, stand in. Lag 0 is the plain variance."""
    e = x - x.mean()
    n = len(e)
    lag = min(lag, n - 1)
    gamma = [float(e[k:] @ e[:n - k]) / n for k in range(lag + 1)]
    equal = gamma[0] + 2 * sum(gamma[1:])
    if lag == 0:
        return gamma[0] * n / (n - 1)
    if equal <= 0:
        equal = gamma[0] + 2 * sum((1 - k / (lag + 1)) * gamma[k] for k in range(1, lag + 1))
    h = lag + 1
    return equal * n / (n + 1 - 2 * h + h * (h - 1) / n)


def seeds_and_items(a, b, *, lag: int = 0) -> Interval:
    """Mean of a[s, i] − b[s, i] over seeds s and test items i (a per-item score: 1 for a right
    answer, or a forecast origin's error), with a 95 % interval that covers both samples.

    The mean d̄ of d = a − b varies with the seeds (training randomness) and with the test items
    (the test set is one draw of the items a model could meet). Its variance is estimated as

        Var(d̄) ≈ s²_seeds / S + LRV_items / I,

    the variance of the S per-seed means d̄_s over S plus the long-run variance of the I per-item
    means d̄_i (seeds averaged) over I, with autocovariances up to ``lag`` for serially correlated
    items such as overlapping forecasts (:func:`_long_run_variance`; lag 0 for independent items). Each term also holds the
    seed × item noise σ²/(S·I) once, so the sum counts it twice: a little conservative. The
    interval is Student-t with Welch–Satterthwaite degrees of freedom; with few seeds and many
    items it is close to the seed-only interval when seeds dominate and to an interval over items
    when one seed is all there is (then it covers test items only, and ``n`` says so).
    The form follows the crossed random-effects variance of Owen (2007).
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 2 or 0 in a.shape:
        raise ValueError(f"per-item scores must be two (seeds, items) arrays of one shape, got {a.shape} and {b.shape}")
    d = a - b
    S, I = d.shape
    if I < 2:
        raise ValueError(f"an interval over items needs at least two items, got {I}")
    per_item = d.mean(axis=0)
    item_part = _long_run_variance(per_item, lag) / I
    seed_part = d.mean(axis=1).var(ddof=1) / S if S > 1 else 0.0
    variance = seed_part + item_part
    if variance <= 0:
        return Interval(d.mean(), d.mean(), d.mean(), S, items=I)
    # Items correlated up to ``lag`` hold about I / (lag + 1) independent blocks: the degrees of
    # freedom of their variance (I − 1 when they are independent).
    parts = [(seed_part, S - 1), (item_part, I / (lag + 1) - 1)]
    df = variance**2 / sum(v**2 / k for v, k in parts if k > 0 and v > 0)
    half = _t_quantile(df) * math.sqrt(variance)
    return Interval(d.mean(), d.mean() - half, d.mean() + half, S, items=I, df=df)


def ratio_interval(a, b) -> Interval:
    """Geometric mean of the paired ratios a_i / b_i with an interval (a Student-t interval on the
    log ratios, taken back with exp): the form for timings, whose noise is multiplicative."""
    logs = paired_difference(list(np.log(np.asarray(a, float))), list(np.log(np.asarray(b, float))))
    return Interval(math.exp(logs.estimate), math.exp(logs.low) if math.isfinite(logs.low) else 0.0,
                    math.exp(logs.high), logs["n"])


def median_ratio_interval(a, b) -> Interval:
    """Median of the paired ratios a_i / b_i with a distribution-free 95 % interval: the k-th
    smallest and k-th largest ratio, k the largest rank whose sign-test coverage stays at least
    95 % (ranks 2 and 9 of 10 ratios, 97.9 %). The form for interleaved timings: a step that the
    operating system interrupts is an outlier many times the others, and one such pair widens a
    t-interval on the log ratios past any threshold, while it moves the order statistics by one
    rank. Fewer than six pairs cannot reach 95 % coverage: the interval is then (0, ∞)."""
    from scipy import stats as sp

    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape or a.ndim != 1 or len(a) == 0:
        raise ValueError(f"paired timings must be two equal-length lists, got {a.shape} and {b.shape}")
    if np.any(a <= 0) or np.any(b <= 0):
        raise ValueError("timings must be positive")
    r = np.sort(np.log(a) - np.log(b))
    n = len(r)
    estimate = math.exp(float(np.median(r)))
    # P(at most k − 1 of n ratios fall below the median) is Binomial(n, 1/2); keep it ≤ 2.5 %.
    k = int(sp.binom.ppf((1 - CONFIDENCE) / 2, n, 0.5))
    while k > 0 and sp.binom.cdf(k - 1, n, 0.5) > (1 - CONFIDENCE) / 2:
        k -= 1
    if k < 1:
        return Interval(estimate, 0.0, math.inf, n)
    return Interval(estimate, math.exp(r[k - 1]), math.exp(r[n - k]), n)


def wilson(k: int, n: int) -> Interval:
    """Rate k/n with Wilson's score interval."""
    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n > 0, got k={k}, n={n}")
    p = k / n
    centre = (p + _Z**2 / (2 * n)) / (1 + _Z**2 / n)
    half = _Z * math.sqrt(p * (1 - p) / n + _Z**2 / (4 * n * n)) / (1 + _Z**2 / n)
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half), n)


def newcombe(k1: int, n1: int, k2: int, n2: int) -> Interval:
    """Difference of two rates k1/n1 − k2/n2 with Newcombe's hybrid score interval (method 10),
    built from the two Wilson intervals."""
    a, b = wilson(k1, n1), wilson(k2, n2)
    d = a.estimate - b.estimate
    low = d - math.sqrt((a.estimate - a.low) ** 2 + (b.high - b.estimate) ** 2)
    high = d + math.sqrt((a.high - a.estimate) ** 2 + (b.estimate - b.low) ** 2)
    return Interval(d, max(-1.0, low), min(1.0, high), min(n1, n2))
