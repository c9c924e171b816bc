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

__all__ = ["plan", "adding_unit", "chrono_unit", "article_layer_unit", "seq2seq_unit", "char_lm_unit", "ngram_unit", "forecast_gru_unit", "forecast_baselines_unit", "explosion_unit", "overfitting_sweep", "overfitting_final", "overfitting_strengths",
           "counting_unit", "classifier_unit", "baselines_unit", "timing_unit", "make_split"]

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


def adding_unit(cell: str, T: int, seed: int, *, run_args: dict, gradient_sequences: int,
                keep_details: bool) -> dict:
    """One adding-problem run (``runs.adding_run``), trained until solved or until the step cap.

    Also measures how many decades the gradient loses between the last step and the first
    (``analysis.log10_ratio_first_last``), on the first ``gradient_sequences`` test sequences, for
    the untrained model (the same initial weights) and the trained one. With ``keep_details``, it
    returns both gradient curves and, for the GRU, its gates on three test sequences.
    """
    run = runs.adding_run(cell, T, seed, compiled=_COMPILED, until_solved=True, **run_args)
    key = f"{cell}.T{T}"
    solved = run["steps_to_threshold"] is not None
    x, y = run["x_test"][:gradient_sequences], run["y_test"][:gradient_sequences]
    trained = analysis.state_gradient_norms(run["model"], x, y)
    training.seed_everything(seed)
    untrained = models.build(cell, run["units"], time=T, features=2, outputs=1, head="linear", seed=seed)
    initial = analysis.state_gradient_norms(untrained, x, y)
    metrics = {f"{key}.solved": float(solved),
               # steps and seconds to solve, censored at the cap (and at the seconds the cap took)
               f"{key}.steps_to_solve": run["steps_run"],
               f"{key}.seconds_to_solve": run["train_seconds"],
               f"{key}.test_mse": run["test_mse"],
               f"{key}.log10_grad_ratio": analysis.log10_ratio_first_last(trained),
               f"{key}.log10_grad_ratio_initial": analysis.log10_ratio_first_last(initial)}
    out = {"metrics": metrics, "curve": {k: run["curve"][k] for k in ("steps", "test_mse")},
           "size": {"units": run["units"], "params": run["params"]}}
    if keep_details:
        out["gradient_norms"] = {"trained": trained, "initial": initial}
        if cell == "GRU":
            gates = analysis.gate_traces(run["model"], run["x_test"])
            marked = run["x_test"][:, :, 1] == 1
            z_mean = gates["z"].mean(axis=2)                   # (n, T): mean over units
            metrics["GRU.z_at_markers"] = float(z_mean[marked].mean())
            metrics["GRU.z_elsewhere"] = float(z_mean[~marked].mean())
            out["gates"] = {"z": gates["z"][0], "r": gates["r"][0], "z_mean": z_mean[:3],
                            "r_mean": gates["r"].mean(axis=2)[:3],
                            "markers": run["x_test"][:3, :, 1], "values": run["x_test"][:3, :, 0]}
    return out


def chrono_unit(init: str, T: int, seed: int, *, run_args: dict) -> dict:
    """One GRU run on the adding problem of length T until solved or the step cap, with the update
    gate's bias at Keras' default (``init="default"``: zero) or chrono-initialised (``"chrono"``)."""
    if init not in ("default", "chrono"):
        raise ValueError(f"init must be 'default' or 'chrono', got {init!r}")
    run = runs.adding_run("GRU", T, seed, compiled=_COMPILED, until_solved=True, chrono=init == "chrono", **run_args)
    return {"metrics": {f"{init}.solved": float(run["steps_to_threshold"] is not None),
                        f"{init}.steps_to_solve": run["steps_run"],
                        f"{init}.test_mse": run["test_mse"]},
            "curve": {k: run["curve"][k] for k in ("steps", "test_mse")},
            "size": {"units": run["units"], "params": run["params"]}}


def article_layer_unit(seed: int, *, run_args: dict) -> dict:
    """The article's cell against Keras' GRU: the equivalence errors on a random input
    (``checks.article_cell_equivalence``), then both trained side by side (``runs.article_layer_run``)."""
    from .checks import article_cell_equivalence

    proof = article_cell_equivalence(seed=seed)
    run = runs.article_layer_run(seed, **run_args)
    ratios = np.asarray(run.pop("log_step_time_ratios"))
    curve = run["curve"]
    metrics = {"equivalence.vs_reference": proof["vs_reference"], "equivalence.vs_keras": proof["vs_keras"],
               "equivalence.gradient_vs_bptt": proof["gradient_vs_bptt"],
               "initial_output_gap": run["initial_output_gap"],
               "builtin.final_test_mse": curve["builtin"][-1], "article.final_test_mse": curve["article"][-1],
               "article_over_builtin.step_time": float(np.exp(ratios.mean()))}
    return {"metrics": metrics, "curve": curve, "size": {"units": run["units"], "params": run["params"]}}


