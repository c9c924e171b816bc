"""Data for the experiments: synthetic generators and real data sets that ship inside packages.

Nothing here touches the network. Every array is float32, sequences are (samples, time, features).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["anbn", "reversal", "PAD", "GO", "DIGIT_TOKENS", "Split", "adding_problem", "adding_baseline_mse", "seed_example_split", "permute_time", "subsample",
           "with_validation",
           "digits_split", "italy_power_demand_split"]


@dataclass(frozen=True)
class Split:
    """A train/test split of sequences. x: (n, time, features) float32; y: class ids (n,) or targets (n, 1)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: int
    x_val: np.ndarray | None = None        # optional validation set, separate from both
    y_val: np.ndarray | None = None

    @property
    def time(self) -> int:
        return self.x_train.shape[1]

    @property
    def features(self) -> int:
        return self.x_train.shape[2]


def adding_problem(n: int, T: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem, close to the form of Arjovsky et al. (2016).

    Each sequence has T steps of two channels: a value drawn from U[0, 1] and a marker that is 1
    at exactly two random positions and 0 elsewhere. The target is the sum of the two marked
    values. Returns x (n, T, 2) and y (n, 1). Always predicting 1 gives MSE 1/6.

    Unlike Arjovsky et al., who put one marker in each half of the sequence, both positions are
    drawn uniformly from all T steps. The first marked value then lies on average about 2T/3
    steps before the end (at least T/2 in their form), and in about a quarter of the sequences
    both markers fall in the last half, so the lag a network must bridge is often much shorter
    than T.
    """
    if T < 2:
        raise ValueError(f"sequence length T must be >= 2 (two marked positions), got {T}")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    values = rng.uniform(0.0, 1.0, size=(n, T))
    marked = np.argsort(rng.random((n, T)), axis=1)[:, :2]        # two distinct positions per row
    markers = np.zeros((n, T))
    markers[np.arange(n)[:, None], marked] = 1.0
    x = np.stack([values, markers], axis=-1).astype(np.float32)
    y = (values * markers).sum(axis=1, keepdims=True).astype(np.float32)
    return x, y


# Tokens of the reversal task: 0 pads (and is masked), 1..10 are the digits 0..9, 11 starts decoding.
PAD, GO, DIGIT_TOKENS = 0, 11, 10


def reversal(lengths, rng: np.random.Generator, pad_to: int | None = None) -> dict[str, np.ndarray]:
    """Digit strings and their reversals, for a sequence-to-sequence model with teacher forcing.

    ``lengths`` gives each string's length (one string per entry). Tokens: 1..10 are the digits
    0..9, 0 pads every row to ``pad_to`` (default: the longest length). Returns int32 arrays:

    - ``source``: the digits, padded at the end;
    - ``target``: the same digits reversed, padded at the end: what the decoder must output;
    - ``decoder_input``: ``GO`` followed by the target without its last digit (teacher forcing:
      at step t the decoder reads the right answer of step t - 1);
    - ``lengths``.
    """
    lengths = np.asarray(lengths, dtype=int)
    if lengths.ndim != 1 or len(lengths) == 0 or lengths.min() < 1:
        raise ValueError(f"lengths must be a non-empty list of integers >= 1, got {lengths!r}")
    width = int(pad_to if pad_to is not None else lengths.max())
    if width < lengths.max():
        raise ValueError(f"pad_to={width} is shorter than the longest string ({lengths.max()})")
    digits = rng.integers(0, 10, size=(len(lengths), width)) + 1
    keep = np.arange(width)[None, :] < lengths[:, None]
    source = np.where(keep, digits, PAD)
    target = np.zeros_like(source)
    for i, n in enumerate(lengths):
        target[i, :n] = source[i, :n][::-1]
    decoder_input = np.zeros_like(source)
    decoder_input[:, 0] = GO
    decoder_input[:, 1:] = np.where(keep[:, 1:], target[:, :-1], PAD)
    return {"source": source.astype(np.int32), "target": target.astype(np.int32),
            "decoder_input": decoder_input.astype(np.int32), "lengths": lengths}


def anbn(ns, length: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Strings aⁿbⁿ for each n in ``ns``, as a per-step labelling task that needs a counter.

    Each string is one-hot coded (a = [1, 0], b = [0, 1]) and zero-padded at the end to ``length``
    (default: the longest, 2·max(n)). After every b the network answers "does the string end
    here?", which is yes exactly at the n-th b; that needs the number of a's to be held and
    counted down. Steps where the next symbol is not determined (the a's) and padding get weight 0.
    Returns x (len(ns), length, 2), y (len(ns), length, 1) and weights (len(ns), length).
    """
    ns = [int(n) for n in ns]
    if not ns or min(ns) < 1:
        raise ValueError(f"every n must be >= 1, got {ns}")
    length = length or 2 * max(ns)
    if length < 2 * max(ns):
        raise ValueError(f"length {length} is shorter than the longest string (2·{max(ns)})")
    x = np.zeros((len(ns), length, 2), np.float32)
    y = np.zeros((len(ns), length, 1), np.float32)
    w = np.zeros((len(ns), length), np.float32)
    for i, n in enumerate(ns):
        x[i, :n, 0] = 1.0
        x[i, n:2 * n, 1] = 1.0
        w[i, n:2 * n] = 1.0
        y[i, 2 * n - 1, 0] = 1.0
    return x, y, w


def adding_baseline_mse() -> float:
    """MSE of always predicting 1: the sum of two U[0,1] values has mean 1 and variance 2/12."""
    return 1.0 / 6.0


def seed_example_split(*, n_samples: int = 1000, random_state: int = 42) -> Split:
    """The original article's data: ``make_classification`` with 20 features, 2 informative and
    10 redundant, split 80/20, both with random_state 42.

    The article fed these 2-D arrays to a recurrent layer, which fails. Here each sample's 20
    features become a sequence of 20 scalar steps, shape (n, 20, 1), the smallest change that lets
    the article's model run. The features have no order, so that "sequence" carries no time;
    ``make_classification`` also shuffles its columns, so the informative, redundant and noise
    columns sit at arbitrary steps.
    """
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split

    X, y = make_classification(n_samples=n_samples, n_features=20, n_informative=2, n_redundant=10,
                               random_state=random_state)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=random_state)
    as_sequence = lambda a: a.astype(np.float32)[:, :, None]          # (n, 20) -> (n, 20, 1)
    return Split(as_sequence(X_train), y_train.astype(np.int64), as_sequence(X_test),
                 y_test.astype(np.int64), classes=2)


