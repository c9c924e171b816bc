"""Cell diagrams for SimpleRNN, LSTM and GRU, drawn with matplotlib from small layout tables.

Each diagram is data: nodes (label, position, kind) and edges between them, so a reader can
check a picture against its equations line by line. Kinds: "in"/"out" (vectors entering or
leaving), "layer" (an affine map followed by σ or tanh), "op" (element-wise ⊙, +, 1−).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from .plots import CELL_COLORS, MAX_WIDTH_IN   # the book's figure style, applied on import

__all__ = ["CELLS", "draw_cell", "draw_all"]

# name -> (nodes {id: (label, x, y, kind)}, edges [(from, to)])
CELLS = {
    "SimpleRNN": (
        {"h0": (r"$h_{t-1}$", 0, 2, "in"), "x": (r"$x_t$", 2, 0, "in"),
         "tanh": (r"$\tanh$", 2, 2, "layer"), "h": (r"$h_t$", 4, 2, "out")},
        [("h0", "tanh"), ("x", "tanh"), ("tanh", "h")],
    ),
    "GRU": (
        {"h0": (r"$h_{t-1}$", 0, 3, "in"), "x": (r"$x_t$", 0, 0, "in"),
         "z": (r"$\sigma$" + "\n" + r"$z_t$", 1.5, 1.2, "layer"), "r": (r"$\sigma$" + "\n" + r"$r_t$", 3, 1.2, "layer"),
         "rh": (r"$\odot$", 3, 2.2, "op"), "cand": (r"$\tanh$" + "\n" + r"$\tilde h_t$", 4.5, 1.2, "layer"),
         "omz": (r"$1-$", 1.5, 2.2, "op"), "keep": (r"$\odot$", 1.5, 3, "op"),
         "take": (r"$\odot$", 4.5, 2.2, "op"), "plus": (r"$+$", 4.5, 3, "op"),
         "h": (r"$h_t$", 6, 3, "out")},
        [("h0", "keep"), ("x", "z"), ("x", "r"), ("x", "cand"), ("h0", "z"), ("h0", "r"),
         ("h0", "rh"), ("r", "rh"), ("rh", "cand"), ("z", "omz"), ("omz", "keep"), ("z", "take"),
         ("cand", "take"), ("keep", "plus"), ("take", "plus"), ("plus", "h")],
    ),
    "LSTM": (
        {"c0": (r"$c_{t-1}$", 0, 3.2, "in"), "h0": (r"$h_{t-1}$", 0, 1.6, "in"), "x": (r"$x_t$", 0, 0, "in"),
         "f": (r"$\sigma$" + "\n" + r"$f_t$", 1.5, 1.0, "layer"), "i": (r"$\sigma$" + "\n" + r"$i_t$", 2.7, 1.0, "layer"),
         "g": (r"$\tanh$" + "\n" + r"$\tilde c_t$", 3.9, 1.0, "layer"), "o": (r"$\sigma$" + "\n" + r"$o_t$", 5.1, 1.0, "layer"),
         "forget": (r"$\odot$", 1.5, 3.2, "op"), "ig": (r"$\odot$", 3.3, 2.2, "op"),
         "plus": (r"$+$", 3.3, 3.2, "op"), "tc": (r"$\tanh$", 5.1, 2.6, "op"), "out": (r"$\odot$", 5.1, 1.9, "op"),
         "c": (r"$c_t$", 6.6, 3.2, "out"), "h": (r"$h_t$", 6.6, 1.9, "out")},
        [("c0", "forget"), ("f", "forget"), ("forget", "plus"), ("i", "ig"), ("g", "ig"), ("ig", "plus"),
         ("plus", "c"), ("plus", "tc"), ("tc", "out"), ("o", "out"), ("out", "h"),
         ("h0", "f"), ("h0", "i"), ("h0", "g"), ("h0", "o"), ("x", "f"), ("x", "i"), ("x", "g"), ("x", "o")],
    ),
}

_STYLE = {
    "in": dict(fc="#ffffff", ec="#333333"), "out": dict(fc="#ffffff", ec="#333333"),
    "layer": dict(fc="#fde0c5", ec="#c0504d"), "op": dict(fc="#dbe9f6", ec="#1f77b4"),
}


def draw_cell(name: str, ax=None):
    """Draw one cell's diagram on ``ax`` (a new figure if None); returns the axes."""
    if name not in CELLS:
        raise ValueError(f"unknown cell {name!r}; expected one of {', '.join(CELLS)}")
    nodes, edges = CELLS[name]
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.2))
    for src, dst in edges:
        (_, x0, y0, _), (_, x1, y1, _) = nodes[src], nodes[dst]
        ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=10,
                                     shrinkA=14, shrinkB=14, color="#555555", lw=1,
                                     connectionstyle="arc3,rad=0.0"))
    for label, x, y, kind in nodes.values():
        w, h = (0.9, 0.62) if kind == "layer" else (0.46, 0.4)
        if kind in ("in", "out"):
            ax.text(x, y, label, ha="center", va="center", fontsize=14)
            continue
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.04", lw=1.2,
                                    **_STYLE[kind]))
        ax.text(x, y, label, ha="center", va="center", fontsize=11)
    xs = [n[1] for n in nodes.values()]
    ys = [n[2] for n in nodes.values()]
    ax.set(xlim=(min(xs) - 0.6, max(xs) + 0.6), ylim=(min(ys) - 0.6, max(ys) + 0.6), aspect="equal")
    ax.set_title(name)
    ax.axis("off")
    return ax


def draw_all():
    """The three cells one above the other, each as wide as the text column allows (side by side,
    they were too small to read, on a phone most of all); returns the figure."""
    names = ("SimpleRNN", "GRU", "LSTM")
    heights = [max(n[2] for n in CELLS[name][0].values()) - min(n[2] for n in CELLS[name][0].values()) + 1.2
               for name in names]
    fig, axes = plt.subplots(3, 1, figsize=(MAX_WIDTH_IN, 1.8 + 0.64 * sum(heights)),
                             gridspec_kw={"height_ratios": heights})
    for ax, name in zip(axes, names):
        draw_cell(name, ax)
        ax.title.set(fontsize=13, color=CELL_COLORS[name], fontweight="bold")
    fig.tight_layout()
    return fig
