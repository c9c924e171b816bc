"""One training run of each kind the experiments repeat over cells, lengths and seeds.

The experiment notebooks loop over these and save what they return; everything a run needs
(data, model, optimiser, seed) is decided here, so a run is reproducible from its arguments.

A run that trains a Keras model takes ``compiled``, the compiled models it may reuse
(``loop.compiled``; by default this process's, ``loop.COMPILED``; None compiles a new model).
Reuse starts from exactly a new model's state, so it changes how long a run takes, never what
it computes.
"""

from __future__ import annotations

import time

import numpy as np

from . import models
from ..data import tasks
from . import loop
from ..gru.reference import count_params

__all__ = ["adding_run", "article_layer_run", "seq2seq_run", "char_lm_run", "explosion_run", "counting_run", "classifier_run", "sklearn_baselines", "REGIMES", "time_cells", "time_torch_cells",
           "matmul_flops_per_second", "step_flops", "GATE_BLOCKS"]


def adding_run(cell: str, T: int, seed: int, *, param_budget: int, steps: int, batch_size: int,
               learning_rate: float, clipnorm: float | None, eval_every: int, threshold: float,
               test_size: int, compiled: dict | None = loop.COMPILED, until_solved: bool = False,
               chrono: bool = False) -> dict:
    """Train ``cell`` on the adding problem of length T for ``steps`` steps, or with
    ``until_solved`` until test MSE falls below ``threshold`` (``steps`` is then the cap).

    The test set depends on T only (the same for every cell and seed); training batches depend on
    the seed. Returns metrics, the learning curve and the trained model.

    Chrono initialisation only changes initial weights, so it shares the default's compiled model.

    ``chrono``: GRU only, chrono-initialise the update gate for dependencies of up to T steps.
    """
    x_test, y_test = tasks.adding_problem(test_size, T, np.random.default_rng([T, 10_000]))
    loop.seed_everything(seed)
    units = models.units_for_budget(cell, param_budget, features=2)
    model = models.build(cell, units, time=T, features=2, outputs=1, head="linear", seed=seed,
                         chrono_t_max=T if chrono else None)
    model = loop.compiled(model, cache=compiled, loss="mse", learning_rate=learning_rate, clipnorm=clipnorm)
    curve = loop.train_adding(model, T=T, steps=steps, batch_size=batch_size, eval_every=eval_every,
                                  rng=np.random.default_rng([T, seed]), x_test=x_test, y_test=y_test,
                                  generate=tasks.adding_problem, stop_below=threshold if until_solved else None)
    reached = loop.steps_to_threshold(curve["steps"], curve["test_mse"], threshold)
    return {
        "units": units,
        "params": count_params(cell, units, 2),
        "test_mse": curve["test_mse"][-1],
        "steps_to_threshold": reached,
        "steps_run": curve["steps"][-1],
        "train_seconds": curve["train_seconds"],
        "curve": curve,
        "model": model,
        "x_test": x_test,
        "y_test": y_test,
    }


