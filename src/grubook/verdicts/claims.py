"""The article's claims, each with a verdict computed from the experiments' results.

A verdict is "supported", "partly supported", "not supported" or "inconclusive". Each claim is
judged by one or more **comparisons**, and every comparison is decided by the book's one rule,
:func:`grubook.verdicts.decide.decide`: a 95 % interval set against a named threshold.

- it **holds** when the whole interval lies on the claim's side of the threshold,
- it **fails** when the whole interval lies on the other side,
- and it is **undecided** when the interval straddles the threshold: the data cannot tell.

A decided comparison whose deciding bound lies within the *measured* re-run drift of its
threshold (:mod:`grubook.verdicts.drift`) is **borderline**: its outcome stands, and the verdict
that rests on it says so.

Two kinds of claim are combined differently:

- a **general** claim ("a GRU has fewer parameters") is combined by :func:`combine`: all hold,
  supported; all fail, not supported; some of each, partly; otherwise inconclusive;
- an **existence** claim ("can explode", "in some cases", "can still struggle") by
  :func:`exists`: one comparison that holds supports it; all failing refute it; otherwise
  inconclusive.

The comparisons the experiment pages also draw are the same :class:`~grubook.verdicts.decide.Decision`
objects (``comparisons(res)`` of the experiment's module), so a page and the audit cannot say
different things about one quantity. Every judging function takes ``{experiment: results}`` and
an optional drift, and returns a ``Verdict``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from ..gru import cell_steps
from ..gru.reference import count_params
from . import stats
from ..results.compare import machine
from .decide import FAILS, HOLDS, UNDECIDED, Decision, decide, interval_text as _interval_text

__all__ = ["CLAIMS", "page_comparisons", "THRESHOLDS", "Threshold", "audit", "combine", "exists", "interval_text", "Verdict",
           "SUPPORTED", "PARTLY", "NOT_SUPPORTED", "INCONCLUSIVE", "VERDICTS", "HOLDS", "FAILS", "UNDECIDED",
           "GENERAL", "EXISTENCE", "PARITY_MARGIN", "SOLVE_RATE_MARGIN", "BPC_PARITY_MARGIN", "MEANINGFUL_SPEEDUP",
           "GRADIENT_DECADES", "OVERFIT_GAP", "GAP_REDUCTION", "STRUGGLE_FACTOR", "EXTRA_DECADES", "MAJORITY", "decades_text",
           "family_error", "experiments_behind"]

SUPPORTED, PARTLY, NOT_SUPPORTED, INCONCLUSIVE = "supported", "partly supported", "not supported", "inconclusive"
VERDICTS = (SUPPORTED, PARTLY, NOT_SUPPORTED, INCONCLUSIVE)
GENERAL, EXISTENCE = "general", "existence"
COMBINATION = {
    GENERAL: "a general claim: supported when every comparison holds, not supported when every one fails, partly "
             "supported when some hold and some fail, otherwise inconclusive",
    EXISTENCE: "an existence claim: one comparison that holds supports it; it is not supported only when every "
               "comparison fails, otherwise inconclusive",
}


@dataclass(frozen=True)
class Threshold:
    """A named threshold with the one sentence that justifies it (printed on the claims page)."""
    name: str
    value: float
    reason: str


THRESHOLDS = {t.name: t for t in [
    Threshold("PARITY_MARGIN", 0.02,
              "Two points of test accuracy: the smallest difference the book treats as a reason to prefer one "
              "cell, and the same margin for every accuracy comparison; a reader who would act on less can read "
              "the intervals, which are printed beside every verdict."),
    Threshold("SOLVE_RATE_MARGIN", 0.2,
              "One seed in five: the smallest step a solve rate over five seeds can take."),
    Threshold("BPC_PARITY_MARGIN", 0.05,
              "A twentieth of a bit per character, 3.5 % in perplexity (2^0.05): about as much as two points of "
              "accuracy are on the classification tasks, relative to what separates a model from a uniform guess."),
    Threshold("MEANINGFUL_SPEEDUP", 0.9,
              "A tenth less time per step: a smaller saving would not decide which cell to use."),
    Threshold("GRADIENT_DECADES", 2.0,
              "A hundredfold: the gradient reaching step 1 is then under 1 % of the last step's, too weak to move "
              "the weights that read step 1 at the learning rate that trains the rest."),
    Threshold("OVERFIT_GAP", 0.05,
              "Five points between training and test accuracy: more than twice the parity margin, so a gap this "
              "large is not a difference the book would call on par."),
    Threshold("GAP_REDUCTION", 0.02,
              "The parity margin: a gap that shrinks by less is a change the book calls on par everywhere else."),
    Threshold("STRUGGLE_FACTOR", 2.0,
              "Twice the steps from the shortest length to the longest: a cell that keeps its memory needs about "
              "as many steps at every length, so doubling is the least that counts as struggling."),
    Threshold("EXTRA_DECADES", 1.0,
              "One order of magnitude more gradient lost at the longest length than at the shortest: a gradient "
              "ten times weaker, the least the book reads as a real loss rather than run-to-run spread."),
    Threshold("MAJORITY", 0.5,
              "More than half of the runs: a property of most runs, not of a few (a cell that solves a task in "
              "fewer than half of its seeds has not solved it; gradients that vanish in a few runs do not vanish "
              "as a rule)."),
]}

PARITY_MARGIN = THRESHOLDS["PARITY_MARGIN"].value
SOLVE_RATE_MARGIN = THRESHOLDS["SOLVE_RATE_MARGIN"].value
BPC_PARITY_MARGIN = THRESHOLDS["BPC_PARITY_MARGIN"].value
MEANINGFUL_SPEEDUP = THRESHOLDS["MEANINGFUL_SPEEDUP"].value
GRADIENT_DECADES = THRESHOLDS["GRADIENT_DECADES"].value
OVERFIT_GAP = THRESHOLDS["OVERFIT_GAP"].value
GAP_REDUCTION = THRESHOLDS["GAP_REDUCTION"].value
STRUGGLE_FACTOR = THRESHOLDS["STRUGGLE_FACTOR"].value
EXTRA_DECADES = THRESHOLDS["EXTRA_DECADES"].value
MAJORITY = THRESHOLDS["MAJORITY"].value

FLOAT32_FLOOR_DECADES = 37.0       # log10 of float32's smallest normal number is about −37.9


# --------------------------------------------------------------------------- combining


def combine(outcomes) -> str:
    """A general claim's verdict: all hold, supported; all fail, not supported; some of each,
    partly; otherwise (undecided ones that could tip it) inconclusive."""
    outcomes = list(outcomes)
    if not outcomes:
        raise ValueError("a verdict needs at least one comparison")
    if HOLDS in outcomes and FAILS in outcomes:
        return PARTLY
    if UNDECIDED in outcomes:
        return INCONCLUSIVE
    return SUPPORTED if HOLDS in outcomes else NOT_SUPPORTED


def exists(outcomes) -> str:
    """An existence claim's verdict: one comparison that holds supports it; all failing refute
    it; otherwise inconclusive."""
    outcomes = list(outcomes)
    if not outcomes:
        raise ValueError("a verdict needs at least one comparison")
    if HOLDS in outcomes:
        return SUPPORTED
    return NOT_SUPPORTED if all(o == FAILS for o in outcomes) else INCONCLUSIVE


def family_error(k: int) -> float:
    """A bound on the chance that at least one of ``k`` comparisons holds by accident when each
    does with probability at most 2.5 % (one side of a 95 % interval): k × 2.5 % (Bonferroni),
    whether or not the comparisons are independent; about 1 − 0.975^k if they are."""
    return min(1.0, 0.025 * k)


def interval_text(c: dict) -> str:
    """"0.057 [0.043, 0.071]" for a comparison (infinite bounds shown as ±∞)."""
    return _interval_text(c["estimate"], c["low"], c["high"], c["fmt"])


class Verdict(dict):
    """verdict, kind, comparisons, evidence, experiment, scope, change, covers, borderline (the
    borderline comparisons a re-run could use to change the verdict), thresholds."""


def _verdict(kind, comparisons, evidence, experiment, scope, change, thresholds=(), verdict=None,
             combination=None) -> Verdict:
    outcomes = [c["outcome"] for c in comparisons]
    rule = exists if kind == EXISTENCE else combine
    borderline = [c for c in comparisons if c.borderline]
    if verdict is None:
        verdict = rule(outcomes)
        # Only borderline comparisons that could change the verdict make it borderline: try every
        # combination of the outcomes a re-run could give them.
        choices = [sorted(c.reachable_outcomes()) for c in borderline]
        moving = set()
        for alternative in itertools.product(*choices):
            changed = dict(zip(map(id, borderline), alternative))
            if rule([changed.get(id(c), c["outcome"]) for c in comparisons]) != verdict:
                moving |= {id(c) for c, o in zip(borderline, alternative) if o != c["outcome"]}
        borderline = [c for c in borderline if id(c) in moving]
    covers = []
    for c in comparisons:
        if c["covers"] and c["covers"] not in covers:
            covers.append(c["covers"])
    return Verdict(verdict=verdict, kind=kind, comparisons=comparisons, evidence=evidence, experiment=experiment,
                   scope=scope, change=change, covers=covers, borderline=borderline,
                   thresholds=[THRESHOLDS[t] for t in thresholds], combination=combination or COMBINATION[kind])


def _decide(label, interval, *, key, direction, drift, threshold=0.0, threshold_name="", fmt=".3f",
            kind="difference", covers="", machine="", drift_pool="") -> Decision:
    return decide(label, interval, key=key, direction=direction, threshold=threshold, threshold_name=threshold_name,
                  fmt=fmt, kind=kind, covers=covers, drift=drift, machine=machine, drift_pool=drift_pool)


def _exact(label, value, *, key, direction, threshold, fmt=".3f", kind="difference") -> Decision:
    """A comparison of an exact quantity (counted or computed, not sampled): a point interval."""
    return decide(label, stats.Interval(value, value, value, 1), key=key, direction=direction, threshold=threshold,
                  fmt=fmt, kind=kind, covers="exact (computed, not sampled)", drift=0.0)


# --------------------------------------------------------------------------- reading results


def _seeds(res, name):
    return [run["metrics"].get(name) for run in res["per_seed"]]


def _count(res, name):
    values = [v for v in _seeds(res, name) if v is not None]
    return int(round(sum(values))), len(values)


def _view(res):
    from ..results.view import Results

    return res if isinstance(res, Results) else Results(res)


def page_comparisons(experiment: str, res, drift) -> dict:
    """The comparisons an experiment's page draws, by their short name (shared with the audit)."""
    from .. import experiments

    return experiments.get(experiment).comparisons(_view(res), drift)


