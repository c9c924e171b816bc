"""Real sequences: the digits read pixel by pixel and UCR's ItalyPowerDemand, with SimpleRNN,
LSTM and GRU of about the same number of parameters, each trained with early stopping."""

from __future__ import annotations

from ..jobs.run import Job
from . import common
from .published import PUBLISHED
from .spec import BATCH, BUDGET, CELLS, EPOCHS, PATIENCE, SEEDS, Assembly, Parameter, number_in, subset_of

DATASETS = ("digits", "italy_power_demand")
DATASET_NAMES = {"digits": "digits (pixel by pixel)", "italy_power_demand": "ItalyPowerDemand"}

PARAMETERS = {
    "seeds": Parameter([0, 1, 2], SEEDS, quick=[0]),
    "cells": Parameter(["SimpleRNN", "LSTM", "GRU"], CELLS),
    "datasets": Parameter(list(DATASETS), subset_of(DATASETS), quick=["italy_power_demand"]),
    "param_budget": Parameter(3500, BUDGET, note="recurrent-layer parameters per cell"),
    "epochs_digits": Parameter(200, EPOCHS, note="a cap; early stopping on validation loss ends most runs"),
    "epochs_italy": Parameter(200, EPOCHS, quick=3, note="a cap; 67 training series make short epochs"),
    "patience": Parameter(10, PATIENCE),
    "validation_fraction": Parameter(0.2, number_in(0, 1, low_open=True, high_open=True)),
    "batch_size": Parameter(32, BATCH),
    "learning_rate": Parameter(0.005, number_in(0, 1, low_open=True)),
}


def _epochs(P, dataset):
    return {"digits": P["epochs_digits"], "italy_power_demand": P["epochs_italy"]}[dataset]


def plan(P):
    steps_per_epoch = {"digits": 64 * 1200, "italy_power_demand": 24 * 60}     # time steps × training sequences
    return [Job(f"{name}/{cell}/seed{seed}", common.classifier_job,
                {"cell": cell, "data": [name, P["validation_fraction"]], "seed": seed,
                 "fit": {"param_budget": P["param_budget"], "epochs": _epochs(P, name), "batch_size": P["batch_size"],
                         "learning_rate": P["learning_rate"], "regime": "early_stopping",
                         "patience": P["patience"], "validation": "split"}},
                cost=_epochs(P, name) * steps_per_epoch[name] * common.STEP_COST.get(cell, 1.0))
            for seed in P["seeds"] for name in P["datasets"] for cell in P["cells"]]


PER_RUN = ("test_accuracy", "train_accuracy", "epochs_run", "hit_cap")
SCHEMA = {q: "{dataset}.{cell}." + q for q in PER_RUN} | {
    "params": "{dataset}.{cell}.params", "train_samples": "{dataset}.train_samples",
    "validation_samples": "{dataset}.validation_samples", "test_samples": "{dataset}.test_samples",
    "steps": "{dataset}.steps", "published": "{dataset}.published.{method}"}
TOLERANCES = {"epochs_run": {"rel": 0.5}, "hit_cap": {"abs": 0.41}, "test_accuracy": {"abs": 0.04},
              "train_accuracy": {"abs": 0.04}} | {q: {"abs": 0} for q in SCHEMA if q not in PER_RUN}


def assemble(done, P) -> Assembly:
    out = Assembly(SCHEMA, P["seeds"])
    for seed in P["seeds"]:
        for name in P["datasets"]:
            for cell in P["cells"]:
                run = done[f"{name}/{cell}/seed{seed}"]
                for quantity in ("test_accuracy", "train_accuracy", "epochs_run"):
                    out.seed(seed, quantity, run[quantity], dataset=name, cell=cell)
                out.seed(seed, "hit_cap", float(run["epochs_run"] >= _epochs(P, name)), dataset=name, cell=cell)
                out.metric("params", run["params"], dataset=name, cell=cell)
    for name in P["datasets"]:
        sizes = done[f"{name}/{P['cells'][0]}/seed{P['seeds'][0]}"]["sizes"]
        for part in ("train", "validation", "test"):
            out.metric(f"{part}_samples", sizes[part], dataset=name)
        out.metric("steps", sizes["steps"], dataset=name)
    published = {name: PUBLISHED[name] for name in P["datasets"] if name in PUBLISHED}
    for name, entries in published.items():
        for method, entry in entries.items():
            out.metric("published", entry["accuracy"], dataset=name, method=method)
    # Which test items each run got right (one character per item), for intervals over items too.
    correct = {name: {cell: [done[f"{name}/{cell}/seed{seed}"]["test_correct"] for seed in P["seeds"]]
                      for cell in P["cells"]} for name in P["datasets"]}
    out.data = {"published": published, "test_correct": correct}
    return out


def test_correct(res, dataset: str, cell: str):
    """(seeds, test items) array: 1 where the seed's run answered the item right."""
    import numpy as np

    return np.array([[c == "1" for c in run] for run in res.data["test_correct"][dataset][cell]], dtype=float)


def comparisons(res, drift=None) -> dict:
    """The comparisons this page draws (and the claims audit reuses), by short name
    ("digits: GRU − LSTM")."""
    from ..verdicts import stats
    from ..verdicts.decide import decide

    out = {}
    for d in res.parameters["datasets"]:
        for other in [c for c in ("LSTM", "SimpleRNN") if c in res.parameters["cells"]]:
            # Paired by seed and by test item: the interval covers both the training seeds and
            # the draw of the test set.
            iv = stats.seeds_and_items(test_correct(res, d, "GRU"), test_correct(res, d, other))
            out[f"{d}: GRU − {other}"] = decide(f"{d.replace('_', ' ')}: test accuracy GRU − {other}", iv,
                                                key=f"real_sequences: {d} test accuracy GRU − {other}",
                                                direction="above", drift=drift,
                                                covers=f"{iv['n']} seed{'s' if iv['n'] > 1 else ''} × {iv['items']} test items")
    return out


def findings(res, drift=None) -> str:
    P = res.parameters
    decided = comparisons(res, drift)
    parts, ahead = [], []
    for d in P["datasets"]:
        words = []
        for other in [c for c in ("LSTM", "SimpleRNN") if f"{d}: GRU − {c}" in decided]:
            c = decided[f"{d}: GRU − {other}"]
            words.append(f"{c.relation()} the {'simple RNN' if other == 'SimpleRNN' else other} ({c.interval()})")
            if other == "SimpleRNN" and c.outcome == "holds":
                ahead.append(DATASET_NAMES.get(d, d))
        parts.append(f"on {DATASET_NAMES.get(d, d)} the GRU is " + " and ".join(words))
    capped = [v for d in P["datasets"] for c in P["cells"] for v in res.per_seed("hit_cap", dataset=d, cell=c)]
    return ("**Findings.** Differences in test accuracy, paired by seed and test item, with 95 % intervals "
            "that cover both the seeds and the sampling of the test items: "
            + "; ".join(parts) + f". Early stopping ended {len(capped) - sum(capped):.0f} of {len(capped)} runs; the "
            "epoch cap ended the rest. The GRU is clearly ahead of the simple RNN (interval above 0) on "
            + (", ".join(ahead) or "neither data set") + ".")
