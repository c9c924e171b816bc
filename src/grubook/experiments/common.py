"""What several experiments share: the data their classifier jobs train on, the classifier and
baseline jobs themselves, and the relative cost of a training step that placement balances on."""

from __future__ import annotations

import functools

from ..data import tasks
from ..training import loop, models, runs

__all__ = ["STEP_COST", "make_split", "classifier_job", "baselines_job"]

# Relative cost of one training step per time step and cell at the experiments' small sizes
# (measured on the 2-core machine: per-step overhead dominates, so the three cells cost about the
# same). Only where jobs are placed depends on these, never a result.
STEP_COST = {"SimpleRNN": 1.0, "GRU": 0.9, "LSTM": 1.0}


@functools.lru_cache(maxsize=8)
def _split(spec: tuple) -> tasks.Split:
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


def make_split(spec) -> tasks.Split:
    """The data a job trains on, from a plain description (cached per worker):

    ``["seed_example", validation_fraction, permutation_seed or None]``,
    ``["digits" | "italy_power_demand", validation_fraction]`` (digits read pixel by pixel),
    ``["digits_rows_subset", train_size, validation_size]`` (digits row by row, a small subset).
    """
    return _split(tuple(spec))


def classifier_job(cell: str, data: list, seed: int, *, fit: dict, keep_history: bool = False) -> dict:
    """One classifier training run (``runs.classifier_run``) on ``make_split(data)``.

    ``test_correct`` holds one character per test item, "1" where the model's answer is right,
    so that comparisons can cover the test set's sampling as well as the seeds'."""
    split = make_split(data)
    units = fit.get("units") or models.units_for_budget(cell, fit["param_budget"], split.features)
    args = {k: v for k, v in fit.items() if k != "param_budget"} | {"units": units}
    run = runs.classifier_run(cell, split, seed, **args)
    out = {k: run[k] for k in ("train_accuracy", "validation_accuracy", "test_accuracy", "epochs_run", "params")}
    out["test_correct"] = "".join("1" if right else "0" for right in loop.correct(run["model"], split.x_test, split.y_test))
    out["sizes"] = {"train": len(split.x_train), "validation": len(split.x_val), "test": len(split.x_test),
                    "steps": split.time}
    if keep_history:
        out["history"] = run["history"]
    return out


def baselines_job(data: list, seed: int) -> dict:
    """Logistic regression and an MLP on the flattened sequences (``runs.sklearn_baselines``)."""
    return runs.sklearn_baselines(make_split(data), seed)
