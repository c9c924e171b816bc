"""The units of work of every experiment: what to run (``plan``) and one run (the ``*_unit`` functions).

``plan(experiment, parameters)`` lists an experiment's units, one training run (or one timed
configuration) each, so the notebook that fans them out and the runner's progress bar agree on
the count. Each ``*_unit`` function runs on a Dask worker: it builds its own data and model from
its arguments, seeds itself, and returns plain numbers and arrays, never a model.
"""

from __future__ import annotations

import functools

import numpy as np

from . import analysis, models, runs, tasks, training
from .parallel import Unit

__all__ = ["plan", "adding_unit", "classifier_unit", "baselines_unit", "timing_unit", "make_split"]

# Compiled adding-problem models, per worker process, reused across seeds: a reused model starts
# from exactly the state of a new one (tests/test_determinism.py), so placement cannot change a number.
_COMPILED: dict = {}


@functools.lru_cache(maxsize=8)
def make_split(spec: tuple) -> tasks.Split:
    """The data a unit trains on, from a hashable description (cached per worker):

    ``("seed_example", validation_fraction, permutation_seed or None)``,
    ``("digits" | "italy_power_demand", validation_fraction)`` (digits read pixel by pixel),
    ``("digits_rows_subset", train_size, validation_size)`` (digits row by row, a small subset).
    """
    kind = spec[0]
    if kind == "seed_example":
        split = tasks.with_validation(tasks.seed_example_split(), spec[1])
        return split if spec[2] is None else tasks.permute_time(split, seed=spec[2])
    if kind == "digits":
        return tasks.with_validation(tasks.digits_split(mode="pixels"), spec[1])
    if kind == "italy_power_demand":
        return tasks.with_validation(tasks.italy_power_demand_split(), spec[1])
    if kind == "digits_rows_subset":
        return tasks.subsample(tasks.digits_split(mode="rows"), spec[1], seed=0, n_validation=spec[2])
    raise ValueError(f"unknown data spec {spec!r}")


def adding_unit(cell: str, T: int, seed: int, *, run_args: dict, analyse: bool,
                initial_gradients: bool) -> dict:
    """One adding-problem training run (``runs.adding_run``); with ``analyse``, also the gradient
    reaching each step after training and, for the GRU, its gate statistics."""
    run = runs.adding_run(cell, T, seed, compiled=_COMPILED, **run_args)
    key = f"{cell}.T{T}"
    metrics = {f"{key}.test_mse": run["test_mse"], f"{key}.steps_to_threshold": run["steps_to_threshold"],
               f"{key}.solved": float(run["steps_to_threshold"] is not None)}
    out = {"metrics": metrics, "curve": {k: run["curve"][k] for k in ("steps", "test_mse")},
           "size": {"units": run["units"], "params": run["params"]}}
    if not analyse:
        return out
    x, y = run["x_test"][:64], run["y_test"][:64]            # gradient flow on the first 64 test sequences
    norms = analysis.state_gradient_norms(run["model"], x, y)
    metrics[f"{cell}.log10_grad_ratio_first_last"] = analysis.log10_ratio_first_last(norms)
    if initial_gradients:
        training.seed_everything(seed)
        untrained = models.build(cell, run["units"], time=T, features=2, outputs=1, head="linear", seed=seed)
        out["gradient_norms"] = {"trained": norms, "initial": analysis.state_gradient_norms(untrained, x, y)}
    if cell == "GRU":
        gates = analysis.gate_traces(run["model"], run["x_test"])
        marked = run["x_test"][:, :, 1] == 1
        z_mean = gates["z"].mean(axis=2)                       # (n, T): mean over units
        metrics["GRU.z_at_markers"] = float(z_mean[marked].mean())
        metrics["GRU.z_elsewhere"] = float(z_mean[~marked].mean())
        out["gates"] = {"z_mean": z_mean[:3], "r_mean": gates["r"].mean(axis=2)[:3],
                        "markers": run["x_test"][:3, :, 1], "values": run["x_test"][:3, :, 0]}
    return out


def classifier_unit(cell: str, data: tuple, seed: int, *, fit: dict, keep_history: bool = False) -> dict:
    """One classifier training run (``runs.classifier_run``) on ``make_split(data)``."""
    split = make_split(data)
    units = fit.get("units") or models.units_for_budget(cell, fit["param_budget"], split.features)
    args = {k: v for k, v in fit.items() if k != "param_budget"} | {"units": units}
    run = runs.classifier_run(cell, split, seed, **args)
    out = {k: run[k] for k in ("train_accuracy", "validation_accuracy", "test_accuracy", "epochs_run", "params")}
    out["sizes"] = {"train": len(split.x_train), "validation": len(split.x_val), "test": len(split.x_test),
                    "steps": split.time}
    if keep_history:
        out["history"] = run["history"]
    return out


