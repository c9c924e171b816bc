"""Run experiment notebooks through papermill, their jobs on Dask, and publish results safely.

For each experiment ``experiments/<name>.md`` (a jupytext MyST notebook with a cell tagged
``parameters``; its module :mod:`grubook.experiments.<name>` declares the parameters):

1. every name and parameter, and the results folder, are validated first, for all requested
   experiments, before anything runs; the committed folder only takes full default runs;
2. one Dask cluster is started for the whole call (``jobs.cluster.local_cluster``), unless a
   scheduler address is given or every job can come from the cache; every notebook reaches it
   through ``$GRUBOOK_SCHEDULER``, and the job cache through ``$GRUBOOK_CACHE``;
3. each notebook is converted to ipynb in a private staging folder under ``_build/runs/`` and
   executed there by papermill with the venv's ``grubook`` kernel, writing its results JSON there;
4. only when the run succeeded are provenance and the seal added and the JSON moved into the
   results folder by one atomic rename. The executed notebook is a log of the run: it goes to the
   run's log folder ``_build/logs/<run>/`` with what kernels and workers printed. The book's
   experiment pages are rendered from the sealed JSON, never from an executed notebook.

The kernel and the local workers run in a private home (``HOME``, ``KERAS_HOME``, ``IPYTHONDIR``,
``MPLCONFIGDIR``, Jupyter's runtime folder), so nothing in the user's home changes a number or is
written to. A failed or interrupted run (Ctrl-C, SIGTERM, a job that raises, a worker that dies)
deletes its staging folder, stops the cluster and the kernel, and leaves the previous results
untouched.
"""

from __future__ import annotations

import ast
import contextlib
import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from .. import experiments
from ..experiments import spec as P
from ..jobs.environment import provenance
from ..results.files import (EXPERIMENTS_DIR, REPO_ROOT, RESULTS_DIR, ResultsError, load, read, seal,
                             write_json_atomic)

__all__ = ["KERNEL", "QUICK_RESULTS_DIR", "RUNS_DIR", "LOGS_DIR", "ExperimentFailed", "Terminated", "Plan", "plan",
           "reproduce", "notebook_defaults", "leftovers", "check_results_dir", "preflight", "is_committed_folder"]

KERNEL = "grubook"
QUICK_RESULTS_DIR = REPO_ROOT / "_build" / "results-quick"
RUNS_DIR = REPO_ROOT / "_build" / "runs"          # private homes and staging folders of running runs
LOGS_DIR = REPO_ROOT / "_build" / "logs"          # one folder per run: its log and executed notebooks
KEEP_LOGS = 20                                    # the newest run logs kept; older ones are removed
# The book's standard: every experiment, cold, within 15 minutes on a 2-core CPU.
FULL_REPRODUCTION_BUDGET_SECONDS = 900
_LOG: dict = {}                                   # the log file of the run in progress


def _log_path() -> Path:
    return _LOG.get("path") or LOGS_DIR / "reproduce.log"


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
    quick: bool = False
    custom: bool = False


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
    names = experiments.check_names(names or list(experiments.NAMES))
    plans = []
    for name in names:
        notebook = Path(experiments_dir) / f"{name}.md"
        if not notebook.is_file():
            raise FileNotFoundError(f"experiment {name!r} has no notebook at {notebook}")
        parameters = P.defaults(name, quick=quick)
        for key, value in (overrides or {}).items():
            if key not in parameters or key in P.EXECUTION_PARAMETERS:
                raise P.ParameterError(f"{name}: unknown parameter {key!r}; parameters are: "
                                       f"{', '.join(P.scientific(parameters))}")
            parameters[key] = value
        P.validate(name, parameters)
        custom = P.scientific(parameters) != P.scientific(P.defaults(name))
        plans.append(Plan(name, notebook, parameters, quick=quick, custom=custom))
    return plans


def is_committed_folder(folder: Path) -> bool:
    """Whether a folder is the committed results folder or inside it (symbolic links resolved)."""
    target, committed = Path(folder).resolve(), RESULTS_DIR.resolve()
    return target == committed or committed in target.parents


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
    # Temporary files (the kernels' connection files, which hold their keys) go with the run too.
    (folder / "tmp").mkdir(exist_ok=True)
    os.environ["TMPDIR"] = str(folder / "tmp")
    saved_tempdir, tempfile.tempdir = tempfile.tempdir, str(folder / "tmp")   # Python caches TMPDIR once read
    os.environ["KERAS_BACKEND"] = "tensorflow"
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        tempfile.tempdir = saved_tempdir


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
        with contextlib.suppress(OSError), open(_log_path(), "a") as log:
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
    target = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
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
        self.bar = tqdm(total=total, desc="jobs", unit="job", disable=not enabled, file=stream)
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


