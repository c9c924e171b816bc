"""Figures and tables drawn from results files alone (no training), for notebooks and book pages.

Every function takes a results view (:class:`grubook.results.view.Results`) and returns a
matplotlib Figure (or a pandas DataFrame for tables); metrics are read by quantity and coordinates,
never by a hand-built name. Error bars are one standard deviation across seeds unless a function
says it draws 95 % intervals.

Every figure of the book is drawn in one style, :data:`STYLE`, which importing this module applies:
no figure is wider than :data:`MAX_WIDTH_IN` and no text smaller than :data:`MIN_FONT_PT`, so that
on a phone, where a figure shrinks to the width of the page, its text stays legible. SimpleRNN,
LSTM and GRU always have the colours in :data:`CELL_COLORS`; other series use :data:`OTHER_COLORS`,
which never repeat a cell's colour. Colour is never the only cue (WCAG 1.4.1, and readers who do not
tell red from grey): a cell drawn as a line or points also has its :data:`CELL_LINESTYLES` and
:data:`CELL_MARKERS`, and a cell's bar among other cells' its :data:`CELL_HATCHES`.
"""

from __future__ import annotations

import matplotlib

if matplotlib.get_backend().lower().startswith(("qt", "tk", "gtk", "wx", "macosx")):
    matplotlib.use("Agg")                    # never open windows; notebooks use their inline backend
import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np

from ..training.probes import gradient_floor

__all__ = ["CELL_COLORS", "CELL_LINESTYLES", "CELL_MARKERS", "CELL_HATCHES", "OTHER_COLORS", "STYLE", "MAX_WIDTH_IN",
           "MIN_FONT_PT", "adding_table", "adding_steps_by_length", "gradient_ratio_by_length", "gate_heatmap",
           "adding_curves", "gradient_flow", "gate_traces", "accuracy_bars",
           "learning_curves", "timing_ratios", "timing_table", "seed_example_bars", "seed_example_table",
           "real_sequences_bars", "real_sequences_table", "counting_generalisation", "counting_table", "interval_table",
           "article_layer_tables", "article_layer_curves", "chrono_table", "chrono_steps", "seq2seq_table",
           "seq2seq_exact_match", "char_lm_table", "char_lm_bars", "forecasting_table", "forecast_examples",
           "overfitting_table"]

CELL_COLORS = {"SimpleRNN": "#7f7f7f", "LSTM": "#1f77b4", "GRU": "#d62728"}
# The same cells told apart without colour: the GRU, the book's subject, solid with round markers.
CELL_LINESTYLES = {"SimpleRNN": ":", "LSTM": "--", "GRU": "-"}
CELL_MARKERS = {"SimpleRNN": "^", "LSTM": "s", "GRU": "o"}
CELL_HATCHES = {"SimpleRNN": "..", "LSTM": "//", "GRU": ""}
# For everything that is not one of the three cells (Okabe and Ito's colour-blind-safe hues, less
# the blue and vermilion that are too close to the LSTM's and the GRU's).
OTHER_COLORS = {"orange": "#e69f00", "green": "#009e73", "purple": "#8e63b5", "pink": "#cc79a7",
                "yellow": "#f0e442", "black": "#000000"}

# On a phone (390 px) a figure fills the text column, about 358 CSS pixels, so a figure W inches
# wide drawn at 100 dpi is scaled by 358 / (100 W), and text of s points (s * 100 / 72 pixels)
# appears as about 5 s / W pixels. At 6.4 in and 11 pt that is 8.5 px, about the smallest size read
# without zooming. The HTML and the PDF show the same PNG.
MAX_WIDTH_IN = 6.4
MIN_FONT_PT = 11.0
STYLE = {
    "font.size": 12.0, "axes.titlesize": 13.0, "axes.labelsize": 12.0, "figure.titlesize": 13.0,
    "xtick.labelsize": MIN_FONT_PT, "ytick.labelsize": MIN_FONT_PT, "legend.fontsize": MIN_FONT_PT,
    "legend.title_fontsize": MIN_FONT_PT,
    "figure.figsize": (MAX_WIDTH_IN, 4.0), "figure.dpi": 100,
    # Opaque white, so that a figure keeps its dark text readable on the dark theme.
    "figure.facecolor": "white", "savefig.facecolor": "white", "axes.facecolor": "white",
    "axes.prop_cycle": matplotlib.cycler(color=list(OTHER_COLORS.values())),
    "axes.spines.top": False, "axes.spines.right": False,
}


def use_style() -> None:
    """Apply the book's figure style (:data:`STYLE`) to matplotlib; importing this module does it."""
    matplotlib.rcParams.update(STYLE)


use_style()


def _mean_std(res, quantity, **coordinates):
    if not res.has(quantity, **coordinates) or res.mean(quantity, **coordinates) is None:
        return (np.nan, np.nan)
    return res.mean(quantity, **coordinates), res.std(quantity, **coordinates)


def _ran(res, cell, T):
    """Whether ``cell`` ran at length T of the adding problem."""
    return res.has("solved", cell=cell, T=T)