def _hardware(res):
    return f"{machine(res)} ({res['provenance'].get('cpu_count', '?')} cores)"


def _n_seeds(res):
    return f"{len(res['seeds'])} seed{'s' if len(res['seeds']) != 1 else ''}"


def _adding_scope(res):
    p = res["parameters"]
    return (f"Adding problem, T = {', '.join(map(str, p['lengths']))}; cells of about {p['param_budget']:,} "
            f"parameters; trained until test MSE < {p['threshold']:g} or {p['max_steps']:,} steps at one learning "
            f"rate ({p['learning_rate']:g}) for every cell; {_n_seeds(res)}; {_hardware(res)}. The step cap and the "
            "untuned learning rate are budgets: a cell that fails within them might succeed with more.")


def _classifier_scope(res):
    p = res["parameters"]
    return (f"Digits (pixel by pixel) and ItalyPowerDemand; cells of about {p['param_budget']:,} parameters; "
            f"early stopping (patience {p['patience']}); {_n_seeds(res)}; {_hardware(res)}.")


def _char_lm_scope(res):
    p = res["parameters"]
    return (f"Character language model on Python source, about {p['param_budget']:,} recurrent parameters, "
            f"{p['steps']:,} steps, {_n_seeds(res)}.")


def _seq2seq_scope(res) -> str:
    """The encoder–decoders' scope, with a trailing space; empty where the results lack the experiment."""
    if not res:
        return ""
    p = res["parameters"]
    return (f"Encoder–decoders reversing digit strings of 1 to {p['train_max_len']} digits, {p['units']} units, "
            f"{p['steps']:,} steps, {_n_seeds(res)}. ")


