"""Looking inside trained models: how gradients flow back through time, and what the gates do."""

from __future__ import annotations

import numpy as np

from .models import recurrent_layer
from ..gru.reference import gru_forward, weights_from_keras

__all__ = ["state_gradient_norms", "state_gradient_norms_by_hand", "log10_ratio_first_last", "gradient_floor", "gate_traces"]


def state_gradient_norms(model, x, y) -> np.ndarray:
    """‖∂L/∂h_t‖ for t = 1..T, averaged over the batch, for a ``build``-style model with MSE loss.

    The total gradient reaching h_t (through all later steps) is the gradient with respect to a
    zero perturbation added to h_t before it moves on: the cell runs in a ``tf.scan`` with the
    perturbation ε_t added to its output, and ∂L/∂ε_t = ∂L/∂h_t. One compiled pass replaces T
    eager steps (``state_gradient_norms_by_hand`` is the slow, obvious version; a test proves the
    two equal). Works for SimpleRNN, LSTM and GRU. Returns an array of shape (T,).
    """
    import keras
    import tensorflow as tf

    layer = recurrent_layer(model)
    head = model.layers[-1]
    cell = layer.cell
    x = tf.convert_to_tensor(np.asarray(x, dtype=np.float32))
    batch, T = int(x.shape[0]), int(x.shape[1])
    sizes = cell.state_size if isinstance(cell.state_size, (list, tuple)) else [cell.state_size]
    epsilon = tf.zeros((T, batch, int(sizes[0])))

    def step(states, inputs):
        x_t, e_t = inputs
        h, new = cell(x_t, list(states), training=False)
        new = list(new) if isinstance(new, (list, tuple)) else [new]
        new[0] = h + e_t                                   # the state every later step (and the head) sees
        return tuple(new)

    @tf.function
    def gradients(x, epsilon):
        with tf.GradientTape() as tape:
            tape.watch(epsilon)
            states = tf.scan(step, (tf.transpose(x, [1, 0, 2]), epsilon),
                             initializer=tuple(tf.zeros((batch, int(s))) for s in sizes))
            loss = keras.ops.mean(keras.losses.mean_squared_error(np.asarray(y, np.float32), head(states[0][-1])))
        return tape.gradient(loss, epsilon)

    grads = gradients(x, epsilon).numpy() * batch          # per-sequence gradients (the loss is a batch mean)
    return np.linalg.norm(grads, axis=2).mean(axis=1)


def state_gradient_norms_by_hand(model, x, y) -> np.ndarray:
    """``state_gradient_norms`` the obvious way: step the cell eagerly under a gradient tape and
    ask for the gradient of every h_t. Slow (T eager steps); kept as the check of the fast one."""
    import keras
    import tensorflow as tf

    layer = recurrent_layer(model)
    head = model.layers[-1]
    cell = layer.cell
    x = tf.convert_to_tensor(np.asarray(x, dtype=np.float32))
    batch, T = int(x.shape[0]), int(x.shape[1])
    sizes = cell.state_size if isinstance(cell.state_size, (list, tuple)) else [cell.state_size]
    states = [tf.zeros((batch, int(s))) for s in sizes]
    hidden = []
    with tf.GradientTape() as tape:
        for t in range(T):
            h, states = cell(x[:, t], states, training=False)
            states = list(states) if isinstance(states, (list, tuple)) else [states]
            hidden.append(h)
        loss = keras.ops.mean(keras.losses.mean_squared_error(np.asarray(y, np.float32), head(h)))
    grads = tape.gradient(loss, hidden)
    # The loss is a batch mean; scale back to per-sequence gradients before taking norms.
    return np.array([float(np.mean(np.linalg.norm(g.numpy() * batch, axis=1))) for g in grads])


def gradient_floor(norms) -> np.ndarray:
    """Gradient norms floored at the smallest normal float32: a gradient that underflowed to exactly 0
    then reads "at most this small" instead of giving log(0) = -inf."""
    return np.maximum(np.asarray(norms, dtype=float), np.finfo(np.float32).tiny)


def log10_ratio_first_last(norms) -> float:
    """log10(‖∂L/∂h_1‖ / ‖∂L/∂h_T‖): how many decades the gradient loses on its way back to step 1."""
    floored = gradient_floor(norms)
    return float(np.log10(floored[0] / floored[-1]))


def gate_traces(model, x) -> dict:
    """Update and reset gates of a trained Keras GRU on inputs ``x``, in the article's convention
    (z near 1 = take the candidate), computed by the reference implementation from the layer's
    weights. Returns z and r of shape (batch, time, units) and the states H.
    """
    weights = weights_from_keras(recurrent_layer(model))
    H, gates = gru_forward(np.asarray(x, dtype=np.float64), weights, return_gates=True)
    return {"z": gates["z"], "r": gates["r"], "H": H}
