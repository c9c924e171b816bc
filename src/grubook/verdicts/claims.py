"""The article's claims, each with a verdict computed from the experiments' results.

A verdict is "supported", "partly supported", "not supported" or "inconclusive". Each claim is
judged by one or more **comparisons**, and every comparison is an interval over seeds (or over
paired timings) set against a named threshold:

- it **holds** when the whole 95 % interval lies on the claim's side of the threshold,
- it **fails** when the whole interval lies on the other side,
- and it is **undecided** when the interval straddles the threshold: the data cannot tell.

The comparisons then decide the verdict (``combine``): all hold, supported; all fail, not
supported; some hold and some fail, partly supported; otherwise, with undecided comparisons
left that could tip it, inconclusive. A verdict therefore cannot flip on noise without passing
through "inconclusive", and a threshold is never met by a coin toss.

Every judging function takes ``{experiment: results}`` and returns a ``Verdict``: the verdict,
its comparisons, an evidence sentence, the experiment, the scope of the evidence and what would
change the verdict. The rule is the function's docstring, printed in the book under the table.
"""

from __future__ import annotations

import math

from ..gru import cell_steps
from . import stats
from ..gru.reference import count_params

__all__ = ["CLAIMS", "audit", "combine", "comparison", "slack", "distance", "interval_text", "Verdict", "SUPPORTED", "PARTLY", "NOT_SUPPORTED", "INCONCLUSIVE",
           "VERDICTS", "HOLDS", "FAILS", "UNDECIDED", "PARITY_MARGIN", "SOLVE_RATE_MARGIN", "MEANINGFUL_SPEEDUP",
           "GRADIENT_DECADES", "OVERFIT_GAP", "GAP_REDUCTION", "STRUGGLE_FACTOR", "EXPLOSION_RATE"]

SUPPORTED, PARTLY, NOT_SUPPORTED, INCONCLUSIVE = "supported", "partly supported", "not supported", "inconclusive"
VERDICTS = (SUPPORTED, PARTLY, NOT_SUPPORTED, INCONCLUSIVE)
HOLDS, FAILS, UNDECIDED = "holds", "fails", "undecided"

# Thresholds. Each is what the claim needs before it counts, stated once and printed with the rule.
PARITY_MARGIN = 0.02        # test accuracies within ±0.02 count as on par
SOLVE_RATE_MARGIN = 0.2     # solve rates within ±0.2 count as on par
MEANINGFUL_SPEEDUP = 0.9    # "more efficient" means at least 10 % less time (GRU/LSTM < 0.9)
GRADIENT_DECADES = 2.0      # "vanishes": the gradient reaching step 1 is 100× weaker than at step T
OVERFIT_GAP = 0.05          # "overfits": training accuracy above test accuracy by more than 0.05
GAP_REDUCTION = 0.02        # "reduces overfitting": the gap shrinks by more than 0.02
STRUGGLE_FACTOR = 2.0       # "struggles on long sequences": twice the steps at the longest length
EXPLOSION_RATE = 0.1        # "suffers from exploding gradients": more than 1 run in 10 explodes


# --------------------------------------------------------------------------- comparisons


def above(interval, threshold: float) -> str:
    """Holds if the interval lies wholly above the threshold, fails if wholly at or below it."""
    return HOLDS if interval["low"] > threshold else FAILS if interval["high"] <= threshold else UNDECIDED


def below(interval, threshold: float) -> str:
    """Holds if the interval lies wholly below the threshold, fails if wholly at or above it."""
    return HOLDS if interval["high"] < threshold else FAILS if interval["low"] >= threshold else UNDECIDED


def within(interval, margin: float) -> str:
    """Parity, two-sided: holds if the interval lies inside ±margin, fails if wholly outside it."""
    if -margin <= interval["low"] and interval["high"] <= margin:
        return HOLDS
    return FAILS if interval["low"] > margin or interval["high"] < -margin else UNDECIDED


def slack(results_by_experiment: dict, sources, kind: str, estimate: float) -> float:
    """How far an estimate may move while every metric it is computed from stays within the
    tolerance CI allows a re-run (to first order): the sum of the tolerances of a difference, or
    the ratio times the sum of the relative tolerances of a ratio. Metrics without a tolerance
    add nothing."""
    total = 0.0
    for experiment, name in sources:
        res = results_by_experiment.get(experiment, {})
        tol = res.get("tolerances", {}).get(name)
        if tol is None:
            continue
        value = (res.get("aggregates", {}).get(name) or {}).get("mean", res.get("metrics", {}).get(name))
        absolute = tol["abs"] if "abs" in tol else tol["rel"] * abs(value)
        total += absolute / abs(value) if kind == "ratio" else absolute
    return total * abs(estimate) if kind == "ratio" else total


def distance(c: dict) -> float:
    """How far a comparison's estimate lies from the edge that decides it (for parity, the margin)."""
    if c["kind"] == "parity":
        return abs(c["threshold"] - abs(c["estimate"]))
    return abs(c["estimate"] - c["threshold"])