def _rnn_lengths(res):
    """The lengths at which the simple RNN ran (all, unless the experiment limited it)."""
    return res["parameters"].get("simple_rnn_lengths") or res["parameters"]["lengths"]


def _solve_rate_difference(res, a, b, T, drift, *, direction, threshold=0.0, threshold_name=""):
    (ka, n), (kb, m) = _count(res, f"{a}.T{T}.solved"), _count(res, f"{b}.T{T}.solved")
    iv = stats.newcombe(ka, n, kb, m)
    return _decide(f"adding T = {T}: solve rate {a} − {b} ({ka}/{n} vs {kb}/{m})", iv,
                   key=f"long_range: solve rate {a} − {b} at T = {T}", direction=direction, threshold=threshold,
                   threshold_name=threshold_name, fmt=".2f", kind="rate", covers=f"{n} seeds per cell", drift=drift)


def decades_lost(res, cell: str, T: int, *, initial: bool) -> list[float]:
    """Per seed, how many orders of magnitude weaker the gradient reaching step 1 is than at step T."""
    return [-v for v in _seeds(res, f"{cell}.T{T}.log10_grad_ratio{'_initial' if initial else ''}") if v is not None]


def decades_text(res, cell: str, T: int, *, initial: bool) -> str:
    """"9.6 (9.4–10.1)": the median and range over seeds of :func:`decades_lost`. A gradient that
    underflowed float32 (about 37 decades) has no size, only a bound: such seeds are counted, not
    averaged ("≥ 37 in all 5 seeds", or "… ; ≥ 37 in 2 of 5 seeds")."""
    import statistics

    values = decades_lost(res, cell, T, initial=initial)
    if not values:
        raise ValueError(f"no gradient measurement of {cell} at T = {T}")
    under = [v for v in values if math.isinf(v) or v >= FLOAT32_FLOOR_DECADES]
    sized = [v for v in values if v not in under]
    if not sized:
        return f"≥ {FLOAT32_FLOOR_DECADES:.0f} in all {len(values)} seeds (float32 underflow)"
    text = f"{statistics.median(sized):.1f} ({min(sized):.1f}–{max(sized):.1f})"
    return text + (f"; ≥ {FLOAT32_FLOOR_DECADES:.0f} in {len(under)} of {len(values)} seeds (float32 underflow)"
                   if under else "")


# --------------------------------------------------------------------------- the claims


def long_term_dependencies(r, drift=None):
    """GRUs capture long-term dependencies that plain RNNs miss.

    A general claim. At every length T of the adding problem at which the simple RNN ran, the
    GRU's solve rate minus the simple RNN's (Newcombe 95 % interval over seeds) must lie above 0.
    """
    res = r["long_range"]
    comps = [_solve_rate_difference(res, "GRU", "SimpleRNN", T, drift, direction="above") for T in _rnn_lengths(res)]
    T = max(_rnn_lengths(res))
    evidence = (f"Solved within {res['parameters']['max_steps']:,} steps at T = {T}: GRU "
                f"{_count(res, f'GRU.T{T}.solved')[0]}/{len(res['seeds'])} seeds, simple RNN "
                f"{_count(res, f'SimpleRNN.T{T}.solved')[0]}/{len(res['seeds'])}; the GRU solved more often at "
                f"{sum(c['outcome'] == HOLDS for c in comps)} of {len(comps)} lengths.")
    return _verdict(GENERAL, comps, evidence, "long_range", _adding_scope(res),
                    "A simple RNN that solves the task within the cap at some length in most seeds (a tuned learning "
                    "rate or a longer budget might give one), or a GRU that does not.")


def lstm_solves_long_term_dependencies(r, drift=None):
    """The LSTM effectively solves the long-term dependency problem (the article's section 2.1).

    A general claim. At every length of the adding problem the LSTM's solve rate (Wilson 95 %
    interval over seeds) must lie above one half (MAJORITY), and at every length the simple RNN
    ran, the LSTM's solve rate minus the simple RNN's must lie above 0.
    """
    res = r["long_range"]
    comps = []
    for T in res["parameters"]["lengths"]:
        k, n = _count(res, f"LSTM.T{T}.solved")
        comps.append(_decide(f"adding T = {T}: LSTM solve rate ({k}/{n})", stats.wilson(k, n),
                             key=f"long_range: LSTM solve rate at T = {T}", direction="above",
                             threshold=MAJORITY, threshold_name="MAJORITY", fmt=".2f", kind="rate",
                             covers=f"{n} seeds", drift=drift))
    comps += [_solve_rate_difference(res, "LSTM", "SimpleRNN", T, drift, direction="above") for T in _rnn_lengths(res)]
    def solved(cell, lengths):
        return ", ".join(f"{_count(res, f'{cell}.T{T}.solved')[0]}/{len(res['seeds'])} at T = {T}" for T in lengths)

    evidence = (f"The LSTM solved the adding problem in {solved('LSTM', res['parameters']['lengths'])}, within "
                f"{res['parameters']['max_steps']:,} steps; the simple RNN in {solved('SimpleRNN', _rnn_lengths(res))}.")
    return _verdict(GENERAL, comps, evidence, "long_range", _adding_scope(res),
                    "Longer sequences than this experiment's lengths (the outlook's exercises run longer ones), "
                    "where the LSTM may no longer solve every seed within the cap.", thresholds=["MAJORITY"])


