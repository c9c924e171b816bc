"""Re-run drift: initial weights moved by one ulp (grubook.jobs.perturb), the job runner applying
it without touching the cache, and drift measured per compared quantity from a perturbed rerun."""

import numpy as np
import pytest

from grubook.jobs.cache import JobCache
from grubook.jobs.perturb import PERTURB_ENV, perturb_array, perturbation, perturbed_initial_weights
from grubook.jobs.run import Job, run_jobs


def test_one_ulp_away_from_zero_for_every_float_and_nothing_for_integers():
    x = np.array([1.0, -2.5, 0.0, 3e-30], dtype=np.float32)
    y = perturb_array(x)
    assert y.dtype == np.float32
    assert np.array_equal(np.abs(y) - np.abs(x), np.spacing(np.abs(x)))      # exactly one ulp, away from 0
    assert np.array_equal(np.sign(y[:2]), np.sign(x[:2])) and y[2] > 0
    assert np.array_equal(perturb_array(x, 3), perturb_array(perturb_array(perturb_array(x))))
    ints = np.arange(4)
    assert np.array_equal(perturb_array(ints), ints)


@pytest.mark.parametrize("text,expected", [("", 0), ("0", 0), ("1", 1), ("12", 12)])
def test_the_perturbation_is_read_from_the_environment(monkeypatch, text, expected):
    monkeypatch.setenv(PERTURB_ENV, text)
    assert perturbation() == expected


@pytest.mark.parametrize("text", ["-1", "1.5", "one", "1001"])
def test_a_bad_perturbation_is_refused_in_one_line(monkeypatch, text):
    monkeypatch.setenv(PERTURB_ENV, text)
    with pytest.raises(ValueError, match=f"{PERTURB_ENV} must be a whole number of ulps from 0 to 1000, got '{text}'"):
        perturbation()


def dense_weights(seed: int = 0):
    """A job: the initial weights of a small seeded Keras model (a GRU and a dense head)."""
    import keras

    keras.utils.set_random_seed(seed)           # Orthogonal draws from the global seed too, as grubook's builds do
    model = keras.Sequential([keras.Input((3, 2)),
                              keras.layers.GRU(4, kernel_initializer=keras.initializers.GlorotUniform(seed),
                                               recurrent_initializer=keras.initializers.Orthogonal(seed + 1)),
                              keras.layers.Dense(1, kernel_initializer=keras.initializers.GlorotUniform(seed + 2))])
    return [w.tolist() for w in model.get_weights()]


def test_every_initial_weight_moves_by_one_ulp_and_only_inside_the_block():
    plain = [np.asarray(w, np.float32) for w in dense_weights()]
    with perturbed_initial_weights(1):
        moved = [np.asarray(w, np.float32) for w in dense_weights()]
    again = [np.asarray(w, np.float32) for w in dense_weights()]
    for a, b, c in zip(plain, moved, again):
        assert np.array_equal(a, c)                                   # the patch is gone after the block
        assert np.array_equal(np.abs(b) - np.abs(a), np.spacing(np.abs(a))) or not a.any()
        assert not np.array_equal(a, b)


class RecordingCache(JobCache):
    def __init__(self):
        super().__init__(None)
        self.calls = []

    def __bool__(self):
        return True

    def get(self, key):
        self.calls.append(("get", key))

    def put(self, key, output, **kwargs):
        self.calls.append(("put", key))


def test_a_perturbed_run_neither_reads_nor_writes_the_job_cache(monkeypatch):
    cache = RecordingCache()
    done, record = run_jobs("demo", [Job("w", dense_weights, {})], scheduler="serial", cache=cache, keys={"w": "k"})
    assert cache.calls == [("get", "k"), ("put", "k")] and "perturb_ulp" not in record
    monkeypatch.setenv(PERTURB_ENV, "1")
    cache = RecordingCache()
    moved, record = run_jobs("demo", [Job("w", dense_weights, {})], scheduler="serial", cache=cache, keys={"w": "k"})
    assert cache.calls == [] and record["perturb_ulp"] == 1 and record["jobs_run"] == 1
    a, b = np.asarray(done["w"][0], np.float32), np.asarray(moved["w"][0], np.float32)
    assert np.array_equal(np.abs(b) - np.abs(a), np.spacing(np.abs(a)))


