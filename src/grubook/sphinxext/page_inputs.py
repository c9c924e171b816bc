"""Sphinx extension: what the pages read. Results are checked before the build, experiment pages are
drawn from them, and a page is rebuilt when a results file or a grubook module it may use changes.

- **Checked first.** At the start of the build every results file the book reads is checked
  (``grubook.execution.freshness.status``): the committed ones must be fresh (sealed, made with the
  defaults, nothing they depend on changed); a preview folder (``$GRUBOOK_BOOK_RESULTS``) must be
  complete and sealed. Otherwise the build stops with one line naming the file, its state and the
  command that fixes it.
- **Experiment pages render from results.** ``$GRUBOOK_RENDER_RESULTS`` is set for the kernels
  MyST-NB starts, so an experiment's notebook (``grubook.experiments.spec.run``) returns the sealed
  results instead of training: its figures are always drawn by the current plotting code.
- **Dependencies.** Sphinx rebuilds a page only when its own source changed. Every page that
  mentions ``grubook`` therefore records the results files and the package's modules as
  dependencies, and is re-read and re-executed when one of them is newer than its last build.
  The results folder itself is a configuration value (``grubook_book_results``) that rebuilds the
  environment when it changes, so a build from another folder re-reads every page, even into an
  output folder built from the committed results, whose recorded files did not change.
- **Executed once per inputs.** Pages execute through MyST-NB's cache (``execute_notebooks: cache``),
  whose key covers a notebook's code only. So the cache lives in a folder named by the digest of
  every input above and of the package versions (``_build/.jupyter_cache/<digest>``): a changed
  result or module starts an empty cache and every page runs again, as a forced execution would,
  and the second edition of the same inputs (the Chinese one, ``grubook.editions``) reuses the
  first's outputs instead of executing the pages again.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..experiments.spec import RENDER_ENV
from ..presentation.glue import BOOK_RESULTS_DIR

PACKAGE = Path(__file__).resolve().parents[1]


class ResultsNotReady(Exception):
    """Results the book cannot be built from; the message is one line."""


def inputs() -> list[Path]:
    """The files a code page may read: every results file, every perturbed rerun the drift is
    measured from (``grubook.verdicts.drift``), and every grubook module."""
    from ..verdicts.drift import PERTURBED_RESULTS_DIR

    return (sorted(Path(BOOK_RESULTS_DIR).glob("*.json")) + sorted(PERTURBED_RESULTS_DIR.glob("*.json"))
            + sorted(PACKAGE.rglob("*.py")))


CACHE_ROOT = PACKAGE.parents[1] / "_build" / ".jupyter_cache"
KEEP_CACHES = 3                     # the current inputs and two others (a test's preview folder, a branch)


# Modules whose docstrings pages show (the claims audit prints each claim's rule from its judging
# function's docstring): their docstrings are content, so an edit to one runs the pages again.
DOCSTRINGS_SHOWN = ("verdicts/claims.py",)


def module_digest(path: Path) -> bytes:
    """What a page's outputs can depend on in one grubook module: its syntax tree, without
    comments, and without docstrings unless the module is one of ``DOCSTRINGS_SHOWN``."""
    import ast
    import hashlib

    from ..jobs.fingerprint import _tree_digest

    tree = ast.parse(path.read_text())
    if path.relative_to(PACKAGE).as_posix() in DOCSTRINGS_SHOWN:
        return hashlib.sha256(ast.dump(tree).encode()).hexdigest().encode()
    return _tree_digest([tree]).encode()


def inputs_digest() -> str:
    """A digest of what a page's outputs depend on besides its own code: every results file
    :func:`inputs` lists (its bytes), every grubook module a page can import (its syntax tree
    without docstrings, so a comment or docstring edit runs nothing again, except where pages show
    the docstrings: :func:`module_digest`; the Sphinx extensions are not importable from a page and
    are left out), the results folder the book reads, and the package versions."""
    import hashlib
    import json

    from ..jobs.environment import fingerprint

    h = hashlib.sha256(json.dumps([str(Path(BOOK_RESULTS_DIR).resolve()), fingerprint()], sort_keys=True).encode())
    for path in inputs():
        if path.suffix == ".py":
            if path.is_relative_to(Path(__file__).parent):
                continue
            h.update(str(path.relative_to(PACKAGE)).encode() + module_digest(path))
        else:
            h.update(f"{path.parent.name}/{path.name}".encode() + hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()[:16]


def _execution_cache(app, config):
    """Point MyST-NB's cache at the folder of the current inputs, and drop all but the most
    recently used ``KEEP_CACHES`` folders."""
    import shutil
    import time

    if config.nb_execution_mode != "cache" or config.nb_execution_cache_path:
        return
    folder = CACHE_ROOT / inputs_digest()
    folder.mkdir(parents=True, exist_ok=True)
    os.utime(folder, (time.time(), time.time()))
    config.nb_execution_cache_path = str(folder)
    older = sorted((p for p in CACHE_ROOT.iterdir() if p.is_dir() and p != folder), key=lambda p: p.stat().st_mtime)
    for stale in older[:max(0, len(older) - (KEEP_CACHES - 1))]:
        shutil.rmtree(stale, ignore_errors=True)


def check_results(results_dir: Path = BOOK_RESULTS_DIR) -> None:
    """Raise :class:`ResultsNotReady` with one line if the book cannot be built from ``results_dir``."""
    from ..execution.freshness import status
    from ..execution.notebooks import is_committed_folder

    committed = is_committed_folder(results_dir)
    allowed = {"fresh"} if committed else {"fresh", "stale", "custom"}
    for row in status(results_dir):
        if row["status"] not in allowed:
            path = Path(results_dir) / f"{row['experiment']}.json"
            fix = (f"run `make reproduce EXPERIMENTS={row['experiment']}`" if row["status"] in ("stale", "custom", "missing")
                   else f"restore it with `git checkout -- {path}` or run `make reproduce EXPERIMENTS={row['experiment']}`")
            raise ResultsNotReady(f"the book cannot be built: {path} is {row['status']}"
                                  + (f" ({row['detail'][0]})" if row["detail"] else "") + f"; {fix}")


def _check(app, config):
    check_results()
    config.grubook_book_results = str(Path(BOOK_RESULTS_DIR).resolve())
    os.environ[RENDER_ENV] = str(BOOK_RESULTS_DIR)     # inherited by every kernel MyST-NB starts


def _note_dependencies(app, docname, source):
    if "grubook" not in source[0]:
        return
    for path in inputs():
        app.env.note_dependency(str(path))


def setup(app):
    app.add_config_value("grubook_book_results", "", "env")   # set from the environment at config-inited
    app.connect("config-inited", _check)
    app.connect("config-inited", _execution_cache)
    app.connect("source-read", _note_dependencies)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
