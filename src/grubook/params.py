"""Experiment parameters: what each experiment accepts, its --quick settings, and validation.

Defaults live in each notebook's cell tagged ``parameters`` (what papermill overrides); this
module says which values are allowed, so bad input fails before any training starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .reference import CELL_NAMES

__all__ = ["ParameterError", "UnknownExperimentError", "EXPERIMENTS", "EXECUTION_PARAMETERS", "validate",
           "collect", "check_experiment_names", "scientific"]


class ParameterError(ValueError):
    """A parameter value outside what its experiment accepts."""


class UnknownExperimentError(ValueError):
    """An experiment name that does not exist."""


@dataclass(frozen=True)
class Rule:
    allowed: str                                  # human description, shown in errors
    ok: Callable[[Any], bool]


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def int_at_least(low: int, high: int | None = None) -> Rule:
    """An integer >= low and, where an upper bound keeps absurd values from exhausting memory
    or time, <= high."""
    if high is None:
        return Rule(f"an integer >= {low}", lambda v: _is_int(v) and v >= low)
    return Rule(f"an integer in [{low}, {high}]", lambda v: _is_int(v) and low <= v <= high)


def number_in(low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> Rule:
    lo, hi = ("(" if low_open else "["), (")" if high_open else "]")

    def ok(v):
        if not _is_number(v):
            return False
        return (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
    return Rule(f"a number in {lo}{low}, {high}{hi}", ok)


def list_of(rule: Rule, *, min_len: int = 1, max_len: int = 1000, unique: bool = True) -> Rule:
    def ok(v):
        return (isinstance(v, (list, tuple)) and min_len <= len(v) <= max_len and all(rule.ok(x) for x in v)
                and (not unique or len(set(v)) == len(v)))
    return Rule(f"a list of {min_len} to {max_len} distinct values, each {rule.allowed}", ok)


def subset_of(choices: tuple[str, ...]) -> Rule:
    def ok(v):
        return isinstance(v, (list, tuple)) and len(v) >= 1 and len(set(v)) == len(v) and all(x in choices for x in v)
    return Rule(f"a non-empty list of distinct names from {list(choices)}", ok)


SEEDS = list_of(int_at_least(0, 2**31 - 1))
CELLS = subset_of(CELL_NAMES)
# Where results go and where units run: execution settings, not part of what a result depends on.
RESULTS_DIR = Rule("None or a folder path (string)", lambda v: v is None or (isinstance(v, str) and v != ""))
SCHEDULER = Rule("None (a local Dask cluster), 'serial' or a Dask scheduler address such as 'tcp://host:8786'",
                 lambda v: v is None or (isinstance(v, str) and v != ""))
EXECUTION_PARAMETERS = ("results_dir", "scheduler")
UNITS = int_at_least(1, 4096)
EPOCHS = int_at_least(1, 100_000)
BATCH = int_at_least(1, 65_536)
PATIENCE = int_at_least(1, 100_000)
LENGTHS = list_of(int_at_least(2, 100_000))
BUDGET = int_at_least(10, 10**8)

# Per experiment: rules for every parameter, and the overrides that --quick applies.
EXPERIMENTS: dict[str, dict] = {
    "seed_example": {
        "rules": {
            "seeds": SEEDS, "cells": CELLS, "units": UNITS, "epochs": EPOCHS,
            "batch_size": BATCH, "learning_rate": number_in(0, 1, low_open=True),
            "patience": PATIENCE, "validation_fraction": number_in(0, 1, low_open=True, high_open=True),
            "permutations": int_at_least(1, 1000), "results_dir": RESULTS_DIR, "scheduler": SCHEDULER,
        },
        "quick": {"seeds": [0], "epochs": 3, "permutations": 1},
    },
    "long_range": {
        "rules": {
            "seeds": SEEDS, "cells": CELLS, "lengths": LENGTHS,
            "param_budget": BUDGET, "max_steps": int_at_least(1, 10**7), "batch_size": BATCH,
            "learning_rate": number_in(0, 1, low_open=True), "clipnorm": number_in(0, 1e6, low_open=True),
            "eval_every": int_at_least(1, 10**7), "threshold": number_in(0, 1, low_open=True),
            "test_size": int_at_least(10, 10**6), "analysis_length": int_at_least(2, 100_000),
            "gradient_sequences": int_at_least(1, 10_000), "explosion_length": int_at_least(2, 100_000),
            "explosion_steps": int_at_least(1, 10**6), "spike_factor": number_in(1, 1e12, low_open=True),
            "simple_rnn_lengths": list_of(int_at_least(2, 100_000)), "explosion_cells": CELLS,
            "explosion_seeds": SEEDS, "results_dir": RESULTS_DIR, "scheduler": SCHEDULER,
        },
        "quick": {"seeds": [0], "lengths": [20], "simple_rnn_lengths": [20], "max_steps": 40, "eval_every": 20,
                  "analysis_length": 20, "explosion_length": 20, "explosion_steps": 20, "explosion_seeds": [0]},
        "cross": lambda p: (
            ("analysis_length", p["analysis_length"], f"one of lengths {p['lengths']}")
            if p["analysis_length"] not in p["lengths"] else
            ("simple_rnn_lengths", p["simple_rnn_lengths"], f"a subset of lengths {p['lengths']}")
            if not set(p["simple_rnn_lengths"]) <= set(p["lengths"]) else None),
    },
    "real_sequences": {
        "rules": {
            "seeds": SEEDS, "cells": CELLS, "datasets": subset_of(("digits", "italy_power_demand")),
            "param_budget": BUDGET, "epochs_digits": EPOCHS,
            "epochs_italy": EPOCHS, "patience": PATIENCE,
            "validation_fraction": number_in(0, 1, low_open=True, high_open=True), "batch_size": BATCH,
            "learning_rate": number_in(0, 1, low_open=True), "results_dir": RESULTS_DIR, "scheduler": SCHEDULER,
        },
        "quick": {"seeds": [0], "datasets": ["italy_power_demand"], "epochs_italy": 3},
    },
    "efficiency": {
        "rules": {
            "seeds": SEEDS, "cells": CELLS, "modes": subset_of(("default", "compiled", "torch")),
            "lengths": LENGTHS, "units": list_of(UNITS), "batch_size": BATCH,
            "repeats": int_at_least(2, 100_000), "results_dir": RESULTS_DIR, "scheduler": SCHEDULER,
        },
        "quick": {"lengths": [20], "units": [16], "repeats": 3},
    },
    "counting": {
        "rules": {
            "seeds": SEEDS, "cells": CELLS, "param_budget": BUDGET, "train_max_n": int_at_least(1, 10_000),
            "test_max_n": int_at_least(1, 10_000), "steps": int_at_least(1, 10**6),
            "learning_rate": number_in(0, 1, low_open=True), "results_dir": RESULTS_DIR, "scheduler": SCHEDULER,
        },
        "quick": {"seeds": [0], "train_max_n": 4, "test_max_n": 8, "steps": 20},
        "cross": lambda p: None if p["test_max_n"] > p["train_max_n"] else
        ("test_max_n", p["test_max_n"], f"larger than train_max_n ({p['train_max_n']})"),
    },
    "article_layer": {
        "rules": {
            "seeds": SEEDS, "T": int_at_least(2, 100_000), "units": UNITS, "steps": int_at_least(1, 10**6),
            "batch_size": BATCH, "learning_rate": number_in(0, 1, low_open=True),
            "eval_every": int_at_least(1, 10**6), "test_size": int_at_least(10, 10**6),
            "results_dir": RESULTS_DIR, "scheduler": SCHEDULER,
        },
        "quick": {"seeds": [0], "T": 10, "units": 8, "steps": 12, "eval_every": 6, "test_size": 50},
    },
    "chrono": {
        "rules": {
            "seeds": SEEDS, "length": int_at_least(3, 100_000), "param_budget": BUDGET,
            "max_steps": int_at_least(1, 10**7), "batch_size": BATCH,
            "learning_rate": number_in(0, 1, low_open=True), "clipnorm": number_in(0, 1e6, low_open=True),
            "eval_every": int_at_least(1, 10**7), "threshold": number_in(0, 1, low_open=True),
            "test_size": int_at_least(10, 10**6), "results_dir": RESULTS_DIR, "scheduler": SCHEDULER,
        },
        "quick": {"seeds": [0], "length": 20, "max_steps": 40, "eval_every": 20, "test_size": 50},
    },
    "seq2seq": {
        "rules": {
            "seeds": SEEDS, "encoders": subset_of(("unidirectional", "bidirectional")), "units": UNITS,
            "train_max_len": int_at_least(1, 1000), "test_max_len": int_at_least(1, 1000),
            "steps": int_at_least(1, 10**7), "batch_size": BATCH, "learning_rate": number_in(0, 1, low_open=True),
            "test_per_length": int_at_least(1, 100_000), "results_dir": RESULTS_DIR, "scheduler": SCHEDULER,
        },
        "quick": {"seeds": [0], "units": 8, "train_max_len": 3, "test_max_len": 4, "steps": 10, "test_per_length": 10},
        "cross": lambda p: (("units", p["units"], "even when the encoder is bidirectional (units // 2 per direction)")
                            if "bidirectional" in p["encoders"] and p["units"] % 2 else None),
    },
    "char_lm": {
        "rules": {
            "seeds": SEEDS, "cells": CELLS, "param_budget": BUDGET, "embedding": int_at_least(1, 4096),
            "window": int_at_least(2, 100_000), "steps": int_at_least(1, 10**7), "batch_size": BATCH,
            "learning_rate": number_in(0, 1, low_open=True),
            "temperatures": list_of(number_in(0, 100, low_open=True), max_len=10),
            "sample_length": int_at_least(0, 100_000), "results_dir": RESULTS_DIR, "scheduler": SCHEDULER,
        },
        "quick": {"seeds": [0], "param_budget": 500, "embedding": 4, "window": 8, "steps": 5, "sample_length": 10},
    },
    "forecasting": {
        "rules": {
            "seeds": SEEDS, "test_years": int_at_least(1, 300), "horizon": int_at_least(1, 100),
            "period": int_at_least(1, 100), "lookback": int_at_least(1, 300), "units": UNITS, "epochs": EPOCHS,
            "batch_size": BATCH, "learning_rate": number_in(0, 1, low_open=True),
            "validation_years": int_at_least(1, 300), "patience": PATIENCE,
            "results_dir": RESULTS_DIR, "scheduler": SCHEDULER,
        },
        "quick": {"seeds": [0], "epochs": 2, "units": 4},
        # 309 years of data: training (minus validation) must still hold windows of lookback + horizon.
        "cross": lambda p: (("test_years", p["test_years"], "small enough to leave training windows "
                             f"(309 years - test_years - validation_years > lookback + horizon = {p['lookback'] + p['horizon']})")
                            if 309 - p["test_years"] - p["validation_years"] <= p["lookback"] + p["horizon"] else
                            ("horizon", p["horizon"], f"at most test_years ({p['test_years']})")
                            if p["horizon"] > p["test_years"] else
                            ("validation_years", p["validation_years"], f"at least horizon ({p['horizon']})")
                            if p["validation_years"] < p["horizon"] else None),
    },
    "overfitting": {
        "rules": {
            "seeds": SEEDS, "regimes": subset_of(("none", "dropout", "recurrent_dropout", "weight_decay",
                                                  "early_stopping")),
            "train_size": int_at_least(10, 10**6), "validation_size": int_at_least(10, 10**6),
            "units": UNITS, "epochs": EPOCHS,
            "batch_size": BATCH, "learning_rate": number_in(0, 1, low_open=True),
            "dropout_rates": list_of(number_in(0, 1, low_open=True, high_open=True), max_len=20),
            "weight_decays": list_of(number_in(0, 1000, low_open=True), max_len=20),
            "sweep_seeds": SEEDS, "patience": PATIENCE, "results_dir": RESULTS_DIR, "scheduler": SCHEDULER,
        },
        "quick": {"seeds": [0], "sweep_seeds": [100], "regimes": ["none", "dropout"], "dropout_rates": [0.5],
                  "epochs": 3},
    },
}


def _short(value, limit: int = 60) -> str:
    """repr() of a value, cut to ``limit`` characters so an absurd value still gives a one-line error."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def check_experiment_names(names) -> list[str]:
    """Return the names, or raise UnknownExperimentError naming the bad one and the known ones."""
    for name in names:
        if name not in EXPERIMENTS:
            raise UnknownExperimentError(
                f"unknown experiment {name!r}; known experiments: {', '.join(EXPERIMENTS)}")
    return list(names)


