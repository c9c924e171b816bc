"""``python -m grubook bench``: how much faster the Dask runner is than running jobs one by one.

The quick suite runs twice through the real runner (papermill, the same notebooks):

- **serial**: every job inside the notebook's kernel, one after another, with TensorFlow's default
  threading, which is how experiments ran before the Dask runner;
- **parallel**: on a local Dask cluster, one single-threaded worker process per core.

The quick suite's jobs are tiny, so its times are mostly start-up: kernels, TensorFlow's import,
XLA compilation, and in parallel mode the cluster's start. The adding problem's quick settings say
nothing about training speed, so the benchmark also runs ``long_range`` with its full parameters on
two seeds (``ADDING_WORKLOAD``): 24 jobs of real training, about ten minutes for the whole
benchmark on two cores. Seconds depend on the machine; the report compares the two modes by
their ratio, measured in the same run, with the job cache off. The result is sealed like every results file and glued by the
reproducibility page. It is a benchmark, not a test: nothing asserts a time.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from .. import experiments
from ..jobs.environment import provenance
from ..results.files import RESULTS_DIR, seal, write_json_atomic

__all__ = ["ADDING_WORKLOAD", "run_benchmark"]

# The adding-problem workload: `long_range` with its full parameters (every length, 400 steps) on
# two of its seeds: 24 training runs, as long as the ones the reproduction spends its time on.
# The adding problem at its real settings, trimmed to a few minutes: two seeds, lengths up to 200
# (the LSTM's censored runs at T = 400 alone would take longer than the rest), four explosion runs.
ADDING_WORKLOAD = {"seeds": [0, 1], "lengths": [50, 100, 200], "explosion_seeds": [100, 101, 102, 103]}


def _timed(scheduler: str | None, workers: int | None, folder: Path, names, overrides, quick: bool) -> dict:
    """One ``reproduce`` call; its whole wall time (kernel starts and cluster start included) and
    each experiment's notebook time."""
    from .notebooks import reproduce

    start = time.perf_counter()
    out = reproduce(names, quick=quick, overrides=overrides, results_dir=folder, progress=False,
                    scheduler=scheduler, workers=workers, cache=False)
    return {"seconds": round(time.perf_counter() - start, 2),
            "experiments": {name: res["provenance"]["wall_seconds"] for name, res in out.items()},
            "jobs": {key: job["seconds"] for res in out.values()
                     for key, job in res["provenance"]["execution"]["jobs"].items()}}


def run_benchmark(workers: int | None = None, output: Path | None = None) -> dict:
    """Time the quick suite and the adding-problem workload, serially and on the local cluster,
    one after the other on an otherwise idle machine; write and return the report."""
    workers = workers or os.cpu_count() or 1
    runs = {}
    with tempfile.TemporaryDirectory(prefix="grubook-bench-") as tmp:
        for workload, names, overrides, quick in (("quick suite", list(experiments.NAMES), None, True),
                                                  ("adding problem", ["long_range"], ADDING_WORKLOAD, False)):
            for mode, scheduler in (("serial", "serial"), ("parallel", None)):
                runs[(workload, mode)] = _timed(scheduler, workers, Path(tmp) / f"{workload}-{mode}".replace(" ", "-"),
                                                names, overrides, quick)
    quick_serial, quick_parallel = runs[("quick suite", "serial")], runs[("quick suite", "parallel")]
    adding_serial, adding_parallel = runs[("adding problem", "serial")], runs[("adding problem", "parallel")]
    metrics = {"workers": workers,
               "serial_seconds": quick_serial["seconds"], "parallel_seconds": quick_parallel["seconds"],
               "speedup": quick_serial["seconds"] / quick_parallel["seconds"],
               "adding_serial_seconds": adding_serial["seconds"], "adding_parallel_seconds": adding_parallel["seconds"],
               "adding_speedup": adding_serial["seconds"] / adding_parallel["seconds"],
               "adding_jobs": len(adding_parallel["jobs"])}
    report = {
        "experiment": "benchmark",
        "parameters": {"workers": workers, "suite": "quick", "adding_workload": ADDING_WORKLOAD},
        "seeds": [], "schema": {name: name for name in metrics}, "per_seed": [], "aggregates": {}, "metrics": metrics, "tolerances": {},
        "not_compared": {name: "a timing on one machine, reported, never compared" for name in metrics},
        "data": {"serial": quick_serial["experiments"], "parallel": quick_parallel["experiments"],
                 "adding": {"serial": adding_serial, "parallel": adding_parallel}},
    }
    report["provenance"] = provenance(wall_seconds=sum(r["seconds"] for r in runs.values()),
                                      execution={"scheduler": "local", "workers": workers, "threads_per_worker": 1})
    report["seal"] = seal(report)
    write_json_atomic(Path(output or RESULTS_DIR / "benchmark.json"), report)
    serial, parallel = quick_serial["experiments"], quick_parallel["experiments"]
    report["summary"] = "\n".join(
        [f"{'notebook time':<22} {'serial s':>9} {'parallel s':>11} {'speed-up':>9}"]
        + [f"{name:<22} {serial[name]:>9.1f} {parallel[name]:>11.1f} {serial[name] / parallel[name]:>8.2f}x"
           for name in serial]
        + [f"{'quick suite (whole)':<22} {metrics['serial_seconds']:>9.1f} {metrics['parallel_seconds']:>11.1f} "
           f"{metrics['speedup']:>8.2f}x",
           f"{'adding problem (whole)':<22} {metrics['adding_serial_seconds']:>9.1f} "
           f"{metrics['adding_parallel_seconds']:>11.1f} {metrics['adding_speedup']:>8.2f}x  "
           f"({metrics['adding_jobs']} jobs, {workers} workers)"])
    return report
