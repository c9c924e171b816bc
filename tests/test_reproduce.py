"""CI's check that the committed results reproduce: every experiment is re-run with its full
parameters through papermill, and every toleranced metric must match the committed value."""

import json

import pytest

from grubook import params
from grubook.results import RESULTS_DIR, compare, format_comparison, load
from grubook.runner import reproduce

pytestmark = pytest.mark.reproduce

FULL_REPRODUCTION_BUDGET_SECONDS = 900      # 15 minutes on the 2-core CI machine
# The committed results are held to the budget exactly. A re-run on another day shares the machine
# with whatever else runs there, so it gets 20 % on top before the test calls it a regression.
RERUN_ALLOWANCE = 1.2


@pytest.fixture(scope="session")
def rerun(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reproduced")
    return reproduce(list(params.EXPERIMENTS), results_dir=folder, progress=False)


@pytest.mark.parametrize("name", list(params.EXPERIMENTS))
def test_experiment_reproduces_committed_results(rerun, name):
    committed = load(name, RESULTS_DIR)
    rows = compare(committed, rerun[name])
    assert rows, f"{name} compares no metrics"
    assert all(r["ok"] for r in rows), "\n" + format_comparison(name, rows)


def test_committed_results_fit_the_time_budget():
    walls = {name: load(name, RESULTS_DIR)["provenance"]["wall_seconds"] for name in params.EXPERIMENTS}
    assert sum(walls.values()) <= FULL_REPRODUCTION_BUDGET_SECONDS, walls


def test_rerun_fits_the_time_budget(rerun):
    walls = {name: res["provenance"]["wall_seconds"] for name, res in rerun.items()}
    assert sum(walls.values()) <= FULL_REPRODUCTION_BUDGET_SECONDS * RERUN_ALLOWANCE, walls


def test_committed_results_match_their_parameters_and_notebooks():
    from grubook.runner import notebook_defaults
    from grubook.results import EXPERIMENTS_DIR

    for name in params.EXPERIMENTS:
        committed = load(name, RESULTS_DIR)
        defaults = {k: v for k, v in notebook_defaults(EXPERIMENTS_DIR / f"{name}.md").items() if k != "results_dir"}
        assert committed["parameters"] == json.loads(json.dumps(defaults)), name
        assert (RESULTS_DIR / f"{name}.ipynb").is_file(), f"executed notebook of {name} is not committed"
