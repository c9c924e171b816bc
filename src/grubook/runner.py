"""Run experiment notebooks through papermill, their units on Dask, and publish results safely.

For each experiment ``experiments/<name>.md`` (a jupytext MyST notebook with a cell tagged
``parameters``):

1. every name and parameter, and the results folder, are validated first, for all requested
   experiments, before anything runs;
2. one Dask cluster is started for the whole call (``parallel.local_cluster``), unless a scheduler
   address is given; every notebook gets its address as the parameter ``scheduler`` and fans its
   units out to it;
3. each notebook is converted to ipynb in a private staging folder under ``_build/runs/`` and
   executed there by papermill with the venv's ``grubook`` kernel, writing its results JSON there;
4. only when the run succeeded are provenance and the seal added and the executed notebook and the
   JSON copied into the results folder, each by an atomic rename.

The kernel and the local workers run in a private home (``HOME``, ``KERAS_HOME``, ``IPYTHONDIR``,
``MPLCONFIGDIR``, Jupyter's runtime folder), so nothing in the user's home changes a number or is
written to. A failed or interrupted run (Ctrl-C, SIGTERM, a unit that raises, a worker that dies)
deletes its staging folder, stops the cluster and the kernel, and leaves the previous results
untouched.
"""

from __future__ import annotations

import ast
import contextlib
import json
import logging
import os
import shutil
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from . import params as P
from .results import (EXPERIMENTS_DIR, REPO_ROOT, RESULTS_DIR, ResultsError, copy_atomic, inputs_sha256, load,
                      provenance, read, seal, verify, write_json_atomic)

__all__ = ["KERNEL", "QUICK_RESULTS_DIR", "RUNS_DIR", "ExperimentFailed", "Terminated", "Plan", "plan",
           "reproduce", "notebook_defaults", "status", "leftovers", "check_results_dir", "preflight"]

KERNEL = "grubook"
QUICK_RESULTS_DIR = REPO_ROOT / "_build" / "results-quick"
RUNS_DIR = REPO_ROOT / "_build" / "runs"          # private homes and staging folders of running runs
LOG = REPO_ROOT / "_build" / "logs" / "reproduce.log"   # what kernels and workers print, last run only


class ExperimentFailed(RuntimeError):
    """An experiment's notebook failed or was interrupted; its previous results are intact."""

    def __init__(self, experiment: str, cause: str):
        super().__init__(f"experiment {experiment!r} failed: {cause}. Previous results were left untouched.")
        self.experiment = experiment
        self.cause = cause


class Terminated(BaseException):
    """Raised by the SIGTERM handler of ``python -m grubook``: handled like Ctrl-C."""


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
            if key not in parameters or key in P.EXECUTION_PARAMETERS:
                raise P.ParameterError(f"{name}: unknown parameter {key!r}; parameters are: "
                                       f"{', '.join(P.scientific(parameters))}")
            parameters[key] = value
        P.validate(name, parameters)
        plans.append(Plan(name, notebook, parameters))
    return plans


def check_results_dir(results_dir: Path) -> Path:
    """The results folder must be a folder we can create and write; otherwise one clear error."""
    results_dir = Path(results_dir)
    for parent in [results_dir, *results_dir.parents]:
        if parent.exists() and not parent.is_dir():
            what = "is a file" if parent == results_dir else f"is under a file ({parent})"
            raise P.ParameterError(f"--results-dir {results_dir} {what}; give a folder")
        if parent.exists():
            break
    try:
        results_dir.mkdir(parents=True, exist_ok=True)
        probe = results_dir / f".write-probe-{uuid.uuid4().hex[:8]}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise P.ParameterError(f"--results-dir {results_dir} cannot be written: {err.strerror or err}") from None
    return results_dir


# --------------------------------------------------------------------------- leftovers and sandbox


