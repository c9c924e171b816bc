"""Same machine, same seed: identical numbers, through the whole papermill pipeline, wherever the
jobs run: one local worker, two local workers, or a separately started Dask scheduler with two
worker processes. Every run here has the job cache off, so every job really runs."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from distributed import Client

from grubook.execution.notebooks import reproduce
from grubook.training import forecasting, runs

pytestmark = pytest.mark.slow


def numbers(res):
    """Everything a run computes (per-seed metrics, curves, gradients, gates), nothing about where
    or how fast: wall seconds (``*seconds_to_solve``, recorded but never compared) are left out.
    The experiment's fingerprint (job keys, assembly code, parameters, environment) must agree too."""
    timed = lambda name: name.endswith("seconds_to_solve")
    per_seed = [{"seed": run["seed"], "metrics": {k: v for k, v in run["metrics"].items() if not timed(k)}}
                for run in res["per_seed"]]
    return {"per_seed": per_seed, "aggregates": {k: v for k, v in res["aggregates"].items() if not timed(k)},
            "metrics": res["metrics"], "data": res["data"],
            "fingerprint": res["provenance"]["fingerprint"]["experiment"]}


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """A real `dask scheduler` and two `dask worker` processes on 127.0.0.1, started as subprocesses."""
    folder = tmp_path_factory.mktemp("dask")
    bin_dir = Path(sys.executable).parent
    scheduler_file = folder / "scheduler.json"
    env = os.environ | {"TF_CPP_MIN_LOG_LEVEL": "3"}
    log = open(folder / "dask.log", "w")
    procs = [subprocess.Popen([str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard", "--scheduler-file", str(scheduler_file)],
                              stdout=log, stderr=log, env=env, cwd=folder)]
    deadline = time.time() + 60
    while not scheduler_file.is_file() and time.time() < deadline:
        time.sleep(0.2)
    assert scheduler_file.is_file(), (folder / "dask.log").read_text()
    address = json.loads(scheduler_file.read_text())["address"]
    # `python -m grubook worker` execs `dask worker` with one thread and the thread variables set.
    procs.append(subprocess.Popen([sys.executable, "-m", "grubook", "worker", address, "--nworkers", "2",
                                   "--host", "127.0.0.1"],
                                  stdout=log, stderr=log, env=env, cwd=folder))
    with Client(address, timeout="60s") as client:
        client.wait_for_workers(2, timeout=120)
    yield address
    for proc in reversed(procs):
        proc.terminate()
    for proc in procs:
        proc.wait(timeout=60)
    log.close()


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory):
    folder = tmp_path_factory.mktemp("one-worker")
    return reproduce(["long_range"], quick=True, results_dir=folder, progress=False, workers=1,
                     cache=False)["long_range"]


def test_a_separate_scheduler_with_two_workers_gives_identical_numbers(one_worker, dask_cluster, tmp_path):
    remote = reproduce(["long_range"], quick=True, results_dir=tmp_path, progress=False,
                       scheduler=dask_cluster, cache=False)["long_range"]
    execution = remote["provenance"]["execution"]
    assert execution["scheduler"] == "remote" and execution["workers"] == 2 and execution["threads_per_worker"] == 1
    assert numbers(remote) == numbers(one_worker)


def test_two_workers_and_a_hostile_home_folder_change_no_number_and_nothing_is_written_there(one_worker, tmp_path):
    """Two local workers instead of one, and a home folder with ~/.keras asking for float64, an
    IPython startup file and a matplotlibrc: the numbers are those of the one-worker run, bit for
    bit; none of the files reaches the kernel or the workers, and the run writes nothing there.
    (One run checks both, so the suite trains the same jobs once less.)"""
    home = tmp_path / "home"
    (home / ".keras").mkdir(parents=True)
    (home / ".keras" / "keras.json").write_text('{"floatx": "float64", "epsilon": 1e-3, "backend": "tensorflow"}')
    startup = home / ".ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-hostile.py").write_text("import numpy as np\nnp.random.seed(12345)\n"
                                           f"open({str(tmp_path / 'startup-ran')!r}, 'w').write('ran')\n")
    (home / ".config" / "matplotlib").mkdir(parents=True)
    (home / ".config" / "matplotlib" / "matplotlibrc").write_text("figure.dpi: 17\n")
    before = sorted(str(p.relative_to(home)) for p in home.rglob("*"))
    results = tmp_path / "results"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KERAS", "IPYTHON", "MPL", "JUPYTER", "XDG"))}
    proc = subprocess.run([sys.executable, "-m", "grubook", "reproduce", "long_range", "--quick", "--workers", "2",
                           "--results-dir", str(results), "--no-cache"], env=env | {"HOME": str(home)},
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    from grubook.results.files import load

    hostile = load("long_range", results)
    execution = hostile["provenance"]["execution"]
    assert (execution["scheduler"], execution["workers"], execution["jobs_cached"]) == ("local", 2, 0)
    assert one_worker["provenance"]["execution"]["workers"] == 1
    assert not (tmp_path / "startup-ran").exists(), "an IPython startup file ran inside the experiment kernel"
    assert hostile["provenance"]["keras"]["floatx"] == "float32"
    assert numbers(hostile) == numbers(one_worker)
    assert sorted(str(p.relative_to(home)) for p in home.rglob("*")) == before, "the run wrote into the home folder"
    shutil.rmtree(home)


def test_different_seeds_give_different_training():
    args = dict(param_budget=300, steps=20, batch_size=16, learning_rate=0.01, clipnorm=1.0,
                eval_every=10, threshold=0.01, test_size=50)
    a = runs.adding_run("GRU", 10, 0, **args)["curve"]["test_mse"]
    b = runs.adding_run("GRU", 10, 1, **args)["curve"]["test_mse"]
    c = runs.adding_run("GRU", 10, 0, **args)["curve"]["test_mse"]
    assert a == c and a != b


def test_reusing_a_compiled_model_starts_from_the_same_point_as_a_new_one():
    args = dict(param_budget=500, steps=60, batch_size=32, learning_rate=0.01, clipnorm=1.0,
                eval_every=20, threshold=0.01, test_size=100)
    fresh = runs.adding_run("GRU", 30, 1, compiled=None, **args)["curve"]["test_mse"]
    cache = {}
    runs.adding_run("GRU", 30, 0, compiled=cache, **args)
    reused = runs.adding_run("GRU", 30, 1, compiled=cache, **args)
    assert len(cache) == 1 and next(iter(cache.values()))[0] is reused["model"]   # seed 0's model, reused
    assert reused["curve"]["test_mse"] == fresh                  # bit for bit


def _numbers(out):
    """A run's outputs without its model objects and wall times, arrays as lists."""
    import numpy as np

    drop = {"model", "train_seconds", "x_test", "y_test"}
    return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in out.items() if k not in drop}


