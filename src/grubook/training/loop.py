"""Seeded, compiled training and the metrics the experiments report."""

from __future__ import annotations

import time

import numpy as np

__all__ = ["seed_everything", "compile_model", "reset_optimizer", "fit_classifier", "accuracy", "train_adding",
           "steps_to_threshold"]

def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow, and make TensorFlow's ops deterministic.

    The same machine and seed then give bit-identical training runs (tests/test_determinism.py).
    """
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def compile_model(model, *, loss: str, learning_rate: float = 1e-3, clipnorm: float | None = None,
                  weight_decay: float | None = None, metrics=None, jit_compile: bool = True,
                  steps_per_execution: int = 1):
    """Adam (or AdamW when ``weight_decay``), compiled with XLA by default: on the 2-core CPU it
    trains recurrent layers markedly faster than Keras' default graph mode.

    ``steps_per_execution``: how many training steps one call of ``fit`` runs inside one compiled
    loop (Keras' option); it changes how often Python is entered, not what a step computes.

    Keras silently drops ``jit_compile=True`` while TensorFlow's op determinism is on, because some
    ops have no deterministic XLA kernel. The ones these models use do (tests/test_determinism.py
    shows bit-identical repeated runs), so determinism is paused while compiling and turned back on.
    """
    import keras
    from tensorflow.python.framework import config as tf_config

    if weight_decay:
        optimizer = keras.optimizers.AdamW(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm)
    else:
        optimizer = keras.optimizers.Adam(learning_rate, clipnorm=clipnorm)
    deterministic = tf_config.is_op_determinism_enabled()
    if deterministic:
        tf_config.disable_op_determinism()
    try:
        model.compile(optimizer=optimizer, loss=loss, metrics=metrics or [], jit_compile=jit_compile,
                      steps_per_execution=steps_per_execution)
    finally:
        if deterministic:
            tf_config.enable_op_determinism()
    if model.jit_compile != jit_compile:
        raise RuntimeError(f"Keras refused jit_compile={jit_compile} for model {model.name!r}")
    return model


def reset_optimizer(model) -> None:
    """Zero a compiled model's optimiser state (step count, moment estimates), keeping its
    learning rate: the state a freshly compiled optimiser starts from."""
    optimizer = model.optimizer
    for variable in optimizer.variables:
        if variable is not getattr(optimizer, "_learning_rate", None):
            variable.assign(np.zeros(variable.shape, dtype=variable.dtype))


def fit_classifier(model, x_train, y_train, *, epochs: int, batch_size: int, seed: int,
                   validation=None, patience: int | None = None) -> dict:
    """Mini-batch training on integer class ids, one compiled step per batch.

    Keras' ``fit`` rebuilds its input pipeline every epoch (and again for validation); on a 2-core
    CPU that costs more than a whole epoch of a small recurrent model. This loop keeps only the
    compiled step (``train_on_batch``), shuffles with its own seeded generator, and records the
    same history ``fit`` would: per-epoch mean training loss and accuracy over the epoch's batches
    and, with ``validation=(x, y)``, validation loss and accuracy after each epoch.

    With ``patience`` (needs validation data), training stops after that many epochs without a
    lower validation loss and the weights of the best epoch are restored, like
    ``keras.callbacks.EarlyStopping(patience=..., restore_best_weights=True)``.
    """
    if patience is not None and validation is None:
        raise ValueError("early stopping (patience) needs validation data")
    rng = np.random.default_rng(seed)
    n = len(x_train)
    if n < batch_size:
        raise ValueError(f"batch_size {batch_size} is larger than the {n} training samples")
    # Every step sees a full batch (the last incomplete one is dropped and the order reshuffled
    # each epoch), so XLA compiles the training step for one shape only.
    used = n - n % batch_size
    history = {"loss": [], "accuracy": []} | ({"val_loss": [], "val_accuracy": []} if validation else {})
    best_loss, best_weights, since_best = np.inf, None, 0
    for _ in range(epochs):
        order = rng.permutation(n)[:used]
        total = {"loss": 0.0, "accuracy": 0.0}
        for start in range(0, used, batch_size):
            batch = order[start:start + batch_size]
            logs = model.train_on_batch(x_train[batch], y_train[batch], return_dict=True)
            for key in total:
                total[key] += float(logs[key]) * len(batch)
        for key in total:
            history[key].append(total[key] / used)
        if validation is None:
            continue
        logs = model.test_on_batch(validation[0], validation[1], return_dict=True)
        history["val_loss"].append(float(logs["loss"]))
        history["val_accuracy"].append(float(logs["accuracy"]))
        if patience is None:
            continue
        if history["val_loss"][-1] < best_loss:
            best_loss, best_weights, since_best = history["val_loss"][-1], model.get_weights(), 0
        else:
            since_best += 1
            if since_best >= patience:
                break
    if best_weights is not None:
        model.set_weights(best_weights)
    history["epochs_run"] = len(history["loss"])
    return history


def correct(model, x, y) -> np.ndarray:
    """Per sample, whether the highest-scoring class equals the integer label (booleans), for
    intervals over test items (``grubook.verdicts.stats.seeds_and_items``)."""
    import keras

    predictions = keras.ops.convert_to_numpy(model(np.asarray(x), training=False))
    return np.argmax(predictions, axis=-1) == np.asarray(y)


def accuracy(model, x, y) -> float:
    """Fraction of samples whose highest-scoring class equals the integer label.

    Calls the model directly (not ``predict``), so no XLA compilation is spent on each new
    data-set size for a handful of evaluations."""
    import keras

    predictions = keras.ops.convert_to_numpy(model(np.asarray(x), training=False))
    return float(np.mean(np.argmax(predictions, axis=-1) == np.asarray(y)))


def steps_to_threshold(steps, values, threshold: float):
    """The first step at which ``values`` fell below ``threshold``, or None if it never did."""
    for step, value in zip(steps, values):
        if value < threshold:
            return int(step)
    return None


def train_adding(model, *, T: int, steps: int, batch_size: int, eval_every: int, rng,
                 x_test, y_test, generate, stop_below: float | None = None) -> dict:
    """Train a compiled regression model on fresh adding-problem batches.

    Every ``eval_every`` steps the test MSE is recorded. ``generate(n, T, rng)`` makes data. With
    ``stop_below``, training ends at the first evaluation whose test MSE is below it (the task is
    solved), so ``steps`` is a cap. Returns the curve (steps, test MSE) and the wall time of the
    training, evaluations included.

    The steps between two evaluations go to one ``fit`` call, which runs them in one compiled loop
    when the model was compiled with ``steps_per_execution=eval_every``; the test set is scored in
    one compiled ``test_on_batch``. Small recurrent layers are bound by per-call overhead on a CPU:
    ``evaluate`` builds an input pipeline per call, and on the 2-core machine it cost as much as
    five training steps of an LSTM at T = 200.
    """
    curve_steps, curve_mse = [], []
    start = time.perf_counter()
    done = 0
    while done < steps:
        chunk = min(eval_every, steps - done)
        x, y = generate(chunk * batch_size, T, rng)
        model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0, shuffle=False)
        done += chunk
        curve_steps.append(done)
        curve_mse.append(float(model.test_on_batch(x_test, y_test, return_dict=True)["loss"]))
        if stop_below is not None and curve_mse[-1] < stop_below:
            break
    return {"steps": curve_steps, "test_mse": curve_mse, "train_seconds": time.perf_counter() - start}
