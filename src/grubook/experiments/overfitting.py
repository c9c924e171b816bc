"""Overfitting: a GRU on 200 digit images, without regularisation and with dropout, recurrent
dropout, weight decay or early stopping, each at the strength a validation sweep chose."""

from __future__ import annotations

from ..jobs.run import Job
from . import common
from .spec import BATCH, EPOCHS, PATIENCE, SEEDS, UNITS, Assembly, Parameter, int_at_least, list_of, number_in, subset_of

REGIMES = ("none", "dropout", "recurrent_dropout", "weight_decay", "early_stopping")

PARAMETERS = {
    "seeds": Parameter([0, 1, 2, 3, 4], SEEDS, quick=[0]),
    "regimes": Parameter(list(REGIMES), subset_of(REGIMES), quick=["none", "dropout"]),
    "train_size": Parameter(200, int_at_least(10, 10**6), note="training images (a stratified subset of the digits training split)"),
    "validation_size": Parameter(300, int_at_least(10, 10**6), note="further training images, used only for validation"),
    "units": Parameter(64, UNITS),
    "epochs": Parameter(40, EPOCHS, quick=3),
    "batch_size": Parameter(32, BATCH),
    "learning_rate": Parameter(0.003, number_in(0, 1, low_open=True)),
    "dropout_rates": Parameter([0.2, 0.5], list_of(number_in(0, 1, low_open=True, high_open=True), max_len=20), quick=[0.5],
                               note="candidates for the dropout and recurrent_dropout regimes"),
    "weight_decays": Parameter([0.005, 0.05, 0.5, 5.0], list_of(number_in(0, 1000, low_open=True), max_len=20),
                               note="candidates for AdamW's decoupled decay (per step: learning_rate × decay)"),
    "sweep_seeds": Parameter([100], SEEDS, quick=[100], note="seeds of the strength sweep, apart from the seeds judged"),
    "patience": Parameter(5, PATIENCE, note="epochs without validation-loss improvement before early stopping"),
}


def cross_check(P):
    if "none" not in P["regimes"]:
        return "regimes", P["regimes"], "a list that includes 'none' (every regime is compared with it)"
    return None


def strengths(P) -> dict[str, list]:
    """The candidate strengths of every regime that has one: the sweep's grid."""
    grid = {"dropout": P["dropout_rates"], "recurrent_dropout": P["dropout_rates"], "weight_decay": P["weight_decays"]}
    return {regime: list(grid[regime]) for regime in P["regimes"] if regime in grid}


def _job(P, regime, seed, strength, name, keep_history=False):
    strength = strength if strength is not None else 0.0
    return Job(name, common.classifier_job,
               {"cell": "GRU", "data": ["digits_rows_subset", P["train_size"], P["validation_size"]], "seed": seed,
                "keep_history": keep_history,
                "fit": {"units": P["units"], "epochs": P["epochs"], "batch_size": P["batch_size"],
                        "learning_rate": P["learning_rate"], "regime": regime,
                        "dropout": strength if regime in ("dropout", "recurrent_dropout") else 0.0,
                        "weight_decay": strength if regime == "weight_decay" else 0.0,
                        "patience": P["patience"], "validation": "split"}})


def plan(P):
    """Stage one: every candidate strength of every regime, on the sweep seeds, judged by
    validation accuracy only (the test split never chooses)."""
    return [_job(P, regime, seed, strength, f"sweep/{regime}/{strength:g}/seed{seed}")
            for regime, grid in strengths(P).items() for strength in grid for seed in P["sweep_seeds"]]


def chosen_strengths(P, done) -> dict:
    """Each regime's strength with the best mean validation accuracy over the sweep seeds."""
    import numpy as np

    sweep = {regime: {s: float(np.mean([done[f"sweep/{regime}/{s:g}/seed{seed}"]["validation_accuracy"]
                                        for seed in P["sweep_seeds"]])) for s in grid}
             for regime, grid in strengths(P).items()}
    return {regime: max(scores, key=scores.get) for regime, scores in sweep.items()}, sweep


def plan_next(P, done):
    """Stage two, once the sweep is done: every regime at its chosen strength on the experiment's
    seeds (with ``done`` None, each regime's first candidate: only to count jobs)."""
    if done is None:
        chosen = {regime: grid[0] for regime, grid in strengths(P).items()}
    elif any(name.startswith("final/") for name in done):
        return []
    else:
        chosen = chosen_strengths(P, done)[0]
    return [_job(P, regime, seed, chosen.get(regime), f"final/{regime}/seed{seed}", keep_history=seed == P["seeds"][0])
            for seed in P["seeds"] for regime in P["regimes"]]


