"""The claims audit's verdict rules on small hand-made results, one test per branch of every rule,
and the audit of the committed results."""

import pytest

from grubook.gru import cell_steps
from grubook.verdicts import claims
from grubook import experiments
from grubook.results.files import RESULTS_DIR, load

S, P, N, I = claims.SUPPORTED, claims.PARTLY, claims.NOT_SUPPORTED, claims.INCONCLUSIVE
SEEDS = [0, 1, 2, 3, 4]
PROVENANCE = {"cpu": "test CPU", "cpu_count": 2}


def results(per_seed: dict, parameters: dict, metrics=None, data=None) -> dict:
    """A results dict with per-seed metrics given as {name: [value per seed]}."""
    n = len(next(iter(per_seed.values())))
    return {"seeds": list(range(n)), "parameters": parameters, "metrics": metrics or {}, "data": data or {},
            "provenance": PROVENANCE,
            "per_seed": [{"seed": i, "metrics": {k: v[i] for k, v in per_seed.items()}} for i in range(n)]}


def around(mean, spread=0.002, n=5, reverse=False):
    """n values with the given mean and spread; ``reverse`` orders them the other way, so that a
    paired difference with an unreversed series varies by seed (and has an interval)."""
    values = [mean + spread * (i - (n - 1) / 2) for i in range(n)]
    return values[::-1] if reverse else values


def solved(k, n=5):
    return [1.0] * k + [0.0] * (n - k)


# --------------------------------------------------------------------------- combine


@pytest.mark.parametrize("outcomes,expected", [
    ([claims.HOLDS, claims.HOLDS], S), ([claims.FAILS], N), ([claims.HOLDS, claims.FAILS], P),
    ([claims.HOLDS, claims.UNDECIDED], I), ([claims.FAILS, claims.UNDECIDED], I),
    ([claims.HOLDS, claims.FAILS, claims.UNDECIDED], P)])
def test_combine(outcomes, expected):
    assert claims.combine(outcomes) == expected


def test_an_interval_that_straddles_the_threshold_decides_nothing():
    assert claims.above({"low": -0.01, "high": 0.03}, 0) == claims.UNDECIDED
    assert claims.within({"low": -0.01, "high": 0.03}, 0.02) == claims.UNDECIDED
    assert claims.within({"low": 0.021, "high": 0.05}, 0.02) == claims.FAILS
    assert claims.below({"low": 0.95, "high": 1.2}, 0.9) == claims.FAILS


# --------------------------------------------------------------------------- long_range claims


LR_PARAMS = {"lengths": [50, 400], "param_budget": 3500, "threshold": 0.01, "max_steps": 2000, "learning_rate": 0.01,
             "explosion_length": 100, "explosion_steps": 300, "spike_factor": 100.0}


def long_range(gru=(5, 5), rnn=(0, 0), lstm=(5, 0), rnn_grad=(-6.0, -8.0), gru_grad=(-1.0, -2.5),
               gru_steps=(300, 900), lstm_steps=(900, 2000), exploded=5, n=5, grad_spread=0.1):
    m = {}
    for i, T in enumerate((50, 400)):
        for cell, k in (("GRU", gru[i]), ("SimpleRNN", rnn[i]), ("LSTM", lstm[i])):
            m[f"{cell}.T{T}.solved"] = solved(k, n)
        m[f"GRU.T{T}.steps_to_solve"] = around(gru_steps[i], 10, n)
        m[f"LSTM.T{T}.steps_to_solve"] = around(lstm_steps[i], 10, n)
        m[f"SimpleRNN.T{T}.log10_grad_ratio"] = around(rnn_grad[i], grad_spread, n)
        m[f"GRU.T{T}.log10_grad_ratio"] = around(gru_grad[i], grad_spread, n)
        m[f"LSTM.T{T}.log10_grad_ratio"] = around(-3.0, grad_spread, n)
    return results(m, LR_PARAMS, metrics={"explosion.SimpleRNN.exploded": exploded, "explosion.SimpleRNN.runs": n})


@pytest.mark.parametrize("gru,rnn,expected", [
    ((5, 5), (0, 0), S), ((5, 0), (0, 5), P), ((0, 0), (5, 5), N), ((5, 3), (0, 2), I)])
def test_long_term_dependencies(gru, rnn, expected):
    v = claims.long_term_dependencies({"long_range": long_range(gru=gru, rnn=rnn)})
    assert v["verdict"] == expected and v["experiment"] == "long_range" and "T = 400" in v["evidence"]


