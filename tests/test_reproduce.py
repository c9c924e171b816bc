"""CI's check that the committed results reproduce: every experiment is re-run with its full
parameters through papermill on the local Dask cluster, and every toleranced metric must match
the committed value."""

import json

import pytest

from grubook import params
from grubook.results import RESULTS_DIR, compare, format_comparison, load
from grubook.runner import preflight, reproduce, status

FULL_REPRODUCTION_BUDGET_SECONDS = 900      # 15 minutes on the 2-core CI machine


@pytest.fixture(scope="session")
def committed():
    return preflight(list(params.EXPERIMENTS))           # corrupt or empty files fail here, in a second


@pytest.fixture(scope="session")
def rerun(committed, tmp_path_factory):
    folder = tmp_path_factory.mktemp("reproduced")
    return reproduce(list(params.EXPERIMENTS), results_dir=folder, progress=False)


@pytest.mark.reproduce
@pytest.mark.parametrize("name", list(params.EXPERIMENTS))
def test_experiment_reproduces_committed_results(committed, rerun, name):
    rows = compare(committed[name], rerun[name])
    assert rows, f"{name} compares no metrics"
    assert all(r["ok"] for r in rows), "\n" + format_comparison(name, rows)


def test_committed_results_fit_the_time_budget():
    walls = {name: load(name, RESULTS_DIR)["provenance"]["wall_seconds"] for name in params.EXPERIMENTS}
    assert sum(walls.values()) <= FULL_REPRODUCTION_BUDGET_SECONDS, walls


def test_committed_results_are_fresh_sealed_and_made_with_the_notebook_defaults():
    rows = status()
    assert all(r["status"] == "fresh" for r in rows), [(r["experiment"], r["status"], r["detail"]) for r in rows]
    from grubook.results import EXPERIMENTS_DIR
    from grubook.runner import notebook_defaults

    for name in params.EXPERIMENTS:
        committed = load(name, RESULTS_DIR)
        defaults = params.scientific(notebook_defaults(EXPERIMENTS_DIR / f"{name}.md"))
        assert committed["parameters"] == json.loads(json.dumps(defaults)), name
        assert committed["provenance"]["execution"]["threads_per_worker"] == 1, name
        assert (RESULTS_DIR / f"{name}.ipynb").is_file(), f"executed notebook of {name} is not committed"


def test_committed_benchmark_is_sealed():
    bench = load("benchmark", RESULTS_DIR)
    assert bench["metrics"]["speedup"] > 0 and set(bench["data"]["serial"]) == set(params.EXPERIMENTS)
