"""Units of work on Dask: every training run is one task, on a local cluster or an existing one.

An experiment notebook asks :mod:`grubook.units` for its list of :class:`Unit` s (one training run
each: one experiment, seed and configuration), hands them to :func:`run_units`, and gets back one
output per unit, in the order given. Workers return plain numbers and arrays; only the client
writes files, so no shared filesystem is assumed.

Where the units run (``scheduler``):

- ``None`` (or ``""``): the address in ``$GRUBOOK_SCHEDULER`` if set, else a fresh
  :func:`local_cluster` for this call;
- ``"tcp://host:port"``: an existing Dask scheduler (a cluster you started, or the one the runner
  started for a whole reproduction);
- ``"serial"``: in this process, one unit after another, with TensorFlow's default threading.
  That is how experiments ran before Dask; ``python -m grubook bench`` uses it as the baseline.

Every worker runs TensorFlow and OpenMP with one thread (:func:`pin_threads`): small recurrent
layers are bound by per-step overhead, so one thread per process and one process per core is the
fastest use of a CPU, and a fixed thread count keeps a machine's core count out of the numbers.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable

__all__ = ["Unit", "UnitFailed", "run_units", "local_cluster", "pin_threads", "resolve_scheduler",
           "SCHEDULER_ENV", "PROGRESS_ENV", "SINGLE_THREAD_ENV", "check_loopback"]

SCHEDULER_ENV = "GRUBOOK_SCHEDULER"
PROGRESS_ENV = "GRUBOOK_PROGRESS_FILE"      # the runner's progress bar counts the lines written here
LOCAL_SCHEDULER_ENV = "GRUBOOK_LOCAL_SCHEDULER"  # set while a local_cluster runs: its address
WORKER_LOG_ENV = "GRUBOOK_WORKER_LOG_DIR"   # local workers write their stderr (TensorFlow's chatter) here
# Set in every worker before TensorFlow (or NumPy's BLAS) starts its thread pools.
SINGLE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                     "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}


@dataclass(frozen=True)
class Unit:
    """One unit of work: ``function(**kwargs)`` on some worker.

    Attributes:
        key: names the unit in progress, errors and provenance, e.g. ``"GRU/T400/seed2"``.
        function: a module-level function of grubook (workers import it by name).
        kwargs: plain, picklable arguments.
        exclusive: run alone, with no other unit on the cluster at the same time (timings).
        affinity: units with the same affinity go to the same worker where possible, so they share
            what that worker has cached (a compiled model of the same shape).
        cost: relative expected run time, used to balance affinity groups across workers.
    """

    key: str
    function: Callable
    kwargs: dict = field(default_factory=dict)
    exclusive: bool = False
    affinity: str | None = None
    cost: float = 1.0


class UnitFailed(RuntimeError):
    """A unit raised, or its worker died. Names the experiment and the unit."""

    def __init__(self, experiment: str, unit: str, cause: str):
        super().__init__(f"{experiment}: unit {unit!r} failed: {cause}")
        self.experiment, self.unit, self.cause = experiment, unit, cause


def pin_threads() -> None:
    """Make this worker run TensorFlow, OpenMP and BLAS with one thread each.

    The variables of ``SINGLE_THREAD_ENV`` must be set when the worker process starts (the local
    cluster does it; ``python -m grubook worker`` does it for workers you start): a Dask worker
    imports NumPy, and so starts OpenBLAS's thread pool, before it runs any unit, so setting them
    later is too late. A worker started without them, or whose TensorFlow already runs with more
    threads, is refused with a message that says how to start it, because its numbers could differ.
    """
    missing = [k for k, v in SINGLE_THREAD_ENV.items() if os.environ.get(k) != v]
    if missing:
        raise RuntimeError(f"this Dask worker was started without {', '.join(f'{k}=1' for k in missing)}; "
                           "start workers with `python -m grubook worker SCHEDULER_ADDRESS`, which sets them "
                           "(and one thread per worker), so that every unit gives the same numbers anywhere")
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass                                          # already initialised: checked below
    threads = (tf.config.threading.get_intra_op_parallelism_threads(),
               tf.config.threading.get_inter_op_parallelism_threads())
    if threads != (1, 1):
        raise RuntimeError(f"this worker's TensorFlow already runs with (intra, inter) = {threads} threads; "
                           "start workers with `python -m grubook worker SCHEDULER_ADDRESS`")


def _quiet_stderr() -> None:
    """In a local worker, send file descriptor 2 to a log file: TensorFlow's C++ start-up messages
    would otherwise interleave with the progress bar. Unit errors still reach the client."""
    folder = os.environ.pop(WORKER_LOG_ENV, None)
    if folder and os.path.isdir(folder):
        log = os.open(os.path.join(folder, f"worker-{os.getpid()}.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(log, 2)
        os.close(log)


def _execute(function: Callable, kwargs: dict, pin: bool = True) -> dict:
    """What runs on the worker: pin threads, run the unit, say where and how long."""
    if pin:
        _quiet_stderr()
        pin_threads()
    import keras

    start = time.perf_counter()
    output = function(**kwargs)
    return {"output": output, "host": socket.gethostname(), "worker": f"{socket.gethostname()}:{os.getpid()}",
            "seconds": round(time.perf_counter() - start, 3),
            "keras": {"backend": keras.backend.backend(), "floatx": keras.config.floatx()}}


def check_loopback() -> None:
    """Fail with a clear message when no socket can be opened on 127.0.0.1 (the Jupyter kernel and
    the local Dask cluster both talk over loopback)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
            server.bind(("127.0.0.1", 0))            # binding can work with the interface down...
            server.listen(1)
            with socket.create_connection(server.getsockname(), timeout=3):   # ...connecting cannot
                pass
    except OSError as err:
        raise OSError(f"cannot open a socket on 127.0.0.1 (loopback): {err.strerror or err}; the Jupyter "
                      "kernel and the local Dask cluster need the loopback interface") from None