def comparison(label: str, interval, rule: str, outcome: str, fmt: str = ".3f", *, threshold: float,
               results=None, sources=(), kind: str = "difference") -> dict:
    """One comparison: what is compared, its interval, the rule it was held to (text and
    threshold; for parity, the margin) and the outcome. ``sources`` are the (experiment, metric)
    pairs it is computed from and ``kind`` how ("difference" of their means, "ratio", or
    "parity", a difference held to ±threshold).

    A comparison decided by its interval is still undecided when its estimate lies within CI's
    tolerance of the threshold (``slack``): a re-run that CI accepts could carry it across, so
    the rule must not call it. Verdicts and tolerances therefore agree by construction."""
    c = {"label": label, "estimate": interval["estimate"], "low": interval["low"], "high": interval["high"],
         "n": interval["n"], "rule": rule, "threshold": threshold, "outcome": outcome, "fmt": fmt,
         "sources": [list(s) for s in sources], "kind": kind, "slack": 0.0}
    if results is not None and sources:
        c["slack"] = slack(results, sources, kind, c["estimate"])
        if outcome != UNDECIDED and distance(c) <= c["slack"]:
            c["outcome"], c["within_tolerance"] = UNDECIDED, True
    return c


def combine(outcomes) -> str:
    """The verdict from comparison outcomes: all hold, supported; all fail, not supported; some
    of each, partly; otherwise (undecided ones that could tip it) inconclusive."""
    outcomes = list(outcomes)
    if not outcomes:
        raise ValueError("a verdict needs at least one comparison")
    if HOLDS in outcomes and FAILS in outcomes:
        return PARTLY
    if UNDECIDED in outcomes:
        return INCONCLUSIVE
    return SUPPORTED if HOLDS in outcomes else NOT_SUPPORTED


def interval_text(c: dict) -> str:
    """"0.057 [0.043, 0.071]" for a comparison (infinite bounds shown as ±∞)."""
    f = lambda v: ("∞" if v > 0 else "−∞") if math.isinf(v) else format(v, c["fmt"]).replace("-", "−")
    return f"{f(c['estimate'])} [{f(c['low'])}, {f(c['high'])}]"


class Verdict(dict):
    """verdict, comparisons, evidence, experiment, scope, change."""


def _verdict(verdict, comparisons, evidence, experiment, scope, change) -> Verdict:
    return Verdict(verdict=verdict, comparisons=comparisons, evidence=evidence, experiment=experiment,
                   scope=scope, change=change)


# --------------------------------------------------------------------------- reading results


def _seeds(res, name):
    return [run["metrics"].get(name) for run in res["per_seed"]]


def _count(res, name):
    values = [v for v in _seeds(res, name) if v is not None]
    return int(round(sum(values))), len(values)


def _paired(res, a, b):
    return stats.paired_difference(_seeds(res, a), _seeds(res, b))


def _hardware(res):
    p = res["provenance"]
    cpu = p.get("cpu") or "CPU"
    device = res.get("data", {}).get("device")
    return f"{device if device and device != 'CPU' else cpu} ({p.get('cpu_count', '?')} cores)"


def _n_seeds(res):
    return f"{len(res['seeds'])} seed{'s' if len(res['seeds']) != 1 else ''}"


def _adding_scope(res):
    p = res["parameters"]
    return (f"Adding problem, T = {', '.join(map(str, p['lengths']))}; cells of about {p['param_budget']:,} "
            f"parameters; trained until test MSE < {p['threshold']:g} or {p['max_steps']:,} steps; "
            f"{_n_seeds(res)}; {_hardware(res)}.")


def _classifier_scope(res):
    p = res["parameters"]
    return (f"Digits (pixel by pixel) and ItalyPowerDemand; cells of about {p['param_budget']:,} parameters; "
            f"early stopping (patience {p['patience']}); {_n_seeds(res)}; {_hardware(res)}.")


# --------------------------------------------------------------------------- the claims


def long_term_dependencies(r):
    """GRUs capture long-term dependencies that plain RNNs miss.

    At every length T of the adding problem at which the simple RNN ran, the GRU's solve rate
    minus the simple RNN's (Newcombe 95 % interval over seeds) must lie above 0. Combined over
    the lengths.
    """
    res = r["long_range"]
    comps = []
    for T in _rnn_lengths(res):
        (kg, n), (ks, m) = _count(res, f"GRU.T{T}.solved"), _count(res, f"SimpleRNN.T{T}.solved")
        iv = stats.newcombe(kg, n, ks, m)
        comps.append(comparison(f"T = {T}: solve rate GRU − SimpleRNN ({kg}/{n} vs {ks}/{m})", iv, "> 0",
                                above(iv, 0), ".2f", threshold=0.0,
                                results=r, sources=[("long_range", f"GRU.T{T}.solved"), ("long_range", f"SimpleRNN.T{T}.solved")]))
    T = max(_rnn_lengths(res))
    evidence = (f"Solved within {res['parameters']['max_steps']:,} steps at T = {T}: GRU "
                f"{_count(res, f'GRU.T{T}.solved')[0]}/{len(res['seeds'])} seeds, simple RNN "
                f"{_count(res, f'SimpleRNN.T{T}.solved')[0]}/{len(res['seeds'])}; the GRU solved more often at "
                f"{sum(c['outcome'] == HOLDS for c in comps)} of {len(comps)} lengths.")
    return _verdict(combine(c["outcome"] for c in comps), comps, evidence, "long_range", _adding_scope(res),
                    "A simple RNN that solves the task within the cap at some length in most seeds, or a GRU "
                    "that does not.")