def article_layer_run(seed: int, *, T: int, units: int, steps: int, batch_size: int, learning_rate: float,
                      eval_every: int, test_size: int, warmup: int = 5,
                      compiled: dict | None = loop.COMPILED) -> dict:
    """Train the article's cell (``keras_cell.ArticleGRUCell`` in ``keras.layers.RNN``) and Keras' own
    ``GRU(reset_after=False)`` side by side on the adding problem of length T.

    Both start from the same weights (Keras' layer, converted into the article's convention) and see
    the same batches, so they compute the same function and their learning curves may differ only
    by float32 rounding, which training amplifies slowly. Steps alternate between the two models
    (which one goes first alternates too), so the time of each step is measured under the same
    conditions; after ``warmup`` steps, the per-step ratio article / built-in is recorded.
    """
    import keras

    from ..gru import keras_cell
    from ..gru.reference import weights_from_keras

    x_test, y_test = tasks.adding_problem(test_size, T, np.random.default_rng([T, 10_000]))
    loop.seed_everything(seed)
    builtin = models.build("GRU", units, time=T, features=2, outputs=1, head="linear", seed=seed,
                           reset_after=False)
    article = keras.Sequential([keras.Input((T, 2)), keras_cell.article_gru(units, seed=seed),
                                keras.layers.Dense(1, name="head")], name=f"article_gru_{units}")
    keras_cell.set_from_reference(article.layers[0], weights_from_keras(models.recurrent_layer(builtin)))
    article.layers[1].set_weights(builtin.layers[1].get_weights())
    initial_gap = float(np.abs(article.predict_on_batch(x_test) - builtin.predict_on_batch(x_test)).max())
    builtin, article = (loop.compiled(model, cache=compiled, loss="mse", learning_rate=learning_rate, clipnorm=1.0)
                        for model in (builtin, article))
    names, pair = ("builtin", "article"), {"builtin": builtin, "article": article}
    curve = {"steps": [], "builtin": [], "article": []}
    ratios, rng = [], np.random.default_rng([T, seed])
    for step in range(1, steps + 1):
        x, y = tasks.adding_problem(batch_size, T, rng)
        seconds = {}
        for name in (names if step % 2 else names[::-1]):
            start = time.perf_counter()
            pair[name].train_on_batch(x, y)
            seconds[name] = time.perf_counter() - start
        if step > warmup:
            ratios.append(seconds["article"] / seconds["builtin"])
        if step % eval_every == 0 or step == steps:
            curve["steps"].append(step)
            for name in names:
                curve[name].append(float(pair[name].test_on_batch(x_test, y_test, return_dict=True)["loss"]))
    return {"units": units, "params": count_params("GRU", units, 2, reset_after=False),
            "initial_output_gap": initial_gap, "curve": curve,
            "log_step_time_ratios": np.log(ratios).tolist()}


def seq2seq_run(encoder: str, seed: int, *, units: int, train_max_len: int, test_max_len: int, steps: int,
                batch_size: int, learning_rate: float, test_per_length: int, cell: str = "GRU",
                compiled: dict | None = loop.COMPILED) -> dict:
    """Train an encoder–decoder of ``cell`` layers (``models.seq2seq``) to reverse digit strings of
    length 1 .. ``train_max_len`` with teacher forcing, then decode greedily, without the teacher,
    strings of every length 1 .. ``test_max_len`` (``test_per_length`` each; the test set depends on
    the length only, the same for every model and seed).

    A decoded string counts only if every digit is right (exact match); the decoder emits as
    many digits as the source has. Returns the exact-match rate per length and the parameter count.
    """
    loop.seed_everything(seed)
    model, encoder_model, decoder_step = loop.compiled(
        models.seq2seq(units, encoder=encoder, cell=cell, seed=seed), cache=compiled,
        loss="sparse_categorical_crossentropy", learning_rate=learning_rate, clipnorm=1.0)
    rng = np.random.default_rng([seed, 1])
    start = time.perf_counter()
    batches = [tasks.reversal(rng.integers(1, train_max_len + 1, size=batch_size), rng, pad_to=train_max_len)
               for _ in range(steps)]                      # drawn in the order the steps use them
    stacked = {k: np.concatenate([b[k] for b in batches]) for k in ("source", "decoder_input", "target")}
    loop.train_steps(model, [stacked["source"], stacked["decoder_input"]], stacked["target"],
                     np.arange(steps * batch_size).reshape(steps, batch_size))
    train_seconds = time.perf_counter() - start
    exact = {}
    for n in range(1, test_max_len + 1):
        test = tasks.reversal([n] * test_per_length, np.random.default_rng([n, 20_000]))
        decoded = models.greedy_decode(encoder_model, decoder_step, test["source"], steps=n, go=tasks.GO)
        exact[n] = float((decoded == test["target"]).all(axis=1).mean())
    return {"params": int(model.count_params()), "exact_match": exact, "train_seconds": train_seconds}


