"""The environment a result was computed in: what can change its numbers, and where it ran.

:func:`fingerprint` lists what can change a number while the code stays the same: the versions of
the packages that do the arithmetic, the Python version, Keras' backend and float type. It is part
of every job's key and every experiment's fingerprint; the rest of the lock file (Sphinx, Jupyter,
the test tools) is not, so updating a documentation tool never makes a result stale.

:func:`provenance` records, besides, where and when: CPU, platform, wall time, git commit.
"""

from __future__ import annotations

import os
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

__all__ = ["NUMERIC_PACKAGES", "KERAS", "fingerprint", "cpu_model", "provenance", "REPO_ROOT"]

REPO_ROOT = Path(__file__).resolve().parents[3]

# The packages whose code computes a number in a results file (training, data, baselines, statistics).
NUMERIC_PACKAGES = ("tensorflow", "keras", "numpy", "scipy", "pandas", "scikit-learn", "sktime", "statsmodels",
                    "torch")


def _version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


# Every run computes with these: the runner sets them in the private environment of its kernels
# and workers (a user's ~/.keras/keras.json is never read), and each job reports what it used.
KERAS = {"backend": "tensorflow", "floatx": "float32"}


def fingerprint() -> dict:
    """Package versions, Python's minor version, and the Keras backend and float type jobs use."""
    return {"python": ".".join(platform.python_version_tuple()[:2]),
            "packages": {name: _version(name) for name in NUMERIC_PACKAGES}, "keras": dict(KERAS)}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src", "experiments/*.md"],
                               cwd=REPO_ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        return (out.stdout.strip() + ("+dirty" if dirty else "")) if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def provenance(*, wall_seconds: float, execution: dict | None = None, fingerprints: dict | None = None) -> dict:
    """Where and how a result was made: package versions (all that are recorded, not only the
    numeric ones), CPU, platform, wall time, git commit, where the jobs ran (``execution``: scheduler
    kind, workers, threads, each job's host and seconds, which came from the cache) and the
    fingerprints that decide its freshness."""
    packages = {name: _version(name) for name in NUMERIC_PACKAGES + ("papermill", "jupytext", "matplotlib",
                                                                    "dask", "distributed")}
    execution = dict(execution or {})
    return {
        "packages": packages,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "wall_seconds": round(float(wall_seconds), 2),
        "git_commit": _git_commit(),
        "keras": execution.pop("keras", None),
        "execution": execution or None,
        "fingerprint": fingerprints,
    }
