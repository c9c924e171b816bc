"""Data generators, model builders and training helpers."""

import numpy as np
import pytest

from grubook.data import tasks
from grubook.gru.reference import count_params
from grubook.training import loop, models


def test_adding_problem_has_two_markers_and_the_right_target():
    x, y = tasks.adding_problem(500, 30, np.random.default_rng(0))
    assert x.shape == (500, 30, 2) and y.shape == (500, 1) and x.dtype == np.float32
    markers = x[:, :, 1]
    assert np.all(markers.sum(axis=1) == 2) and set(np.unique(markers)) == {0.0, 1.0}
    np.testing.assert_allclose(y[:, 0], (x[:, :, 0] * markers).sum(axis=1), rtol=1e-6)


def test_adding_problem_baseline_is_one_sixth():
    # Predicting 1 for a sum of two U[0,1] values: MSE = Var = 2/12. With 200,000 samples the
    # standard error of the estimate is about 0.0005, so 0.003 is a 6-sigma band.
    _, y = tasks.adding_problem(200_000, 2, np.random.default_rng(1))
    assert abs(np.mean((y - 1.0) ** 2) - tasks.adding_baseline_mse()) < 0.003


def test_adding_problem_rejects_short_sequences():
    with pytest.raises(ValueError, match="sequence length T must be >= 2"):
        tasks.adding_problem(10, 1, np.random.default_rng(0))


def test_seed_example_split_is_the_articles_data_as_sequences():
    split = tasks.seed_example_split()
    assert split.x_train.shape == (800, 20, 1) and split.x_test.shape == (200, 20, 1)
    assert split.classes == 2
    shuffled = tasks.permute_time(split, seed=3)
    assert not np.array_equal(shuffled.x_train, split.x_train)
    np.testing.assert_array_equal(np.sort(shuffled.x_train, axis=1), np.sort(split.x_train, axis=1))


def test_validation_and_subsample_keep_sets_disjoint():
    full = tasks.digits_split(mode="rows")
    assert full.x_train.shape[1:] == (8, 8) and full.classes == 10
    small = tasks.subsample(full, 200, seed=0, n_validation=300)
    assert len(small.x_train) == 200 and len(small.x_val) == 300
    train_rows = {row.tobytes() for row in small.x_train.reshape(200, -1)}
    val_rows = {row.tobytes() for row in small.x_val.reshape(300, -1)}
    assert not train_rows & val_rows
    held = tasks.with_validation(tasks.seed_example_split(), 0.2)
    assert len(held.x_train) == 640 and len(held.x_val) == 160
    with pytest.raises(ValueError, match="fraction must be in"):
        tasks.with_validation(full, 1.5)


def test_real_data_loads_offline():
    italy = tasks.italy_power_demand_split()
    assert italy.x_train.shape == (67, 24, 1) and italy.x_test.shape == (1029, 24, 1) and italy.classes == 2
    digits = tasks.digits_split()
    assert digits.x_train.shape[1:] == (64, 1) and digits.x_train.max() <= 1.0


@pytest.mark.parametrize("cell", ["SimpleRNN", "LSTM", "GRU"])
def test_units_for_budget_is_the_closest_count(cell):
    n = models.units_for_budget(cell, 3500, features=2)
    best = abs(count_params(cell, n, 2) - 3500)
    assert best <= abs(count_params(cell, n - 1, 2) - 3500) and best <= abs(count_params(cell, n + 1, 2) - 3500)


def test_build_and_its_errors():
    model = models.build("GRU", 5, time=7, features=3, outputs=2, seed=0)
    assert model.output_shape == (None, 2)
    assert models.recurrent_layer(model).count_params() == count_params("GRU", 5, 3)
    with pytest.raises(ValueError, match="unknown cell 'RNN'"):
        models.build("RNN", 5, time=7, features=3, outputs=2, seed=0)
    with pytest.raises(ValueError, match="head must be"):
        models.build("GRU", 5, time=7, features=3, outputs=2, head="relu", seed=0)


