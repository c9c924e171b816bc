"""Results files: atomic writes, every metric accounted for, readable comparisons, staleness."""

import json

import numpy as np
import pytest

from grubook import experiments
from grubook.execution.freshness import status
from grubook.experiments import spec
from grubook.results import compare as comparison
from grubook.results import files

SCHEMA = {"acc": "acc", "steps": "steps", "params": "params"}


def save_example(tmp_path, **kwargs):
    """Write a small results file the way an experiment's run does: the payload (aggregated, every
    metric accounted for, finite) and one atomic write."""
    args = dict(parameters={"epochs": 3}, seeds=[0, 1], schema=SCHEMA,
                per_seed=[{"seed": 0, "metrics": {"acc": 0.8, "steps": 10}},
                          {"seed": 1, "metrics": {"acc": 0.9, "steps": None}}],
                metrics={"params": 123}, tolerances={"acc": {"abs": 0.05}, "steps": {"rel": 0.5},
                                                     "params": {"abs": 0}})
    args.update(kwargs)
    return files.write_json_atomic(tmp_path / "demo.json", files.make_payload("demo", **args))


def test_save_aggregates_with_missing_values(tmp_path):
    data = json.loads(save_example(tmp_path).read_text())
    assert data["aggregates"]["acc"]["mean"] == pytest.approx(0.85, abs=1e-15)
    assert data["aggregates"]["acc"]["std"] == pytest.approx(np.std([0.8, 0.9], ddof=1), abs=1e-15)
    assert data["aggregates"]["steps"] == {"mean": 10.0, "std": 0.0, "n": 1, "missing": 1}
    assert data["schema"] == SCHEMA


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
    payload = json.loads(before) | {"metrics": {"params": float("nan")}}
    with pytest.raises(ValueError, match="finite"):
        files.write_json_atomic(path, payload)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.json"]


def test_compare_flags_values_outside_tolerance(tmp_path):
    committed = json.loads(save_example(tmp_path).read_text())
    new = json.loads(json.dumps(committed))
    new["aggregates"]["acc"]["mean"] = 0.95                     # 0.1 away, tolerance 0.05
    rows = comparison.compare(committed, new)
    bad = [r for r in rows if not r["ok"]]
    assert [r["metric"] for r in bad] == ["acc"]
    table = comparison.format_comparison("demo", rows)
    assert "1 of 3 metrics outside tolerance" in table
    assert "acc" in table and "0.85" in table and "0.95" in table and "±0.05" in table


def test_compare_accepts_identical_results_and_rel_tolerance(tmp_path):
    committed = json.loads(save_example(tmp_path).read_text())
    new = json.loads(json.dumps(committed))
    new["aggregates"]["steps"]["mean"] = 14.0                   # within 50 % of 10
    assert all(r["ok"] for r in comparison.compare(committed, new))
    new["aggregates"]["steps"]["mean"] = None                   # reached before, not now
    assert not all(r["ok"] for r in comparison.compare(committed, new))


def test_a_machine_bound_metric_is_held_to_its_tolerance_only_on_the_same_machine():
    from grubook import experiments

    committed = files.load("article_layer", files.RESULTS_DIR)
    bound = experiments.machine_bound(committed)
    assert bound == {"article_over_builtin.step_time"}           # a speed ratio, toleranced
    assert not experiments.machine_bound(files.load("long_range", files.RESULTS_DIR))
    name = sorted(bound)[0]
    moved = json.loads(json.dumps(committed))
    moved["aggregates"][name]["mean"] *= 2                       # far outside its tolerance
    row = lambda new: next(r for r in comparison.compare(committed, new, bound) if r["metric"] == name)
    assert not row(moved)["ok"]                                  # same machine: held to it
    moved["data"]["cpu"] = "AMD EPYC 9R14 (family 25, model 17)"
    assert row(moved)["ok"] and "another" in row(moved)["tolerance"]
    unbound = next(r for r in comparison.compare(committed, moved) if r["metric"] == name)
    assert not unbound["ok"]                                     # only a metric named machine-bound is spared


