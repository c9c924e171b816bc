"""The article's equations as a Keras layer (``grubook.gru.keras_cell.ArticleGRUCell``): equal to
Keras' GRU and to the NumPy reference, with the same gradients, and trained side by side."""

from __future__ import annotations

import numpy as np

from ..jobs.run import Job
from ..training import runs
from .spec import BATCH, SEEDS, UNITS, Assembly, Parameter, int_at_least, number_in

PARAMETERS = {
    "seeds": Parameter([0, 1, 2, 3, 4], SEEDS, quick=[0]),
    "T": Parameter(50, int_at_least(2, 100_000), quick=10, note="adding-problem length"),
    "units": Parameter(32, UNITS, quick=8, note="hidden units of both layers"),
    "steps": Parameter(200, int_at_least(1, 10**6), quick=12, note="training steps (one batch each)"),
    "batch_size": Parameter(64, BATCH),
    "learning_rate": Parameter(0.01, number_in(0, 1, low_open=True)),
    "eval_every": Parameter(25, int_at_least(1, 10**6), quick=6, note="steps between test-MSE evaluations"),
    "test_size": Parameter(500, int_at_least(10, 10**6), quick=50),
}


def article_layer_job(seed: int, *, run_args: dict) -> dict:
    """The article's cell against Keras' GRU: the equivalence errors on a random input
    (``equivalence.article_cell_equivalence``), then both trained side by side (``runs.article_layer_run``)."""
    from ..gru.equivalence import article_cell_equivalence

    proof = article_cell_equivalence(seed=seed)
    run = runs.article_layer_run(seed, **run_args)
    ratios = np.asarray(run.pop("log_step_time_ratios"))
    curve = run["curve"]
    return {"equivalence": {k: proof[k] for k in ("vs_reference", "vs_keras", "gradient_vs_bptt")},
            "initial_output_gap": run["initial_output_gap"],
            "final_test_mse": {"builtin": curve["builtin"][-1], "article": curve["article"][-1]},
            "step_time_ratio": float(np.exp(ratios.mean())), "curve": curve,
            "size": {"units": run["units"], "params": run["params"]}}


def plan(P):
    run_args = {k: P[k] for k in ("T", "units", "steps", "batch_size", "learning_rate", "eval_every", "test_size")}
    # Not exclusive: the time ratio is taken within one process, step by step, with the two models
    # alternating, so a job on the other core slows both sides alike. Not cached: it times steps.
    return [Job(f"seed{seed}", article_layer_job, {"seed": seed, "run_args": run_args}, cacheable=False)
            for seed in P["seeds"]]


CHECKS = ("vs_reference", "vs_keras", "gradient_vs_bptt")
SCHEMA = {"equivalence": "equivalence.{check}", "initial_output_gap": "initial_output_gap",
          "final_test_mse": "{layer}.final_test_mse", "step_time_ratio": "article_over_builtin.step_time",
          "units": "units", "params": "params"}
# The step-time ratio is a property of the CPU: held to its tolerance only on the same machine.
MACHINE_BOUND = ("step_time_ratio",)
# The equivalence errors are float32 rounding (about 1e-7); CI accepts any value below the
# contract of 1e-5, which a wrong equation exceeds by orders of magnitude.
TOLERANCES = {"equivalence": {"abs": 1e-5}, "initial_output_gap": {"abs": 1e-5}, "final_test_mse": {"rel": 1.0},
              "step_time_ratio": {"rel": 0.25}, "units": {"abs": 0}, "params": {"abs": 0}}


def assemble(done, P) -> Assembly:
    out = Assembly(SCHEMA, P["seeds"])
    for seed in P["seeds"]:
        run = done[f"seed{seed}"]
        for check in CHECKS:
            out.seed(seed, "equivalence", run["equivalence"][check], check=check)
        out.seed(seed, "initial_output_gap", run["initial_output_gap"])
        for layer in ("builtin", "article"):
            out.seed(seed, "final_test_mse", run["final_test_mse"][layer], layer=layer)
        out.seed(seed, "step_time_ratio", run["step_time_ratio"])
    size = done[f"seed{P['seeds'][0]}"]["size"]
    out.metric("units", size["units"])
    out.metric("params", size["params"])
    out.data = {"curves": {f"seed{seed}": done[f"seed{seed}"]["curve"] for seed in P["seeds"]}}
    return out


def step_time(res):
    """The article's step time over the built-in one: geometric mean over seeds with a 95 %
    interval, or None with one seed."""
    from ..verdicts import stats

    iv = stats.t_interval(np.log(res.per_seed("step_time_ratio")))
    return stats.Interval(*(float(np.exp(v)) for v in (iv.estimate, iv.low, iv.high)), iv["n"]) if iv["n"] > 1 else None


def comparisons(res, drift=None) -> dict:
    """The comparisons this page draws (and at_work reuses), by short name."""
    from ..verdicts import stats
    from ..verdicts.decide import decide

    iv = stats.paired_difference(res.per_seed("final_test_mse", layer="article"),
                                 res.per_seed("final_test_mse", layer="builtin"))
    return {"article − built-in": decide("final test MSE, article − built-in", iv,
                                         key="article_layer: final test MSE article − built-in", direction="above",
                                         fmt=".4f", covers=f"{iv['n']} seeds", drift=drift)}


def findings(res, drift=None) -> str:
    P = res.parameters
    worst = {k: max(res.per_seed("equivalence", check=k)) for k in CHECKS}
    mse = comparisons(res, drift)["article − built-in"]
    ending = f"the article's cell's test MSE is {mse.relation()} the built-in layer's"
    speed = step_time(res)
    return (f"**Findings.** On {len(res.seeds)} random inputs (one per seed) the article's cell differed from the NumPy "
            f"reference by at most {worst['vs_reference']:.1e} and from Keras' `GRU(reset_after=False)` by at most "
            f"{worst['vs_keras']:.1e}; its gradients differed from the reference backpropagation by at most "
            f"{worst['gradient_vs_bptt']:.1e} of the largest gradient. Those are float32 rounding errors: the layer "
            "computes the article's equations. Trained side by side from the same weights, the two layers' test MSE "
            f"after {P['steps']} steps differs by {mse.interval()} (article − built-in, paired 95 % interval over "
            f"seeds): {ending}. Rounding differences grow during training, so the curves part slightly once the loss "
            "drops, but neither layer learns differently. "
            + (f"A training step of the article's cell took {speed.estimate:.2f} times as long as the built-in layer's "
               f"[{speed.low:.2f}, {speed.high:.2f}] (geometric mean over seeds, steps interleaved, XLA-compiled, one "
               "thread per worker)." if speed else ""))
