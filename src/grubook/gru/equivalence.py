"""Checks that the reference GRU is right, used by the tests and shown live in the book.

- :func:`gradient_check`: ``gru_backward`` against central finite differences;
- :func:`keras_equivalence` / :func:`torch_equivalence`: ``gru_forward`` against the frameworks;
- :func:`parameter_count_table`: ``count_params`` against Keras' own count.
"""

from __future__ import annotations

import numpy as np

from .reference import CELL_NAMES, GRUWeights, count_params, gru_backward, gru_forward, init_weights

__all__ = ["gradient_check", "keras_equivalence", "article_cell_equivalence", "torch_equivalence", "parameter_count_table",
           "flip_update_gate"]


def gradient_check(*, reset_after: bool = False, units: int = 3, features: int = 2, batch: int = 2,
                   time: int = 5, seed: int = 0, eps: float = 1e-6) -> dict:
    """Compare ``gru_backward`` with central differences of L = Σ_t <g_t, h_t> (random g_t).

    Every parameter, every input entry and the initial state are perturbed one at a time.
    Returns the worst relative error ``max|analytic - numeric| / max|numeric|`` per array, and overall.
    """
    rng = np.random.default_rng(seed)
    w = init_weights(units, features, reset_after=reset_after, seed=seed)
    x = rng.normal(size=(batch, time, features))
    h0 = rng.normal(size=(batch, units))
    g = rng.normal(size=(batch, time, units))

    def loss(w_, x_, h0_):
        return float((gru_forward(x_, w_, h0_) * g).sum())

    analytic = gru_backward(x, w, g, h0)

    def numeric(array, perturbed_loss):
        out = np.zeros_like(array)
        for i in np.ndindex(array.shape):
            step = np.zeros_like(array)
            step[i] = eps
            out[i] = (perturbed_loss(array + step) - perturbed_loss(array - step)) / (2 * eps)
        return out

    errors = {}
    for name, array in w.arrays().items():
        num = numeric(array, lambda a, n=name: loss(w.replace(**{n: a}), x, h0))
        errors[name] = _relative_error(analytic.weights[name], num)
    errors["x"] = _relative_error(analytic.dx, numeric(x, lambda a: loss(w, a, h0)))
    errors["h0"] = _relative_error(analytic.dh0, numeric(h0, lambda a: loss(w, x, a)))
    return {"max_relative_error": max(errors.values()), "arrays_checked": len(errors),
            "worst_array": max(errors, key=errors.get)}


def _relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    return float(np.abs(analytic - numeric).max() / max(np.abs(numeric).max(), 1e-300))


def flip_update_gate(w: GRUWeights) -> GRUWeights:
    """The same weights with the update gate's sign undone (used to show the flip matters)."""
    return w.replace(W_z=-w.W_z, b_z=-w.b_z)


def keras_equivalence(*, reset_after: bool, seed: int = 0, batch: int | None = None,
                      time: int | None = None, features: int | None = None,
                      units: int | None = None) -> dict:
    """Build a random ``keras.layers.GRU``, run it and ``gru_forward`` on the same input.

    Sizes not given are drawn from the seed. Biases are random too (Keras initialises them to
    zero, which would hide bias mistakes). Returns the sizes and the largest absolute difference
    between the two ``return_sequences=True`` outputs, with and without the update-gate flip.
    """
    import keras

    from .reference import weights_from_keras

    rng = np.random.default_rng(seed)
    batch = batch or int(rng.integers(1, 5))
    time = time or int(rng.integers(1, 12))
    features = features or int(rng.integers(1, 6))
    units = units or int(rng.integers(1, 9))
    keras.utils.set_random_seed(seed)
    layer = keras.layers.GRU(units, return_sequences=True, reset_after=reset_after,
                             bias_initializer=keras.initializers.RandomUniform(-0.5, 0.5, seed=seed))
    x = rng.normal(size=(batch, time, features)).astype("float32")
    keras_out = keras.ops.convert_to_numpy(layer(x))
    w = weights_from_keras(layer)
    ours = gru_forward(x, w)
    unflipped = gru_forward(x, flip_update_gate(w))
    return {"reset_after": reset_after, "batch": batch, "time": time, "features": features,
            "units": units, "max_abs_error": float(np.abs(ours - keras_out).max()),
            "max_abs_error_without_flip": float(np.abs(unflipped - keras_out).max())}


