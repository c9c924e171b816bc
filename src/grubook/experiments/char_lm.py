"""A character-level language model on held-out Python source: SimpleRNN, LSTM and GRU of equal
size against an n-gram baseline, in bits per character."""

from __future__ import annotations

from ..jobs.run import Job
from ..training import runs
from . import common
from .spec import BATCH, BUDGET, CELLS, SEEDS, Assembly, Parameter, int_at_least, list_of, number_in

PARAMETERS = {
    "seeds": Parameter([0, 1, 2], SEEDS, quick=[0]),
    "cells": Parameter(["SimpleRNN", "LSTM", "GRU"], CELLS),
    "param_budget": Parameter(20000, BUDGET, quick=500, note="recurrent-layer parameters per cell"),
    "embedding": Parameter(32, int_at_least(1, 4096), quick=4, note="width of the character embedding"),
    "window": Parameter(64, int_at_least(2, 100_000), quick=8, note="characters per training window (and per scoring window)"),
    "steps": Parameter(500, int_at_least(1, 10**7), quick=5, note="training steps (one batch of windows each)"),
    "batch_size": Parameter(32, BATCH),
    "learning_rate": Parameter(0.005, number_in(0, 1, low_open=True)),
    "temperatures": Parameter([0.5, 1.0], list_of(number_in(0, 100, low_open=True), max_len=10),
                              note="sampling temperatures shown below (first seed only)"),
    "sample_length": Parameter(200, int_at_least(0, 100_000), quick=10, note="characters per sample"),
}


def char_lm_job(cell: str, seed: int, *, run_args: dict) -> dict:
    """One character-level language model (``runs.char_lm_run``)."""
    run = runs.char_lm_run(cell, seed, **run_args)
    return {k: run[k] for k in ("held_out_bpc", "train_bpc", "units", "params", "samples", "corpus")}


def ngram_job() -> dict:
    """The n-gram baseline of the language model (``corpus.best_ngram``): no seed, fitted once."""
    from ..data import corpus

    return corpus.best_ngram(corpus.load_corpus())


def plan(P):
    run_args = {k: P[k] for k in ("param_budget", "embedding", "window", "steps", "batch_size", "learning_rate",
                                  "sample_length")}
    jobs = [Job(f"{cell}/seed{seed}", char_lm_job,
                {"cell": cell, "seed": seed,
                 "run_args": run_args | {"temperatures": P["temperatures"] if seed == P["seeds"][0] else []}},
                cost=P["steps"] * common.STEP_COST.get(cell, 2.0))
            for seed in P["seeds"] for cell in P["cells"]]
    return jobs + [Job("ngram", ngram_job, {}, cost=P["steps"])]


SCHEMA = {"held_out_bpc": "{model}.held_out_bpc", "train_bpc": "{cell}.train_bpc", "ngram_order": "ngram.order",
          "ngram_k": "ngram.k", "corpus_characters": "corpus.characters", "corpus_alphabet": "corpus.alphabet",
          "units": "{cell}.units", "params": "{cell}.params"}
# Bits per character move little between re-runs; the n-gram baseline is exact arithmetic.
TOLERANCES = {"held_out_bpc": lambda model: {"abs": 1e-9} if model == "ngram" else {"abs": 0.05},
              "train_bpc": {"abs": 0.05}} | {q: {"abs": 0} for q in ("ngram_order", "ngram_k", "corpus_characters",
                                                                    "corpus_alphabet", "units", "params")}


def assemble(done, P) -> Assembly:
    out = Assembly(SCHEMA, P["seeds"])
    for seed in P["seeds"]:
        for cell in P["cells"]:
            run = done[f"{cell}/seed{seed}"]
            out.seed(seed, "held_out_bpc", run["held_out_bpc"], model=cell)
            out.seed(seed, "train_bpc", run["train_bpc"], cell=cell)
    ngram = done["ngram"]
    out.metric("held_out_bpc", ngram["held_out_bpc"], model="ngram")
    out.metric("ngram_order", ngram["order"])
    out.metric("ngram_k", ngram["k"])
    first = {cell: done[f"{cell}/seed{P['seeds'][0]}"] for cell in P["cells"]}
    corpus = first[P["cells"][0]]["corpus"]
    out.metric("corpus_characters", corpus["characters"])
    out.metric("corpus_alphabet", corpus["alphabet"])
    for cell, run in first.items():
        out.metric("units", run["units"], cell=cell)
        out.metric("params", run["params"], cell=cell)
    out.data = {"samples": {cell: run["samples"] for cell, run in first.items()}, "corpus": corpus}
    return out