def leftovers(results_dir: Path) -> list[Path]:
    """What interrupted runs may have left in a results folder: staging folders of older versions
    of the runner and temporary files of an atomic write cut short."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        return []
    return sorted(p for p in results_dir.iterdir()
                  if (p.name.startswith(".staging-") and p.is_dir())
                  or (p.name.startswith(".") and p.name.endswith(".tmp"))
                  or p.name.startswith(".write-probe-"))


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_dead_runs() -> None:
    """Private folders of runs whose process is gone (killed with -9, a power cut)."""
    if not RUNS_DIR.is_dir():
        return
    for folder in RUNS_DIR.iterdir():
        try:
            pid = int(folder.name.split("-")[1])
        except (IndexError, ValueError):
            continue
        if not _pid_alive(pid):
            shutil.rmtree(folder, ignore_errors=True)


# Where Python, IPython, Keras, matplotlib and Jupyter read user settings or write caches.
PRIVATE_DIRS = {"HOME": "home", "KERAS_HOME": "home/.keras", "IPYTHONDIR": "home/.ipython",
                "MPLCONFIGDIR": "home/.matplotlib", "JUPYTER_RUNTIME_DIR": "home/.jupyter-runtime",
                "JUPYTER_CONFIG_DIR": "home/.jupyter", "XDG_CONFIG_HOME": "home/.config",
                "XDG_CACHE_HOME": "home/.cache", "DASK_CONFIG": "home/.config/dask"}


@contextlib.contextmanager
def _private_environment(folder: Path):
    """Point every user-settings and cache folder at ``folder`` (created empty), for this process and
    everything it starts: the kernel, the local Dask workers. Restores the environment on exit."""
    saved = dict(os.environ)
    for variable, sub in PRIVATE_DIRS.items():
        (folder / sub).mkdir(parents=True, exist_ok=True)
        os.environ[variable] = str(folder / sub)
    os.environ["PYTHONNOUSERSITE"] = "1"           # no ~/.local site-packages or usercustomize
    os.environ["KERAS_BACKEND"] = "tensorflow"
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _descendants() -> set[int]:
    import psutil

    return {p.pid for p in psutil.Process().children(recursive=True)}


def _stop_new_processes(before: set[int]) -> None:
    """Terminate processes this run started that are still alive (a kernel left behind by an
    interrupted papermill call, a worker the cluster did not stop)."""
    import psutil

    stray = []
    for pid in _descendants() - before:
        with contextlib.suppress(psutil.Error):
            process = psutil.Process(pid)
            if any("multiprocessing.resource_tracker" in part for part in process.cmdline()):
                continue                 # Python's own helper, shared by the whole process: leave it
            process.terminate()
            stray.append(process)
    _, alive = psutil.wait_procs(stray, timeout=5)
    for process in alive:
        with contextlib.suppress(psutil.Error):
            process.kill()


class _OrphanedCellTask(logging.Filter):
    """Moves asyncio's "Task exception was never retrieved ... DeadKernelError" report to the log.

    When Ctrl-C or SIGTERM stops papermill mid-cell, nbclient's task for that cell is abandoned; the
    kernel is then shut down, the task ends with DeadKernelError, and asyncio reports it when the task
    is garbage-collected, often after the runner has restored stderr or at interpreter exit. The
    interruption has already been reported in one line, so the traceback goes to the log instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not (record.getMessage().startswith("Task exception was never retrieved")
                and type(error).__name__ == "DeadKernelError"):
            return True
        with contextlib.suppress(OSError), open(LOG, "a") as log:
            log.write(logging.Formatter().format(record) + "\n")
        return False


def _report_orphaned_cell_tasks_to_log() -> None:
    asyncio_log = logging.getLogger("asyncio")
    if not any(isinstance(f, _OrphanedCellTask) for f in asyncio_log.filters):
        asyncio_log.addFilter(_OrphanedCellTask())


@contextlib.contextmanager
def _stderr_to(log: Path):
    """Send file descriptor 2 to ``log`` for the run, so the kernels and workers this process starts
    (which inherit it) write their start-up chatter and interrupt tracebacks there, not over the
    progress bar. Yields a stream to the real stderr, for the bar."""
    import sys

    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    target = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(target, 2)
    os.close(target)
    console = os.fdopen(os.dup(saved), "w", buffering=1)
    try:
        yield console
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        console.close()


