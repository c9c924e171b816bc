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


def test_median_ratio_interval_takes_the_sign_test_ranks():
    # Ten ratios 1.1, 1.2, ..., 2.0: the median 1.55 (geometric mean of the middle two) and ranks 2
    # and 9, whose coverage is 1 − 2·P(Binomial(10, ½) ≤ 1) = 97.9 %.
    iv = stats.median_ratio_interval([11.0 + k for k in range(10)], [10.0] * 10)
    assert iv.estimate == pytest.approx((1.5 * 1.6) ** 0.5)
    assert (iv.low, iv.high) == pytest.approx((1.2, 1.9)) and iv["n"] == 10
    assert (stats.median_ratio_interval([2.0] * 5, [1.0] * 5).low, stats.median_ratio_interval([2.0] * 5, [1.0] * 5).high) \
        == (0.0, math.inf)                                       # five pairs cannot reach 95 %
    with pytest.raises(ValueError, match="positive"):
        stats.median_ratio_interval([1.0, 0.0], [1.0, 1.0])


def test_one_interrupted_step_moves_the_median_interval_by_a_rank_not_past_the_threshold():
    """The CI failure of stop 28: a GRU/LSTM step ratio near 1.8 over ten repeats, one LSTM step
    slowed tenfold by the operating system. The t-interval on the log ratios then reaches below
    0.9; the median's interval stays above it."""
    rng = np.random.default_rng(0)
    lstm = 0.0128 * np.exp(rng.normal(0, 0.03, 10))
    gru = 1.8 * lstm * np.exp(rng.normal(0, 0.03, 10))
    lstm[3] *= 10
    assert stats.ratio_interval(gru, lstm).low < 0.9
    assert stats.median_ratio_interval(gru, lstm).low > 1.5


def test_median_ratio_interval_covers_the_true_median_ratio():
    rng = np.random.default_rng(1)
    hits = 0
    for _ in range(400):
        logs = rng.standard_t(3, 10) * 0.1                      # heavy-tailed log ratios, median 0
        iv = stats.median_ratio_interval(np.exp(logs), np.ones(10))
        hits += iv.low <= 1.0 <= iv.high
    assert 0.94 <= hits / 400 <= 1.0


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


def _crossed(rng, S, I, *, seed_sd, item_sd, noise_sd, shift=0.0, overlap=1):
    """a − b for S seeds × I items from a crossed random-effects model with true mean ``shift``.
    ``overlap`` h > 1 makes neighbouring items share shocks as h-step forecasts from neighbouring
    origins do (a moving sum of h shocks: correlated up to lag h − 1)."""
    shocks = rng.normal(0, item_sd / math.sqrt(overlap), I + overlap - 1)
    items = np.convolve(shocks, np.ones(overlap), "valid")
    d = shift + rng.normal(0, seed_sd, (S, 1)) + items[None, :] + rng.normal(0, noise_sd, (S, I))
    return d, np.zeros_like(d)


@pytest.mark.parametrize("S,I,seed_sd,item_sd,overlap", [
    (3, 300, 0.05, 0.3, 1),        # the digits' shape: few seeds, many items
    (3, 300, 0.1, 0.05, 1),        # seeds dominate: about the seed-only interval, two degrees of freedom
    (5, 300, 0.005, 0.3, 1),       # items dominate: a seed-only interval is far too narrow
    (1, 300, 0.0, 0.3, 1),         # one seed: an interval over items only
    (6, 60, 0.05, 0.3, 11),        # the sunspots' shape: 11-year forecasts from neighbouring origins
])
def test_seeds_and_items_covers_the_true_difference_about_95_percent_of_the_time(S, I, seed_sd, item_sd, overlap):
    """Simulated crossed designs with a known mean: the interval holds it in about 95 % of draws
    (at least 90 %: with overlapping forecasts, 60 origins hold only about six independent blocks).
    Ignoring the items (a t interval over the per-seed means) undercovers where items dominate."""
    rng = np.random.default_rng(0)
    draws, hits, naive_hits = 400, 0, 0
    for _ in range(draws):
        a, b = _crossed(rng, S, I, seed_sd=seed_sd, item_sd=item_sd, noise_sd=0.2, shift=0.1, overlap=overlap)
        iv = stats.seeds_and_items(a, b, lag=overlap - 1)
        hits += iv.low <= 0.1 <= iv.high
        if S > 1:
            naive = stats.paired_difference(list(a.mean(axis=1)), list(b.mean(axis=1)))
            naive_hits += naive.low <= 0.1 <= naive.high
    assert 0.90 <= hits / draws <= 0.99, hits / draws
    if seed_sd < 0.01 and S > 1:
        assert naive_hits / draws < 0.6, naive_hits / draws      # the seed-only interval misses the test set's noise


def test_seeds_and_items_refuses_mismatched_or_empty_scores_in_one_line():
    with pytest.raises(ValueError, match="one shape"):
        stats.seeds_and_items(np.zeros((3, 10)), np.zeros((3, 11)))
    with pytest.raises(ValueError, match="at least two items"):
        stats.seeds_and_items(np.zeros((3, 1)), np.zeros((3, 1)))


def test_seeds_and_items_of_identical_scores_is_a_point():
    iv = stats.seeds_and_items(np.ones((3, 5)), np.ones((3, 5)))
    assert iv.estimate == iv.low == iv.high == 0.0
