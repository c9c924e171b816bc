"""Text for the character-level language model: an offline corpus, its encoding, an n-gram baseline.

The corpus is source code of the Python standard library, which ships with every Python and so
is always offline, in the spirit of Karpathy's character models trained on the Linux source.
The files are fixed by name, so the corpus is pinned by the Python version (recorded with the
results, with the corpus' SHA-256).
"""

from __future__ import annotations

import hashlib
import math
import sys
import sysconfig
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["CORPUS_FILES", "Corpus", "load_corpus", "NGram", "best_ngram", "sample"]

# Plain, well-commented modules of different styles (~250 KB together).
CORPUS_FILES = ("textwrap.py", "string.py", "heapq.py", "bisect.py", "fractions.py", "statistics.py",
                "calendar.py", "shlex.py", "difflib.py")


@dataclass(frozen=True)
class Corpus:
    """Encoded text: ``ids`` (int32, one per character: training, then validation, then held-out
    text), ``alphabet`` (id -> character), and where it came from (Python version, SHA-256)."""

    ids: np.ndarray
    alphabet: str
    python: str
    sha256: str
    train_end: int
    validation_end: int

    @property
    def train(self) -> np.ndarray:
        return self.ids[:self.train_end]

    @property
    def validation(self) -> np.ndarray:
        return self.ids[self.train_end:self.validation_end]

    @property
    def held_out(self) -> np.ndarray:
        return self.ids[self.validation_end:]

    @property
    def vocabulary(self) -> int:
        return len(self.alphabet)

    def decode(self, ids) -> str:
        return "".join(self.alphabet[i] for i in ids)


def load_corpus(files=CORPUS_FILES, *, validation_fraction: float = 0.05, held_out_fraction: float = 0.1,
                library: str | Path | None = None) -> Corpus:
    """Read the standard-library files, expand tabs, map every character outside printable ASCII
    (and newline) to ``?``, and split each file in order into training, validation and held-out text."""
    folder = Path(library or sysconfig.get_paths()["stdlib"])
    missing = [name for name in files if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"the character-level corpus needs the Python standard library's source, but {missing[0]!r} is not in "
            f"{folder}. Some minimal Python builds (Debian's python3-minimal, some containers) leave it out: install "
            "the full standard library (on Debian, `apt-get install libpython3-stdlib`, or use the python.org / "
            "pyenv build), or pass library= a folder that holds these files.")
    if not 0 < validation_fraction < 1 or not 0 < held_out_fraction < 1 or validation_fraction + held_out_fraction >= 1:
        raise ValueError("validation_fraction and held_out_fraction must be in (0, 1) and sum to less than 1")

    def clean(source: str) -> str:
        source = source.replace("\t", "    ")
        return "".join(c if (" " <= c <= "~") or c == "\n" else "?" for c in source)

    texts = [clean((folder / name).read_text(encoding="utf-8")) for name in files]
    alphabet = "".join(sorted(set("".join(texts))))
    index = {c: i for i, c in enumerate(alphabet)}
    # Every file is split in order (its start for training, then validation, then its end held
    # out), so each part has every file's style and no part reads text another part holds.
    parts = {"train": [], "validation": [], "held_out": []}
    for source in texts:
        ids = np.fromiter((index[c] for c in source), dtype=np.int32, count=len(source))
        a = int(len(ids) * (1 - held_out_fraction - validation_fraction))
        b = int(len(ids) * (1 - held_out_fraction))
        parts["train"].append(ids[:a])
        parts["validation"].append(ids[a:b])
        parts["held_out"].append(ids[b:])
    train, validation, held_out = (np.concatenate(parts[k]) for k in ("train", "validation", "held_out"))
    digest = hashlib.sha256("\0".join(texts).encode()).hexdigest()
    return Corpus(ids=np.concatenate([train, validation, held_out]), alphabet=alphabet,
                  python=sys.version.split()[0], sha256=digest, train_end=len(train),
                  validation_end=len(train) + len(validation))


class NGram:
    """A character n-gram model with add-k smoothing, backing off to shorter contexts never seen."""

    def __init__(self, order: int, vocabulary: int, k: float = 0.1):
        if order < 1:
            raise ValueError(f"order must be >= 1, got {order}")
        self.order, self.vocabulary, self.k = order, vocabulary, k
        self.counts: list[Counter] = [Counter() for _ in range(order)]     # by context length
        self.context_totals: list[Counter] = [Counter() for _ in range(order)]

    def fit(self, ids: np.ndarray) -> "NGram":
        seq = [int(i) for i in ids]
        for length in range(self.order):
            for t in range(length, len(seq)):
                context = tuple(seq[t - length:t])
                self.counts[length][context + (seq[t],)] += 1
                self.context_totals[length][context] += 1
        return self

    def probability(self, context: tuple, symbol: int) -> float:
        for length in range(min(self.order - 1, len(context)), -1, -1):
            ctx = context[len(context) - length:] if length else ()
            total = self.context_totals[length].get(ctx, 0)
            if total:
                return (self.counts[length].get(ctx + (symbol,), 0) + self.k) / (total + self.k * self.vocabulary)
        return 1.0 / self.vocabulary

    def bits_per_character(self, ids: np.ndarray) -> float:
        seq = [int(i) for i in ids]
        total = 0.0
        for t in range(len(seq)):
            context = tuple(seq[max(0, t - self.order + 1):t])
            total -= math.log2(self.probability(context, seq[t]))
        return total / len(seq)


def best_ngram(corpus: Corpus, orders=(1, 2, 3, 4, 5, 6), ks=(0.01, 0.1, 1.0)) -> dict:
    """The n-gram baseline: the order and smoothing chosen on the validation text, fitted on the
    training text only (the text the recurrent models learn from) and scored on the held-out text
    (bits per character)."""
    scores = {}
    for n in orders:
        model = NGram(n, corpus.vocabulary).fit(corpus.train)
        for k in ks:
            model.k = k
            scores[(n, k)] = model.bits_per_character(corpus.validation)
    order, k = min(scores, key=scores.get)
    model = NGram(order, corpus.vocabulary, k).fit(corpus.train)
    return {"order": order, "k": k, "validation_bpc": scores[(order, k)],
            "held_out_bpc": model.bits_per_character(corpus.held_out)}


def sample(step_model, corpus: Corpus, prompt: str, length: int, temperature: float, seed: int) -> str:
    """Continue ``prompt`` by ``length`` characters with the one-step model of ``models.char_lm``.

    Each character is drawn from the softmax of logits / ``temperature``: low temperatures pick the
    likeliest characters, high ones flatten the distribution."""
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    index = {c: i for i, c in enumerate(corpus.alphabet)}
    unknown = sorted(set(prompt) - set(index))
    if unknown:
        raise ValueError(f"the prompt has characters outside the corpus' alphabet: {unknown}")
    rng = np.random.default_rng(seed)
    states = [np.zeros((1, shape[-1]), dtype="float32") for shape in (i.shape for i in step_model.inputs[1:])]
    logits = None
    for c in prompt:
        logits, *states = step_model.predict_on_batch([np.array([[index[c]]], dtype="int32"), *states])
    out = []
    for _ in range(length):
        z = np.asarray(logits)[0, -1].astype(np.float64) / temperature
        p = np.exp(z - z.max())
        p /= p.sum()
        i = int(rng.choice(len(p), p=p))
        out.append(corpus.alphabet[i])
        logits, *states = step_model.predict_on_batch([np.array([[i]], dtype="int32"), *states])
    return prompt + "".join(out)
