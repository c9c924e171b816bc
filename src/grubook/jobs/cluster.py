"""Where jobs run: a local Dask cluster on this machine, or a Dask scheduler you started yourself.

- :func:`local_cluster` starts ``workers`` processes on 127.0.0.1, one thread each;
- :func:`resolve_scheduler` picks the scheduler a run uses: the one given, ``$GRUBOOK_SCHEDULER``,
  or none (a local cluster); ``"serial"`` runs jobs in the calling process;
- :func:`pin_threads` runs in every worker: TensorFlow, OpenMP and BLAS with one thread each.

Small recurrent layers are bound by per-step overhead, so one thread per process and one process
per core is the fastest use of a CPU, and a fixed thread count keeps a machine's core count out of
the numbers.
"""

from __future__ import annotations

import contextlib
import os
import socket

__all__ = ["local_cluster", "pin_threads", "resolve_scheduler", "check_loopback", "SCHEDULER_ENV",
           "LOCAL_SCHEDULER_ENV", "WORKER_LOG_ENV", "SINGLE_THREAD_ENV"]

SCHEDULER_ENV = "GRUBOOK_SCHEDULER"
LOCAL_SCHEDULER_ENV = "GRUBOOK_LOCAL_SCHEDULER"  # set while a local_cluster runs: its address
WORKER_LOG_ENV = "GRUBOOK_WORKER_LOG_DIR"   # local workers write their stderr (TensorFlow's chatter) here
# Set in every worker before TensorFlow (or NumPy's BLAS) starts its thread pools.
SINGLE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                     "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}


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
