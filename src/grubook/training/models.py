"""Keras models for the experiments: one recurrent layer and a dense head.

Every experiment compares ``SimpleRNN``, ``LSTM`` and ``GRU`` through :func:`build`, so the three
differ only in the cell, and :func:`units_for_budget` gives them comparable parameter counts.
"""

from __future__ import annotations

from ..gru.reference import CELL_NAMES, count_params

__all__ = ["build", "seq2seq", "greedy_decode", "char_lm", "char_lm_units", "units_for_budget", "recurrent_layer", "CUDNN_REQUIREMENTS", "cudnn_blockers"]


def units_for_budget(cell: str, budget: int, features: int) -> int:
    """The number of units whose recurrent layer has the parameter count closest to ``budget``
    (Keras' default reset_after GRU), so that cells are compared at equal size."""
    count_params(cell, 1, features)                      # validates the cell name
    best = min(range(1, 2048), key=lambda n: abs(count_params(cell, n, features) - budget))
    return best


def build(cell: str, units: int, *, time: int | None, features: int, outputs: int, seed: int,
          head: str = "softmax", dropout: float = 0.0, recurrent_dropout: float = 0.0,
          kernel_l2: float = 0.0, return_sequences: bool = False, name: str | None = None,
          chrono_t_max: int | None = None, reset_after: bool = True):
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
        chrono_t_max: GRU only: chrono-initialise the update gate for dependencies of up to this
            many steps (``layers.set_chrono_bias``, Tallec & Ollivier 2018) instead of a zero bias.
        reset_after: GRU only: Keras' default form (True) or the article's equations (False).
    """
    import keras

    if cell not in CELL_NAMES:
        raise ValueError(f"unknown cell {cell!r}; expected one of {', '.join(CELL_NAMES)}")
    if head not in ("softmax", "linear", "sigmoid"):
        raise ValueError(f"head must be 'softmax', 'linear' or 'sigmoid', got {head!r}")
    if chrono_t_max is not None and cell != "GRU":
        raise ValueError(f"chrono_t_max is implemented for the GRU's update gate, not for {cell!r}")
    regularizer = keras.regularizers.L2(kernel_l2) if kernel_l2 else None
    extra = {"reset_after": reset_after} if cell == "GRU" else {}
    base = 10 * int(seed)                      # distinct seeds for the three random initialisations
    layer = getattr(keras.layers, cell)(
        units, dropout=dropout, recurrent_dropout=recurrent_dropout,
        kernel_initializer=keras.initializers.GlorotUniform(seed=base + 1),
        recurrent_initializer=keras.initializers.Orthogonal(seed=base + 2),
        kernel_regularizer=regularizer, recurrent_regularizer=regularizer, seed=base + 3,
        return_sequences=return_sequences, name=cell.lower(), **extra)
    model = keras.Sequential([
        keras.Input((time, features)),
        layer,
        keras.layers.Dense(outputs, activation=head, kernel_initializer=keras.initializers.GlorotUniform(seed=base + 4),
                           name="head"),
    ], name=name or f"{cell.lower()}_{units}")
    if chrono_t_max is not None:
        from ..gru.keras_cell import set_chrono_bias

        set_chrono_bias(layer, chrono_t_max, seed=base + 5)
    return model


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


SEQ2SEQ_EMBEDDING = 16           # the width of the tokens' embeddings: the recurrent layers' input


def seq2seq(units: int, *, encoder: str = "unidirectional", cell: str = "GRU", vocabulary: int = 12,
            embedding: int = SEQ2SEQ_EMBEDDING, seed: int = 0):
    """An encoder–decoder of ``cell`` layers for token sequences (0 = padding), trained with teacher forcing.

    The encoder reads the source and hands its final state to the decoder (``return_state=True``,
    ``initial_state=``): one state (h) for the GRU and SimpleRNN, two (h, c) for the LSTM, each of
    ``units``. With ``encoder="bidirectional"`` it reads the source both ways with ``units // 2``
    units per direction, and the two directions' final states are concatenated into the decoder's
    ``units``. ``Embedding(mask_zero=True)`` masks padded steps: the encoder skips them (its state
    is the one after the last real token) and the loss ignores padded targets.

    Returns ``(train_model, encoder_model, decoder_step)``: the model to ``fit`` on
    ``[source, decoder_input] -> target``, and the two halves that :func:`greedy_decode` runs
    one token at a time (``source -> states`` and ``[token, *states] -> [probabilities, *states]``).
    All three share their layers.
    """
    import keras

    if encoder not in ("unidirectional", "bidirectional"):
        raise ValueError(f"encoder must be 'unidirectional' or 'bidirectional', got {encoder!r}")
    if cell not in CELL_NAMES:
        raise ValueError(f"unknown cell {cell!r}; expected one of {', '.join(CELL_NAMES)}")
    if encoder == "bidirectional" and units % 2:
        raise ValueError(f"a bidirectional encoder splits units over two directions: units must be even, got {units}")
    base = 10 * int(seed)

    def recurrent(n, name, **kw):
        return getattr(keras.layers, cell)(n, kernel_initializer=keras.initializers.GlorotUniform(seed=base + 1),
                                           recurrent_initializer=keras.initializers.Orthogonal(seed=base + 2),
                                           seed=base + 3, name=name, **kw)

    def embed(name, offset):
        return keras.layers.Embedding(vocabulary, embedding, mask_zero=True, name=name,
                                      embeddings_initializer=keras.initializers.RandomUniform(-0.05, 0.05, seed=base + offset))

    source = keras.Input((None,), dtype="int32", name="source")
    source_vectors = embed("source_embedding", 4)(source)
    if encoder == "unidirectional":
        _, *state = recurrent(units, "encoder", return_state=True)(source_vectors)      # [h], or [h, c] (LSTM)
    else:
        _, *both = keras.layers.Bidirectional(recurrent(units // 2, "encoder", return_state=True),
                                              name="bidirectional_encoder")(source_vectors)
        forward, backward = both[:len(both) // 2], both[len(both) // 2:]
        state = [keras.layers.Concatenate(name=f"both_directions_{i}")([f, b])
                 for i, (f, b) in enumerate(zip(forward, backward))]

    decoder = recurrent(units, "decoder", return_sequences=True, return_state=True)
    target_embedding = embed("target_embedding", 5)
    head = keras.layers.Dense(vocabulary, activation="softmax", name="next_token",
                              kernel_initializer=keras.initializers.GlorotUniform(seed=base + 6))

    decoder_input = keras.Input((None,), dtype="int32", name="decoder_input")
    sequence, *_ = decoder(target_embedding(decoder_input), initial_state=state)
    train_model = keras.Model([source, decoder_input], head(sequence), name=f"seq2seq_{encoder}")

    encoder_model = keras.Model(source, state, name="encoder")
    token = keras.Input((1,), dtype="int32", name="token")
    state_in = [keras.Input((units,), name=f"state_{i}") for i in range(len(state))]
    step_output, *state_out = decoder(target_embedding(token), initial_state=state_in)
    decoder_step = keras.Model([token, *state_in], [head(step_output), *state_out], name="decoder_step")
    return train_model, encoder_model, decoder_step


def greedy_decode(encoder_model, decoder_step, source, steps: int, go: int):
    """Decode ``steps`` tokens per row, each time feeding back the most likely token (no teacher).

    The decoder's state travels from step to step whole: h for the GRU, h and c for the LSTM."""
    import numpy as np

    state = encoder_model.predict_on_batch(source)
    state = state if isinstance(state, list) else [state]      # Keras returns a model's only output bare
    token = np.full((len(source), 1), go, dtype="int32")
    out = []
    for _ in range(steps):
        probabilities, *state = decoder_step.predict_on_batch([token, *state])
        token = probabilities[:, -1].argmax(axis=-1).astype("int32")[:, None]
        out.append(token[:, 0])
    return np.stack(out, axis=1)


