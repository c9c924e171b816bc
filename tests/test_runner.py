"""The papermill runner: real notebooks, real kernels. Failures and interruptions keep old results."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from grubook.results import EXPERIMENTS_DIR
from grubook.runner import ExperimentFailed, reproduce

pytestmark = pytest.mark.slow

SENTINEL = {"experiment": "seed_example", "note": "previous results"}


def failing_copy_of(name, tmp_path, body):
    """An experiments folder whose ``name`` notebook has the real parameters cell, then ``body``."""
    import jupytext

    nb = jupytext.read(EXPERIMENTS_DIR / f"{name}.md")
    params_cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    nb.cells = [params_cell, jupytext.reads(f"```{{code-cell}} ipython3\n{body}\n```", fmt="md:myst").cells[0]]
    folder = tmp_path / "experiments"
    folder.mkdir()
    jupytext.write(nb, folder / f"{name}.md", fmt="md:myst")
    return folder


def previous_results(tmp_path):
    results_dir = tmp_path / "results"
    results_dir.mkdir()
    (results_dir / "seed_example.json").write_text(json.dumps(SENTINEL))
    (results_dir / "seed_example.ipynb").write_text("previous notebook")
    return results_dir


def assert_untouched(results_dir):
    assert json.loads((results_dir / "seed_example.json").read_text()) == SENTINEL
    assert (results_dir / "seed_example.ipynb").read_text() == "previous notebook"
    assert sorted(p.name for p in results_dir.iterdir()) == ["seed_example.ipynb", "seed_example.json"]


@pytest.mark.parametrize("body,message", [
    # Writes a partial results file, then fails: nothing of it may be published.
    ("from grubook import results\n"
     "results.save('seed_example', parameters={}, seeds=[0], per_seed=[], tolerances={}, results_dir=results_dir)\n"
     "raise RuntimeError('simulated divergence at epoch 3')",
     r"'seed_example' failed: RuntimeError: simulated divergence at epoch 3"),
    # Finishes without writing any results.
    ("x = 1", "without writing seed_example.json"),
], ids=["fails-after-partial-write", "writes-nothing"])
def test_a_failed_run_names_the_experiment_and_cause_and_keeps_old_results(tmp_path, body, message):
    experiments = failing_copy_of("seed_example", tmp_path, body)
    results_dir = previous_results(tmp_path)
    with pytest.raises(ExperimentFailed, match=message):
        reproduce(["seed_example"], quick=True, results_dir=results_dir, experiments_dir=experiments,
                  progress=False)
    assert_untouched(results_dir)


def test_ctrl_c_during_a_run_keeps_old_results(tmp_path):
    experiments = failing_copy_of("seed_example", tmp_path, "import time\ntime.sleep(120)")
    results_dir = previous_results(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "grubook", "reproduce", "seed_example", "--quick", "--results-dir",
         str(results_dir), "--experiments-dir", str(experiments)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    # Wait until the kernel is executing (its staging folder exists), then press Ctrl-C:
    # a terminal sends SIGINT to the whole foreground process group.
    deadline = time.time() + 60
    while time.time() < deadline and not any(p.name.startswith(".staging") for p in results_dir.iterdir()):
        time.sleep(0.2)
    time.sleep(4)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "seed_example" in err and "interrupted" in err and "left untouched" in err
    assert_untouched(results_dir)


def test_quick_run_writes_results_with_provenance(tmp_path):
    out = reproduce(["seed_example"], quick=True, results_dir=tmp_path, progress=False)
    res = json.loads((tmp_path / "seed_example.json").read_text())
    assert res == out["seed_example"]
    prov = res["provenance"]
    assert set(prov) >= {"packages", "cpu", "platform", "wall_seconds", "git_commit", "inputs_sha256"}
    assert prov["packages"]["tensorflow"] and len(prov["inputs_sha256"]) == 64
    assert res["parameters"]["epochs"] == 3 and res["seeds"] == [0]
    assert (tmp_path / "seed_example.ipynb").is_file()
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())
