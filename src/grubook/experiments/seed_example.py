"""The article's Keras example, made to run: its GRU against an LSTM, a simple RNN, logistic
regression and an MLP, and a control that shuffles the order of the 20 "time steps"."""

from __future__ import annotations

from ..gru.reference import count_params
from ..jobs.run import Job
from ..training import article_example
from . import common
from .spec import (BATCH, CELLS, EPOCHS, PATIENCE, SEEDS, UNITS, Assembly, Parameter, int_at_least, number_in)

PARAMETERS = {
    "seeds": Parameter([0, 1, 2, 3, 4], SEEDS, quick=[0]),
    "cells": Parameter(["SimpleRNN", "LSTM", "GRU"], CELLS),
    "units": Parameter(20, UNITS, note="the article's GRU(20)"),
    "epochs": Parameter(100, EPOCHS, quick=3, note="at most the article's 100 epochs (early stopping on validation loss)"),
    "patience": Parameter(10, PATIENCE, note="epochs without a lower validation loss before stopping"),
    "validation_fraction": Parameter(0.2, number_in(0, 1, low_open=True, high_open=True),
                                     note="share of the training samples held out for validation"),
    "batch_size": Parameter(32, BATCH),
    "learning_rate": Parameter(0.001, number_in(0, 1, low_open=True), note="Keras' Adam default, as in the article"),
    "permutations": Parameter(1, int_at_least(1, 1000), quick=1,
                              note="shuffled feature orders per seed for the order control"),
}


def cross_check(P):
    if "GRU" not in P["cells"]:
        return "cells", P["cells"], "a list that includes 'GRU' (the order control and the findings compare with it)"
    return None


def plan(P):
    fit = {"units": P["units"], "epochs": P["epochs"], "batch_size": P["batch_size"],
           "learning_rate": P["learning_rate"], "regime": "early_stopping", "patience": P["patience"],
           "validation": "split"}
    data = ["seed_example", P["validation_fraction"], None]
    jobs = []
    for seed in P["seeds"]:
        jobs += [Job(f"{cell}/seed{seed}", common.classifier_job, {"cell": cell, "data": data, "seed": seed, "fit": fit})
                 for cell in P["cells"]]
        jobs += [Job(f"GRU_shuffled{k}/seed{seed}", common.classifier_job,
                     {"cell": "GRU", "data": data[:2] + [100 + k], "seed": seed, "fit": fit})
                 for k in range(P["permutations"])]
        jobs.append(Job(f"baselines/seed{seed}", common.baselines_job, {"data": data, "seed": seed}))
    return jobs


SCHEMA = {"train_accuracy": "{model}.train_accuracy", "test_accuracy": "{model}.test_accuracy",
          "epochs_run": "{model}.epochs_run", "params": "{cell}.params", "train_samples": "train_samples",
          "validation_samples": "validation_samples", "test_samples": "test_samples"}
SHUFFLED = "GRU_shuffled_order"            # the model name of the order control
BASELINES = ("logistic_regression", "mlp")

TOLERANCES = {"train_accuracy": {"abs": 0.03}, "test_accuracy": {"abs": 0.03}, "epochs_run": {"rel": 0.5},
              "params": {"abs": 0}, "train_samples": {"abs": 0}, "validation_samples": {"abs": 0},
              "test_samples": {"abs": 0}}


def assemble(done, P) -> Assembly:
    import numpy as np

    out = Assembly(SCHEMA, P["seeds"])
    for seed in P["seeds"]:
        for cell in P["cells"]:
            run = done[f"{cell}/seed{seed}"]
            for quantity in ("train_accuracy", "test_accuracy", "epochs_run"):
                out.seed(seed, quantity, run[quantity], model=cell)
        shuffled = [done[f"GRU_shuffled{k}/seed{seed}"]["test_accuracy"] for k in range(P["permutations"])]
        out.seed(seed, "test_accuracy", float(np.mean(shuffled)), model=SHUFFLED)
        for name, accuracy in done[f"baselines/seed{seed}"].items():
            out.seed(seed, "test_accuracy", accuracy, model=name)
    for cell in P["cells"]:
        out.metric("params", count_params(cell, P["units"], 1), cell=cell)
    sizes = done[f"{P['cells'][0]}/seed{P['seeds'][0]}"]["sizes"]
    for part in ("train", "validation", "test"):
        out.metric(f"{part}_samples", sizes[part])
    out.data["original_error"] = article_example.run_original_example()
    return out


def comparisons(res, drift=None) -> dict:
    """The comparisons this page draws (and the claims audit reuses), by short name ("logistic_regression − GRU")."""
    from ..verdicts import stats
    from ..verdicts.decide import decide

    out = {}
    for model in ("logistic_regression", SHUFFLED, "mlp"):
        iv = stats.paired_difference(res.per_seed("test_accuracy", model=model), res.per_seed("test_accuracy", model="GRU"))
        out[f"{model} − GRU"] = decide(f"test accuracy {model.replace('_', ' ')} − GRU", iv,
                                       key=f"seed_example: test accuracy {model} − GRU", direction="above",
                                       covers=f"{iv['n']} seeds", drift=drift)
    # Does the GRU even fit its training data as well as an order-blind MLP generalises? Paired by seed.
    iv = stats.paired_difference(res.per_seed("train_accuracy", model="GRU"), res.per_seed("test_accuracy", model="mlp"))
    out["GRU train − mlp test"] = decide("GRU training accuracy − MLP test accuracy", iv,
                                         key="seed_example: GRU training accuracy − MLP test accuracy",
                                         direction="below", covers=f"{iv['n']} seeds", drift=drift)
    return out


def findings(res, drift=None) -> str:
    error = res.data["original_error"]
    decided = comparisons(res, drift)
    lr_d, sh_d = decided["logistic_regression − GRU"], decided[f"{SHUFFLED} − GRU"]
    fit = decided["GRU train − mlp test"]
    return (f"**Findings.** As printed, the article's code raises `{error}`. Fixed, the GRU reaches "
            f"{res.mean('test_accuracy', model='GRU'):.3f} test accuracy (mean over {len(res.seeds)} seeds). Logistic "
            f"regression, which ignores order, is {lr_d.relation()} it ({lr_d.interval()}, paired 95 % interval over "
            f"seeds), and the GRU reading the 20 features in a shuffled order is {sh_d.relation()} it "
            f"({sh_d.interval()}). The GRU's training accuracy, {res.mean('train_accuracy', model='GRU'):.3f}, is "
            f"{fit.relation()} the MLP's test accuracy ({fit.interval()})"
            + (": the GRU underfits these data. " if fit.outcome == "holds" else ". ")
            + "The 20 columns are features without an order, and models that ignore order are the right tools for them.")
