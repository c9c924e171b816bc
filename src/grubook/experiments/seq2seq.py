"""An encoder–decoder of GRUs (``return_state`` / ``initial_state``) learns to reverse digit strings;
a unidirectional against a bidirectional encoder, tested on lengths beyond training."""

from __future__ import annotations

from ..jobs.run import Job
from ..training import runs
from .spec import BATCH, SEEDS, UNITS, Assembly, Parameter, int_at_least, number_in, subset_of

ENCODERS = ("unidirectional", "bidirectional")

PARAMETERS = {
    "seeds": Parameter([0, 1, 2], SEEDS, quick=[0]),
    "encoders": Parameter(list(ENCODERS), subset_of(ENCODERS)),
    "units": Parameter(64, UNITS, quick=8, note="decoder state; the bidirectional encoder has units // 2 per direction"),
    "train_max_len": Parameter(8, int_at_least(1, 1000), quick=3, note="trained on strings of 1 ... 8 digits"),
    "test_max_len": Parameter(10, int_at_least(1, 1000), quick=4, note="tested on 1 ... 10 digits (9 and 10: longer than any trained on)"),
    "steps": Parameter(1000, int_at_least(1, 10**7), quick=10, note="training steps (one batch each)"),
    "batch_size": Parameter(64, BATCH),
    "learning_rate": Parameter(0.005, number_in(0, 1, low_open=True)),
    "test_per_length": Parameter(200, int_at_least(1, 100_000), quick=10, note="test strings per length"),
}


def cross_check(P):
    if "bidirectional" in P["encoders"] and P["units"] % 2:
        return "units", P["units"], "even when the encoder is bidirectional (units // 2 per direction)"
    if P["test_max_len"] < P["train_max_len"]:
        return "test_max_len", P["test_max_len"], f"at least train_max_len ({P['train_max_len']})"
    return None


def seq2seq_job(encoder: str, seed: int, *, run_args: dict) -> dict:
    """One encoder–decoder trained to reverse digit strings (``runs.seq2seq_run``)."""
    run = runs.seq2seq_run(encoder, seed, **run_args)
    return {"exact_match": run["exact_match"], "params": run["params"]}


def plan(P):
    run_args = {k: P[k] for k in ("units", "train_max_len", "test_max_len", "steps", "batch_size", "learning_rate",
                                  "test_per_length")}
    return [Job(f"{encoder}/seed{seed}", seq2seq_job, {"encoder": encoder, "seed": seed, "run_args": run_args},
                cost=P["steps"] * (1.3 if encoder == "bidirectional" else 1.0))
            for seed in P["seeds"] for encoder in P["encoders"]]


SCHEMA = {"exact_match": "{encoder}.exact_match.len{length}", "params": "{encoder}.params"}
# A rate over test_per_length strings; a re-run that rounds differently may flip a few decodings.
TOLERANCES = {"exact_match": {"abs": 0.1}, "params": {"abs": 0}}


def assemble(done, P) -> Assembly:
    out = Assembly(SCHEMA, P["seeds"])
    for seed in P["seeds"]:
        for encoder in P["encoders"]:
            for length, rate in done[f"{encoder}/seed{seed}"]["exact_match"].items():
                out.seed(seed, "exact_match", rate, encoder=encoder, length=int(length))
    for encoder in P["encoders"]:
        out.metric("params", done[f"{encoder}/seed{P['seeds'][0]}"]["params"], encoder=encoder)
    return out


def comparisons(res, drift=None) -> dict:
    """The comparisons this page draws (and at_work reuses), by short name."""
    from ..verdicts import stats
    from ..verdicts.decide import decide

    P = res.parameters
    if not set(ENCODERS) <= set(P["encoders"]):
        return {}
    n = P["train_max_len"]
    iv = stats.paired_difference(res.per_seed("exact_match", encoder="bidirectional", length=n),
                                 res.per_seed("exact_match", encoder="unidirectional", length=n))
    return {"bidirectional − unidirectional": decide(
        f"exact matches at {n} digits, bidirectional − unidirectional", iv,
        key="seq2seq: exact match bidirectional − unidirectional at the longest trained length", direction="above",
        fmt=".2f", covers=f"{iv['n']} seeds", drift=drift)}


def findings(res, drift=None) -> str:
    P = res.parameters
    encoders, trained_len, test_len = P["encoders"], P["train_max_len"], P["test_max_len"]

    def rate(encoder, n):
        return res.mean("exact_match", encoder=encoder, length=n)

    text = (f"**Findings.** Trained on strings of 1 to {trained_len} digits for {P['steps']} steps, "
            + "; ".join(f"the {e} encoder reversed {rate(e, trained_len):.0%} of {trained_len}-digit strings exactly"
                        for e in encoders) + ".")
    c = comparisons(res, drift).get("bidirectional − unidirectional")
    if c is not None:
        text += (f" Bidirectional minus unidirectional at {trained_len} digits: {c.interval()} (paired 95 % interval "
                 "over seeds): " + {"holds": "the bidirectional encoder is better.",
                                    "fails": "the bidirectional encoder is not better.",
                                    "undecided": "the interval does not decide which encoder is better."}[c.outcome])
    if test_len > trained_len:
        trained, longer = min(rate(e, trained_len) for e in encoders), max(rate(e, test_len) for e in encoders)
        text += (f" On {test_len}-digit strings, longer than any seen in training, the rates were "
                 + ", ".join(f"{rate(e, test_len):.0%} ({e})" for e in encoders)
                 + (": beyond the trained lengths the rate falls to less than half, so what the decoder learned "
                    "does not carry over to longer strings." if longer < trained / 2 else "."))
    return text
