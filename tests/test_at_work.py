"""The pieces of the "GRUs at work" chapter: the reversal task and its encoder–decoder, the text
corpus and its n-gram baseline, the language model's sampler, forecasting splits and MASE."""

import math

import numpy as np
import pytest

from grubook.data import corpus as text
from grubook.data import tasks
from grubook.experiments import spec
from grubook.training import forecasting, models


# --------------------------------------------------------------------------- sequence to sequence

def test_reversal_pads_reverses_and_shifts_for_teacher_forcing():
    batch = tasks.reversal([3, 1], np.random.default_rng(0), pad_to=4)
    src, tgt, dec = batch["source"], batch["target"], batch["decoder_input"]
    assert src.shape == tgt.shape == dec.shape == (2, 4)
    np.testing.assert_array_equal(tgt[0, :3], src[0, :3][::-1])
    assert (src[0, 3:] == tasks.PAD).all() and (tgt[0, 3:] == tasks.PAD).all()
    np.testing.assert_array_equal(dec[0], [tasks.GO, tgt[0, 0], tgt[0, 1], tasks.PAD])
    np.testing.assert_array_equal(dec[1], [tasks.GO, 0, 0, 0])
    assert src.min() >= 0 and src.max() <= tasks.DIGIT_TOKENS and (src[:, 0] >= 1).all()


def test_reversal_rejects_bad_lengths():
    with pytest.raises(ValueError, match="lengths must be"):
        tasks.reversal([0], np.random.default_rng(0))
    with pytest.raises(ValueError, match="pad_to=2 is shorter"):
        tasks.reversal([3], np.random.default_rng(0), pad_to=2)


@pytest.mark.parametrize("encoder", ["unidirectional", "bidirectional"])
def test_seq2seq_masks_padding_and_greedy_decoding_matches_teacher_forcing_when_fed_its_own_output(encoder):
    model, encoder_model, step = models.seq2seq(8, encoder=encoder, seed=1)
    batch = tasks.reversal([3, 3], np.random.default_rng(2), pad_to=3)
    padded = np.pad(batch["source"], ((0, 0), (0, 3)), constant_values=tasks.PAD)
    # Padding (masked) does not change the encoder's state.
    np.testing.assert_allclose(encoder_model.predict_on_batch(batch["source"]),
                               encoder_model.predict_on_batch(padded), atol=1e-6)
    decoded = models.greedy_decode(encoder_model, step, batch["source"], steps=3, go=tasks.GO)
    # Teacher forcing with the greedy output as the "teacher" gives the same argmax at every step.
    teacher = np.concatenate([np.full((2, 1), tasks.GO), decoded[:, :-1]], axis=1).astype("int32")
    forced = model.predict_on_batch([batch["source"], teacher]).argmax(-1)
    np.testing.assert_array_equal(forced, decoded)


def test_seq2seq_rejects_an_odd_bidirectional_size_and_unknown_encoder():
    with pytest.raises(ValueError, match="units must be even"):
        models.seq2seq(7, encoder="bidirectional")
    with pytest.raises(ValueError, match="encoder must be"):
        models.seq2seq(8, encoder="both")
    with pytest.raises(spec.ParameterError, match="'units' must be even"):
        spec.validate("seq2seq", {**_defaults("seq2seq"), "units": 7})


# --------------------------------------------------------------------------- text

def test_corpus_is_pinned_split_per_file_and_round_trips():
    corpus = text.load_corpus()
    assert corpus.python.count(".") == 2 and len(corpus.sha256) == 64
    assert len(corpus.train) > 10 * len(corpus.validation) > 0 and len(corpus.held_out) > len(corpus.validation)
    assert corpus.vocabulary == len(set(corpus.alphabet)) <= 96
    sample = corpus.decode(corpus.train[:200])
    assert "\n" in sample and "\t" not in sample
    assert text.load_corpus().sha256 == corpus.sha256


def test_missing_corpus_says_how_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="standard library's source.*install"):
        text.load_corpus(library=tmp_path)


