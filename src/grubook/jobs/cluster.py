"""Where jobs run: a local Dask cluster on this machine, or a Dask scheduler you started yourself.

- :func:`local_cluster` starts ``workers`` processes on 127.0.0.1, one thread each, talking TLS
  with a certificate made for this cluster alone: a process without it cannot connect, so no
  other user of the machine can run code in a run or change its numbers;
- :func:`resolve_scheduler` picks the scheduler a run uses: the one given, ``$GRUBOOK_SCHEDULER``,
  or none (a local cluster); ``"serial"`` runs jobs in the calling process;
- :func:`pin_threads` runs in every worker: TensorFlow, OpenMP and BLAS with one thread each;
- :func:`probe_scheduler` checks, in seconds and before any kernel starts, that an address given
  by the user answers as a Dask scheduler; :func:`max_workers` bounds a local cluster by the machine;
- :func:`worker_command` is ``python -m grubook worker``: ``dask worker`` bound to the interface
  that reaches the scheduler, never to every interface.

Small recurrent layers are bound by per-step overhead, so one thread per process and one process
per core is the fastest use of a CPU, and a fixed thread count keeps a machine's core count out of
the numbers.
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

__all__ = ["local_cluster", "pin_threads", "resolve_scheduler", "check_loopback", "probe_scheduler", "max_workers",
           "interface_towards", "worker_command", "SchedulerError", "SCHEDULER_ENV", "LOCAL_SCHEDULER_ENV",
           "WORKER_LOG_ENV", "SINGLE_THREAD_ENV", "WORKER_MEMORY_GIB"]

SCHEDULER_ENV = "GRUBOOK_SCHEDULER"
LOCAL_SCHEDULER_ENV = "GRUBOOK_LOCAL_SCHEDULER"  # set while a local_cluster runs: its address
WORKER_LOG_ENV = "GRUBOOK_WORKER_LOG_DIR"   # local workers write their stderr (TensorFlow's chatter) here
WORKER_MEMORY_GIB = 1.5                     # what one worker holds once TensorFlow and a model are loaded
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


class SchedulerError(ValueError):
    """A scheduler address that is malformed, unreachable or not a Dask scheduler; one line."""


def max_workers() -> int:
    """The most local workers this machine can hold: four per core, and no more than its memory
    holds at about ``WORKER_MEMORY_GIB`` each."""
    cores = os.cpu_count() or 1
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        memory = 4 * cores * WORKER_MEMORY_GIB
    return max(1, min(4 * cores, int(memory // WORKER_MEMORY_GIB)))


def _write_credentials(security, folder: Path) -> dict:
    """Write a cluster's certificate and key for the processes this run starts (mode 0600) and
    return the Dask configuration variables that point their clients at them."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, pem in (("ca", security.tls_ca_file), ("cert", security.tls_client_cert),
                      ("key", security.tls_client_key)):
        path = folder / f"{name}.pem"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(pem)
        paths[name] = str(path)
    return {"DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION": "True",
            "DASK_DISTRIBUTED__COMM__TLS__CA_FILE": paths["ca"],
            "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT": paths["cert"],
            "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY": paths["key"]}


def _as_config(variables: dict) -> dict:
    """Dask configuration variables (``DASK_A__B_C``) as configuration keys (``a.b-c``): Dask reads
    the variables only when it is imported, so this process sets the keys too."""
    import yaml

    return {name.removeprefix("DASK_").lower().replace("__", ".").replace("_", "-"): yaml.safe_load(value)
            for name, value in variables.items()}


# HTTP routes the local scheduler and workers serve: health only (no dashboard, no API that could
# retire workers); and like everything else they listen on loopback.
_HTTP_ROUTES = ["distributed.http.health"]


