"""Yearly sunspots forecast 11 years ahead by a GRU, against seasonal-naive, ARIMA and ETS
baselines from statsmodels, in MASE."""

from __future__ import annotations

from ..jobs.run import Job
from ..training import forecasting
from .spec import BATCH, EPOCHS, PATIENCE, SEEDS, UNITS, Assembly, Parameter, int_at_least, number_in

BASELINES = ("seasonal_naive", "ets", "arima")
YEARS = 309                                  # 1700-2008, shipped with statsmodels

PARAMETERS = {
    "seeds": Parameter([0, 1, 2, 3, 4, 5], SEEDS, quick=[0]),
    "test_years": Parameter(60, int_at_least(1, 300), note="held out: 1949-2008"),
    "horizon": Parameter(11, int_at_least(1, 100), note="years forecast from every origin (about one cycle)"),
    "period": Parameter(11, int_at_least(1, 100), note="the seasonal-naive period, and the ETS cycle"),
    "lookback": Parameter(33, int_at_least(1, 300), note="years the GRU reads (three cycles)"),
    "units": Parameter(32, UNITS, quick=4),
    "epochs": Parameter(300, EPOCHS, quick=2, note="at most; early stopping on the validation years"),
    "batch_size": Parameter(16, BATCH),
    "learning_rate": Parameter(0.003, number_in(0, 1, low_open=True)),
    "validation_years": Parameter(30, int_at_least(1, 300), note="the last 30 training years choose the epoch"),
    "patience": Parameter(20, PATIENCE),
}


def cross_check(P):
    # Training (minus validation) must still hold windows of lookback + horizon.
    if YEARS - P["test_years"] - P["validation_years"] <= P["lookback"] + P["horizon"]:
        return ("test_years", P["test_years"], f"small enough to leave training windows ({YEARS} years - test_years - "
                f"validation_years > lookback + horizon = {P['lookback'] + P['horizon']})")
    if P["horizon"] > P["test_years"]:
        return "horizon", P["horizon"], f"at most test_years ({P['test_years']})"
    if P["validation_years"] < P["horizon"]:
        return "validation_years", P["validation_years"], f"at least horizon ({P['horizon']})"
    return None


def forecast_gru_job(seed: int, *, run_args: dict) -> dict:
    """One GRU forecaster of the sunspot series (``forecasting.gru_run``)."""
    run = forecasting.gru_run(seed, **run_args)
    return {"mase": run["mase"], "epochs": run["epochs"], "forecasts": run["forecasts"]}


def forecast_baselines_job(*, test_years: int, horizon: int, period: int) -> dict:
    """statsmodels' baselines on the same origins and horizon: seasonal naive, ARIMA, ETS."""
    s = forecasting.setup(test_years=test_years, horizon=horizon, period=period)
    naive = forecasting.seasonal_naive(s)
    arima, order = forecasting.arima(s)
    ets = forecasting.ets(s)
    return {"mase": {"seasonal_naive": forecasting.mase(naive, s), "arima": forecasting.mase(arima, s),
                     "ets": forecasting.mase(ets, s)},
            "arima_order": list(order), "forecasts": {"arima": arima, "seasonal_naive": naive, "ets": ets},
            "years": s.years, "values": s.values, "origins": s.origins}


def plan(P):
    split = {k: P[k] for k in ("test_years", "horizon", "period")}
    run_args = split | {k: P[k] for k in ("lookback", "units", "epochs", "batch_size", "learning_rate",
                                          "validation_years", "patience")}
    return ([Job(f"GRU/seed{seed}", forecast_gru_job, {"seed": seed, "run_args": run_args}, cost=P["epochs"])
             for seed in P["seeds"]]
            + [Job("baselines", forecast_baselines_job, split, cost=P["epochs"])])


SCHEMA = {"mase": "{method}.mase", "epochs": "GRU.epochs", "arima_order": "arima.order_{part}", "origins": "origins"}
# The GRU's MASE moves a little between re-runs. Seasonal naive is exact arithmetic. ARIMA and ETS
# are fitted by an optimiser over BLAS, which another CPU's OpenBLAS kernels round differently: on
# an AMD EPYC the ETS MASE came out 2.45e-4 away from the Intel Xeon's (ARIMA's 1.9e-9), while every
# trained Keras number was the same bit for bit. L-BFGS-B stops when the sum of squares improves by
# less than 2.2e-9 of itself, so the parameters are settled only to about its square root (5e-5):
# 1e-3 of the MASE is the tolerance of a fit, not of a rounding error.
_FIT = {"rel": 1e-3}
TOLERANCES = {"mase": lambda method: {"abs": 0.05} if method == "GRU" else _FIT if method in ("ets", "arima") else
              {"abs": 1e-6}, "epochs": {"abs": 40},
              "arima_order": {"abs": 0}, "origins": {"abs": 0}}