def adding_table(res):
    """Adding problem: rows are sequence lengths, columns cells; each entry is how many seeds
    solved the task and the median steps they took, with unsolved runs censored at the cap."""
    import pandas as pd

    lengths, cells = _lengths_and_cells(res)
    cap = res.parameters["max_steps"]
    table = {}
    for cell in cells:
        column = {}
        for T in lengths:
            if not _ran(res, cell, T):
                column[T] = "not run"
                continue
            solved = [bool(v) for v in res.per_seed("solved", cell=cell, T=T)]
            steps = np.array(res.per_seed("steps_to_solve", cell=cell, T=T), dtype=float)
            k, n = sum(solved), len(solved)
            if k == 0:
                column[T] = f"0/{n} solved (all > {cap:,} steps)"
            else:
                median = np.median(np.where(solved, steps, np.inf))
                shown = f"{median:,.0f}" if np.isfinite(median) else f"> {cap:,}"
                column[T] = f"{k}/{n} solved, median {shown} steps"
        table[cell] = column
    return pd.DataFrame(table).rename_axis("sequence length T")


def _lengths_and_cells(res):
    return res.parameters["lengths"], res.parameters["cells"]


def adding_steps_by_length(res):
    """Steps each run needed to solve the adding problem against T: one dot per run, hollow at the
    cap for runs that did not solve it within the cap (censored), and the median as a line."""
    lengths, cells = _lengths_and_cells(res)
    cap = res.parameters["max_steps"]
    fig, ax = plt.subplots(figsize=(MAX_WIDTH_IN, 4.8))
    offsets = np.linspace(-0.06, 0.06, len(cells))
    for cell, off in zip(cells, offsets):
        medians, ran = [], []
        for T in lengths:
            if not _ran(res, cell, T):
                continue                                   # this cell did not run at this length
            ran.append(T)
            steps = np.array(res.per_seed("steps_to_solve", cell=cell, T=T), dtype=float)
            solved = np.array([bool(v) for v in res.per_seed("solved", cell=cell, T=T)])
            x = np.full(len(steps), T * 10 ** off)
            ax.scatter(x[solved], steps[solved], color=CELL_COLORS.get(cell), marker=CELL_MARKERS.get(cell, "o"),
                       s=18, zorder=3)
            ax.scatter(x[~solved], np.full((~solved).sum(), cap), facecolors="none", marker=CELL_MARKERS.get(cell, "o"),
                       edgecolors=CELL_COLORS.get(cell), s=30, zorder=3)
            medians.append(np.median(np.where(solved, steps, np.inf)))
        medians = np.array(medians)
        ok = np.isfinite(medians)
        ax.plot(np.array(ran)[ok] * 10 ** off, medians[ok], color=CELL_COLORS.get(cell),
                ls=CELL_LINESTYLES.get(cell, "-"))
        # The legend shows the cell's marker (its runs) on its line style (its medians).
        ax.plot([], [], color=CELL_COLORS.get(cell), ls=CELL_LINESTYLES.get(cell, "-"),
                marker=CELL_MARKERS.get(cell, "o"), label=cell)
    ax.axhline(cap, ls=":", color="k", lw=1, label=f"cap ({cap:,} steps): hollow = not solved")
    ax.set(xscale="log", yscale="log", xlabel="sequence length T (steps)", ylabel="training steps to solve",
           title="Adding problem: steps until test MSE < " + f"{res.parameters['threshold']:g}")
    ax.set_xticks(lengths, [str(T) for T in lengths])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    # Below the axes: inside, it would hide the runs at the longest length.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    fig.tight_layout()
    return fig


def gradient_ratio_by_length(res):
    """Decades of gradient lost between the last step and the first, against T, before and after
    training: mean over seeds with a 95 % interval."""
    from ..verdicts.stats import t_interval

    lengths, cells = _lengths_and_cells(res)
    fig, axes = plt.subplots(2, 1, figsize=(MAX_WIDTH_IN, 6.4), sharex=True, sharey=True)
    for ax, (quantity, stage) in zip(axes, (("log10_grad_ratio_initial", "initial weights"),
                                            ("log10_grad_ratio", "after training"))):
        for cell in cells:
            ran = [T for T in lengths if _ran(res, cell, T) and res.present(quantity, cell=cell, T=T)]
            iv = [t_interval(res.per_seed(quantity, cell=cell, T=T)) for T in ran]
            est = np.array([i.estimate for i in iv])
            err = np.array([[i.estimate - i.low for i in iv], [i.high - i.estimate for i in iv]])
            ax.errorbar(ran, est, yerr=np.nan_to_num(err, posinf=0), marker=CELL_MARKERS.get(cell, "o"), capsize=3,
                        label=cell, color=CELL_COLORS.get(cell), ls=CELL_LINESTYLES.get(cell, "-"))
        ax.set(xscale="log", title=stage)
        ax.set_xticks(lengths, [str(T) for T in lengths])
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    axes[-1].set_xlabel("sequence length T")
    fig.supylabel(r"$\log_{10}\,\|\partial L/\partial h_1\| / \|\partial L/\partial h_T\|$", fontsize=STYLE["axes.labelsize"])
    axes[0].legend()
    fig.tight_layout()
    return fig


