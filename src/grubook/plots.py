"""Figures and tables drawn from results files alone (no training), for notebooks and book pages.

Every function takes a loaded results dict (``grubook.results.load``) and returns a matplotlib
Figure (or a pandas DataFrame for tables). Error bars are one standard deviation across seeds.
"""

from __future__ import annotations

import matplotlib

if matplotlib.get_backend().lower().startswith(("qt", "tk", "gtk", "wx", "macosx")):
    matplotlib.use("Agg")                    # never open windows; notebooks use their inline backend
import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np

from .analysis import gradient_floor

__all__ = ["CELL_COLORS", "summary_table", "adding_table", "adding_mse_by_length", "adding_curves", "gradient_flow",
           "gate_traces", "accuracy_bars", "learning_curves", "timing_ratios"]

CELL_COLORS = {"SimpleRNN": "#7f7f7f", "LSTM": "#1f77b4", "GRU": "#d62728"}


def _agg(res, name):
    a = res["aggregates"].get(name)
    return (np.nan, np.nan) if a is None or a["mean"] is None else (a["mean"], a["std"])


def summary_table(res, quantities, rows_key="cell"):
    """A DataFrame of "mean ± std" for metrics named ``<row>.<column>.<quantity>`` or ``<row>.<quantity>``."""
    import pandas as pd

    table = {}
    for name, agg in res["aggregates"].items():
        parts = name.split(".")
        if parts[-1] not in quantities:
            continue
        row, col = parts[0], ".".join(parts[1:-1] + [parts[-1]])
        if agg["mean"] is None:
            text = "not reached"
        else:
            text = f"{agg['mean']:.4g} ± {agg['std']:.2g}"
            if agg["missing"]:
                text += f" ({agg['n']}/{agg['n'] + agg['missing']} seeds)"
        table.setdefault(row, {})[col] = text
    return pd.DataFrame(table).T.rename_axis(rows_key)


def adding_table(res):
    """Adding problem: rows are sequence lengths, columns cells, cells "MSE ± std (solved k/n)"."""
    import pandas as pd

    lengths, cells = _lengths_and_cells(res)
    n = len(res["seeds"])
    table = {}
    for cell in cells:
        column = {}
        for T in lengths:
            mean, std = _agg(res, f"{cell}.T{T}.test_mse")
            solved = round(_agg(res, f"{cell}.T{T}.solved")[0] * n)
            column[T] = f"{mean:.3g} ± {std:.1g} (solved {solved}/{n})"
        table[cell] = column
    return pd.DataFrame(table).rename_axis("T")


def _lengths_and_cells(res):
    return res["parameters"]["lengths"], res["parameters"]["cells"]


def adding_mse_by_length(res):
    """Final test MSE against sequence length for each cell, with the predict-1 baseline."""
    lengths, cells = _lengths_and_cells(res)
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for cell in cells:
        stats = np.array([_agg(res, f"{cell}.T{T}.test_mse") for T in lengths])
        ax.errorbar(lengths, stats[:, 0], yerr=stats[:, 1], marker="o", capsize=3, label=cell,
                    color=CELL_COLORS.get(cell))
    ax.axhline(res["metrics"]["baseline_mse"], ls="--", color="k", lw=1, label="always predict 1 (MSE 1/6)")
    ax.axhline(res["parameters"]["threshold"], ls=":", color="k", lw=1, label="solved threshold")
    ax.set(xscale="log", yscale="log", xlabel="sequence length T (steps)", ylabel="test MSE after training",
           title=f"Adding problem, {res['parameters']['steps']} training steps")
    ax.set_xticks(lengths, [str(T) for T in lengths])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def adding_curves(res, T):
    """Test MSE during training at one length, one line per cell and seed."""
    _, cells = _lengths_and_cells(res)
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for cell in cells:
        for i, seed in enumerate(res["seeds"]):
            c = res["data"]["curves"][f"{cell}.T{T}.seed{seed}"]
            ax.plot(c["steps"], c["test_mse"], color=CELL_COLORS.get(cell), alpha=0.8,
                    label=cell if i == 0 else None)
    ax.axhline(res["metrics"]["baseline_mse"], ls="--", color="k", lw=1, label="always predict 1")
    ax.set(yscale="log", xlabel="training step", ylabel="test MSE", title=f"Adding problem, T = {T}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def gradient_flow(res):
    """‖∂L/∂h_t‖ relative to its value at the last step, before and after training."""
    norms = res["data"]["gradient_norms"]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharey=True)
    for ax, stage in zip(axes, ("initial", "trained")):
        for cell, n in norms.items():
            n = gradient_floor(n[stage])
            ax.plot(np.arange(1, len(n) + 1), n / n[-1], color=CELL_COLORS.get(cell), label=cell)
        ax.set(yscale="log", xlabel="time step t", title=f"{stage} weights")
    axes[0].set_ylabel(r"$\|\partial L/\partial h_t\| \,/\, \|\partial L/\partial h_T\|$")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"Gradient reaching each hidden state, adding problem T = {res['data']['analysis_length']}")
    fig.tight_layout()
    return fig


