"""Sphinx extension: serve MathJax from the built book instead of a CDN, and keep pages free of
duplicate script tags.

The MathJax 3 files come from the ``django-static-mathjax`` wheel (pinned in requirements.lock;
it only ships MathJax's files). Only what the book needs is copied into ``_static/mathjax``:
the TeX-to-CHTML component, its web fonts and the TeX extensions it may load on demand.
Enabled in _config.yml under ``sphinx.extra_extensions``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

TARGET = "mathjax"                        # folder inside _static
PARTS = ["tex-chtml.js", "output/chtml/fonts/woff-v2", "input/tex/extensions", "ui", "a11y",
         "adaptors", "core.js", "startup.js"]


def mathjax_source() -> Path:
    import mathjax                        # the import name of django-static-mathjax

    source = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (source / "tex-chtml.js").is_file():
        raise RuntimeError(f"MathJax files not found under {source}; reinstall from requirements.lock")
    return source


def _configure(app, config):
    config.mathjax_path = f"{TARGET}/tex-chtml.js"


def _copy(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    source, target = mathjax_source(), Path(app.outdir) / "_static" / TARGET
    for part in PARTS:
        src = source / part
        if src.is_dir():
            shutil.copytree(src, target / part, dirs_exist_ok=True)
        elif src.is_file():
            (target / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target / part)


def _drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    """sphinx-thebe (loaded by Jupyter Book 1.x) registers its inline configuration script twice,
    and the second ``const THEBE_JS_URL`` declaration is a JavaScript error on every page.
    Keep the first copy of each identical script."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        # The copies differ only in filename None versus "" (both mean an inline script).
        key = (getattr(script, "filename", str(script)) or "",
               tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique          # in place: later handlers (MathJax's among them) append to this list


def setup(app):
    app.connect("config-inited", _configure)
    app.connect("build-finished", _copy)
    # Early: html-page-context stops at the first handler that returns a template name.
    app.connect("html-page-context", _drop_duplicate_scripts, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