def _decades(res, cell, T, initial=False):
    return stats.t_interval(_seeds(res, f"{cell}.T{T}.log10_grad_ratio{'_initial' if initial else ''}"))


def _rnn_lengths(res):
    """The lengths at which the simple RNN ran (all, unless the experiment limited it)."""
    return res["parameters"].get("simple_rnn_lengths") or res["parameters"]["lengths"]


def vanishing_gradients_in_rnns(r):
    """Plain RNNs' gradients vanish over long sequences.

    At every length the simple RNN ran, the share of its trained runs in which the gradient
    reaching the first step is more than 100 times weaker than at the last (log10 ratio below
    −2) must exceed one half (Wilson 95 % interval). A share, not a mean: a gradient that
    underflows float32 has no meaningful size, only a side of the threshold.
    """
    res = r["long_range"]
    comps = []
    for T in _rnn_lengths(res):
        values = [v for v in _seeds(res, f"SimpleRNN.T{T}.log10_grad_ratio") if v is not None]
        k = sum(v < -GRADIENT_DECADES for v in values)
        iv = stats.wilson(k, len(values))
        comps.append(comparison(f"T = {T}: simple-RNN runs losing over {GRADIENT_DECADES:g} decades ({k}/{len(values)})",
                                iv, "> 0.5", above(iv, 0.5), ".2f", threshold=0.5))
    T = max(_rnn_lengths(res))
    lost = {cell: -_decades(res, cell, T).estimate for cell in ("SimpleRNN", "LSTM", "GRU")}
    start = {cell: -_decades(res, cell, T, initial=True).estimate for cell in ("SimpleRNN", "LSTM", "GRU")}
    evidence = (f"After training, at T = {T}, the gradient reaching step 1 is {lost['SimpleRNN']:.1f} orders of "
                f"magnitude weaker than at step T for the simple RNN, {lost['LSTM']:.1f} for the LSTM and "
                f"{lost['GRU']:.1f} for the GRU (means over {_n_seeds(res)}); at initialisation "
                f"{start['SimpleRNN']:.1f}, {start['LSTM']:.1f} and {start['GRU']:.1f}.")
    return _verdict(combine(c["outcome"] for c in comps), comps, evidence, "long_range", _adding_scope(res),
                    "Trained simple RNNs that keep more than 1 % of the gradient over the first step in at least "
                    "half of their runs at some length.")


def exploding_gradients_in_rnns(r):
    """Plain RNNs' gradients explode.

    Trained without gradient clipping (Adam), the share of simple-RNN runs whose loss or
    gradient norm becomes non-finite, or whose gradient norm spikes above the experiment's
    spike factor times its median, must exceed 0.1 (Wilson 95 % interval over the runs).
    """
    res = r["long_range"]
    p, m = res["parameters"], res["metrics"]
    k, n = int(m["explosion.SimpleRNN.exploded"]), int(m["explosion.SimpleRNN.runs"])
    iv = stats.wilson(k, n)
    c = comparison(f"simple-RNN runs that exploded ({k}/{n})", iv, f"> {EXPLOSION_RATE:g}", above(iv, EXPLOSION_RATE),
                   ".2f", threshold=EXPLOSION_RATE)
    tol = res.get("tolerances", {}).get("explosion.SimpleRNN.exploded")
    if tol is not None:                                    # a count's tolerance, as a share of the runs
        c["slack"] = tol["abs"] / n
        if c["outcome"] != UNDECIDED and distance(c) <= c["slack"]:
            c["outcome"], c["within_tolerance"] = UNDECIDED, True
    peak = m.get("explosion.SimpleRNN.largest_peak_over_median")
    evidence = (f"Without clipping, {k} of {n} simple-RNN runs exploded"
                + (f" (the largest gradient spike was {peak:.0f} times the run's median)" if peak else "")
                + f"; the share of runs that explode is below {iv['high']:.2f} with 95 % confidence.")
    scope = (f"Adding problem T = {p['explosion_length']}, {p['explosion_steps']} steps of Adam at learning rate "
             f"{p['learning_rate']:g} without clipping; a spike is a gradient norm over {p['spike_factor']:g} times "
             f"the run's median; {n} runs; {_hardware(res)}.")
    return _verdict(combine([c["outcome"]]), [c], evidence, "long_range", scope,
                    "Explosions in other settings: higher learning rates, plain SGD, longer sequences, or "
                    "recurrent weights initialised with a spectral radius above 1.")


