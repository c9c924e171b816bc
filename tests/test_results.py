"""Results files: atomic writes, every metric accounted for, readable comparisons, staleness."""

import json
import shutil

import numpy as np
import pytest

from grubook import results
from grubook.runner import status


def save_example(tmp_path, **kwargs):
    args = dict(parameters={"epochs": 3}, seeds=[0, 1],
                per_seed=[{"seed": 0, "metrics": {"acc": 0.8, "steps": 10}},
                          {"seed": 1, "metrics": {"acc": 0.9, "steps": None}}],
                metrics={"params": 123}, tolerances={"acc": {"abs": 0.05}, "steps": {"rel": 0.5},
                                                     "params": {"abs": 0}},
                results_dir=tmp_path)
    args.update(kwargs)
    return results.save("demo", **args)


def test_save_aggregates_with_missing_values(tmp_path):
    data = json.loads(save_example(tmp_path).read_text())
    assert data["aggregates"]["acc"]["mean"] == pytest.approx(0.85, abs=1e-15)
    assert data["aggregates"]["acc"]["std"] == pytest.approx(np.std([0.8, 0.9], ddof=1), abs=1e-15)
    assert data["aggregates"]["steps"] == {"mean": 10.0, "std": 0.0, "n": 1, "missing": 1}


def test_every_metric_needs_a_tolerance_or_a_reason(tmp_path):
    with pytest.raises(ValueError, match=r"without a tolerance or a not_compared reason: \['params'\]"):
        save_example(tmp_path, tolerances={"acc": {"abs": 0.05}, "steps": {"rel": 0.5}})
    save_example(tmp_path, tolerances={"acc": {"abs": 0.05}, "steps": {"rel": 0.5}},
                 not_compared={"params": "fixed by construction"})


def test_failed_write_leaves_the_old_file_and_no_temp_files(tmp_path):
    path = save_example(tmp_path)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="finite"):
        save_example(tmp_path, metrics={"params": float("nan")})
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.json"]


def test_compare_flags_values_outside_tolerance(tmp_path):
    committed = json.loads(save_example(tmp_path).read_text())
    new = json.loads(json.dumps(committed))
    new["aggregates"]["acc"]["mean"] = 0.95                     # 0.1 away, tolerance 0.05
    rows = results.compare(committed, new)
    bad = [r for r in rows if not r["ok"]]
    assert [r["metric"] for r in bad] == ["acc"]
    table = results.format_comparison("demo", rows)
    assert "1 of 3 metrics outside tolerance" in table
    assert "acc" in table and "0.85" in table and "0.95" in table and "±0.05" in table


def test_compare_accepts_identical_results_and_rel_tolerance(tmp_path):
    committed = json.loads(save_example(tmp_path).read_text())
    new = json.loads(json.dumps(committed))
    new["aggregates"]["steps"]["mean"] = 14.0                   # within 50 % of 10
    assert all(r["ok"] for r in results.compare(committed, new))
    new["aggregates"]["steps"]["mean"] = None                   # reached before, not now
    assert not all(r["ok"] for r in results.compare(committed, new))


def test_status_reports_missing_fresh_and_stale(tmp_path):
    rows = {r["experiment"]: r["status"] for r in status(results_dir=tmp_path)}
    assert set(rows.values()) == {"missing"}
    committed = results.RESULTS_DIR / "overfitting.json"
    if not committed.is_file():
        pytest.skip("no committed overfitting results yet")
    shutil.copy(committed, tmp_path / "overfitting.json")
    data = json.loads(committed.read_text())
    from grubook.results import inputs_sha256
    data["provenance"]["inputs_sha256"] = inputs_sha256(
        results.EXPERIMENTS_DIR / "overfitting.md", data["parameters"])
    (tmp_path / "overfitting.json").write_text(json.dumps(data))
    assert {r["experiment"]: r["status"] for r in status(results_dir=tmp_path)}["overfitting"] == "fresh"
    data["parameters"]["epochs"] += 1                            # results made with other parameters
    (tmp_path / "overfitting.json").write_text(json.dumps(data))
    assert {r["experiment"]: r["status"] for r in status(results_dir=tmp_path)}["overfitting"] == "stale"


def test_inputs_hash_covers_what_can_change_a_number(tmp_path, monkeypatch):
    from grubook import results as R

    notebook = R.EXPERIMENTS_DIR / "seed_example.md"
    base = R.inputs_sha256(notebook, {"epochs": 3})
    assert R.inputs_sha256(notebook, {"epochs": 4}) != base
    # A copy of the package where one module changes: experiment modules count, book-only ones do not.
    package = tmp_path / "src" / "grubook"
    package.mkdir(parents=True)
    for path in (R.REPO_ROOT / "src" / "grubook").glob("*.py"):
        (package / path.name).write_bytes(path.read_bytes())
    (tmp_path / "requirements.lock").write_bytes((R.REPO_ROOT / "requirements.lock").read_bytes())
    monkeypatch.setattr(R, "REPO_ROOT", tmp_path)
    assert R.inputs_sha256(notebook, {"epochs": 3}) == base
    (package / "plots.py").write_text("# a figure changed\n")
    assert R.inputs_sha256(notebook, {"epochs": 3}) == base
    (package / "training.py").write_text("# training changed\n")
    assert R.inputs_sha256(notebook, {"epochs": 3}) != base