def vanishing_gradients_in_rnns(r, drift=None):
    """Plain RNNs' gradients vanish over long sequences.

    A general claim, judged twice at every length the simple RNN ran: with the initial weights
    (the gradient learning starts from, the cause the claim names) and after training (what
    training left). Each time, the share of runs in which the gradient reaching the first step is
    more than 100 times weaker than at the last (GRADIENT_DECADES) must exceed one half (MAJORITY;
    Wilson 95 % interval over runs). A share, not a mean: a gradient that underflows float32 has no
    meaningful size, only a side of the threshold. Both must hold for "supported"; one holding and
    the other failing is "partly"; an undecided one leaves the verdict inconclusive.
    """
    res = r["long_range"]
    comps = []
    for T in _rnn_lengths(res):
        for initial, when in ((True, "at initialisation"), (False, "after training")):
            values = decades_lost(res, "SimpleRNN", T, initial=initial)
            k = sum(v > GRADIENT_DECADES for v in values)
            comps.append(_decide(f"T = {T}, {when}: simple-RNN runs losing over {GRADIENT_DECADES:g} decades "
                                 f"({k}/{len(values)})", stats.wilson(k, len(values)),
                                 key=f"long_range: share of simple-RNN runs losing over 2 decades at T = {T}, {when}",
                                 direction="above", threshold=MAJORITY, threshold_name="MAJORITY", fmt=".2f",
                                 kind="rate", covers=f"{len(values)} seeds", drift=drift))
    T = max(_rnn_lengths(res))
    evidence = (f"Decades lost between step T and step 1 at T = {T}, median (range) over {_n_seeds(res)}: "
                + "; ".join(f"{name} {decades_text(res, cell, T, initial=True)} with initial weights, "
                            f"{decades_text(res, cell, T, initial=False)} after training"
                            for cell, name in (("SimpleRNN", "simple RNN"), ("LSTM", "LSTM"), ("GRU", "GRU")))
                + ".")
    return _verdict(GENERAL, comps, evidence, "long_range", _adding_scope(res),
                    "Simple RNNs that keep more than 1 % of the gradient over the first step in at least half of "
                    "their runs at some length, with initial weights or after training.",
                    thresholds=["GRADIENT_DECADES", "MAJORITY"])


def exploding_gradients_in_rnns(r, drift=None):
    """Plain RNNs' gradients can explode.

    An existence claim: it is supported once explosions are shown to happen at all, that is,
    when the share of simple-RNN runs trained without gradient clipping (Adam) whose loss or
    gradient norm becomes non-finite, or whose gradient norm spikes above the experiment's spike
    factor times its median, lies above 0 (Wilson 95 % interval over the runs). How often they
    explode is reported, not judged: it depends on the learning rate and the initialisation.
    """
    res = r["long_range"]
    p, m = res["parameters"], res["metrics"]
    k, n = int(m["explosion.SimpleRNN.exploded"]), int(m["explosion.SimpleRNN.runs"])
    iv = stats.wilson(k, n)
    c = _decide(f"simple-RNN runs that exploded ({k}/{n})", iv, key="long_range: simple-RNN explosion rate",
                direction="above", threshold=0.0, fmt=".2f", kind="rate", covers=f"{n} runs", drift=drift)
    peak = m.get("explosion.SimpleRNN.largest_peak_over_median")
    evidence = (f"Without clipping, {k} of {n} simple-RNN runs exploded"
                + (f" (the largest gradient spike was {peak:.0f} times the run's median)" if peak else "")
                + f"; the share of runs that explode lies in [{iv['low']:.2f}, {iv['high']:.2f}] with 95 % confidence.")
    scope = (f"Adding problem T = {p['explosion_length']}, {p['explosion_steps']} steps of Adam at learning rate "
             f"{p['learning_rate']:g} without clipping; a spike is a gradient norm over {p['spike_factor']:g} times "
             f"the run's median; {n} runs; {_hardware(res)}.")
    return _verdict(EXISTENCE, [c], evidence, "long_range", scope,
                    "No explosion in many more runs would bound the rate near 0 in this setting; other settings "
                    "(higher learning rates, plain SGD, a spectral radius above 1) explode more often.")


def gru_improves_over_rnn(r, drift=None):
    """A GRU predicts more accurately than a plain RNN (the article's background section).

    A general claim. The GRU − simple RNN test accuracy on each real data set (paired by seed and
    test item, a 95 % interval over both), the simple RNN's minus the GRU's held-out bits per character of the
    character language model, and the solve-rate difference at the longest length of the adding
    problem at which the simple RNN ran (Newcombe interval) must lie above 0.
    """
    real, lr, lm = r["real_sequences"], r["long_range"], r["char_lm"]
    page = page_comparisons("real_sequences", real, drift)
    comps = [page[f"{d}: GRU − SimpleRNN"] for d in real["parameters"]["datasets"]]
    lm_page = page_comparisons("char_lm", lm, drift).get("SimpleRNN − GRU")
    if lm_page is not None:
        comps.append(lm_page)
    comps.append(_solve_rate_difference(lr, "GRU", "SimpleRNN", max(_rnn_lengths(lr)), drift, direction="above"))
    evidence = "; ".join(f"{c['label']} {interval_text(c)}" for c in comps) + "."
    return _verdict(GENERAL, comps, evidence, "real_sequences",
                    _classifier_scope(real) + " " + _char_lm_scope(lm) + " " + _adding_scope(lr),
                    "Other data sets, sizes or training budgets (the simple RNN had one untuned learning rate); "
                    "more seeds for the undecided comparisons.")


def fewer_parameters(r, drift=None):
    """A GRU has fewer parameters than an LSTM of the same size.

    A general claim, exact: the GRU/LSTM parameter ratio from the formulas (which the tests prove
    equal to Keras) must be below 1 at every size the efficiency experiment uses.
    """
    res = r["efficiency"]
    comps = [_exact(f"{n} units: parameters GRU / LSTM", count_params("GRU", n, 8) / count_params("LSTM", n, 8),
                    key=f"efficiency: parameters GRU / LSTM at {n} units", direction="below", threshold=1.0,
                    kind="ratio") for n in res["parameters"]["units"]]
    lo, hi = min(c["estimate"] for c in comps), max(c["estimate"] for c in comps)
    evidence = (f"GRU/LSTM parameter ratio {lo:.3f}–{hi:.3f} for {res['parameters']['units']} units (exactly 3/4 "
                f"in the article's form; Keras' GRU adds 3n biases, of which only n change the model).")
    return _verdict(GENERAL, comps, evidence, "efficiency", "Exact for every size: 3 weight blocks against 4.",
                    "Nothing: it is arithmetic.")


