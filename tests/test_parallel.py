"""The Dask fan-out: order, exclusivity, failures that name their job, loopback only, one thread."""

import subprocess
import sys
import time

import cloudpickle
import pytest

from grubook.jobs.cluster import local_cluster
from grubook.jobs.run import Job, JobFailed, preferred_workers, run_jobs

pytestmark = pytest.mark.slow

# Workers cannot import this test module: send its functions along by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def interval(label, seconds):
    start = time.time()
    time.sleep(seconds)
    return {"label": label, "start": start, "end": time.time()}


def boom(message):
    raise ValueError(message)


@pytest.fixture(scope="module")
def cluster():
    with local_cluster(2) as address:
        yield address


def test_outputs_come_back_by_key_in_the_order_given(cluster):
    jobs = [Job(f"u{i}", interval, {"label": i, "seconds": 0.05 * (5 - i)}) for i in range(5)]
    done, execution = run_jobs("demo", jobs, scheduler=cluster)
    assert list(done) == [f"u{i}" for i in range(5)]
    assert [done[f"u{i}"]["label"] for i in range(5)] == list(range(5))
    assert execution["workers"] == 2 and execution["threads_per_worker"] == 1
    assert set(execution["jobs"]) == set(done) and all(u["host"] for u in execution["jobs"].values())
    assert execution["keras"] == {"backend": "tensorflow", "floatx": "float32"}


def test_exclusive_jobs_run_alone(cluster):
    shared = [Job(f"s{i}", interval, {"label": f"s{i}", "seconds": 0.3}) for i in range(4)]
    alone = [Job(f"x{i}", interval, {"label": f"x{i}", "seconds": 0.3}, exclusive=True) for i in range(3)]
    done, execution = run_jobs("demo", alone[:1] + shared + alone[1:], scheduler=cluster)
    assert {name for name, j in execution["jobs"].items() if j.get("exclusive")} == {u.name for u in alone}
    assert all(0 <= j["others_cpu"]["others"] <= 1 for j in execution["jobs"].values())
    for x in (done[u.name] for u in alone):
        others = [done[u.name] for u in shared + alone if done[u.name] is not x]
        assert all(o["end"] <= x["start"] or o["start"] >= x["end"] for o in others), x["label"]
    # The shared ones did run side by side on the two workers.
    s = [done[u.name] for u in shared]
    assert any(a["start"] < b["end"] and b["start"] < a["end"] for a in s for b in s if a is not b)


def test_jobs_that_share_an_affinity_run_on_one_worker(cluster):
    jobs = [Job(f"{group}/seed{seed}", interval, {"label": group, "seconds": 0.1}, affinity=group)
             for seed in range(3) for group in ("GRU/T50", "LSTM/T50", "GRU/T400")]
    _, execution = run_jobs("demo", jobs, scheduler=cluster)
    for group in ("GRU/T50", "LSTM/T50", "GRU/T400"):
        assert len({execution["jobs"][f"{group}/seed{s}"]["worker"] for s in range(3)}) == 1, group
    assert len({u["worker"] for u in execution["jobs"].values()}) == 2


def test_affinity_groups_are_balanced_by_cost():
    jobs = [Job(f"{g}/{i}", interval, affinity=g, cost=c) for g, c, n in (("a", 5, 1), ("b", 2, 2), ("c", 3, 1),
                                                                           ("d", 3, 1)) for i in range(n)]
    jobs.append(Job("free", interval))
    chosen = preferred_workers(jobs, ["w1", "w2"])
    assert "free" not in chosen and chosen["b/0"] == chosen["b/1"]
    load = {w: sum(u.cost for u in jobs if chosen.get(u.name) == w) for w in ("w1", "w2")}
    assert sorted(load.values()) == [7, 8]                     # 15 in all: as even as whole groups allow


def test_jobs_without_affinity_go_to_whichever_worker_is_free_longest_first(cluster):
    # One long job and eight short ones: handed out as workers free up, the long one runs alone
    # on one worker while the other takes all the short ones (spread by count, each worker would
    # get some short ones). The long job outlasts the eight short ones by 2.2 s, room for a
    # round trip of up to a quarter second per short job on a slow or busy machine.
    jobs = [Job(f"short{i}", interval, {"label": i, "seconds": 0.1}, cost=0.1) for i in range(8)]
    jobs.append(Job("long", interval, {"label": "long", "seconds": 3.0}, cost=3.0))
    done, execution = run_jobs("demo", jobs, scheduler=cluster)
    long_worker = execution["jobs"]["long"]["worker"]
    assert all(execution["jobs"][f"short{i}"]["worker"] != long_worker for i in range(8))
    # handed out first: it was running before any short job had finished
    assert done["long"]["start"] < min(done[f"short{i}"]["end"] for i in range(8))


