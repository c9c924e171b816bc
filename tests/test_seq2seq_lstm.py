"""The seq2seq experiment's LSTM arm (issue 17): the LSTM's decoder starts from and carries both of
its states, ``cells`` is checked before any work, and a quick run decides GRU − LSTM."""

import re
import subprocess
import sys

import numpy as np
import pytest

from grubook.data import tasks
from grubook.experiments import seq2seq, spec
from grubook.training import models
from grubook.verdicts.claims import PARITY_MARGIN


def grubook(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "grubook", *args], capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("encoder", ["unidirectional", "bidirectional"])
def test_the_lstm_decoder_starts_from_and_carries_both_states(encoder):
    units = 6
    model, encoder_model, step = models.seq2seq(units, encoder=encoder, cell="LSTM", seed=1)
    batch = tasks.reversal([3, 2], np.random.default_rng(2), pad_to=3)
    h, c = encoder_model.predict_on_batch(batch["source"])
    assert h.shape == c.shape == (2, units) and not np.allclose(h, c)
    assert [tuple(i.shape) for i in step.inputs] == [(None, 1), (None, units), (None, units)]
    probabilities, h1, c1 = step.predict_on_batch([np.full((2, 1), tasks.GO, dtype="int32"), h, c])
    assert probabilities.shape == (2, 1, 12) and h1.shape == c1.shape == (2, units)
    # The decoder reads the memory cell c: another c gives another next state.
    _, h2, _ = step.predict_on_batch([np.full((2, 1), tasks.GO, dtype="int32"), h, np.zeros_like(c)])
    assert not np.allclose(h1, h2)
    decoded = models.greedy_decode(encoder_model, step, batch["source"], steps=3, go=tasks.GO)
    assert decoded.shape == (2, 3) and decoded.min() >= 0 and decoded.max() < 12
    # Greedy decoding and teacher forcing with the greedy output agree: both states travel step to step.
    teacher = np.concatenate([np.full((2, 1), tasks.GO), decoded[:, :-1]], axis=1).astype("int32")
    np.testing.assert_array_equal(model.predict_on_batch([batch["source"], teacher]).argmax(-1), decoded)


def test_the_gru_still_hands_over_one_state():
    _, encoder_model, step = models.seq2seq(4, cell="GRU", seed=0)
    assert len(encoder_model.outputs) == 1 and len(step.inputs) == 2
    with pytest.raises(ValueError, match="unknown cell 'Transformer'"):
        models.seq2seq(4, cell="Transformer")


def test_the_lstm_runs_with_the_unidirectional_encoder_only_and_gru_job_names_stay():
    P = spec.defaults("seq2seq")
    jobs = {job.name: job.kwargs for job in seq2seq.plan(P)}
    assert set(jobs) == {f"{name}/seed{s}" for s in P["seeds"]
                         for name in ("unidirectional", "bidirectional", "LSTM/unidirectional")}
    assert jobs["unidirectional/seed0"].keys() == {"encoder", "seed", "run_args"}     # as before the LSTM arm
    assert jobs["LSTM/unidirectional/seed0"]["cell"] == "LSTM"


@pytest.mark.parametrize("cells,message", [
    (["LSTM"], r"'cells' must be a list that includes 'GRU'"),
    (["GRU", "Transformer"], r"'cells' must be a non-empty list of distinct names from \['SimpleRNN', 'LSTM', 'GRU'\]"),
], ids=["without-GRU", "unknown"])
def test_bad_cells_fail_with_one_line_before_any_work(tmp_path, cells, message):
    with pytest.raises(spec.ParameterError, match=message):
        spec.validate("seq2seq", spec.defaults("seq2seq") | {"cells": cells})
    proc = grubook("reproduce", "seq2seq", "--quick", "--set", f"cells={cells!r}", "--results-dir", str(tmp_path),
                   timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert re.search(message, lines[-1]), lines
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_a_quick_run_decides_gru_against_lstm(tmp_path):
    from grubook.results.files import load
    from grubook.results.view import Results
    from grubook.verdicts.drift import NONE

    proc = grubook("reproduce", "seq2seq", "--quick", "--results-dir", str(tmp_path / "results"),
                   "--cache-dir", str(tmp_path / "cache"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = Results(load("seq2seq", tmp_path / "results"))
    assert res.value("params", cell="LSTM", encoder="unidirectional") > res.value("params", cell="GRU",
                                                                                   encoder="unidirectional")
    assert not res.has("params", cell="LSTM", encoder="bidirectional")
    assert len(res.per_seed("exact_match", cell="LSTM", encoder="unidirectional", length=1)) == len(res.seeds)
    decided = seq2seq.comparisons(res, NONE)
    assert {"bidirectional − unidirectional", "GRU − LSTM", "GRU − LSTM parity"} <= set(decided)
    c, parity = decided["GRU − LSTM"], decided["GRU − LSTM parity"]
    assert c["key"] == parity["key"] == "seq2seq: exact match GRU − LSTM at the longest trained length"
    assert (c["direction"], parity["direction"], parity["threshold"]) == ("above", "within", PARITY_MARGIN)
    findings = seq2seq.findings(res, NONE)
    assert c.interval() in findings and parity.relation() in findings and "nan" not in findings
