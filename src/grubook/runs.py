"""One training run of each kind the experiments repeat over cells, lengths and seeds.

The experiment notebooks loop over these and save what they return; everything a run needs
(data, model, optimiser, seed) is decided here, so a run is reproducible from its arguments.
"""

from __future__ import annotations

import time

import numpy as np

from . import models, tasks, training
from .reference import count_params

__all__ = ["adding_run", "classifier_run", "sklearn_baselines", "REGIMES", "time_cells"]


def adding_run(cell: str, T: int, seed: int, *, param_budget: int, steps: int, batch_size: int,
               learning_rate: float, clipnorm: float, eval_every: int, threshold: float,
               test_size: int, compiled: dict | None = None) -> dict:
    """Train ``cell`` on the adding problem of length T with a fixed budget of steps.

    The test set depends on T only (the same for every cell and seed); training batches depend on
    the seed. Returns metrics, the learning curve and the trained model.

    ``compiled``, a dict the caller keeps across runs, saves XLA compilation: a model compiled for
    the same cell, length and optimiser settings is reused, with the seed's fresh initial weights
    copied in and its optimiser state zeroed, which is the same starting point as a new model.
    """
    x_test, y_test = tasks.adding_problem(test_size, T, np.random.default_rng([T, 10_000]))
    training.seed_everything(seed)
    units = models.units_for_budget(cell, param_budget, features=2)
    model = models.build(cell, units, time=T, features=2, outputs=1, head="linear", seed=seed)
    key = (cell, T, units, learning_rate, clipnorm)
    if compiled is not None and key in compiled:
        reused = compiled[key]
        reused.set_weights(model.get_weights())
        training.reset_optimizer(reused)
        model = reused
    else:
        training.compile_model(model, loss="mse", learning_rate=learning_rate, clipnorm=clipnorm)
        if compiled is not None:
            compiled[key] = model
    curve = training.train_adding(model, T=T, steps=steps, batch_size=batch_size, eval_every=eval_every,
                                  rng=np.random.default_rng([T, seed]), x_test=x_test, y_test=y_test,
                                  generate=tasks.adding_problem)
    reached = training.steps_to_threshold(curve["steps"], curve["test_mse"], threshold)
    return {
        "units": units,
        "params": count_params(cell, units, 2),
        "test_mse": curve["test_mse"][-1],
        "steps_to_threshold": reached,
        "curve": curve,
        "model": model,
        "x_test": x_test,
        "y_test": y_test,
    }


# Regularisation regimes of the overfitting experiment: what each changes in model and training.
REGIMES = ("none", "dropout", "recurrent_dropout", "weight_decay", "early_stopping")


def classifier_run(cell: str, split: tasks.Split, seed: int, *, units: int, epochs: int,
                   batch_size: int, learning_rate: float = 1e-3, regime: str = "none",
                   dropout: float = 0.0, weight_decay: float = 0.0, patience: int = 10,
                   validation: str | None = None) -> dict:
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
    training.seed_everything(seed)
    model = models.build(cell, units, time=split.time, features=split.features, outputs=split.classes, seed=seed,
                         dropout=dropout if regime == "dropout" else 0.0,
                         recurrent_dropout=dropout if regime == "recurrent_dropout" else 0.0)
    training.compile_model(model, loss="sparse_categorical_crossentropy", learning_rate=learning_rate,
                           weight_decay=weight_decay if regime == "weight_decay" else None,
                           metrics=["accuracy"])
    start = time.perf_counter()
    history = training.fit_classifier(model, x_train, y_train, epochs=epochs, batch_size=batch_size,
                                      seed=seed, validation=validation_data,
                                      patience=patience if regime == "early_stopping" else None)
    seconds = time.perf_counter() - start
    return {
        "units": units,
        "params": count_params(cell, units, split.features),
        "train_accuracy": training.accuracy(model, x_train, y_train),
        "validation_accuracy": (training.accuracy(model, *validation_data) if validation_data else None),
        "test_accuracy": training.accuracy(model, split.x_test, split.y_test),
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
    """Median seconds of one training step and of one inference batch for each cell, after warm-up.

    The cells are timed in turns (A, B, C, A, B, C, ...) in one process, so whatever else the
    machine does falls on all of them alike and their ratios are fair; timing them in separate
    processes was measured to move a GRU/LSTM ratio from 1.08 to 1.66 between two runs. Uses
    ``train_on_batch``/``predict_on_batch`` on fixed random data so only the cell's cost and
    Keras' execution mode vary. Medians resist the odd slow step. Returns {cell: times}.
    """
    training.seed_everything(seed)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch_size, T, features)).astype(np.float32)
    y = rng.integers(0, 10, size=batch_size)
    built = {}
    for cell in cells:
        model = models.build(cell, units, time=T, features=features, outputs=10, seed=seed)
        training.compile_model(model, loss="sparse_categorical_crossentropy", jit_compile=jit_compile)
        for _ in range(3):                                     # warm-up: tracing and compilation
            model.train_on_batch(x, y)
            model.predict_on_batch(x)
        built[cell] = model
    train_times = {cell: [] for cell in cells}
    infer_times = {cell: [] for cell in cells}
    for _ in range(repeats):
        for cell, model in built.items():
            start = time.perf_counter()
            model.train_on_batch(x, y)
            train_times[cell].append(time.perf_counter() - start)
            start = time.perf_counter()
            model.predict_on_batch(x)
            infer_times[cell].append(time.perf_counter() - start)
    return {cell: {"train_step_seconds": float(np.median(train_times[cell])),
                   "inference_seconds": float(np.median(infer_times[cell])),
                   "params": count_params(cell, units, features)} for cell in cells}
