"""The article's GRU as a Keras cell, and the chrono initialisation of its update gate.

:class:`ArticleGRUCell` computes exactly the four equations of :mod:`grubook.reference`, in the
article's convention (``z_t`` weighs the new candidate), inside ``keras.layers.RNN``:

.. math::

    z_t &= \\sigma(W_z [h_{t-1}, x_t] + b_z)\\\\
    r_t &= \\sigma(W_r [h_{t-1}, x_t] + b_r)\\\\
    \\tilde h_t &= \\tanh(W [r_t \\odot h_{t-1}, x_t] + b)\\\\
    h_t &= (1 - z_t) \\odot h_{t-1} + z_t \\odot \\tilde h_t

Its weights carry the symbols' names and shapes: ``W_z``, ``W_r``, ``W`` are (units, units + features)
with the hidden-state columns first, as in ``[h_{t-1}, x_t]``; ``b_z``, ``b_r``, ``b`` are (units,).
So :func:`to_reference` and :func:`set_from_reference` copy arrays without reshuffling any block.

Chrono initialisation (Tallec & Ollivier, 2018) reads a gated cell as a leaky integrator whose gate
sets a time constant. With ``b_z = -log(u)``, ``u ~ Uniform(1, T_max - 1)``, the update gate starts
at ``z = 1 / (1 + u)``, so units start out remembering over 2 … T_max steps instead of about 2.
"""

from __future__ import annotations

import numpy as np

from .reference import GRUWeights

__all__ = ["ArticleGRUCell", "article_gru", "chrono_update_bias", "set_chrono_bias", "to_reference",
           "set_from_reference"]


def chrono_update_bias(units: int, t_max: int, seed: int) -> np.ndarray:
    """The chrono update-gate bias in the article's convention: ``b_z = -log(u)``, ``u`` drawn
    uniformly from [1, t_max - 1], so that each unit's initial time constant ``1 / z`` lies in
    [2, t_max]."""
    if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units < 1:
        raise ValueError(f"units must be a positive integer, got {units!r}")
    if isinstance(t_max, bool) or not isinstance(t_max, (int, np.integer)) or t_max < 2:
        raise ValueError(f"t_max (the longest dependency to remember) must be an integer >= 2, got {t_max!r}")
    u = np.random.default_rng([int(seed), 7]).uniform(1.0, t_max - 1.0, size=units)
    return -np.log(u)


def set_chrono_bias(layer, t_max: int, seed: int) -> np.ndarray:
    """Give a built ``keras.layers.GRU`` or ``RNN(ArticleGRUCell)`` the chrono update-gate bias.

    Keras' GRU gate keeps the old state where ours takes the candidate (``z_keras = 1 - z``), so its
    bias is the negative of ours; with ``reset_after`` the input half of the bias gets it and the
    recurrent half is zeroed, since the two are added. Returns ``b_z`` in the article's convention.
    """
    import keras

    cell = layer.cell
    if not layer.built:
        raise ValueError(f"layer {layer.name!r} is not built yet: call it on an input first")
    b_z = chrono_update_bias(cell.units, t_max, seed)
    from . import keras_cell

    if isinstance(cell, keras_cell.ArticleGRUCell):            # through the module: the class is made on first use
        cell.b_z.assign(b_z.astype("float32"))
        return b_z
    if not isinstance(layer, keras.layers.GRU):
        raise TypeError(f"chrono initialisation is defined here for GRU layers, got {type(layer).__name__}")
    bias = np.array(keras.ops.convert_to_numpy(cell.bias))
    units = cell.units
    if cell.reset_after:
        bias[0, :units], bias[1, :units] = -b_z, 0.0
    else:
        bias[:units] = -b_z
    cell.bias.assign(bias)
    return b_z


def _serializable(cls):
    import keras

    return keras.saving.register_keras_serializable(package="grubook")(cls)


