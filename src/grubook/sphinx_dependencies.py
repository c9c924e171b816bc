"""Sphinx extension: a page is rebuilt when a results file or a grubook module it may use changes.

Sphinx rebuilds a page only when its own source changed. A chapter that glues numbers from
``experiments/results/*.json`` or draws them with ``grubook.plots`` would then keep showing the old
numbers after ``make reproduce``. Every page that mentions ``grubook`` (all pages that run code)
therefore records the results files and the package's modules as dependencies, and Sphinx re-reads,
and MyST-NB re-executes, the page whenever one of them is newer than the page's last build.
Enabled in _config.yml under ``sphinx.extra_extensions``.

It also offers every page's notebook for download. A chapter's executed notebook (what MyST-NB ran
during this build, in ``_build/jupyter_execute``) is copied next to the page's source and listed in
the theme's download menu as ``.ipynb``; an experiment page *is* its executed notebook, so the menu
already offers it. At the end of the build every one of these notebooks also goes into one zip,
``_downloads/grubook-notebooks.zip``, linked from the reproducibility page.

And it gives the experiment pages' figures their alt text. A chapter's figure is glued with an
``:alt:`` written for it; an experiment page is a notebook papermill executed, whose figures come
from cells that call a ``grubook.plots`` function. Each such figure takes the first paragraph of
that function's docstring, which says what the figure shows, as its alt text.
"""

from __future__ import annotations

import inspect
import re
import shutil
import zipfile
from pathlib import Path

from .book import BOOK_RESULTS_DIR

PACKAGE = Path(__file__).resolve().parent


def inputs() -> list[Path]:
    """The files a code page may read: every results file and every grubook module."""
    return sorted(Path(BOOK_RESULTS_DIR).glob("*.json")) + sorted(PACKAGE.glob("*.py"))


def _note_dependencies(app, docname, source):
    if "grubook" not in source[0]:
        return
    for path in inputs():
        app.env.note_dependency(str(path))


ZIP_NAME = "grubook-notebooks.zip"


def _executed(app, docname: str) -> Path:
    return Path(app.outdir).parent / "jupyter_execute" / f"{docname}.ipynb"


def _offer_executed_notebook(app, pagename, templatename, context, doctree):
    if app.builder.name != "html" or context.get("page_source_suffix") != ".md":
        return
    executed = _executed(app, pagename)
    if not executed.is_file():
        return                                         # a page without code (nothing executed)
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(executed, target)
    context["ipynb_source"] = f"{pagename}.ipynb"      # read by sphinx-book-theme's download menu


def _zip_notebooks(app, exception):
    if exception is not None or app.builder.name != "html":
        return
    sources = Path(app.outdir) / "_sources"
    notebooks = sorted(sources.rglob("*.ipynb"))
    target = Path(app.outdir) / "_downloads" / ZIP_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".zip.partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for notebook in notebooks:
            archive.write(notebook, f"grubook-notebooks/{notebook.relative_to(sources).as_posix()}")
    partial.replace(target)


PLOT_CALL = re.compile(r"\bplots\.([A-Za-z_]\w*)\(")


def figure_description(function_name: str) -> str | None:
    """The first paragraph of a ``grubook.plots`` function's docstring, on one line."""
    from . import plots

    function = getattr(plots, function_name, None)
    doc = inspect.getdoc(function) if callable(function) else None
    return " ".join(doc.split("\n\n")[0].split()) if doc else None


def _describe_experiment_figures(app, doctree, docname):
    from docutils import nodes

    if not docname.startswith("experiments/results/"):
        return
    for cell in doctree.findall(lambda n: isinstance(n, nodes.container) and "cell" in n.get("classes", [])):
        source = " ".join(block.astext() for block in cell.findall(nodes.literal_block)
                          if "cell_input" in block.parent.get("classes", []))
        calls = [d for d in (figure_description(name) for name in PLOT_CALL.findall(source)) if d]
        for image in cell.findall(nodes.image):
            if calls and not image.get("alt"):
                image["alt"] = " ".join(calls)


def setup(app):
    app.connect("source-read", _note_dependencies)
    app.connect("doctree-resolved", _describe_experiment_figures)
    # Before the theme builds its header buttons (priority 500) from the page context.
    app.connect("html-page-context", _offer_executed_notebook, priority=400)
    app.connect("build-finished", _zip_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
