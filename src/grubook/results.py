"""The results files ``experiments/results/<name>.json``: write (atomically), read, compare.

Layout of one file::

    experiment   name
    parameters   every parameter the run used
    seeds        the seeds, in order
    per_seed     [{"seed": s, "metrics": {metric: value or null}}]
    aggregates   {metric: {"mean", "std", "n", "missing"}} over seeds (null values count as missing)
    metrics      {metric: value} for numbers that do not depend on a seed
    tolerances   {metric: {"abs": a} or {"rel": r}}: what CI compares, and how closely
    not_compared {metric: reason}: every other metric, with the reason it is not compared
    data         curves, traces and tables the figures are drawn from
    provenance   versions, CPU, platform, wall_seconds, git commit, inputs_sha256, Keras backend and
                 float type, where the units ran (added by the runner)
    seal         SHA-256 of everything above, and a short digest per field (added by the runner);
                 ``load`` refuses a file whose content no longer matches it

CI compares the aggregate means and the seedless metrics named in ``tolerances``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import subprocess
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["REPO_ROOT", "EXPERIMENTS_DIR", "RESULTS_DIR", "PAPERMILL_RESULTS_DIR", "ResultsError", "save", "read",
           "load", "verify", "seal", "write_json_atomic", "copy_atomic", "aggregate", "compare",
           "format_comparison", "inputs_sha256", "provenance", "metric"]

REPO_ROOT = Path(__file__).resolve().parents[2]
EXPERIMENTS_DIR = REPO_ROOT / "experiments"
RESULTS_DIR = EXPERIMENTS_DIR / "results"
PAPERMILL_RESULTS_DIR = REPO_ROOT / "_build" / "results-papermill"   # notebooks run by plain papermill


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


def save(experiment: str, *, parameters: dict, seeds, per_seed: list[dict], tolerances: dict,
         metrics: dict | None = None, not_compared: dict | None = None, data: dict | None = None,
         execution: dict | None = None, results_dir: str | Path | None = None) -> Path:
    """Aggregate and write one experiment's results (atomically) to ``results_dir/<experiment>.json``.

    Every metric must either have a tolerance (CI compares it) or a reason in ``not_compared``.
    ``execution`` is where the units ran (``parallel.run_units``); the runner moves it into the
    provenance. ``results_dir`` None means ``_build/results-papermill``. Notebooks never write the
    committed results: only ``python -m grubook reproduce`` publishes into experiments/results/.
    """
    results_dir = Path(results_dir) if results_dir is not None else PAPERMILL_RESULTS_DIR
    if results_dir.resolve() == RESULTS_DIR.resolve():
        raise ValueError(f"{experiment}: notebooks do not write the committed results in {RESULTS_DIR}; "
                         f"run `python -m grubook reproduce {experiment}`, or pass another results_dir")
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
    payload = {
        "experiment": experiment,
        "parameters": parameters,
        "seeds": list(seeds),
        "per_seed": per_seed,
        "aggregates": aggregates,
        "metrics": metrics,
        "tolerances": tolerances,
        "not_compared": not_compared,
        "data": data or {},
        "execution": execution,
    }
    return write_json_atomic(results_dir / f"{experiment}.json", payload)


# --------------------------------------------------------------------------- reading, sealing


class ResultsError(ValueError):
    """A results file that cannot be trusted: corrupt, incomplete, unsealed or edited. The message
    names the file and the problem."""


SEALED_FIELDS = ("experiment", "parameters", "seeds", "per_seed", "aggregates", "metrics", "tolerances",
                 "not_compared", "data", "provenance")


def _reject_non_finite(word: str):
    raise ValueError(f"it holds the non-finite number {word}")


def read(path: str | Path) -> dict:
    """Parse one results file strictly (no NaN or infinity); errors name the file. No seal check:
    this is how a notebook reads back the file it has just written."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise FileNotFoundError(f"no results file at {path}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ResultsError(f"{path}: cannot be read ({err})") from None
    try:
        data = json.loads(text, parse_constant=_reject_non_finite)
    except json.JSONDecodeError as err:
        raise ResultsError(f"{path}: not valid JSON ({err.msg} at line {err.lineno}, column {err.colno}); "
                           "the file is corrupt or truncated") from None
    except RecursionError:
        raise ResultsError(f"{path}: nested too deeply to be a results file") from None
    except ValueError as err:
        raise ResultsError(f"{path}: {err}; results hold finite numbers only") from None
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
    body = {k: payload[k] for k in SEALED_FIELDS if k in payload}
    return {"sha256": _digest(body), "fields": _field_digests(body)}


def verify(payload: dict, path: Path) -> dict:
    """Check that a published results file is complete, sealed, unedited and self-consistent."""
    missing = [k for k in SEALED_FIELDS + ("seal",) if k not in payload]
    if missing:
        raise ResultsError(f"{path}: incomplete results file, missing {', '.join(missing)}; it was not "
                           "published by `python -m grubook reproduce` (or was cut short)")
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