@contextlib.contextmanager
def local_cluster(workers: int | None = None, *, folder: Path | None = None):
    """A Dask ``LocalCluster`` on 127.0.0.1: ``workers`` processes (default: one per core), one
    thread each, nothing listening beyond loopback, every connection TLS with a certificate made
    for this cluster (``Security.temporary``). Yields the scheduler address (``tls://...``); while
    the cluster runs, processes started from this one (the notebooks' kernels) find the
    certificate through Dask's configuration variables. Closes every process on exit.

    ``folder`` (the run's private folder) holds the workers' logs, their scratch space and the
    certificate, and goes with the run; without one, a temporary folder is made and removed.

    A worker that dies (killed, out of memory) fails its job at once instead of being retried,
    so the error names the job.
    """
    import logging
    import shutil
    import tempfile

    import dask
    from distributed import LocalCluster
    from distributed.security import Security

    workers = workers or os.cpu_count() or 1
    if not (isinstance(workers, int) and 1 <= workers <= max_workers()):
        raise ValueError(f"workers must be an integer from 1 to {max_workers()} on this machine, got {workers!r}")
    check_loopback()
    owned = folder is None
    folder = Path(tempfile.mkdtemp(prefix="grubook-cluster-")) if owned else Path(folder) / "cluster"
    logs = folder / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    security = Security.temporary()
    credentials = _write_credentials(security, folder / "tls")
    # No work stealing: jobs sharing an affinity stay on the worker that has their model compiled.
    config = {"distributed.scheduler.allowed-failures": 0, "distributed.scheduler.work-stealing": False,
              "distributed.worker.daemon": True, "distributed.admin.tick.limit": "60s",
              "distributed.scheduler.http.routes": _HTTP_ROUTES, "distributed.worker.http.routes": _HTTP_ROUTES}
    env = SINGLE_THREAD_ENV | {WORKER_LOG_ENV: str(logs), "TF_CPP_MIN_LOG_LEVEL": "2"}
    saved = {k: os.environ.get(k) for k in [LOCAL_SCHEDULER_ENV, *credentials]}
    try:
        with dask.config.set(config):
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                   protocol="tls://", security=security, dashboard_address="127.0.0.1:0",
                                   local_directory=str(folder / "scratch"), silence_logs=logging.CRITICAL, env=env)
        os.environ.update(credentials)                # for the kernels this process starts...
        os.environ[LOCAL_SCHEDULER_ENV] = cluster.scheduler_address   # kernels started now say "local"
        try:
            with dask.config.set(_as_config(credentials)):   # ...and for clients in this one
                yield cluster.scheduler_address
        finally:
            with contextlib.suppress(Exception):
                cluster.close(timeout=20)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        if owned:
            shutil.rmtree(folder, ignore_errors=True)


def _split_address(address: str) -> tuple[str, str, int]:
    """(protocol, host, port) of a Dask address; a SchedulerError for anything else."""
    from urllib.parse import urlsplit

    if not isinstance(address, str) or "://" not in address:
        raise SchedulerError(f"scheduler address {address!r} is not of the form tls://HOST:PORT or tcp://HOST:PORT")
    parts = urlsplit(address)
    if parts.scheme not in ("tcp", "tls"):
        raise SchedulerError(f"scheduler address {address!r}: the protocol must be tls:// (or tcp://), not {parts.scheme}://")
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None:
        raise SchedulerError(f"scheduler address {address!r} needs a host and a port, e.g. tls://10.0.0.5:8786")
    return parts.scheme, parts.hostname, port


