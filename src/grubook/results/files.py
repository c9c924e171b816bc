"""The results files ``experiments/results/<name>.json``: their layout, writing (atomic), strict reading, sealing.

Layout of one file (every field is required, no other field is allowed)::

    experiment   name
    parameters   every scientific parameter the run used
    seeds        the seeds, in order
    schema       {quantity: metric-name template}: how metric names are built (``results.view``)
    per_seed     [{"seed": s, "metrics": {metric: value or null}}]
    aggregates   {metric: {"mean", "std", "n", "missing"}} over seeds (null values count as missing)
    metrics      {metric: value} for numbers that do not depend on a seed
    tolerances   {metric: {"abs": a} or {"rel": r}}: what CI compares, and how closely
    not_compared {metric: reason}: every other metric, with the reason it is not compared
    data         curves, traces and tables the figures are drawn from
    provenance   versions, CPU, platform, wall_seconds, git commit, Keras backend and float type,
                 where each job ran or that it came from the cache, and the fingerprints of the jobs
                 and of the assembly that decide the file's freshness (``execution.freshness``)
    seal         SHA-256 of everything above, and a short digest per field (added by the runner);
                 ``load`` refuses a file whose content no longer matches it

A JSON object with a repeated key, a non-finite number or an unknown top-level field is refused:
two parsers could read such a file differently, and the seal covers only what Python reads.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["REPO_ROOT", "EXPERIMENTS_DIR", "RESULTS_DIR", "PAPERMILL_RESULTS_DIR", "ResultsError", "FIELDS",
           "make_payload", "read", "load", "verify", "seal", "write_json_atomic", "copy_atomic", "aggregate"]

REPO_ROOT = Path(__file__).resolve().parents[3]
EXPERIMENTS_DIR = REPO_ROOT / "experiments"
RESULTS_DIR = EXPERIMENTS_DIR / "results"
PAPERMILL_RESULTS_DIR = REPO_ROOT / "_build" / "results-papermill"   # notebooks run by plain papermill

# The fields of a published file, in order; the seal covers all of them.
FIELDS = ("experiment", "parameters", "seeds", "schema", "per_seed", "aggregates", "metrics", "tolerances",
          "not_compared", "data", "provenance")
SEALED_FIELDS = FIELDS


def _plain(value):
    """Convert numpy scalars and arrays (nested) to JSON-ready Python values."""
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
        value = float(value)
        if math.isnan(value) or math.isinf(value):
            raise ValueError(f"results must be finite numbers, got {value}")
        return value
    return value


def _atomic_write(path: Path, data: bytes) -> Path:
    """Write bytes to a temporary file beside ``path``, then rename it over ``path``.

    A reader (or a crash) sees either the old file or the new one, never half of one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o644)                      # mkstemp makes 0600; results are for everyone
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json_atomic(path: Path, payload: dict) -> Path:
    """Write ``payload`` as JSON atomically (see ``_atomic_write``); non-finite numbers are refused."""
    return _atomic_write(path, (json.dumps(_plain(payload), indent=1, sort_keys=False) + "\n").encode())


def copy_atomic(source: Path, target: Path) -> Path:
    """Copy a file atomically, also across filesystems (staging may live on another one)."""
    return _atomic_write(target, Path(source).read_bytes())


def aggregate(per_seed: list[dict]) -> dict:
    """Mean, sample std, count and missing count of every metric across seeds."""
    names = sorted({name for run in per_seed for name in run["metrics"]})
    out = {}
    for name in names:
        values = [run["metrics"].get(name) for run in per_seed]
        present = [float(v) for v in values if v is not None]
        mean = float(np.mean(present)) if present else None
        std = float(np.std(present, ddof=1)) if len(present) > 1 else (0.0 if present else None)
        out[name] = {"mean": mean, "std": std, "n": len(present), "missing": len(values) - len(present)}
    return out


def make_payload(experiment: str, *, parameters: dict, seeds, schema: dict, per_seed: list[dict],
                 tolerances: dict, metrics: dict | None = None, not_compared: dict | None = None,
                 data: dict | None = None) -> dict:
    """One experiment's results as a file's content (without provenance and seal, which the
    runner adds). Every metric must either have a tolerance (CI compares it) or a reason in
    ``not_compared``; non-finite numbers are refused."""
    metrics = metrics or {}
    not_compared = not_compared or {}
    aggregates = aggregate(per_seed)
    names = set(aggregates) | set(metrics)
    unaccounted = sorted(names - set(tolerances) - set(not_compared))
    if unaccounted:
        raise ValueError(f"{experiment}: metrics without a tolerance or a not_compared reason: {unaccounted}")
    stray = sorted((set(tolerances) | set(not_compared)) - names)
    if stray:
        raise ValueError(f"{experiment}: tolerances or not_compared name unknown metrics: {stray}")
    for name, tol in tolerances.items():
        if set(tol) not in ({"abs"}, {"rel"}) or not tol[next(iter(tol))] >= 0:
            raise ValueError(f"{experiment}: tolerance of {name!r} must be {{'abs': x}} or {{'rel': x}}, got {tol}")
    return _plain({"experiment": experiment, "parameters": parameters, "seeds": list(seeds), "schema": schema,
                   "per_seed": per_seed, "aggregates": aggregates, "metrics": metrics, "tolerances": tolerances,
                   "not_compared": not_compared, "data": data or {}})