@pytest.mark.parametrize("rnn_grad,spread,expected", [
    ((-6.0, -6.0), 0.1, S), ((-0.5, -6.0), 0.1, P), ((-0.5, -1.0), 0.1, N),
    ((-2.0, -2.0), 1.0, I)])          # 2 of 5 runs below −2: a share that could be either side of 1/2
def test_vanishing_gradients(rnn_grad, spread, expected):
    lr = long_range(rnn_grad=rnn_grad, grad_spread=spread)
    for run in lr["per_seed"]:
        for cell in ("SimpleRNN", "GRU", "LSTM"):
            for T in (50, 400):
                run["metrics"][f"{cell}.T{T}.log10_grad_ratio_initial"] = -1.0
    assert claims.vanishing_gradients_in_rnns({"long_range": lr})["verdict"] == expected


def test_the_simple_rnn_is_judged_only_where_it_ran():
    lr = long_range(rnn=(0, 5))                # would fail at T = 400, but it did not run there
    lr["parameters"] = LR_PARAMS | {"simple_rnn_lengths": [50]}
    v = claims.long_term_dependencies({"long_range": lr})
    assert v["verdict"] == S and len(v["comparisons"]) == 1


@pytest.mark.parametrize("exploded,n,expected", [(5, 5, S), (0, 40, N), (0, 5, I), (1, 40, I)])
def test_exploding_gradients(exploded, n, expected):
    v = claims.exploding_gradients_in_rnns({"long_range": long_range(exploded=exploded, n=n)})
    assert v["verdict"] == expected


@pytest.mark.parametrize("steps,grads,gru,expected", [
    ((300, 900), (-1.0, -2.5), (5, 5), S),     # 3× the steps, 1.5 more decades lost
    ((300, 320), (-1.0, -1.1), (5, 5), N),
    ((300, 900), (-1.0, -1.1), (5, 5), P),
    ((300, 600), (-1.0, -2.5), (5, 5), I),     # exactly 2×: the interval straddles the threshold
    ((300, 320), (-1.0, -1.1), (5, 3), I),     # censored runs: a ratio below 2 is only a lower bound
])
def test_gru_still_struggles(steps, grads, gru, expected):
    lr = long_range(gru_steps=steps, gru_grad=grads, gru=gru)
    assert claims.gru_still_struggles_on_long_sequences({"long_range": lr})["verdict"] == expected


# --------------------------------------------------------------------------- classifier claims


RS_PARAMS = {"datasets": ["digits", "italy_power_demand"], "param_budget": 3500, "patience": 10}


def real(acc: dict, spread=0.002):
    """acc: {(data set, cell): mean test accuracy}."""
    return results({f"{d}.{c}.test_accuracy": around(a, spread, reverse=c != "GRU") for (d, c), a in acc.items()},
                   RS_PARAMS)


def real_acc(gru=(0.90, 0.95), lstm=(0.90, 0.95), rnn=(0.85, 0.90)):
    out = {}
    for i, d in enumerate(RS_PARAMS["datasets"]):
        out |= {(d, "GRU"): gru[i], (d, "LSTM"): lstm[i], (d, "SimpleRNN"): rnn[i]}
    return out


@pytest.mark.parametrize("gru,lstm,solved_gru,solved_lstm,spread,expected", [
    ((0.90, 0.95), (0.90, 0.95), 5, 0, 0.002, S),       # on par twice, better at T = 400
    ((0.90, 0.95), (0.90, 0.95), 5, 5, 0.002, I),       # 5/5 vs 5/5 cannot show parity within ±0.2
    ((0.80, 0.95), (0.90, 0.95), 5, 0, 0.002, P),
    ((0.80, 0.85), (0.90, 0.95), 0, 5, 0.002, N),
    ((0.90, 0.95), (0.90, 0.95), 5, 0, 0.05, I),        # noisy accuracies: parity undecided
])
def test_on_par_with_lstm(gru, lstm, solved_gru, solved_lstm, spread, expected):
    r = {"real_sequences": real(real_acc(gru=gru, lstm=lstm), spread),
         "long_range": long_range(gru=(5, solved_gru), lstm=(5, solved_lstm))}
    assert claims.on_par_with_lstm(r)["verdict"] == expected