def seq2seq_unit(encoder: str, seed: int, *, run_args: dict) -> dict:
    """One encoder–decoder trained to reverse digit strings (``runs.seq2seq_run``)."""
    run = runs.seq2seq_run(encoder, seed, **run_args)
    metrics = {f"{encoder}.exact_match.len{n}": rate for n, rate in run["exact_match"].items()}
    return {"metrics": metrics, "params": run["params"]}


def char_lm_unit(cell: str, seed: int, *, run_args: dict) -> dict:
    """One character-level language model (``runs.char_lm_run``)."""
    run = runs.char_lm_run(cell, seed, **run_args)
    return {"metrics": {f"{cell}.held_out_bpc": run["held_out_bpc"], f"{cell}.train_bpc": run["train_bpc"]},
            "size": {"units": run["units"], "params": run["params"]}, "samples": run["samples"],
            "corpus": run["corpus"]}


def ngram_unit() -> dict:
    """The n-gram baseline of the language model (``text.best_ngram``): no seed, fitted once."""
    from . import text

    return text.best_ngram(text.load_corpus())


def forecast_gru_unit(seed: int, *, run_args: dict) -> dict:
    """One GRU forecaster of the sunspot series (``forecasting.gru_run``)."""
    from . import forecasting

    run = forecasting.gru_run(seed, **run_args)
    return {"metrics": {"GRU.mase": run["mase"], "GRU.epochs": run["epochs"]}, "forecasts": run["forecasts"].tolist()}


def forecast_baselines_unit(*, test_years: int, horizon: int, period: int) -> dict:
    """statsmodels' baselines on the same origins and horizon: seasonal naive, ARIMA, ETS."""
    from . import forecasting

    s = forecasting.setup(test_years=test_years, horizon=horizon, period=period)
    naive = forecasting.seasonal_naive(s)
    arima, order = forecasting.arima(s)
    ets = forecasting.ets(s)
    return {"mase": {"seasonal_naive": forecasting.mase(naive, s), "arima": forecasting.mase(arima, s),
                     "ets": forecasting.mase(ets, s)},
            "arima_order": list(order), "forecasts": {"arima": arima.tolist(), "seasonal_naive": naive.tolist(),
                                                      "ets": ets.tolist()},
            "years": s.years.tolist(), "values": s.values.tolist(), "origins": s.origins.tolist()}


def explosion_unit(cell: str, seed: int, *, run_args: dict) -> dict:
    """One adding-problem run without gradient clipping, watched for exploding gradients
    (``runs.explosion_run``)."""
    return runs.explosion_run(cell, seed=seed, **run_args)


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


def counting_unit(cell: str, seed: int, *, run_args: dict) -> dict:
    """One aⁿbⁿ counting run (``runs.counting_run``)."""
    return runs.counting_run(cell, seed, **run_args)


def baselines_unit(data: tuple, seed: int) -> dict:
    """Logistic regression and an MLP on the flattened sequences (``runs.sklearn_baselines``)."""
    return runs.sklearn_baselines(make_split(data), seed)