def time_order(steps: int, seed: int) -> np.ndarray:
    """The order in which :func:`permute_time` reads the steps: ``order[t]`` is the step read at t."""
    return np.random.default_rng(seed).permutation(steps)


def permute_time(split: Split, seed: int) -> Split:
    """The same split with the time axis shuffled by one fixed permutation, ``time_order(time, seed)``
    (the order control)."""
    order = time_order(split.time, seed)
    x_val = None if split.x_val is None else split.x_val[:, order]
    return Split(split.x_train[:, order], split.y_train, split.x_test[:, order], split.y_test,
                 split.classes, x_val, split.y_val)


def digits_split(*, test_size: float = 0.2, random_state: int = 0, mode: str = "pixels") -> Split:
    """scikit-learn's 8×8 handwritten digits (1,797 images, 10 classes), shipped with the package.

    mode="pixels" reads each image pixel by pixel: 64 steps of 1 value (a small sequential MNIST).
    mode="rows" reads it row by row: 8 steps of 8 values. Pixels are scaled to [0, 1].
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if mode not in ("pixels", "rows"):
        raise ValueError(f"mode must be 'pixels' or 'rows', got {mode!r}")
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)                  # (1797, 8, 8)
    x = images.reshape(len(images), 64, 1) if mode == "pixels" else images
    x_train, x_test, y_train, y_test = train_test_split(
        x, digits.target, test_size=test_size, random_state=random_state, stratify=digits.target)
    return Split(x_train, y_train.astype(np.int64), x_test, y_test.astype(np.int64), classes=10)


def italy_power_demand_split() -> Split:
    """UCR ItalyPowerDemand: 24 hourly electricity-demand values per day, two classes
    (October–March against April–September). 67 training and 1,029 test series, as published,
    loaded from the copy that ships inside sktime (no download).
    """
    from sktime.datasets import load_italy_power_demand

    def load(split):
        X, y = load_italy_power_demand(split=split, return_type="numpy3D")   # (n, 1, 24)
        return np.transpose(X, (0, 2, 1)).astype(np.float32), y

    x_train, y_train = load("train")
    x_test, y_test = load("test")
    labels = sorted(set(y_train))
    to_id = {label: i for i, label in enumerate(labels)}
    ids = lambda y: np.array([to_id[v] for v in y], dtype=np.int64)
    return Split(x_train, ids(y_train), x_test, ids(y_test), classes=len(labels))


def subsample(split: Split, n_train: int, seed: int, n_validation: int = 0) -> Split:
    """Keep a stratified random subset of ``n_train`` training samples and, if asked, a validation
    set of ``n_validation`` drawn from the training samples left over. The test split is unchanged."""
    from sklearn.model_selection import train_test_split

    if not split.classes <= n_train < len(split.x_train):
        raise ValueError(f"n_train must be between {split.classes} (one per class) and "
                         f"{len(split.x_train) - 1}, got {n_train}")
    x, x_rest, y, y_rest = train_test_split(split.x_train, split.y_train, train_size=n_train,
                                            random_state=seed, stratify=split.y_train)
    if n_validation == 0:
        return Split(x, y, split.x_test, split.y_test, split.classes)
    if not split.classes <= n_validation <= len(x_rest):
        raise ValueError(f"n_validation must be between {split.classes} and {len(x_rest)}, got {n_validation}")
    x_val, _, y_val, _ = train_test_split(x_rest, y_rest, train_size=n_validation, random_state=seed,
                                          stratify=y_rest) if n_validation < len(x_rest) else (x_rest, None, y_rest, None)
    return Split(x, y, split.x_test, split.y_test, split.classes, x_val, y_val)


def with_validation(split: Split, fraction: float, seed: int = 0) -> Split:
    """Move a stratified ``fraction`` of the training samples into a validation set."""
    from sklearn.model_selection import train_test_split

    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}")
    x, x_val, y, y_val = train_test_split(split.x_train, split.y_train, test_size=fraction,
                                          random_state=seed, stratify=split.y_train)
    return Split(x, y, split.x_test, split.y_test, split.classes, x_val, y_val)