def gate_heatmap(res):
    """Update and reset gate of every unit of the trained GRU over one test sequence (the first),
    marked steps indicated: where the memory lives, unit by unit."""
    g = res.data["gates"]
    z, r, markers = np.asarray(g["z"]), np.asarray(g["r"]), np.asarray(g["markers"])[0]
    fig, axes = plt.subplots(2, 1, figsize=(MAX_WIDTH_IN, 5.4), sharex=True)
    for ax, gate, name in zip(axes, (z, r), (r"update gate $z_t$", r"reset gate $r_t$")):
        image = ax.imshow(gate.T, aspect="auto", cmap="viridis", vmin=0, vmax=1, interpolation="nearest",
                          extent=(0.5, gate.shape[0] + 0.5, gate.shape[1] - 0.5, -0.5))
        for pos in np.flatnonzero(markers):
            ax.axvline(pos + 1, color="white", lw=1.2, ls="--")
        ax.set(ylabel="unit", title=name)
    axes[-1].set_xlabel("time step t (dashed: marked steps)")
    fig.colorbar(image, ax=axes, shrink=0.8, label="gate value")
    return fig


def adding_curves(res, T):
    """Test MSE during training at one length, one line per cell and seed."""
    _, cells = _lengths_and_cells(res)
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for cell in cells:
        for i, seed in enumerate(res.seeds):
            c = res.data["curves"][f"{cell}.T{T}.seed{seed}"]
            ax.plot(c["steps"], c["test_mse"], color=CELL_COLORS.get(cell), ls=CELL_LINESTYLES.get(cell, "-"),
                    alpha=0.8, label=cell if i == 0 else None)
    ax.axhline(res.value("baseline_mse"), ls="--", color="k", lw=1, label="always predict 1")
    ax.set(yscale="log", xlabel="training step", ylabel="test MSE", title=f"Adding problem, T = {T}")
    ax.legend()
    fig.tight_layout()
    return fig


def gradient_flow(res):
    """‖∂L/∂h_t‖ relative to its value at the last step, before and after training."""
    norms = res.data["gradient_norms"]
    fig, axes = plt.subplots(2, 1, figsize=(MAX_WIDTH_IN, 6.4), sharex=True, sharey=True)
    for ax, stage in zip(axes, ("initial", "trained")):
        for cell, n in norms.items():
            n = gradient_floor(n[stage])
            ax.plot(np.arange(1, len(n) + 1), n / n[-1], color=CELL_COLORS.get(cell), ls=CELL_LINESTYLES.get(cell, "-"),
                    label=cell)
        ax.set(yscale="log", title=f"{stage} weights",
               ylabel=r"$\|\partial L/\partial h_t\| \,/\, \|\partial L/\partial h_T\|$")
    axes[-1].set_xlabel("time step t")
    axes[0].legend()
    fig.suptitle(f"Gradient reaching each hidden state, adding problem T = {res.data['analysis_length']}")
    fig.tight_layout()
    return fig


def gate_traces(res):
    """Mean update and reset gate over time for three test sequences, markers shaded."""
    g = res.data["gates"]
    z, r, markers = (np.asarray(g[k]) for k in ("z_mean", "r_mean", "markers"))
    fig, axes = plt.subplots(len(z), 1, figsize=(MAX_WIDTH_IN, 1.9 * len(z) + 1.2), sharex=True)
    axes = np.atleast_1d(axes)
    t = np.arange(1, z.shape[1] + 1)
    for i, ax in enumerate(axes):
        for pos in np.flatnonzero(markers[i]):
            ax.axvspan(pos + 0.5, pos + 1.5, color=OTHER_COLORS["yellow"], alpha=0.7, lw=0)
        ax.plot(t, z[i], color=OTHER_COLORS["purple"], label=r"update gate $z_t$ (mean over units)")
        ax.plot(t, r[i], color=OTHER_COLORS["green"], label=r"reset gate $r_t$ (mean over units)")
        ax.set(ylim=(0, 1), ylabel=f"sequence {i + 1}")
    axes[0].legend(loc="upper center", bbox_to_anchor=(0.5, 1.02), ncol=1, framealpha=0.9)
    axes[-1].set_xlabel("time step t (marked steps shaded)")
    fig.suptitle("Gates of the trained GRU\n(article convention: z = 1 takes the candidate)")
    fig.tight_layout()
    return fig


def accuracy_bars(res, groups, cells=None, baselines=(), title="", xlabel="data set"):
    """Test accuracy per cell (mean ± std over seeds) for each group (data set or condition).

    ``groups`` maps a label to the coordinates of the group's ``test_accuracy`` besides the cell,
    e.g. {"digits": {"dataset": "digits"}}. ``baselines`` are (label, group index, quantity,
    coordinates) of seedless metrics, drawn as short horizontal ticks side by side over their group
    (so that close values do not hide each other) and listed with their values in the legend, below
    the axes. The y axis starts just below the lowest bar or tick, not at 0, so that differences
    stay visible.
    """
    cells = cells or res.parameters["cells"]
    fig, ax = plt.subplots(figsize=(min(1.8 + 2.4 * len(groups), MAX_WIDTH_IN), 4.4 + 0.25 * len(baselines)))
    width = 0.8 / len(cells)
    lowest = []
    for j, cell in enumerate(cells):
        stats = np.array([_mean_std(res, "test_accuracy", cell=cell, **where) for where in groups.values()])
        ax.bar(np.arange(len(groups)) + (j - (len(cells) - 1) / 2) * width, stats[:, 0], width,
               yerr=stats[:, 1], capsize=3, label=cell, color=CELL_COLORS.get(cell),
               hatch=CELL_HATCHES.get(cell), edgecolor="white")
        lowest.append(np.nanmin(stats[:, 0] - np.nan_to_num(stats[:, 1])))
    per_group: dict[int, int] = {}
    for k, (label, group_index, quantity, where) in enumerate(baselines):
        slot, slots = per_group.get(group_index, 0), sum(1 for b in baselines if b[1] == group_index)
        per_group[group_index] = slot + 1
        left = group_index - 0.45 + slot * 0.9 / slots
        value = res.value(quantity, **where)
        ax.hlines(value, left, left + 0.9 / slots, colors="k", linestyles=["--", ":", "-."][k % 3], lw=1.6,
                  label=f"{label} ({value:.3f})")
        lowest.append(value)
    bottom = max(0.0, float(np.floor((min(lowest) - 0.05) * 20) / 20))
    ax.set_xticks(np.arange(len(groups)), list(groups))
    ax.set(xlabel=xlabel, ylabel="test accuracy", ylim=(bottom, 1.0), title=title)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1, frameon=False)
    fig.tight_layout()
    return fig