def _classifier(seed, cache, **regime):
    from grubook.experiments import common

    split = common.make_split(["digits_rows_subset", 96, 64])
    return runs.classifier_run(regime.pop("cell"), split, seed, units=8, batch_size=16, validation="split",
                               compiled=cache, **regime)


REUSED_RUNS = {
    # every kind of run that compiles a Keras model, at toy sizes; the dropout runs check that
    # the seed state of the dropout masks travels with the weights
    "classifier with dropout": lambda seed, cache: _classifier(
        seed, cache, cell="GRU", epochs=3, regime="dropout", dropout=0.5),
    "classifier with recurrent dropout": lambda seed, cache: _classifier(
        seed, cache, cell="LSTM", epochs=4, regime="recurrent_dropout", dropout=0.2),
    # patience 0 stops after the first epoch without a lower validation loss and restores the best
    "classifier with early stopping": lambda seed, cache: _classifier(
        seed, cache, cell="GRU", epochs=60, regime="early_stopping", patience=0, learning_rate=0.05),
    "classifier with weight decay": lambda seed, cache: _classifier(
        seed, cache, cell="SimpleRNN", epochs=3, regime="weight_decay", weight_decay=0.05),
    "counting": lambda seed, cache: runs.counting_run(
        "LSTM", seed, param_budget=80, train_max_n=4, test_max_n=8, steps=20, learning_rate=0.01, compiled=cache),
    "seq2seq": lambda seed, cache: runs.seq2seq_run(
        "bidirectional", seed, units=8, train_max_len=3, test_max_len=4, steps=15, batch_size=8,
        learning_rate=0.01, test_per_length=10, compiled=cache),
    "char_lm": lambda seed, cache: runs.char_lm_run(
        "GRU", seed, param_budget=300, embedding=4, window=8, steps=10, batch_size=4, learning_rate=0.01,
        temperatures=[1.0], sample_length=10, compiled=cache),
    "forecasting": lambda seed, cache: forecasting.gru_run(
        seed, test_years=60, horizon=11, period=11, lookback=22, units=4, epochs=3, batch_size=16,
        learning_rate=0.003, validation_years=30, patience=2, compiled=cache),
    "explosion": lambda seed, cache: runs.explosion_run(
        "SimpleRNN", 12, seed, param_budget=100, steps=15, batch_size=8, learning_rate=0.05,
        spike_factor=100.0, compiled=cache),
    # its step-time ratios are timings, not results
    "article layer": lambda seed, cache: {k: v for k, v in runs.article_layer_run(
        seed, T=10, units=4, steps=12, batch_size=8, learning_rate=0.01, eval_every=6, test_size=20,
        compiled=cache).items() if k != "log_step_time_ratios"},
}


@pytest.mark.parametrize("kind", list(REUSED_RUNS))
def test_a_run_after_another_of_its_architecture_gives_the_numbers_of_a_run_alone(kind):
    """A Dask worker keeps its compiled models (``loop.compiled``): a run that reuses the model
    another seed trained must give the numbers of the same run compiled afresh, bit for bit, or a
    result would depend on where and after what its job ran."""
    run = REUSED_RUNS[kind]
    alone = _numbers(run(1, None))
    cache = {}
    run(0, cache)
    kept = len(cache)
    after = _numbers(run(1, cache))
    assert kept >= 1 and len(cache) == kept, "the second run compiled a model of its own"
    assert after == alone
    if "early stopping" in kind:
        assert after["epochs_run"] < 60, "the case meant to stop early ran every epoch"
