"""Same machine, same seed: identical numbers, through the whole papermill pipeline."""

import pytest

from grubook.runner import reproduce

pytestmark = pytest.mark.slow


def test_quick_experiment_twice_gives_identical_metrics(tmp_path):
    first = reproduce(["long_range"], quick=True, results_dir=tmp_path / "a", progress=False)["long_range"]
    second = reproduce(["long_range"], quick=True, results_dir=tmp_path / "b", progress=False)["long_range"]
    assert first["per_seed"] == second["per_seed"]                 # exact, not approximate
    assert first["data"]["curves"] == second["data"]["curves"]


def test_different_seeds_give_different_training():
    from grubook import runs

    args = dict(param_budget=300, steps=20, batch_size=16, learning_rate=0.01, clipnorm=1.0,
                eval_every=10, threshold=0.01, test_size=50)
    a = runs.adding_run("GRU", 10, 0, **args)["curve"]["test_mse"]
    b = runs.adding_run("GRU", 10, 1, **args)["curve"]["test_mse"]
    c = runs.adding_run("GRU", 10, 0, **args)["curve"]["test_mse"]
    assert a == c and a != b


def test_reusing_a_compiled_model_starts_from_the_same_point_as_a_new_one():
    from grubook import runs

    args = dict(param_budget=500, steps=60, batch_size=32, learning_rate=0.01, clipnorm=1.0,
                eval_every=20, threshold=0.01, test_size=100)
    fresh = runs.adding_run("GRU", 30, 1, **args)["curve"]["test_mse"]
    cache = {}
    runs.adding_run("GRU", 30, 0, compiled=cache, **args)
    reused = runs.adding_run("GRU", 30, 1, compiled=cache, **args)
    assert reused["model"] is cache[("GRU", 30, reused["units"], 0.01, 1.0)]
    assert reused["curve"]["test_mse"] == fresh                  # bit for bit
