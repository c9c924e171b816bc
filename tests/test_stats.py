"""The intervals behind every verdict, against published worked examples."""

import math

import numpy as np
import pytest

from grubook.verdicts import stats


def test_t_interval_matches_the_textbook_formula():
    x = [0.81, 0.84, 0.80, 0.86, 0.83]
    iv = stats.t_interval(x)
    half = 2.7764451051977987 * np.std(x, ddof=1) / math.sqrt(5)       # t(0.975, 4)
    assert iv.estimate == pytest.approx(np.mean(x), abs=1e-15)
    assert (iv.low, iv.high) == pytest.approx((np.mean(x) - half, np.mean(x) + half), abs=1e-12)


def test_one_value_says_nothing_about_spread():
    iv = stats.t_interval([0.5])
    assert iv.low == -math.inf and iv.high == math.inf


def test_paired_difference_uses_pairs_and_skips_missing_ones():
    iv = stats.paired_difference([1.0, 2.0, None, 4.0], [0.5, 1.0, 3.0, 3.0])
    assert iv["n"] == 3 and iv.estimate == pytest.approx((0.5 + 1.0 + 1.0) / 3)
    with pytest.raises(ValueError, match="differ in length"):
        stats.paired_difference([1.0], [1.0, 2.0])


def test_ratio_interval_is_the_geometric_mean_of_paired_ratios():
    iv = stats.ratio_interval([2.0, 4.0, 8.0], [1.0, 2.0, 4.0])
    assert iv.estimate == pytest.approx(2.0) and iv.low == pytest.approx(2.0) and iv.high == pytest.approx(2.0)


def test_wilson_matches_newcombe_1998():
    # Newcombe (1998), Statistics in Medicine 17, 857-872, Table I: 0/10 -> [0, 0.2775]; 81/263 -> [0.2553, 0.3662].
    assert (stats.wilson(0, 10).low, stats.wilson(0, 10).high) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert (stats.wilson(81, 263).low, stats.wilson(81, 263).high) == pytest.approx((0.2553, 0.3662), abs=1e-4)


def test_newcombe_difference_matches_newcombe_1998():
    # Newcombe (1998b), Statistics in Medicine 17, 873-890, example (a): 56/70 - 48/80 -> [0.0524, 0.3339].
    iv = stats.newcombe(56, 70, 48, 80)
    assert iv.estimate == pytest.approx(0.2) and (iv.low, iv.high) == pytest.approx((0.0524, 0.3339), abs=1e-4)


@pytest.mark.parametrize("k,n", [(-1, 5), (6, 5), (0, 0)])
def test_impossible_counts_are_named(k, n):
    with pytest.raises(ValueError, match=f"k={k}, n={n}"):
        stats.wilson(k, n)
