"""The article's equations as a Keras cell: equal to the reference and to Keras' GRU, the same
gradients as the reference BPTT, a .keras round trip, chrono initialisation, clear errors."""

import subprocess
import sys

import numpy as np
import pytest

from grubook.gru import keras_cell
from grubook.gru.equivalence import article_cell_equivalence
from grubook.gru.reference import gru_forward, init_weights, sigmoid, weights_from_keras

# float32 against float64: a few float32 ulps (eps = 1.19e-7) per step, growing slowly with length.
# 1e-5 is the contract for the forward pass; gradients are compared relative to their largest
# entry, with the same margin.
TOLERANCE = 1e-5


@pytest.mark.parametrize("seed,time,units,features", [(0, 20, 6, 3), (1, 1, 1, 1), (2, 60, 33, 7)])
def test_cell_equals_reference_keras_and_bptt(seed, time, units, features):
    result = article_cell_equivalence(seed=seed, time=time, units=units, features=features)
    assert result["vs_reference"] < TOLERANCE, result
    assert result["vs_keras"] < TOLERANCE, result
    assert result["gradient_vs_bptt"] < TOLERANCE, result


def test_the_comparison_can_fail_a_cell_with_keras_update_convention():
    # Swapping z and 1 - z (Keras' convention) must show up far above the tolerance.
    w = init_weights(5, 3, seed=4)
    flipped = w.replace(W_z=-w.W_z, b_z=-w.b_z)
    x = np.random.default_rng(4).normal(size=(2, 10, 3)).astype("float32")
    layer = keras_cell.article_gru(5, return_sequences=True)
    layer(x)
    keras_cell.set_from_reference(layer, flipped)
    assert np.abs(np.asarray(layer(x)) - gru_forward(x, w)).max() > 1e-2


def test_weights_are_named_after_the_symbols_with_the_reference_shapes():
    layer = keras_cell.article_gru(4, seed=0)
    layer(np.zeros((1, 3, 2), dtype="float32"))
    shapes = {v.name: tuple(v.shape) for v in layer.weights}
    assert shapes == {"W_z": (4, 6), "W_r": (4, 6), "W": (4, 6), "b_z": (4,), "b_r": (4,), "b": (4,)}


def test_same_seed_same_initial_weights_and_different_seed_different():
    x = np.zeros((1, 2, 3), dtype="float32")
    a, b, c = (keras_cell.article_gru(4, seed=s) for s in (5, 5, 6))
    for layer in (a, b, c):
        layer(x)
    wa, wb, wc = (keras_cell.to_reference(layer) for layer in (a, b, c))
    np.testing.assert_array_equal(wa.W_z, wb.W_z)
    assert not np.array_equal(wa.W_z, wc.W_z)
    assert not np.array_equal(wa.W_z, wa.W_r)             # each matrix gets its own seed


def test_keras_file_round_trip_in_a_fresh_process(tmp_path):
    import keras

    x = np.random.default_rng(0).normal(size=(3, 9, 2)).astype("float32")
    model = keras.Sequential([keras.Input((None, 2)), keras_cell.article_gru(5, seed=3), keras.layers.Dense(1)])
    path = tmp_path / "article_gru.keras"
    model.save(path)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "expected.npy", np.asarray(model(x)))
    # A new interpreter knows the cell only from importing grubook.gru.keras_cell: the registration works.
    script = ("import sys, numpy as np, keras\n"
              "from grubook.gru.keras_cell import ArticleGRUCell\n"
              f"m = keras.models.load_model({str(path)!r})\n"
              f"x = np.load({str(tmp_path / 'x.npy')!r})\n"
              f"assert isinstance(m.layers[0].cell, ArticleGRUCell), type(m.layers[0].cell)\n"
              f"np.testing.assert_array_equal(np.asarray(m(x)), np.load({str(tmp_path / 'expected.npy')!r}))\n"
              "print(m.layers[0].cell.get_config()['units'])\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().endswith("5")


def test_config_round_trip_rebuilds_an_equal_cell():
    cell = keras_cell.ArticleGRUCell(7, seed=2, bias_initializer="ones")
    again = keras_cell.ArticleGRUCell.from_config(cell.get_config())
    assert (again.units, again.seed) == (7, 2)
    x = np.ones((1, 4, 3), dtype="float32")
    import keras

    a, b = keras.layers.RNN(cell), keras.layers.RNN(again)
    np.testing.assert_array_equal(np.asarray(a(x)), np.asarray(b(x)))


def test_chrono_bias_gives_time_constants_between_2_and_t_max():
    b_z = keras_cell.chrono_update_bias(1000, 400, seed=0)
    time_constants = 1 / sigmoid(b_z)                         # z = 1 / (1 + u): 1/z = 1 + u
    assert time_constants.min() >= 2 - 1e-9 and time_constants.max() <= 400 + 1e-9
    assert time_constants.max() > 300 and time_constants.min() < 10   # spread over the range
    np.testing.assert_array_equal(b_z, keras_cell.chrono_update_bias(1000, 400, seed=0))


@pytest.mark.parametrize("reset_after", [False, True])
def test_chrono_on_keras_gru_is_the_same_gate_in_the_article_convention(reset_after):
    import keras

    layer = keras.layers.GRU(6, reset_after=reset_after)
    layer(np.zeros((1, 2, 3), dtype="float32"))
    b_z = keras_cell.set_chrono_bias(layer, 100, seed=1)
    # Read back through the converter, which flips Keras' "keep" gate into the article's "update".
    np.testing.assert_allclose(weights_from_keras(layer).b_z, b_z, rtol=1e-6)


def test_chrono_on_the_article_cell():
    layer = keras_cell.article_gru(6)
    layer(np.zeros((1, 2, 3), dtype="float32"))
    b_z = keras_cell.set_chrono_bias(layer, 100, seed=1)
    np.testing.assert_allclose(keras_cell.to_reference(layer).b_z, b_z, rtol=1e-6)


def test_bad_input_is_named():
    import keras

    with pytest.raises(ValueError, match="units must be a positive integer"):
        keras_cell.ArticleGRUCell(0)
    with pytest.raises(ValueError, match="t_max .* integer >= 2"):
        keras_cell.chrono_update_bias(4, 1, seed=0)
    layer = keras_cell.article_gru(4)
    with pytest.raises(ValueError, match="not built"):
        keras_cell.to_reference(layer)
    layer(np.zeros((1, 2, 3), dtype="float32"))
    with pytest.raises(ValueError, match="reset_after weights"):
        keras_cell.set_from_reference(layer, init_weights(4, 3, reset_after=True))
    with pytest.raises(ValueError, match="W_z: the layer has shape"):
        keras_cell.set_from_reference(layer, init_weights(4, 5))
    with pytest.raises(TypeError, match="RNN\\(ArticleGRUCell\\)"):
        keras_cell.to_reference(keras.layers.GRU(3))


def test_chrono_on_keras_gru_in_a_fresh_process_that_never_touched_the_article_cell():
    # The cell class is made on first use; a function of the module must not assume it exists
    # (found by the benchmark, which ran the chrono experiment in a process of its own).
    script = ("import numpy as np, keras\n"
              "from grubook.gru import keras_cell\n"
              "layer = keras.layers.GRU(4)\n"
              "layer(np.zeros((1, 2, 3), dtype='float32'))\n"
              "print(keras_cell.set_chrono_bias(layer, 10, seed=0).shape)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip().endswith("(4,)"), out.stderr[-2000:]
