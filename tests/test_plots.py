"""Figures are drawn from results files alone, with labelled axes."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from grubook import diagrams, plots
from grubook.results import RESULTS_DIR, load


def committed(name):
    try:
        return load(name, RESULTS_DIR)
    except FileNotFoundError as err:
        pytest.skip(str(err))


def assert_labelled(fig):
    # Panels sharing an x axis label it once, on the bottom panel; every panel needs a y label or
    # a title, and the figure needs an x label somewhere.
    panels = [ax for ax in fig.axes if ax.axison and ax.has_data()]
    for ax in panels:
        assert ax.get_ylabel() or ax.get_title(), "a panel without a y label or title"
    if panels:
        assert any(ax.get_xlabel() for ax in panels), "no x axis label"
    plt.close(fig)


@pytest.mark.parametrize("draw,name", [
    (plots.adding_steps_by_length, "long_range"),
    (plots.gradient_ratio_by_length, "long_range"),
    (plots.gate_heatmap, "long_range"),
    (plots.counting_generalisation, "counting"),
    (lambda r: plots.adding_curves(r, T=r["data"]["analysis_length"]), "long_range"),
    (plots.gradient_flow, "long_range"),
    (plots.gate_traces, "long_range"),
    (plots.seed_example_bars, "seed_example"),
    (plots.real_sequences_bars, "real_sequences"),
    (plots.learning_curves, "overfitting"),
    (plots.timing_ratios, "efficiency"),
    (lambda r: plots.timing_ratios(r, kind="inference"), "efficiency"),
])
def test_figures_draw_from_committed_results(draw, name):
    assert_labelled(draw(committed(name)))


def test_summary_table_formats_missing_values():
    res = {"aggregates": {"GRU.T400.steps_to_threshold": {"mean": None, "std": None, "n": 0, "missing": 3},
                          "GRU.T400.test_mse": {"mean": 0.01, "std": 0.002, "n": 3, "missing": 0},
                          "GRU.T50.steps_to_threshold": {"mean": 100.0, "std": 0.0, "n": 2, "missing": 1}}}
    table = plots.summary_table(res, ["steps_to_threshold", "test_mse"])
    assert table.loc["GRU", "T400.steps_to_threshold"] == "not reached"
    assert table.loc["GRU", "T50.steps_to_threshold"] == "100 ± 0 (2/3 seeds)"
    assert table.loc["GRU", "T400.test_mse"] == "0.01 ± 0.002"


def test_tables_have_human_labels_and_intervals():
    res = committed("long_range")
    table = plots.adding_table(res)
    assert table.index.name == "sequence length T" and "solved" in table.iloc[0, 0]
    assert not any("." in str(c) for c in table.columns)                  # no raw metric keys
    rows = plots.interval_table({"per_seed": [{"metrics": {"a.x": 0.5}}, {"metrics": {"a.x": 0.7}}]},
                                [("model A", "a")], [("accuracy", "x", ".2f")])
    assert rows.loc["model A", "accuracy"].startswith("0.60 [")


def test_cell_diagrams_follow_their_equations():
    # Gate blocks (orange boxes) per cell equal the blocks count_params multiplies: 1, 3, 4.
    blocks = {name: sum(kind == "layer" for *_, kind in nodes.values())
              for name, (nodes, _) in diagrams.CELLS.items()}
    assert blocks == {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}
    assert_labelled(diagrams.draw_all())
    with pytest.raises(ValueError, match="unknown cell 'Transformer'"):
        diagrams.draw_cell("Transformer")
