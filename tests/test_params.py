"""Bad experiment input fails early, naming the parameter and what is allowed."""

import subprocess
import sys

import pytest

from grubook import experiments
from grubook.experiments import spec
from grubook.execution.notebooks import notebook_defaults, plan, reproduce
from grubook.results.files import EXPERIMENTS_DIR


def defaults(name):
    return notebook_defaults(EXPERIMENTS_DIR / f"{name}.md")


@pytest.mark.parametrize("name", list(experiments.NAMES))
def test_every_notebook_default_and_quick_setting_is_valid(name):
    spec.validate(name, defaults(name))
    spec.validate(name, spec.defaults(name, quick=True))
    # The notebook's parameters cell repeats the module's defaults (for papermill): the two agree.
    assert defaults(name) == spec.defaults(name)


@pytest.mark.parametrize("name,key,value,expected", [
    ("seed_example", "epochs", 0, r"'epochs' must be an integer in \[1, 100000\], got 0"),
    ("overfitting", "epochs", -3, r"'epochs' must be an integer in \[1, 100000\], got -3"),
    ("seed_example", "epochs", 2.5, r"'epochs' must be an integer in \[1, 100000\], got 2.5"),
    ("long_range", "lengths", [50, 1], r"'lengths' must be .*each an integer in \[2, 100000\], got \[50, 1\]"),
    ("long_range", "max_steps", 10**9, r"'max_steps' must be an integer in \[1, 10000000\], got 1000000000"),
    ("long_range", "simple_rnn_lengths", [50, 70], r"'simple_rnn_lengths' must be a subset of lengths \[50, 100, 200\], got \[50, 70\]"),
    ("counting", "test_max_n", 20, r"'test_max_n' must be larger than train_max_n \(20\), got 20"),
    ("efficiency", "modes", ["jax"], r"'modes' must be"),
    ("seed_example", "seeds", list(range(1001)), r"'seeds' must be a list of 1 to 1000 distinct values"),
    ("seed_example", "cells", ["GRU", "Transformer"],
     r"'cells' must be a non-empty list of distinct names from \['SimpleRNN', 'LSTM', 'GRU'\], got \['GRU', 'Transformer'\]"),
    ("real_sequences", "seeds", [], r"'seeds' must be a list of 1 to 1000 distinct values.*got \[\]"),
    ("real_sequences", "datasets", ["mnist"], r"'datasets' must be .*\['digits', 'italy_power_demand'\]"),
    ("overfitting", "dropout_rates", [1.0], r"'dropout_rates' must be .*got \[1.0\]"),
    ("long_range", "analysis_length", 77, r"'analysis_length' must be one of lengths \[50, 100, 200\], got 77"),
])
def test_bad_values_are_named(name, key, value, expected):
    with pytest.raises(spec.ParameterError, match=expected):
        plan([name], overrides={key: value})


def test_unknown_experiment_lists_the_known_ones():
    with pytest.raises(spec.UnknownExperimentError, match=r"unknown experiment 'lstm_race'; known experiments: seed_example, long_range"):
        plan(["lstm_race"])


def test_unknown_parameter_is_named():
    with pytest.raises(spec.ParameterError, match=r"unknown parameter 'epoch'"):
        plan(["seed_example"], overrides={"epoch": 3})


def test_validation_happens_before_any_experiment_runs(tmp_path, monkeypatch):
    # The second experiment has a bad default (declared in its module, which the notebook's
    # parameters cell only repeats): the first must not run at all.
    import dataclasses

    long_range = experiments.get("long_range")
    lengths = long_range.PARAMETERS["lengths"]
    assert lengths.default == [50, 100, 200]
    monkeypatch.setitem(long_range.PARAMETERS, "lengths", dataclasses.replace(lengths, default=[1]))
    results_dir = tmp_path / "results"
    with pytest.raises(spec.ParameterError, match=r"long_range: parameter 'lengths'.*got \[1\]"):
        reproduce(["seed_example", "long_range"], results_dir=results_dir, progress=False)
    assert not results_dir.exists() or list(results_dir.iterdir()) == []


def test_collect_reads_a_notebook_namespace():
    namespace = defaults("overfitting") | {"unrelated": 1}
    assert spec.collect("overfitting", namespace) == defaults("overfitting")
    del namespace["units"]
    with pytest.raises(spec.ParameterError, match="'units' is missing"):
        spec.collect("overfitting", namespace)


@pytest.mark.parametrize("argv,message", [
    (["reproduce", "nosuch"], "unknown experiment 'nosuch'"),
    (["reproduce", "seed_example", "--set", "epochs=0"], "'epochs' must be an integer in [1, 100000], got 0"),
    (["reproduce", "long_range", "--set", "lengths=[1]"], "'lengths' must be"),
    (["reproduce", "seed_example", "--set", "seeds=[]"], "'seeds' must be a list of 1 to 1000"),
    (["reproduce", "seed_example", "--set", "results_dir='/tmp'"], "unknown parameter 'results_dir'"),
])
def test_cli_reports_bad_input_with_exit_code_2(argv, message, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "grubook", *argv, "--results-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert list(tmp_path.iterdir()) == []