def fewer_parameters(r):
    """A GRU has fewer parameters than an LSTM of the same size.

    Exact, from the formulas (which the tests prove equal to Keras): the GRU/LSTM ratio must be
    below 1 at every size the efficiency experiment uses.
    """
    res = r["efficiency"]
    comps = []
    for n in res["parameters"]["units"]:
        ratio = count_params("GRU", n, 8) / count_params("LSTM", n, 8)
        comps.append(comparison(f"{n} units: parameters GRU / LSTM", stats.Interval(ratio, ratio, ratio, 1), "< 1",
                                below(stats.Interval(ratio, ratio, ratio, 1), 1.0), threshold=1.0, kind="ratio"))
    lo, hi = min(c["estimate"] for c in comps), max(c["estimate"] for c in comps)
    evidence = (f"GRU/LSTM parameter ratio {lo:.3f}–{hi:.3f} for {res['parameters']['units']} units (exactly 3/4 "
                f"in the article's form; Keras' GRU adds 3n biases, of which only n change the model).")
    return _verdict(combine(c["outcome"] for c in comps), comps, evidence, "efficiency",
                    "Exact for every size: 3 weight blocks against 4.", "Nothing: it is arithmetic.")


MODE_NAMES = {"default": "Keras", "compiled": "Keras + XLA", "torch": "PyTorch"}


def more_efficient(r):
    """A GRU computes more simply and trains more efficiently than an LSTM.

    Two kinds of comparison, each against a GRU/LSTM time ratio of 0.9 (at least 10 % faster):
    the training step of each implementation in the efficiency experiment (the geometric mean of
    its configurations' ratios, with a Student-t 95 % interval across the configurations), and
    the training steps to solve the adding problem at every length where the GRU solved every
    seed (paired by seed; an LSTM run censored at the cap makes the ratio an upper bound). A ratio
    interval wholly below 0.9 holds, wholly above fails.
    """
    eff, lr = r["efficiency"], r["long_range"]
    m, p = eff["metrics"], eff["parameters"]
    comps = []
    for mode in p.get("modes", ["default", "compiled"]):
        key = f"{mode}.GRU_over_LSTM.train"
        n_configs = len(p["lengths"]) * len(p["units"])
        iv = stats.Interval(m[key], m[f"{key}.low"], m[f"{key}.high"], n_configs)
        comps.append(comparison(f"{MODE_NAMES.get(mode, mode)}: step time GRU / LSTM over {n_configs} configurations",
                                iv, f"< {MEANINGFUL_SPEEDUP:g}", below(iv, MEANINGFUL_SPEEDUP), ".2f",
                                threshold=MEANINGFUL_SPEEDUP, results=r, sources=[("efficiency", key)], kind="ratio"))
    for T in lr["parameters"]["lengths"]:
        if _count(lr, f"GRU.T{T}.solved")[0] < len(lr["seeds"]):
            continue
        iv = stats.ratio_interval(_seeds(lr, f"GRU.T{T}.steps_to_solve"), _seeds(lr, f"LSTM.T{T}.steps_to_solve"))
        comps.append(comparison(f"adding T = {T}: steps to solve GRU / LSTM", iv, f"< {MEANINGFUL_SPEEDUP:g}",
                                below(iv, MEANINGFUL_SPEEDUP), ".2f", threshold=MEANINGFUL_SPEEDUP, kind="ratio",
                                results=r, sources=[("long_range", f"GRU.T{T}.steps_to_solve"),
                                                    ("long_range", f"LSTM.T{T}.steps_to_solve")]))
    parts = []
    for mode in p.get("modes", ["default", "compiled"]):
        ratios = [m[f"{mode}.T{T}.u{n}.GRU_over_LSTM.train"] for T in p["lengths"] for n in p["units"]]
        parts.append(f"{MODE_NAMES.get(mode, mode)} {m[f'{mode}.GRU_over_LSTM.train']:.2f} "
                     f"({min(ratios):.2f}–{max(ratios):.2f})")
    learning = [c for c in comps if c["label"].startswith("adding")]
    evidence = ("GRU/LSTM training-step time, pooled (range over configurations): " + ", ".join(parts) + ". ")
    if learning:
        evidence += (f"Steps to solve the adding problem, GRU/LSTM: {min(c['estimate'] for c in learning):.2f}–"
                     f"{max(c['estimate'] for c in learning):.2f} over {len(learning)} lengths.")
    scope = (f"{_hardware(eff)}, one thread per process; batch {p['batch_size']}, 8 features, T = "
             f"{', '.join(map(str, p['lengths']))}, {', '.join(map(str, p['units']))} units; {p['repeats']} "
             f"interleaved repeats. Learning speed: " + _adding_scope(lr))
    return _verdict(combine(c["outcome"] for c in comps), comps, evidence, "efficiency", scope,
                    "Per-step times on other hardware (a GPU's cuDNN kernels), or an LSTM that learns the "
                    "adding problem as fast as the GRU.")