def timing_unit(cells: list, T: int, units: int, *, mode: str, batch_size: int, repeats: int, seed: int) -> dict:
    """Every timed training step and inference batch of every cell in one configuration, timed
    in turns in one process: Keras in its default (``mode="default"``) or XLA-compiled
    (``"compiled"``) execution, or PyTorch (``"torch"``). Also the dense-matmul rate of the same
    process (``runs.matmul_flops_per_second``) and the device the cells ran on."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    device = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU") if gpus else "CPU"
    if mode == "torch":
        import torch

        torch.set_num_threads(1)                               # like every worker: one thread
        times = runs.time_torch_cells(cells, T, units, batch_size=batch_size, repeats=repeats, seed=seed)
        device = "CPU"
    elif mode in ("default", "compiled"):
        times = runs.time_cells(cells, T, units, batch_size=batch_size, repeats=repeats,
                                jit_compile=mode == "compiled", seed=seed)
    else:
        raise ValueError(f"unknown timing mode {mode!r}; expected default, compiled or torch")
    return {"device": device, "cells": times, "matmul_flops_per_second": runs.matmul_flops_per_second()}


# --------------------------------------------------------------------------- plans


# Relative cost of one training step per time step and cell at the experiments' small sizes
# (measured on the 2-core machine: per-step overhead dominates, so the three cells cost about the
# same), and the fraction of the step cap a GRU typically trains before it solves the adding
# problem. Only the expected placement of units depends on these, never a result.
_STEP_COST = {"SimpleRNN": 1.0, "GRU": 0.9, "LSTM": 1.0}


def _long_range(P):
    run_args = {"param_budget": P["param_budget"], "steps": P["max_steps"]} | {
        k: P[k] for k in ("batch_size", "learning_rate", "clipnorm", "eval_every", "threshold", "test_size")}
    # Runs of one (cell, length) share a compiled model on the worker that runs them (_COMPILED).
    units = [Unit(f"{cell}/T{T}/seed{seed}", adding_unit,
                  {"cell": cell, "T": T, "seed": seed, "run_args": run_args,
                   "gradient_sequences": P["gradient_sequences"],
                   "keep_details": T == P["analysis_length"] and seed == P["seeds"][0]},
                  affinity=f"{cell}/T{T}",
                  cost=T * P["max_steps"] * _STEP_COST.get(cell, 2.0) * (0.25 if cell == "GRU" else 1.0))
             for seed in P["seeds"] for T in P["lengths"] for cell in P["cells"]
             if cell != "SimpleRNN" or T in P["simple_rnn_lengths"]]
    explosion_args = {"T": P["explosion_length"], "param_budget": P["param_budget"], "steps": P["explosion_steps"],
                      "batch_size": P["batch_size"], "learning_rate": P["learning_rate"],
                      "spike_factor": P["spike_factor"]}
    # The short explosion runs come in eight groups, so the balancing can fill the gaps the long
    # groups leave (without a group, the scheduler piled them onto the busier worker).
    units += [Unit(f"explosion/{cell}/seed{seed}", explosion_unit,
                   {"cell": cell, "seed": seed, "run_args": explosion_args}, affinity=f"explosion/{i % 8}",
                   cost=P["explosion_length"] * P["explosion_steps"] * _STEP_COST.get(cell, 2.0))
              for i, (seed, cell) in enumerate((s, c) for s in P["explosion_seeds"] for c in P["explosion_cells"])]
    return units


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
    steps_per_epoch = {"digits": 64 * 1200, "italy_power_demand": 24 * 60}     # time steps × training sequences
    return [Unit(f"{name}/{cell}/seed{seed}", classifier_unit,
                 {"cell": cell, "data": (name, P["validation_fraction"]), "seed": seed,
                  "fit": {"param_budget": P["param_budget"], "epochs": epochs[name], "batch_size": P["batch_size"],
                          "learning_rate": P["learning_rate"], "regime": "early_stopping",
                          "patience": P["patience"], "validation": "split"}},
                 cost=epochs[name] * steps_per_epoch[name] * _STEP_COST.get(cell, 1.0))
            for seed in P["seeds"] for name in P["datasets"] for cell in P["cells"]]


def _overfitting_unit(P, regime, seed, strength, key, keep_history=False):
    strength = strength if strength is not None else 0.0
    return Unit(key, classifier_unit,
                {"cell": "GRU", "data": ("digits_rows_subset", P["train_size"], P["validation_size"]), "seed": seed,
                 "keep_history": keep_history,
                 "fit": {"units": P["units"], "epochs": P["epochs"], "batch_size": P["batch_size"],
                         "learning_rate": P["learning_rate"], "regime": regime,
                         "dropout": strength if regime in ("dropout", "recurrent_dropout") else 0.0,
                         "weight_decay": strength if regime == "weight_decay" else 0.0,
                         "patience": P["patience"], "validation": "split"}})


def overfitting_strengths(P) -> dict[str, list]:
    """The candidate strengths of every regime that has one: the sweep's grid."""
    grid = {"dropout": P["dropout_rates"], "recurrent_dropout": P["dropout_rates"], "weight_decay": P["weight_decays"]}
    return {regime: list(grid[regime]) for regime in P["regimes"] if regime in grid}


def overfitting_sweep(P) -> list[Unit]:
    """Stage one of the overfitting experiment: every candidate strength of every regime, on the
    sweep seeds, judged by validation accuracy only (the test split never chooses)."""
    return [_overfitting_unit(P, regime, seed, strength, f"sweep/{regime}/{strength:g}/seed{seed}")
            for regime, strengths in overfitting_strengths(P).items() for strength in strengths
            for seed in P["sweep_seeds"]]