def test_cudnn_blockers_name_the_offending_settings():
    import keras

    assert models.cudnn_blockers(keras.layers.GRU(8)) == []
    blockers = models.cudnn_blockers(keras.layers.GRU(8, recurrent_dropout=0.1, reset_after=False))
    assert blockers == ["recurrent_dropout=0.1 (needs 0)", "reset_after=False (needs True)"]
    assert models.cudnn_blockers(keras.layers.GRU(8, use_cudnn=False)) == ["use_cudnn=False (cuDNN switched off)"]


def test_compiled_training_keeps_xla_with_op_determinism():
    loop.seed_everything(0)
    model = models.build("GRU", 4, time=5, features=2, outputs=1, head="linear", seed=0)
    loop.compile_model(model, loss="mse")
    assert model.jit_compile is True


def test_the_adding_loop_evaluates_every_eval_every_steps_and_after_a_short_last_chunk():
    x_test, y_test = tasks.adding_problem(40, 12, np.random.default_rng(1))
    loop.seed_everything(0)
    model = models.build("GRU", 6, time=12, features=2, outputs=1, head="linear", seed=0)
    loop.compile_model(model, loss="mse", learning_rate=0.01, clipnorm=1.0)
    curve = loop.train_adding(model, T=12, steps=25, batch_size=8, eval_every=10, rng=np.random.default_rng(2),
                              x_test=x_test, y_test=y_test, generate=tasks.adding_problem)
    assert curve["steps"] == [10, 20, 25] and len(curve["test_mse"]) == 3
    assert int(model.optimizer.iterations) == 25                 # the short last chunk trained too
    assert curve["test_mse"][-1] == pytest.approx(float(model.test_on_batch(x_test, y_test)), rel=1e-6)


def test_early_stopping_needs_validation_data():
    with pytest.raises(ValueError, match="needs validation data"):
        loop.fit_epochs(None, np.zeros((4, 3, 1)), np.zeros(4), epochs=1, batch_size=2, seed=0,
                            patience=3)


@pytest.mark.parametrize("cell", ["SimpleRNN", "LSTM", "GRU"])
def test_initial_weights_come_from_the_seed_alone(cell):
    """Other threads of a Dask worker draw from Python's global `random`; the initial weights must not
    depend on how often they did."""
    import random

    import numpy as np

    first = models.build(cell, 6, time=5, features=2, outputs=3, seed=7, dropout=0.2).get_weights()
    random.seed(12345)
    for _ in range(17):
        random.random()
    np.random.seed(99)
    again = models.build(cell, 6, time=5, features=2, outputs=3, seed=7, dropout=0.2).get_weights()
    other = models.build(cell, 6, time=5, features=2, outputs=3, seed=8, dropout=0.2).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


def test_anbn_labels_the_end_of_each_string_and_weights_only_the_bs():
    x, y, w = tasks.anbn([1, 3], length=8)
    assert x.shape == (2, 8, 2) and y.shape == (2, 8, 1) and w.shape == (2, 8)
    assert x[1, :3, 0].tolist() == [1, 1, 1] and x[1, 3:6, 1].tolist() == [1, 1, 1] and not x[1, 6:].any()
    assert np.flatnonzero(y[1, :, 0]).tolist() == [5] and np.flatnonzero(w[1]).tolist() == [3, 4, 5]
    with pytest.raises(ValueError, match="shorter than the longest string"):
        tasks.anbn([5], length=6)
    with pytest.raises(ValueError, match="every n must be >= 1"):
        tasks.anbn([0])


def test_explosion_run_reports_flags_and_a_finite_peak():
    from grubook.training import runs

    out = runs.explosion_run("SimpleRNN", 12, 0, param_budget=100, steps=15, batch_size=8, learning_rate=0.01,
                             spike_factor=100.0)
    assert set(out) >= {"exploded", "non_finite", "spiked", "peak_over_median_gradient"}
    assert out["peak_over_median_gradient"] >= 1.0 and out["exploded"] == (out["non_finite"] or out["spiked"])


def test_counting_run_scores_every_string_length():
    from grubook.training import runs

    out = runs.counting_run("GRU", 0, param_budget=60, train_max_n=3, test_max_n=6, steps=5, learning_rate=0.01)
    assert len(out["recognised"]) == 6 and 0 <= out["generalises_to"] <= 6
    assert out["generalises_to"] == (out["recognised"] + [0]).index(0)


