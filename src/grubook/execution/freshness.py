"""Are the results files up to date with the code and the environment? Which jobs are stale, and why?

A results file records, in its provenance, the fingerprint of everything it depends on
(``grubook.experiments.spec.fingerprints``): each job's key, the definitions each job's function
reaches and the digest of each, the definitions that assemble the file, and the environment.
:func:`status` compares them with the current sources and packages:

- **fresh**: nothing a job or the assembly reaches changed meaning (docstrings, comments and
  layout never count), the environment is the same, and the parameters are the notebook's defaults;
- **stale**: some jobs reach changed code (each is named, with the files whose change reached it),
  the plan gives a job other arguments, the assembly changed, or the environment changed;
- **custom**: fresh, but made with parameters other than the defaults;
- **edited**: the content no longer matches its seal (or a field is missing or unknown);
- **corrupt**: not readable as a results file; **missing**: no file.
"""

from __future__ import annotations

from pathlib import Path

from .. import experiments
from ..experiments import spec as P
from ..results.files import RESULTS_DIR, ResultsError, read, verify

__all__ = ["status", "stale_jobs", "describe"]


def _changed(index, stored_code: dict, stored: set, now: set) -> set[str]:
    """Definitions reached then (``stored``) or now (``now``) whose meaning changed, or that are
    no longer reached, or are reached newly."""
    return {q for q in set(now) | set(stored)
            if q not in now or q not in stored or q not in index.definitions
            or stored_code.get(q) != index.definitions[q].digest}


def _reach(index, roots) -> set[str]:
    return set().union(*(index.reachable(r) for r in roots if r in index.definitions))


def stale_jobs(results: dict, *, index=None) -> dict:
    """Why a (verified) results file is stale, or an empty dict if its fingerprint still holds:

    ``environment``: {package: (then, now)} for what changed; ``jobs``: {job: sorted files whose
    change reaches it}; ``arguments``: jobs the plan now calls with other arguments (or that are
    new or gone); ``assembly``: files whose change reaches the assembly of the file.
    """
    from ..jobs.environment import fingerprint as environment
    from ..jobs.fingerprint import code_index
    from ..jobs.run import job_keys

    fp = (results.get("provenance") or {}).get("fingerprint")
    if not fp:
        return {"unknown": "the file records no fingerprint (made before fingerprints existed)"}
    why = {}
    env_then, env_now = fp["environment"], environment()
    if env_then != env_now:
        flat = lambda e: {"python": e["python"], **e["packages"], **{f"keras {k}": v for k, v in e["keras"].items()}}
        then, now = flat(env_then), flat(env_now)
        why["environment"] = {k: (then.get(k), now.get(k)) for k in sorted(set(then) | set(now)) if then.get(k) != now.get(k)}
    index = index or code_index()
    changed_by_function = {q: _changed(index, fp["code"], set(reach), _reach(index, [q])) for q, reach in fp["reach"].items()}
    jobs = {}
    for job, function in fp["functions"].items():
        if changed_by_function[function]:
            jobs[job] = sorted({index.file_of(q) for q in changed_by_function[function]})
    if jobs:
        why["jobs"] = jobs
    module = experiments.get(results["experiment"])
    roots = set(P.ASSEMBLY_CODE) | {f"{module.__name__}:{d}" for d in ("assemble", "SCHEMA", "TOLERANCES")}
    assembly = _changed(index, fp["code"], set(fp["assembly"]), _reach(index, roots))
    if assembly:
        why["assembly"] = sorted({index.file_of(q) for q in assembly})
    # The plan's own arguments: re-plan the first stage with the file's parameters and compare keys
    # of the jobs whose code did not change (a later stage depends on outputs; its code is checked above).
    parameters = P.defaults(module) | results["parameters"]
    try:
        planned = module.plan(parameters)
    except Exception as err:  # noqa: BLE001 - a plan that no longer accepts the file's parameters
        why["arguments"] = [f"the plan fails on these parameters ({type(err).__name__}: {err})"]
        return why
    now_keys = job_keys(planned, index=index)
    stored_first = {job for job in fp["jobs"] if job in now_keys or not hasattr(module, "plan_next")}
    moved = sorted(job for job in set(now_keys) | stored_first
                   if job not in jobs and fp["jobs"].get(job) != now_keys.get(job))
    if moved and "environment" not in why:
        why["arguments"] = moved
    return why


