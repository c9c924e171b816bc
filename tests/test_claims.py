"""The claims audit's verdict rules on small hand-made results, one test per branch of every rule,
and the audit of the committed results."""

import pytest

from grubook.gru import cell_steps
from grubook.verdicts import claims
from grubook.verdicts.drift import NONE
from grubook import experiments
from grubook.results.files import RESULTS_DIR, load

S, P, N, I = claims.SUPPORTED, claims.PARTLY, claims.NOT_SUPPORTED, claims.INCONCLUSIVE
SEEDS = [0, 1, 2, 3, 4]
PROVENANCE = {"cpu": "test CPU", "cpu_count": 2}


def results(per_seed: dict, parameters: dict, metrics=None, data=None, experiment="long_range") -> dict:
    """A results dict with per-seed metrics given as {name: [value per seed]}, with the
    experiment's schema (so that its page's comparisons can read it)."""
    import statistics

    n = len(next(iter(per_seed.values())))
    aggregates = {k: {"mean": statistics.fmean(v), "std": statistics.stdev(v) if n > 1 else 0.0} for k, v in per_seed.items()}
    return {"experiment": experiment, "aggregates": aggregates, "schema": experiments.get(experiment).SCHEMA,
            "seeds": list(range(n)), "parameters": parameters, "metrics": metrics or {}, "data": data or {},
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


@pytest.mark.parametrize("outcomes,expected", [
    ([claims.HOLDS, claims.FAILS], S), ([claims.FAILS, claims.FAILS], N), ([claims.UNDECIDED, claims.FAILS], I),
    ([claims.HOLDS, claims.UNDECIDED], S)])
def test_an_existence_claim_needs_one_comparison_that_holds(outcomes, expected):
    assert claims.exists(outcomes) == expected


def test_an_interval_that_straddles_the_threshold_decides_nothing():
    from grubook.verdicts.decide import decide

    iv = lambda low, high: {"estimate": (low + high) / 2, "low": low, "high": high, "n": 5}
    assert decide("x", iv(-0.01, 0.03), direction="above", drift=0).outcome == claims.UNDECIDED
    assert decide("x", iv(-0.01, 0.03), direction="within", threshold=0.02, drift=0).outcome == claims.UNDECIDED
    assert decide("x", iv(0.021, 0.05), direction="within", threshold=0.02, drift=0).outcome == claims.FAILS
    assert decide("x", iv(0.95, 1.2), direction="below", threshold=0.9, drift=0).outcome == claims.FAILS


def test_every_threshold_has_a_reason_and_the_constants_are_its_value():
    for name, t in claims.THRESHOLDS.items():
        assert t.reason.endswith(".") and len(t.reason) > 30, name
        assert getattr(claims, name) == t.value


@pytest.mark.parametrize("k,expected", [(1, 0.025), (3, 0.075), (4, 0.1), (50, 1.0)])
def test_family_wise_error_of_an_existence_claim(k, expected):
    assert claims.family_error(k) == pytest.approx(expected, abs=5e-5)


# --------------------------------------------------------------------------- long_range claims


LR_PARAMS = {"lengths": [50, 400], "param_budget": 3500, "threshold": 0.01, "max_steps": 2000, "learning_rate": 0.01,
             "explosion_length": 100, "explosion_steps": 300, "spike_factor": 100.0}


def long_range(gru=(5, 5), rnn=(0, 0), lstm=(5, 0), rnn_grad=(-6.0, -8.0), gru_grad=(-1.0, -2.5),
               gru_steps=(300, 900), lstm_steps=(900, 2000), exploded=5, n=5, grad_spread=0.1, rnn_init=(-6.0, -8.0)):
    m = {}
    for i, T in enumerate((50, 400)):
        for cell, k in (("GRU", gru[i]), ("SimpleRNN", rnn[i]), ("LSTM", lstm[i])):
            m[f"{cell}.T{T}.solved"] = solved(k, n)
        m[f"GRU.T{T}.steps_to_solve"] = around(gru_steps[i], 10, n)
        m[f"LSTM.T{T}.steps_to_solve"] = around(lstm_steps[i], 10, n)
        m[f"SimpleRNN.T{T}.log10_grad_ratio"] = around(rnn_grad[i], grad_spread, n)
        m[f"SimpleRNN.T{T}.log10_grad_ratio_initial"] = around(rnn_init[i], grad_spread, n)
        m[f"GRU.T{T}.log10_grad_ratio_initial"] = around(-9.0, grad_spread, n)
        m[f"LSTM.T{T}.log10_grad_ratio_initial"] = around(-4.0, grad_spread, n)
        m[f"GRU.T{T}.log10_grad_ratio"] = around(gru_grad[i], grad_spread, n)
        m[f"LSTM.T{T}.log10_grad_ratio"] = around(-3.0, grad_spread, n)
    return results(m, LR_PARAMS, metrics={"explosion.SimpleRNN.exploded": exploded, "explosion.SimpleRNN.runs": n})


@pytest.mark.parametrize("gru,rnn,expected", [
    ((5, 5), (0, 0), S), ((5, 0), (0, 5), P), ((0, 0), (5, 5), N), ((5, 3), (0, 2), I)])
def test_long_term_dependencies(gru, rnn, expected):
    v = claims.long_term_dependencies({"long_range": long_range(gru=gru, rnn=rnn)}, NONE)
    assert v["verdict"] == expected and v["experiment"] == "long_range" and "T = 400" in v["evidence"]


@pytest.mark.parametrize("rnn_grad,rnn_init,spread,expected", [
    ((-6.0, -6.0), (-6.0, -6.0), 0.1, S), ((-0.5, -6.0), (-6.0, -6.0), 0.1, P), ((-0.5, -1.0), (-0.5, -1.0), 0.1, N),
    ((-6.0, -6.0), (-1.0, -1.0), 0.1, P),      # vanishes after training, not with the initial weights
    ((-2.0, -2.0), (-6.0, -6.0), 1.0, I)])     # 2 of 5 runs below −2: a share that could be either side of 1/2
def test_vanishing_gradients_judged_at_initialisation_and_after_training(rnn_grad, rnn_init, spread, expected):
    v = claims.vanishing_gradients_in_rnns({"long_range": long_range(rnn_grad=rnn_grad, rnn_init=rnn_init,
                                                                      grad_spread=spread)}, NONE)
    assert v["verdict"] == expected
    assert {c["label"].split(":")[0].split(", ")[1] for c in v["comparisons"]} == {"at initialisation", "after training"}


def test_underflowed_gradients_are_reported_as_bounds_never_averaged():
    lr = long_range()
    for i, run in enumerate(lr["per_seed"]):
        run["metrics"]["GRU.T400.log10_grad_ratio_initial"] = float("-inf") if i < 2 else -20.0 - i
    text = claims.decades_text(lr, "GRU", 400, initial=True)
    assert text == "23.0 (22.0–24.0); ≥ 37 in 2 of 5 seeds (float32 underflow)"
    for run in lr["per_seed"]:
        run["metrics"]["GRU.T400.log10_grad_ratio_initial"] = -45.0
    assert claims.decades_text(lr, "GRU", 400, initial=True) == "≥ 37 in all 5 seeds (float32 underflow)"


def test_the_simple_rnn_is_judged_only_where_it_ran():
    lr = long_range(rnn=(0, 5))                # would fail at T = 400, but it did not run there
    lr["parameters"] = LR_PARAMS | {"simple_rnn_lengths": [50]}
    v = claims.long_term_dependencies({"long_range": lr}, NONE)
    assert v["verdict"] == S and len(v["comparisons"]) == 1


@pytest.mark.parametrize("exploded,n,expected", [(5, 5, S), (1, 40, S), (0, 40, I), (0, 5, I)])
def test_exploding_gradients_is_an_existence_claim(exploded, n, expected):
    """One explosion shows that they happen; none in 40 runs cannot show that they never do."""
    v = claims.exploding_gradients_in_rnns({"long_range": long_range(exploded=exploded, n=n)}, NONE)
    assert v["verdict"] == expected


@pytest.mark.parametrize("steps,grads,gru,expected", [
    ((300, 900), (-1.0, -2.5), (5, 5), S),     # 3× the steps, 1.5 more decades lost
    ((300, 320), (-1.0, -1.1), (5, 5), N),
    ((300, 900), (-1.0, -1.1), (5, 5), S),     # an existence claim: the steps alone show it
    ((300, 320), (-1.0, -2.5), (5, 5), S),     # ... or the gradient alone
    ((300, 600), (-1.0, -1.1), (5, 5), I),     # exactly 2×: the interval straddles the threshold
    ((300, 320), (-1.0, -1.1), (5, 3), I),     # censored runs: a ratio below 2 is only a lower bound
])
def test_gru_still_struggles(steps, grads, gru, expected):
    lr = long_range(gru_steps=steps, gru_grad=grads, gru=gru)
    assert claims.gru_still_struggles_on_long_sequences({"long_range": lr}, NONE)["verdict"] == expected


# --------------------------------------------------------------------------- classifier claims


RS_PARAMS = {"datasets": ["digits", "italy_power_demand"], "cells": ["SimpleRNN", "LSTM", "GRU"], "param_budget": 3500,
             "patience": 10}


TEST_ITEMS = 1000


def real(acc: dict, spread=0.002):
    """acc: {(data set, cell): mean test accuracy}. Each seed's run answers the first k of
    TEST_ITEMS test items right (items ordered from easy to hard, the same for every cell), so the
    per-item records agree with the accuracies."""
    right = {(d, c): [min(TEST_ITEMS, max(0, round(a * TEST_ITEMS))) for a in around(mean, spread, reverse=c != "GRU")]
             for (d, c), mean in acc.items()}
    correct = {}
    for (d, c), ks in right.items():
        correct.setdefault(d, {})[c] = ["1" * k + "0" * (TEST_ITEMS - k) for k in ks]
    return results({f"{d}.{c}.test_accuracy": [k / TEST_ITEMS for k in ks] for (d, c), ks in right.items()},
                   RS_PARAMS, experiment="real_sequences", data={"test_correct": correct})


LM_PARAMS = {"cells": ["SimpleRNN", "LSTM", "GRU"], "param_budget": 20000, "steps": 500}


def char_lm(gru=2.0, lstm=2.0, rnn=2.2, spread=0.002):
    """Held-out bits per character of the three cells."""
    cells = (("GRU", gru), ("LSTM", lstm), ("SimpleRNN", rnn))
    return results({f"{c}.held_out_bpc": around(v, spread, reverse=c != "GRU") for c, v in cells}
                   | {f"{c}.train_bpc": around(v - 0.3, spread) for c, v in cells}, LM_PARAMS, experiment="char_lm",
                   metrics={"ngram.held_out_bpc": 2.5})


def real_acc(gru=(0.90, 0.95), lstm=(0.90, 0.95), rnn=(0.85, 0.90)):
    out = {}
    for i, d in enumerate(RS_PARAMS["datasets"]):
        out |= {(d, "GRU"): gru[i], (d, "LSTM"): lstm[i], (d, "SimpleRNN"): rnn[i]}
    return out


@pytest.mark.parametrize("gru,lstm,solved_gru,solved_lstm,spread,bpc_gru,expected", [
    ((0.90, 0.95), (0.90, 0.95), 5, 0, 0.002, 2.0, S),       # on par three times, better at T = 400
    ((0.90, 0.95), (0.90, 0.95), 5, 5, 0.002, 2.0, I),       # 5/5 vs 5/5 cannot show parity within ±0.2
    ((0.80, 0.95), (0.90, 0.95), 5, 0, 0.002, 2.0, P),
    ((0.80, 0.85), (0.90, 0.95), 0, 5, 0.002, 2.2, N),       # worse everywhere, bits per character included
    ((0.90, 0.95), (0.90, 0.95), 5, 0, 0.05, 2.0, I),        # noisy accuracies: parity undecided
    ((0.90, 0.95), (0.90, 0.95), 5, 0, 0.002, 1.8, S),       # better by 0.2 bits per character: "sometimes better"
])
def test_on_par_with_lstm(gru, lstm, solved_gru, solved_lstm, spread, bpc_gru, expected):
    r = {"real_sequences": real(real_acc(gru=gru, lstm=lstm), spread), "char_lm": char_lm(gru=bpc_gru),
         "long_range": long_range(gru=(5, solved_gru), lstm=(5, solved_lstm))}
    assert claims.on_par_with_lstm(r, NONE)["verdict"] == expected


@pytest.mark.parametrize("gru,rnn,gru_solved,bpc,expected", [
    ((0.90, 0.95), (0.85, 0.90), 5, (2.0, 2.2, 0.002), S), ((0.80, 0.85), (0.85, 0.90), 5, (2.0, 2.2, 0.002), P),
    ((0.80, 0.85), (0.85, 0.90), 0, (2.0, 2.0, 0.5), I), ((0.80, 0.85), (0.85, 0.90), None, (2.2, 2.0, 0.002), N)])
def test_gru_improves_over_rnn(gru, rnn, gru_solved, bpc, expected):
    lr = long_range(gru=(5, gru_solved), rnn=(0, 0)) if gru_solved is not None else long_range(gru=(0, 0), rnn=(5, 5))
    r = {"real_sequences": real(real_acc(gru=gru, rnn=rnn)), "long_range": lr,
         "char_lm": char_lm(gru=bpc[0], rnn=bpc[1], spread=bpc[2])}
    assert claims.gru_improves_over_rnn(r, NONE)["verdict"] == expected


CNT_PARAMS = {"train_max_n": 20, "test_max_n": 100, "param_budget": 400, "steps": 1500}


def counting(lstm, gru, spread=0.5):
    return results({"LSTM.generalises_to": around(lstm, spread), "GRU.generalises_to": around(gru, spread, reverse=True),
                    "SimpleRNN.generalises_to": around(10, spread)}, CNT_PARAMS | {"cells": ["SimpleRNN", "LSTM", "GRU"]},
                   experiment="counting")


@pytest.mark.parametrize("lstm,gru,acc_lstm,bpc_lstm,spread,expected", [
    (40, 22, (0.90, 0.95), 2.2, 0.5, S), (22, 40, (0.85, 0.90), 2.2, 0.5, N), (22, 22, (0.90, 0.95), 2.2, 20.0, I),
    (22, 40, (0.85, 0.90), 1.8, 0.5, S)])        # the LSTM wins only on the character model: that suffices
def test_lstm_better_in_some_cases(lstm, gru, acc_lstm, bpc_lstm, spread, expected):
    r = {"counting": counting(lstm, gru, spread), "real_sequences": real(real_acc(lstm=acc_lstm)),
         "char_lm": char_lm(lstm=bpc_lstm)}
    if spread > 1:    # noisy everywhere
        r["real_sequences"] = real(real_acc(lstm=acc_lstm), spread=0.2)
        r["char_lm"] = char_lm(lstm=bpc_lstm, gru=2.2, spread=0.5)
    assert claims.lstm_better_in_some_cases(r, NONE)["verdict"] == expected


OF_PARAMS = {"regimes": ["none", "dropout", "weight_decay"], "units": 64, "train_size": 200, "epochs": 60,
             "validation_size": 300}


def overfitting(gaps, tests=None, spread=0.002):
    tests = tests or {k: 0.9 for k in gaps}
    m = {f"{k}.gap": around(v, spread, reverse=k != "none") for k, v in gaps.items()}
    m |= {f"{k}.test_accuracy": around(tests[k], spread, reverse=k != "none") for k in gaps}
    m |= {f"{k}.train_accuracy": around(tests[k] + gaps[k], spread, reverse=k != "none") for k in gaps}
    return results(m, OF_PARAMS | {"regimes": list(gaps)}, metrics={"params": 12_000}, experiment="overfitting")


@pytest.mark.parametrize("gap,spread,expected", [(0.2, 0.002, S), (0.01, 0.002, N), (0.05, 0.05, I)])
def test_can_overfit(gap, spread, expected):
    r = {"overfitting": overfitting({"none": gap, "dropout": 0.0}, spread=spread)}
    assert claims.can_overfit(r, NONE)["verdict"] == expected


@pytest.mark.parametrize("gaps,tests,spread,expected", [
    ({"none": 0.2, "dropout": 0.1, "weight_decay": 0.2}, {"none": 0.8, "dropout": 0.85, "weight_decay": 0.8}, 0.002, S),
    ({"none": 0.2, "dropout": 0.1, "weight_decay": 0.2}, {"none": 0.8, "dropout": 0.7, "weight_decay": 0.8}, 0.002, P),
    ({"none": 0.2, "dropout": 0.2, "weight_decay": 0.25}, None, 0.002, N),
    ({"none": 0.2, "dropout": 0.18, "weight_decay": 0.2}, None, 0.05, I),
])
def test_regularisation_helps(gaps, tests, spread, expected):
    assert claims.regularisation_helps({"overfitting": overfitting(gaps, tests, spread)}, NONE)["verdict"] == expected


def seed_example(error, gru, shuffled, spread=0.002):
    from grubook.data.tasks import time_order
    from grubook.experiments.seed_example import permutation_seed

    m = {"GRU.test_accuracy": around(gru, spread), "GRU_shuffled_order.test_accuracy": around(shuffled, spread, reverse=True),
         "logistic_regression.test_accuracy": around(0.9, spread), "mlp.test_accuracy": around(0.9, spread),
         "GRU.train_accuracy": around(gru, spread), "GRU_shuffled_order.train_accuracy": around(shuffled, spread)}
    # One shuffled order per seed, each its own, with its run's accuracies.
    orders = [{"seed": i, "k": 0, "permutation_seed": permutation_seed(i, 0),
               "order": time_order(20, permutation_seed(i, 0)).tolist(), "epochs_run": 10,
               "train_accuracy": m["GRU_shuffled_order.train_accuracy"][i],
               "test_accuracy": m["GRU_shuffled_order.test_accuracy"][i]} for i in range(5)]
    return results(m, {"validation_fraction": 0.2, "permutations": 1}, experiment="seed_example",
                   data={"original_error": error, "order_control": orders})


@pytest.mark.parametrize("error,gru,shuffled,spread,expected", [
    ("no error", 0.9, 0.8, 0.002, S), ("no error", 0.8, 0.9, 0.002, P),
    ("IndexError", 0.9, 0.8, 0.002, N), ("no error", 0.85, 0.85, 0.05, I)])
def test_example_runs(error, gru, shuffled, spread, expected):
    assert claims.example_runs({"seed_example": seed_example(error, gru, shuffled, spread)}, NONE)["verdict"] == expected


# --------------------------------------------------------------------------- efficiency claims


def efficiency(ratios, half_width=0.02):
    """GRU/LSTM step-time ratios of one configuration, one per implementation, each with an interval of ±half_width."""
    modes = ["default", "compiled", "torch"][:len(ratios)]
    p = {"modes": modes, "lengths": [50], "units": [32], "repeats": 30, "batch_size": 64}
    m = {}
    for mode, r in zip(modes, ratios):
        m |= {f"{mode}.T50.u32.GRU_over_LSTM.train": r, f"{mode}.T50.u32.GRU_over_LSTM.train.low": r - half_width,
              f"{mode}.T50.u32.GRU_over_LSTM.train.high": r + half_width}
    return {"parameters": p, "metrics": m, "data": {"device": "CPU"}, "provenance": PROVENANCE, "seeds": [0]}


@pytest.mark.parametrize("ratios,half_width,learning,expected", [
    ([0.7, 0.8], 0.02, (300, 900), S), ([0.7, 1.05], 0.02, (300, 900), P), ([1.1, 1.3], 0.02, (900, 300), N),
    ([0.8, 0.7], 0.15, (300, 900), I)])      # 0.8 ± 0.15 straddles 0.9
def test_more_efficient(ratios, half_width, learning, expected):
    lr = long_range(gru=(5, 0), gru_steps=(learning[0], 2000), lstm_steps=(learning[1], 2000))
    r = {"efficiency": efficiency(ratios, half_width), "long_range": lr}
    assert claims.more_efficient(r, NONE)["verdict"] == expected


def test_fewer_parameters_is_computed_from_the_formulas(monkeypatch):
    r = {"efficiency": efficiency([1.0]) | {"parameters": {"units": [32, 128]}}}
    v = claims.fewer_parameters(r, NONE)
    assert v["verdict"] == S and "0.75" in v["evidence"]
    monkeypatch.setattr(claims, "count_params", lambda cell, n, d: 4 if cell == "GRU" else 3)
    assert claims.fewer_parameters(r, NONE)["verdict"] == N


def test_easier_to_implement_reads_the_step_functions(monkeypatch):
    v = claims.easier_to_implement({}, NONE)
    assert v["verdict"] == S
    assert cell_steps.measures("GRU")["matrix products"] == 3 and cell_steps.measures("LSTM")["matrix products"] == 4
    real_measures = cell_steps.measures
    monkeypatch.setattr(cell_steps, "measures", lambda c: real_measures(c) | ({"statements": 99} if c == "GRU" else {}))
    assert claims.easier_to_implement({}, NONE)["verdict"] == P
    monkeypatch.setattr(cell_steps, "measures", lambda c: real_measures("LSTM" if c == "GRU" else "GRU"))
    assert claims.easier_to_implement({}, NONE)["verdict"] == N


def test_a_comparison_within_the_measured_drift_of_its_threshold_is_borderline_and_the_page_says_so():
    """The gap's interval clears 0.05 by about 0.003; a measured drift of 0.01 makes it borderline:
    the verdict stands (it is what the data say), and the claims table shows the word with the drift."""
    from grubook.presentation import tables
    from grubook.verdicts.drift import Drift

    r = {"overfitting": overfitting({"none": 0.056, "dropout": 0.0})}
    key = "overfitting: gap, no regularisation"
    clear = claims.can_overfit(r, NONE)
    low = clear["comparisons"][0]["low"]
    assert clear["verdict"] == S and 0 < low - 0.05 < 0.01 and not clear["borderline"]
    drift = Drift({key: {"estimate": 0.004, "low": 0.01, "high": 0.008, "bounds": 0.01}})
    v = claims.can_overfit(r, drift)
    c = v["comparisons"][0]
    assert v["verdict"] == S and c.borderline and c["drift"] == 0.01 and v["borderline"] == [c]
    rows = [{"claim": "GRU networks can overfit.", "name": "can_overfit", "rule": "r"} | v]
    table = tables.claims_table(rows)
    for text in (table.html, table.markdown):
        assert "borderline" in text and "±0.010" in text
    far = Drift({key: {"estimate": 0.0, "low": 0.001, "high": 0.001, "bounds": 0.001}})
    assert not claims.can_overfit(r, far)["comparisons"][0].borderline


# --------------------------------------------------------------------------- the committed results


def test_audit_of_committed_results_covers_every_claim():
    try:
        committed = {name: load(name, RESULTS_DIR) for name in experiments.NAMES}
    except FileNotFoundError as err:
        pytest.skip(str(err))
    rows = claims.audit(committed, NONE)
    assert len(rows) == len(claims.CLAIMS)
    for row in rows:
        assert row["verdict"] in claims.VERDICTS, row
        assert row["comparisons"] and row["rule"] and row["scope"] and row["change"], row["name"]
        assert row["evidence"].endswith("."), row["evidence"]
        assert "^" not in row["evidence"], row["evidence"]          # typeset, never ASCII exponents


def test_each_claim_states_its_kind_thresholds_coverage_and_borderline_comparisons():
    from grubook.presentation import tables

    committed = {name: load(name, RESULTS_DIR) for name in experiments.NAMES}
    rows = claims.audit(committed, NONE)
    kinds = {row["name"]: row["kind"] for row in rows}
    for name in ("exploding_gradients_in_rnns", "lstm_better_in_some_cases", "gru_still_struggles_on_long_sequences"):
        assert kinds[name] == claims.EXISTENCE, name
    assert kinds["fewer_parameters"] == claims.GENERAL
    for row in rows:
        assert row["covers"], row["name"]
        facts = dict(tables._rule_facts(row))
        assert facts["Kind"] and facts["The intervals cover"].endswith(".") and "Borderline" in facts
        for t in row["thresholds"]:
            assert facts[f"Threshold {t.name} = {t.value:g}"] == t.reason
    text = tables.claims_rules(rows).markdown
    assert text.count("*The intervals cover.*") == len(rows)
    assert claims.experiments_behind(rows) == [n for n in experiments.NAMES if n in
                                              {"seed_example", "long_range", "real_sequences", "efficiency", "counting",
                                               "char_lm", "seq2seq", "overfitting"}]


def test_a_verdict_is_borderline_only_through_comparisons_that_could_change_it():
    """An existence claim held up by a clear comparison stays clear when another of its comparisons
    is borderline (no re-run outcome of that one changes "supported"); a general claim whose
    borderline comparison could flip lists it."""
    from grubook.verdicts.claims import EXISTENCE, GENERAL, _verdict
    from grubook.verdicts.decide import decide

    def c(low, high, drift):
        return decide("x", {"estimate": (low + high) / 2, "low": low, "high": high, "n": 3}, direction="above",
                      drift=drift, key=f"k{low}")

    clear, wobbly = c(0.5, 0.9, 0.01), c(-0.01, 0.3, 0.05)
    assert wobbly.borderline and wobbly.reachable_outcomes() == {"holds", "undecided"}
    v = _verdict(EXISTENCE, [clear, wobbly], "", "x", "", "")
    assert v["verdict"] == S and v["borderline"] == []
    v = _verdict(GENERAL, [clear, wobbly], "", "x", "", "")
    assert v["verdict"] == I and v["borderline"] == [wobbly]
    assert v["combination"] == claims.COMBINATION[GENERAL]
