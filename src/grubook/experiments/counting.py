"""Counting (aⁿbⁿ): trained on n ≤ 20, how far does each cell recognise the language? Weiss et al.
(2018) expect the LSTM, which can count in its memory cell, to reach further than the GRU."""

from __future__ import annotations

from ..jobs.run import Job
from ..training import runs
from . import common
from .spec import BUDGET, CELLS, SEEDS, Assembly, Parameter, int_at_least, number_in

PARAMETERS = {
    "seeds": Parameter(list(range(10)), SEEDS, quick=[0], note="counting generalises unevenly from seed to seed: ten of them"),
    "cells": Parameter(["SimpleRNN", "LSTM", "GRU"], CELLS),
    "param_budget": Parameter(400, BUDGET, note="recurrent-layer parameters per cell (9 LSTM, 10 GRU, 19 SimpleRNN units)"),
    "train_max_n": Parameter(20, int_at_least(1, 10_000), quick=4, note="trained on n = 1 ... 20 (strings of up to 40 symbols)"),
    "test_max_n": Parameter(100, int_at_least(1, 10_000), quick=8, note="tested on n = 1 ... 100 (up to 200 symbols)"),
    "steps": Parameter(1000, int_at_least(1, 10**6), quick=20, note="full-batch training steps"),
    "learning_rate": Parameter(0.01, number_in(0, 1, low_open=True)),
}


def cross_check(P):
    if P["test_max_n"] <= P["train_max_n"]:
        return "test_max_n", P["test_max_n"], f"larger than train_max_n ({P['train_max_n']})"
    return None


def counting_job(cell: str, seed: int, *, run_args: dict) -> dict:
    """One aⁿbⁿ counting run (``runs.counting_run``)."""
    return runs.counting_run(cell, seed, **run_args)


def plan(P):
    run_args = {k: P[k] for k in ("param_budget", "train_max_n", "test_max_n", "steps", "learning_rate")}
    return [Job(f"{cell}/seed{seed}", counting_job, {"cell": cell, "seed": seed, "run_args": run_args},
                cost=P["steps"] * common.STEP_COST.get(cell, 2.0))
            for seed in P["seeds"] for cell in P["cells"]]


PER_RUN = ("generalises_to", "train_recognised", "beyond_training_recognised")
SCHEMA = {q: "{cell}." + q for q in PER_RUN + ("units", "params")}
TOLERANCES = {"generalises_to": {"abs": 5}, "train_recognised": {"abs": 0.2}, "beyond_training_recognised": {"abs": 0.1},
              "units": {"abs": 0}, "params": {"abs": 0}}


def assemble(done, P) -> Assembly:
    out = Assembly(SCHEMA, P["seeds"])
    recognised = {}
    for seed in P["seeds"]:
        for cell in P["cells"]:
            run = done[f"{cell}/seed{seed}"]
            for quantity in PER_RUN:
                out.seed(seed, quantity, run[quantity], cell=cell)
            recognised[f"{cell}.seed{seed}"] = run["recognised"]
            out.metric("units", run["units"], cell=cell)
            out.metric("params", run["params"], cell=cell)
    out.data = {"recognised": recognised}
    return out


def comparisons(res, drift=None) -> dict:
    """The comparisons this page draws (and the claims audit reuses), by short name."""
    from ..verdicts import stats
    from ..verdicts.decide import decide

    if not {"LSTM", "GRU"} <= set(res.parameters["cells"]):
        return {}
    iv = stats.paired_difference(res.per_seed("generalises_to", cell="LSTM"), res.per_seed("generalises_to", cell="GRU"))
    return {"LSTM − GRU": decide("aⁿbⁿ: longest n recognised, LSTM − GRU", iv, key="counting: reach LSTM − GRU",
                                 direction="above", fmt=".1f", covers=f"{iv['n']} seeds", drift=drift)}


def findings(res, drift=None) -> str:
    P = res.parameters
    cells = P["cells"]
    text = (f"**Findings.** Trained on n ≤ {P['train_max_n']}, every string up to n = "
            + ", ".join(f"{res.mean('generalises_to', cell=c):.1f} ({c})" for c in cells)
            + f" was recognised on average over {len(res.seeds)} seeds; the training strings themselves were "
            "recognised at rates " + ", ".join(f"{res.mean('train_recognised', cell=c):.2f} ({c})" for c in cells) + ".")
    c = comparisons(res, drift).get("LSTM − GRU")
    if c is not None:
        text += f" The LSTM's reach is {c.relation()} the GRU's ({c.interval()}, paired 95 % interval over seeds)."
    return text