def test_drift_is_the_movement_of_each_compared_quantity(tmp_path):
    """Hand-made committed and perturbed counting results: the drift of "counting: reach LSTM − GRU"
    is how far its interval's bounds moved, and a quantity measured nowhere has no drift."""
    from grubook.verdicts import drift
    from test_claims import counting

    before = {"counting": counting(30, 22)}
    after = {"counting": counting(30.5, 22)}
    moved = drift.measure(before, after)
    m = moved["counting: reach LSTM − GRU"]
    assert m["estimate"] == pytest.approx(0.5) and m["bounds"] == pytest.approx(0.5)
    d = drift.Drift(moved)
    assert d.of("counting: reach LSTM − GRU") == pytest.approx(0.5) and d.of("nowhere") == 0.0


def test_a_quantity_is_measured_when_its_experiment_was_perturbed_even_if_a_claim_reads_others():
    """on_par_with_lstm reads real_sequences, char_lm and long_range; with only long_range perturbed,
    long_range's solve-rate parity is still measured, and nothing of the unperturbed experiments is."""
    from grubook import experiments
    from grubook.results.files import RESULTS_DIR, load
    from grubook.verdicts import drift

    committed = {name: load(name, RESULTS_DIR) for name in experiments.NAMES}
    moved = drift.measure(committed, {"long_range": committed["long_range"]})
    keys = set(moved)
    assert any(k.startswith("long_range: solve rate GRU − LSTM") for k in keys)
    assert all(k.startswith("long_range:") for k in keys)
    assert all(m["bounds"] == 0 for m in moved.values())          # the same results: nothing moved


def test_a_rerun_of_other_code_or_without_perturbation_measures_nothing(tmp_path):
    import shutil

    from grubook.results.files import RESULTS_DIR
    from grubook.verdicts import drift

    shutil.copy(RESULTS_DIR / "counting.json", tmp_path / "counting.json")      # a plain run, not perturbed
    d = drift.measured(RESULTS_DIR, tmp_path)
    assert d.unmatched == ["counting"] and not d.moved


def test_a_results_folder_holding_some_experiments_measures_the_drift_of_those(tmp_path):
    """A copy of the package with only some results (a first reproduce of one experiment) still
    measures drift: of the experiments present, and nothing is asked of the missing ones."""
    import shutil

    from grubook.results.files import RESULTS_DIR
    from grubook.verdicts import drift

    (tmp_path / "none").mkdir()
    d = drift.measured(tmp_path / "none", tmp_path / "none")     # nothing at all: no drift, no error
    assert not d.moved and not d.unmatched
    committed, perturbed = tmp_path / "results", tmp_path / "perturbed"
    committed.mkdir(), perturbed.mkdir()
    shutil.copy(RESULTS_DIR / "counting.json", committed / "counting.json")
    shutil.copy(drift.PERTURBED_RESULTS_DIR / "counting.json", perturbed / "counting.json")
    shutil.copy(drift.PERTURBED_RESULTS_DIR / "forecasting.json", perturbed / "forecasting.json")
    d = drift.measured(committed, perturbed)
    assert d.moved and all(key.startswith("counting:") for key in d.moved)
    assert d.moved == {k: v for k, v in drift.measured().moved.items() if k.startswith("counting:")}


@pytest.mark.parametrize("low,high,drift,direction,outcome,borderline", [
    (0.02, 0.10, 0.03, "above", "holds", True),         # the bound clears 0 by less than the drift
    (0.02, 0.10, 0.01, "above", "holds", False),
    (-0.01, 0.10, 0.02, "above", "undecided", True),     # a re-run could decide it: borderline too
    (-0.30, 0.30, 0.02, "above", "undecided", False),
    (0.0, 0.0, 0.0, "above", "fails", False),            # no drift, never borderline
    (-0.015, 0.015, 0.01, "within", "holds", True),
])
def test_borderline_means_a_re_run_moving_each_bound_by_the_drift_could_change_the_outcome(
        low, high, drift, direction, outcome, borderline):
    from grubook.verdicts.decide import decide

    c = decide("x", {"estimate": (low + high) / 2, "low": low, "high": high, "n": 5}, direction=direction,
               threshold=0.02 if direction == "within" else 0.0, drift=drift)
    assert (c.outcome, c.borderline) == (outcome, borderline)
    assert ("borderline" in c.interval()) == borderline