def comparisons(res, drift=None) -> dict:
    """The comparisons this page draws (and the claims audit reuses), by short name ("LSTM − GRU")."""
    from ..verdicts import stats
    from ..verdicts.decide import decide

    cells, out = res.parameters["cells"], {}
    for other in [c for c in ("LSTM", "SimpleRNN") if c in cells and "GRU" in cells]:
        iv = stats.paired_difference(res.per_seed("held_out_bpc", model=other), res.per_seed("held_out_bpc", model="GRU"))
        out[f"{other} − GRU"] = decide(f"char LM: held-out bits per character {other} − GRU", iv,
                                       key=f"char_lm: held-out bpc {other} − GRU", direction="above",
                                       covers=f"{iv['n']} seeds", drift=drift)
    ngram = res.value("held_out_bpc", model="ngram")           # exact: fitted once, no seed
    for cell in cells:
        iv = stats.t_interval([v - ngram for v in res.present("held_out_bpc", model=cell)])
        out[f"{cell} − ngram"] = decide(f"char LM: held-out bits per character {cell} − n-gram", iv,
                                        key=f"char_lm: held-out bpc {cell} − n-gram", direction="below",
                                        covers=f"{iv['n']} seeds", drift=drift)
    # How much better each cell scores its training text than held-out text: a gap below the
    # bits-per-character parity margin means it fits new text as well as what it trained on.
    from ..verdicts.claims import BPC_PARITY_MARGIN

    for cell in cells:
        iv = stats.paired_difference(res.per_seed("held_out_bpc", model=cell), res.per_seed("train_bpc", cell=cell))
        out[f"{cell}: held-out − training"] = decide(
            f"char LM: held-out − training bits per character, {cell}", iv, key=f"char_lm: held-out − training bpc {cell}",
            direction="below", threshold=BPC_PARITY_MARGIN, threshold_name="BPC_PARITY_MARGIN",
            covers=f"{iv['n']} seeds", drift=drift)
    return out


def findings(res, drift=None) -> str:
    import math

    P = res.parameters
    cells = P["cells"]
    bpc = {c: res.mean("held_out_bpc", model=c) for c in cells}
    baseline = res.value("held_out_bpc", model="ngram")
    text = (f"**Findings.** On held-out Python source, at about {P['param_budget']:,} recurrent parameters and "
            f"{P['steps']} training steps, the models reached "
            + ", ".join(f"{bpc[c]:.2f} ({c}, perplexity {2 ** bpc[c]:.2f})" for c in cells)
            + f" bits per character, against {baseline:.2f} (perplexity {2 ** baseline:.2f}) for the "
            f"{res.value('ngram_order')}-gram baseline and "
            f"{math.log2(res.value('corpus_alphabet')):.2f} for a uniform guess.")
    decided = comparisons(res, drift)
    for name, c in ((n, c) for n, c in decided.items() if n.endswith(" − GRU")):
        other = name.split(" − ")[0]
        text += (f" {other} minus GRU: {c.interval()} bits per character (paired 95 % interval over seeds), "
                 + {"holds": "so the GRU is better.", "fails": "so the GRU is not better.",
                    "undecided": "which does not decide between them."}[c.outcome])
    gaps = {c: decided[f"{c}: held-out − training"] for c in cells}
    margin = gaps[cells[0]]["threshold"]
    text += (" Held-out minus training bits per character, against the parity margin of "
             f"{margin:g} bits: " + "; ".join(f"{c} {d.relation()} it ({d.interval()})" for c, d in gaps.items()) + ".")
    if all(d.outcome == "holds" for d in gaps.values()):
        text += (f" Every cell fits new text as well as its training text: after {P['steps']} steps they are still "
                 "underfitting, so the ranking describes this training budget, not the cells trained to convergence.")
    else:
        text += (f" All three trained for the same {P['steps']} steps; the ranking describes that budget, and a "
                 "longer one could change it, which this experiment does not test.")
    against = {c: decided[f"{c} − ngram"] for c in cells}
    text += (" Against the n-gram baseline, each cell's bits per character are "
             + "; ".join(f"{d.relation()} it for the {c} ({d.interval()})" for c, d in against.items())
             + " (cell − n-gram, 95 % interval over seeds).")
    return text