MODE_NAMES = {"default": "Keras", "compiled": "Keras + XLA", "torch": "PyTorch"}


# Every GRU/LSTM step-time ratio shares one re-run drift, relative to its size (drift.pooled).
TIMING_POOL = "GRU/LSTM step-time ratio"


def more_efficient(r, drift=None):
    """A GRU computes more simply and trains more efficiently than an LSTM.

    A general claim, judged on two kinds of comparison, each against a GRU/LSTM ratio of 0.9
    (MEANINGFUL_SPEEDUP): the training-step time of every implementation at every configuration
    (length and width) of the efficiency experiment, each the median of the paired ratios over
    interleaved repeats with its distribution-free 95 % interval, so that a size effect shows
    instead of being pooled away; and the training steps to solve the adding problem at every
    length where the GRU solved every seed (paired by seed). Timing intervals cover the repeats of
    one run only; how far a re-run moves them is the measured drift, pooled over every GRU/LSTM
    step-time ratio relative to its size, which marks the comparisons it could flip as borderline. A speed ratio belongs to the CPU it was measured on: each timing
    decision names it, and a re-run on another CPU is a new measurement, not held to these outcomes.
    """
    eff, lr = r["efficiency"], r["long_range"]
    m, p = eff["metrics"], eff["parameters"]
    comps = []
    for mode in p.get("modes", ["default", "compiled"]):
        for n in p["units"]:
            for T in p["lengths"]:
                key = f"{mode}.T{T}.u{n}.GRU_over_LSTM.train"
                iv = stats.Interval(m[key], m[f"{key}.low"], m[f"{key}.high"], p["repeats"])
                comps.append(_decide(f"{MODE_NAMES.get(mode, mode)}, {n} units, T = {T}: step time GRU / LSTM", iv,
                                     key=f"efficiency: {mode} step time GRU / LSTM at {n} units, T = {T}",
                                     direction="below", threshold=MEANINGFUL_SPEEDUP,
                                     threshold_name="MEANINGFUL_SPEEDUP", fmt=".2f", kind="ratio",
                                     covers=f"{p['repeats']} interleaved timing repeats", drift=drift,
                                     machine=machine(eff), drift_pool=TIMING_POOL))
    for T in lr["parameters"]["lengths"]:
        if _count(lr, f"GRU.T{T}.solved")[0] < len(lr["seeds"]):
            continue
        iv = stats.ratio_interval(_seeds(lr, f"GRU.T{T}.steps_to_solve"), _seeds(lr, f"LSTM.T{T}.steps_to_solve"))
        c = _decide(f"adding T = {T}: steps to solve GRU / LSTM", iv,
                    key=f"long_range: steps to solve GRU / LSTM at T = {T}", direction="below",
                    threshold=MEANINGFUL_SPEEDUP, threshold_name="MEANINGFUL_SPEEDUP", fmt=".2f",
                    kind="ratio", covers=f"{iv['n']} seeds", drift=drift)
        if _count(lr, f"LSTM.T{T}.solved")[0] < len(lr["seeds"]) and c["outcome"] == FAILS:
            c["outcome"], c["borderline"] = UNDECIDED, False   # an LSTM stopped at the cap: the ratio is an upper bound
        comps.append(c)
    parts = []
    for mode in p.get("modes", ["default", "compiled"]):
        by_width = ", ".join(
            f"{n} units {min(m[f'{mode}.T{T}.u{n}.GRU_over_LSTM.train'] for T in p['lengths']):.2f}–"
            f"{max(m[f'{mode}.T{T}.u{n}.GRU_over_LSTM.train'] for T in p['lengths']):.2f}" for n in p["units"])
        parts.append(f"{MODE_NAMES.get(mode, mode)} {by_width}")
    learning = [c for c in comps if c["label"].startswith("adding")]
    evidence = "GRU/LSTM training-step time by width (range over lengths): " + "; ".join(parts) + ". "
    if learning:
        evidence += (f"Steps to solve the adding problem, GRU/LSTM: {min(c['estimate'] for c in learning):.2f}–"
                     f"{max(c['estimate'] for c in learning):.2f} over {len(learning)} lengths.")
    scope = (f"{_hardware(eff)}, one thread per process; batch {p['batch_size']}, 8 features, T = "
             f"{', '.join(map(str, p['lengths']))}, {', '.join(map(str, p['units']))} units; {p['repeats']} "
             f"interleaved repeats. Learning speed: " + _adding_scope(lr))
    return _verdict(GENERAL, comps, evidence, "efficiency", scope,
                    "Per-step times on other hardware (a GPU's cuDNN kernels) or at other widths, or an LSTM that "
                    "learns the adding problem as fast as the GRU.", thresholds=["MEANINGFUL_SPEEDUP"])


def _reading(c: Decision) -> str:
    """On par, undecided, or which cell is better when the interval lies wholly outside the margin.
    Every parity comparison is oriented so that a positive difference favours the GRU: GRU − LSTM
    accuracies and solve rates, LSTM − GRU bits per character (lower is better)."""
    if c["outcome"] == HOLDS:
        return "on par"
    if c["outcome"] == UNDECIDED:
        return "undecided"
    return "GRU better" if c["low"] > c["threshold"] else "GRU worse"