def test_a_job_that_raises_names_the_experiment_and_the_job(cluster):
    jobs = [Job("fine", interval, {"label": 0, "seconds": 0.0}), Job("GRU/T400/seed2", boom, {"message": "diverged"})]
    with pytest.raises(JobFailed, match=r"long_range: job 'GRU/T400/seed2' failed: ValueError: diverged"):
        run_jobs("long_range", jobs, scheduler=cluster)


def test_duplicate_job_names_are_refused_before_any_work():
    with pytest.raises(ValueError, match="unique"):
        run_jobs("demo", [Job("a", interval, {}), Job("a", interval, {})], scheduler="tcp://0.0.0.0:1")


def test_the_local_cluster_listens_on_loopback_only_and_leaves_no_process():
    import psutil

    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    with local_cluster(2) as address:
        assert address.startswith("tls://127.0.0.1:")          # TLS with the run's own certificate
        workers = [p for p in me.children(recursive=True) if p.pid not in before]
        assert len(workers) >= 2
        listening = [c.laddr for proc in [me, *workers] for c in proc.net_connections(kind="inet")
                     if c.status == psutil.CONN_LISTEN]
        assert listening and all(addr.ip == "127.0.0.1" for addr in listening), listening
    time.sleep(1)
    # Python's multiprocessing resource tracker is shared by the whole process and outlives the cluster.
    alive = [p for p in workers if p.is_running() and p.status() != psutil.STATUS_ZOMBIE
             and not any("multiprocessing.resource_tracker" in part for part in p.cmdline())]
    assert not alive, alive


def spin(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass
    return {}


def test_a_job_records_how_much_of_the_machine_other_processes_took_while_it_ran():
    """A job that only sleeps, while another process burns one core of the machine: the record says
    others took about one core's share more than when the same job runs alone, and a job that burns
    a core itself records no more than the one alone (its own CPU time is not "others"). Time the
    hypervisor stole is left out of the comparison: it lands on whichever process ran."""
    import os

    cores = os.cpu_count()
    others = lambda run: run["jobs"]["a"]["others_cpu"]["others"] - run["jobs"]["a"]["others_cpu"]["steal"]
    run_jobs("demo", [Job("a", interval, {"label": 0, "seconds": 0})], scheduler="serial")   # imports done
    _, quiet = run_jobs("demo", [Job("a", interval, {"label": 1, "seconds": 2})], scheduler="serial")
    _, own = run_jobs("demo", [Job("a", spin, {"seconds": 2})], scheduler="serial")
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        _, busy = run_jobs("demo", [Job("a", interval, {"label": 2, "seconds": 2})], scheduler="serial")
    finally:
        burner.kill(), burner.wait()
    found = {"busy": others(busy), "quiet": others(quiet), "own": others(own)}
    # Differences, so that whatever else this machine runs during the test cancels out.
    assert found["busy"] - found["quiet"] == pytest.approx(1 / cores, abs=0.35 / cores), found
    assert found["own"] < found["quiet"] + 0.25 / cores, found
    assert 0 <= busy["jobs"]["a"]["others_cpu"]["steal"] <= busy["jobs"]["a"]["others_cpu"]["others"]


def test_serial_mode_runs_in_this_process():
    done, execution = run_jobs("demo", [Job("a", interval, {"label": 1, "seconds": 0})], scheduler="serial")
    assert done["a"]["label"] == 1 and execution["scheduler"] == "serial"


@pytest.mark.parametrize("code,message", [
    ("from grubook.jobs.cluster import pin_threads\npin_threads()",
     "started without OMP_NUM_THREADS=1, OPENBLAS_NUM_THREADS=1, MKL_NUM_THREADS=1, TF_NUM_INTRAOP_THREADS=1, "
     "TF_NUM_INTEROP_THREADS=1; start workers with `python -m grubook worker SCHEDULER_ADDRESS`"),
    ("import os\nfrom grubook.jobs.cluster import SINGLE_THREAD_ENV, pin_threads\nos.environ.update(SINGLE_THREAD_ENV)\n"
     "import tensorflow as tf\ntf.config.threading.set_intra_op_parallelism_threads(2)\ntf.constant(1.0) + 1.0\n"
     "pin_threads()", "already runs with (intra, inter)"),
], ids=["started-without-the-variables", "tensorflow-already-threaded"])
def test_a_worker_that_could_give_other_numbers_is_refused(code, message):
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3", "HOME": "/tmp"})
    assert proc.returncode != 0
    assert message in proc.stderr, proc.stderr[-2000:]
