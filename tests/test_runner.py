"""The papermill runner on Dask: real notebooks, real kernels, real workers. A job that raises, a
worker killed with -9, Ctrl-C and SIGTERM all give an error that names the experiment (and the
job), keep the old results, and leave no process and no staging folder behind.

The runs here never use the job cache (``cache=False``, ``--no-cache``): every job runs, on the
cluster the runner starts."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from grubook.execution.notebooks import LOGS_DIR, RUNS_DIR, ExperimentFailed, reproduce
from grubook.results.files import EXPERIMENTS_DIR, load

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


def napping_job(marker):
    """Notebook code: one job on the cluster that writes its worker's pid to ``marker``, then sleeps."""
    return ("import os, time\nfrom grubook.jobs.run import Job, run_jobs\n"
            "def nap(marker):\n"
            "    open(marker, 'w').write(str(os.getpid()))\n"
            "    time.sleep(300)\n"
            f"run_jobs('seed_example', [Job('nap/seed0', nap, {{'marker': {str(marker)!r}}})])")


def previous_results(tmp_path):
    """A results folder as a run publishes it: only the results JSON (executed notebooks are logs of
    a run and go to its log folder, never into the results folder)."""
    results_dir = tmp_path / "results"
    results_dir.mkdir()
    (results_dir / "seed_example.json").write_text(json.dumps(SENTINEL))
    return results_dir


def assert_untouched(results_dir):
    assert json.loads((results_dir / "seed_example.json").read_text()) == SENTINEL
    assert sorted(p.name for p in results_dir.iterdir()) == ["seed_example.json"]