def gate_traces(res):
    """Mean update and reset gate over time for three test sequences, markers shaded."""
    g = res["data"]["gates"]
    z, r, markers = (np.asarray(g[k]) for k in ("z_mean", "r_mean", "markers"))
    fig, axes = plt.subplots(len(z), 1, figsize=(8, 1.9 * len(z) + 0.6), sharex=True)
    axes = np.atleast_1d(axes)
    t = np.arange(1, z.shape[1] + 1)
    for i, ax in enumerate(axes):
        for pos in np.flatnonzero(markers[i]):
            ax.axvspan(pos + 0.5, pos + 1.5, color="gold", alpha=0.6, lw=0)
        ax.plot(t, z[i], color="#d62728", label=r"update gate $z_t$ (mean over units)")
        ax.plot(t, r[i], color="#2ca02c", label=r"reset gate $r_t$ (mean over units)")
        ax.set(ylim=(0, 1), ylabel=f"sequence {i + 1}")
    axes[0].legend(fontsize=8, loc="upper right")
    axes[-1].set_xlabel("time step t (marked steps shaded)")
    fig.suptitle("Gates of the trained GRU (article convention: z = 1 takes the candidate)")
    fig.tight_layout()
    return fig


def accuracy_bars(res, groups, cells=None, baselines=(), title="", xlabel="data set"):
    """Test accuracy per cell (mean ± std over seeds) for each group (data set or condition).

    ``groups`` maps a label to the metric-name prefix, e.g. {"digits": "digits"} reads
    ``<prefix>.<cell>.test_accuracy``. ``baselines`` are (label, metric) pairs of seedless metrics
    drawn as horizontal ticks.
    """
    cells = cells or res["parameters"]["cells"]
    fig, ax = plt.subplots(figsize=(1.8 + 2.2 * len(groups), 3.8))
    width = 0.8 / len(cells)
    for j, cell in enumerate(cells):
        stats = np.array([_agg(res, f"{prefix}.{cell}.test_accuracy") for prefix in groups.values()])
        ax.bar(np.arange(len(groups)) + (j - (len(cells) - 1) / 2) * width, stats[:, 0], width,
               yerr=stats[:, 1], capsize=3, label=cell, color=CELL_COLORS.get(cell))
    for k, (label, name) in enumerate(baselines):
        group_index, metric_name = name
        ax.hlines(res["metrics"][metric_name], group_index - 0.45, group_index + 0.45,
                  colors="k", linestyles=["--", ":", "-."][k % 3], label=label)
    ax.set_xticks(np.arange(len(groups)), list(groups))
    ax.set(xlabel=xlabel, ylabel="test accuracy", ylim=(0, 1.05), title=title)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def learning_curves(res, regimes=None):
    """Training and validation accuracy per epoch for each regime (first seed)."""
    regimes = regimes or res["parameters"]["regimes"]
    columns = min(3, len(regimes))
    rows = -(-len(regimes) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.3 * columns, 2.8 * rows), sharey=True, squeeze=False)
    axes = axes.ravel()
    for ax in axes[len(regimes):]:
        ax.set_visible(False)
    for ax, regime in zip(axes, regimes):
        h = res["data"]["histories"][regime]
        epochs = np.arange(1, len(h["accuracy"]) + 1)
        ax.plot(epochs, h["accuracy"], label="training", color="#1f77b4")
        ax.plot(epochs, h["val_accuracy"], label="validation", color="#d62728")
        ax.set(title=regime.replace("_", " "), xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02))
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def timing_ratios(res, mode="compiled"):
    """Training-step time of LSTM and GRU relative to SimpleRNN, per (T, units) configuration."""
    p = res["parameters"]
    configs = [(T, n) for T in p["lengths"] for n in p["units"]]
    fig, ax = plt.subplots(figsize=(1.5 + 1.3 * len(configs), 3.6))
    cells = [c for c in p["cells"] if c != "SimpleRNN"]
    width = 0.8 / max(len(cells), 1)
    for j, cell in enumerate(cells):
        ratios = [res["metrics"][f"{mode}.T{T}.u{n}.{cell}_over_SimpleRNN.train"] for T, n in configs]
        ax.bar(np.arange(len(configs)) + (j - (len(cells) - 1) / 2) * width, ratios, width, label=cell,
               color=CELL_COLORS.get(cell))
    ax.axhline(1, color="k", lw=1)
    ax.set_xticks(np.arange(len(configs)), [f"T={T}\nunits={n}" for T, n in configs], fontsize=8)
    ax.set(xlabel="configuration (sequence length T, units)", ylabel="training-step time / SimpleRNN's",
           title=f"Cost per training step ({mode} execution)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def seed_example_bars(res):
    """Test accuracy of every model on the article's data, mean ± std over seeds."""
    names = ["logistic_regression", "mlp"] + res["parameters"]["cells"] + ["GRU_shuffled_order"]
    labels = {"logistic_regression": "logistic regression", "mlp": "MLP (64 units)",
              "GRU_shuffled_order": "GRU, steps shuffled"}
    stats = np.array([_agg(res, f"{n}.test_accuracy") for n in names])
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    colors = [CELL_COLORS.get(n, "#9467bd" if n == "GRU_shuffled_order" else "#bcbd22") for n in names]
    ax.barh(np.arange(len(names)), stats[:, 0], xerr=stats[:, 1], color=colors, capsize=3)
    ax.set_yticks(np.arange(len(names)), [labels.get(n, n) for n in names])
    lo = max(0.0, np.nanmin(stats[:, 0] - stats[:, 1]) - 0.05)
    ax.set(xlim=(lo, 1.0), xlabel=f"test accuracy ({res['metrics']['test_samples']} held-out samples)",
           title="The article's example: 20 tabular features read as 20 steps")
    for i, (mean, _) in enumerate(stats):
        ax.text(mean + 0.003, i, f"{mean:.3f}", va="center", fontsize=8)
    fig.tight_layout()
    return fig


def real_sequences_bars(res):
    """Test accuracy per data set and cell, with published accuracies as dashed lines."""
    datasets = res["parameters"]["datasets"]
    baselines = []
    for i, name in enumerate(datasets):
        for method in res["data"]["published"].get(name, {}):
            baselines.append((f"{name}: published {method.replace('_', '-').upper()}",
                              (i, f"{name}.published.{method}")))
    return accuracy_bars(res, {n.replace("_", " "): n for n in datasets}, baselines=baselines,
                         title="Real sequence data: test accuracy")


def timing_table(res):
    """Milliseconds per training step for each configuration and cell, plus GRU/LSTM ratios."""
    import pandas as pd

    p, m = res["parameters"], res["metrics"]
    rows = []
    for mode in ("default", "compiled"):
        for T in p["lengths"]:
            for n in p["units"]:
                row = {"execution": mode, "T": T, "units": n}
                for cell in p["cells"]:
                    row[f"{cell} train ms"] = round(1000 * m[f"{mode}.T{T}.u{n}.{cell}.train_seconds"], 2)
                key = f"{mode}.T{T}.u{n}.GRU_over_LSTM.train"
                if key in m:
                    row["GRU / LSTM"] = round(m[key], 2)
                rows.append(row)
    return pd.DataFrame(rows).set_index(["execution", "T", "units"])