def on_par_with_lstm(r, drift=None):
    """A GRU performs on par with an LSTM, sometimes better.

    Parity is two-sided and uses the 95 % interval, more conservative than the 90 % interval of
    the usual equivalence test (TOST): the GRU − LSTM test accuracy on each real data set (paired
    by seed and test item, a 95 % interval over both) and the GRU − LSTM exact-match rate of the
    encoder–decoders at their longest trained length (paired by seed) must lie within
    ±PARITY_MARGIN, the GRU − LSTM held-out bits per character of the character model within
    ±BPC_PARITY_MARGIN, and the solve-rate difference at the adding problem's longest length
    (Newcombe interval) within ±SOLVE_RATE_MARGIN. Each comparison reads
    as on par, GRU better or GRU worse (interval wholly outside the margin) or undecided.
    Supported if every comparison is decided and none is "GRU worse"; not supported if all are
    "GRU worse"; partly if some are; inconclusive otherwise.
    """
    real, lr, lm = r["real_sequences"], r["long_range"], r["char_lm"]
    comps = []
    real_page = page_comparisons("real_sequences", real, drift)
    for d in real["parameters"]["datasets"]:       # the page's interval (seeds × test items), against the margin
        comps.append(_redirect(real_page[f"{d}: GRU − LSTM"], "within", drift, PARITY_MARGIN, "PARITY_MARGIN"))
    lm_page = page_comparisons("char_lm", lm, drift).get("LSTM − GRU")
    if lm_page is not None:       # LSTM − GRU bits per character: above the margin, the GRU is better
        comps.append(_redirect(lm_page, "within", drift, BPC_PARITY_MARGIN, "BPC_PARITY_MARGIN"))
    s2s = r.get("seq2seq")
    parity = page_comparisons("seq2seq", s2s, drift).get("GRU − LSTM parity") if s2s else None
    if parity is not None:        # exact-match rate of the encoder–decoders, within the accuracy margin
        comps.append(parity)
    T = max(lr["parameters"]["lengths"])
    comps.append(_solve_rate_difference(lr, "GRU", "LSTM", T, drift, direction="within", threshold=SOLVE_RATE_MARGIN,
                                        threshold_name="SOLVE_RATE_MARGIN"))
    for c in comps:
        c["reading"] = _reading(c)
    readings = [c["reading"] for c in comps]
    worse, undecided = readings.count("GRU worse"), readings.count("undecided")
    if worse == len(readings):
        verdict = NOT_SUPPORTED
    elif worse:
        verdict = PARTLY
    else:
        verdict = INCONCLUSIVE if undecided else SUPPORTED
    evidence = "; ".join(f"{c['label'].split(':')[0]}: {c['reading']}" for c in comps) + "."
    n = len(lr["seeds"])
    if undecided and any(c["label"].startswith("adding") and c["outcome"] == UNDECIDED for c in comps):
        evidence += (f" With {n} seeds per cell, even {n}/{n} against {n}/{n} gives a solve-rate interval wider than "
                     f"±{SOLVE_RATE_MARGIN:g}: that comparison is undecidable at this budget, whatever the cells do.")
    return _verdict(GENERAL, comps, evidence, "real_sequences",
                    _classifier_scope(real) + " " + _char_lm_scope(lm) + " " + _seq2seq_scope(s2s) + _adding_scope(lr),
                    "Intervals that move inside or outside the margins with more seeds, longer training or other "
                    "data sets; parity of solve rates needs well over five seeds per cell.",
                    thresholds=["PARITY_MARGIN", "BPC_PARITY_MARGIN", "SOLVE_RATE_MARGIN"], verdict=verdict,
                    combination="a parity claim: supported when every comparison is decided and each is on par or "
                                "favours the GRU; partly supported when some favour the LSTM, not supported when all "
                                "do, otherwise inconclusive")


def lstm_better_in_some_cases(r, drift=None):
    """In some cases an LSTM performs better than a GRU (the article's section 2.1).

    An existence claim: supported if in at least one comparison the LSTM is better beyond doubt;
    not supported if in every comparison it is not (the interval wholly on the GRU's side);
    inconclusive otherwise. Compared: the longest aⁿbⁿ string length up to which every string is
    recognised after training on short ones (a counting task where Weiss et al. 2018 expect the
    LSTM to win), the test accuracy on each real data set, the held-out bits per character of
    the character model, and the exact-match rate of the encoder–decoders. Looking in several places raises the chance of a false "supported":
    with k comparisons, each one-sided at 2.5 %, it is at most 1 − 0.975^k (see the page).
    """
    cnt, real, lm = r["counting"], r["real_sequences"], r["char_lm"]
    comps = [page_comparisons("counting", cnt, drift)["LSTM − GRU"]]
    for d in real["parameters"]["datasets"]:
        comps.append(_redirect(page_comparisons("real_sequences", real, drift)[f"{d}: GRU − LSTM"], "below", drift))
    lm_page = page_comparisons("char_lm", lm, drift).get("LSTM − GRU")
    if lm_page is not None:
        comps.append(_redirect(lm_page, "below", drift))
    s2s = r.get("seq2seq")
    s2s_page = page_comparisons("seq2seq", s2s, drift).get("GRU − LSTM") if s2s else None
    if s2s_page is not None:      # GRU − LSTM exact matches below 0: the LSTM's encoder–decoder is better
        comps.append(_redirect(s2s_page, "below", drift))
    mean = lambda cell: stats.t_interval(_seeds(cnt, f"{cell}.generalises_to")).estimate
    evidence = (f"Trained on n ≤ {cnt['parameters']['train_max_n']}, the LSTM recognised every aⁿbⁿ up to n = "
                f"{mean('LSTM'):.1f} on average, the GRU up to {mean('GRU'):.1f}, the simple RNN up to "
                f"{mean('SimpleRNN'):.1f}; " + "; ".join(f"{c['label']} {interval_text(c)}" for c in comps[1:])
                + f". Family-wise chance of a false “supported” over {len(comps)} comparisons: at most "
                f"{family_error(len(comps)):.0%}.")
    p = cnt["parameters"]
    scope = (f"aⁿbⁿ with cells of about {p['param_budget']} parameters, {p['steps']:,} full-batch steps, tested up "
             f"to n = {p['test_max_n']}, {_n_seeds(cnt)}; " + _classifier_scope(real) + " " + _char_lm_scope(lm)
             + (" " + _seq2seq_scope(s2s)).rstrip())
    return _verdict(EXISTENCE, comps, evidence, "counting", scope,
                    "A GRU that counts as far as the LSTM (other sizes or training), and no data set on which the "
                    "LSTM wins.")


def _redirect(c: Decision, direction: str, drift, threshold: float = 0.0, threshold_name: str = "") -> Decision:
    """The same interval (and key, so the same drift) decided in another direction, against 0 or
    a named threshold (a page's "> 0" turned into a claim's parity)."""
    iv = stats.Interval(c["estimate"], c["low"], c["high"], c["n"])
    return _decide(c["label"], iv, key=c["key"], direction=direction, threshold=threshold,
                   threshold_name=threshold_name, fmt=c["fmt"], kind=c["kind"], covers=c["covers"], drift=drift)