@contextlib.contextmanager
def local_cluster(workers: int | None = None):
    """A Dask ``LocalCluster`` on 127.0.0.1: ``workers`` processes (default: one per core), one
    thread each, nothing listening beyond loopback. Yields the scheduler address; closes every
    process on exit.

    A worker that dies (killed, out of memory) fails its unit at once instead of being retried,
    so the error names the unit.
    """
    import logging
    import shutil
    import tempfile

    import dask
    from distributed import LocalCluster

    workers = workers or os.cpu_count() or 1
    if not (isinstance(workers, int) and workers >= 1):
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    check_loopback()
    # No work stealing: units sharing an affinity stay on the worker that has their model compiled.
    config = {"distributed.scheduler.allowed-failures": 0, "distributed.scheduler.work-stealing": False,
              "distributed.worker.daemon": True,
              "distributed.admin.tick.limit": "60s"}
    logs = tempfile.mkdtemp(prefix="grubook-workers-")
    env = SINGLE_THREAD_ENV | {WORKER_LOG_ENV: logs, "TF_CPP_MIN_LOG_LEVEL": "2"}
    try:
        with dask.config.set(config):
            # The scheduler's HTTP endpoint (health checks; no dashboard pages, bokeh is not
            # installed) listens on a free loopback port, like everything else here.
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                   dashboard_address="127.0.0.1:0", silence_logs=logging.CRITICAL, env=env)
        previous = os.environ.get(LOCAL_SCHEDULER_ENV)
        os.environ[LOCAL_SCHEDULER_ENV] = cluster.scheduler_address   # kernels started now say "local"
        try:
            yield cluster.scheduler_address
        finally:
            if previous is None:
                os.environ.pop(LOCAL_SCHEDULER_ENV, None)
            else:
                os.environ[LOCAL_SCHEDULER_ENV] = previous
            with contextlib.suppress(Exception):
                cluster.close(timeout=20)
    finally:
        shutil.rmtree(logs, ignore_errors=True)


def resolve_scheduler(scheduler: str | None) -> str | None:
    """The scheduler a run uses: the given one, else ``$GRUBOOK_SCHEDULER``, else None (local)."""
    scheduler = scheduler or os.environ.get(SCHEDULER_ENV) or None
    if scheduler is not None and not isinstance(scheduler, str):
        raise ValueError(f"scheduler must be an address string, 'serial' or None, got {scheduler!r}")
    return scheduler


def _report_progress(key: str, bar) -> None:
    path = os.environ.get(PROGRESS_ENV)
    if path:
        with open(path, "a") as f:
            f.write(key + "\n")
    elif bar is not None:
        bar.update(1)


def _failure(experiment: str, unit: Unit, err: BaseException) -> UnitFailed:
    from distributed.scheduler import KilledWorker

    if isinstance(err, KilledWorker):
        cause = "its worker process died while running it (killed, or out of memory)"
    else:
        cause = f"{type(err).__name__}: {err}"
    return UnitFailed(experiment, unit.key, cause)


def run_units(experiment: str, units: list[Unit], *, scheduler: str | None = None,
              workers: int | None = None) -> tuple[dict, dict]:
    """Run every unit and return ({unit key: output}, in the order of ``units``; execution record).

    The execution record says where the units ran: the scheduler kind ("local", "remote" or
    "serial"), the number of workers, threads per worker, and per unit the host and seconds.
    Exclusive units run after all the others, one at a time. The first failure cancels the rest
    and raises :class:`UnitFailed`.
    """
    keys = [u.key for u in units]
    if len(set(keys)) != len(keys):
        raise ValueError(f"{experiment}: unit keys must be unique")
    scheduler = resolve_scheduler(scheduler)
    from tqdm.std import tqdm

    bar = None if os.environ.get(PROGRESS_ENV) else tqdm(total=len(units), desc=experiment, unit="unit",
                                                         file=sys.stderr, mininterval=5)
    try:
        if scheduler == "serial":
            return _run_serial(experiment, units, bar)
        if scheduler is None:
            with local_cluster(workers) as address:
                return _run_on(experiment, units, address, "local", bar)
        kind = "local" if scheduler == os.environ.get(LOCAL_SCHEDULER_ENV) else "remote"
        return _run_on(experiment, units, scheduler, kind, bar)
    finally:
        if bar is not None:
            bar.close()


