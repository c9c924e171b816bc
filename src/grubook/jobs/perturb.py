"""Initial weights moved by one unit in the last place: how the book measures re-run drift.

On one machine the runs are bit-identical, so a second run here measures no drift at all.
Another CPU rounds float32 arithmetic differently, and training amplifies a difference of that
size. ``python -m grubook drift`` therefore reruns every experiment with every initial weight of
every Keras layer moved by ``ulp`` units in the last place, away from zero (``$GRUBOOK_PERTURB_ULP``),
and :mod:`grubook.verdicts.drift` measures how far each compared quantity moved.

The perturbation is applied by the job runner around the job's function, never by the job's own
code: a job's key and every committed result stay what they are, and the runner neither reads
nor writes the job cache while it perturbs, so a perturbed output can never be served as a plain
one. Weights a job sets itself after building (the chrono bias) keep the value it sets.
"""

from __future__ import annotations

import contextlib
import os

__all__ = ["PERTURB_ENV", "perturbation", "perturb_array", "perturbed_initial_weights"]

PERTURB_ENV = "GRUBOOK_PERTURB_ULP"


def perturbation() -> int:
    """The number of ulps ``$GRUBOOK_PERTURB_ULP`` asks for (0 when unset); anything but a whole
    number from 0 to 1000 is refused in one line."""
    text = os.environ.get(PERTURB_ENV, "").strip()
    if not text:
        return 0
    if not text.isdigit() or int(text) > 1000:
        raise ValueError(f"${PERTURB_ENV} must be a whole number of ulps from 0 to 1000, got {text!r}")
    return int(text)


def perturb_array(values, ulp: int = 1):
    """``values`` moved by ``ulp`` units in the last place of their float type, away from zero
    (a zero moves up); integer arrays are returned unchanged."""
    import numpy as np

    out = np.array(values, copy=True)
    if not np.issubdtype(out.dtype, np.floating):
        return out
    direction = np.where(np.signbit(out), -np.inf, np.inf).astype(out.dtype)
    for _ in range(ulp):
        out = np.nextafter(out, direction)
    return out


@contextlib.contextmanager
def perturbed_initial_weights(ulp: int):
    """Within the block, every weight a Keras layer creates starts ``ulp`` ulps away from its
    initial value (``Layer.add_weight`` wraps the layer's initializer)."""
    if not ulp:
        yield
        return
    import keras
    from keras.src.layers.layer import Layer

    original = Layer.add_weight

    def add_weight(self, *args, initializer=None, **kwargs):
        if initializer is not None:
            base = keras.initializers.get(initializer)

            def initializer(shape, dtype=None):
                return perturb_array(keras.ops.convert_to_numpy(base(shape, dtype=dtype)), ulp)
        return original(self, *args, initializer=initializer, **kwargs)

    Layer.add_weight = add_weight
    try:
        yield
    finally:
        Layer.add_weight = original
