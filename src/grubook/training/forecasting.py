"""Forecasting a real series: yearly sunspot numbers, a GRU against statsmodels' baselines.

Every method forecasts the next ``horizon`` years from every *origin* of the test period, knowing
only the years up to that origin, and is scored by MASE (Hyndman & Koehler, 2006): the mean
absolute error divided by the in-sample mean absolute error of the seasonal-naive forecast on the
training years. MASE below 1 beats that naive forecast's typical training error.

The series ships with statsmodels (``statsmodels.api.datasets.sunspots``): nothing is downloaded.
"""

from __future__ import annotations

import warnings

import numpy as np

from . import loop

__all__ = ["sunspots", "Setup", "setup", "mase_scale", "origin_errors", "mase", "seasonal_naive", "arima", "ets", "gru_run"]


def sunspots() -> tuple[np.ndarray, np.ndarray]:
    """Yearly mean sunspot numbers, 1700–2008: (years, values)."""
    try:
        from statsmodels.api import datasets
    except ImportError as err:
        raise ImportError("the forecasting experiment needs statsmodels (pinned in requirements.lock): "
                          "run `make venv`, or `pip install -r requirements.lock`") from err
    data = datasets.sunspots.load_pandas().data
    return data["YEAR"].to_numpy(dtype=int), data["SUNACTIVITY"].to_numpy(dtype=float)


class Setup:
    """The split: training years, then forecast origins covering the test years.

    ``origins`` are indices t: a forecast made at t knows ``values[:t]`` and predicts
    ``values[t:t + horizon]``. The first origin is ``train_end``; the last leaves a whole horizon.
    """

    def __init__(self, values: np.ndarray, years: np.ndarray, train_end: int, horizon: int, period: int):
        if not 2 * period < train_end < len(values) - horizon:
            raise ValueError(f"train_end={train_end} must leave more than two periods ({2 * period}) for training "
                             f"and at least one horizon ({horizon}) for testing, of {len(values)} values")
        self.values, self.years, self.train_end, self.horizon, self.period = values, years, train_end, horizon, period
        self.origins = np.arange(train_end, len(values) - horizon + 1)

    @property
    def targets(self) -> np.ndarray:
        """(origins, horizon): what every forecast should have said."""
        return np.stack([self.values[t:t + self.horizon] for t in self.origins])


def setup(*, test_years: int, horizon: int, period: int) -> Setup:
    years, values = sunspots()
    return Setup(values, years, len(values) - test_years, horizon, period)


def mase_scale(train: np.ndarray, period: int) -> float:
    """The in-sample mean absolute error of the seasonal-naive forecast y_t = y_{t - period}."""
    return float(np.mean(np.abs(train[period:] - train[:-period])))


def origin_errors(forecasts: np.ndarray, s: Setup) -> np.ndarray:
    """Per origin, the mean absolute error of its (horizon,) forecast in units of the MASE scale:
    MASE is their mean, and comparisons over origins use them one by one."""
    forecasts = np.asarray(forecasts, dtype=float)
    if forecasts.shape != s.targets.shape:
        raise ValueError(f"forecasts must have shape (origins, horizon) = {s.targets.shape}, got {forecasts.shape}")
    return np.mean(np.abs(forecasts - s.targets), axis=1) / mase_scale(s.values[:s.train_end], s.period)


def mase(forecasts: np.ndarray, s: Setup) -> float:
    """MASE of (origins, horizon) forecasts over every origin and step of the horizon."""
    return float(np.mean(origin_errors(forecasts, s)))


