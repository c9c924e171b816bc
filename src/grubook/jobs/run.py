"""Jobs: every training run is one job, run on a Dask cluster (local or remote), or taken from the cache.

An experiment (:mod:`grubook.experiments`) lists its :class:`Job` s, one training run (or one
timed configuration) each, and :func:`run_jobs` returns one output per job, in the order given.
Before it submits a job it looks the job's key up in the cache (:mod:`grubook.jobs.cache`);
only the jobs whose code, arguments or environment changed run. Workers return plain numbers and
arrays; only the client writes files, so no shared filesystem is assumed. Where jobs run is
:mod:`grubook.jobs.cluster`'s business.
"""

from __future__ import annotations

import os
import socket
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable

from .cache import JobCache, job_key, plain_output
from .environment import KERAS
from .cluster import LOCAL_SCHEDULER_ENV, _quiet_stderr, local_cluster, pin_threads, resolve_scheduler
from .perturb import perturbation, perturbed_initial_weights

__all__ = ["Job", "JobFailed", "run_jobs", "job_keys", "preferred_workers", "PROGRESS_ENV"]

PROGRESS_ENV = "GRUBOOK_PROGRESS_FILE"      # the runner's progress bar counts the lines written here


@dataclass(frozen=True)
class Job:
    """One job: ``function(**kwargs)`` on some worker.

    Attributes:
        name: names the job in progress, errors, provenance and ``status``, e.g. ``"GRU/T400/seed2"``.
        function: a module-level function of grubook (workers import it by name).
        kwargs: plain JSON arguments (they are part of the job's key).
        exclusive: run alone, with no other job on the cluster at the same time (timings).
        affinity: jobs with the same affinity go to the same worker where possible, so they share
            what that worker has cached (a compiled model of the same shape).
        cost: relative expected run time, used to balance affinity groups across workers.
        cacheable: False for jobs that time something: a timing is a fact about one run, not a
            function of the code.
    """

    name: str
    function: Callable
    kwargs: dict = field(default_factory=dict)
    exclusive: bool = False
    affinity: str | None = None
    cost: float = 1.0
    cacheable: bool = True


class JobFailed(RuntimeError):
    """A job raised, or its worker died. Names the experiment and the job."""

    def __init__(self, experiment: str, job: str, cause: str):
        super().__init__(f"{experiment}: job {job!r} failed: {cause}")
        self.experiment, self.job, self.cause = experiment, job, cause


def _execute(function: Callable, kwargs: dict, pin: bool = True, perturb: int = 0) -> dict:
    """What runs on the worker: pin threads, run the job (with its initial weights moved by
    ``perturb`` ulps, :mod:`grubook.jobs.perturb`), say where and how long."""
    if pin:
        _quiet_stderr()
        pin_threads()
    import keras

    start, machine = time.perf_counter(), _cpu_counters()
    with perturbed_initial_weights(perturb):
        output = plain_output(function(**kwargs))
    return {"output": output, "host": socket.gethostname(), "worker": f"{socket.gethostname()}:{os.getpid()}",
            "seconds": round(time.perf_counter() - start, 3), "others_cpu": _others_share(machine),
            "keras": {"backend": keras.backend.backend(), "floatx": keras.config.floatx()}}