def easier_to_implement(r, drift=None):
    """A GRU is easier to understand and implement than an LSTM (the article's section 2.2).

    A general claim, exact: measured on minimal NumPy steps written in one style
    (``grubook.gru.cell_steps``): statements, matrix products, nonlinearities, element-wise
    products, weight matrices and state vectors. Each measure holds if the GRU needs fewer, fails
    if it needs more; an equal count is neither and is left out. It measures the writing, not the
    understanding.
    """
    gru, lstm = cell_steps.measures("GRU"), cell_steps.measures("LSTM")
    comps = [_exact(f"{name}: GRU {gru[name]} vs LSTM {lstm[name]}", gru[name] - lstm[name],
                    key=f"cell_steps: {name} GRU − LSTM", direction="below", threshold=0.0, fmt=".0f")
             for name in gru if gru[name] != lstm[name]]
    equal = [name for name in gru if gru[name] == lstm[name]]
    evidence = ("Per step the GRU needs " + ", ".join(f"{gru[k]} {k} (LSTM {lstm[k]})" for k in gru if k not in equal)
                + (f"; equal in {', '.join(equal)}." if equal else "."))
    return _verdict(GENERAL, comps, evidence, "easier_to_implement",
                    "One style of NumPy step functions, counted from their source; nothing here measures how "
                    "easy a cell is to understand.",
                    "A different but equally direct way of writing the LSTM step with fewer operations.")


def gru_still_struggles_on_long_sequences(r, drift=None):
    """GRUs can still run into gradient problems on long sequences (the article's first challenge).

    An existence claim, between the shortest and the longest length of the adding problem,
    paired by seed: supported if the GRU's steps to solve grow by more than STRUGGLE_FACTOR (ratio
    interval wholly above it; an unsolved run, censored at the cap, makes the ratio a lower
    bound, so a ratio below the factor then decides nothing), or if the trained GRU keeps more
    than EXTRA_DECADES less of its gradient over the first step at the longest length. The gradient
    is judged after training, where a GRU that struggles would show it; with the initial weights
    the GRU loses more decades than the simple RNN at every length and solves the task anyway
    (the evidence line gives both).
    """
    res = r["long_range"]
    lengths = sorted(res["parameters"]["lengths"])
    short, long = lengths[0], lengths[-1]
    steps = stats.ratio_interval(_seeds(res, f"GRU.T{long}.steps_to_solve"), _seeds(res, f"GRU.T{short}.steps_to_solve"))
    c_steps = _decide(f"steps to solve T = {long} / T = {short}", steps,
                      key=f"long_range: GRU steps to solve T = {long} / T = {short}", direction="above",
                      threshold=STRUGGLE_FACTOR, threshold_name="STRUGGLE_FACTOR", fmt=".2f", kind="ratio",
                      covers=f"{steps['n']} seeds", drift=drift)
    if _count(res, f"GRU.T{long}.solved")[0] < len(res["seeds"]) and c_steps["outcome"] == FAILS:
        c_steps["outcome"], c_steps["borderline"] = UNDECIDED, False   # a lower bound below the factor decides nothing
    lost = stats.paired_difference(_seeds(res, f"GRU.T{short}.log10_grad_ratio"), _seeds(res, f"GRU.T{long}.log10_grad_ratio"))
    c_lost = _decide(f"decades of gradient lost after training, T = {long} minus T = {short}", lost,
                     key=f"long_range: GRU decades lost after training, T = {long} minus T = {short}", direction="above",
                     threshold=EXTRA_DECADES, threshold_name="EXTRA_DECADES", fmt=".1f", covers=f"{lost['n']} seeds",
                     drift=drift)
    k = _count(res, f"GRU.T{long}.solved")[0]
    evidence = (f"From T = {short} to T = {long} the GRU needed {steps.estimate:.2f}× the steps to solve "
                f"(solved {k}/{len(res['seeds'])} at T = {long}). Decades of gradient lost over the sequence, median "
                f"(range) over seeds: T = {short} {decades_text(res, 'GRU', short, initial=False)} after training, "
                f"{decades_text(res, 'GRU', short, initial=True)} with initial weights; T = {long} "
                f"{decades_text(res, 'GRU', long, initial=False)} after training, "
                f"{decades_text(res, 'GRU', long, initial=True)} with initial weights.")
    return _verdict(EXISTENCE, [c_steps, c_lost], evidence, "long_range", _adding_scope(res),
                    "Longer sequences than this budget reaches (the outlook's exercise runs T = 400), or a GRU that "
                    "needs far more steps at the longest length.", thresholds=["STRUGGLE_FACTOR", "EXTRA_DECADES"])


def can_overfit(r, drift=None):
    """GRU networks can overfit their training data (the article's second challenge).

    A general claim about this setting: the unregularised GRU's training accuracy minus its test
    accuracy (Student-t 95 % interval over seeds) must lie above OVERFIT_GAP.
    """
    res = r["overfitting"]
    iv = stats.t_interval(_seeds(res, "none.gap"))
    comps = [_decide("gap (training − test accuracy), no regularisation", iv, key="overfitting: gap, no regularisation",
                     direction="above", threshold=OVERFIT_GAP, threshold_name="OVERFIT_GAP", covers=f"{iv['n']} seeds",
                     drift=drift)]
    mean = lambda k: stats.t_interval(_seeds(res, f"none.{k}")).estimate
    evidence = (f"Without regularisation: training accuracy {mean('train_accuracy'):.3f}, test accuracy "
                f"{mean('test_accuracy'):.3f}, gap {interval_text(comps[0])}.")
    return _verdict(GENERAL, comps, evidence, "overfitting", _overfitting_scope(res),
                    "A GRU of this size that generalises from this little data.", thresholds=["OVERFIT_GAP"])