def assemble(done, P) -> Assembly:
    out = Assembly(SCHEMA, P["seeds"])
    baselines = done["baselines"]
    for seed in P["seeds"]:
        run = done[f"GRU/seed{seed}"]
        out.seed(seed, "mase", run["mase"], method="GRU")
        out.seed(seed, "epochs", run["epochs"])
        for method in BASELINES:
            out.seed(seed, "mase", baselines["mase"][method], method=method)
    for part, value in zip("pdq", baselines["arima_order"]):
        out.metric("arima_order", value, part=part)
    out.metric("origins", len(baselines["origins"]))
    # Each origin's error, per seed, so that comparisons cover the forecast origins as well as the seeds.
    s = forecasting.setup(test_years=P["test_years"], horizon=P["horizon"], period=P["period"])
    errors = {"GRU": [forecasting.origin_errors(done[f"GRU/seed{seed}"]["forecasts"], s).tolist() for seed in P["seeds"]]}
    errors |= {m: forecasting.origin_errors(baselines["forecasts"][m], s).tolist() for m in BASELINES}
    out.data = {"years": baselines["years"], "values": baselines["values"], "origins": baselines["origins"],
                "baseline_forecasts": baselines["forecasts"],
                "gru_forecasts": done[f"GRU/seed{P['seeds'][0]}"]["forecasts"], "origin_errors": errors}
    return out


def arima_order(res) -> tuple:
    return tuple(res.value("arima_order", part=p) for p in "pdq")


def method_names(res) -> dict:
    return {"seasonal_naive": "seasonal naive", "ets": "ETS", "arima": f"ARIMA{arima_order(res)}", "GRU": "GRU"}


def comparisons(res, drift=None) -> dict:
    """The comparisons this page draws (and at_work reuses), by baseline."""
    from ..verdicts import stats
    from ..verdicts.decide import decide

    import numpy as np

    names, out, h = method_names(res), {}, res.parameters["horizon"]
    gru = np.asarray(res.data["origin_errors"]["GRU"])                # (seeds, origins)
    for m in BASELINES:
        # Paired by seed and origin; forecasts from neighbouring origins overlap by up to h − 1
        # years, so their errors are correlated up to that lag (Diebold–Mariano).
        baseline = np.broadcast_to(np.asarray(res.data["origin_errors"][m]), gru.shape)
        iv = stats.seeds_and_items(gru, baseline, lag=h - 1)
        out[m] = decide(f"MASE, GRU − {names[m]}", iv, key=f"forecasting: MASE GRU − {m}", direction="below",
                        covers=f"{iv['n']} seed{'s' if iv['n'] > 1 else ''} × {iv['items']} forecast origins ({h}-year forecasts that overlap; "
                               "the baseline's forecast is the same for every seed)", drift=drift)
    return out


def findings(res, drift=None) -> str:
    P, names = res.parameters, method_names(res)
    origins, years = res.data["origins"], res.data["years"]
    text = (f"**Findings.** Forecasting {P['horizon']} years ahead from each of the {len(origins)} origins "
            f"{years[origins[0]]}–{years[origins[-1]]} (the test years run to {years[-1]}), the GRU reached a MASE of "
            f"{res.mean('mase', method='GRU'):.3f} (mean over {len(res.seeds)} seeds), against "
            + ", ".join(f"{res.mean('mase', method=m):.3f} ({names[m]})" for m in BASELINES) + ".")
    decided = comparisons(res, drift)
    for m in BASELINES:
        c = decided[m]
        verdict = {"holds": f"the GRU beats {names[m]}", "fails": f"the GRU does not beat {names[m]}",
                   "undecided": f"the interval does not decide between the GRU and {names[m]}"}[c.outcome]
        text += f" GRU minus {names[m]}: {c.interval()}, {verdict}."
    return text
