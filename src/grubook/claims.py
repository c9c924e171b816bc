"""The article's claims, each with a verdict computed from the experiments' results.

A verdict is one of "supported", "partly supported" or "not supported". The rule that decides it
is written out in each function, so a reader can disagree with the rule rather than guess at it.
Every function takes ``{experiment: results}`` and returns (verdict, evidence sentence, experiment).
"""

from __future__ import annotations

from .reference import count_params

__all__ = ["CLAIMS", "audit", "gru_over_lstm_step_ratios", "SUPPORTED", "PARTLY", "NOT_SUPPORTED"]

SUPPORTED, PARTLY, NOT_SUPPORTED = "supported", "partly supported", "not supported"


def _mean(res, name):
    agg = res["aggregates"].get(name)
    return None if agg is None else agg["mean"]


def _solved(res, cell, T):
    return _mean(res, f"{cell}.T{T}.solved") or 0.0


def long_term_dependencies(r):
    """GRU solves the adding problem at lengths where a simple RNN fails.

    Supported if at the longest length the GRU solves at least half of its seeds and the simple
    RNN none; partly if that holds at some shorter length only; otherwise not supported.
    """
    res = r["long_range"]
    lengths = sorted(res["parameters"]["lengths"])
    wins = [T for T in lengths if _solved(res, "GRU", T) >= 0.5 and _solved(res, "SimpleRNN", T) == 0.0]
    T_max = lengths[-1]
    verdict = SUPPORTED if T_max in wins else (PARTLY if wins else NOT_SUPPORTED)
    evidence = (f"At T = {T_max} the GRU solved {_solved(res, 'GRU', T_max):.0%} of seeds (test MSE "
                f"{_mean(res, f'GRU.T{T_max}.test_mse'):.3g}), the simple RNN {_solved(res, 'SimpleRNN', T_max):.0%} "
                f"(MSE {_mean(res, f'SimpleRNN.T{T_max}.test_mse'):.3g}); the GRU beat it at T = "
                f"{', '.join(map(str, wins)) or 'no length'}.")
    return verdict, evidence, "long_range"


def vanishing_gradients_in_rnns(r):
    """Plain RNNs lose the gradient over long spans; gates keep it.

    Supported if, after training, the gradient reaching the first step is at least 100 times
    weaker (relative to the last step) in the simple RNN than in the GRU.
    """
    res = r["long_range"]
    rnn, gru = _mean(res, "SimpleRNN.log10_grad_ratio_first_last"), _mean(res, "GRU.log10_grad_ratio_first_last")
    gap = gru - rnn
    verdict = SUPPORTED if gap >= 2 else (PARTLY if gap > 0 else NOT_SUPPORTED)
    T = res["data"]["analysis_length"]
    evidence = (f"Over T = {T} steps, ‖∂L/∂h₁‖/‖∂L/∂h_T‖ is 10^{rnn:.1f} for the simple RNN and "
                f"10^{gru:.1f} for the GRU.")
    return verdict, evidence, "long_range"


def fewer_parameters(r):
    """A GRU has fewer parameters than an LSTM of the same size. Checked by the formulas
    (which the tests prove equal to Keras) over the sizes the efficiency experiment uses."""
    res = r["efficiency"]
    units = res["parameters"]["units"]
    ratios = [count_params("GRU", n, 8) / count_params("LSTM", n, 8) for n in units]
    verdict = SUPPORTED if all(x < 1 for x in ratios) else NOT_SUPPORTED
    evidence = (f"GRU/LSTM parameter ratio {min(ratios):.3f}–{max(ratios):.3f} for {units} units "
                f"(exactly 3/4 in the article's form; Keras adds 3n biases).")
    return verdict, evidence, "efficiency"


def gru_over_lstm_step_ratios(efficiency_results) -> list[float]:
    """GRU training-step time / LSTM's, one per compiled configuration of the efficiency experiment."""
    return [v for k, v in efficiency_results["metrics"].items()
            if k.startswith("compiled.") and k.endswith("GRU_over_LSTM.train")]


def more_efficient(r):
    """A GRU computes more simply and trains more efficiently than an LSTM.

    Supported if the GRU's compiled training step is at least 10 % faster than the LSTM's in
    every configuration; not supported if it is slower on average; partly otherwise.
    """
    ratios = gru_over_lstm_step_ratios(r["efficiency"])
    mean = sum(ratios) / len(ratios)
    verdict = SUPPORTED if max(ratios) <= 0.9 else (NOT_SUPPORTED if mean > 1.0 else PARTLY)
    evidence = (f"GRU training-step time / LSTM's: {min(ratios):.2f}–{max(ratios):.2f} "
                f"(mean {mean:.2f}) over {len(ratios)} compiled CPU configurations.")
    return verdict, evidence, "efficiency"


