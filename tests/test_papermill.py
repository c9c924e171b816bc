"""People run the notebooks with plain papermill too: that must work, with the same machinery, and
must never write into the committed results."""

import os
import subprocess
import sys

import pytest

from grubook.results.files import EXPERIMENTS_DIR, PAPERMILL_RESULTS_DIR, RESULTS_DIR, read

pytestmark = pytest.mark.slow

QUICK = ["-y", "seeds: [0]", "-p", "epochs", "2", "-p", "permutations", "1"]       # -y: a list, not a string


def papermill(notebook, output, cwd, *params, env=None):
    return subprocess.run([sys.executable, "-m", "papermill", str(notebook), str(output), "-k", "grubook",
                           "--cwd", str(cwd), *params], capture_output=True, text=True, timeout=600,
                          env=os.environ | (env or {}))


def notebook_copy(tmp_path, name):
    """An experiment's notebook (a MyST .md file) as the .ipynb papermill reads."""
    import jupytext

    source = tmp_path / f"{name}.ipynb"
    jupytext.write(jupytext.read(EXPERIMENTS_DIR / f"{name}.md"), source, fmt="ipynb")
    return source


def committed_state():
    return {p.name: p.read_bytes() for p in RESULTS_DIR.iterdir() if p.is_file()}


def test_plain_papermill_writes_under_build_with_a_local_cluster(tmp_path):
    source = notebook_copy(tmp_path, "seed_example")
    before = committed_state()
    target = PAPERMILL_RESULTS_DIR / "seed_example.json"
    target.unlink(missing_ok=True)
    # No results_dir: the notebook's default (None) means _build/results-papermill, wherever it runs.
    # A fresh job cache (the kernel's $GRUBOOK_CACHE), so that every job runs on the local cluster.
    proc = papermill(source, tmp_path / "executed.ipynb", EXPERIMENTS_DIR, *QUICK,
                     env={"GRUBOOK_CACHE": str(tmp_path / "cache")})
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = read(target)
    assert res["execution"]["scheduler"] == "local" and res["execution"]["threads_per_worker"] == 1
    metrics = res["per_seed"][0]["metrics"]
    assert res["seeds"] == [0] and metrics["GRU.epochs_run"] <= 2 and 0 <= metrics["GRU.test_accuracy"] <= 1
    assert committed_state() == before


def test_a_notebook_run_with_the_runners_results_dir_cannot_overwrite_the_committed_results(tmp_path):
    before = committed_state()
    # The runner runs a notebook with results_dir "." (its staging folder), and executed notebooks
    # (kept in the run's log folder) carry that value; run a notebook with it from inside the
    # committed results folder, where "." is that folder.
    proc = papermill(notebook_copy(tmp_path, "seed_example"), tmp_path / "executed.ipynb", RESULTS_DIR, *QUICK,
                     "-p", "results_dir", ".", env={"GRUBOOK_CACHE": "off"})
    assert proc.returncode != 0
    assert "notebooks do not write the committed results" in proc.stderr + proc.stdout
    assert committed_state() == before