def learning_curves(res, regimes=None):
    """Training and validation accuracy per epoch for each regime (first seed)."""
    regimes = regimes or res.parameters["regimes"]
    columns = min(2, len(regimes))
    rows = -(-len(regimes) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(MAX_WIDTH_IN, 2.6 * rows + 0.4), sharey=True, squeeze=False)
    axes = axes.ravel()
    for ax in axes[len(regimes):]:
        ax.set_visible(False)
    for ax, regime in zip(axes, regimes):
        h = res.data["histories"][regime]
        epochs = np.arange(1, len(h["accuracy"]) + 1)
        ax.plot(epochs, h["accuracy"], label="training", color=OTHER_COLORS["black"])
        ax.plot(epochs, h["val_accuracy"], label="validation", color=OTHER_COLORS["orange"], ls="--")
        ax.set(title=regime.replace("_", " "), xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02))
    axes[0].legend()
    fig.tight_layout()
    return fig


def timing_ratios(res, kind="train"):
    """GRU time / LSTM time per configuration and implementation, with 95 % intervals over the
    paired repeats; below 1 the GRU is faster."""
    from ..experiments.efficiency import MODE_NAMES

    p = res.parameters
    configs = [(T, n) for T in p["lengths"] for n in p["units"]]
    modes = p["modes"]
    fig, ax = plt.subplots(figsize=(MAX_WIDTH_IN, 4.8))
    width = 0.8 / len(modes)
    shades = {"default": OTHER_COLORS["orange"], "compiled": OTHER_COLORS["green"], "torch": OTHER_COLORS["purple"]}
    for j, mode in enumerate(modes):
        at = [{"mode": mode, "T": T, "units": n, "kind": kind} for T, n in configs]
        est = np.array([res.value("config_ratio", **c) for c in at])
        err = np.array([[res.value("config_ratio", **c) - res.value("config_ratio_low", **c) for c in at],
                        [res.value("config_ratio_high", **c) - res.value("config_ratio", **c) for c in at]])
        ax.bar(np.arange(len(configs)) + (j - (len(modes) - 1) / 2) * width, est, width, yerr=err, capsize=3,
               label=MODE_NAMES.get(mode, mode), color=shades.get(mode))
    ax.axhline(1, color="k", lw=1)
    ax.set_yscale("log")
    low, high = ax.get_ylim()
    ax.set_yticks([t for t in (0.25, 0.33, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.2, 1.5, 2, 3, 4) if low <= t <= high],
                  minor=False)
    ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xticks(np.arange(len(configs)), [f"T={T}\nunits={n}" for T, n in configs])
    ax.set(xlabel="configuration (sequence length T, units)",
           ylabel=f"GRU / LSTM {'training-step' if kind == 'train' else 'inference'} time",
           title="GRU time relative to LSTM\n(below 1: GRU faster)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=3, frameon=False)
    fig.tight_layout()
    return fig


SEED_EXAMPLE_LABELS = {"logistic_regression": "logistic regression", "mlp": "MLP (64 units)",
                       "GRU_shuffled_order": "GRU, steps shuffled"}


def seed_example_bars(res):
    """Test accuracy of every model on the article's data, mean ± std over seeds; the shuffled-order
    GRU's bar also shows each of its orders' runs as a dot (results since issue 17 keep them)."""
    names = ["logistic_regression", "mlp"] + res.parameters["cells"] + ["GRU_shuffled_order"]
    stats = np.array([_mean_std(res, "test_accuracy", model=n) for n in names])
    fig, ax = plt.subplots(figsize=(MAX_WIDTH_IN, 3.8))
    colors = [CELL_COLORS.get(n, OTHER_COLORS["pink"] if n == "GRU_shuffled_order" else OTHER_COLORS["orange"])
              for n in names]
    ax.barh(np.arange(len(names)), stats[:, 0], xerr=stats[:, 1], color=colors, capsize=3)
    lo = max(0.0, np.nanmin(stats[:, 0] - stats[:, 1]) - 0.05)
    runs = res.data.get("order_control", [])
    if runs:
        # Spread the dots vertically a little so that runs with the same accuracy stay visible.
        accuracy = np.array([r["test_accuracy"] for r in runs])
        jitter = np.linspace(-0.25, 0.25, len(runs)) if len(runs) > 1 else np.zeros(1)
        ax.plot(accuracy, len(names) - 1 + jitter, "o", color="black", markerfacecolor="white", markersize=5,
                label=f"one run on a shuffled order ({len(runs)} runs, each its own order)")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.28), frameon=False)
        lo = min(lo, max(0.0, float(accuracy.min()) - 0.05))
    ax.set_yticks(np.arange(len(names)), [SEED_EXAMPLE_LABELS.get(n, n) for n in names])
    ax.set(xlim=(lo, 1.0), xlabel=f"test accuracy ({res.value('test_samples')} held-out samples)",
           title="The article's example:\n20 tabular features read as 20 steps")
    for i, (mean, _) in enumerate(stats):          # inside the bar, clear of the error bar
        ax.text(lo + 0.004, i, f"{mean:.3f}", va="center", color="white", fontweight="bold")
    fig.tight_layout()
    return fig


