"""Seeded, compiled training and the metrics the experiments report."""

from __future__ import annotations

import time

import numpy as np

__all__ = ["seed_everything", "compile_model", "compiled", "COMPILED", "reset_optimizer", "zero_optimizer", "train_steps", "fit_epochs", "accuracy",
           "train_adding", "steps_to_threshold"]

# This process's compiled models, by architecture and compile settings (``compiled``). A Dask
# worker keeps them across the jobs it runs; reuse starts from exactly a new model's state, so
# where a job runs, and after which other job, cannot change a number (tests/test_determinism.py).
COMPILED: dict = {}
COMPILED_LIMIT = 32                  # models kept per process; the oldest is dropped beyond this

def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow, and make TensorFlow's ops deterministic.

    The same machine and seed then give bit-identical training runs (tests/test_determinism.py).
    """
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def compile_model(model, *, loss: str, learning_rate: float = 1e-3, clipnorm: float | None = None,
                  weight_decay: float | None = None, metrics=None, jit_compile: bool = True):
    """Adam (or AdamW when ``weight_decay``), compiled with XLA by default: on the 2-core CPU it
    trains recurrent layers markedly faster than Keras' default graph mode.

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
        model.compile(optimizer=optimizer, loss=loss, metrics=metrics or [], jit_compile=jit_compile)
    finally:
        if deterministic:
            tf_config.enable_op_determinism()
    if model.jit_compile != jit_compile:
        raise RuntimeError(f"Keras refused jit_compile={jit_compile} for model {model.name!r}")
    return model


def compiled(fresh, *, cache: dict | None = COMPILED, **compile_args):
    """``fresh`` compiled with ``compile_model(**compile_args)``; or, when ``cache`` already holds a
    model of the same architecture compiled with the same settings, that model, with every variable
    of ``fresh`` copied in (weights, and the seed states of dropout) and its optimiser and metrics
    zeroed: exactly the state ``fresh`` would start from, without compiling again.

    Tracing Keras' step functions and compiling them with XLA take 2-4 s per model on the 2-core
    machine, more than the whole training of most of the experiments' small models; a worker that
    trains the same architecture for several seeds compiles it once.

    ``fresh`` is a new model, or a tuple of models that share layers, whose first model holds every
    variable of the others (an encoder-decoder's training model and its inference halves); the
    result has the same form. The architecture is the models' Keras configuration without seeds
    and with layer names canonicalised (``architecture``): builds of one architecture share, and
    models that differ in a layer, a size, a rate or a compile setting do not
    (tests/test_tasks_models.py).
    ``cache=None`` compiles ``fresh`` itself.
    """
    group = fresh if isinstance(fresh, tuple) else (fresh,)
    if cache is None:
        compile_model(group[0], **compile_args)
        return fresh
    key = (architecture(group), _plain(compile_args))
    if key not in cache:
        compile_model(group[0], **compile_args)
        cache[key] = group
        while len(cache) > COMPILED_LIMIT:
            del cache[next(iter(cache))]
        return fresh
    kept = cache.pop(key)
    cache[key] = kept                                          # most recently used last
    for target, source in zip(kept[0].variables, group[0].variables, strict=True):
        target.assign(source)
    reset_optimizer(kept[0])
    kept[0].reset_metrics()
    return kept if isinstance(fresh, tuple) else kept[0]


def architecture(models) -> str:
    """The models' Keras configurations without seeds, with every layer name replaced by its order
    of first appearance, as one string: equal for two builds of one architecture, whatever names
    Keras generated for them (``gru_3``, ``not_equal_7``) and whatever the initializers' seeds."""
    import json

    configs = [m.get_config() for m in models]
    names: dict = {}

    def collect(config):
        if isinstance(config, dict):
            if isinstance(config.get("name"), str):
                names.setdefault(config["name"], f"#{len(names)}")
            for value in config.values():
                collect(value)
        elif isinstance(config, (list, tuple)):
            for value in config:
                collect(value)

    def canonical(config):
        if isinstance(config, dict):
            return {k: canonical(v) for k, v in config.items() if k not in ("name", "seed")}
        if isinstance(config, (list, tuple)):
            return [canonical(v) for v in config]
        return names.get(config, config) if isinstance(config, str) else config

    collect(configs)
    return json.dumps(canonical(configs), sort_keys=True, default=repr)


def _plain(args: dict) -> str:
    """Compile settings as a string; a Keras object (a loss) by its class and configuration."""
    import json

    def plain(value):
        if hasattr(value, "get_config"):
            return [type(value).__name__, value.get_config()]
        return value

    return json.dumps({k: plain(v) for k, v in sorted(args.items())}, sort_keys=True, default=repr)