def _cpu_counters():
    """(busy CPU seconds of the whole machine, of which stolen by the hypervisor; CPU seconds of
    this process and its waited-for children; wall clock), or None where /proc/stat is missing."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    if len(fields) < 4:
        return None
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)             # idle and waiting for I/O
    steal = fields[7] if len(fields) > 7 else 0
    busy = sum(fields[:8]) - idle                                          # guest time is inside user
    own = sum(os.times()[:4])
    return busy / tick, steal / tick, own, time.perf_counter()


def _others_share(before) -> dict | None:
    """What else used the machine while a job ran: the share of all its CPUs' time that other
    processes used or the hypervisor took (``others``), and the latter alone (``steal``). A timing is only a timing of
    the cells when both are near 0: an exclusive job has the cluster to itself, not the machine."""
    after = _cpu_counters()
    if before is None or after is None:
        return None
    capacity = (after[3] - before[3]) * (os.cpu_count() or 1)
    if capacity <= 0:
        return None
    others = max(0.0, (after[0] - before[0]) - (after[2] - before[2]))
    return {"others": round(others / capacity, 3), "steal": round((after[1] - before[1]) / capacity, 3)}


def _report_progress(name: str, bar) -> None:
    path = os.environ.get(PROGRESS_ENV)
    if path:
        with open(path, "a") as f:
            f.write(name + "\n")
    elif bar is not None:
        bar.update(1)


def _failure(experiment: str, job: Job, err: BaseException) -> JobFailed:
    from distributed.scheduler import KilledWorker

    if isinstance(err, KilledWorker):
        cause = "its worker process died while running it (killed, or out of memory)"
    else:
        cause = f"{type(err).__name__}: {err}"
    return JobFailed(experiment, job.name, cause)


def job_keys(jobs: list[Job], *, index=None) -> dict[str, str]:
    """{job name: key} (:func:`grubook.jobs.cache.job_key`), for every job of a plan; ``index`` is
    the code index to fingerprint against (the package as it is now, by default)."""
    from .environment import fingerprint
    from .fingerprint import code_index

    environment, index = fingerprint(), index or code_index()
    return {job.name: job_key(job.function, job.kwargs, environment=environment, index=index) for job in jobs}


def run_jobs(experiment: str, jobs: list[Job], *, scheduler: str | None = None, workers: int | None = None,
             cache: JobCache | None = None, keys: dict[str, str] | None = None) -> tuple[dict, dict]:
    """Run every job (or take it from ``cache``) and return ({job name: output}, in the order of
    ``jobs``; execution record).

    The execution record says where the jobs ran: the scheduler kind ("local", "remote",
    "serial", or "cache" when nothing had to run), the number of workers, threads per worker, and
    per job the host and seconds, or that it came from the cache. Exclusive jobs run after all the
    others, one at a time. The first failure cancels the rest and raises :class:`JobFailed`.

    With ``$GRUBOOK_PERTURB_ULP`` set (``python -m grubook drift``) every job runs with its initial
    weights perturbed, the cache is neither read nor written, and the record says ``perturb_ulp``.
    """
    names = [j.name for j in jobs]
    if len(set(names)) != len(names):
        raise ValueError(f"{experiment}: job names must be unique")
    scheduler = resolve_scheduler(scheduler)
    perturb = perturbation()
    cache = cache if cache is not None and not perturb else JobCache(None)
    if cache:
        keys = keys or job_keys(jobs)
    outputs, placement = {}, {}
    for job in jobs:
        if cache and job.cacheable and (hit := cache.get(keys[job.name])) is not None:
            outputs[job.name] = hit
            placement[job.name] = {"cached": True}
            _report_progress(job.name, None)
    todo = [job for job in jobs if job.name not in outputs]
    from tqdm.std import tqdm

    bar = None if os.environ.get(PROGRESS_ENV) or not todo else tqdm(
        total=len(todo), desc=experiment, unit="job", file=sys.stderr, mininterval=5)
    try:
        if not todo:
            record = {"scheduler": "cache", "workers": 0, "threads_per_worker": None, "keras": dict(KERAS), "jobs": {}}
        elif scheduler == "serial":
            record = _run_serial(experiment, todo, bar, perturb)
        elif scheduler is None:
            with local_cluster(workers) as address:
                record = _run_on(experiment, todo, address, "local", bar, perturb)
        else:
            kind = "local" if scheduler == os.environ.get(LOCAL_SCHEDULER_ENV) else "remote"
            record = _run_on(experiment, todo, scheduler, kind, bar, perturb)
    finally:
        if bar is not None:
            bar.close()
    fresh = record.pop("outputs", {})
    for job in todo:
        outputs[job.name] = fresh[job.name]
        placement[job.name] = record["jobs"][job.name]
        if cache and job.cacheable:
            cache.put(keys[job.name], fresh[job.name], job=job.name, function=f"{job.function.__module__}:"
                      f"{job.function.__qualname__}", seconds=placement[job.name]["seconds"])
    record["jobs"] = {job.name: placement[job.name] for job in jobs}
    record["jobs_run"], record["jobs_cached"] = len(todo), len(jobs) - len(todo)
    if perturb:
        record["perturb_ulp"] = perturb
    return {job.name: outputs[job.name] for job in jobs}, record


def _run_serial(experiment, jobs, bar, perturb=0):
    outputs, placement = {}, {}
    for job in jobs:
        try:
            done = _execute(job.function, job.kwargs, pin=False, perturb=perturb)
        except Exception as err:  # noqa: BLE001 - reported with the job's name
            raise JobFailed(experiment, job.name, f"{type(err).__name__}: {err}") from err
        outputs[job.name] = done["output"]
        placement[job.name] = {k: done.get(k) for k in ("host", "worker", "seconds", "others_cpu")}
        _report_progress(job.name, bar)
    import tensorflow as tf

    threads = tf.config.threading.get_intra_op_parallelism_threads() or "default"
    return {"scheduler": "serial", "workers": 1, "threads_per_worker": threads,
            "keras": done["keras"] if jobs else None, "jobs": placement, "outputs": outputs}


def _run_on(experiment, jobs, address, kind, bar, perturb=0):
    from distributed import Client, as_completed

    token = uuid.uuid4().hex[:8]
    results: dict[str, dict] = {}
    with Client(address, set_as_default=False, timeout="30s") as client:
        workers = client.scheduler_info()["workers"]
        threads = sorted({w["nthreads"] for w in workers.values()})
        preferred = preferred_workers([j for j in jobs if not j.exclusive], sorted(workers))

        def submit(job):
            # A preference, not a rule: if the preferred worker is gone, any other may run the job.
            where = {"workers": [preferred[job.name]], "allow_other_workers": True} if job.name in preferred else {}
            # Longest first on every worker (priority = expected cost): what is left at the end is
            # short, so a worker that runs out of work waits little for the other.
            return client.submit(_execute, job.function, job.kwargs, perturb=perturb,
                                 key=f"{experiment}/{job.name}-{token}", pure=False, priority=job.cost, **where)

        def collect(pending: dict, waiting: list | None = None):
            """Results of ``pending``; the ``waiting`` jobs are handed out one at a time, as a
            worker frees up, the most expensive first (greedy longest-processing-time). Submitted
            all at once, jobs without an affinity were spread by count when submitted, and one
            worker often finished 20 s before the other."""
            waiting = sorted(waiting or [], key=lambda j: -j.cost)
            flow = as_completed(list(pending), loop=client.loop)

            def feed():
                if waiting:
                    job = waiting.pop(0)
                    future = submit(job)
                    pending[future] = job
                    flow.add(future)

            try:
                for _ in range(max(1, len(workers) - len(pending))):
                    feed()
                for future in flow:
                    job = pending[future]
                    try:
                        results[job.name] = future.result()
                    except Exception as err:  # noqa: BLE001 - reported with the job's name
                        raise _failure(experiment, job, err) from None
                    _report_progress(job.name, bar)
                    feed()
            finally:
                for future in pending:
                    future.cancel()

        shared = [j for j in jobs if not j.exclusive]
        if shared:
            collect({submit(j): j for j in shared if j.name in preferred},
                    [j for j in shared if j.name not in preferred])
        for job in (j for j in jobs if j.exclusive):   # alone on the cluster, one at a time
            collect({submit(job): job})
    record = {"outputs": {j.name: results[j.name]["output"] for j in jobs},
              "scheduler": kind, "workers": len(workers),
              "threads_per_worker": threads[0] if len(threads) == 1 else threads,
              "keras": next(iter(results.values()))["keras"] if results else None,
              "jobs": {j.name: {k: results[j.name].get(k) for k in ("host", "worker", "seconds", "others_cpu")}
                       | ({"exclusive": True} if j.exclusive else {}) for j in jobs}}
    return record


def preferred_workers(jobs: list[Job], workers: list[str]) -> dict[str, str]:
    """A worker for every job that has an affinity: whole affinity groups, the most expensive
    first, each to the worker with the least work so far (longest-processing-time balancing)."""
    groups: dict[str, list[Job]] = {}
    for job in jobs:
        if job.affinity is not None:
            groups.setdefault(job.affinity, []).append(job)
    load = {worker: 0.0 for worker in workers}
    chosen = {}
    for group in sorted(groups.values(), key=lambda g: -sum(j.cost for j in g)):
        worker = min(load, key=lambda w: (load[w], w))
        load[worker] += sum(j.cost for j in group)
        chosen |= {j.name: worker for j in group}
    return chosen