def _run_one(item: Plan, results_dir: Path, run_folder: Path, log_folder: Path) -> dict:
    import jupytext
    import papermill

    staging = run_folder / f"staging-{item.experiment}"
    staging.mkdir()
    try:
        source = staging / f"{item.experiment}.source.ipynb"
        executed = staging / f"{item.experiment}.ipynb"
        nb = jupytext.read(item.notebook)
        nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Python (grubook)", "language": "python"}
        jupytext.write(nb, source, fmt="ipynb")
        start = time.perf_counter()
        try:
            # results_dir "." is the staging folder (the kernel's working directory); the scheduler
            # and the cache reach the notebook through the environment, so the executed notebook
            # holds no address of a cluster that is gone.
            papermill.execute_notebook(
                str(source), str(executed), parameters={**item.parameters, "results_dir": "."},
                kernel_name=KERNEL, cwd=str(staging), progress_bar=False, log_output=False,
                start_timeout=120)
        except papermill.PapermillExecutionError as err:
            if "[Errno 28]" in str(err.evalue):
                raise ExperimentFailed(item.experiment, f"the disk is full: the notebook could not write its results "
                                       f"in {staging} (cell {err.exec_count})") from None
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
        except OSError as err:
            raise ExperimentFailed(item.experiment, _disk_message(err, executed)) from None
        except Exception as err:                             # kernel died, timeout, bad notebook...
            raise ExperimentFailed(item.experiment, f"{type(err).__name__}: {err}") from None
        wall = time.perf_counter() - start
        with contextlib.suppress(OSError):
            shutil.copyfile(executed, log_folder / f"{item.experiment}.ipynb")
        staged_json = staging / f"{item.experiment}.json"
        if not staged_json.is_file():
            raise ExperimentFailed(item.experiment, "the notebook finished without writing "
                                   f"{item.experiment}.json (did it call grubook.experiments.spec.run?)")
        results = read(staged_json)
        results["parameters"] = P.scientific(item.parameters)
        results["provenance"] = provenance(wall_seconds=wall, execution=results.pop("execution", None),
                                           fingerprints=results.pop("fingerprint", None))
        results["seal"] = seal(results)
        try:
            write_json_atomic(results_dir / f"{item.experiment}.json", results)   # one rename publishes it
        except OSError as err:
            raise ExperimentFailed(item.experiment, _disk_message(err, results_dir / f"{item.experiment}.json")) from None
        return results
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _disk_message(err: OSError, path: Path) -> str:
    """One line for a write that failed: which file, and why (a full disk said plainly)."""
    import errno

    where = err.filename or path
    if err.errno == errno.ENOSPC:
        return f"the disk is full: cannot write {where}"
    return f"cannot write {where}: {err.strerror or err}"


def _all_cached(item: Plan) -> bool:
    """Whether every job of a planned experiment is in the job cache (of ``$GRUBOOK_CACHE``),
    later stages included."""
    from ..jobs.cache import cache_from_environment
    from ..jobs.run import job_keys

    module, cache, done = experiments.get(item.experiment), cache_from_environment(), {}
    stage = module.plan(item.parameters)
    while stage:
        keys = job_keys(stage)
        for job in stage:
            output = cache.get(keys[job.name]) if job.cacheable else None
            if output is None:
                return False
            done[job.name] = output
        stage = module.plan_next(item.parameters, done) if hasattr(module, "plan_next") else []
    return True


def _prune_logs() -> None:
    if LOGS_DIR.is_dir():
        runs = sorted((p for p in LOGS_DIR.iterdir() if p.is_dir() and p.name.startswith("run-")),
                      key=lambda p: p.stat().st_mtime)
        for old in runs[:-KEEP_LOGS]:
            shutil.rmtree(old, ignore_errors=True)


