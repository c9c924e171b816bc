"""Sphinx extension: every page's executed notebook, offered for download.

A page's executed notebook (what MyST-NB ran during this build, in ``_build/jupyter_execute``) is
written next to the page's source and listed in the theme's download menu as ``.ipynb``. At the end
of the build every one of these notebooks also goes into one zip,
``_downloads/grubook-notebooks.zip``, linked from the reproducibility page.

When MyST-NB takes a page's outputs from its execution cache (``execute_notebooks: cache``: every
build after the first, and the second edition), the notebook it writes has none: it merges the
cached outputs into a copy. The outputs are merged from the same cache here.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import nbformat
from sphinx.util import logging

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
    nbformat.write(_with_outputs(app, executed), target)
    context["ipynb_source"] = f"{pagename}.ipynb"      # read by sphinx-book-theme's download menu


def _with_outputs(app, executed: Path):
    notebook = nbformat.read(executed, as_version=4)
    if app.config.nb_execution_mode == "cache" and not any(
            cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"):
        from jupyter_cache import get_cache

        try:
            _, notebook = get_cache(app.env.mystnb_config.execution_cache_path).merge_match_into_notebook(notebook)
        except KeyError:
            logging.getLogger(__name__).warning(f"{executed.name}: no outputs in the execution cache to offer "
                                                "with the downloadable notebook")
    return notebook


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


def setup(app):
    # Before the theme builds its header buttons (priority 500) from the page context.
    app.connect("html-page-context", _offer_executed_notebook, priority=400)
    app.connect("build-finished", _zip_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