def seasonal_naive(s: Setup) -> np.ndarray:
    """Repeat the last observed cycle: the forecast for t + h is the value one period before it."""
    out = np.empty((len(s.origins), s.horizon))
    for i, t in enumerate(s.origins):
        for h in range(s.horizon):
            out[i, h] = s.values[t + h - s.period * (1 + h // s.period)]
    return out


def arima(s: Setup, orders=((2, 0, 0), (3, 0, 0), (9, 0, 0), (2, 0, 1), (3, 0, 1), (2, 1, 1))) -> tuple[np.ndarray, tuple]:
    """ARIMA with its order chosen by AIC on the training years and its coefficients fitted there;
    at every origin the same model is re-applied to the data up to the origin (no refit) and
    forecasts the horizon. Returns (forecasts, order)."""
    from statsmodels.tsa.arima.model import ARIMA

    train = s.values[:s.train_end]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                # convergence chatter on the candidate orders
        fits = {order: ARIMA(train, order=order, trend="c" if order[1] == 0 else "n").fit() for order in orders}
        order = min(fits, key=lambda o: fits[o].aic)
        out = np.stack([fits[order].apply(s.values[:t]).forecast(s.horizon) for t in s.origins])
    return out, order


def ets(s: Setup) -> np.ndarray:
    """Holt–Winters exponential smoothing (additive seasonality of one period, no trend), fitted on
    the training years and re-applied at every origin with the same parameters."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    train = s.values[:s.train_end]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ExponentialSmoothing(train, seasonal="add", seasonal_periods=s.period, trend=None,
                                   initialization_method="estimated").fit()
        params = {k: fit.params[k] for k in ("smoothing_level", "smoothing_seasonal")}
        out = []
        for t in s.origins:
            refit = ExponentialSmoothing(s.values[:t], seasonal="add", seasonal_periods=s.period, trend=None,
                                         initialization_method="known", initial_level=fit.params["initial_level"],
                                         initial_seasonal=fit.params["initial_seasons"]).fit(**params, optimized=False)
            out.append(refit.forecast(s.horizon))
    return np.stack(out)


def gru_run(seed: int, *, test_years: int, horizon: int, period: int, lookback: int, units: int, epochs: int,
            batch_size: int, learning_rate: float, validation_years: int, patience: int,
            compiled: dict | None = loop.COMPILED) -> dict:
    """A GRU that reads the last ``lookback`` years and outputs the next ``horizon`` at once.

    Window i reads years [i, i + lookback) of the training years, scaled by their mean and
    standard deviation, and is paired with the next ``horizon`` years; training shuffles the
    windows into full mini-batches each epoch (``loop.fit_epochs``). The last ``validation_years`` of the training
    years pick the epoch (early stopping with ``patience``); test years never train or choose.
    Returns the (origins, horizon) forecasts and the epochs trained. ``compiled``: the compiled
    models to reuse (``loop.compiled``; None compiles a new one).
    """
    import keras

    s = setup(test_years=test_years, horizon=horizon, period=period)
    train = s.values[:s.train_end]
    mean, std = float(train.mean()), float(train.std())
    scaled = ((s.values - mean) / std).astype("float32")

    def windows(start: int, end: int):
        # inputs: years [i, i + lookback); targets: the next horizon years, all before ``end``
        x = np.stack([scaled[i:i + lookback] for i in range(start, end - lookback - horizon + 1)])[..., None]
        y = np.stack([scaled[i + lookback:i + lookback + horizon] for i in range(start, end - lookback - horizon + 1)])
        return x, y

    fit_end = s.train_end - validation_years
    x_train, y_train = windows(0, fit_end)
    x_val, y_val = windows(fit_end - lookback, s.train_end)     # every validation target lies after fit_end
    loop.seed_everything(seed)
    base = 10 * seed
    model = keras.Sequential([
        keras.Input((lookback, 1)),
        keras.layers.GRU(units, kernel_initializer=keras.initializers.GlorotUniform(seed=base + 1),
                         recurrent_initializer=keras.initializers.Orthogonal(seed=base + 2), seed=base + 3),
        keras.layers.Dense(horizon, kernel_initializer=keras.initializers.GlorotUniform(seed=base + 4)),
    ])
    model = loop.compiled(model, cache=compiled, loss="mse", learning_rate=learning_rate)
    history = loop.fit_epochs(model, x_train, y_train, epochs=epochs, batch_size=batch_size, seed=seed,
                              validation=(x_val, y_val), patience=patience)
    inputs = np.stack([scaled[t - lookback:t] for t in s.origins])[..., None]
    forecasts = model.predict_on_batch(inputs) * std + mean
    return {"forecasts": forecasts, "epochs": history["epochs_run"], "mase": mase(forecasts, s)}