class _ProgressBar:
    """One tqdm bar over every unit of the run, fed by the lines notebooks append to a file."""

    def __init__(self, path: Path, total: int, enabled: bool, stream):
        from tqdm.auto import tqdm

        self.path, self.stop = path, threading.Event()
        self.bar = tqdm(total=total, desc="units", unit="unit", disable=not enabled, file=stream)
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()

    def _count(self) -> int:
        try:
            return self.path.read_text().count("\n")
        except FileNotFoundError:
            return 0

    def _poll(self):
        while not self.stop.wait(0.5):
            self.bar.update(self._count() - self.bar.n)

    def experiment(self, name: str):
        self.bar.set_postfix_str(name)

    def close(self):
        self.stop.set()
        self.thread.join()
        self.bar.update(self._count() - self.bar.n)
        self.bar.close()


# --------------------------------------------------------------------------- running


def _hide_injected_defaults(executed: Path, item: Plan) -> None:
    """A run with the notebook's default parameters shows its commented parameters cell once: the
    cell papermill injects repeats the same values, so it is tagged remove-cell for the book."""
    import nbformat

    if P.scientific(item.parameters) != P.scientific(notebook_defaults(item.notebook)):
        return
    nb = nbformat.read(executed, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
    nbformat.write(nb, executed)


def _run_one(item: Plan, results_dir: Path, run_folder: Path) -> dict:
    import jupytext
    import papermill

    staging = run_folder / f"staging-{item.experiment}"
    staging.mkdir()
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
            # results_dir "." is the staging folder (the kernel's working directory); the scheduler
            # reaches the notebook through $GRUBOOK_SCHEDULER, so the published notebook holds no
            # address of a cluster that is gone, and re-running it starts a local one.
            papermill.execute_notebook(
                str(source), str(executed), parameters={**item.parameters, "results_dir": "."},
                kernel_name=KERNEL, cwd=str(staging), progress_bar=False, log_output=False,
                start_timeout=120)
        except papermill.PapermillExecutionError as err:
            raise ExperimentFailed(item.experiment, f"{err.ename}: {err.evalue} (cell {err.exec_count})") from None
        except KeyboardInterrupt:
            raise ExperimentFailed(item.experiment, "interrupted (Ctrl-C)") from None
        except Terminated:
            raise ExperimentFailed(item.experiment, "terminated (SIGTERM)") from None
        except RuntimeError as err:
            if "Kernel didn't respond" in str(err) or "Kernel died" in str(err):
                raise ExperimentFailed(item.experiment, f"the Jupyter kernel did not start or died ({err}); "
                                       "check that the loopback interface 127.0.0.1 is up") from None
            raise ExperimentFailed(item.experiment, f"{type(err).__name__}: {err}") from None
        except Exception as err:                             # kernel died, timeout, bad notebook...
            raise ExperimentFailed(item.experiment, f"{type(err).__name__}: {err}") from None
        wall = time.perf_counter() - start
        staged_json = staging / f"{item.experiment}.json"
        if not staged_json.is_file():
            raise ExperimentFailed(item.experiment, "the notebook finished without writing "
                                   f"{item.experiment}.json (did it call grubook.results.save?)")
        results = read(staged_json)
        scientific = P.scientific(item.parameters)
        results["parameters"] = scientific
        results["provenance"] = provenance(notebook=item.notebook, parameters=scientific, wall_seconds=wall,
                                           execution=results.pop("execution", None))
        results["seal"] = seal(results)
        _hide_injected_defaults(executed, item)
        # Publish: notebook first, JSON last, each an atomic rename inside results_dir.
        copy_atomic(executed, results_dir / f"{item.experiment}.ipynb")
        write_json_atomic(results_dir / f"{item.experiment}.json", results)
        return results
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def reproduce(names=None, *, quick: bool = False, overrides: dict | None = None,
              results_dir: Path | None = None, experiments_dir: Path = EXPERIMENTS_DIR,
              progress: bool = True, workers: int | None = None, scheduler: str | None = None) -> dict[str, dict]:
    """Run experiments and publish their results; returns {name: results}.

    Quick runs use each experiment's small settings and, unless told otherwise, write to
    ``_build/results-quick`` so they never replace the committed full results. Runs with
    ``overrides`` need an explicit ``results_dir`` for the same reason.

    ``scheduler``: a Dask scheduler address (default ``$GRUBOOK_SCHEDULER``), ``"serial"`` for
    in-process execution, or None for a local cluster of ``workers`` processes (default: one per core).
    """
    from .parallel import PROGRESS_ENV, SCHEDULER_ENV, check_loopback, local_cluster, resolve_scheduler
    from .units import plan as unit_plan

    plans = plan(names, quick=quick, overrides=overrides, experiments_dir=experiments_dir)
    if overrides and results_dir is None and not quick:
        raise P.ParameterError("results made with --set are not written into the committed results "
                               f"({RESULTS_DIR}); pass --results-dir DIR")
    if workers is not None and not (isinstance(workers, int) and not isinstance(workers, bool) and workers >= 1):
        raise P.ParameterError(f"--workers must be an integer >= 1, got {workers!r}")
    results_dir = check_results_dir(Path(results_dir or (QUICK_RESULTS_DIR if quick else RESULTS_DIR)))
    scheduler = resolve_scheduler(scheduler)
    check_loopback()
    _report_orphaned_cell_tasks_to_log()
    total = sum(len(unit_plan(item.experiment, item.parameters)) for item in plans)
    for stale in leftovers(results_dir):
        _remove(stale)
    _remove_dead_runs()
    run_folder = RUNS_DIR / f"run-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    run_folder.mkdir(parents=True)
    before = _descendants()
    out = {}
    try:
        with _private_environment(run_folder), _stderr_to(LOG) as console:
            os.environ[PROGRESS_ENV] = str(run_folder / "progress")
            bar = _ProgressBar(run_folder / "progress", total, progress, console)
            try:
                with (contextlib.nullcontext(scheduler) if scheduler else local_cluster(workers)) as address:
                    os.environ[SCHEDULER_ENV] = address
                    for item in plans:
                        bar.experiment(item.experiment)
                        out[item.experiment] = _run_one(item, results_dir, run_folder)
            finally:
                bar.close()
                _stop_new_processes(before)
    finally:
        shutil.rmtree(run_folder, ignore_errors=True)
    return out


def preflight(names, results_dir: Path = RESULTS_DIR) -> dict[str, dict]:
    """Load and verify the committed results ``check`` compares against, before any re-run: a corrupt,
    edited or empty file fails in a second, not after the whole reproduction."""
    committed = {}
    for name in P.check_experiment_names(names or list(P.EXPERIMENTS)):
        res = load(name, results_dir)
        if not res["tolerances"]:
            raise ResultsError(f"{Path(results_dir) / (name + '.json')}: compares nothing (no metric has a "
                               "tolerance), so a re-run could never disagree with it")
        committed[name] = res
    return committed


def status(results_dir: Path = RESULTS_DIR, experiments_dir: Path = EXPERIMENTS_DIR) -> list[dict]:
    """For every experiment: fresh, stale (inputs changed since the run), custom (parameters differ
    from the notebook's defaults), edited (content does not match its seal), corrupt, or missing."""
    rows = []
    for name in P.EXPERIMENTS:
        path = Path(results_dir) / f"{name}.json"
        notebook = Path(experiments_dir) / f"{name}.md"
        row = {"experiment": name, "status": "missing", "wall_seconds": None, "inputs_sha256": None, "detail": ""}
        rows.append(row)
        if not path.is_file():
            continue
        try:
            results = read(path)                       # not even parseable: corrupt
        except ResultsError as err:
            row["status"], row["detail"] = "corrupt", str(err)
            continue
        try:
            verify(results, path)                      # parseable, but incomplete, unsealed or edited
        except ResultsError as err:
            row["status"], row["detail"] = "edited", str(err)
            continue
        prov = results["provenance"]
        row |= {"wall_seconds": prov.get("wall_seconds"), "inputs_sha256": prov.get("inputs_sha256")}
        current = inputs_sha256(notebook, P.scientific(results["parameters"])) if notebook.is_file() else None
        defaults = P.scientific(notebook_defaults(notebook)) if notebook.is_file() else {}
        custom = {k: v for k, v in results["parameters"].items() if json.loads(json.dumps(defaults.get(k))) != v}
        if not current or current != prov.get("inputs_sha256"):
            row["status"] = "stale"
        elif custom:
            row["status"] = "custom"
            row["detail"] = "parameters differ from the notebook's defaults: " + ", ".join(
                f"{k}={v!r} (default {defaults.get(k)!r})" for k, v in custom.items())
        else:
            row["status"] = "fresh"
    return rows