def describe(why: dict, total_jobs: int) -> list[str]:
    """Lines that say why a result is stale."""
    lines = []
    if "unknown" in why:
        lines.append(why["unknown"])
    if "environment" in why:
        lines.append("the environment changed: " + ", ".join(f"{k} {a} → {b}" for k, (a, b) in why["environment"].items()))
    if "jobs" in why:
        by_files: dict[tuple, list] = {}
        for job, files in why["jobs"].items():
            by_files.setdefault(tuple(files), []).append(job)
        lines.append(f"{len(why['jobs'])} of {total_jobs} jobs reach changed code:")
        for files, jobs in by_files.items():
            shown = ", ".join(jobs[:6]) + (f" and {len(jobs) - 6} more" if len(jobs) > 6 else "")
            lines.append(f"  {shown}: changed in {', '.join(files)}")
    if "arguments" in why:
        jobs = why["arguments"]
        lines.append(f"the plan changed {len(jobs)} job(s) (other arguments, new or gone): "
                     + ", ".join(map(str, jobs[:6])) + (f" and {len(jobs) - 6} more" if len(jobs) > 6 else ""))
    if "assembly" in why:
        lines.append("the assembly of the file changed in " + ", ".join(why["assembly"]))
    return lines


def status(results_dir: Path = RESULTS_DIR, *, index=None) -> list[dict]:
    """For every experiment: fresh, stale, custom, edited, corrupt or missing (see the module's
    docstring), with the detail that says why."""
    rows = []
    for name in experiments.NAMES:
        path = Path(results_dir) / f"{name}.json"
        row = {"experiment": name, "status": "missing", "wall_seconds": None, "fingerprint": None, "detail": [],
               "why": {}}
        rows.append(row)
        try:
            path.stat()
        except FileNotFoundError:
            if path.is_symlink():                       # a link to nothing is not an absent file
                row["status"], row["detail"] = "corrupt", [f"{path}: a symbolic link that leads nowhere"]
            continue
        except OSError as err:                          # a symbolic-link loop (ELOOP), a permission problem
            what = "a symbolic link that leads nowhere" if path.is_symlink() else "cannot be read"
            row["status"], row["detail"] = "corrupt", [f"{path}: {what} ({err.strerror or err})"]
            continue
        if not path.is_file():
            row["status"], row["detail"] = "corrupt", [f"{path}: not a regular file"]
            continue
        try:
            results = read(path)                        # not even parseable: corrupt
        except (ResultsError, OSError) as err:
            row["status"], row["detail"] = "corrupt", [str(err)]
            continue
        try:
            verify(results, path)                       # parseable, but incomplete, unsealed or edited
        except ResultsError as err:
            row["status"], row["detail"] = "edited", [str(err)]
            continue
        prov = results["provenance"]
        row["wall_seconds"] = prov.get("wall_seconds")
        row["fingerprint"] = (prov.get("fingerprint") or {}).get("experiment")
        why = stale_jobs(results, index=index)
        if why:
            row["status"], row["why"] = "stale", why
            row["detail"] = describe(why, len((prov.get("fingerprint") or {}).get("jobs", {})))
            continue
        defaults = P.scientific(P.defaults(name))
        custom = {k: v for k, v in results["parameters"].items() if defaults.get(k) != v}
        if custom:
            row["status"] = "custom"
            row["detail"] = ["parameters differ from the defaults: " + ", ".join(
                f"{k}={v!r} (default {defaults.get(k)!r})" for k, v in custom.items())]
        else:
            row["status"] = "fresh"
    return rows
