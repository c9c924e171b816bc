"""The side-by-side cell steps of grubook.gru.cell_steps: each equals Keras (or the reference GRU) on the same
weights, so the counts the claims audit reads are counts of correct implementations."""

import keras
import numpy as np
import pytest

from grubook.gru import cell_steps, reference

TOL = 1e-5          # float32 Keras against float64 NumPy over a few steps


def run(step, x, state, p):
    for t in range(x.shape[1]):
        state = step(x[:, t], state, p)
    return state


def keras_final_state(layer, x):
    return np.asarray(keras.Sequential([keras.Input(x.shape[1:]), layer])(x.astype(np.float32)), dtype=np.float64)


def test_rnn_step_equals_keras():
    x = np.random.default_rng(0).normal(size=(3, 7, 4))
    layer = keras.layers.SimpleRNN(5, bias_initializer="glorot_uniform")
    expected = keras_final_state(layer, x)
    kernel, recurrent, bias = (np.asarray(w, np.float64) for w in layer.get_weights())
    p = {"W": np.concatenate([recurrent.T, kernel.T], axis=1), "b": bias}
    np.testing.assert_allclose(run(cell_steps.rnn_step, x, np.zeros((3, 5)), p), expected, atol=TOL)


def test_lstm_step_equals_keras():
    x = np.random.default_rng(1).normal(size=(3, 7, 4))
    layer = keras.layers.LSTM(5, bias_initializer="glorot_uniform")
    expected = keras_final_state(layer, x)
    kernel, recurrent, bias = (np.asarray(w, np.float64) for w in layer.get_weights())
    p = {}
    for k, gate in enumerate("ifco"):                     # Keras' block order: input, forget, cell, output
        block = slice(k * 5, (k + 1) * 5)
        p[f"W_{gate}"] = np.concatenate([recurrent[:, block].T, kernel[:, block].T], axis=1)
        p[f"b_{gate}"] = bias[block]
    h, _ = run(cell_steps.lstm_step, x, (np.zeros((3, 5)), np.zeros((3, 5))), p)
    np.testing.assert_allclose(h, expected, atol=TOL)


@pytest.mark.parametrize("seed", range(3))
def test_gru_step_is_the_reference_gru(seed):
    w = reference.init_weights(5, 4, seed=seed)
    x = np.random.default_rng(seed).normal(size=(3, 7, 4))
    p = {"W_z": w.W_z, "W_r": w.W_r, "W_h": w.W, "b_z": w.b_z, "b_r": w.b_r, "b_h": w.b}
    expected = reference.gru_forward(x, w)[:, -1]
    np.testing.assert_allclose(run(cell_steps.gru_step, x, np.zeros((3, 5)), p), expected, atol=1e-12)


def test_measures_count_what_the_steps_do():
    gru, lstm, rnn = (cell_steps.measures(c) for c in ("GRU", "LSTM", "SimpleRNN"))
    assert (gru["matrix products"], lstm["matrix products"], rnn["matrix products"]) == (3, 4, 1)
    assert (gru["weight matrices"], lstm["weight matrices"]) == (3, 4)
    assert (gru["state vectors"], lstm["state vectors"]) == (1, 2)
    assert gru["nonlinearities"] == 3 and lstm["nonlinearities"] == 5        # 2σ + tanh; 3σ + 2 tanh


def test_unknown_cell_is_named():
    with pytest.raises(ValueError, match="'Transformer'"):
        cell_steps.measures("Transformer")
