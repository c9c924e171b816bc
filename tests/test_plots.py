"""Figures are drawn from results files alone, with labelled axes."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors
import matplotlib.pyplot as plt
import matplotlib.text
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


# Every figure the book draws: its function and the committed results it is drawn from.
ALL_FIGURES = [
    (plots.adding_steps_by_length, "long_range"),
    (plots.gradient_ratio_by_length, "long_range"),
    (plots.gate_heatmap, "long_range"),
    (lambda r: plots.adding_curves(r, T=r["data"]["analysis_length"]), "long_range"),
    (plots.gradient_flow, "long_range"),
    (plots.gate_traces, "long_range"),
    (plots.counting_generalisation, "counting"),
    (plots.seed_example_bars, "seed_example"),
    (plots.real_sequences_bars, "real_sequences"),
    (plots.learning_curves, "overfitting"),
    (plots.timing_ratios, "efficiency"),
    (plots.article_layer_curves, "article_layer"),
    (plots.chrono_steps, "chrono"),
    (plots.seq2seq_exact_match, "seq2seq"),
    (plots.char_lm_bars, "char_lm"),
    (plots.forecast_examples, "forecasting"),
    (lambda _: diagrams.draw_all(), None),
    (lambda r: plots.timing_ratios(r, kind="inference"), "efficiency"),
]


@pytest.mark.parametrize("draw,name", ALL_FIGURES)
def test_figures_draw_from_committed_results(draw, name):
    assert_labelled(draw(committed(name) if name else None))


def _colour(artist):
    get = getattr(artist, "get_color", None) or getattr(artist, "get_facecolor", None)
    value = get()
    if hasattr(value, "ndim") and value.ndim == 2:
        value = value[0]
    return matplotlib.colors.to_hex(value)


@pytest.mark.parametrize("draw,name", ALL_FIGURES)
def test_every_figure_follows_the_book_style(draw, name):
    """Legible at phone width (no wider than MAX_WIDTH_IN, no text under MIN_FONT_PT), and a cell's
    colour means that cell: legend entries named after a cell wear its colour, others never do."""
    fig = draw(committed(name) if name else None)
    fig.canvas.draw()
    width, _ = fig.get_size_inches()
    assert width <= plots.MAX_WIDTH_IN + 1e-9, f"{width} in wide"
    small = [(t.get_text(), t.get_fontsize()) for t in fig.findobj(matplotlib.text.Text)
             if t.get_visible() and t.get_text().strip() and t.get_fontsize() < plots.MIN_FONT_PT]
    assert not small, f"text below {plots.MIN_FONT_PT} pt: {small[:5]}"
    cell_colours = {c.lower(): cell for cell, c in plots.CELL_COLORS.items()}
    for legend in [ax.get_legend() for ax in fig.axes] + fig.legends:
        if legend is None:
            continue
        for text, handle in zip(legend.get_texts(), legend.legend_handles):
            label, colour = text.get_text(), _colour(handle)
            if label in plots.CELL_COLORS:
                assert colour == plots.CELL_COLORS[label].lower(), (label, colour)
            elif not any(cell in label for cell in plots.CELL_COLORS):
                assert colour not in cell_colours, f"{label!r} drawn in the {cell_colours[colour]} colour"
    plt.close(fig)


def test_the_style_is_what_the_figures_are_drawn_with():
    assert matplotlib.rcParams["legend.fontsize"] >= plots.MIN_FONT_PT
    assert matplotlib.colors.to_hex(matplotlib.rcParams["figure.facecolor"]) == "#ffffff"
    assert not set(c.lower() for c in plots.OTHER_COLORS.values()) & set(c.lower() for c in plots.CELL_COLORS.values())


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
