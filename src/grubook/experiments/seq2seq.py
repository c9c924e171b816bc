"""An encoder–decoder (``return_state`` / ``initial_state``) learns to reverse digit strings: a
unidirectional against a bidirectional GRU encoder, and the GRU against the LSTM (unidirectional),
tested on lengths beyond training."""

from __future__ import annotations

from ..jobs.run import Job
from ..training import runs
from . import common
from .spec import BATCH, CELLS, SEEDS, UNITS, Assembly, Parameter, int_at_least, number_in, subset_of

ENCODERS = ("unidirectional", "bidirectional")

PARAMETERS = {
    "seeds": Parameter([0, 1, 2], SEEDS, quick=[0]),
    "encoders": Parameter(list(ENCODERS), subset_of(ENCODERS), note="the GRU's encoders"),
    "cells": Parameter(["GRU", "LSTM"], CELLS, note="cells other than the GRU run the unidirectional encoder only"),
    "units": Parameter(64, UNITS, quick=8, note="the GRU's decoder state (the bidirectional encoder: units // 2 per direction); other cells get as many recurrent parameters"),
    "train_max_len": Parameter(8, int_at_least(1, 1000), quick=3, note="trained on strings of 1 ... 8 digits"),
    "test_max_len": Parameter(10, int_at_least(1, 1000), quick=4, note="tested on 1 ... 10 digits (9 and 10: longer than any trained on)"),
    "steps": Parameter(1000, int_at_least(1, 10**7), quick=10, note="training steps (one batch each)"),
    "batch_size": Parameter(64, BATCH),
    "learning_rate": Parameter(0.005, number_in(0, 1, low_open=True)),
    "test_per_length": Parameter(200, int_at_least(1, 100_000), quick=10, note="test strings per length"),
}


def cross_check(P):
    if "GRU" not in P["cells"]:
        return "cells", P["cells"], "a list that includes 'GRU' (the encoders and every comparison are the GRU's)"
    if "bidirectional" in P["encoders"] and P["units"] % 2:
        return "units", P["units"], "even when the encoder is bidirectional (units // 2 per direction)"
    if P["test_max_len"] < P["train_max_len"]:
        return "test_max_len", P["test_max_len"], f"at least train_max_len ({P['train_max_len']})"
    return None


def arms(P) -> list[tuple[str, str]]:
    """(cell, encoder) of every model trained: the GRU with each encoder, every other cell with the
    unidirectional one (the question for them is the cell, so the encoder stays the plainest)."""
    return ([("GRU", e) for e in P["encoders"]]
            + [(c, "unidirectional") for c in P["cells"] if c != "GRU"])


def seq2seq_job(encoder: str, seed: int, *, run_args: dict, cell: str = "GRU") -> dict:
    """One encoder–decoder trained to reverse digit strings (``runs.seq2seq_run``)."""
    run = runs.seq2seq_run(encoder, seed, cell=cell, **run_args)
    return {"exact_match": run["exact_match"], "params": run["params"]}


def job_name(cell: str, encoder: str, seed: int) -> str:
    # The GRU's jobs keep their names from before the cell was a parameter.
    return f"{encoder}/seed{seed}" if cell == "GRU" else f"{cell}/{encoder}/seed{seed}"


def cell_units(P, cell: str) -> int:
    """Units of ``cell``'s encoder and decoder: the GRU's ``units``; for another cell, the count whose
    recurrent layer has about the GRU's parameters, so that cells are compared at equal size, as in
    every other experiment of the book."""
    from ..gru.reference import count_params
    from ..training import models

    if cell == "GRU":
        return P["units"]
    width = models.SEQ2SEQ_EMBEDDING
    return models.units_for_budget(cell, count_params("GRU", P["units"], width), width)


def plan(P):
    run_args = {k: P[k] for k in ("units", "train_max_len", "test_max_len", "steps", "batch_size", "learning_rate",
                                  "test_per_length")}
    # The GRU's jobs take the arguments they took before the cell was a parameter (cell defaults to GRU).
    return [Job(job_name(cell, encoder, seed), seq2seq_job,
                {"encoder": encoder, "seed": seed, "run_args": run_args | {"units": cell_units(P, cell)}}
                | ({} if cell == "GRU" else {"cell": cell}),
                cost=P["steps"] * (1.3 if encoder == "bidirectional" else 1.0) * common.STEP_COST.get(cell, 1.0))
            for seed in P["seeds"] for cell, encoder in arms(P)]


SCHEMA = {"exact_match": "{cell}.{encoder}.exact_match.len{length}", "params": "{cell}.{encoder}.params"}
# A rate over test_per_length strings; a re-run that rounds differently may flip a few decodings.
TOLERANCES = {"exact_match": {"abs": 0.1}, "params": {"abs": 0}}