def test_a_timing_runs_in_a_new_interpreter_and_returns_its_result_or_its_error():
    """PyTorch's timings run in a process of their own (a worker's history moved their ratios):
    the call returns the child's result, the child is another process, and a failure there raises
    here with the child's last line, not a hang or an empty result."""
    import os

    from grubook.training import runs

    times = runs.in_a_new_process(runs.time_torch_cells, ["LSTM", "GRU"], 5, 4, batch_size=2, repeats=2, threads=1)
    assert set(times) == {"LSTM", "GRU"} and all(len(times[c]["train"]) == 2 for c in times)
    assert all(t > 0 for c in times for kind in times[c].values() for t in kind)
    assert runs.in_a_new_process(os.getpid) != os.getpid()
    with pytest.raises(RuntimeError, match=r"time_torch_cells failed in its own process: KeyError: 'Nope'"):
        runs.in_a_new_process(runs.time_torch_cells, ["Nope"], 5, 4, batch_size=2, repeats=1)


def test_steps_in_one_compiled_call_train_as_train_on_batch_does():
    """``loop.train_steps`` moves only the loop over steps into the compiled function: the weights
    after it, and the epoch's mean loss and accuracy, are those of the same steps run one
    ``train_on_batch`` at a time, to float32 rounding (XLA may fuse the two programs differently)."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(48, 6, 3)).astype(np.float32), rng.integers(0, 3, size=48)
    order = np.stack([rng.permutation(48)[:16] for _ in range(5)])
    trained, per_batch = [], []
    for in_one_call in (True, False):
        loop.seed_everything(0)
        model = models.build("GRU", 5, time=6, features=3, outputs=3, seed=0, dropout=0.3)
        loop.compile_model(model, loss="sparse_categorical_crossentropy", learning_rate=0.01, metrics=["accuracy"])
        if in_one_call:
            logs = loop.train_steps(model, x, y, order)
        else:
            per_batch = [model.train_on_batch(x[rows], y[rows], return_dict=True) for rows in order]
        trained.append(model.get_weights())
    assert logs["loss"] == pytest.approx(np.mean([float(b["loss"]) for b in per_batch]), rel=1e-5)
    assert logs["accuracy"] == pytest.approx(np.mean([float(b["accuracy"]) for b in per_batch]), abs=1e-6)
    for a, b in zip(*trained):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_models_share_a_compiled_model_only_when_they_compute_the_same_function():
    """``loop.compiled`` shares by architecture without names and seeds: another seed or an
    auto-generated name shares; another dropout rate, width or loss does not."""
    import keras

    def sequential(seed):                                  # auto-named layers, as forecasting builds
        return keras.Sequential([keras.Input((4, 1)), keras.layers.GRU(3, seed=seed), keras.layers.Dense(2)])

    cache = {}
    build = lambda seed, **kw: models.build("GRU", kw.pop("units", 4), time=5, features=2, outputs=2, seed=seed, **kw)
    first = loop.compiled(build(0), cache=cache, loss="sparse_categorical_crossentropy")
    assert loop.compiled(build(1), cache=cache, loss="sparse_categorical_crossentropy") is first
    assert loop.compiled(build(1, dropout=0.2), cache=cache, loss="sparse_categorical_crossentropy") is not first
    assert loop.compiled(build(1, units=5), cache=cache, loss="sparse_categorical_crossentropy") is not first
    assert loop.compiled(build(1), cache=cache, loss="sparse_categorical_crossentropy", learning_rate=0.1) is not first
    assert len(cache) == 4
    again = loop.compiled(sequential(0), cache=cache, loss="mse")
    assert loop.compiled(sequential(1), cache=cache, loss="mse") is again and len(cache) == 5
    fresh = build(2)
    reused = loop.compiled(fresh, cache=cache, loss="sparse_categorical_crossentropy")
    assert all(np.array_equal(a, b) for a, b in zip(reused.get_weights(), fresh.get_weights()))