@pytest.mark.parametrize("gru,rnn,gru_solved,expected", [
    ((0.90, 0.95), (0.85, 0.90), 5, S), ((0.80, 0.85), (0.85, 0.90), 5, P),
    ((0.80, 0.85), (0.85, 0.90), 0, I), ((0.80, 0.85), (0.85, 0.90), None, N)])
def test_gru_improves_over_rnn(gru, rnn, gru_solved, expected):
    lr = long_range(gru=(5, gru_solved), rnn=(0, 0)) if gru_solved is not None else long_range(gru=(0, 0), rnn=(5, 5))
    r = {"real_sequences": real(real_acc(gru=gru, rnn=rnn)), "long_range": lr}
    assert claims.gru_improves_over_rnn(r)["verdict"] == expected


CNT_PARAMS = {"train_max_n": 20, "test_max_n": 100, "param_budget": 400, "steps": 1500}


def counting(lstm, gru, spread=0.5):
    return results({"LSTM.generalises_to": around(lstm, spread), "GRU.generalises_to": around(gru, spread, reverse=True),
                    "SimpleRNN.generalises_to": around(10, spread)}, CNT_PARAMS)


@pytest.mark.parametrize("lstm,gru,acc_lstm,spread,expected", [
    (40, 22, (0.90, 0.95), 0.5, S), (22, 40, (0.85, 0.90), 0.5, N), (22, 22, (0.90, 0.95), 20.0, I)])
def test_lstm_better_in_some_cases(lstm, gru, acc_lstm, spread, expected):
    r = {"counting": counting(lstm, gru, spread), "real_sequences": real(real_acc(lstm=acc_lstm))}
    assert claims.lstm_better_in_some_cases(r)["verdict"] == expected


OF_PARAMS = {"regimes": ["none", "dropout", "weight_decay"], "units": 64, "train_size": 200, "epochs": 60,
             "validation_size": 300}


def overfitting(gaps, tests=None, spread=0.002):
    tests = tests or {k: 0.9 for k in gaps}
    m = {f"{k}.gap": around(v, spread, reverse=k != "none") for k, v in gaps.items()}
    m |= {f"{k}.test_accuracy": around(tests[k], spread, reverse=k != "none") for k in gaps}
    m |= {f"{k}.train_accuracy": around(tests[k] + gaps[k], spread, reverse=k != "none") for k in gaps}
    return results(m, OF_PARAMS | {"regimes": list(gaps)}, metrics={"params": 12_000})


@pytest.mark.parametrize("gap,spread,expected", [(0.2, 0.002, S), (0.01, 0.002, N), (0.05, 0.05, I)])
def test_can_overfit(gap, spread, expected):
    r = {"overfitting": overfitting({"none": gap, "dropout": 0.0}, spread=spread)}
    assert claims.can_overfit(r)["verdict"] == expected


@pytest.mark.parametrize("gaps,tests,spread,expected", [
    ({"none": 0.2, "dropout": 0.1, "weight_decay": 0.2}, {"none": 0.8, "dropout": 0.85, "weight_decay": 0.8}, 0.002, S),
    ({"none": 0.2, "dropout": 0.1, "weight_decay": 0.2}, {"none": 0.8, "dropout": 0.7, "weight_decay": 0.8}, 0.002, P),
    ({"none": 0.2, "dropout": 0.2, "weight_decay": 0.25}, None, 0.002, N),
    ({"none": 0.2, "dropout": 0.18, "weight_decay": 0.2}, None, 0.05, I),
])
def test_regularisation_helps(gaps, tests, spread, expected):
    assert claims.regularisation_helps({"overfitting": overfitting(gaps, tests, spread)})["verdict"] == expected


def seed_example(error, gru, shuffled, spread=0.002):
    m = {"GRU.test_accuracy": around(gru, spread), "GRU_shuffled_order.test_accuracy": around(shuffled, spread, reverse=True),
         "logistic_regression.test_accuracy": around(0.9, spread)}
    return results(m, {}, data={"original_error": error})


@pytest.mark.parametrize("error,gru,shuffled,spread,expected", [
    ("no error", 0.9, 0.8, 0.002, S), ("no error", 0.8, 0.9, 0.002, P),
    ("IndexError", 0.9, 0.8, 0.002, N), ("no error", 0.85, 0.85, 0.05, I)])
def test_example_runs(error, gru, shuffled, spread, expected):
    assert claims.example_runs({"seed_example": seed_example(error, gru, shuffled, spread)})["verdict"] == expected


