"""seed_example's order control (issue 17): every training seed reads its own shuffled orders, a bad
number of orders is refused before any work, and the score that explains why some orders serve the
GRU better counts what its last steps read."""

import math
import subprocess
import sys

import numpy as np
import pytest

from grubook.data import tasks
from grubook.experiments import seed_example, spec
from grubook.experiments import seed_example_order as order


def shuffled_jobs(P):
    return [job for job in seed_example.plan(P) if job.name.startswith("GRU_shuffled")]


def test_every_seed_and_k_reads_its_own_order():
    P = spec.defaults("seed_example")
    jobs = shuffled_jobs(P)
    assert len(jobs) == len(P["seeds"]) * P["permutations"] >= 10
    permutation_seeds = [job.kwargs["data"][2] for job in jobs]
    assert len(set(permutation_seeds)) == len(jobs)
    orders = {tuple(tasks.time_order(20, s)) for s in permutation_seeds}
    assert len(orders) == len(jobs)                       # distinct seeds give distinct orders too


def test_permutation_seeds_never_collide():
    seeds, ks = range(50), range(1000)                   # up to the parameter's largest value
    found = {seed_example.permutation_seed(s, k) for s in seeds for k in ks}
    assert len(found) == len(seeds) * len(ks)
    assert seed_example.permutation_seed(0, 0) == 100    # seed 0's first order is the one used before


def test_permute_time_reads_the_steps_in_time_order():
    split = tasks.with_validation(tasks.seed_example_split(), 0.2)
    shuffled = tasks.permute_time(split, seed=1234)
    o = tasks.time_order(split.time, 1234)
    for part in ("x_train", "x_val", "x_test"):
        assert np.array_equal(getattr(shuffled, part), getattr(split, part)[:, o])


def fake_run(accuracy):
    return {"train_accuracy": accuracy, "test_accuracy": accuracy, "epochs_run": 10, "validation_accuracy": accuracy,
            "params": 1, "sizes": {"train": 640, "validation": 160, "test": 200, "steps": 20}}


def test_assembly_keeps_every_order_and_its_accuracy():
    P = spec.defaults("seed_example") | {"seeds": [3, 7], "permutations": 3}
    done = {job.name: ({"logistic_regression": 0.8, "mlp": 0.8} if job.name.startswith("baselines") else
                       fake_run(0.5 + 0.01 * i)) for i, job in enumerate(seed_example.plan(P))}
    out = seed_example.assemble(done, P)
    runs = out.data["order_control"]
    assert [(r["seed"], r["k"]) for r in runs] == [(s, k) for s in (3, 7) for k in range(3)]
    for r in runs:
        assert r["order"] == tasks.time_order(20, seed_example.permutation_seed(r["seed"], r["k"])).tolist()
        assert r["test_accuracy"] == done[f"GRU_shuffled{r['k']}/seed{r['seed']}"]["test_accuracy"]
    # The control's per-seed value is the mean over that seed's orders.
    mean = np.mean([r["test_accuracy"] for r in runs if r["seed"] == 7])
    assert out.per_seed[7]["GRU_shuffled_order.test_accuracy"] == pytest.approx(mean)


@pytest.mark.parametrize("bad", [0, -1, 1001, 2.0, "2", None])
def test_a_bad_number_of_orders_is_refused(bad):
    with pytest.raises(spec.ParameterError, match=r"^seed_example: parameter 'permutations' must be an integer in "
                                                   r"\[1, 1000\], got .*$"):
        spec.validate("seed_example", spec.defaults("seed_example") | {"permutations": bad})


def test_the_command_line_refuses_a_bad_number_of_orders_with_one_line_before_work(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "grubook", "reproduce", "seed_example", "--set", "permutations=0",
                           "--results-dir", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "'permutations' must be an integer in [1, 1000], got 0" in lines[0], lines
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- the order score


WEIGHTS = np.array([0.0, 0.1, 0.0, 0.9, 0.0, 0.8, 0.0, 0.7])      # columns 3, 5, 7 carry the signal


def test_an_order_that_reads_the_predictive_columns_last_scores_higher_than_its_reverse():
    last = [0, 2, 4, 6, 1, 7, 5, 3]
    first = last[::-1]
    assert order.last_steps_share(last, WEIGHTS) == pytest.approx(2.4 / 2.5)
    assert order.last_steps_share(first, WEIGHTS) == pytest.approx(0.0)
    assert order.mean_position(last, WEIGHTS) > order.mean_position(first, WEIGHTS)
    assert order.share_rank(last, WEIGHTS) > 0.95 and order.share_rank(first, WEIGHTS) < 0.2


def test_share_rank_counts_all_orders_exactly():
    weights = np.array([1.0, 2.0, 3.0, 4.0])
    # Last 3 steps: the 4 subsets of 3 columns sum to 6, 7, 8, 9; order [3, 0, 1, 2] reads 0, 1, 2 last (6).
    assert order.share_rank([3, 0, 1, 2], weights) == pytest.approx(0.5 / 4)
    assert order.share_rank([0, 1, 2, 3], weights) == pytest.approx(3.5 / 4)


def test_column_weights_are_absolute_correlations_with_the_label():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    x = np.stack([y + 0.0, -(y + 0.0), rng.normal(size=500), y + rng.normal(size=500)], axis=1)[:, :, None]
    w = order.column_weights(x, y)
    assert w[0] == pytest.approx(1.0) and w[1] == pytest.approx(1.0)
    assert w[2] < 0.15 and 0.3 < w[3] < 0.7


def test_rank_correlation_and_its_interval():
    x = np.arange(12.0)
    perfect = order.rank_correlation(x, 2 * x + 1)
    assert perfect.estimate == 1.0
    noisy = order.rank_correlation(x, x + np.random.default_rng(1).normal(0, 3, 12))
    assert -1 < noisy.low < noisy.estimate < noisy.high < 1
    too_few = order.rank_correlation([1, 2, 3], [3, 2, 1])
    assert math.isnan(too_few.estimate) and (too_few.low, too_few.high) == (-1.0, 1.0)
    assert math.isnan(order.rank_correlation(x, np.ones(12)).estimate)
