"""The claims audit's verdict rules, on small hand-made results, and on the committed results."""

import copy

import pytest

from grubook import claims
from grubook.results import RESULTS_DIR, load


def agg(mean):
    return {"mean": mean, "std": 0.0, "n": 3, "missing": 0}


def long_range(gru_solved, rnn_solved, rnn_grad=-6.0, gru_grad=-1.0):
    a = {}
    for T, g, s in zip((50, 400), gru_solved, rnn_solved):
        a[f"GRU.T{T}.solved"], a[f"SimpleRNN.T{T}.solved"], a[f"LSTM.T{T}.solved"] = agg(g), agg(s), agg(0.0)
        a[f"GRU.T{T}.test_mse"], a[f"SimpleRNN.T{T}.test_mse"] = agg(0.01 if g else 0.16), agg(0.16)
    a["SimpleRNN.log10_grad_ratio_first_last"] = agg(rnn_grad)
    a["GRU.log10_grad_ratio_first_last"] = agg(gru_grad)
    return {"parameters": {"lengths": [50, 400]}, "aggregates": a, "data": {"analysis_length": 400}}


@pytest.mark.parametrize("gru,rnn,expected", [
    ((1.0, 1.0), (0.0, 0.0), claims.SUPPORTED),
    ((1.0, 0.0), (0.0, 0.0), claims.PARTLY),
    ((1.0, 1.0), (1.0, 1.0), claims.NOT_SUPPORTED),
])
def test_long_term_dependency_verdicts(gru, rnn, expected):
    verdict, evidence, experiment = claims.long_term_dependencies({"long_range": long_range(gru, rnn)})
    assert verdict == expected and experiment == "long_range" and "T = 400" in evidence


@pytest.mark.parametrize("rnn,gru,expected", [(-6, -1, claims.SUPPORTED), (-2, -1, claims.PARTLY),
                                              (-1, -2, claims.NOT_SUPPORTED)])
def test_vanishing_gradient_verdicts(rnn, gru, expected):
    res = {"long_range": long_range((1, 1), (0, 0), rnn_grad=rnn, gru_grad=gru)}
    assert claims.vanishing_gradients_in_rnns(res)[0] == expected


def efficiency(ratios):
    metrics = {f"compiled.T{i}.u32.GRU_over_LSTM.train": r for i, r in enumerate(ratios)}
    return {"parameters": {"units": [32, 128]}, "metrics": metrics}


@pytest.mark.parametrize("ratios,expected", [([0.7, 0.8], claims.SUPPORTED), ([0.8, 1.05], claims.PARTLY),
                                             ([1.1, 1.3], claims.NOT_SUPPORTED)])
def test_efficiency_verdicts(ratios, expected):
    assert claims.more_efficient({"efficiency": efficiency(ratios)})[0] == expected


def test_fewer_parameters_is_computed_from_the_formulas():
    verdict, evidence, _ = claims.fewer_parameters({"efficiency": efficiency([1.0])})
    assert verdict == claims.SUPPORTED and "0.75" in evidence


def overfitting(gaps, tests=None):
    tests = tests or {k: 0.9 for k in gaps}
    aggregates = {f"{k}.gap": agg(v) for k, v in gaps.items()}
    aggregates |= {f"{k}.test_accuracy": agg(tests[k]) for k in gaps}
    aggregates |= {f"{k}.train_accuracy": agg(tests[k] + gaps[k]) for k in gaps}
    return {"parameters": {"regimes": list(gaps)}, "aggregates": aggregates}


@pytest.mark.parametrize("gap,expected", [(0.2, claims.SUPPORTED), (0.01, claims.NOT_SUPPORTED)])
def test_overfitting_verdicts(gap, expected):
    assert claims.can_overfit({"overfitting": overfitting({"none": gap, "dropout": 0.0})})[0] == expected


@pytest.mark.parametrize("gaps,tests,expected", [
    ({"none": 0.2, "dropout": 0.1}, {"none": 0.8, "dropout": 0.85}, claims.SUPPORTED),
    ({"none": 0.2, "dropout": 0.1}, {"none": 0.8, "dropout": 0.7}, claims.PARTLY),    # gap shrank, accuracy fell
    ({"none": 0.2, "dropout": 0.19}, None, claims.PARTLY),
    ({"none": 0.2, "dropout": 0.25}, None, claims.NOT_SUPPORTED),
])
def test_regularisation_verdicts(gaps, tests, expected):
    assert claims.regularisation_helps({"overfitting": overfitting(gaps, tests)})[0] == expected


def test_audit_of_committed_results_covers_every_claim():
    try:
        results = {name: load(name, RESULTS_DIR) for name in
                   ("seed_example", "long_range", "real_sequences", "efficiency", "overfitting")}
    except FileNotFoundError as err:
        pytest.skip(str(err))
    rows = claims.audit(results)
    assert len(rows) == len(claims.CLAIMS)
    assert {r["verdict"] for r in rows} <= {claims.SUPPORTED, claims.PARTLY, claims.NOT_SUPPORTED}
    assert all(r["evidence"].endswith(".") for r in rows)