def char_lm_run(cell: str, seed: int, *, param_budget: int, embedding: int, window: int, steps: int,
                batch_size: int, learning_rate: float, temperatures=(), sample_length: int = 0,
                prompt: str = "def ", compiled: dict | None = loop.COMPILED) -> dict:
    """Train a character-level language model (``models.char_lm``) on random windows of the
    corpus' training text (``corpus.load_corpus``), then score it on the held-out text.

    The score is bits per character: the mean cross-entropy in base 2 over the held-out
    characters, scored in consecutive windows of ``window`` characters. Each window is read after
    ``window`` characters of burn-in context (read, not scored), so every scored character has at
    least that much context behind it, more than the n-gram baseline's order; the first held-out
    window takes its context from the end of the validation text. The training score is the same
    on as many training characters.
    With ``temperatures``, also returns one sample of ``sample_length`` characters per temperature.
    """
    import keras

    from ..data import corpus as text

    corpus = text.load_corpus()
    loop.seed_everything(seed)
    units = models.char_lm_units(cell, param_budget, embedding)
    model, step_model = loop.compiled(
        models.char_lm(cell, units, vocabulary=corpus.vocabulary, embedding=embedding, seed=seed), cache=compiled,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), learning_rate=learning_rate, clipnorm=1.0)
    rng = np.random.default_rng([seed, 3])
    train, offsets = corpus.train, np.arange(window + 1)
    start = time.perf_counter()
    starts = np.concatenate([rng.integers(0, len(train) - window - 1, size=batch_size) for _ in range(steps)])
    chunks = train[starts[:, None] + offsets]                  # step i trains on rows i·batch .. (i+1)·batch
    loop.train_steps(model, chunks[:, :-1], chunks[:, 1:], np.arange(steps * batch_size).reshape(steps, batch_size))
    train_seconds = time.perf_counter() - start

    burn_in = window

    def bits_per_character(begin, end):
        """Score ids[begin:end] in windows, each predicted after ``burn_in`` characters of context."""
        ids = corpus.ids
        starts = np.arange(begin, end - window + 1, window)
        inputs = ids[(starts - burn_in - 1)[:, None] + np.arange(burn_in + window)]
        targets = ids[starts[:, None] + np.arange(window)]
        logits = model.predict(inputs, batch_size=256, verbose=0)[:, burn_in:].astype(np.float64)
        logits -= logits.max(axis=-1, keepdims=True)
        log_p = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
        picked = np.take_along_axis(log_p, targets[..., None], axis=-1)
        return float(-picked.mean() / np.log(2))

    held_out = len(corpus.ids) - corpus.validation_end
    return {"units": units, "params": count_params(cell, units, embedding),
            "held_out_bpc": bits_per_character(corpus.validation_end, len(corpus.ids)),
            "train_bpc": bits_per_character(burn_in + 1, burn_in + 1 + held_out),
            "train_seconds": train_seconds,
            "samples": {f"{t:g}": text.sample(step_model, corpus, prompt, sample_length, t, seed)
                        for t in temperatures},
            "corpus": {"python": corpus.python, "sha256": corpus.sha256, "characters": int(len(corpus.ids)),
                       "alphabet": corpus.vocabulary}}