def baselines_unit(data: tuple, seed: int) -> dict:
    """Logistic regression and an MLP on the flattened sequences (``runs.sklearn_baselines``)."""
    return runs.sklearn_baselines(make_split(data), seed)


def timing_unit(cells: list, T: int, units: int, *, jit_compile: bool, batch_size: int, repeats: int,
                seed: int) -> dict:
    """Median training-step and inference times of every cell in one configuration, timed in turns
    in one process (``runs.time_cells``), and the device they ran on."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    device = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU") if gpus else "CPU"
    times = runs.time_cells(cells, T, units, batch_size=batch_size, repeats=repeats, jit_compile=jit_compile,
                            seed=seed)
    return {"device": device, "cells": times}


# --------------------------------------------------------------------------- plans


def _long_range(P):
    run_args = {k: P[k] for k in ("param_budget", "steps", "batch_size", "learning_rate", "clipnorm",
                                  "eval_every", "threshold", "test_size")}
    # Runs of one (cell, length) share a compiled model on the worker that runs them (_COMPILED).
    return [Unit(f"{cell}/T{T}/seed{seed}", adding_unit,
                 {"cell": cell, "T": T, "seed": seed, "run_args": run_args, "analyse": T == P["analysis_length"],
                  "initial_gradients": seed == P["seeds"][0]},
                 affinity=f"{cell}/T{T}", cost=T * P["steps"])
            for seed in P["seeds"] for T in P["lengths"] for cell in P["cells"]]


def _seed_example(P):
    fit = {"units": P["units"], "epochs": P["epochs"], "batch_size": P["batch_size"],
           "learning_rate": P["learning_rate"], "regime": "early_stopping", "patience": P["patience"],
           "validation": "split"}
    data = ("seed_example", P["validation_fraction"], None)
    out = []
    for seed in P["seeds"]:
        out += [Unit(f"{cell}/seed{seed}", classifier_unit, {"cell": cell, "data": data, "seed": seed, "fit": fit})
                for cell in P["cells"]]
        out += [Unit(f"GRU_shuffled{k}/seed{seed}", classifier_unit,
                     {"cell": "GRU", "data": data[:2] + (100 + k,), "seed": seed, "fit": fit})
                for k in range(P["permutations"])]
        out.append(Unit(f"baselines/seed{seed}", baselines_unit, {"data": data, "seed": seed}))
    return out


def _real_sequences(P):
    epochs = {"digits": P["epochs_digits"], "italy_power_demand": P["epochs_italy"]}
    return [Unit(f"{name}/{cell}/seed{seed}", classifier_unit,
                 {"cell": cell, "data": (name, P["validation_fraction"]), "seed": seed,
                  "fit": {"param_budget": P["param_budget"], "epochs": epochs[name], "batch_size": P["batch_size"],
                          "learning_rate": P["learning_rate"], "regime": "early_stopping",
                          "patience": P["patience"], "validation": "split"}})
            for seed in P["seeds"] for name in P["datasets"] for cell in P["cells"]]


def _overfitting(P):
    data = ("digits_rows_subset", P["train_size"], P["validation_size"])
    return [Unit(f"{regime}/seed{seed}", classifier_unit,
                 {"cell": "GRU", "data": data, "seed": seed, "keep_history": seed == P["seeds"][0],
                  "fit": {"units": P["units"], "epochs": P["epochs"], "batch_size": P["batch_size"],
                          "learning_rate": P["learning_rate"], "regime": regime, "dropout": P["dropout"],
                          "weight_decay": P["weight_decay"], "patience": P["patience"], "validation": "split"}})
            for seed in P["seeds"] for regime in P["regimes"]]


def _efficiency(P):
    # One unit per configuration times all cells in turns in one process, and runs alone
    # (exclusive): a step timed while another unit shares the CPU is noise.
    return [Unit(f"{mode}/T{T}/u{n}", timing_unit,
                 {"cells": list(P["cells"]), "T": T, "units": n, "jit_compile": jit, "batch_size": P["batch_size"],
                  "repeats": P["repeats"], "seed": P["seeds"][0]}, exclusive=True)
            for mode, jit in (("default", False), ("compiled", True))
            for T in P["lengths"] for n in P["units"]]


PLANS = {"seed_example": _seed_example, "long_range": _long_range, "real_sequences": _real_sequences,
         "efficiency": _efficiency, "overfitting": _overfitting}


def plan(experiment: str, parameters: dict) -> list[Unit]:
    """The units of one experiment with validated ``parameters`` (``params.collect``)."""
    if experiment not in PLANS:
        raise KeyError(f"no unit plan for experiment {experiment!r}")
    return PLANS[experiment](parameters)