def validate(experiment: str, params: dict) -> dict:
    """Check every parameter of an experiment; raise ParameterError naming the first bad one.

    Unknown parameter names and missing ones are errors too. Returns the params unchanged.
    """
    check_experiment_names([experiment])
    spec = EXPERIMENTS[experiment]
    rules = spec["rules"]
    unknown = sorted(set(params) - set(rules))
    if unknown:
        raise ParameterError(f"{experiment}: unknown parameter {unknown[0]!r}; "
                             f"parameters are: {', '.join(rules)}")
    missing = sorted(set(rules) - set(params))
    if missing:
        raise ParameterError(f"{experiment}: parameter {missing[0]!r} is missing")
    for name, rule in rules.items():
        if not rule.ok(params[name]):
            raise ParameterError(f"{experiment}: parameter {name!r} must be {rule.allowed}, "
                                 f"got {_short(params[name])}")
    cross = spec.get("cross")
    if cross and (problem := cross(params)):
        name, value, allowed = problem
        raise ParameterError(f"{experiment}: parameter {name!r} must be {allowed}, got {value!r}")
    return params


def collect(experiment: str, namespace: dict) -> dict:
    """Pick an experiment's parameters out of a notebook's namespace and validate them.

    Notebooks call ``collect("name", globals())`` right after the parameters cell, so a bad value
    fails there, before any data is loaded or any model trained.
    """
    check_experiment_names([experiment])
    missing = [n for n in EXPERIMENTS[experiment]["rules"] if n not in namespace]
    if missing:
        raise ParameterError(f"{experiment}: parameter {missing[0]!r} is missing")
    values = {n: namespace[n] for n in EXPERIMENTS[experiment]["rules"]}
    return validate(experiment, values)


def scientific(parameters: dict) -> dict:
    """The parameters a result depends on: all but where results go and where units run."""
    return {k: v for k, v in parameters.items() if k not in EXECUTION_PARAMETERS}