def seed_example_table(res):
    """Every model's test and training accuracy and epochs, with 95 % intervals over seeds."""
    names = ["logistic_regression", "mlp", *res.parameters["cells"], "GRU_shuffled_order"]
    return interval_table(res, [(SEED_EXAMPLE_LABELS.get(n, n), {"model": n}) for n in names],
                          [("test accuracy", "test_accuracy", ".3f"), ("training accuracy", "train_accuracy", ".3f"),
                           ("epochs", "epochs_run", ".0f")], "model (95 % interval over seeds)")


def seed_example_order(res):
    """Each shuffled run's test accuracy against the share of predictive weight its order puts in
    the last steps (``seed_example_order.analysis``), with the given order's GRU runs at the given
    order's share."""
    from ..experiments.seed_example_order import LAST_STEPS, analysis

    found = analysis(res)
    fig, ax = plt.subplots(figsize=(MAX_WIDTH_IN, 3.8))
    ax.plot(found["shares"], found["accuracy"], "o", color=OTHER_COLORS["pink"], markeredgecolor="black",
            label="GRU, a shuffled order (one run each)")
    given = found["given_accuracy"]
    ax.plot([found["given_share"]] * len(given), given, "s", color=CELL_COLORS["GRU"], markerfacecolor="white",
            markeredgewidth=1.5, label="GRU, the given order (one run per seed)")
    ax.set(xlabel=f"share of the columns' predictive weight read in the last {LAST_STEPS} steps",
           ylabel="test accuracy", title="What the last steps read, and how the GRU scores")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1, frameon=False)
    fig.tight_layout()
    return fig


def seed_example_order_table(res):
    """For each way of scoring an order, the given order's score and the rank correlation of the
    shuffled runs' test accuracy with it (``seed_example_order.analysis``), with its 95 % interval."""
    import pandas as pd

    from ..experiments.seed_example_order import analysis
    from ..verdicts.decide import interval_text

    found = analysis(res)
    rows = {name: {"given order's score": f"{entry['given']:.2f}",
                   f"rank correlation over {found['runs']} shuffled runs (95 % interval)":
                       interval_text(entry["rho"].estimate, entry["rho"].low, entry["rho"].high, ".2f")}
            for name, entry in found["sensitivity"].items()}
    return pd.DataFrame(rows).T.rename_axis("score of an order (predictive weight)")


def real_sequences_bars(res):
    """Test accuracy per data set and cell, with published accuracies as dashed lines."""
    datasets = res.parameters["datasets"]
    baselines = [(f"{name}: published {method.replace('_', '-').upper()}", i, "published",
                  {"dataset": name, "method": method})
                 for i, name in enumerate(datasets) for method in res.data["published"].get(name, {})]
    return accuracy_bars(res, {n.replace("_", " "): {"dataset": n} for n in datasets}, baselines=baselines,
                         title="Real sequence data: test accuracy")


def real_sequences_table(res):
    """Accuracy, epochs and the share of runs the epoch cap stopped, per data set and cell."""
    from ..experiments.real_sequences import DATASET_NAMES

    p = res.parameters
    rows = [(f"{DATASET_NAMES.get(d, d)}: {cell}", {"dataset": d, "cell": cell}) for d in p["datasets"] for cell in p["cells"]]
    return interval_table(res, rows, [("test accuracy", "test_accuracy", ".3f"), ("training accuracy", "train_accuracy", ".3f"),
                                      ("epochs run", "epochs_run", ".0f"), ("share stopped by the cap", "hit_cap", ".1f")],
                          "data set: cell (95 % interval over seeds)")


def timing_table(res):
    """Milliseconds per training step for each implementation, configuration and cell, the
    GRU/LSTM ratio with its interval, and the GRU step as a share of the matmul rate."""
    import pandas as pd

    from ..experiments.efficiency import MODE_NAMES

    p = res.parameters
    rows = []
    for mode in p["modes"]:
        for T in p["lengths"]:
            for n in p["units"]:
                config = {"mode": mode, "T": T, "units": n}
                row = {"implementation": MODE_NAMES.get(mode, mode), "T": T, "units": n}
                for cell in p["cells"]:
                    row[f"{cell} (ms/step)"] = f"{1000 * res.value('seconds', **config, cell=cell, kind='train'):.2f}"
                for kind, label in (("train", "training"), ("inference", "inference")):
                    if res.has("config_ratio", **config, kind=kind):
                        est, low, high = (res.value(q, **config, kind=kind)
                                          for q in ("config_ratio", "config_ratio_low", "config_ratio_high"))
                        row[f"GRU / LSTM, {label}"] = f"{est:.2f} [{low:.2f}, {high:.2f}]"
                if "GRU" in p["cells"]:
                    row["GRU, % of matmul rate"] = f"{100 * res.value('peak_fraction', **config, cell='GRU', kind='train'):.0f}"
                rows.append(row)
    return pd.DataFrame(rows).set_index(["implementation", "T", "units"])


