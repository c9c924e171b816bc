"""A content-addressed cache of job outputs: a training run whose inputs did not change is not run again.

A job's key (:func:`job_key`) is a digest of its function's qualified name, its canonical
arguments, the fingerprint of the code the function can reach
(:mod:`grubook.jobs.fingerprint`) and the environment's fingerprint
(:func:`grubook.jobs.environment.fingerprint`). The cache adds the CPU model to it, so an
output computed on one kind of processor is never taken for another's.

Outputs are stored as JSON text, never pickles: reading the cache cannot run code. Every output,
cached or fresh, goes through the same JSON round trip (:func:`plain_output`), so an experiment's
assembly sees the same types either way and a cached result is identical to a fresh one. Jobs that
time something are never cached (``Job.cacheable``).

The folder defaults to ``_build/cache/jobs``; ``python -m grubook reproduce --no-cache`` turns the
cache off and ``--cache-dir`` moves it. CI's re-run never uses it: a fresh clone has none, and the
re-run turns it off besides.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from .environment import REPO_ROOT, cpu_model, fingerprint as environment_fingerprint
from .fingerprint import canonical, code_index, digest, qualname_of

__all__ = ["DEFAULT_CACHE_DIR", "CACHE_ENV", "JobCache", "job_key", "plain_output", "cache_from_environment"]

DEFAULT_CACHE_DIR = REPO_ROOT / "_build" / "cache" / "jobs"
CACHE_ENV = "GRUBOOK_CACHE"          # a folder, or "off"; set by the runner for its kernels


def job_key(function, kwargs: dict, *, environment: dict | None = None, index=None) -> str:
    """The digest that names one job's output: what it runs, on what, with which code and packages."""
    index = index or code_index()
    qualname = qualname_of(function)
    return digest({"function": qualname, "arguments": json.loads(canonical(kwargs)),
                   "code": index.fingerprint(index.reachable(qualname)),
                   "environment": environment or environment_fingerprint()})


def _plain(value):
    """Numpy scalars and arrays (nested) as JSON-ready Python values; non-finite floats kept."""
    import numpy as np

    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value)
    return value


def plain_output(output) -> object:
    """A job's output after the JSON round trip every output takes, cached or not."""
    return json.loads(json.dumps(_plain(output), allow_nan=True))


class JobCache:
    """Job outputs by key under ``folder`` (None: no cache)."""

    def __init__(self, folder: str | Path | None = DEFAULT_CACHE_DIR):
        self.folder = Path(folder) if folder is not None else None
        self._cpu = cpu_model()

    def __bool__(self) -> bool:
        return self.folder is not None

    def _path(self, key: str) -> Path:
        machine_key = hashlib.sha256(f"{key}|{self._cpu}".encode()).hexdigest()
        return self.folder / machine_key[:2] / f"{machine_key}.json"

    def get(self, key: str):
        """The stored output, or None when there is none (or it cannot be read: it is recomputed)."""
        if self.folder is None:
            return None
        try:
            entry = json.loads(self._path(key).read_text())
        except (OSError, ValueError):
            return None
        return entry["output"] if isinstance(entry, dict) and entry.get("key") == key else None

    def put(self, key: str, output, *, job: str, function: str, seconds: float) -> None:
        """Store an output (already plain), atomically; a cache that cannot be written is skipped."""
        if self.folder is None:
            return
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"key": key, "job": job, "function": function, "seconds": seconds,
                                       "output": output}, allow_nan=True))
            os.replace(tmp, path)
        except OSError:
            pass                                           # a full disk costs a recomputation later, nothing more


def cache_from_environment() -> JobCache:
    """The cache a notebook's kernel uses: ``$GRUBOOK_CACHE`` (a folder or "off"), else the default."""
    setting = os.environ.get(CACHE_ENV)
    if setting == "off":
        return JobCache(None)
    return JobCache(Path(setting) if setting else DEFAULT_CACHE_DIR)