def explosion_run(cell: str, T: int, seed: int, *, param_budget: int, steps: int, batch_size: int,
                  learning_rate: float, spike_factor: float, compiled: dict | None = loop.COMPILED) -> dict:
    """Train ``cell`` on the adding problem of length T with Adam and no gradient clipping, and
    watch every step's loss and global gradient norm for an explosion.

    A run explodes if a loss or gradient norm becomes non-finite, or a gradient norm exceeds
    ``spike_factor`` times the run's median gradient norm. Returns the flags, the largest
    gradient norm relative to the median and the final training loss.

    The whole run is one compiled call (``_unclipped_trainer``): the batches are drawn first, in
    the order the steps use them, and the steps after a non-finite value, which have nothing left
    to learn, are dropped from the record.
    """
    import tensorflow as tf

    loop.seed_everything(seed)
    units = models.units_for_budget(cell, param_budget, features=2)
    model = models.build(cell, units, time=T, features=2, outputs=1, head="linear", seed=seed)
    train = _unclipped_trainer(model, learning_rate, cache=compiled)
    rng = np.random.default_rng([T, seed, 1])
    batches = [tasks.adding_problem(batch_size, T, rng) for _ in range(steps)]
    x = np.stack([b[0] for b in batches]).astype(np.float32)
    y = np.stack([b[1][:, 0] for b in batches]).astype(np.float32)
    losses, norms = (v.numpy().astype(np.float64) for v in train(tf.constant(x), tf.constant(y)))
    finite = np.isfinite(losses) & np.isfinite(norms)
    if not finite.all():                                       # up to and with the first non-finite step
        losses, norms = losses[:np.argmin(finite) + 1], norms[:np.argmin(finite) + 1]
    non_finite = not finite.all()
    median = float(np.median(norms[np.isfinite(norms)])) if np.isfinite(norms).any() else float("nan")
    peak = float(np.max(norms[np.isfinite(norms)]) / median) if np.isfinite(norms).any() and median > 0 else None
    spiked = bool(peak is not None and peak > spike_factor)
    return {"units": units, "non_finite": non_finite, "spiked": spiked, "exploded": non_finite or spiked,
            "peak_over_median_gradient": peak, "final_loss": float(losses[-1]) if np.isfinite(losses[-1]) else None}


def _unclipped_trainer(fresh, learning_rate: float, cache: dict | None):
    """A compiled function ``(x, y) -> (losses, gradient norms)`` that trains ``fresh`` (or a cached
    model of its architecture with ``fresh``'s weights copied in, as in ``loop.compiled``) with
    Adam and no clipping, one step per leading index of x and y, recording every step's loss and
    global gradient norm."""
    import keras
    import tensorflow as tf

    key = ("unclipped Adam", loop.architecture((fresh,)), float(learning_rate))
    if cache is not None and key in cache:
        model, optimizer, train = cache[key]
        for target, source in zip(model.variables, fresh.variables, strict=True):
            target.assign(source)
        loop.zero_optimizer(optimizer)
        return train
    model, optimizer = fresh, keras.optimizers.Adam(learning_rate)
    variables = model.trainable_variables
    optimizer.build(variables)

    @tf.function(jit_compile=True)
    def train(x, y):
        losses = tf.TensorArray(tf.float32, size=tf.shape(x)[0])
        norms = tf.TensorArray(tf.float32, size=tf.shape(x)[0])
        for i in tf.range(tf.shape(x)[0]):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(model(x[i], training=True)[:, 0] - y[i]))
            grads = tape.gradient(loss, variables)
            optimizer.apply_gradients(zip(grads, variables))
            losses = losses.write(i, loss)
            norms = norms.write(i, tf.linalg.global_norm(grads))
        return losses.stack(), norms.stack()

    if cache is not None:
        cache[key] = (model, optimizer, train)
    return train


