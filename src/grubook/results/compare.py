"""CI's comparison of a re-run with the committed results: every toleranced metric, within its tolerance."""

from __future__ import annotations

__all__ = ["metric", "machine", "compare", "format_comparison"]


def metric(results: dict, name: str) -> float:
    """A compared number by name: an aggregate's mean, or a seedless metric."""
    if name in results["aggregates"]:
        return results["aggregates"][name]["mean"]
    if name in results["metrics"]:
        return results["metrics"][name]
    raise KeyError(f"{results['experiment']} has no metric {name!r}")


def machine(results: dict) -> str:
    """What a result's timings ran on: its GPU, else its CPU as the timing jobs recorded it (model
    name, family and model numbers), else the CPU of the machine that assembled it."""
    data = results.get("data") or {}
    device = data.get("device")
    return device if device and device != "CPU" else data.get("cpu") or (results.get("provenance") or {}).get("cpu") or "CPU"


def compare(committed: dict, new: dict, machine_bound=frozenset()) -> list[dict]:
    """Compare every toleranced metric of ``committed`` with ``new``.

    Returns one row per metric: metric, committed, new, tolerance (text) and ok. A metric that is
    missing (None) on one side only, or absent from ``new``, is a mismatch. The tolerance of a
    metric in ``machine_bound`` (a speed ratio, a property of the hardware: see
    :func:`grubook.experiments.machine_bound`) holds only between results timed on the same machine
    (:func:`machine`); on another one the row is recorded and passes, and its tolerance says why.
    """
    rows = []
    other_machine = machine(committed) != machine(new)
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
            text = f"±{tol['rel'] * 100:g} %"
        if old is None or value is None or value == "absent":
            ok = old is None and value is None
        elif name in machine_bound and other_machine:
            ok, text = True, f"{text} on the same machine; timed on another: {machine(new)}"
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