def counting_generalisation(res):
    """Which string lengths n each cell recognises after training on n ≤ train_max_n: one row per
    seed, filled where the string was recognised."""
    p = res.parameters
    cells, seeds = p["cells"], res.seeds
    fig, axes = plt.subplots(len(cells), 1, figsize=(MAX_WIDTH_IN, 1.3 + 0.22 * len(seeds) * len(cells)), sharex=True)
    axes = np.atleast_1d(axes)
    for ax, cell in zip(axes, cells):
        grid = np.array([res.data["recognised"][f"{cell}.seed{s}"] for s in seeds])
        ax.imshow(grid, aspect="auto", cmap=matplotlib.colors.ListedColormap(["#f0f0f0", CELL_COLORS.get(cell, "k")]),
                  vmin=0, vmax=1, interpolation="nearest", extent=(0.5, grid.shape[1] + 0.5, len(seeds) - 0.5, -0.5))
        ax.axvline(p["train_max_n"] + 0.5, color="k", ls="--", lw=1)
        ax.set_yticks(range(len(seeds)), [f"seed {s}" for s in seeds])
        ax.set_ylabel(cell, rotation=0, ha="right", va="center")
    axes[-1].set_xlabel(f"n (strings aⁿbⁿ)\ndashed: longest trained, n = {p['train_max_n']}")
    fig.suptitle("Strings recognised (filled) after training")
    fig.tight_layout()
    return fig


def interval_table(res, rows, columns, row_title="", column_coordinates=None):
    """A readable table of per-seed metrics: one row per (label, coordinates), one column per
    (label, quantity, format) with, optionally, more coordinates per column; each entry is the
    mean over seeds with its 95 % Student-t interval, "0.884 [0.861, 0.907]" (a single seed shows
    its value alone; a missing metric, "–")."""
    import pandas as pd

    from ..verdicts.stats import t_interval

    table = {}
    for row_label, row_where in rows:
        entry = {}
        for j, (col_label, quantity, fmt) in enumerate(columns):
            where = row_where | (column_coordinates[j] if column_coordinates else {})
            values = res.present(quantity, **where) if res.has(quantity, **where) else []
            if not values:
                entry[col_label] = "–"
                continue
            iv = t_interval(values)
            entry[col_label] = (format(iv.estimate, fmt) if iv["n"] == 1 else
                                f"{iv.estimate:{fmt}} [{iv.low:{fmt}}, {iv.high:{fmt}}]")
        table[row_label] = entry
    return pd.DataFrame(table).T.rename_axis(row_title)


def counting_table(res):
    """How far each cell recognises aⁿbⁿ, with 95 % intervals over seeds."""
    p = res.parameters
    return interval_table(res, [(cell, {"cell": cell}) for cell in p["cells"]],
                          [("longest n, all recognised up to it", "generalises_to", ".1f"),
                           ("training strings recognised", "train_recognised", ".2f"),
                           (f"strings n = {p['train_max_n'] + 1}…{p['test_max_n']} recognised",
                            "beyond_training_recognised", ".2f")], "cell (95 % interval over seeds)")


def _interval_cell(values, fmt):
    from ..verdicts.stats import t_interval

    iv = t_interval(values)
    return format(iv.estimate, fmt) if iv["n"] == 1 else f"{iv.estimate:{fmt}} [{iv.low:{fmt}}, {iv.high:{fmt}}]"


def article_layer_tables(res):
    """Two tables: the largest equivalence errors of the article's cell, and the test MSE of both
    layers after training side by side (95 % intervals over seeds)."""
    import pandas as pd

    checks = {"vs_reference": "outputs vs NumPy reference", "vs_keras": "outputs vs keras GRU",
              "gradient_vs_bptt": "gradients vs reference BPTT (relative)"}
    equivalence = pd.DataFrame({"errors": {label: _interval_cell(res.per_seed("equivalence", check=check), ".1e")
                                           for check, label in checks.items()}}).T.rename_axis(
        "largest error (95 % interval over seeds)")
    training = interval_table(res, [("keras.layers.GRU(reset_after=False)", {"layer": "builtin"}),
                                    ("RNN(ArticleGRUCell)", {"layer": "article"})],
                              [(f"test MSE after {res.parameters['steps']} steps", "final_test_mse", ".4f")],
                              "layer (95 % interval over seeds)")
    return equivalence, training


def chrono_table(res):
    """Solve rate and steps to solve per initialisation, with 95 % intervals over seeds."""
    return interval_table(res, [("default (zero bias)", {"init": "default"}), ("chrono", {"init": "chrono"})],
                          [("solved", "solved", ".1f"), ("steps to solve (censored at the cap)", "steps_to_solve", ".0f")],
                          "initialisation (95 % interval over seeds)")


