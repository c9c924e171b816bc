"""The Dask fan-out: order, exclusivity, failures that name their unit, loopback only, one thread."""

import subprocess
import sys
import time

import cloudpickle
import pytest

from grubook import parallel
from grubook.parallel import Unit, UnitFailed

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
    with parallel.local_cluster(2) as address:
        yield address


def test_outputs_come_back_by_key_in_the_order_given(cluster):
    units = [Unit(f"u{i}", interval, {"label": i, "seconds": 0.05 * (5 - i)}) for i in range(5)]
    done, execution = parallel.run_units("demo", units, scheduler=cluster)
    assert list(done) == [f"u{i}" for i in range(5)]
    assert [done[f"u{i}"]["label"] for i in range(5)] == list(range(5))
    assert execution["workers"] == 2 and execution["threads_per_worker"] == 1
    assert set(execution["units"]) == set(done) and all(u["host"] for u in execution["units"].values())
    assert execution["keras"] == {"backend": "tensorflow", "floatx": "float32"}


def test_exclusive_units_run_alone(cluster):
    shared = [Unit(f"s{i}", interval, {"label": f"s{i}", "seconds": 0.3}) for i in range(4)]
    alone = [Unit(f"x{i}", interval, {"label": f"x{i}", "seconds": 0.3}, exclusive=True) for i in range(3)]
    done, _ = parallel.run_units("demo", alone[:1] + shared + alone[1:], scheduler=cluster)
    for x in (done[u.key] for u in alone):
        others = [done[u.key] for u in shared + alone if done[u.key] is not x]
        assert all(o["end"] <= x["start"] or o["start"] >= x["end"] for o in others), x["label"]
    # The shared ones did run side by side on the two workers.
    s = [done[u.key] for u in shared]
    assert any(a["start"] < b["end"] and b["start"] < a["end"] for a in s for b in s if a is not b)


def test_units_that_share_an_affinity_run_on_one_worker(cluster):
    units = [Unit(f"{group}/seed{seed}", interval, {"label": group, "seconds": 0.1}, affinity=group)
             for seed in range(3) for group in ("GRU/T50", "LSTM/T50", "GRU/T400")]
    _, execution = parallel.run_units("demo", units, scheduler=cluster)
    for group in ("GRU/T50", "LSTM/T50", "GRU/T400"):
        assert len({execution["units"][f"{group}/seed{s}"]["worker"] for s in range(3)}) == 1, group
    assert len({u["worker"] for u in execution["units"].values()}) == 2


def test_affinity_groups_are_balanced_by_cost():
    units = [Unit(f"{g}/{i}", interval, affinity=g, cost=c) for g, c, n in (("a", 5, 1), ("b", 2, 2), ("c", 3, 1),
                                                                           ("d", 3, 1)) for i in range(n)]
    units.append(Unit("free", interval))
    chosen = parallel.preferred_workers(units, ["w1", "w2"])
    assert "free" not in chosen and chosen["b/0"] == chosen["b/1"]
    load = {w: sum(u.cost for u in units if chosen.get(u.key) == w) for w in ("w1", "w2")}
    assert sorted(load.values()) == [7, 8]                     # 15 in all: as even as whole groups allow


def test_units_without_affinity_go_to_whichever_worker_is_free_longest_first(cluster):
    # One long unit and eight short ones: handed out as workers free up, the long one runs alone
    # on one worker while the other takes all the short ones (spread by count, each worker would
    # get some short ones and one would finish ~0.4 s late).
    units = [Unit(f"short{i}", interval, {"label": i, "seconds": 0.1}, cost=0.1) for i in range(8)]
    units.append(Unit("long", interval, {"label": "long", "seconds": 0.9}, cost=0.9))
    done, execution = parallel.run_units("demo", units, scheduler=cluster)
    long_worker = execution["units"]["long"]["worker"]
    assert all(execution["units"][f"short{i}"]["worker"] != long_worker for i in range(8))
    assert done["long"]["start"] <= min(done[f"short{i}"]["start"] for i in range(8)) + 0.05


def test_a_unit_that_raises_names_the_experiment_and_the_unit(cluster):
    units = [Unit("fine", interval, {"label": 0, "seconds": 0.0}), Unit("GRU/T400/seed2", boom, {"message": "diverged"})]
    with pytest.raises(UnitFailed, match=r"long_range: unit 'GRU/T400/seed2' failed: ValueError: diverged"):
        parallel.run_units("long_range", units, scheduler=cluster)


def test_duplicate_unit_keys_are_refused_before_any_work():
    with pytest.raises(ValueError, match="unique"):
        parallel.run_units("demo", [Unit("a", interval, {}), Unit("a", interval, {})], scheduler="tcp://0.0.0.0:1")


def test_the_local_cluster_listens_on_loopback_only_and_leaves_no_process():
    import psutil

    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    with parallel.local_cluster(2) as address:
        assert address.startswith("tcp://127.0.0.1:")
        workers = [p for p in me.children(recursive=True) if p.pid not in before]
        assert len(workers) >= 2
        listening = [c.laddr for proc in [me, *workers] for c in proc.net_connections(kind="inet")
                     if c.status == psutil.CONN_LISTEN]
        assert listening and all(addr.ip == "127.0.0.1" for addr in listening), listening
    time.sleep(1)
    alive = [p for p in workers if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, alive


def test_serial_mode_runs_in_this_process():
    done, execution = parallel.run_units("demo", [Unit("a", interval, {"label": 1, "seconds": 0})], scheduler="serial")
    assert done["a"]["label"] == 1 and execution["scheduler"] == "serial"


@pytest.mark.parametrize("code,message", [
    ("from grubook.parallel import pin_threads\npin_threads()",
     "started without OMP_NUM_THREADS=1, OPENBLAS_NUM_THREADS=1, MKL_NUM_THREADS=1, TF_NUM_INTRAOP_THREADS=1, "
     "TF_NUM_INTEROP_THREADS=1; start workers with `python -m grubook worker SCHEDULER_ADDRESS`"),
    ("import os\nfrom grubook.parallel import SINGLE_THREAD_ENV, pin_threads\nos.environ.update(SINGLE_THREAD_ENV)\n"
     "import tensorflow as tf\ntf.config.threading.set_intra_op_parallelism_threads(2)\ntf.constant(1.0) + 1.0\n"
     "pin_threads()", "already runs with (intra, inter)"),
], ids=["started-without-the-variables", "tensorflow-already-threaded"])
def test_a_worker_that_could_give_other_numbers_is_refused(code, message):
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3", "HOME": "/tmp"})
    assert proc.returncode != 0
    assert message in proc.stderr, proc.stderr[-2000:]