def _is_loopback(host: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(socket.gethostbyname(host)).is_loopback
    except (OSError, ValueError):
        return False


def probe_scheduler(address: str, *, timeout: float = 10.0, security=None) -> str:
    """Check that ``address`` answers as a Dask scheduler within ``timeout`` seconds, before any
    kernel starts; return a warning line for a plain ``tcp://`` scheduler on another machine (no
    encryption, no authentication), or "" . Raises SchedulerError with one line otherwise.

    TLS settings come from ``security`` (a ``distributed.security.Security``) or else from Dask's
    own configuration (``distributed.comm.tls.*``, or the ``DASK_DISTRIBUTED__COMM__TLS__...``
    variables)."""
    import asyncio

    from distributed.comm import connect
    from distributed.security import Security

    protocol, host, port = _split_address(address)
    try:
        socket.getaddrinfo(host, port)
    except OSError as err:
        raise SchedulerError(f"scheduler {address}: cannot resolve host {host!r} ({err.strerror or err})") from None

    async def identify():
        comm = await connect(address, timeout=timeout / 2, **(security or Security()).get_connection_args("client"))
        try:
            await comm.write({"op": "identity", "reply": True})
            return await asyncio.wait_for(comm.read(), timeout / 2)
        finally:
            await comm.close()

    try:
        answer = asyncio.run(asyncio.wait_for(identify(), timeout))
    except (asyncio.TimeoutError, TimeoutError):
        raise SchedulerError(f"no Dask scheduler answered at {address} within {timeout:g} s (is it a Dask "
                             "scheduler, and does it use this protocol?)") from None
    except OSError as err:
        raise SchedulerError(f"cannot reach a Dask scheduler at {address}: {err.strerror or err}") from None
    except Exception as err:  # noqa: BLE001 - a TLS or protocol failure: one line, whatever it is
        raise SchedulerError(f"{address} did not answer as a Dask scheduler ({type(err).__name__}: "
                             f"{str(err).splitlines()[0] if str(err) else 'no detail'})") from None
    if not (isinstance(answer, dict) and answer.get("type") == "Scheduler"):
        raise SchedulerError(f"{address} answered, but not as a Dask scheduler")
    if protocol == "tcp" and not _is_loopback(host):
        return (f"warning: {address} is plain tcp://: its traffic is unencrypted and any machine that reaches it can "
                "run code on its workers; start it with TLS (README: Experiments) and use tls://")
    return ""


def interface_towards(host: str, port: int) -> str:
    """The local address this machine uses to reach ``host`` (127.0.0.1 for a loopback scheduler)."""
    if _is_loopback(host):
        return "127.0.0.1"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect((socket.gethostbyname(host), port))      # no packet is sent: this only picks a route
        return probe.getsockname()[0]


_WORKER_TLS_OPTIONS = {"--tls-ca-file": "tls_ca_file", "--tls-cert": "tls_client_cert", "--tls-key": "tls_client_key"}


def _worker_security(extra: list[str]):
    """The ``Security`` that ``dask worker``'s ``--tls-*`` options in ``extra`` describe (both the
    ``--opt value`` and ``--opt=value`` forms), or None when none is given: the probe then uses
    Dask's configuration, as the worker will."""
    from distributed.security import Security

    given = {}
    for i, arg in enumerate(extra):
        option, _, value = arg.partition("=")
        if option in _WORKER_TLS_OPTIONS:
            given[_WORKER_TLS_OPTIONS[option]] = value or (extra[i + 1] if i + 1 < len(extra) else "")
    if not given:
        return None
    missing = [f for f, k in _WORKER_TLS_OPTIONS.items() if not given.get(k)]
    if missing:
        raise SchedulerError(f"grubook worker: TLS needs {', '.join(_WORKER_TLS_OPTIONS)} together; missing {', '.join(missing)}")
    for option, key in _WORKER_TLS_OPTIONS.items():
        if not os.path.isfile(given[key]):
            raise SchedulerError(f"grubook worker: {option} {given[key]!r} is not a readable file")
    return Security(**given, require_encryption=True)


def worker_command(address: str, extra: list[str], *, wait: float = 10.0) -> list[str]:
    """The ``dask worker`` command line of ``python -m grubook worker``: one thread per process, bound
    to the interface that reaches the scheduler (its comm port and its HTTP port), a bounded wait
    for a scheduler that goes away. The scheduler must answer first (:func:`probe_scheduler`)."""
    import sys

    _, host, port = _split_address(address)
    probe_scheduler(address, timeout=wait, security=_worker_security(extra))
    given = " ".join(extra)
    own = interface_towards(host, port)
    defaults = [] if "--nworkers" in given else ["--nworkers", "auto"]
    if "--host" not in given and "--listen-address" not in given and "--interface" not in given:
        defaults += ["--host", own]
    if "--dashboard-address" not in given:
        defaults += ["--dashboard-address", f"{own}:0"]
    if "--dashboard" not in given.replace("--dashboard-address", ""):
        defaults += ["--no-dashboard"]
    if "--death-timeout" not in given:
        defaults += ["--death-timeout", "60"]
    dask = str(Path(sys.executable).parent / "dask")
    return [dask, "worker", "--nthreads", "1", *defaults, *extra, address]


def resolve_scheduler(scheduler: str | None) -> str | None:
    """The scheduler a run uses: the given one, else ``$GRUBOOK_SCHEDULER``, else None (local)."""
    scheduler = scheduler or os.environ.get(SCHEDULER_ENV) or None
    if scheduler is not None and not isinstance(scheduler, str):
        raise ValueError(f"scheduler must be an address string, 'serial' or None, got {scheduler!r}")
    return scheduler