def test_ngram_probabilities_sum_to_one_and_bits_match_a_hand_computation():
    ids = np.array([0, 1, 0, 1, 0, 2])
    model = text.NGram(2, vocabulary=3, k=1.0).fit(ids)
    for context in [(), (0,), (1,), (2,)]:
        assert math.isclose(sum(model.probability(context, s) for s in range(3)), 1.0)
    # After 0 the counts are 1 -> 2, 2 -> 1 (of 3); add-one over 3 symbols: P(1 | 0) = 3/6.
    assert math.isclose(model.probability((0,), 1), 3 / 6)
    unigram = text.NGram(1, vocabulary=3, k=0.0).fit(ids)
    expected = -(3 * math.log2(3 / 6) + 2 * math.log2(2 / 6) + math.log2(1 / 6)) / 6
    assert math.isclose(unigram.bits_per_character(ids), expected)


def test_sampling_is_seeded_and_temperature_is_checked():
    corpus = text.load_corpus()
    _, step = models.char_lm("GRU", 8, vocabulary=corpus.vocabulary, embedding=4, seed=0)
    a = text.sample(step, corpus, "def ", 20, 1.0, seed=3)
    assert a == text.sample(step, corpus, "def ", 20, 1.0, seed=3) and a.startswith("def ") and len(a) == 24
    with pytest.raises(ValueError, match="temperature must be > 0"):
        text.sample(step, corpus, "def ", 5, 0.0, seed=0)
    with pytest.raises(ValueError, match="outside the corpus' alphabet"):
        text.sample(step, corpus, "é", 5, 1.0, seed=0)


def test_char_lm_step_model_equals_the_training_model_one_character_at_a_time():
    for cell in ("GRU", "LSTM", "SimpleRNN"):
        model, step = models.char_lm(cell, 6, vocabulary=10, embedding=3, seed=2)
        ids = np.array([[1, 4, 2, 7]], dtype="int32")
        full = model.predict_on_batch(ids)[0]
        states = [np.zeros((1, 6), dtype="float32") for _ in step.inputs[1:]]
        for t in range(4):
            logits, *states = step.predict_on_batch([ids[:, t:t + 1], *states])
            np.testing.assert_allclose(logits[0, -1], full[t], atol=1e-5)


# --------------------------------------------------------------------------- forecasting

def test_seasonal_naive_and_mase_by_hand():
    values = np.arange(40, dtype=float) % 4                         # period 4, perfectly seasonal
    s = forecasting.Setup(values, np.arange(40), train_end=30, horizon=6, period=4)
    naive = forecasting.seasonal_naive(s)
    np.testing.assert_array_equal(naive, s.targets)                   # exact on a pure cycle
    trended = values + 0.5 * np.arange(40)
    s3 = forecasting.Setup(trended, np.arange(40), train_end=30, horizon=2, period=4)
    # Seasonal naive lags the trend by one period (0.5 * 4 = 2) at every step: in-sample error 2.
    assert forecasting.mase_scale(trended[:30], 4) == pytest.approx(2.0)
    assert forecasting.mase(forecasting.seasonal_naive(s3), s3) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="shape"):
        forecasting.mase(np.zeros((2, 2)), s)


def test_forecast_setup_and_parameters_fail_early():
    with pytest.raises(ValueError, match="train_end"):
        forecasting.Setup(np.zeros(20), np.arange(20), train_end=19, horizon=5, period=4)
    with pytest.raises(spec.ParameterError, match="'validation_years' must be at least horizon"):
        spec.validate("forecasting", {**_defaults("forecasting"), "validation_years": 3})
    with pytest.raises(spec.ParameterError, match="'test_years'"):
        spec.validate("forecasting", {**_defaults("forecasting"), "test_years": 290})


def test_sunspots_ship_with_statsmodels():
    years, values = forecasting.sunspots()
    assert years[0] == 1700 and years[-1] == 2008 and len(values) == 309 and (values >= 0).all()


def _defaults(name):
    return spec.defaults(name)