def char_lm_table(res):
    """Held-out and training bits per character per cell, with 95 % intervals over seeds."""
    rows = [(f"{c} ({res.value('units', cell=c)} units, {res.value('params', cell=c):,} parameters)", c)
            for c in res.parameters["cells"]]
    import pandas as pd

    return pd.DataFrame({label: {"held-out bits per character": _interval_cell(res.per_seed("held_out_bpc", model=c), ".3f"),
                                 "training text, bits per character": _interval_cell(res.per_seed("train_bpc", cell=c), ".3f")}
                         for label, c in rows}).T.rename_axis("cell (95 % interval over seeds)")


def seq2seq_table(res):
    """Exact match at a few lengths per model (cell and encoder), with 95 % intervals over seeds."""
    from ..experiments.seq2seq import arms_of

    p = res.parameters
    shown = sorted({1, p["train_max_len"] // 2, p["train_max_len"], p["test_max_len"]} - {0})
    rows = [(f"{c}, {e} ({res.value('params', cell=c, encoder=e):,} parameters)", {"cell": c, "encoder": e})
            for c, e in arms_of(res)]
    return interval_table(res, rows, [(f"{n} digits", "exact_match", ".2f") for n in shown],
                          "cell, encoder (exact match, 95 % interval over seeds)",
                          column_coordinates=[{"length": n} for n in shown])


def forecasting_table(res):
    """MASE of every method (the GRU's with a 95 % interval over seeds)."""
    from ..experiments.forecasting import BASELINES, method_names

    names = method_names(res) | {"ets": "ETS (Holt-Winters)"}
    return interval_table(res, [(names[m], {"method": m}) for m in (*BASELINES, "GRU")],
                          [(f"MASE over {res.value('origins')} origins × {res.parameters['horizon']} years", "mase", ".3f")],
                          "method (GRU: 95 % interval over seeds)")


def overfitting_table(res):
    """Training and test accuracy, the gap and the epochs run per regime at its chosen strength."""
    from ..experiments.overfitting import LABELS

    p = res.parameters
    rows = [(LABELS[r] + (f" (patience {p['patience']})" if r == "early_stopping" else "")
             + (f", {res.value('chosen_strength', regime=r):g}" if res.has("chosen_strength", regime=r) else ""),
             {"regime": r}) for r in p["regimes"]]
    return interval_table(res, rows, [("training accuracy", "train_accuracy", ".3f"), ("test accuracy", "test_accuracy", ".3f"),
                                      ("gap", "gap", ".3f"), ("epochs run", "epochs_run", ".0f")],
                          "regime, chosen strength (95 % interval over seeds)")


def article_layer_curves(res):
    """Test MSE of the article's cell and Keras' GRU trained side by side from the same weights on
    the same batches: one panel per seed, the two curves on top of each other."""
    seeds = res.seeds
    columns = min(2, len(seeds))
    rows = -(-len(seeds) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(MAX_WIDTH_IN, 2.5 * rows + 0.8), sharey=True, squeeze=False)
    for ax, seed in zip(axes.flat, seeds):
        c = res.data["curves"][f"seed{seed}"]
        ax.plot(c["steps"], c["builtin"], color=CELL_COLORS["GRU"], lw=3, alpha=0.45,
                label="keras.layers.GRU(reset_after=False)")
        ax.plot(c["steps"], c["article"], color="k", lw=1, ls="--", label="RNN(ArticleGRUCell)")
        ax.set(yscale="log", xlabel="training step", ylabel="test MSE", title=f"seed {seed}")
    fig.suptitle(f"Adding problem, T = {res.parameters['T']}:\nsame weights, same batches")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if len(seeds) < axes.size:                          # the legend takes the free panel
        spare = axes.flat[-1]
        spare.axis("off")
        spare.legend(handles, [label.replace("(", "\n(", 1) for label in labels], loc="center", frameon=False)
        fig.tight_layout()
    else:
        fig.legend(handles, labels, loc="lower center", ncol=1, frameon=False)
        fig.tight_layout(rect=(0, 0.7 / (2.5 * rows + 0.8), 1, 1))
    return fig


def chrono_steps(res):
    """Steps to solve the adding problem per seed, default against chrono initialisation, joined per
    seed; runs that hit the cap are drawn hollow at the cap."""
    p = res.parameters
    steps = {init: res.per_seed("steps_to_solve", init=init) for init in ("default", "chrono")}
    solved = {init: res.per_seed("solved", init=init) for init in ("default", "chrono")}
    fig, ax = plt.subplots(figsize=(4.6, 3.4))
    for i in range(len(res.seeds)):
        ax.plot([0, 1], [steps["default"][i], steps["chrono"][i]], color="#999999", lw=1, zorder=1)
        for x, init in enumerate(("default", "chrono")):
            ax.scatter([x], [steps[init][i]], s=36, zorder=2, color=CELL_COLORS["GRU"],
                       facecolors=CELL_COLORS["GRU"] if solved[init][i] > 0.5 else "none")
    ax.axhline(p["max_steps"], color="k", ls=":", lw=1)
    ax.set_xticks([0, 1], ["default\n(zero gate bias)", f"chrono\n(T_max = {p['length']})"])
    ax.set(xlim=(-0.4, 1.4), ylim=(0, p["max_steps"] * 1.05), xlabel="update-gate bias at the start",
           ylabel="steps to test MSE < "
           f"{p['threshold']:g}", title=f"GRU, adding problem, T = {p['length']}")
    fig.tight_layout()
    return fig


def _seq2seq_style(cell: str, encoder: str) -> dict:
    """The cell's colour, line style and marker; the GRU with the bidirectional encoder keeps the
    GRU's colour, dash-dotted with hollow diamonds."""
    style = {"color": CELL_COLORS[cell], "ls": CELL_LINESTYLES[cell], "marker": CELL_MARKERS[cell]}
    if encoder == "bidirectional":
        style |= {"ls": "-.", "marker": "D", "markerfacecolor": "white"}
    return style


def seq2seq_exact_match(res):
    """Exact-match rate of greedy decoding against string length, one line per model (cell and
    encoder): the mean over seeds with its 95 % interval; the shaded band marks lengths longer than
    any trained on."""
    from ..experiments.seq2seq import arms_of
    from ..verdicts.stats import t_interval

    p = res.parameters
    lengths = list(range(1, p["test_max_len"] + 1))
    fig, ax = plt.subplots(figsize=(6, 3.6))
    if p["test_max_len"] > p["train_max_len"]:
        ax.axvspan(p["train_max_len"] + 0.5, p["test_max_len"] + 0.5, color="#eeeeee", zorder=0,
                   label="longer than trained")
    for cell, encoder in arms_of(res):
        ivs = [t_interval(res.per_seed("exact_match", cell=cell, encoder=encoder, length=n)) for n in lengths]
        mean = np.array([iv.estimate for iv in ivs])
        low = np.array([max(iv.low, 0.0) if np.isfinite(iv.low) else iv.estimate for iv in ivs])
        high = np.array([min(iv.high, 1.0) if np.isfinite(iv.high) else iv.estimate for iv in ivs])
        ax.errorbar(lengths, mean, yerr=[mean - low, high - mean], capsize=3, label=f"{cell}, {encoder} encoder",
                    **_seq2seq_style(cell, encoder))
    ax.set(xlabel="digits in the string", ylabel="exact match (greedy decoding)", ylim=(-0.03, 1.03),
           title="Reversing digit strings")
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.legend(loc="lower left")
    fig.tight_layout()
    return fig


def char_lm_bars(res):
    """Held-out bits per character per cell (mean and 95 % interval over seeds) against the n-gram
    baseline (dashed line). Lower is better."""
    from ..verdicts.stats import t_interval

    cells = res.parameters["cells"]
    ivs = [t_interval(res.per_seed("held_out_bpc", model=cell)) for cell in cells]
    fig, ax = plt.subplots(figsize=(5.2, 4.0))
    for i, (cell, iv) in enumerate(zip(cells, ivs)):
        err = None if not np.isfinite(iv.high) else [[iv.estimate - iv.low], [iv.high - iv.estimate]]
        ax.bar(i, iv.estimate, yerr=err, capsize=4, color=CELL_COLORS.get(cell, "k"), width=0.6)
        ax.text(i, 0.1, f"{iv.estimate:.2f}", ha="center", color="white", fontweight="bold")
    ngram = res.value("held_out_bpc", model="ngram")
    ax.axhline(ngram, color="k", ls="--", lw=1, label=f"{res.value('ngram_order')}-gram baseline ({ngram:.2f})")
    top = max([iv.high for iv in ivs if np.isfinite(iv.high)] + [iv.estimate for iv in ivs] + [ngram])
    ax.set_xticks(range(len(cells)), cells)
    ax.set(xlabel="cell", ylabel="held-out bits per character", ylim=(0, top * 1.08),
           title="Character-level language model")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False)
    fig.tight_layout()
    return fig


def forecast_examples(res, n_origins: int = 4):
    """The test years of the series with forecasts from a few origins: the GRU (first seed) and
    ARIMA, each drawn from its origin over the horizon."""
    d = res.data
    years, values, origins = np.array(d["years"]), np.array(d["values"]), d["origins"]
    first = origins[0]
    fig, ax = plt.subplots(figsize=(MAX_WIDTH_IN, 3.8))
    ax.plot(years[first - 30:], values[first - 30:], color="k", lw=1.2, label="observed")
    ax.axvline(years[first] - 0.5, color="#999999", ls=":", lw=1)
    picks = np.linspace(0, len(origins) - 1, n_origins).round().astype(int)
    horizon = res.parameters["horizon"]
    for j, i in enumerate(picks):
        t = origins[i]
        span = years[t:t + horizon]
        ax.plot(span, d["gru_forecasts"][i], color=CELL_COLORS["GRU"], ls=CELL_LINESTYLES["GRU"], lw=1.6,
                label="GRU" if j == 0 else None)
        ax.plot(span, d["baseline_forecasts"]["arima"][i], color=OTHER_COLORS["green"], lw=1.2, ls="--",
                label="ARIMA" if j == 0 else None)
    ax.set(xlabel="year", ylabel="sunspot number", title=f"Forecasts of {horizon} years\nfrom {n_origins} origins")
    ax.legend(loc="upper left")
    fig.tight_layout()
    return fig