def counting_run(cell: str, seed: int, *, param_budget: int, train_max_n: int, test_max_n: int, steps: int,
                 learning_rate: float, compiled: dict | None = loop.COMPILED) -> dict:
    """Train ``cell`` to recognise the end of aⁿbⁿ (``tasks.anbn``) for n = 1..``train_max_n``, then
    test every n up to ``test_max_n``: a counting task on which Weiss et al. (2018) found the LSTM
    generalising to longer strings than the GRU.

    A string counts as recognised when every one of its b steps is answered right (probability
    above or below 1/2). Returns which n were recognised, the largest n up to which every string
    was (``generalises_to``; 0 if n = 1 fails) and the fraction of training strings recognised.
    """
    loop.seed_everything(seed)
    units = models.units_for_budget(cell, param_budget, features=2)
    model = models.build(cell, units, time=None, features=2, outputs=1, head="sigmoid", seed=seed,
                         return_sequences=True)
    model = loop.compiled(model, cache=compiled, loss="binary_crossentropy", learning_rate=learning_rate, clipnorm=1.0)
    x, y, w = tasks.anbn(range(1, train_max_n + 1))
    # full batch (the training set is tiny), every step in one compiled call
    loop.train_steps(model, x, y, np.tile(np.arange(len(x)), (steps, 1)), sample_weight=w)
    ns = list(range(1, test_max_n + 1))
    x_test, y_test, w_test = tasks.anbn(ns)
    p = model.predict_on_batch(x_test)[..., 0]
    right = ((p > 0.5) == (y_test[..., 0] > 0.5)) | (w_test == 0)
    recognised = right.all(axis=1)
    first_failure = int(np.argmin(recognised)) if not recognised.all() else len(ns)
    return {"units": units, "params": count_params(cell, units, 2), "recognised": recognised.astype(int).tolist(),
            "generalises_to": first_failure,           # every n <= this was recognised
            "train_recognised": float(recognised[:train_max_n].mean()),
            "beyond_training_recognised": float(recognised[train_max_n:].mean()) if test_max_n > train_max_n else None}


# Regularisation regimes of the overfitting experiment: what each changes in model and training.
REGIMES = ("none", "dropout", "recurrent_dropout", "weight_decay", "early_stopping")


def classifier_run(cell: str, split: tasks.Split, seed: int, *, units: int, epochs: int,
                   batch_size: int, learning_rate: float = 1e-3, regime: str = "none",
                   dropout: float = 0.0, weight_decay: float = 0.0, patience: int = 10,
                   validation: str | None = None, compiled: dict | None = loop.COMPILED) -> dict:
    """Train a ``cell`` classifier on a split and report training and test accuracy.

    Args:
        regime: "none"; "dropout" / "recurrent_dropout" (that rate = ``dropout``); "weight_decay"
            (AdamW with ``weight_decay``); "early_stopping" (stop after ``patience`` epochs without
            a lower validation loss, then restore the best weights).
        validation: None for no validation data, or "split" for the split's own validation set
            (``split.x_val``, see ``tasks.with_validation``). The test set never informs training.
    """
    if regime not in REGIMES:
        raise ValueError(f"unknown regime {regime!r}; expected one of {', '.join(REGIMES)}")
    if regime == "early_stopping" and validation is None:
        raise ValueError("early_stopping needs validation data: pass validation='split'")
    x_train, y_train = split.x_train, split.y_train
    if validation == "split":
        if split.x_val is None:
            raise ValueError("validation='split' needs a split with a validation set (x_val, y_val)")
        validation_data = (split.x_val, split.y_val)
    elif validation is None:
        validation_data = None
    else:
        raise ValueError(f"validation must be None or 'split', got {validation!r}")
    loop.seed_everything(seed)
    model = models.build(cell, units, time=split.time, features=split.features, outputs=split.classes, seed=seed,
                         dropout=dropout if regime == "dropout" else 0.0,
                         recurrent_dropout=dropout if regime == "recurrent_dropout" else 0.0)
    model = loop.compiled(model, cache=compiled, loss="sparse_categorical_crossentropy", learning_rate=learning_rate,
                          weight_decay=weight_decay if regime == "weight_decay" else None, metrics=["accuracy"])
    start = time.perf_counter()
    history = loop.fit_epochs(model, x_train, y_train, epochs=epochs, batch_size=batch_size,
                                      seed=seed, validation=validation_data,
                                      patience=patience if regime == "early_stopping" else None)
    seconds = time.perf_counter() - start
    return {
        "units": units,
        "params": count_params(cell, units, split.features),
        "train_accuracy": loop.accuracy(model, x_train, y_train),
        "validation_accuracy": (loop.accuracy(model, *validation_data) if validation_data else None),
        "test_accuracy": loop.accuracy(model, split.x_test, split.y_test),
        "epochs_run": history["epochs_run"],
        "history": history,
        "train_seconds": seconds,
        "model": model,
    }