def on_par_with_lstm(r):
    """A GRU performs on par with an LSTM, sometimes better.

    Parity is two-sided: the GRU − LSTM test accuracy on each real data set (paired by seed,
    Student-t 95 % interval) must lie within ±0.02, and the solve-rate difference at the adding
    problem's longest length (Newcombe interval) within ±0.2. Each comparison reads as on par,
    GRU better or GRU worse (interval wholly outside the margin) or undecided. Supported if every
    comparison is decided and none is "GRU worse" (on par, sometimes better); not supported if
    all are "GRU worse"; partly if some are; inconclusive otherwise.
    """
    real, lr = r["real_sequences"], r["long_range"]
    comps = []
    for name in real["parameters"]["datasets"]:
        iv = _paired(real, f"{name}.GRU.test_accuracy", f"{name}.LSTM.test_accuracy")
        comps.append(comparison(f"{name.replace('_', ' ')}: test accuracy GRU − LSTM", iv, f"within ±{PARITY_MARGIN:g}",
                                within(iv, PARITY_MARGIN), threshold=PARITY_MARGIN,
                                results=r, sources=[("real_sequences", f"{name}.GRU.test_accuracy"),
                                         ("real_sequences", f"{name}.LSTM.test_accuracy")], kind="parity"))
    T = max(lr["parameters"]["lengths"])
    (kg, n), (kl, m) = _count(lr, f"GRU.T{T}.solved"), _count(lr, f"LSTM.T{T}.solved")
    iv = stats.newcombe(kg, n, kl, m)
    comps.append(comparison(f"adding T = {T}: solve rate GRU − LSTM ({kg}/{n} vs {kl}/{m})", iv,
                            f"within ±{SOLVE_RATE_MARGIN:g}", within(iv, SOLVE_RATE_MARGIN), ".2f",
                            threshold=SOLVE_RATE_MARGIN, kind="parity",
                            results=r, sources=[("long_range", f"GRU.T{T}.solved"), ("long_range", f"LSTM.T{T}.solved")]))
    readings = []
    for c in comps:
        margin = SOLVE_RATE_MARGIN if c["label"].startswith("adding") else PARITY_MARGIN
        c["reading"] = ("on par" if c["outcome"] == HOLDS else "undecided" if c["outcome"] == UNDECIDED
                        else "GRU better" if c["low"] > margin else "GRU worse")
        readings.append(c["reading"])
    worse, undecided = readings.count("GRU worse"), readings.count("undecided")
    if worse == len(readings):
        verdict = NOT_SUPPORTED
    elif worse:
        verdict = PARTLY
    else:
        verdict = INCONCLUSIVE if undecided else SUPPORTED
    evidence = "; ".join(f"{c['label'].split(':')[0]}: {c['reading']}" for c in comps) + "."
    return _verdict(verdict, comps, evidence, "real_sequences",
                    _classifier_scope(real) + " " + _adding_scope(lr),
                    "Intervals that move inside or outside the margins with more seeds, longer training or "
                    "other data sets.")


def gru_improves_over_rnn(r):
    """A GRU predicts more accurately than a plain RNN (the article's background section).

    The GRU − simple RNN test accuracy on each real data set (paired by seed, Student-t 95 %
    interval) and the solve-rate difference at the longest length of the adding problem at which
    the simple RNN ran (Newcombe interval) must lie above 0. Combined over the comparisons.
    """
    real, lr = r["real_sequences"], r["long_range"]
    comps = []
    for name in real["parameters"]["datasets"]:
        iv = _paired(real, f"{name}.GRU.test_accuracy", f"{name}.SimpleRNN.test_accuracy")
        comps.append(comparison(f"{name.replace('_', ' ')}: test accuracy GRU − SimpleRNN", iv, "> 0", above(iv, 0),
                                threshold=0.0, results=r, sources=[("real_sequences", f"{name}.GRU.test_accuracy"),
                                                        ("real_sequences", f"{name}.SimpleRNN.test_accuracy")]))
    T = max(_rnn_lengths(lr))
    (kg, n), (ks, m) = _count(lr, f"GRU.T{T}.solved"), _count(lr, f"SimpleRNN.T{T}.solved")
    iv = stats.newcombe(kg, n, ks, m)
    comps.append(comparison(f"adding T = {T}: solve rate GRU − SimpleRNN ({kg}/{n} vs {ks}/{m})", iv, "> 0",
                            above(iv, 0), ".2f", threshold=0.0,
                            results=r, sources=[("long_range", f"GRU.T{T}.solved"), ("long_range", f"SimpleRNN.T{T}.solved")]))
    evidence = "; ".join(f"{c['label'].split(':')[0]}: GRU − simple RNN {interval_text(c)}" for c in comps) + "."
    return _verdict(combine(c["outcome"] for c in comps), comps, evidence, "real_sequences",
                    _classifier_scope(real) + " " + _adding_scope(lr),
                    "Other data sets, sizes or training budgets; more seeds for the undecided comparisons.")