@pytest.mark.parametrize("low,high,direction,word", [
    (0.1, 0.2, "above", "above"), (-0.2, -0.1, "above", "below"), (-0.2, 0.0, "above", "not above"),
    (-0.2, -0.1, "below", "below"), (0.1, 0.2, "below", "above"), (-0.1, 0.1, "below", "indistinguishable from"),
    (-0.01, 0.01, "within", "on par with"), (0.05, 0.1, "within", "clearly above"),
])
def test_the_relation_word_says_where_the_interval_lies(low, high, direction, word):
    from grubook.verdicts.decide import decide

    c = decide("x", {"estimate": (low + high) / 2, "low": low, "high": high, "n": 5}, direction=direction,
               threshold=0.02 if direction == "within" else 0.0, drift=0)
    assert c.relation() == word


def test_a_comparison_is_borderline_exactly_when_its_drift_reaches_its_tolerance():
    """Decision.clearance (the tolerance a re-run gets: how far the bounds can move before the
    outcome changes) agrees with the corner rule of borderline on random intervals, thresholds,
    directions and drifts."""
    from grubook.verdicts.decide import decide

    rng = np.random.default_rng(0)
    for _ in range(5000):
        low, high = sorted(rng.normal(0, 1, 2))
        direction = str(rng.choice(["above", "below", "within"]))
        threshold = abs(rng.normal(0, 1)) if direction == "within" else rng.normal(0, 1)
        drift = abs(rng.normal(0, 0.5))
        c = decide("x", {"estimate": (low + high) / 2, "low": low, "high": high, "n": 3}, direction=direction,
                   threshold=threshold, drift=drift)
        assert c.clearance() >= 0
        assert c.borderline == (drift >= c.clearance()), (low, high, direction, threshold, drift, c.outcome)


def test_a_re_run_may_change_an_outcome_only_when_borderline_or_timed_on_other_hardware():
    from grubook.verdicts.decide import decide, rerun_may_change

    timing = lambda low, machine, drift=0.0: decide(
        "step time GRU / LSTM", {"estimate": low + 0.1, "low": low, "high": low + 0.2, "n": 10}, direction="below",
        threshold=0.9, kind="ratio", drift=drift, machine=machine)
    committed = timing(1.7, "Intel(R) Xeon(R) Processor (family 6, model 143)")
    assert committed.outcome == "fails" and not committed.borderline
    assert not rerun_may_change(committed, timing(0.8, "Intel(R) Xeon(R) Processor (family 6, model 143)"))
    assert rerun_may_change(committed, timing(0.8, "AMD EPYC 9R14 (family 25, model 17)"))
    assert rerun_may_change(timing(0.95, "x", drift=0.1), timing(0.8, "x"))          # borderline
    learned = lambda low: decide("accuracy GRU − LSTM", {"estimate": low + 0.01, "low": low, "high": low + 0.02,
                                                        "n": 5}, direction="above", drift=0.0)
    assert not rerun_may_change(learned(0.01), learned(-0.05))   # learning is not a property of the machine