def _run_serial(experiment, units, bar):
    outputs, placement = {}, {}
    for unit in units:
        try:
            done = _execute(unit.function, unit.kwargs, pin=False)
        except Exception as err:  # noqa: BLE001 - reported with the unit's name
            raise UnitFailed(experiment, unit.key, f"{type(err).__name__}: {err}") from err
        outputs[unit.key] = done["output"]
        placement[unit.key] = {k: done[k] for k in ("host", "worker", "seconds")}
        _report_progress(unit.key, bar)
    import tensorflow as tf

    threads = tf.config.threading.get_intra_op_parallelism_threads() or "default"
    return outputs, {"scheduler": "serial", "workers": 1, "threads_per_worker": threads,
                     "keras": done["keras"] if units else None, "units": placement}


def _run_on(experiment, units, address, kind, bar):
    from distributed import Client, as_completed

    token = uuid.uuid4().hex[:8]
    results: dict[str, dict] = {}
    with Client(address, set_as_default=False, timeout="30s") as client:
        workers = client.scheduler_info()["workers"]
        threads = sorted({w["nthreads"] for w in workers.values()})
        preferred = preferred_workers([u for u in units if not u.exclusive], sorted(workers))

        def submit(unit):
            # A preference, not a rule: if the preferred worker is gone, any other may run the unit.
            where = {"workers": [preferred[unit.key]], "allow_other_workers": True} if unit.key in preferred else {}
            # Longest first on every worker (priority = expected cost): what is left at the end is
            # short, so a worker that runs out of work waits little for the other.
            return client.submit(_execute, unit.function, unit.kwargs, key=f"{experiment}/{unit.key}-{token}",
                                 pure=False, priority=unit.cost, **where)

        def collect(pending: dict, waiting: list | None = None):
            """Results of ``pending``; the ``waiting`` units are handed out one at a time, as a
            worker frees up, the most expensive first (greedy longest-processing-time). Submitted
            all at once, units without an affinity were spread by count when submitted, and one
            worker often finished 20 s before the other."""
            waiting = sorted(waiting or [], key=lambda u: -u.cost)
            flow = as_completed(list(pending), loop=client.loop)

            def feed():
                if waiting:
                    unit = waiting.pop(0)
                    future = submit(unit)
                    pending[future] = unit
                    flow.add(future)

            try:
                for _ in range(max(1, len(workers) - len(pending))):
                    feed()
                for future in flow:
                    unit = pending[future]
                    try:
                        results[unit.key] = future.result()
                    except Exception as err:  # noqa: BLE001 - reported with the unit's name
                        raise _failure(experiment, unit, err) from None
                    _report_progress(unit.key, bar)
                    feed()
            finally:
                for future in pending:
                    future.cancel()

        shared = [u for u in units if not u.exclusive]
        if shared:
            collect({submit(u): u for u in shared if u.key in preferred},
                    [u for u in shared if u.key not in preferred])
        for unit in (u for u in units if u.exclusive):   # alone on the cluster, one at a time
            collect({submit(unit): unit})
    outputs = {u.key: results[u.key]["output"] for u in units}
    record = {"scheduler": kind, "workers": len(workers),
              "threads_per_worker": threads[0] if len(threads) == 1 else threads,
              "keras": next(iter(results.values()))["keras"] if results else None,
              "units": {u.key: {k: results[u.key][k] for k in ("host", "worker", "seconds")} for u in units}}
    return outputs, record


def preferred_workers(units: list[Unit], workers: list[str]) -> dict[str, str]:
    """A worker for every unit that has an affinity: whole affinity groups, the most expensive
    first, each to the worker with the least work so far (longest-processing-time balancing)."""
    groups: dict[str, list[Unit]] = {}
    for unit in units:
        if unit.affinity is not None:
            groups.setdefault(unit.affinity, []).append(unit)
    load = {worker: 0.0 for worker in workers}
    chosen = {}
    for group in sorted(groups.values(), key=lambda g: -sum(u.cost for u in g)):
        worker = min(load, key=lambda w: (load[w], w))
        load[worker] += sum(u.cost for u in group)
        chosen |= {u.key: worker for u in group}
    return chosen
