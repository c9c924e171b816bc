"""Run experiment notebooks through papermill and publish their results safely.

For each experiment ``experiments/<name>.md`` (a jupytext MyST notebook with a cell tagged
``parameters``):

1. every name and parameter is validated first, for all requested experiments, before any runs;
2. the notebook is converted to ipynb in a private staging folder and executed there by papermill
   with the venv's ``grubook`` kernel, writing its results JSON into that folder;
3. only when the run succeeded are provenance added and the JSON and the executed notebook moved
   into the results folder, each by an atomic rename.

A failed or interrupted run (Ctrl-C included) deletes its staging folder and leaves the previous
results untouched.
"""

from __future__ import annotations

import ast
import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import params as P
from .results import EXPERIMENTS_DIR, REPO_ROOT, RESULTS_DIR, provenance, write_json_atomic

__all__ = ["KERNEL", "QUICK_RESULTS_DIR", "ExperimentFailed", "Plan", "plan", "reproduce",
           "notebook_defaults", "status"]

KERNEL = "grubook"
QUICK_RESULTS_DIR = REPO_ROOT / "_build" / "results-quick"


class ExperimentFailed(RuntimeError):
    """An experiment's notebook failed or was interrupted; its previous results are intact."""

    def __init__(self, experiment: str, cause: str):
        super().__init__(f"experiment {experiment!r} failed: {cause}. Previous results were left untouched.")
        self.experiment = experiment
        self.cause = cause


@dataclass(frozen=True)
class Plan:
    experiment: str
    notebook: Path
    parameters: dict


def notebook_defaults(notebook: Path) -> dict:
    """The values assigned in the notebook's cell tagged ``parameters`` (literals only)."""
    import jupytext

    nb = jupytext.read(notebook)
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise ValueError(f"{notebook} must have exactly one cell tagged 'parameters', found {len(cells)}")
    values = {}
    for node in ast.parse(cells[0].source).body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            values[target.id] = ast.literal_eval(node.value)
    return values


def plan(names=None, *, quick: bool = False, overrides: dict | None = None,
         experiments_dir: Path = EXPERIMENTS_DIR) -> list[Plan]:
    """Resolve names and parameters for a run, validating everything before anything runs."""
    names = P.check_experiment_names(names or list(P.EXPERIMENTS))
    plans = []
    for name in names:
        notebook = Path(experiments_dir) / f"{name}.md"
        if not notebook.is_file():
            raise FileNotFoundError(f"experiment {name!r} has no notebook at {notebook}")
        parameters = notebook_defaults(notebook)
        if quick:
            parameters.update(P.EXPERIMENTS[name]["quick"])
        for key, value in (overrides or {}).items():
            if key not in parameters:
                raise P.ParameterError(f"{name}: unknown parameter {key!r}; parameters are: "
                                       f"{', '.join(parameters)}")
            parameters[key] = value
        P.validate(name, parameters)
        plans.append(Plan(name, notebook, parameters))
    return plans


def _without_results_dir(parameters: dict) -> dict:
    """Where results go is not part of what they depend on."""
    return {k: v for k, v in parameters.items() if k != "results_dir"}


def _run_one(item: Plan, results_dir: Path, progress_bar: bool) -> dict:
    import jupytext
    import papermill

    results_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".staging-{item.experiment}-", dir=results_dir))
    try:
        source = staging / f"{item.experiment}.source.ipynb"
        executed = staging / f"{item.experiment}.ipynb"
        nb = jupytext.read(item.notebook)
        nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Python (grubook)", "language": "python"}
        # TensorFlow's C++ start-up lines land on stderr; the .ipynb keeps them, the book hides them.
        nb.metadata["mystnb"] = {"output_stderr": "remove"}
        jupytext.write(nb, source, fmt="ipynb")
        start = time.perf_counter()
        try:
            papermill.execute_notebook(
                str(source), str(executed), parameters={**item.parameters, "results_dir": "."},
                kernel_name=KERNEL, cwd=str(staging), progress_bar=progress_bar, log_output=False)
        except papermill.PapermillExecutionError as err:
            raise ExperimentFailed(item.experiment, f"{err.ename}: {err.evalue} (cell {err.exec_count})") from None
        except KeyboardInterrupt:
            raise ExperimentFailed(item.experiment, "interrupted (KeyboardInterrupt)") from None
        except Exception as err:                             # kernel died, timeout, bad notebook...
            raise ExperimentFailed(item.experiment, f"{type(err).__name__}: {err}") from None
        wall = time.perf_counter() - start
        staged_json = staging / f"{item.experiment}.json"
        if not staged_json.is_file():
            raise ExperimentFailed(item.experiment, "the notebook finished without writing "
                                   f"{item.experiment}.json (did it call grubook.results.save?)")
        results = json.loads(staged_json.read_text())
        scientific = _without_results_dir(item.parameters)
        results["parameters"] = scientific
        results["provenance"] = provenance(notebook=item.notebook, parameters=scientific, wall_seconds=wall)
        # Publish: notebook first, JSON last, each an atomic rename inside results_dir.
        executed.replace(results_dir / f"{item.experiment}.ipynb")
        write_json_atomic(results_dir / f"{item.experiment}.json", results)
        return results
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def reproduce(names=None, *, quick: bool = False, overrides: dict | None = None,
              results_dir: Path | None = None, experiments_dir: Path = EXPERIMENTS_DIR,
              progress: bool = True) -> dict[str, dict]:
    """Run experiments and publish their results; returns {name: results}.

    Quick runs use each experiment's small settings and, unless told otherwise, write to
    ``_build/results-quick`` so they never replace the committed full results.
    """
    from tqdm.auto import tqdm

    plans = plan(names, quick=quick, overrides=overrides, experiments_dir=experiments_dir)
    results_dir = Path(results_dir or (QUICK_RESULTS_DIR if quick else RESULTS_DIR))
    out = {}
    bar = tqdm(plans, desc="experiments", unit="exp", disable=not progress)
    for item in bar:
        bar.set_postfix_str(item.experiment)
        out[item.experiment] = _run_one(item, results_dir, progress_bar=False)
    return out


def status(results_dir: Path = RESULTS_DIR, experiments_dir: Path = EXPERIMENTS_DIR) -> list[dict]:
    """For every experiment: fresh, stale (inputs changed since the run) or missing."""
    from .results import inputs_sha256

    rows = []
    for name in P.EXPERIMENTS:
        path = Path(results_dir) / f"{name}.json"
        notebook = Path(experiments_dir) / f"{name}.md"
        if not path.is_file():
            rows.append({"experiment": name, "status": "missing", "wall_seconds": None, "inputs_sha256": None})
            continue
        results = json.loads(path.read_text())
        prov = results.get("provenance", {})
        parameters = _without_results_dir(results["parameters"])
        current = inputs_sha256(notebook, parameters) if notebook.is_file() else None
        rows.append({"experiment": name,
                     "status": "fresh" if current and current == prov.get("inputs_sha256") else "stale",
                     "wall_seconds": prov.get("wall_seconds"), "inputs_sha256": prov.get("inputs_sha256")})
    return rows