def reset_optimizer(model) -> None:
    """Zero a compiled model's optimiser state (step count, moment estimates), keeping its
    learning rate: the state a freshly compiled optimiser starts from."""
    zero_optimizer(model.optimizer)


def zero_optimizer(optimizer) -> None:
    """Zero an optimiser's state (step count, moment estimates), keeping its learning rate."""
    for variable in optimizer.variables:
        if variable is not getattr(optimizer, "_learning_rate", None):
            variable.assign(np.zeros(variable.shape, dtype=variable.dtype))


def train_steps(model, x, y, order, sample_weight=None) -> dict:
    """Training steps of a compiled model, all in one compiled call: step i trains on the rows
    ``order[i]`` of ``x``, ``y`` (and ``sample_weight``). Returns the model's metrics over these
    steps (``get_metrics_result``: the mean loss per batch, the accuracy over every row seen),
    reset before the first step.

    Each step is Keras' own ``train_step``, the one ``train_on_batch`` runs; only the loop over
    the steps moves into the compiled function. On the 2-core CPU a call of ``train_on_batch``
    costs about 1.5 ms besides its step, more than the step itself for the experiments' small
    models: in one call, a GRU(20) step on 20 time steps took 0.45 ms instead of 1.9 ms.

    ``x`` is an array or a list of arrays (a model with several inputs); ``order`` an integer
    array of shape (steps, batch). The function is compiled once per model and data shapes.
    """
    import tensorflow as tf

    function = getattr(model, "_grubook_train_steps", None)
    if function is None:
        step = tf.autograph.experimental.do_not_convert(model.train_step)

        @tf.function(jit_compile=True)
        def function(x, y, weight, order):
            for i in tf.range(tf.shape(order)[0]):
                rows = order[i]
                take = lambda data: tf.nest.map_structure(lambda a: tf.gather(a, rows), data)
                step((take(x), take(y)) if weight is None else (take(x), take(y), take(weight)))
            return model.get_metrics_result()

        model._grubook_train_steps = function
    model.reset_metrics()
    as_tensor = lambda data: tf.nest.map_structure(tf.convert_to_tensor, data)
    logs = function(as_tensor(list(x) if isinstance(x, (list, tuple)) else x), as_tensor(y),
                    None if sample_weight is None else as_tensor(sample_weight), tf.convert_to_tensor(order))
    return {k: float(v) for k, v in logs.items()}


def fit_epochs(model, x_train, y_train, *, epochs: int, batch_size: int, seed: int,
               validation=None, patience: int | None = None) -> dict:
    """Mini-batch training, one compiled call per epoch (``train_steps``).

    Keras' ``fit`` rebuilds its input pipeline every epoch (and again for validation); on a 2-core
    CPU that costs more than a whole epoch of a small recurrent model. This loop shuffles with its
    own seeded generator and records the history ``fit`` would: per epoch, each of the model's
    metrics over the epoch's batches (``loss``, and ``accuracy`` for a classifier) and, with
    ``validation=(x, y)``, the same on the validation data after the epoch (``val_loss``, ...).

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
    history: dict = {}
    best_loss, best_weights, since_best = np.inf, None, 0
    for _ in range(epochs):
        logs = train_steps(model, x_train, y_train, rng.permutation(n)[:used].reshape(-1, batch_size))
        if validation is not None:
            checked = model.test_on_batch(validation[0], validation[1], return_dict=True)
            logs |= {f"val_{k}": float(v) for k, v in checked.items()}
        for key, value in logs.items():
            history.setdefault(key, []).append(value)
        if patience is None:
            continue
        if logs["val_loss"] < best_loss:
            best_loss, best_weights, since_best = logs["val_loss"], model.get_weights(), 0
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

    The steps between two evaluations run in one compiled call (``train_steps``) and the test set
    is scored in one compiled ``test_on_batch``. Small recurrent layers are bound by per-call
    overhead on a CPU: ``fit`` and ``evaluate`` build an input pipeline per call, which on the
    2-core machine cost 0.1 s per call, as much as the 50 steps of a simple RNN at T = 50.
    """
    curve_steps, curve_mse = [], []
    start = time.perf_counter()
    done = 0
    while done < steps:
        chunk = min(eval_every, steps - done)
        x, y = generate(chunk * batch_size, T, rng)
        train_steps(model, x, y, np.arange(chunk * batch_size).reshape(chunk, batch_size))
        done += chunk
        curve_steps.append(done)
        curve_mse.append(float(model.test_on_batch(x_test, y_test, return_dict=True)["loss"]))
        if stop_below is not None and curve_mse[-1] < stop_below:
            break
    return {"steps": curve_steps, "test_mse": curve_mse, "train_seconds": time.perf_counter() - start}