def published_copy(tmp_path, name, edit=None, reseal=True):
    """A copy of a committed results file in ``tmp_path``, edited by ``edit(data)`` and, as the runner
    would after a real run, given a fresh seal."""
    data = json.loads((files.RESULTS_DIR / f"{name}.json").read_text())
    if edit:
        edit(data)
    if reseal:
        data["seal"] = files.seal(data)
    (tmp_path / f"{name}.json").write_text(json.dumps(data, indent=1))
    return tmp_path / f"{name}.json"


def state(tmp_path):
    return {r["experiment"]: r["status"] for r in status(results_dir=tmp_path)}


def made_with(name, **parameters):
    """An edit that makes a results file look made with other parameters, as the runner would have
    recorded it: the parameters and the keys of the jobs the plan gives for them."""
    from grubook.jobs.run import job_keys

    def edit(d):
        d["parameters"].update(parameters)
        planned = experiments.get(name).plan(spec.defaults(name) | d["parameters"])
        d["provenance"]["fingerprint"]["jobs"].update(job_keys(planned))
    return edit


def test_status_reports_missing_fresh_stale_and_custom_parameters(tmp_path):
    assert set(state(tmp_path).values()) == {"missing"}
    published_copy(tmp_path, "overfitting")
    assert state(tmp_path)["overfitting"] == "fresh"
    data = json.loads((tmp_path / "overfitting.json").read_text())
    fingerprint = data["provenance"]["fingerprint"]
    function = next(iter(fingerprint["functions"].values()))
    fingerprint["code"][function] = "0" * 64                        # made by other code than today's
    data["seal"] = files.seal(data)
    (tmp_path / "overfitting.json").write_text(json.dumps(data))
    row = next(r for r in status(results_dir=tmp_path) if r["experiment"] == "overfitting")
    assert row["status"] == "stale" and any("reach changed code" in line for line in row["detail"]), row
    # Made on purpose with --set epochs=3: fresh for its own parameters, but not the book's defaults.
    published_copy(tmp_path, "overfitting", edit=made_with("overfitting", epochs=3))
    row = next(r for r in status(results_dir=tmp_path) if r["experiment"] == "overfitting")
    assert row["status"] == "custom" and any("epochs=3 (default 40)" in line for line in row["detail"]), row
    # The same parameters without the job keys they give: the plan changed, so the file is stale.
    published_copy(tmp_path, "overfitting", edit=lambda d: d["parameters"].update(epochs=3))
    assert state(tmp_path)["overfitting"] == "stale"


def test_a_hand_edited_number_breaks_the_seal_and_the_field_is_named(tmp_path):
    def edit(d):
        d["aggregates"]["GRU.test_accuracy"]["mean"] = 0.1234
    path = published_copy(tmp_path, "seed_example", edit=edit, reseal=False)
    with pytest.raises(files.ResultsError, match=rf"{path}: content does not match its seal \(first "
                                                   r"difference: aggregates\.GRU\.test_accuracy\)"):
        files.load("seed_example", tmp_path)
    assert state(tmp_path)["seed_example"] == "edited"


def test_a_resealed_edit_is_caught_by_the_per_seed_values(tmp_path):
    def edit(d):
        d["aggregates"]["GRU.test_accuracy"]["mean"] = 0.1234
    path = published_copy(tmp_path, "seed_example", edit=edit)
    with pytest.raises(files.ResultsError, match=rf"{path}: aggregates\.GRU\.test_accuracy does not follow"):
        files.load("seed_example", tmp_path)