def lstm_better_in_some_cases(r):
    """In some cases an LSTM performs better than a GRU (the article's section 2.1).

    An existence claim: supported if in at least one comparison the LSTM is better beyond doubt
    (the interval of LSTM − GRU wholly above 0); not supported if in every comparison it is not
    (wholly at or below 0); inconclusive otherwise. Compared: the longest aⁿbⁿ string length up
    to which every string is recognised after training on n ≤ 20 (a counting task where Weiss et
    al. 2018 expect the LSTM to win), and the test accuracy on each real data set.
    """
    cnt, real = r["counting"], r["real_sequences"]
    counted = _paired(cnt, "LSTM.generalises_to", "GRU.generalises_to")
    comps = [comparison("aⁿbⁿ: longest n recognised, LSTM − GRU", counted, "> 0", above(counted, 0), ".1f",
                        threshold=0.0, results=r, sources=[("counting", "LSTM.generalises_to"), ("counting", "GRU.generalises_to")])]
    for name in real["parameters"]["datasets"]:
        iv = _paired(real, f"{name}.LSTM.test_accuracy", f"{name}.GRU.test_accuracy")
        comps.append(comparison(f"{name.replace('_', ' ')}: test accuracy LSTM − GRU", iv, "> 0", above(iv, 0),
                                threshold=0.0, results=r, sources=[("real_sequences", f"{name}.LSTM.test_accuracy"),
                                                        ("real_sequences", f"{name}.GRU.test_accuracy")]))
    outcomes = [c["outcome"] for c in comps]
    verdict = SUPPORTED if HOLDS in outcomes else NOT_SUPPORTED if set(outcomes) == {FAILS} else INCONCLUSIVE
    mean = lambda cell: stats.t_interval(_seeds(cnt, f"{cell}.generalises_to")).estimate
    evidence = (f"Trained on n ≤ {cnt['parameters']['train_max_n']}, the LSTM recognised every aⁿbⁿ up to n = "
                f"{mean('LSTM'):.1f} on average, the GRU up to {mean('GRU'):.1f}, the simple RNN up to "
                f"{mean('SimpleRNN'):.1f}; " + "; ".join(f"{c['label'].split(':')[0]}: LSTM − GRU {interval_text(c)}"
                                                          for c in comps[1:]) + ".")
    p = cnt["parameters"]
    scope = (f"aⁿbⁿ with cells of about {p['param_budget']} parameters, {p['steps']:,} full-batch steps, tested up "
             f"to n = {p['test_max_n']}, {_n_seeds(cnt)}; " + _classifier_scope(real))
    return _verdict(verdict, comps, evidence, "counting", scope,
                    "A GRU that counts as far as the LSTM (other sizes or training), and no data set on which "
                    "the LSTM wins.")


def easier_to_implement(r):
    """A GRU is easier to understand and implement than an LSTM (the article's section 2.2).

    Measured on minimal NumPy steps written in one style (``grubook.gru.cell_steps``): statements, matrix
    products, nonlinearities, element-wise products, weight matrices and state vectors. Each
    measure holds if the GRU needs fewer, fails if it needs more; an equal count is neither and
    is left out. Combined over the measures. It measures the writing, not the understanding.
    """
    gru, lstm = cell_steps.measures("GRU"), cell_steps.measures("LSTM")
    comps = []
    for name in gru:
        if gru[name] == lstm[name]:
            continue
        iv = stats.Interval(gru[name] - lstm[name], gru[name] - lstm[name], gru[name] - lstm[name], 1)
        comps.append(comparison(f"{name}: GRU {gru[name]} vs LSTM {lstm[name]}", iv, "< 0", below(iv, 0), ".0f",
                                threshold=0.0))
    equal = [name for name in gru if gru[name] == lstm[name]]
    evidence = ("Per step the GRU needs " + ", ".join(f"{gru[k]} {k} (LSTM {lstm[k]})" for k in gru if k not in equal)
                + (f"; equal in {', '.join(equal)}." if equal else "."))
    return _verdict(combine(c["outcome"] for c in comps), comps, evidence, "easier_to_implement",
                    "One style of NumPy step functions, counted from their source; nothing here measures how "
                    "easy a cell is to understand.",
                    "A different but equally direct way of writing the LSTM step with fewer operations.")


def gru_still_struggles_on_long_sequences(r):
    """GRUs still face gradient problems on long sequences (the article's first challenge).

    Two comparisons between the shortest and the longest length of the adding problem, paired by
    seed: the GRU's steps to solve must grow by more than 2× (ratio interval wholly above 2; an
    unsolved run, censored at the cap, makes the ratio a lower bound), and the trained GRU must
    keep more than 1 decade less of its gradient over the first step (interval of the
    difference wholly above 1). Combined over the two.
    """
    res = r["long_range"]
    lengths = sorted(res["parameters"]["lengths"])
    short, long = lengths[0], lengths[-1]
    steps = stats.ratio_interval(_seeds(res, f"GRU.T{long}.steps_to_solve"), _seeds(res, f"GRU.T{short}.steps_to_solve"))
    censored = _count(res, f"GRU.T{long}.solved")[0] < len(res["seeds"])
    steps_outcome = above(steps, STRUGGLE_FACTOR)
    if censored and steps_outcome == FAILS:
        steps_outcome = UNDECIDED                  # a lower bound below the threshold decides nothing
    lost = _paired(res, f"GRU.T{short}.log10_grad_ratio", f"GRU.T{long}.log10_grad_ratio")
    comps = [comparison(f"steps to solve T = {long} / T = {short}", steps, f"> {STRUGGLE_FACTOR:g}", steps_outcome, ".2f",
                        threshold=STRUGGLE_FACTOR, kind="ratio",
                        results=r, sources=[("long_range", f"GRU.T{long}.steps_to_solve"), ("long_range", f"GRU.T{short}.steps_to_solve")]),
             comparison(f"decades of gradient lost, T = {long} minus T = {short}", lost, "> 1", above(lost, 1.0), ".1f",
                        threshold=1.0, results=r, sources=[("long_range", f"GRU.T{short}.log10_grad_ratio"),
                                                ("long_range", f"GRU.T{long}.log10_grad_ratio")])]
    k = _count(res, f"GRU.T{long}.solved")[0]
    evidence = (f"From T = {short} to T = {long} the GRU needed {steps.estimate:.1f}× the steps to solve "
                f"(solved {k}/{len(res['seeds'])} at T = {long}); after training, the gradient over the first step "
                f"lost {-_decades(res, 'GRU', short).estimate:.1f} orders of magnitude at T = {short} and "
                f"{-_decades(res, 'GRU', long).estimate:.1f} at T = {long}.")
    return _verdict(combine(c["outcome"] for c in comps), comps, evidence, "long_range", _adding_scope(res),
                    "A GRU that learns the longest length about as fast as the shortest.")


