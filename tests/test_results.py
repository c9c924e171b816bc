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


def published_copy(tmp_path, name, edit=None, reseal=True):
    """A copy of a committed results file in ``tmp_path``, edited by ``edit(data)`` and, as the runner
    would after a real run, given a fresh inputs hash and seal."""
    from grubook.results import inputs_sha256

    data = json.loads((results.RESULTS_DIR / f"{name}.json").read_text())
    if edit:
        edit(data)
    if reseal:
        data["provenance"]["inputs_sha256"] = inputs_sha256(results.EXPERIMENTS_DIR / f"{name}.md",
                                                            data["parameters"])
        data["seal"] = results.seal(data)
    (tmp_path / f"{name}.json").write_text(json.dumps(data, indent=1))
    return tmp_path / f"{name}.json"


def state(tmp_path):
    return {r["experiment"]: r["status"] for r in status(results_dir=tmp_path)}


def test_status_reports_missing_fresh_stale_and_custom_parameters(tmp_path):
    assert set(state(tmp_path).values()) == {"missing"}
    published_copy(tmp_path, "overfitting")
    assert state(tmp_path)["overfitting"] == "fresh"
    data = json.loads((tmp_path / "overfitting.json").read_text())
    data["provenance"]["inputs_sha256"] = "0" * 64                 # made by other code than today's
    data["seal"] = results.seal(data)
    (tmp_path / "overfitting.json").write_text(json.dumps(data))
    assert state(tmp_path)["overfitting"] == "stale"
    # Made on purpose with --set epochs=3: fresh for its own parameters, but not the book's defaults.
    published_copy(tmp_path, "overfitting", edit=lambda d: d["parameters"].update(epochs=3))
    row = next(r for r in status(results_dir=tmp_path) if r["experiment"] == "overfitting")
    assert row["status"] == "custom" and "epochs=3 (default 60)" in row["detail"]


def test_a_hand_edited_number_breaks_the_seal_and_the_field_is_named(tmp_path):
    def edit(d):
        d["aggregates"]["GRU.test_accuracy"]["mean"] = 0.1234
    path = published_copy(tmp_path, "seed_example", edit=edit, reseal=False)
    with pytest.raises(results.ResultsError, match=rf"{path}: content does not match its seal \(first "
                                                   r"difference: aggregates\.GRU\.test_accuracy\)"):
        results.load("seed_example", tmp_path)
    assert state(tmp_path)["seed_example"] == "edited"


def test_a_resealed_edit_is_caught_by_the_per_seed_values(tmp_path):
    def edit(d):
        d["aggregates"]["GRU.test_accuracy"]["mean"] = 0.1234
    path = published_copy(tmp_path, "seed_example", edit=edit)
    with pytest.raises(results.ResultsError, match=rf"{path}: aggregates\.GRU\.test_accuracy does not follow"):
        results.load("seed_example", tmp_path)


@pytest.mark.parametrize("damage,message", [
    (lambda text: text[: len(text) // 2], r"not valid JSON .* corrupt or truncated"),
    (lambda text: text.replace('"mean": 0.', '"mean": NaN, "was": 0.', 1), r"it holds the non-finite number NaN"),
    (lambda text: text.replace('"mean": 0.', '"mean": -Infinity, "was": 0.', 1), r"it holds the non-finite number -Infinity"),
    (lambda text: json.dumps({k: v for k, v in json.loads(text).items() if k not in ("provenance", "seal")}),
     r"incomplete results file, missing provenance, seal"),
], ids=["truncated", "nan", "infinity", "no-provenance"])
def test_a_damaged_file_gives_one_clear_error_naming_it(tmp_path, damage, message):
    path = published_copy(tmp_path, "seed_example")
    path.write_text(damage(path.read_text()))
    with pytest.raises(results.ResultsError, match=rf"{path}: {message}"):
        results.load("seed_example", tmp_path)
    assert state(tmp_path)["seed_example"] in ("corrupt", "edited")


def test_check_refuses_results_that_compare_nothing_before_any_run(tmp_path):
    from grubook.runner import preflight

    published_copy(tmp_path, "seed_example", edit=lambda d: d.update(
        tolerances={}, not_compared={n: "none" for n in [*d["aggregates"], *d["metrics"]]}))
    with pytest.raises(results.ResultsError, match="compares nothing"):
        preflight(["seed_example"], tmp_path)


def test_notebooks_cannot_write_the_committed_results(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="notebooks do not write the committed results"):
        save_example(tmp_path, results_dir=results.RESULTS_DIR)
    monkeypatch.setattr(results, "PAPERMILL_RESULTS_DIR", tmp_path / "papermill")
    assert save_example(tmp_path, results_dir=None) == tmp_path / "papermill" / "demo.json"


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
