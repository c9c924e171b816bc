"""Figures are drawn from results files alone, with labelled axes."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors
import matplotlib.container
import matplotlib.patches
import matplotlib.pyplot as plt
import matplotlib.text
import pytest

from grubook.presentation import diagrams
from grubook.presentation import plots
from grubook.results.files import RESULTS_DIR, aggregate, load
from grubook.results.view import Results


def committed(name):
    try:
        return Results(load(name, RESULTS_DIR))
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


def _non_colour_cue(handle, cell):
    """Whether a legend entry's artist tells ``cell`` apart without its colour: a bar by the cell's
    hatch, a line or points by the cell's line style or marker."""
    # The artists behind the entry (a legend draws an error bar's entry as a LineCollection, which
    # has no marker; the series itself has).
    if isinstance(handle, matplotlib.container.ErrorbarContainer):
        handle = handle.lines[0]
    elif isinstance(handle, matplotlib.container.BarContainer):
        handle = handle.patches[0]
    if isinstance(handle, matplotlib.patches.Patch):
        return (handle.get_hatch() or "") == plots.CELL_HATCHES[cell]
    return handle.get_linestyle() == plots.CELL_LINESTYLES[cell] or handle.get_marker() == plots.CELL_MARKERS[cell]


def _colour(artist):
    get = getattr(artist, "get_color", None) or getattr(artist, "get_facecolor", None)
    value = get()
    if hasattr(value, "ndim") and value.ndim == 2:
        value = value[0]
    return matplotlib.colors.to_hex(value)


@pytest.mark.parametrize("draw,name", ALL_FIGURES)
def test_every_figure_follows_the_book_style(draw, name):
    """Legible at phone width (no wider than MAX_WIDTH_IN, no text under MIN_FONT_PT), and a cell's
    colour means that cell: legend entries named after a cell wear its colour, others never do.
    Colour is not the only cue: a cell's legend entry also has its line style or marker (or hatch)."""
    fig = draw(committed(name) if name else None)
    fig.canvas.draw()
    width, _ = fig.get_size_inches()
    assert width <= plots.MAX_WIDTH_IN + 1e-9, f"{width} in wide"
    small = [(t.get_text(), t.get_fontsize()) for t in fig.findobj(matplotlib.text.Text)
             if t.get_visible() and t.get_text().strip() and t.get_fontsize() < plots.MIN_FONT_PT]
    assert not small, f"text below {plots.MIN_FONT_PT} pt: {small[:5]}"
    cell_colours = {c.lower(): cell for cell, c in plots.CELL_COLORS.items()}
    drawn = {label: handle for ax in fig.axes for handle, label in zip(*ax.get_legend_handles_labels())}
    for legend in [ax.get_legend() for ax in fig.axes] + fig.legends:
        if legend is None:
            continue
        for text, handle in zip(legend.get_texts(), legend.legend_handles):
            label, colour = text.get_text(), _colour(handle)
            if label in plots.CELL_COLORS:
                assert colour == plots.CELL_COLORS[label].lower(), (label, colour)
                assert _non_colour_cue(drawn.get(label, handle), label), f"{label!r} is told apart by its colour alone"
            elif not any(cell in label for cell in plots.CELL_COLORS):
                assert colour not in cell_colours, f"{label!r} drawn in the {cell_colours[colour]} colour"
    plt.close(fig)


def test_the_style_is_what_the_figures_are_drawn_with():
    assert matplotlib.rcParams["legend.fontsize"] >= plots.MIN_FONT_PT
    assert matplotlib.colors.to_hex(matplotlib.rcParams["figure.facecolor"]) == "#ffffff"
    assert not set(c.lower() for c in plots.OTHER_COLORS.values()) & set(c.lower() for c in plots.CELL_COLORS.values())


def _results(per_seed_metrics: list[dict], schema: dict) -> Results:
    per_seed = [{"seed": i, "metrics": m} for i, m in enumerate(per_seed_metrics)]
    return Results({"experiment": "toy", "parameters": {}, "seeds": list(range(len(per_seed))), "schema": schema,
                    "per_seed": per_seed, "aggregates": aggregate(per_seed), "metrics": {}})


def test_interval_tables_show_intervals_single_values_and_gaps():
    res = _results([{"a.x": 0.5, "b.x": 0.9}, {"a.x": 0.7}], {"x": "{model}.x", "y": "{model}.y"})
    table = plots.interval_table(res, [("model A", {"model": "a"}), ("model B", {"model": "b"})],
                                 [("accuracy", "x", ".2f"), ("loss", "y", ".2f")])
    assert table.loc["model A", "accuracy"].startswith("0.60 [")       # mean [95 % interval] over seeds
    assert table.loc["model B", "accuracy"] == "0.90"                   # one seed: its value alone
    assert table.loc["model A", "loss"] == "–"                          # a metric no seed has


def test_tables_have_human_labels_and_intervals():
    res = committed("long_range")
    table = plots.adding_table(res)
    assert table.index.name == "sequence length T" and "solved" in table.iloc[0, 0]
    assert not any("." in str(c) for c in table.columns)                  # no raw metric keys


def test_cell_diagrams_follow_their_equations():
    # Gate blocks (orange boxes) per cell equal the blocks count_params multiplies: 1, 3, 4.
    blocks = {name: sum(kind == "layer" for *_, kind in nodes.values())
              for name, (nodes, _) in diagrams.CELLS.items()}
    assert blocks == {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}
    assert_labelled(diagrams.draw_all())
    with pytest.raises(ValueError, match="unknown cell 'Transformer'"):
        diagrams.draw_cell("Transformer")