def metric(results: dict, name: str) -> float:
    """A compared number by name: an aggregate's mean, or a seedless metric."""
    if name in results["aggregates"]:
        return results["aggregates"][name]["mean"]
    if name in results["metrics"]:
        return results["metrics"][name]
    raise KeyError(f"{results['experiment']} has no metric {name!r}")


def compare(committed: dict, new: dict) -> list[dict]:
    """Compare every toleranced metric of ``committed`` with ``new``.

    Returns one row per metric: metric, committed, new, tolerance (text) and ok. A metric that is
    missing (None) on one side only, or absent from ``new``, is a mismatch.
    """
    rows = []
    for name, tol in committed["tolerances"].items():
        old = metric(committed, name)
        try:
            value = metric(new, name)
        except KeyError:
            value = "absent"
        if "abs" in tol:
            bound, text = tol["abs"], f"±{tol['abs']:g}"
        else:
            bound = tol["rel"] * abs(old) if isinstance(old, (int, float)) else 0.0
            text = f"±{tol['rel']:.0%}"
        if old is None or value is None or value == "absent":
            ok = old is None and value is None
        else:
            ok = abs(value - old) <= bound + 1e-12
        rows.append({"metric": name, "committed": old, "new": value, "tolerance": text, "ok": ok})
    return rows


def format_comparison(experiment: str, rows: list[dict], only_failures: bool = True) -> str:
    """A readable table: metric | committed | new | tolerance."""
    shown = [r for r in rows if not (only_failures and r["ok"])]
    fmt = lambda v: "missing" if v is None else (f"{v:.6g}" if isinstance(v, (int, float)) else str(v))
    lines = [f"{experiment}: {len([r for r in rows if not r['ok']])} of {len(rows)} metrics outside tolerance",
             f"  {'metric':<44} {'committed':>12} {'new':>12} {'tolerance':>10}"]
    for r in shown:
        lines.append(f"  {r['metric']:<44} {fmt(r['committed']):>12} {fmt(r['new']):>12} {r['tolerance']:>10}"
                     + ("" if r["ok"] else "   <-- mismatch"))
    return "\n".join(lines)


# --------------------------------------------------------------------------- provenance

# Modules that only draw or present results (figures, glue, the claims audit, the Sphinx extension):
# they cannot change a number in a results file, so editing them does not make results stale.
# The runner and the command line only decide where a run happens and where its files go (their
# parameters are hashed separately), so they are outside the hash as well.
NON_INPUT_MODULES = frozenset({"book.py", "claims.py", "cells.py", "diagrams.py", "plots.py",
                               "sphinx_offline_math.py",
                               "sphinx_dependencies.py", "bench.py", "runner.py", "__main__.py"})


def inputs_sha256(notebook: Path, parameters: dict) -> str:
    """Hash of everything a result depends on: the notebook, every module of ``src/grubook``
    except the book-only ones, the parameters and the lock file. A different hash means the
    committed result is stale."""
    h = hashlib.sha256()

    def add(label: str, data: bytes):
        h.update(label.encode() + b"\0" + hashlib.sha256(data).digest())

    add("notebook", Path(notebook).read_bytes())
    package = REPO_ROOT / "src" / "grubook"
    for path in sorted(package.rglob("*.py")):
        if path.name not in NON_INPUT_MODULES:
            add(str(path.relative_to(package)), path.read_bytes())
    add("parameters", json.dumps(_plain(parameters), sort_keys=True).encode())
    lock = REPO_ROOT / "requirements.lock"
    add("lock", lock.read_bytes() if lock.is_file() else b"")
    return h.hexdigest()


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                             text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src", "experiments/*.md"],
                               cwd=REPO_ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        return (out.stdout.strip() + ("+dirty" if dirty else "")) if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def provenance(*, notebook: Path, parameters: dict, wall_seconds: float, execution: dict | None = None) -> dict:
    """Where and how a result was made. ``execution`` (from ``parallel.run_units``) says where the
    units ran: scheduler kind, workers, threads per worker, the host of each unit, and the Keras
    backend and float type the workers used."""
    from importlib.metadata import PackageNotFoundError, version

    packages = {}
    for name in ("tensorflow", "keras", "numpy", "scikit-learn", "sktime", "torch", "papermill",
                 "jupytext", "matplotlib", "dask", "distributed"):
        try:
            packages[name] = version(name)
        except PackageNotFoundError:
            packages[name] = None
    return {
        "packages": packages,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "wall_seconds": round(float(wall_seconds), 2),
        "git_commit": _git_commit(),
        "inputs_sha256": inputs_sha256(notebook, parameters),
        "keras": (execution or {}).get("keras"),
        "execution": {k: v for k, v in (execution or {}).items() if k != "keras"} or None,
    }