def start_runner(results_dir, experiments):
    return subprocess.Popen(
        [sys.executable, "-m", "grubook", "reproduce", "seed_example", "--quick", "--workers", "2",
         "--results-dir", str(results_dir), "--experiments-dir", str(experiments), "--no-cache"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        # A terminal delivers Ctrl-C; a shell that started this suite as a background job without
        # job control made SIGINT ignored for every descendant (an ignored signal survives exec).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def wait_for(marker, proc, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline and not marker.is_file():
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    assert marker.is_file(), "the job never started"
    time.sleep(0.5)
    return int(marker.read_text())


def assert_no_process_left(pids):
    time.sleep(1)
    alive = []
    for pid in pids:
        try:
            p = psutil.Process(pid)
            if p.status() != psutil.STATUS_ZOMBIE:
                alive.append((pid, p.name()))
        except psutil.NoSuchProcess:
            pass
    assert not alive, f"processes left running: {alive}"


def assert_no_run_folder_of(pid):
    assert not any(RUNS_DIR.glob(f"run-{pid}-*")), "the run's private folder was left behind"


@pytest.mark.parametrize("body,message", [
    # Writes a partial results file, then fails: nothing of it may be published.
    ("from pathlib import Path\nfrom grubook.results import files\n"
     "files.write_json_atomic(Path(results_dir) / 'seed_example.json', files.make_payload('seed_example', "
     "parameters={}, seeds=[0], schema={}, per_seed=[], tolerances={}))\n"
     "raise RuntimeError('simulated divergence at epoch 3')",
     r"'seed_example' failed: RuntimeError: simulated divergence at epoch 3"),
    # Finishes without writing any results.
    ("x = 1", "without writing seed_example.json"),
    # A job raises on a worker: the error names the experiment and the job.
    ("from grubook.jobs.run import Job, run_jobs\n"
     "def diverge(seed):\n    raise FloatingPointError(f'loss is NaN at step 120 (seed {seed})')\n"
     "run_jobs('seed_example', [Job('GRU/seed2', diverge, {'seed': 2})])",
     r"'seed_example' failed: JobFailed: seed_example: job 'GRU/seed2' failed: FloatingPointError: "
     r"loss is NaN at step 120 \(seed 2\)"),
    # The disk fills up while the notebook writes (/dev/full answers every write with ENOSPC).
    ("with open('/dev/full', 'w') as f:\n    f.write('{}')",
     r"'seed_example' failed: the disk is full: the notebook could not write its results"),
], ids=["fails-after-partial-write", "writes-nothing", "job-raises", "disk-full"])
def test_a_failed_run_names_the_experiment_and_cause_and_keeps_old_results(tmp_path, body, message):
    experiments = failing_copy_of("seed_example", tmp_path, body)
    results_dir = previous_results(tmp_path)
    with pytest.raises(ExperimentFailed, match=message):
        reproduce(["seed_example"], quick=True, results_dir=results_dir, experiments_dir=experiments,
                  progress=False, workers=1, cache=False)
    assert_untouched(results_dir)
    assert_no_run_folder_of(os.getpid())


@pytest.mark.parametrize("how", ["ctrl-c", "ctrl-c-three-times", "sigterm", "kill-9-worker"])
def test_an_interrupted_run_names_the_cause_keeps_old_results_and_leaves_nothing(tmp_path, how):
    marker = tmp_path / "job-started"
    experiments = failing_copy_of("seed_example", tmp_path, napping_job(marker))
    results_dir = previous_results(tmp_path)
    proc = start_runner(results_dir, experiments)
    worker = wait_for(marker, proc)
    started = {p.pid for p in psutil.Process(proc.pid).children(recursive=True)}
    assert worker in started and len(started) >= 3          # kernel, workers (and their nannies)
    if how == "ctrl-c":
        os.killpg(proc.pid, signal.SIGINT)                   # a terminal signals the whole foreground group
    elif how == "ctrl-c-three-times":                        # an impatient user: still one clean message
        for _ in range(3):
            os.killpg(proc.pid, signal.SIGINT)
            time.sleep(0.3)
    elif how == "sigterm":
        proc.send_signal(signal.SIGTERM)                     # `timeout` and CI cancels signal the runner only
    else:
        os.kill(worker, signal.SIGKILL)
    _, err = proc.communicate(timeout=120)
    expected = {"ctrl-c": (130, "interrupted"), "ctrl-c-three-times": (130, "interrupted"), "sigterm": (143, "terminated (SIGTERM)"),
                "kill-9-worker": (1, "job 'nap/seed0' failed: its worker process died")}[how]
    assert proc.returncode == expected[0], err
    assert expected[1] in err and "seed_example" in err and "left untouched" in err, err
    assert "Traceback" not in err, err
    assert_untouched(results_dir)
    assert_no_process_left(started)
    assert_no_run_folder_of(proc.pid)


def test_a_run_killed_with_minus_9_leaves_nothing_outside_its_folder_and_the_next_run_removes_it(tmp_path):
    """Kernel connection files (which hold the kernel's key), worker scratch space and the cluster's
    certificate live in the run's private folder, never in the system's temporary folder; a run killed
    with -9 (or a power cut) leaves only that folder, and the next run removes it."""
    import tempfile

    from grubook.execution import notebooks

    system_tmp = Path(tempfile.gettempdir())
    before = set(system_tmp.iterdir())
    marker = tmp_path / "job-started"
    results_dir = previous_results(tmp_path)
    proc = start_runner(results_dir, failing_copy_of("seed_example", tmp_path, napping_job(marker)))
    everyone = [psutil.Process(proc.pid)]
    try:
        wait_for(marker, proc)
        folder, = RUNS_DIR.glob(f"run-{proc.pid}-*")
        everyone += psutil.Process(proc.pid).children(recursive=True)
        connection = [p for p in folder.rglob("*.json") if '"shell_port"' in p.read_text()]
        assert connection, f"no kernel connection file in the run folder: {sorted(map(str, folder.rglob('*')))}"
        assert (folder / "cluster" / "tls" / "key.pem").is_file() and (folder / "cluster" / "scratch").is_dir()
    finally:
        for p in everyone:                                  # -9 to everything at once, as a power cut would
            with contextlib.suppress(psutil.NoSuchProcess):
                p.kill()
        proc.wait(30)
    assert_no_process_left([p.pid for p in everyone])
    assert_untouched(results_dir)                           # nothing of the killed run reached the results
    new = sorted(p.name for p in set(system_tmp.iterdir()) - before)
    assert not [n for n in new if n.endswith(".json") or "grubook" in n or "dask" in n], new
    assert folder.is_dir()                                  # what -9 leaves...
    notebooks._remove_dead_runs()                           # ...the next run's first step removes
    assert not folder.exists()


def test_the_abandoned_cell_task_of_an_interrupted_run_goes_to_the_log_and_other_orphans_do_not(tmp_path):
    """After SIGTERM stops papermill mid-cell, nbclient's abandoned cell task ends with DeadKernelError
    when the kernel is shut down; asyncio reports it whenever the task is collected (seen in CI after
    the runner's one-line error). Only that report is moved to the log: any other orphan still shows."""
    script = tmp_path / "orphans.py"
    script.write_text(
        "import asyncio, gc\n"
        "from nbclient.exceptions import DeadKernelError\n"
        "from grubook.execution import notebooks as runner\n"
        "runner._report_orphaned_cell_tasks_to_log()\n"
        "async def cell():\n    raise DeadKernelError('Kernel died')\n"
        "async def bug():\n    raise ValueError('a real bug')\n"
        "loop = asyncio.new_event_loop()\n"
        "tasks = [loop.create_task(cell()), loop.create_task(bug())]\n"
        "loop.run_until_complete(asyncio.sleep(0.01))\n"
        "del tasks\n"
        "gc.collect()\n")
    err = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True).stderr
    assert "ValueError: a real bug" in err, err
    assert "DeadKernelError" not in err, err


def test_quick_run_writes_sealed_results_with_provenance_and_clears_leftovers(tmp_path):
    (tmp_path / ".staging-seed_example-old").mkdir()                  # left by a killed older runner
    (tmp_path / ".seed_example.json.x1y2.tmp").write_text("{")         # an atomic write cut short
    published = []
    out = reproduce(["seed_example"], quick=True, results_dir=tmp_path, progress=False, workers=2, cache=False,
                    on_published=lambda name, results: published.append((name, results["seal"])))
    res = load("seed_example", tmp_path)                                # verified: seal and aggregates
    assert res == out["seed_example"]
    assert published == [("seed_example", res["seal"])]                 # told once, with what was published
    prov = res["provenance"]
    assert set(prov) >= {"packages", "cpu", "platform", "wall_seconds", "git_commit", "fingerprint",
                         "keras", "execution"}
    assert prov["packages"]["tensorflow"] and prov["packages"]["dask"] and len(prov["fingerprint"]["experiment"]) == 64
    assert prov["keras"] == {"backend": "tensorflow", "floatx": "float32"}
    execution = prov["execution"]
    assert execution["scheduler"] == "local" and execution["workers"] == 2 and execution["threads_per_worker"] == 1
    jobs = {"SimpleRNN/seed0", "LSTM/seed0", "GRU/seed0", "GRU_shuffled0/seed0", "baselines/seed0"}
    assert set(execution["jobs"]) == jobs and set(prov["fingerprint"]["jobs"]) == jobs
    assert all(u["host"] for u in execution["jobs"].values())
    assert execution["jobs_run"] == 5 and execution["jobs_cached"] == 0
    assert res["parameters"]["epochs"] == 3 and res["seeds"] == [0]
    assert "results_dir" not in res["parameters"] and "scheduler" not in res["parameters"]
    # Only the JSON is published; the executed notebook is a log of the run, in the run's log folder.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seed_example.json"]
    logs = sorted(LOGS_DIR.glob(f"run-*-{os.getpid()}-*/seed_example.ipynb"), key=lambda p: p.stat().st_mtime)
    assert logs, f"no executed notebook in {LOGS_DIR}/run-*-{os.getpid()}-*"
    executed = json.loads(logs[-1].read_text())
    assert any("injected-parameters" in c["metadata"].get("tags", []) for c in executed["cells"])
    assert (logs[-1].parent / "reproduce.log").is_file()