def _make_cell_class():
    import keras
    from keras import ops

    @_serializable
    class ArticleGRUCell(keras.layers.Layer):
        """One step of the article's GRU, for ``keras.layers.RNN``.

        Args:
            units: size of the hidden state h.
            kernel_initializer: for ``W_z``, ``W_r`` and ``W`` (each a whole (units, units +
                features) matrix); Glorot-uniform by default.
            bias_initializer: for ``b_z``, ``b_r`` and ``b``; zeros by default.
            seed: seed of the default initializers, so two cells built with the same seed start equal.
        """

        def __init__(self, units: int, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                     seed: int | None = None, **kwargs):
            super().__init__(**kwargs)
            if isinstance(units, bool) or not isinstance(units, int) or units < 1:
                raise ValueError(f"units must be a positive integer, got {units!r}")
            self.units = units
            self.seed = seed
            self.kernel_initializer = keras.initializers.get(kernel_initializer)
            self.bias_initializer = keras.initializers.get(bias_initializer)
            self.state_size = units
            self.output_size = units

        def _initializer(self, base, offset: int):
            if self.seed is None:
                return base
            config = base.get_config()
            if "seed" not in config:
                return base
            return type(base).from_config(config | {"seed": self.seed * 10 + offset})

        def build(self, input_shape):
            features = input_shape[-1]
            if features is None:
                raise ValueError("ArticleGRUCell needs a known number of input features (the last axis)")
            width = self.units + features                     # columns of [h_{t-1}, x_t]
            for k, name in enumerate(("W_z", "W_r", "W")):
                setattr(self, name, self.add_weight(shape=(self.units, width), name=name,
                                                    initializer=self._initializer(self.kernel_initializer, k)))
            for k, name in enumerate(("b_z", "b_r", "b")):
                setattr(self, name, self.add_weight(shape=(self.units,), name=name,
                                                    initializer=self._initializer(self.bias_initializer, 3 + k)))
            self.built = True

        def call(self, x_t, states, training=None):
            h_prev = states[0] if isinstance(states, (list, tuple)) else states
            hx = ops.concatenate([h_prev, x_t], axis=-1)                          # [h_{t-1}, x_t]
            z = ops.sigmoid(ops.matmul(hx, ops.transpose(self.W_z)) + self.b_z)    # update gate
            r = ops.sigmoid(ops.matmul(hx, ops.transpose(self.W_r)) + self.b_r)    # reset gate
            rhx = ops.concatenate([r * h_prev, x_t], axis=-1)                     # [r_t ⊙ h_{t-1}, x_t]
            h_tilde = ops.tanh(ops.matmul(rhx, ops.transpose(self.W)) + self.b)    # candidate
            h = (1 - z) * h_prev + z * h_tilde                                    # new state
            return h, [h]

        def get_config(self):
            return super().get_config() | {
                "units": self.units, "seed": self.seed,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer)}

    return ArticleGRUCell


def __getattr__(name):
    # The cell subclasses keras.layers.Layer, so it is defined on first use: importing grubook
    # (for the book, the runner, the tests that need no Keras) must not start TensorFlow.
    if name == "ArticleGRUCell":
        cls = _make_cell_class()
        globals()["ArticleGRUCell"] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def article_gru(units: int, *, seed: int | None = None, return_sequences: bool = False,
                return_state: bool = False, name: str = "article_gru", **cell_kwargs):
    """``keras.layers.RNN(ArticleGRUCell(units))``: a layer used like ``keras.layers.GRU``."""
    import keras

    from . import keras_cell

    return keras.layers.RNN(keras_cell.ArticleGRUCell(units, seed=seed, **cell_kwargs),
                            return_sequences=return_sequences, return_state=return_state, name=name)


def to_reference(layer) -> GRUWeights:
    """The weights of a built ``RNN(ArticleGRUCell)`` as the reference's :class:`GRUWeights`."""
    import keras

    from . import keras_cell

    cell = getattr(layer, "cell", layer)
    if not isinstance(cell, keras_cell.ArticleGRUCell):
        raise TypeError(f"to_reference needs an RNN(ArticleGRUCell) layer, got {type(cell).__name__}")
    if not cell.built:
        raise ValueError(f"layer {layer.name!r} is not built yet: call it on an input first")
    return GRUWeights(**{name: keras.ops.convert_to_numpy(getattr(cell, name))
                         for name in ("W_z", "W_r", "W", "b_z", "b_r", "b")})


def set_from_reference(layer, weights: GRUWeights) -> None:
    """Copy reference weights (the article's variant, ``reset_after=False``) into a built
    ``RNN(ArticleGRUCell)``; the shapes must match."""
    from . import keras_cell

    cell = getattr(layer, "cell", layer)
    if not isinstance(cell, keras_cell.ArticleGRUCell):
        raise TypeError(f"set_from_reference needs an RNN(ArticleGRUCell) layer, got {type(cell).__name__}")
    if weights.reset_after:
        raise ValueError("ArticleGRUCell computes the article's equations (reset before the product); "
                         "reset_after weights (Keras' default, cuDNN, PyTorch) have an extra bias b_hn "
                         "and a different candidate: convert from keras.layers.GRU(reset_after=False)")
    if not cell.built:
        raise ValueError(f"layer {getattr(layer, 'name', cell.name)!r} is not built yet: call it on an input first")
    for name, array in weights.arrays().items():
        variable = getattr(cell, name)
        if tuple(variable.shape) != array.shape:
            raise ValueError(f"{name}: the layer has shape {tuple(variable.shape)}, the weights {array.shape}")
        variable.assign(array.astype("float32"))