PER_RUN = ("train_accuracy", "validation_accuracy", "test_accuracy", "gap", "epochs_run", "stopped_early")
SCHEMA = {q: "{regime}." + q for q in PER_RUN} | {
    "params": "params", "train_samples": "train_samples", "validation_samples": "validation_samples",
    "test_samples": "test_samples", "chosen_strength": "{regime}.chosen_strength"}
TOLERANCES = {"train_accuracy": {"abs": 0.04}, "validation_accuracy": {"abs": 0.04}, "test_accuracy": {"abs": 0.04},
              "gap": {"abs": 0.05}, "epochs_run": {"rel": 0.5}, "stopped_early": {"abs": 0.41}} | {
    q: {"abs": 0} for q in ("params", "train_samples", "validation_samples", "test_samples", "chosen_strength")}


def assemble(done, P) -> Assembly:
    out = Assembly(SCHEMA, P["seeds"])
    chosen, sweep = chosen_strengths(P, done)
    histories = {}
    for seed in P["seeds"]:
        for regime in P["regimes"]:
            run = done[f"final/{regime}/seed{seed}"]
            for quantity in ("train_accuracy", "validation_accuracy", "test_accuracy", "epochs_run"):
                out.seed(seed, quantity, run[quantity], regime=regime)
            out.seed(seed, "gap", run["train_accuracy"] - run["test_accuracy"], regime=regime)
            out.seed(seed, "stopped_early", float(run["epochs_run"] < P["epochs"]), regime=regime)
            if seed == P["seeds"][0]:
                histories[regime] = run["history"]
    out.metric("params", run["params"])
    for part in ("train", "validation", "test"):
        out.metric(f"{part}_samples", run["sizes"][part])
    for regime, strength in chosen.items():
        out.metric("chosen_strength", float(strength), regime=regime)
    out.data = {"histories": histories,
                "sweep": {r: {f"{s:g}": v for s, v in scores.items()} for r, scores in sweep.items()}}
    return out


LABELS = {"none": "none", "dropout": "input dropout", "recurrent_dropout": "recurrent dropout",
          "weight_decay": "weight decay (AdamW)", "early_stopping": "early stopping"}


def comparisons(res, drift=None) -> dict:
    """The comparisons this page draws (and the claims audit reuses), by short name
    ("dropout: gap reduction", "dropout: test accuracy change"), each against 0."""
    from ..verdicts import stats
    from ..verdicts.decide import decide

    out = {}
    for r in [r for r in res.parameters["regimes"] if r != "none"]:
        gap = stats.paired_difference(res.per_seed("gap", regime="none"), res.per_seed("gap", regime=r))
        test = stats.paired_difference(res.per_seed("test_accuracy", regime=r), res.per_seed("test_accuracy", regime="none"))
        out[f"{r}: gap reduction"] = decide(f"{LABELS[r]}: gap reduction", gap, key=f"overfitting: {r} gap reduction",
                                            direction="above", covers=f"{gap['n']} seeds", drift=drift)
        out[f"{r}: test accuracy change"] = decide(f"{LABELS[r]}: test accuracy change", test,
                                                   key=f"overfitting: {r} test accuracy change", direction="above",
                                                   covers=f"{test['n']} seeds", drift=drift)
    return out


def findings(res, drift=None) -> str:
    P = res.parameters
    decided = comparisons(res, drift)
    parts = []
    for r in [r for r in P["regimes"] if r != "none"]:
        g, t = decided[f"{r}: gap reduction"], decided[f"{r}: test accuracy change"]
        parts.append(f"{LABELS[r]} shrank it by {g.interval()} and changed test accuracy by {t.interval()}")
    text = (f"**Findings.** Without regularisation the GRU reaches training accuracy "
            f"{res.mean('train_accuracy', regime='none'):.3f} on its {P['train_size']} training images, "
            f"{res.mean('gap', regime='none'):.3f} above its test accuracy. Against that, paired by seed with 95 % "
            "intervals over seeds: " + "; ".join(parts) + ".")
    if "early_stopping" in P["regimes"]:
        text += (f" Early stopping (patience {P['patience']}) ended {res.mean('stopped_early', regime='early_stopping'):.0%} "
                 f"of its runs before the {P['epochs']}-epoch cap.")
    return text + " The strengths were chosen on the validation split: " + ", ".join(
        f"{LABELS[r]} {res.value('chosen_strength', regime=r):g}" for r in P["regimes"] if res.has("chosen_strength", regime=r)) + "."