# --------------------------------------------------------------------------- reading, sealing


class ResultsError(ValueError):
    """A results file that cannot be trusted: corrupt, incomplete, unsealed or edited. The message
    names the file and the problem."""


def _reject_non_finite(word: str):
    raise ValueError(f"it holds the non-finite number {word}; results hold finite numbers only")


def _no_repeated_keys(pairs):
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        repeated = next(k for k in keys if keys.count(k) > 1)
        raise ValueError(f"it repeats the key {repeated!r} in one object; parsers disagree on which one counts")
    return dict(pairs)


def read(path: str | Path) -> dict:
    """Parse one results file strictly (no NaN or infinity, no repeated key); errors name the file. No seal check:
    this is how a notebook reads back the file it has just written."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise FileNotFoundError(f"no results file at {path}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ResultsError(f"{path}: cannot be read ({err})") from None
    try:
        data = json.loads(text, parse_constant=_reject_non_finite, object_pairs_hook=_no_repeated_keys)
    except json.JSONDecodeError as err:
        raise ResultsError(f"{path}: not valid JSON ({err.msg} at line {err.lineno}, column {err.colno}); "
                           "the file is corrupt or truncated") from None
    except RecursionError:
        raise ResultsError(f"{path}: nested too deeply to be a results file") from None
    except ValueError as err:
        raise ResultsError(f"{path}: {err}") from None
    if not isinstance(data, dict):
        raise ResultsError(f"{path}: not a results file (a JSON object was expected)")
    return data


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(_plain(value), sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _field_digests(body: dict) -> dict:
    """A short digest per field, one level down (``aggregates.GRU.T50.test_mse``, ``per_seed[0]``),
    so a broken seal can name the first field that changed."""
    fields = {}
    for key, value in body.items():
        if isinstance(value, dict) and value:
            fields |= {f"{key}.{sub}": _digest(v)[:12] for sub, v in value.items()}
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            fields |= {f"{key}[{i}]": _digest(v)[:12] for i, v in enumerate(value)}
        else:
            fields[key] = _digest(value)[:12]
    return fields


def seal(payload: dict) -> dict:
    """The seal of a results file: a SHA-256 of its content (every field but the seal itself)
    and short digests of its fields."""
    body = {k: payload[k] for k in FIELDS if k in payload}
    return {"sha256": _digest(body), "fields": _field_digests(body)}


def verify(payload: dict, path: Path) -> dict:
    """Check that a published results file is complete, has no unknown field, is sealed, unedited
    and self-consistent."""
    missing = [k for k in FIELDS + ("seal",) if k not in payload]
    if missing:
        raise ResultsError(f"{path}: incomplete results file, missing {', '.join(missing)}; it was not "
                           "published by `python -m grubook reproduce` (or was cut short)")
    unknown = sorted(set(payload) - set(FIELDS) - {"seal"})
    if unknown:
        raise ResultsError(f"{path}: unknown field {unknown[0]!r}; a results file holds only "
                           f"{', '.join(FIELDS)} and seal")
    stored = payload["seal"]
    now = seal(payload)
    if not isinstance(stored, dict) or stored.get("sha256") != now["sha256"]:
        old = stored.get("fields", {}) if isinstance(stored, dict) else {}
        changed = [f for f in now["fields"] if old.get(f) != now["fields"][f]]
        changed += [f for f in old if f not in now["fields"]]
        where = changed[0] if changed else "the seal itself"
        raise ResultsError(f"{path}: content does not match its seal (first difference: {where}); the file was "
                           f"edited or damaged after its run. Restore it (git checkout) or re-run "
                           f"`python -m grubook reproduce {payload.get('experiment', '')}`".rstrip())
    expected = aggregate(payload["per_seed"])
    if expected != payload["aggregates"]:
        name = next(k for k in sorted(set(expected) | set(payload["aggregates"]))
                    if expected.get(k) != payload["aggregates"].get(k))
        raise ResultsError(f"{path}: aggregates.{name} does not follow from per_seed")
    return payload


def load(experiment: str, results_dir: str | Path = RESULTS_DIR) -> dict:
    """Read and verify one published results file (see ``verify``); clear errors otherwise."""
    path = Path(results_dir) / f"{experiment}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no results for {experiment!r} at {path}; run `make reproduce` "
                                f"(or `python -m grubook reproduce {experiment}`)")
    return verify(read(path), path)
