"""Sphinx extension: every page's executed notebook, offered for download.

A page's executed notebook (what MyST-NB ran during this build, in ``_build/jupyter_execute``) is
copied next to the page's source and listed in the theme's download menu as ``.ipynb``. At the end
of the build every one of these notebooks also goes into one zip,
``_downloads/grubook-notebooks.zip``, linked from the reproducibility page.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

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


def setup(app):
    # Before the theme builds its header buttons (priority 500) from the page context.
    app.connect("html-page-context", _offer_executed_notebook, priority=400)
    app.connect("build-finished", _zip_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