@pytest.mark.parametrize("damage,message", [
    (lambda text: text[: len(text) // 2], r"not valid JSON .* corrupt or truncated"),
    (lambda text: text.replace('"mean": 0.', '"mean": NaN, "was": 0.', 1), r"it holds the non-finite number NaN"),
    (lambda text: text.replace('"mean": 0.', '"mean": -Infinity, "was": 0.', 1), r"it holds the non-finite number -Infinity"),
    (lambda text: json.dumps({k: v for k, v in json.loads(text).items() if k not in ("provenance", "seal")}),
     r"incomplete results file, missing provenance, seal"),
    (lambda text: text.replace('"mean": 0.', '"mean": 0.99, "mean": 0.', 1), r"it repeats the key 'mean' in one object"),
    (lambda text: json.dumps(json.loads(text) | {"execution": {}}), r"unknown field 'execution'"),
], ids=["truncated", "nan", "infinity", "no-provenance", "repeated-key", "unknown-field"])
def test_a_damaged_file_gives_one_clear_error_naming_it(tmp_path, damage, message):
    path = published_copy(tmp_path, "seed_example")
    path.write_text(damage(path.read_text()))
    with pytest.raises(files.ResultsError, match=rf"{path}: {message}"):
        files.load("seed_example", tmp_path)
    assert state(tmp_path)["seed_example"] in ("corrupt", "edited")


def test_check_refuses_results_that_compare_nothing_before_any_run(tmp_path):
    from grubook.execution.notebooks import preflight

    published_copy(tmp_path, "seed_example", edit=lambda d: d.update(
        tolerances={}, not_compared={n: "none" for n in [*d["aggregates"], *d["metrics"]]}))
    with pytest.raises(files.ResultsError, match="compares nothing"):
        preflight(["seed_example"], tmp_path)


def test_notebooks_cannot_write_the_committed_results(tmp_path, monkeypatch):
    module = experiments.get("seed_example")
    namespace = spec.defaults(module, quick=True) | {"results_dir": str(files.RESULTS_DIR), "scheduler": "serial"}
    with pytest.raises(ValueError, match="notebooks do not write the committed results"):
        spec.run(module, namespace)
    # A results_dir of None is _build/results-papermill. (The jobs and the assembly are stubbed out:
    # only where the file goes is under test.)
    monkeypatch.setattr(files, "PAPERMILL_RESULTS_DIR", tmp_path / "papermill")
    monkeypatch.setattr(module, "plan", lambda P: [])
    monkeypatch.setattr(module, "assemble", lambda done, P: spec.Assembly(module.SCHEMA, P["seeds"]))
    res = spec.run(module, namespace | {"results_dir": None})
    assert res.experiment == "seed_example"
    # These results are not the committed ones: their findings are decided without its drift.
    from grubook.verdicts import drift

    assert drift.current().source == "not measured for results this run computed" and not drift.current().moved
    assert sorted(p.name for p in (tmp_path / "papermill").iterdir()) == ["seed_example.json"]


def test_job_keys_cover_what_can_change_a_number(tmp_path):
    """A job's key (what the job cache and a file's freshness go by) changes with its arguments, the
    code the job can reach and the numeric environment, and with nothing else: code that only draws
    or presents results does not count."""
    import shutil

    from grubook.experiments import common
    from grubook.jobs.cache import job_key
    from grubook.jobs.environment import fingerprint as environment
    from grubook.jobs.fingerprint import PACKAGE_ROOT, CodeIndex

    job = experiments.get("seed_example").plan(spec.defaults("seed_example"))[0]
    assert job.function is common.classifier_job
    base = job_key(job.function, job.kwargs, index=CodeIndex(PACKAGE_ROOT))
    assert job_key(job.function, job.kwargs | {"seed": job.kwargs["seed"] + 1}, index=CodeIndex(PACKAGE_ROOT)) != base
    env = environment()
    env["packages"]["numpy"] = "0.0"
    assert job_key(job.function, job.kwargs, environment=env, index=CodeIndex(PACKAGE_ROOT)) != base
    # A copy of the package where one module changes: training code counts, figures do not.
    package = tmp_path / "grubook"
    shutil.copytree(PACKAGE_ROOT, package, ignore=shutil.ignore_patterns("__pycache__"))
    assert job_key(job.function, job.kwargs, index=CodeIndex(package)) == base
    for path in [*(package / "presentation").glob("*.py"), package / "verdicts" / "claims.py"]:
        path.write_text("# a figure, a table or the claims audit changed\n")
    assert job_key(job.function, job.kwargs, index=CodeIndex(package)) == base
    loop = package / "training" / "loop.py"
    text = loop.read_text()
    assert "    keras.utils.set_random_seed(seed)\n" in text
    loop.write_text(text.replace("    keras.utils.set_random_seed(seed)\n", "    keras.utils.set_random_seed(seed + 1)\n"))
    assert job_key(job.function, job.kwargs, index=CodeIndex(package)) != base
