"""Keras models for the experiments: one recurrent layer and a dense head.

Every experiment compares ``SimpleRNN``, ``LSTM`` and ``GRU`` through :func:`build`, so the three
differ only in the cell, and :func:`units_for_budget` gives them comparable parameter counts.
"""

from __future__ import annotations

from .reference import CELL_NAMES, count_params

__all__ = ["build", "units_for_budget", "recurrent_layer", "CUDNN_REQUIREMENTS", "cudnn_blockers"]


def units_for_budget(cell: str, budget: int, features: int) -> int:
    """The number of units whose recurrent layer has the parameter count closest to ``budget``
    (Keras' default reset_after GRU), so that cells are compared at equal size."""
    count_params(cell, 1, features)                      # validates the cell name
    best = min(range(1, 2048), key=lambda n: abs(count_params(cell, n, features) - budget))
    return best


def build(cell: str, units: int, *, time: int | None, features: int, outputs: int, seed: int,
          head: str = "softmax", dropout: float = 0.0, recurrent_dropout: float = 0.0,
          kernel_l2: float = 0.0, return_sequences: bool = False, name: str | None = None):
    """``Input(time, features) -> <cell>(units) -> Dense(outputs, head)``.

    Every random choice (initial weights, dropout masks) takes its seed from ``seed``. Keras would
    otherwise draw these seeds from Python's global ``random`` generator, which other threads of
    the same process (a Dask worker's communication threads) also draw from, so the initial
    weights could depend on timing. The initializers are Keras' defaults, seeded: Glorot-uniform
    kernels, orthogonal recurrent kernels, zero biases (and the LSTM's forget-gate bias of 1).

    Args:
        cell: "SimpleRNN", "LSTM" or "GRU" (Keras defaults otherwise: tanh, reset_after GRU,
            forget-gate bias 1 in the LSTM).
        time: sequence length, or None for variable length.
        head: "softmax" for classification, "linear" for regression, "sigmoid" for yes/no labels.
        return_sequences: label every step (the head applies at each step) instead of the last.
        dropout, recurrent_dropout: Keras' input and recurrent dropout rates of the cell.
        kernel_l2: L2 penalty on the recurrent layer's kernels (0 = none).
        seed: the seed of every random choice in the model.
    """
    import keras

    if cell not in CELL_NAMES:
        raise ValueError(f"unknown cell {cell!r}; expected one of {', '.join(CELL_NAMES)}")
    if head not in ("softmax", "linear", "sigmoid"):
        raise ValueError(f"head must be 'softmax', 'linear' or 'sigmoid', got {head!r}")
    regularizer = keras.regularizers.L2(kernel_l2) if kernel_l2 else None
    base = 10 * int(seed)                      # distinct seeds for the three random initialisations
    layer = getattr(keras.layers, cell)(
        units, dropout=dropout, recurrent_dropout=recurrent_dropout,
        kernel_initializer=keras.initializers.GlorotUniform(seed=base + 1),
        recurrent_initializer=keras.initializers.Orthogonal(seed=base + 2),
        kernel_regularizer=regularizer, recurrent_regularizer=regularizer, seed=base + 3,
        return_sequences=return_sequences, name=cell.lower())
    return keras.Sequential([
        keras.Input((time, features)),
        layer,
        keras.layers.Dense(outputs, activation=head, kernel_initializer=keras.initializers.GlorotUniform(seed=base + 4),
                           name="head"),
    ], name=name or f"{cell.lower()}_{units}")


def recurrent_layer(model):
    """The model's recurrent layer (the one with a ``cell``)."""
    for layer in model.layers:
        if hasattr(layer, "cell"):
            return layer
    raise ValueError(f"model {model.name!r} has no recurrent layer")


# What Keras requires of a GRU layer before it hands it to NVIDIA's cuDNN kernel on a GPU
# (keras.layers.GRU docstring): each entry is (argument, required value).
CUDNN_REQUIREMENTS = (("activation", "tanh"), ("recurrent_activation", "sigmoid"),
                      ("recurrent_dropout", 0), ("unroll", False), ("use_bias", True),
                      ("reset_after", True))


def cudnn_blockers(layer) -> list[str]:
    """The settings of a ``keras.layers.GRU`` that keep it off the cuDNN kernel (empty: eligible).

    Masks must also be right-padded (all padding at the end), which depends on the data and is not
    checked here; Keras does not check it either before choosing cuDNN, and on the TensorFlow
    backend a mask that is not right-padded then fails at run time.
    """
    config = layer.get_config()
    blockers = [] if getattr(layer, "use_cudnn", "auto") is not False else ["use_cudnn=False (cuDNN switched off)"]
    for name, required in CUDNN_REQUIREMENTS:
        value = config.get(name)
        if isinstance(value, dict):                    # serialised activation
            value = value.get("config", {}).get("name", value)
        if value != required:
            blockers.append(f"{name}={value!r} (needs {required!r})")
    return blockers