def article_cell_equivalence(*, seed: int = 0, batch: int = 4, time: int = 20, features: int = 3,
                             units: int = 6) -> dict:
    """Prove ``ArticleGRUCell`` three ways on one random input (random biases too):

    - ``vs_reference``: its outputs against ``gru_forward`` on its own weights;
    - ``vs_keras``: against ``keras.layers.GRU(reset_after=False)``, whose converted weights it takes;
    - ``gradient_vs_bptt``: TensorFlow's gradients of ``L = Σ_t G_t · h_t`` (G random) with respect to
      every weight and the input, against ``gru_backward``, as the largest error relative to the
      largest gradient entry.

    Returns the sizes and the three largest errors (float32 computations against float64).
    """
    import keras
    import tensorflow as tf

    from . import keras_cell
    from .reference import gru_backward, weights_from_keras

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, time, features)).astype("float32")
    G = rng.normal(size=(batch, time, units)).astype("float32")
    layer = keras_cell.article_gru(units, seed=seed, return_sequences=True,
                               bias_initializer=keras.initializers.RandomUniform(-0.5, 0.5, seed=seed))
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        H = layer(xt)
        loss = tf.reduce_sum(H * G)
    cell = layer.cell
    names = ("W_z", "W_r", "W", "b_z", "b_r", "b")
    grads = tape.gradient(loss, [getattr(cell, n) for n in names] + [xt])
    w = keras_cell.to_reference(layer)
    reference_grads = gru_backward(x, w, G.astype(np.float64))
    expected = [reference_grads.weights[n] for n in names] + [reference_grads.dx]
    scale = max(float(np.abs(e).max()) for e in expected)
    gradient_error = max(float(np.abs(np.asarray(g) - e).max()) for g, e in zip(grads, expected)) / scale

    keras.utils.set_random_seed(seed)
    builtin = keras.layers.GRU(units, return_sequences=True, reset_after=False,
                               bias_initializer=keras.initializers.RandomUniform(-0.5, 0.5, seed=seed + 1))
    keras_out = keras.ops.convert_to_numpy(builtin(x))
    keras_cell.set_from_reference(layer, weights_from_keras(builtin))
    return {"batch": batch, "time": time, "features": features, "units": units,
            "vs_reference": float(np.abs(keras.ops.convert_to_numpy(H) - gru_forward(x, w)).max()),
            "vs_keras": float(np.abs(keras.ops.convert_to_numpy(layer(x)) - keras_out).max()),
            "gradient_vs_bptt": gradient_error}


def torch_equivalence(*, seed: int = 0, batch: int = 3, time: int = 7, features: int = 4,
                      units: int = 5) -> dict:
    """The same comparison against ``torch.nn.GRU`` (float64, batch_first)."""
    import torch

    from .reference import weights_from_torch

    torch.manual_seed(seed)
    module = torch.nn.GRU(features, units, batch_first=True).double()
    x = np.random.default_rng(seed).normal(size=(batch, time, features))
    with torch.no_grad():
        torch_out = module(torch.from_numpy(x))[0].numpy()
    ours = gru_forward(x, weights_from_torch(module))
    return {"batch": batch, "time": time, "features": features, "units": units,
            "max_abs_error": float(np.abs(ours - torch_out).max())}


def parameter_count_table(sizes):
    """For each (units, features) and cell: the formula's count and Keras' ``count_params()``.

    Returns a pandas DataFrame with columns cell, units, features, formula, keras.
    """
    import keras
    import pandas as pd

    rows = []
    for units, features in sizes:
        for cell in CELL_NAMES:
            variants = [("GRU (reset_after=True)", True), ("GRU (reset_after=False)", False)] \
                if cell == "GRU" else [(cell, True)]
            for label, reset_after in variants:
                kwargs = {"reset_after": reset_after} if cell == "GRU" else {}
                layer = getattr(keras.layers, cell)(units, **kwargs)
                layer.build((None, None, features))
                rows.append({"cell": label, "units": units, "features": features,
                             "formula": count_params(cell, units, features, reset_after=reset_after),
                             "keras": int(layer.count_params())})
    return pd.DataFrame(rows)
