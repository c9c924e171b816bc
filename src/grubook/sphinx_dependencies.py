"""Sphinx extension: a page is rebuilt when a results file or a grubook module it may use changes.

Sphinx rebuilds a page only when its own source changed. A chapter that glues numbers from
``experiments/results/*.json`` or draws them with ``grubook.plots`` would then keep showing the old
numbers after ``make reproduce``. Every page that mentions ``grubook`` (all pages that run code)
therefore records the results files and the package's modules as dependencies, and Sphinx re-reads,
and MyST-NB re-executes, the page whenever one of them is newer than the page's last build.
Enabled in _config.yml under ``sphinx.extra_extensions``.
"""

from __future__ import annotations

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


def setup(app):
    app.connect("source-read", _note_dependencies)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
