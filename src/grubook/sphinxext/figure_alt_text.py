"""Sphinx extension: the experiment pages' figures get their alt text from their plotting function.

A chapter's figure is glued with an ``:alt:`` written for it. An experiment page draws its figures
in cells that call a ``grubook.presentation.plots`` function; each such figure takes the first
paragraph of that function's docstring, which says what the figure shows, as its alt text.
"""

from __future__ import annotations

import inspect
import re

PLOT_CALL = re.compile(r"\bplots\.([A-Za-z_]\w*)\(")


def figure_description(function_name: str) -> str | None:
    """The first paragraph of a ``grubook.presentation.plots`` function's docstring, on one line."""
    from ..presentation import plots

    function = getattr(plots, function_name, None)
    doc = inspect.getdoc(function) if callable(function) else None
    return " ".join(doc.split("\n\n")[0].split()) if doc else None


def _describe_experiment_figures(app, doctree, docname):
    from docutils import nodes

    if not docname.startswith("experiments/"):
        return
    for cell in doctree.findall(lambda n: isinstance(n, nodes.container) and "cell" in n.get("classes", [])):
        source = " ".join(block.astext() for block in cell.findall(nodes.literal_block)
                          if "cell_input" in block.parent.get("classes", []))
        calls = [d for d in (figure_description(name) for name in PLOT_CALL.findall(source)) if d]
        for image in cell.findall(nodes.image):
            if calls and not image.get("alt"):
                image["alt"] = " ".join(calls)


def setup(app):
    app.connect("doctree-resolved", _describe_experiment_figures)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