def sklearn_baselines(split: tasks.Split, seed: int) -> dict:
    """Logistic regression and a small MLP on the flattened sequences (standardised)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    flat = lambda x: x.reshape(len(x), -1)
    out = {}
    for name, estimator in (
        ("logistic_regression", LogisticRegression(max_iter=2000)),
        ("mlp", MLPClassifier(hidden_layer_sizes=(64,), max_iter=1000, random_state=seed)),
    ):
        pipe = make_pipeline(StandardScaler(), estimator).fit(flat(split.x_train), split.y_train)
        out[name] = float(pipe.score(flat(split.x_test), split.y_test))
    return out


def time_cells(cells, T: int, units: int, *, batch_size: int, repeats: int, jit_compile: bool,
               features: int = 8, seed: int = 0) -> dict[str, dict]:
    """Seconds of every timed training step and inference batch of each Keras cell, after warm-up.

    The cells are timed in turns (A, B, C, A, B, C, ...) in one process, so whatever else the
    machine does falls on all of them alike, and the i-th times of two cells form a pair whose
    ratio is one sample of their speed ratio; timing them in separate processes was measured to
    move a GRU/LSTM ratio from 1.08 to 1.66 between two runs. Uses ``train_on_batch`` and
    ``predict_on_batch`` on fixed random data so only the cell's cost and Keras' execution mode
    vary. Returns {cell: {"train": [seconds...], "inference": [...], "params": n}}.
    """
    loop.seed_everything(seed)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch_size, T, features)).astype(np.float32)
    y = rng.integers(0, 10, size=batch_size)
    built = {}
    for cell in cells:
        model = models.build(cell, units, time=T, features=features, outputs=10, seed=seed)
        loop.compile_model(model, loss="sparse_categorical_crossentropy", jit_compile=jit_compile)
        for _ in range(3):                                     # warm-up: tracing and compilation
            model.train_on_batch(x, y)
            model.predict_on_batch(x)
        built[cell] = model
    times = {cell: {"train": [], "inference": [], "params": count_params(cell, units, features)} for cell in cells}
    for _ in range(repeats):
        for cell, model in built.items():
            start = time.perf_counter()
            model.train_on_batch(x, y)
            times[cell]["train"].append(time.perf_counter() - start)
            start = time.perf_counter()
            model.predict_on_batch(x)
            times[cell]["inference"].append(time.perf_counter() - start)
    return times


def time_torch_cells(cells, T: int, units: int, *, batch_size: int, repeats: int, features: int = 8,
                     seed: int = 0, threads: int | None = None) -> dict[str, dict]:
    """The same measurement as ``time_cells`` for PyTorch's CPU ``nn.RNN`` (tanh), ``nn.LSTM`` and
    ``nn.GRU`` with a linear head, cross-entropy and Adam: a second implementation of the same
    cells. Timed in turns; returns {cell: {"train": [...], "inference": [...]}}. ``threads`` sets
    PyTorch's thread count for the process (meant for a process of its own: :func:`in_a_new_process`)."""
    import torch

    if threads is not None:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    layers = {"SimpleRNN": torch.nn.RNN, "LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}
    rng = np.random.default_rng(seed)
    x = torch.from_numpy(rng.normal(size=(batch_size, T, features)).astype(np.float32))
    y = torch.from_numpy(rng.integers(0, 10, size=batch_size))
    built = {}
    for cell in cells:
        rnn, head = layers[cell](features, units, batch_first=True), torch.nn.Linear(units, 10)
        optimizer = torch.optim.Adam(list(rnn.parameters()) + list(head.parameters()), lr=1e-3)
        built[cell] = (rnn, head, optimizer)

    def train_step(rnn, head, optimizer):
        optimizer.zero_grad()
        out, _ = rnn(x)
        torch.nn.functional.cross_entropy(head(out[:, -1]), y).backward()
        optimizer.step()

    def infer(rnn, head, _):
        with torch.no_grad():
            out, _ = rnn(x)
            head(out[:, -1])

    # TensorFlow's CPU kernels flush denormal floats to zero; PyTorch leaves them on by default.
    # Gradients through long sequences decay into the denormal range, where x86 arithmetic is many
    # times slower: an LSTM(32) step at T = 200 took 5.7 times as long with them (99.5 against 17.5
    # ms, this machine type, November 2026), so without the flush the timing measures that, not the
    # cells. The setting belongs to this thread and outlives the call, hence the reset: a worker's
    # later job must compute as before.
    torch.set_flush_denormal(True)
    try:
        for parts in built.values():                           # warm-up
            for _ in range(3):
                train_step(*parts)
                infer(*parts)
        times = {cell: {"train": [], "inference": []} for cell in cells}
        for _ in range(repeats):
            for cell, parts in built.items():
                for kind, run in (("train", train_step), ("inference", infer)):
                    start = time.perf_counter()
                    run(*parts)
                    times[cell][kind].append(time.perf_counter() - start)
    finally:
        torch.set_flush_denormal(False)
    return times


def in_a_new_process(function, /, *args, **kwargs):
    """``function(*args, **kwargs)`` run in a new Python interpreter, for a measurement that must
    not depend on what its process ran before (a timing in a worker that trained other models).
    ``function`` is a module-level function of grubook, and its arguments and result pickle. The
    child inherits the environment (one thread per process); a failure raises with its last line."""
    import os
    import pickle
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    package_parent = str(Path(__file__).resolve().parents[2])       # the folder holding grubook/
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")]))}
    with tempfile.TemporaryDirectory(prefix="grubook-call-") as folder:
        call, result = Path(folder, "call.pickle"), Path(folder, "result.pickle")
        call.write_bytes(pickle.dumps((function, args, kwargs)))
        code = ("import pickle, sys; f, a, k = pickle.loads(open(sys.argv[1], 'rb').read()); "
                "open(sys.argv[2], 'wb').write(pickle.dumps(f(*a, **k)))")
        done = subprocess.run([sys.executable, "-c", code, str(call), str(result)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
            raise RuntimeError(f"{function.__qualname__} failed in its own process: {last}")
        return pickle.loads(result.read_bytes())


def matmul_flops_per_second(size: int = 512, repeats: int = 20) -> float:
    """Floating-point operations per second of a dense float32 ``size``² matmul (NumPy's BLAS, the
    process's threads): the practical arithmetic limit the recurrent steps are measured against."""
    rng = np.random.default_rng(0)
    a, b = (rng.normal(size=(size, size)).astype(np.float32) for _ in range(2))
    a @ b                                                      # warm-up
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        seconds.append(time.perf_counter() - start)
    return 2.0 * size**3 / float(np.median(seconds))


# Weight matrices (one per gate or candidate) that each cell multiplies per time step.
GATE_BLOCKS = {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}


def step_flops(cell: str, T: int, units: int, features: int, batch_size: int, kind: str) -> float:
    """Matrix-multiply FLOPs of one training step (forward and backward, about 3× the forward
    pass) or one inference batch of a recurrent layer; the element-wise work is left out."""
    forward = 2.0 * batch_size * T * GATE_BLOCKS[cell] * units * (features + units)
    return forward * (3.0 if kind == "train" else 1.0)
