"""Chrono initialisation (Tallec & Ollivier 2018): does setting the GRU's update-gate bias for
dependencies of up to T steps speed up learning the adding problem at T = 400?"""

from __future__ import annotations

from ..jobs.run import Job
from ..training import runs
from .spec import BATCH, BUDGET, SEEDS, Assembly, Parameter, int_at_least, number_in

INITS = ("default", "chrono")

PARAMETERS = {
    "seeds": Parameter([5, 6, 7, 8, 9], SEEDS, quick=[0], note="not long_range's seeds 0-4: the default arm is fresh evidence too"),
    "length": Parameter(400, int_at_least(3, 100_000), quick=20, note="T, and T_max of the chrono initialisation"),
    "param_budget": Parameter(3500, BUDGET, note="as in long_range (29 GRU units)"),
    "max_steps": Parameter(2000, int_at_least(1, 10**7), quick=40, note="step cap"),
    "batch_size": Parameter(64, BATCH),
    "learning_rate": Parameter(0.01, number_in(0, 1, low_open=True)),
    "clipnorm": Parameter(1.0, number_in(0, 1e6, low_open=True)),
    "eval_every": Parameter(50, int_at_least(1, 10**7), quick=20),
    "threshold": Parameter(0.01, number_in(0, 1, low_open=True), note="solved: test MSE below this (always predicting 1 gives about 0.17)"),
    "test_size": Parameter(500, int_at_least(10, 10**6), quick=50),
}


def chrono_job(init: str, T: int, seed: int, *, run_args: dict) -> dict:
    """One GRU run on the adding problem of length T until solved or the step cap, with the update
    gate's bias at Keras' default (``init="default"``: zero) or chrono-initialised (``"chrono"``)."""
    if init not in INITS:
        raise ValueError(f"init must be 'default' or 'chrono', got {init!r}")
    run = runs.adding_run("GRU", T, seed, until_solved=True, chrono=init == "chrono", **run_args)
    return {"solved": float(run["steps_to_threshold"] is not None), "steps_to_solve": run["steps_run"],
            "test_mse": run["test_mse"], "curve": {k: run["curve"][k] for k in ("steps", "test_mse")},
            "size": {"units": run["units"], "params": run["params"]}}


def plan(P):
    run_args = {"param_budget": P["param_budget"], "steps": P["max_steps"]} | {
        k: P[k] for k in ("batch_size", "learning_rate", "clipnorm", "eval_every", "threshold", "test_size")}
    # One worker per initialisation: each reuses its compiled model across seeds.
    return [Job(f"{init}/seed{seed}", chrono_job, {"init": init, "T": P["length"], "seed": seed, "run_args": run_args},
                affinity=f"GRU/T{P['length']}/{init}", cost=P["length"])
            for seed in P["seeds"] for init in INITS]


PER_RUN = ("solved", "steps_to_solve", "test_mse")
SCHEMA = {q: "{init}." + q for q in PER_RUN} | {"units": "units", "params": "params"}
# As in long_range: a re-run on another CPU may round differently and move a solve by an evaluation.
TOLERANCES = {"solved": {"abs": 0.21}, "steps_to_solve": {"rel": 0.08}, "test_mse": {"abs": 0.02},
              "units": {"abs": 0}, "params": {"abs": 0}}


def assemble(done, P) -> Assembly:
    out = Assembly(SCHEMA, P["seeds"])
    curves = {}
    for seed in P["seeds"]:
        for init in INITS:
            run = done[f"{init}/seed{seed}"]
            for quantity in PER_RUN:
                out.seed(seed, quantity, run[quantity], init=init)
            curves[f"{init}.seed{seed}"] = run["curve"]
    size = done[f"default/seed{P['seeds'][0]}"]["size"]
    out.metric("units", size["units"])
    out.metric("params", size["params"])
    out.data = {"curves": curves}
    return out


def comparisons(res, drift=None) -> dict:
    """The comparisons this page draws (and at_work reuses), by short name."""
    from ..verdicts import stats
    from ..verdicts.decide import decide

    iv = stats.paired_difference(res.per_seed("steps_to_solve", init="default"), res.per_seed("steps_to_solve", init="chrono"))
    return {"default − chrono": decide("steps to solve, default − chrono initialisation", iv,
                                       key="chrono: steps to solve default − chrono", direction="above", fmt=".0f",
                                       covers=f"{iv['n']} seeds", drift=drift)}


def findings(res, drift=None) -> str:
    P, n = res.parameters, len(res.seeds)
    solved = {init: res.count("solved", init=init)[0] for init in INITS}
    default, chrono = res.per_seed("steps_to_solve", init="default"), res.per_seed("steps_to_solve", init="chrono")
    c = comparisons(res, drift)["default − chrono"]
    fewer = sum(b < a for a, b in zip(default, chrono))
    censored = 2 * n - sum(solved.values())
    meaning = {"holds": "chrono solves the task in fewer steps", "fails": "chrono does not solve it in fewer steps",
               "undecided": "the interval does not decide which needs fewer steps"}[c.outcome]
    return (f"**Findings.** At T = {P['length']}, the GRU with default initialisation solved the adding problem in "
            f"{solved['default']} of {n} seeds and with chrono initialisation in {solved['chrono']} of {n}, within "
            f"{P['max_steps']} steps. Chrono needed fewer steps on {fewer} of {n} seeds. Default minus chrono steps "
            f"to solve: {c.interval()} (paired 95 % interval over seeds): {meaning}"
            + (f" (borderline: within the measured re-run drift of ±{c['drift']:.0f} steps)" if c.borderline else "")
            + "."
            + (f" {censored} run(s) hit the cap, so their steps are a lower bound and the difference is censored."
               if censored else "")
            + f" Steps are counted in evaluations every {P['eval_every']} steps, so smaller differences are not resolved.")
