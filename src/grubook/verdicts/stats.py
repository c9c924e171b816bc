"""Intervals for the comparisons the book draws: over seeds, over paired timings, over solve rates.

Every interval is a 95 % interval. Seeds pair two cells' runs (same data, same initial split), so
comparisons use paired differences; solve rates are counts, so they use Wilson's score interval
and Newcombe's hybrid interval for a difference of two rates, which stay sensible at 0/5 and 5/5
where the normal approximation collapses to a point.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["Interval", "t_interval", "paired_difference", "ratio_interval", "wilson", "newcombe", "CONFIDENCE"]

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


def ratio_interval(a, b) -> Interval:
    """Geometric mean of the paired ratios a_i / b_i with an interval (a Student-t interval on the
    log ratios, taken back with exp): the form for timings, whose noise is multiplicative."""
    logs = paired_difference(list(np.log(np.asarray(a, float))), list(np.log(np.asarray(b, float))))
    return Interval(math.exp(logs.estimate), math.exp(logs.low) if math.isfinite(logs.low) else 0.0,
                    math.exp(logs.high), logs["n"])


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