def can_overfit(r):
    """GRU networks can overfit their training data (the article's second challenge).

    The unregularised GRU's training accuracy minus its test accuracy (Student-t 95 % interval
    over seeds) must lie above 0.05.
    """
    res = r["overfitting"]
    iv = stats.t_interval(_seeds(res, "none.gap"))
    comps = [comparison("gap (training − test accuracy), no regularisation", iv, f"> {OVERFIT_GAP:g}",
                        above(iv, OVERFIT_GAP), threshold=OVERFIT_GAP, results=r, sources=[("overfitting", "none.gap")])]
    mean = lambda k: stats.t_interval(_seeds(res, f"none.{k}")).estimate
    evidence = (f"Without regularisation: training accuracy {mean('train_accuracy'):.3f}, test accuracy "
                f"{mean('test_accuracy'):.3f}, gap {interval_text(comps[0])}.")
    return _verdict(combine(c["outcome"] for c in comps), comps, evidence, "overfitting", _overfitting_scope(res),
                    "A GRU of this size that generalises from this little data.")


def _overfitting_scope(res):
    p = res["parameters"]
    return (f"A {p['units']}-unit GRU ({res['metrics']['params']:,} parameters) on {p['train_size']} digit images "
            f"read row by row, {p['epochs']} epochs; strengths chosen on {p['validation_size']} validation images; "
            f"{_n_seeds(res)}; {_hardware(res)}.")


def regularisation_helps(r):
    """Regularisation reduces a GRU's overfitting (the article's proposed remedy).

    For each regime (at the strength chosen on the validation split), paired by seed against no
    regularisation: the gap's reduction (Student-t 95 % interval) must lie above 0.02. Supported
    if some regime's reduction holds without a test accuracy that is lower beyond doubt
    (interval of the change wholly below −0.02); partly if the regimes whose reduction holds all
    cost test accuracy; not supported if every reduction fails; inconclusive otherwise.
    """
    res = r["overfitting"]
    comps, costs = [], {}
    for regime in (k for k in res["parameters"]["regimes"] if k != "none"):
        iv = _paired(res, "none.gap", f"{regime}.gap")
        c = comparison(f"{regime.replace('_', ' ')}: gap reduction", iv, f"> {GAP_REDUCTION:g}", above(iv, GAP_REDUCTION),
                       threshold=GAP_REDUCTION, results=r, sources=[("overfitting", "none.gap"), ("overfitting", f"{regime}.gap")])
        test = _paired(res, f"{regime}.test_accuracy", "none.test_accuracy")
        c["test_change"] = {"estimate": test.estimate, "low": test.low, "high": test.high}
        costs[regime] = test.high < -PARITY_MARGIN
        comps.append(c)
    helping = [c for c, regime in zip(comps, costs) if c["outcome"] == HOLDS]
    if any(not costs[regime] for c, regime in zip(comps, costs) if c["outcome"] == HOLDS):
        verdict = SUPPORTED
    elif helping:
        verdict = PARTLY
    elif all(c["outcome"] == FAILS for c in comps):
        verdict = NOT_SUPPORTED
    else:
        verdict = INCONCLUSIVE
    evidence = ("Reduction of the gap against no regularisation, and change of test accuracy: " + "; ".join(
        f"{c['label'].split(':')[0]} {interval_text(c)}, {c['test_change']['estimate']:+.3f}".replace("-", "−")
        for c in comps) + ".")
    return _verdict(verdict, comps, evidence, "overfitting", _overfitting_scope(res),
                    "Other strengths or data sizes; a regime whose interval moves across 0.02 with more seeds.")