def char_lm_units(cell: str, budget: int, embedding: int) -> int:
    """Units whose recurrent layer, reading ``embedding``-wide vectors, is closest to ``budget``."""
    return units_for_budget(cell, budget, features=embedding)


def char_lm(cell: str, units: int, *, vocabulary: int, embedding: int = 32, seed: int = 0):
    """A character-level language model: ``Embedding -> <cell> -> Dense`` logits for the next character.

    Returns ``(train_model, step_model)``. ``train_model`` maps (batch, time) character ids to
    (batch, time, vocabulary) logits. ``step_model`` shares its layers and runs one character at
    a time with the state passed in and out explicitly: ``[ids (batch, 1), *states] -> [logits,
    *states]`` (one state for SimpleRNN and GRU, two for the LSTM), which sampling needs.
    """
    import keras

    if cell not in CELL_NAMES:
        raise ValueError(f"unknown cell {cell!r}; expected one of {', '.join(CELL_NAMES)}")
    base = 10 * int(seed)
    embed = keras.layers.Embedding(vocabulary, embedding, name="embedding",
                                   embeddings_initializer=keras.initializers.RandomUniform(-0.05, 0.05, seed=base + 1))
    recurrent = getattr(keras.layers, cell)(
        units, return_sequences=True, return_state=True, name=cell.lower(),
        kernel_initializer=keras.initializers.GlorotUniform(seed=base + 2),
        recurrent_initializer=keras.initializers.Orthogonal(seed=base + 3), seed=base + 4)
    head = keras.layers.Dense(vocabulary, name="next_character",
                              kernel_initializer=keras.initializers.GlorotUniform(seed=base + 5))
    ids = keras.Input((None,), dtype="int32", name="characters")
    sequence, *_ = recurrent(embed(ids))
    train_model = keras.Model(ids, head(sequence), name=f"char_{cell.lower()}_{units}")
    one = keras.Input((1,), dtype="int32", name="character")
    states_in = [keras.Input((units,), name=f"state{i}") for i in range(2 if cell == "LSTM" else 1)]
    step_sequence, *states_out = recurrent(embed(one), initial_state=states_in)
    step_model = keras.Model([one, *states_in], [head(step_sequence), *states_out], name="one_step")
    return train_model, step_model