def assemble(done, P) -> Assembly:
    out = Assembly(SCHEMA, P["seeds"])
    for cell, encoder in arms(P):
        for seed in P["seeds"]:
            for length, rate in done[job_name(cell, encoder, seed)]["exact_match"].items():
                out.seed(seed, "exact_match", rate, cell=cell, encoder=encoder, length=int(length))
        out.metric("params", done[job_name(cell, encoder, P["seeds"][0])]["params"], cell=cell, encoder=encoder)
    return out


def arms_of(res) -> list[tuple[str, str]]:
    """(cell, encoder) of every model in ``res``."""
    return arms(res.parameters)


def comparisons(res, drift=None) -> dict:
    """The comparisons this page draws (and at_work and the claims audit reuse), by short name:
    each at the longest trained length, paired by seed."""
    from ..verdicts import stats
    from ..verdicts.claims import PARITY_MARGIN
    from ..verdicts.decide import decide

    P = res.parameters
    n = P["train_max_len"]

    def exact(cell, encoder):
        return res.per_seed("exact_match", cell=cell, encoder=encoder, length=n)

    out = {}
    if set(ENCODERS) <= set(P["encoders"]):
        iv = stats.paired_difference(exact("GRU", "bidirectional"), exact("GRU", "unidirectional"))
        out["bidirectional − unidirectional"] = decide(
            f"exact matches at {n} digits, bidirectional − unidirectional", iv,
            key="seq2seq: exact match bidirectional − unidirectional at the longest trained length",
            direction="above", fmt=".2f", covers=f"{iv['n']} seeds", drift=drift)
    if "LSTM" in res.parameters["cells"] and "unidirectional" in P["encoders"]:
        iv = stats.paired_difference(exact("GRU", "unidirectional"), exact("LSTM", "unidirectional"))
        label, key = (f"exact matches at {n} digits, GRU − LSTM (unidirectional)",
                      "seq2seq: exact match GRU − LSTM at the longest trained length")
        out["GRU − LSTM"] = decide(label, iv, key=key, direction="above", fmt=".2f", covers=f"{iv['n']} seeds",
                                   drift=drift)
        # An exact-match rate is an accuracy over whole strings: the book's parity margin for accuracies.
        out["GRU − LSTM parity"] = decide(label, iv, key=key, direction="within", threshold=PARITY_MARGIN,
                                          threshold_name="PARITY_MARGIN", fmt=".2f", covers=f"{iv['n']} seeds",
                                          drift=drift)
    return out


def parameter_ratio(res, cell: str = "LSTM") -> float | None:
    """``cell``'s model's parameters over the GRU's, both with the unidirectional encoder and each
    with its own units (:func:`cell_units`); None where ``res`` has no such ``cell``."""
    if cell not in res.parameters["cells"]:
        return None
    return (res.value("params", cell=cell, encoder="unidirectional")
            / res.value("params", cell="GRU", encoder="unidirectional"))


def findings(res, drift=None) -> str:
    P = res.parameters
    trained_len, test_len = P["train_max_len"], P["test_max_len"]
    models = arms_of(res)

    def rate(cell, encoder, n):
        return res.mean("exact_match", cell=cell, encoder=encoder, length=n)

    text = (f"**Findings.** Trained on strings of 1 to {trained_len} digits for {P['steps']} steps, "
            + "; ".join(f"the {c} with the {e} encoder reversed {rate(c, e, trained_len):.0%} of {trained_len}-digit "
                        "strings exactly" for c, e in models) + ".")
    decided = comparisons(res, drift)
    c = decided.get("bidirectional − unidirectional")
    if c is not None:
        text += (f" At {trained_len} digits the GRU's exact-match rate with the bidirectional encoder is "
                 f"{c.relation()} its rate with the unidirectional one (difference {c.interval()}, paired 95 % "
                 "interval over seeds).")
    c, parity = decided.get("GRU − LSTM"), decided.get("GRU − LSTM parity")
    if c is not None:
        params = {cell: res.value("params", cell=cell, encoder="unidirectional") for cell in ("GRU", "LSTM")}
        text += (f" With the unidirectional encoder, the GRU has {P['units']} units and the LSTM "
                 f"{cell_units(P, 'LSTM')}, so that their recurrent layers are of about one size: {params['LSTM']:,} "
                 f"parameters in all for the LSTM, {parameter_ratio(res):.2f} times the GRU's {params['GRU']:,}. At {trained_len} digits "
                 f"the GRU's exact-match rate is {c.relation()} the LSTM's (GRU − LSTM {c.interval()}, paired 95 % "
                 f"interval over seeds); against the parity margin of ±{parity['threshold']:g} it is "
                 f"{parity.relation()} the LSTM's.")
    if test_len > trained_len:
        text += (f" On {test_len}-digit strings, longer than any seen in training, the rates were "
                 + ", ".join(f"{rate(c, e, test_len):.0%} ({c}, {e}; {rate(c, e, trained_len):.0%} at {trained_len} "
                             "digits)" for c, e in models) + ".")
    return text