def overfitting_final(P, chosen: dict | None = None) -> list[Unit]:
    """Stage two: every regime at its ``chosen`` strength ({regime: strength}; None while only
    counting units, which takes each regime's first candidate), on the experiment's seeds."""
    chosen = chosen or {regime: strengths[0] for regime, strengths in overfitting_strengths(P).items()}
    return [_overfitting_unit(P, regime, seed, chosen.get(regime), f"{regime}/seed{seed}",
                              keep_history=seed == P["seeds"][0])
            for seed in P["seeds"] for regime in P["regimes"]]


def _overfitting(P):
    return overfitting_sweep(P) + overfitting_final(P)


def _efficiency(P):
    # One unit per configuration times all cells in turns in one process, and runs alone
    # (exclusive): a step timed while another unit shares the CPU is noise.
    return [Unit(f"{mode}/T{T}/u{n}", timing_unit,
                 {"cells": list(P["cells"]), "T": T, "units": n, "mode": mode, "batch_size": P["batch_size"],
                  "repeats": P["repeats"], "seed": P["seeds"][0]}, exclusive=True)
            for mode in P["modes"] for T in P["lengths"] for n in P["units"]]


def _counting(P):
    run_args = {k: P[k] for k in ("param_budget", "train_max_n", "test_max_n", "steps", "learning_rate")}
    return [Unit(f"{cell}/seed{seed}", counting_unit, {"cell": cell, "seed": seed, "run_args": run_args},
                 cost=P["steps"] * _STEP_COST.get(cell, 2.0))
            for seed in P["seeds"] for cell in P["cells"]]


def _chrono(P):
    run_args = {"param_budget": P["param_budget"], "steps": P["max_steps"]} | {
        k: P[k] for k in ("batch_size", "learning_rate", "clipnorm", "eval_every", "threshold", "test_size")}
    # One worker per initialisation: each reuses its compiled model across seeds.
    return [Unit(f"{init}/seed{seed}", chrono_unit, {"init": init, "T": P["length"], "seed": seed, "run_args": run_args},
                 affinity=f"GRU/T{P['length']}/{init}", cost=P["length"])
            for seed in P["seeds"] for init in ("default", "chrono")]


def _article_layer(P):
    run_args = {k: P[k] for k in ("T", "units", "steps", "batch_size", "learning_rate", "eval_every", "test_size")}
    # Not exclusive: the time ratio is taken within one process, step by step, with the two models
    # alternating, so a unit on the other core slows both sides alike.
    return [Unit(f"seed{seed}", article_layer_unit, {"seed": seed, "run_args": run_args}) for seed in P["seeds"]]


def _seq2seq(P):
    run_args = {k: P[k] for k in ("units", "train_max_len", "test_max_len", "steps", "batch_size", "learning_rate",
                                  "test_per_length")}
    return [Unit(f"{encoder}/seed{seed}", seq2seq_unit, {"encoder": encoder, "seed": seed, "run_args": run_args},
                 cost=P["steps"] * (1.3 if encoder == "bidirectional" else 1.0))
            for seed in P["seeds"] for encoder in P["encoders"]]


def _char_lm(P):
    run_args = {k: P[k] for k in ("param_budget", "embedding", "window", "steps", "batch_size", "learning_rate",
                                  "sample_length")}
    units = [Unit(f"{cell}/seed{seed}", char_lm_unit,
                  {"cell": cell, "seed": seed,
                   "run_args": run_args | {"temperatures": P["temperatures"] if seed == P["seeds"][0] else []}},
                  cost=P["steps"] * _STEP_COST.get(cell, 2.0))
             for seed in P["seeds"] for cell in P["cells"]]
    return units + [Unit("ngram", ngram_unit, {}, cost=P["steps"])]


def _forecasting(P):
    split = {k: P[k] for k in ("test_years", "horizon", "period")}
    run_args = split | {k: P[k] for k in ("lookback", "units", "epochs", "batch_size", "learning_rate",
                                          "validation_years", "patience")}
    return ([Unit(f"GRU/seed{seed}", forecast_gru_unit, {"seed": seed, "run_args": run_args}, cost=P["epochs"])
             for seed in P["seeds"]]
            + [Unit("baselines", forecast_baselines_unit, split, cost=P["epochs"])])


PLANS = {"counting": _counting, "seed_example": _seed_example, "long_range": _long_range, "real_sequences": _real_sequences,
         "efficiency": _efficiency, "overfitting": _overfitting, "chrono": _chrono,
         "article_layer": _article_layer, "seq2seq": _seq2seq, "char_lm": _char_lm,
         "forecasting": _forecasting}


def plan(experiment: str, parameters: dict) -> list[Unit]:
    """The units of one experiment with validated ``parameters`` (``params.collect``)."""
    if experiment not in PLANS:
        raise KeyError(f"no unit plan for experiment {experiment!r}")
    return PLANS[experiment](parameters)
