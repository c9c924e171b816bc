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
    app.connect("source-read", _note_dependencies)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