def example_runs(r):
    """The article's Keras example builds and trains a GRU classifier on sequence data.

    First, the code must run as printed; if it raises, the claim is not supported. If it runs,
    the data must behave as sequences: the GRU's test accuracy minus that of a GRU reading the
    same features in a shuffled order (paired by seed, Student-t 95 % interval) must lie above 0.
    """
    res = r["seed_example"]
    error = res["data"]["original_error"]
    ran = error.startswith("no error")
    runs = stats.Interval(float(ran), float(ran), float(ran), 1)
    comps = [comparison("runs as printed (1 yes, 0 no)", runs, "= 1", HOLDS if ran else FAILS, ".0f", threshold=0.5)]
    order = _paired(res, "GRU.test_accuracy", "GRU_shuffled_order.test_accuracy")
    if ran:
        comps.append(comparison("test accuracy GRU − GRU on shuffled steps", order, "> 0", above(order, 0), threshold=0.0,
                                results=r, sources=[("seed_example", "GRU.test_accuracy"),
                                                    ("seed_example", "GRU_shuffled_order.test_accuracy")]))
    mean = lambda k: stats.t_interval(_seeds(res, k)).estimate
    evidence = ((f"As printed it raises {error}. " if not ran else "It runs as printed. ")
                + f"Fixed, the GRU reaches {mean('GRU.test_accuracy'):.3f} test accuracy and "
                f"{mean('GRU_shuffled_order.test_accuracy'):.3f} with its steps shuffled "
                f"(difference {order.estimate:+.3f} [{order.low:+.3f}, {order.high:+.3f}]); logistic regression "
                f"{mean('logistic_regression.test_accuracy'):.3f}: the data are not sequences.").replace("-", "−")
    return _verdict(combine(c["outcome"] for c in comps), comps, evidence, "seed_example",
                    f"The article's synthetic data (scikit-learn make_classification), {_n_seeds(res)}.",
                    "Code that runs as printed, on data whose order carries information.")


# (claim as the article makes it, paraphrased; the function that judges it)
CLAIMS = [
    ("GRUs capture long-term dependencies that plain RNNs miss.", long_term_dependencies),
    ("Plain RNNs' gradients vanish over long sequences.", vanishing_gradients_in_rnns),
    ("Plain RNNs' gradients explode.", exploding_gradients_in_rnns),
    ("A GRU improves prediction accuracy over a plain RNN.", gru_improves_over_rnn),
    ("A GRU has fewer parameters than an LSTM.", fewer_parameters),
    ("A GRU computes more simply and trains more efficiently than an LSTM.", more_efficient),
    ("A GRU is easier to implement than an LSTM.", easier_to_implement),
    ("A GRU performs on par with an LSTM, sometimes better.", on_par_with_lstm),
    ("In some cases an LSTM performs better than a GRU.", lstm_better_in_some_cases),
    ("GRUs can still run into gradient problems on long sequences.", gru_still_struggles_on_long_sequences),
    ("GRU networks can overfit their training data.", can_overfit),
    ("Regularisation reduces a GRU's overfitting.", regularisation_helps),
    ("The Keras example builds and trains a GRU classifier on sequence data.", example_runs),
]


def audit(results_by_experiment: dict) -> list[dict]:
    """One row per claim: claim, name (of the judging function), rule (its docstring) and the
    ``Verdict`` fields (verdict, comparisons, evidence, experiment, scope, change)."""
    import inspect

    rows = []
    for claim, judge in CLAIMS:
        rule = inspect.getdoc(judge).split("\n\n", 1)[-1]       # the docstring after its one-line claim
        rows.append({"claim": claim, "name": judge.__name__, "rule": rule} | judge(results_by_experiment))
    return rows


def paired_difference(res, a: str, b: str) -> dict:
    """Metric ``a`` minus metric ``b`` of one experiment, paired by seed, with a 95 % Student-t
    interval: the mean difference, the interval's half-width, the number of seeds, and a word for
    prose: "above", "below", or "indistinguishable from" when the interval contains 0 (or when
    there are too few seeds for an interval)."""
    pairs = [(run["metrics"].get(a), run["metrics"].get(b)) for run in res["per_seed"]]
    if not any(x is not None and y is not None for x, y in pairs):
        return {"mean": float("nan"), "half_width": float("inf"), "n": 0, "word": "indistinguishable from"}
    iv = stats.paired_difference([x for x, _ in pairs], [y for _, y in pairs])
    mean, half = iv.estimate, iv.high - iv.estimate
    word = "above" if iv.low > 0 else "below" if iv.high < 0 else "indistinguishable from"
    return {"mean": mean, "half_width": half, "n": iv["n"], "word": word}


def settled_difference(res, a: str, b: str) -> dict:
    """:func:`paired_difference`, with a word that a re-run CI accepts cannot flip: "above" or
    "below" only when the whole interval clears zero by more than the :func:`slack` of the two
    metrics' tolerances, otherwise "within noise of"."""
    diff = paired_difference(res, a, b)
    experiment = res["experiment"]
    margin = slack({experiment: res}, [(experiment, a), (experiment, b)], "difference", diff["mean"])
    low, high = diff["mean"] - diff["half_width"], diff["mean"] + diff["half_width"]
    word = "above" if low > margin else "below" if high < -margin else "within noise of"
    return diff | {"word": word, "slack": margin, "low": low, "high": high}
