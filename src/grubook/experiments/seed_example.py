"""The article's Keras example, made to run: its GRU against an LSTM, a simple RNN, logistic
regression and an MLP, and a control that reads the 20 "time steps" in shuffled orders, each
training seed its own (why some orders serve the GRU better: ``seed_example_order``)."""

from __future__ import annotations

from ..data import tasks
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
    "permutations": Parameter(2, int_at_least(1, 1000), quick=1,
                              note="shuffled orders per seed, each seed its own: 2 × 5 seeds = 10 orders"),
}
# Why 2: the control asks how the GRU fares over random orders, so it needs many orders, not many
# runs of one; each order is one more GRU run (10-30 s on 2 cores, and the reproduction is over
# its time budget). 10 orders show whether the given order's result is common among orders, and
# a rank correlation over 10 runs detects a strong relation (|rho| of about 0.7), not a weak one.


def permutation_seed(seed: int, k: int) -> int:
    """The seed of training seed ``seed``'s k-th shuffled order (``tasks.time_order``): distinct for
    every (seed, k) with k < 1000; seed 0's first order is the one the control used before (100)."""
    return 100 + 1000 * seed + k


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
                     {"cell": "GRU", "data": data[:2] + [permutation_seed(seed, k)], "seed": seed, "fit": fit})
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
        # The control's per-seed value: the mean over that seed's orders, paired with its GRU.
        shuffled = [done[f"GRU_shuffled{k}/seed{seed}"] for k in range(P["permutations"])]
        for quantity in ("train_accuracy", "test_accuracy", "epochs_run"):
            out.seed(seed, quantity, float(np.mean([run[quantity] for run in shuffled])), model=SHUFFLED)
        for k, run in enumerate(shuffled):
            order = tasks.time_order(run["sizes"]["steps"], permutation_seed(seed, k))
            out.data.setdefault("order_control", []).append(
                {"seed": seed, "k": k, "permutation_seed": permutation_seed(seed, k), "order": order.tolist()}
                | {quantity: run[quantity] for quantity in ("train_accuracy", "test_accuracy", "epochs_run")})
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
    from .seed_example_order import analysis

    # Does the order change how well the GRU fits its training data? Paired by seed.
    iv = stats.paired_difference(res.per_seed("train_accuracy", model=SHUFFLED),
                                 res.per_seed("train_accuracy", model="GRU"))
    out[f"{SHUFFLED} train − GRU train"] = decide(
        f"training accuracy {SHUFFLED.replace('_', ' ')} − GRU", iv,
        key=f"seed_example: training accuracy {SHUFFLED} − GRU", direction="above", covers=f"{iv['n']} seeds",
        drift=drift)
    # Do the shuffled runs rank by what their last steps read?
    found = analysis(res)
    out["order: rank correlation"] = decide(
        ORDER_LABEL, found["rho"], key=f"seed_example: {ORDER_LABEL}", direction="above",
        covers=f"{found['runs']} permutations × seeds", drift=drift)
    return out


ORDER_LABEL = "rank correlation of shuffled-order test accuracy with the last steps' predictive share"


def findings(res, drift=None) -> str:
    error = res.data["original_error"]
    decided = comparisons(res, drift)
    lr_d, sh_d = decided["logistic_regression − GRU"], decided[f"{SHUFFLED} − GRU"]
    fit = decided["GRU train − mlp test"]
    return (f"**Findings.** As printed, the article's code raises `{error}`. Fixed, the GRU reaches "
            f"{res.mean('test_accuracy', model='GRU'):.3f} test accuracy (mean over {len(res.seeds)} seeds). Logistic "
            f"regression, which ignores order, is {lr_d.relation()} it ({lr_d.interval()}, paired 95 % interval over "
            f"seeds), and the GRU reading the 20 features in shuffled orders ({_orders(res)}) is {sh_d.relation()} it "
            f"({sh_d.interval()}). The GRU's training accuracy, {res.mean('train_accuracy', model='GRU'):.3f}, is "
            f"{fit.relation()} the MLP's test accuracy ({fit.interval()})"
            + (": the GRU underfits these data. " if fit.outcome == "holds" else ". ")
            + "The 20 columns are features without an order, and models that ignore order are the right tools for them.")


def _orders(res) -> str:
    """"10 orders, each seed its own, a seed's value the mean over its 2"."""
    runs = res.data["order_control"]
    per_seed = res.parameters["permutations"]
    return (f"{len(runs)} order{'s' if len(runs) > 1 else ''}, each seed its own"
            + (f", a seed's value the mean over its {per_seed}" if per_seed > 1 else ""))


def order_findings(res, drift=None) -> str:
    """The paragraph on why the shuffled orders and the given one differ, from
    ``seed_example_order.analysis`` and this page's decisions."""
    from .seed_example_order import LAST_STEPS, analysis

    found, decided = analysis(res), comparisons(res, drift)
    rho, train = decided["order: rank correlation"], decided[f"{SHUFFLED} train − GRU train"]
    gap = decided[f"{SHUFFLED} − GRU"]
    accuracy, given = found["accuracy"], found["given_accuracy"]
    in_given_range = sum(min(given) <= a <= max(given) for a in accuracy)
    text = (f"**What the data say.** The given order's last {LAST_STEPS} steps carry {found['given_share']:.0%} of the "
            f"columns' predictive weight; {found['given_rank']:.0%} of all orders put less weight there. Over the "
            f"{found['runs']} shuffled runs (orders × seeds), the rank correlation of test accuracy with that share is "
            f"{rho.relation()} 0 ({rho.interval()}, 95 % interval)")
    text += {"holds": ": the more predictive weight an order reads last, the better the GRU scores, as a state that "
                      "holds its last steps best would make it. ",
             "fails": ": the runs rank the other way round, so what the last steps read does not explain the gap. ",
             "undecided": ": these runs do not show that what an order's last steps read explains the gap (the "
                          "table below gives the same correlation for other counts of last steps and for the mean "
                          "position). "}[rho.outcome]
    text += (f"What the runs do show is the spread over orders: the shuffled runs' test accuracies run from "
             f"{min(accuracy):.3f} to {max(accuracy):.3f}, and {in_given_range} of them "
             f"{'lies' if in_given_range == 1 else 'lie'} in the range of the given order's runs ({min(given):.3f} "
             f"to {max(given):.3f}). The shuffled runs' training accuracy is {train.relation()} the given order's ({train.interval()}, paired by seed)")
    text += {"holds": ": on the given order the GRU already fits its training data less well, so the order "
                      "hampers its training, not only how it generalises. ",
             "fails": ". ", "undecided": ". "}[train.outcome]
    if gap.outcome == "undecided":
        return text + "Whether the order changes the GRU's test accuracy at all, these seeds cannot tell."
    return text + ("The order in which this small GRU reads these features changes how well it trains, but no "
                   "order is the right one: the features have none.")