def _overfitting_scope(res):
    p = res["parameters"]
    return (f"A {p['units']}-unit GRU ({res['metrics']['params']:,} parameters) on {p['train_size']} digit images "
            f"read row by row, {p['epochs']} epochs; strengths chosen on {p['validation_size']} validation images; "
            f"{_n_seeds(res)}; {_hardware(res)}.")


def regularisation_helps(r, drift=None):
    """Regularisation reduces a GRU's overfitting (the article's proposed remedy).

    An existence claim over regimes ("regularisation", some regime): for each regime, at the
    strength chosen on the validation split and paired by seed against no regularisation, the
    gap's reduction (Student-t 95 % interval) must lie above GAP_REDUCTION. Supported if some
    regime's reduction holds without a test accuracy that is lower beyond the parity margin;
    partly if the regimes whose reduction holds all cost test accuracy; not supported if every
    reduction fails; inconclusive otherwise.
    """
    res = r["overfitting"]
    page = page_comparisons("overfitting", res, drift)
    comps, costs, costs_decided = [], {}, []
    for regime in (k for k in res["parameters"]["regimes"] if k != "none"):
        c = page[f"{regime}: gap reduction"]
        iv = stats.Interval(c["estimate"], c["low"], c["high"], c["n"])
        c = _decide(f"{regime.replace('_', ' ')}: gap reduction", iv, key=c["key"], direction="above",
                    threshold=GAP_REDUCTION, threshold_name="GAP_REDUCTION", covers=c["covers"], drift=drift)
        test = page[f"{regime}: test accuracy change"]
        cost = _decide(f"{regime.replace('_', ' ')}: test accuracy change", stats.Interval(
            test["estimate"], test["low"], test["high"], test["n"]), key=test["key"], direction="below",
            threshold=-PARITY_MARGIN, threshold_name="PARITY_MARGIN", covers=test["covers"], drift=drift)
        c["test_change"] = {"estimate": test["estimate"], "low": test["low"], "high": test["high"]}
        costs[regime] = cost.outcome == HOLDS             # test accuracy lower by more than the parity margin
        comps.append(c)
        costs_decided.append(cost)
    regimes = [k for k in res["parameters"]["regimes"] if k != "none"]
    helping = [regime for c, regime in zip(comps, regimes) if c["outcome"] == HOLDS]   # the gap reductions
    if any(not costs[regime] for regime in helping):
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
    return _verdict(EXISTENCE, comps + costs_decided, evidence, "overfitting", _overfitting_scope(res),
                    "Other strengths or data sizes; a regime whose interval moves across the threshold with more "
                    "seeds.", thresholds=["GAP_REDUCTION", "PARITY_MARGIN"], verdict=verdict,
                    combination="an existence claim over remedies: supported when some remedy's gap reduction holds "
                                "without lowering test accuracy by more than the parity margin (that cost is the "
                                "comparison “test accuracy change < −0.02”); partly supported when every remedy "
                                "that helps costs accuracy; not supported when every reduction fails; otherwise "
                                "inconclusive")


def example_runs(r, drift=None):
    """The article's Keras example builds and trains a GRU classifier on sequence data.

    A general claim. First, the code must run as printed; if it raises, the claim is not
    supported. If it runs, the data must behave as sequences: a GRU reading the same features in
    a shuffled order minus the GRU (paired by seed, Student-t 95 % interval) must lie below 0.
    """
    res = r["seed_example"]
    error = res["data"]["original_error"]
    ran = error.startswith("no error")
    comps = [_exact("runs as printed (1 yes, 0 no)", float(ran), key="seed_example: runs as printed",
                    direction="above", threshold=0.5, fmt=".0f")]
    page = page_comparisons("seed_example", res, drift)
    order = page["GRU_shuffled_order − GRU"]
    if ran:
        comps.append(_redirect(order, "below", drift))
    mean = lambda k: stats.t_interval(_seeds(res, k)).estimate
    evidence = ((f"As printed it raises {error}. " if not ran else "It runs as printed. ")
                + f"Fixed, the GRU reaches {mean('GRU.test_accuracy'):.3f} test accuracy and "
                f"{mean('GRU_shuffled_order.test_accuracy'):.3f} with its steps shuffled "
                f"(shuffled − GRU {interval_text(order)}); logistic regression "
                f"{mean('logistic_regression.test_accuracy'):.3f}"
                + {HOLDS: ": a random order of the features serves the GRU better than the given one, so the data do "
                          "not behave as sequences.",
                   FAILS: ": the GRU does better with the features in their given order.",
                   UNDECIDED: "; whether the order matters, these seeds cannot tell."}[order.outcome])
    return _verdict(GENERAL, comps, evidence, "seed_example",
                    f"The article's synthetic data (scikit-learn make_classification), {_n_seeds(res)}.",
                    "Code that runs as printed, on data whose order carries information.")


# (claim as the article makes it, paraphrased; the function that judges it)
CLAIMS = [
    ("GRUs capture long-term dependencies that plain RNNs miss.", long_term_dependencies),
    ("The LSTM effectively solves the long-term dependency problem.", lstm_solves_long_term_dependencies),
    ("Plain RNNs' gradients vanish over long sequences.", vanishing_gradients_in_rnns),
    ("Plain RNNs' gradients can explode.", exploding_gradients_in_rnns),
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


def audit(results_by_experiment: dict, drift=None) -> list[dict]:
    """One row per claim: claim, name (of the judging function), rule (its docstring) and the
    ``Verdict`` fields. ``drift``: a :class:`grubook.verdicts.drift.Drift` (default: the drift
    measured for the committed results)."""
    import inspect

    rows = []
    for claim, judge in CLAIMS:
        rule = inspect.getdoc(judge).split("\n\n", 1)[-1]       # the docstring after its one-line claim
        rows.append({"claim": claim, "name": judge.__name__, "rule": rule} | judge(results_by_experiment, drift))
    return rows


def experiments_behind(rows: list[dict]) -> list[str]:
    """The experiments whose results decide at least one comparison of the audit (the prefix of
    each comparison's key), in the book's order."""
    from .. import experiments

    used = {c["key"].split(":")[0] for row in rows for c in row["comparisons"]}
    return [name for name in experiments.NAMES if name in used]