# --------------------------------------------------------------------------- efficiency claims


def efficiency(ratios, half_width=0.02):
    """Pooled GRU/LSTM step-time ratios, one per implementation, each with an interval of ±half_width."""
    modes = ["default", "compiled", "torch"][:len(ratios)]
    p = {"modes": modes, "lengths": [50], "units": [32], "repeats": 30, "batch_size": 64}
    m = {}
    for mode, r in zip(modes, ratios):
        m |= {f"{mode}.GRU_over_LSTM.train": r, f"{mode}.GRU_over_LSTM.train.low": r - half_width,
              f"{mode}.GRU_over_LSTM.train.high": r + half_width, f"{mode}.T50.u32.GRU_over_LSTM.train": r}
    return {"parameters": p, "metrics": m, "data": {"device": "CPU"}, "provenance": PROVENANCE, "seeds": [0]}


@pytest.mark.parametrize("ratios,half_width,learning,expected", [
    ([0.7, 0.8], 0.02, (300, 900), S), ([0.7, 1.05], 0.02, (300, 900), P), ([1.1, 1.3], 0.02, (900, 300), N),
    ([0.8, 0.7], 0.15, (300, 900), I)])      # 0.8 ± 0.15 straddles 0.9
def test_more_efficient(ratios, half_width, learning, expected):
    lr = long_range(gru=(5, 0), gru_steps=(learning[0], 2000), lstm_steps=(learning[1], 2000))
    r = {"efficiency": efficiency(ratios, half_width), "long_range": lr}
    assert claims.more_efficient(r)["verdict"] == expected


def test_fewer_parameters_is_computed_from_the_formulas(monkeypatch):
    r = {"efficiency": efficiency([1.0]) | {"parameters": {"units": [32, 128]}}}
    v = claims.fewer_parameters(r)
    assert v["verdict"] == S and "0.75" in v["evidence"]
    monkeypatch.setattr(claims, "count_params", lambda cell, n, d: 4 if cell == "GRU" else 3)
    assert claims.fewer_parameters(r)["verdict"] == N


def test_easier_to_implement_reads_the_step_functions(monkeypatch):
    v = claims.easier_to_implement({})
    assert v["verdict"] == S
    assert cell_steps.measures("GRU")["matrix products"] == 3 and cell_steps.measures("LSTM")["matrix products"] == 4
    real_measures = cell_steps.measures
    monkeypatch.setattr(cell_steps, "measures", lambda c: real_measures(c) | ({"statements": 99} if c == "GRU" else {}))
    assert claims.easier_to_implement({})["verdict"] == P
    monkeypatch.setattr(cell_steps, "measures", lambda c: real_measures("LSTM" if c == "GRU" else "GRU"))
    assert claims.easier_to_implement({})["verdict"] == N


def test_a_difference_within_ci_tolerance_of_the_threshold_is_undecided():
    """A re-run that CI accepts (every metric within its tolerance) must not be able to flip a
    verdict, so a comparison whose estimate lies within that tolerance of its threshold is
    undecided, however narrow its interval."""
    r = {"overfitting": overfitting({"none": 0.08, "dropout": 0.0})}
    assert claims.can_overfit(r)["verdict"] == S               # 0.08 > 0.05, a tight interval
    for name in r["overfitting"]["per_seed"][0]["metrics"]:
        r["overfitting"].setdefault("tolerances", {})[name] = {"abs": 0.05}
    r["overfitting"]["aggregates"] = {"none.gap": {"mean": 0.08}}
    v = claims.can_overfit(r)
    assert v["verdict"] == I and v["comparisons"][0]["within_tolerance"]


# --------------------------------------------------------------------------- the committed results


def test_audit_of_committed_results_covers_every_claim():
    try:
        committed = {name: load(name, RESULTS_DIR) for name in experiments.NAMES}
    except FileNotFoundError as err:
        pytest.skip(str(err))
    rows = claims.audit(committed)
    assert len(rows) == len(claims.CLAIMS)
    for row in rows:
        assert row["verdict"] in claims.VERDICTS, row
        assert row["comparisons"] and row["rule"] and row["scope"] and row["change"], row["name"]
        assert row["evidence"].endswith("."), row["evidence"]
        assert "^" not in row["evidence"], row["evidence"]          # typeset, never ASCII exponents