def test_each_quantity_takes_the_largest_movement_of_its_reruns(tmp_path):
    """A re-timing ({name}.retimed-2.json) that moved a quantity further than the first rerun sets
    its drift; one that moved it less changes nothing; a re-timing of other code leaves the
    experiment unmatched, as a stale first rerun does."""
    import json
    import shutil

    from grubook.results.files import RESULTS_DIR, aggregate, seal
    from grubook.verdicts import drift

    committed, perturbed = tmp_path / "results", tmp_path / "perturbed"
    committed.mkdir(), perturbed.mkdir()
    shutil.copy(RESULTS_DIR / "counting.json", committed / "counting.json")
    shutil.copy(drift.PERTURBED_RESULTS_DIR / "counting.json", perturbed / "counting.json")
    key = "counting: reach LSTM − GRU"
    first = drift.measured(committed, perturbed).moved[key]

    def retiming(i, shift, fingerprint=None):
        data = json.loads((drift.PERTURBED_RESULTS_DIR / "counting.json").read_text())
        for run in data["per_seed"]:
            name = next(n for n in run["metrics"] if n.startswith("LSTM") and "generalises_to" in n)
            run["metrics"][name] += shift
        data["aggregates"] = aggregate(data["per_seed"])
        if fingerprint:
            data["provenance"]["fingerprint"]["experiment"] = fingerprint
        data["seal"] = seal(data)
        (perturbed / f"counting.retimed-{i}.json").write_text(json.dumps(data, indent=1))

    def measured():
        drift._measured.cache_clear()                            # cached per folder; the folder changed
        return drift.measured(committed, perturbed)

    retiming(2, 0)                                               # moved no further than the first
    assert measured().moved[key] == first
    retiming(3, 7)                                               # the LSTM seven further on every seed
    moved = measured().moved[key]
    assert moved["estimate"] >= 7 - first["estimate"] and moved["bounds"] > first["bounds"]
    assert [p.name for p in drift.retimed_files(perturbed, "counting")] == \
        ["counting.json", "counting.retimed-2.json", "counting.retimed-3.json"]
    retiming(10, 0, fingerprint="0" * 16)                        # of other code: the experiment is unmatched
    assert measured().unmatched == ["counting"]
    drift._measured.cache_clear()


def test_quantities_of_one_drift_pool_take_its_largest_relative_movement():
    """A pool's largest movement relative to its quantity's size, scaled to each member's size,
    replaces a smaller own movement; the member keeps its own; other pools and unpooled quantities
    are untouched; and the pooled drift is what decides borderline."""
    from grubook.verdicts import drift
    from grubook.verdicts.decide import decide

    def ratio(estimate, pool, width=0.1):
        return decide("r", {"estimate": estimate, "low": estimate - width, "high": estimate + width, "n": 10},
                      direction="below", threshold=0.9, kind="ratio", drift=0.0, drift_pool=pool)

    decisions = {"a": ratio(2.0, "step times"), "b": ratio(1.2, "step times"),
                 "c": ratio(1.2, "Keras step times"), "d": ratio(1.2, "")}
    moved = {key: {"estimate": m / 2, "low": m, "high": m / 3, "bounds": m}
             for key, m in (("a", 0.6), ("b", 0.05), ("c", 0.02), ("d", 0.01))}
    out = drift.pooled(moved, decisions)
    assert out["a"] == moved["a"] and out["c"] == moved["c"] and out["d"] == moved["d"]
    assert out["b"]["bounds"] == pytest.approx(0.6 / 2.0 * 1.2) and out["b"]["own"] == 0.05
    assert out["b"]["pooled_from"] == "a" and out["b"]["pool"] == "step times"
    assert moved["b"]["bounds"] == 0.05                                  # the input is not changed
    assert "own" not in drift.pooled({"a": moved["a"]}, {"a": decisions["a"]})["a"]   # never pooled from itself
    b = decisions["b"]                                                   # [1.1, 1.3] below 0.9: fails, clearance 0.2
    assert b.outcome == "fails"
    assert decide("r", b, direction="below", threshold=0.9, drift=drift.Drift(out), key="b").borderline
    assert not decide("r", b, direction="below", threshold=0.9, drift=drift.Drift(moved), key="b").borderline


def test_the_timing_ci_s_re_run_moved_furthest_is_borderline_under_the_committed_drift():
    """CI's full re-runs moved PyTorch's 128-unit, T = 200 GRU/LSTM ratio by 0.40 and 0.43 (its
    clearance 0.38), where the committed re-timings had moved it by at most 0.10: the pooled drift
    must cover that, or CI's verdict check fails on a timing it was never told could move."""
    from grubook.verdicts import drift
    from grubook.verdicts.comparisons import every_comparison
    from grubook.results.files import RESULTS_DIR, load
    from grubook import experiments

    key = "efficiency: torch step time GRU / LSTM at 128 units, T = 200"
    committed = {name: load(name, RESULTS_DIR) for name in experiments.NAMES}
    c = every_comparison(committed)[key]
    from grubook.verdicts.claims import TIMING_POOL

    assert drift.measured().moved[key]["pool"] == TIMING_POOL
    assert c.borderline and c["drift"] >= 0.40 > c.clearance()