def on_par_with_lstm(r):
    """A GRU performs on par with an LSTM, sometimes better.

    Compared on every data set of real_sequences and on the adding problem's longest length.
    Supported if the GRU is within 0.02 accuracy (or better) everywhere and solves the longest
    adding problem at least as often; partly if it is on par on some comparisons only.
    """
    real, lr = r["real_sequences"], r["long_range"]
    comparisons = []
    for name in real["parameters"]["datasets"]:
        g, l = _mean(real, f"{name}.GRU.test_accuracy"), _mean(real, f"{name}.LSTM.test_accuracy")
        comparisons.append((name.replace("_", " "), g, l, g >= l - 0.02))
    T = max(lr["parameters"]["lengths"])
    g, l = _solved(lr, "GRU", T), _solved(lr, "LSTM", T)
    comparisons.append((f"adding T={T} (solved)", g, l, g >= l))
    ok = [c[3] for c in comparisons]
    verdict = SUPPORTED if all(ok) else (PARTLY if any(ok) else NOT_SUPPORTED)
    evidence = "; ".join(f"{name}: GRU {g:.3f} vs LSTM {l:.3f}" for name, g, l, _ in comparisons) + "."
    return verdict, evidence, "real_sequences"


def can_overfit(r):
    """GRU networks can overfit their training data (the article's second challenge).

    Supported if the unregularised GRU's training accuracy exceeds its test accuracy by more
    than 0.05; not supported otherwise.
    """
    res = r["overfitting"]
    gap = _mean(res, "none.gap")
    verdict = SUPPORTED if gap > 0.05 else NOT_SUPPORTED
    evidence = (f"Without regularisation: training accuracy {_mean(res, 'none.train_accuracy'):.3f}, "
                f"test accuracy {_mean(res, 'none.test_accuracy'):.3f}, gap {gap:.3f}.")
    return verdict, evidence, "overfitting"


def regularisation_helps(r):
    """Regularisation reduces a GRU's overfitting (the article's proposed remedy).

    Supported if some regime shrinks the train-test gap by at least a third without lowering test
    accuracy; partly if some regime shrinks the gap at all; otherwise not supported.
    """
    res = r["overfitting"]
    base_gap, base_test = _mean(res, "none.gap"), _mean(res, "none.test_accuracy")
    others = [k for k in res["parameters"]["regimes"] if k != "none"]
    gaps = {k: _mean(res, f"{k}.gap") for k in others}
    best = min(gaps, key=gaps.get)
    strong = [k for k in others if gaps[k] <= base_gap * 2 / 3 and _mean(res, f"{k}.test_accuracy") >= base_test]
    verdict = SUPPORTED if strong else (PARTLY if gaps[best] < base_gap else NOT_SUPPORTED)
    evidence = (f"Gap {base_gap:.3f} without regularisation; smallest with {best.replace('_', ' ')} "
                f"({gaps[best]:.3f}, test accuracy {_mean(res, f'{best}.test_accuracy'):.3f} "
                f"against {base_test:.3f}).")
    return verdict, evidence, "overfitting"


def gru_still_struggles_on_long_sequences(r):
    """GRUs still face gradient problems on long sequences (the article's first challenge).

    Supported if the GRU's test MSE grows with the sequence length or it fails to solve the
    longest length in some seed.
    """
    res = r["long_range"]
    lengths = sorted(res["parameters"]["lengths"])
    mses = [_mean(res, f"GRU.T{T}.test_mse") for T in lengths]
    unsolved = _solved(res, "GRU", lengths[-1]) < 1.0
    grows = mses[-1] > mses[0] * 2
    verdict = SUPPORTED if (unsolved or grows) else NOT_SUPPORTED
    evidence = (f"GRU test MSE from T = {lengths[0]} to T = {lengths[-1]}: "
                + " → ".join(f"{m:.2g}" for m in mses)
                + f"; solved in {_solved(res, 'GRU', lengths[-1]):.0%} of seeds at T = {lengths[-1]}.")
    return verdict, evidence, "long_range"


def example_runs(r):
    """The article's Keras example runs and shows a GRU classifying sequence data."""
    res = r["seed_example"]
    error = res["data"]["original_error"]
    gru, lr = _mean(res, "GRU.test_accuracy"), _mean(res, "logistic_regression.test_accuracy")
    verdict = NOT_SUPPORTED if error != "no error" else PARTLY
    evidence = (f"As written it raises {error}. Fixed, the GRU reaches {gru:.3f} test accuracy, "
                f"logistic regression {lr:.3f}: the data are not sequences.")
    return verdict, evidence, "seed_example"


# (claim as the article makes it, paraphrased; the function that judges it)
CLAIMS = [
    ("GRUs capture long-term dependencies that plain RNNs miss.", long_term_dependencies),
    ("Plain RNNs suffer from vanishing (and exploding) gradients on long sequences.", vanishing_gradients_in_rnns),
    ("A GRU has fewer parameters than an LSTM.", fewer_parameters),
    ("A GRU computes more simply and trains more efficiently than an LSTM.", more_efficient),
    ("A GRU performs on par with an LSTM, sometimes better.", on_par_with_lstm),
    ("GRUs can still run into gradient problems on long sequences.", gru_still_struggles_on_long_sequences),
    ("GRU networks can overfit their training data.", can_overfit),
    ("Regularisation reduces a GRU's overfitting.", regularisation_helps),
    ("The Keras example builds and trains a GRU classifier on sequence data.", example_runs),
]


def audit(results_by_experiment: dict) -> list[dict]:
    """One row per claim: claim, verdict, evidence, experiment."""
    rows = []
    for claim, judge in CLAIMS:
        verdict, evidence, experiment = judge(results_by_experiment)
        rows.append({"claim": claim, "verdict": verdict, "evidence": evidence, "experiment": experiment})
    return rows