def reproduce(names=None, *, quick: bool = False, overrides: dict | None = None,
              results_dir: Path | None = None, experiments_dir: Path = EXPERIMENTS_DIR,
              progress: bool = True, workers: int | None = None, scheduler: str | None = None,
              cache: bool = True, cache_dir: Path | None = None, on_published=None) -> dict[str, dict]:
    """Run experiments and publish their results; returns {name: results}.

    Quick runs use each experiment's small settings and, unless told otherwise, write to
    ``_build/results-quick`` so they never replace the committed full results. Runs with
    ``overrides`` need an explicit ``results_dir`` for the same reason, and the committed folder
    takes only runs with every default parameter.

    ``scheduler``: a Dask scheduler address (default ``$GRUBOOK_SCHEDULER``), ``"serial"`` for
    in-process execution, or None for a local cluster of ``workers`` processes (default: one per core).
    ``cache``: take unchanged jobs from the job cache (``cache_dir``, default ``_build/cache/jobs``).
    ``on_published(name, results)`` is called as each experiment's results are published (CI prints
    each experiment's wall time with it, so a run cut short still shows how far it got and how fast).
    """
    from ..jobs.cache import CACHE_ENV, DEFAULT_CACHE_DIR
    from ..jobs.cluster import SCHEDULER_ENV, check_loopback, local_cluster, resolve_scheduler
    from ..jobs.run import PROGRESS_ENV

    plans = plan(names, quick=quick, overrides=overrides, experiments_dir=experiments_dir)
    if overrides and results_dir is None and not quick:
        raise P.ParameterError("results made with --set are not written into the committed results "
                               f"({RESULTS_DIR}); pass --results-dir DIR")
    from ..jobs.cluster import max_workers, probe_scheduler

    limit = max_workers()
    if workers is not None and not (isinstance(workers, int) and not isinstance(workers, bool) and 1 <= workers <= limit):
        raise P.ParameterError(f"--workers must be an integer from 1 to {limit} on this machine (four per core, and "
                               f"about 1.5 GiB of memory each), got {workers!r}")
    results_dir = Path(results_dir or (QUICK_RESULTS_DIR if quick else RESULTS_DIR))
    from ..jobs.perturb import PERTURB_ENV, perturbation

    try:
        perturbed = perturbation()
    except ValueError as err:
        raise P.ParameterError(str(err)) from None
    if perturbed and is_committed_folder(results_dir):
        raise P.ParameterError(f"${PERTURB_ENV} is set: runs with perturbed initial weights never go into the "
                               f"committed results ({RESULTS_DIR}); unset it, or use `python -m grubook drift`")
    if is_committed_folder(results_dir) and (quick or any(item.custom for item in plans)):
        raise P.ParameterError(f"--results-dir {results_dir} is the committed results folder ({RESULTS_DIR}); it "
                               "takes only full runs with every default parameter (no --quick, no --set)")
    results_dir = check_results_dir(results_dir)
    scheduler = resolve_scheduler(scheduler)
    check_loopback()
    if scheduler not in (None, "serial"):
        warning = probe_scheduler(scheduler)            # in seconds, before any kernel starts
        if warning:
            import sys

            print(warning, file=sys.stderr)
    _report_orphaned_cell_tasks_to_log()
    total = sum(P.count_jobs(item.experiment, item.parameters) for item in plans)
    for stale in leftovers(results_dir):
        _remove(stale)
    _remove_dead_runs()
    _prune_logs()
    token = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    run_folder = RUNS_DIR / f"run-{token}"
    run_folder.mkdir(parents=True)
    log_folder = LOGS_DIR / f"run-{time.strftime('%Y%m%d-%H%M%S')}-{token}"
    log_folder.mkdir(parents=True)
    _LOG["path"] = log_folder / "reproduce.log"
    before = _descendants()
    out = {}
    try:
        with _private_environment(run_folder), _stderr_to(_LOG["path"]) as console:
            os.environ[PROGRESS_ENV] = str(run_folder / "progress")
            os.environ[CACHE_ENV] = str(cache_dir or DEFAULT_CACHE_DIR) if cache else "off"
            bar = _ProgressBar(run_folder / "progress", total, progress, console)
            # No cluster when every job can come from the cache (a notebook that meets a job the
            # cache lost after all starts a local cluster of its own).
            needed = scheduler is None and not (cache and all(_all_cached(item) for item in plans))
            try:
                with (local_cluster(workers, folder=run_folder) if needed else contextlib.nullcontext(scheduler)) as address:
                    if address:
                        os.environ[SCHEDULER_ENV] = address
                    else:
                        os.environ.pop(SCHEDULER_ENV, None)
                    for item in plans:
                        bar.experiment(item.experiment)
                        out[item.experiment] = _run_one(item, results_dir, run_folder, log_folder)
                        if on_published is not None:
                            on_published(item.experiment, out[item.experiment])
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
    for name in experiments.check_names(names or list(experiments.NAMES)):
        res = load(name, results_dir)
        if not res["tolerances"]:
            raise ResultsError(f"{Path(results_dir) / (name + '.json')}: compares nothing (no metric has a "
                               "tolerance), so a re-run could never disagree with it")
        committed[name] = res
    return committed
