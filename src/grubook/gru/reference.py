"""A from-scratch GRU in NumPy (float64), written to be read beside the equations.

The article's four equations, with ``[a, b]`` the concatenation of two vectors:

.. math::

    z_t &= \\sigma(W_z [h_{t-1}, x_t] + b_z)                  && \\text{(update gate)}\\\\
    r_t &= \\sigma(W_r [h_{t-1}, x_t] + b_r)                  && \\text{(reset gate)}\\\\
    \\tilde h_t &= \\tanh(W [r_t \\odot h_{t-1}, x_t] + b)     && \\text{(candidate)}\\\\
    h_t &= (1 - z_t) \\odot h_{t-1} + z_t \\odot \\tilde h_t   && \\text{(new state)}

In this convention ``z_t`` near 1 means "take the candidate", near 0 "keep the old state".

The *reset-after* variant (Keras' default, cuDNN and PyTorch) moves the reset gate
outside the recurrent matrix product and gives that product a bias of its own:

.. math::

    \\tilde h_t = \\tanh(W_{\\cdot x} x_t + b + r_t \\odot (W_{\\cdot h} h_{t-1} + b_{hn}))

where ``W_{·h} = W[:, :units]`` and ``W_{·x} = W[:, units:]`` are the two column blocks of ``W``.

Shapes: ``x`` is (batch, time, features), hidden states are (batch, units); every weight
matrix is (units, units + features), every bias (units,).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

__all__ = [
    "GRUWeights",
    "GRUGradients",
    "sigmoid",
    "init_weights",
    "gru_step",
    "gru_forward",
    "gru_backward",
    "weights_from_keras",
    "weights_from_torch",
    "count_params",
    "CELL_NAMES",
]

CELL_NAMES = ("SimpleRNN", "LSTM", "GRU")


def sigmoid(a: np.ndarray) -> np.ndarray:
    """The logistic function, written to avoid overflow of exp() for large |a|."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


@dataclass(frozen=True)
class GRUWeights:
    """GRU parameters in the article's convention.

    Attributes:
        W_z, W_r, W: (units, units + features). Columns ``[:units]`` multiply the
            hidden state, columns ``[units:]`` multiply the input, matching ``[h_{t-1}, x_t]``.
        b_z, b_r, b: (units,).
        reset_after: False for the article's equations; True for the Keras/cuDNN/PyTorch form.
        b_hn: (units,) recurrent candidate bias, inside the reset product. Only when reset_after.
    """

    W_z: np.ndarray
    W_r: np.ndarray
    W: np.ndarray
    b_z: np.ndarray
    b_r: np.ndarray
    b: np.ndarray
    reset_after: bool = False
    b_hn: np.ndarray | None = None

    def __post_init__(self):
        for name in ("W_z", "W_r", "W", "b_z", "b_r", "b", "b_hn"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, np.asarray(value, dtype=np.float64))
        units = self.b.shape[0] if self.b.ndim == 1 else None
        if units is None:
            raise ValueError(f"b must have shape (units,), got {self.b.shape}")
        width = self.W.shape[1] if self.W.ndim == 2 else -1
        if width <= units:
            raise ValueError(
                f"W must have shape (units, units + features) = ({units}, >{units}), got {self.W.shape}"
            )
        for name in ("W_z", "W_r", "W"):
            _check_shape(name, getattr(self, name), (units, width))
        for name in ("b_z", "b_r"):
            _check_shape(name, getattr(self, name), (units,))
        if self.reset_after:
            if self.b_hn is None:
                raise ValueError("reset_after=True needs the recurrent candidate bias b_hn of shape (units,)")
            _check_shape("b_hn", self.b_hn, (units,))
        elif self.b_hn is not None:
            raise ValueError("b_hn belongs to the reset_after variant; pass reset_after=True or drop b_hn")

    @property
    def units(self) -> int:
        return self.b.shape[0]

    @property
    def features(self) -> int:
        return self.W.shape[1] - self.units

    def arrays(self) -> dict[str, np.ndarray]:
        """The trainable arrays by name (b_hn only for reset_after)."""
        names = [f.name for f in fields(self) if f.name != "reset_after"]
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}

    def replace(self, **arrays) -> "GRUWeights":
        """A copy with some arrays replaced (used by the gradient check)."""
        return GRUWeights(**{**self.arrays(), **arrays, "reset_after": self.reset_after})


@dataclass(frozen=True)
class GRUGradients:
    """What :func:`gru_backward` returns.

    Attributes:
        weights: dL/d(each array of GRUWeights), same names and shapes.
        dx: dL/dx, (batch, time, features).
        dh0: dL/dh_0, (batch, units).
        dh: total dL/dh_t for t = 1..T, (batch, time, units): the gradient that reaches each
            hidden state from the loss through all later steps. Its norm over t shows
            whether gradients vanish.
    """

    weights: dict[str, np.ndarray]
    dx: np.ndarray
    dh0: np.ndarray
    dh: np.ndarray


def _check_shape(name: str, array: np.ndarray, expected: tuple) -> None:
    if array.shape != tuple(expected):
        raise ValueError(f"{name} must have shape {tuple(expected)}, got {array.shape}")


def init_weights(units: int, features: int, *, reset_after: bool = False, seed: int = 0,
                 scale: float = 0.5) -> GRUWeights:
    """Random weights, uniform in [-scale, scale], for examples and tests."""
    if units < 1 or features < 1:
        raise ValueError(f"units and features must be >= 1, got units={units}, features={features}")
    rng = np.random.default_rng(seed)

    def u(*shape):
        return rng.uniform(-scale, scale, size=shape)

    n = units + features
    return GRUWeights(
        W_z=u(units, n), W_r=u(units, n), W=u(units, n),
        b_z=u(units), b_r=u(units), b=u(units),
        reset_after=reset_after, b_hn=u(units) if reset_after else None,
    )


def _check_inputs(x: np.ndarray, weights: GRUWeights, h0: np.ndarray | None):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 3:
        raise ValueError(
            f"x must have shape (batch, time, features) = (batch, time, {weights.features}), "
            f"got {x.ndim}-D shape {x.shape}"
        )
    batch, _, features = x.shape
    if features != weights.features:
        raise ValueError(
            f"x must have shape (batch, time, {weights.features}) for these weights, got {x.shape}"
        )
    if h0 is None:
        h0 = np.zeros((batch, weights.units))
    else:
        h0 = np.asarray(h0, dtype=np.float64)
        _check_shape("h0", h0, (batch, weights.units))
    return x, h0


def gru_step(x_t: np.ndarray, h_prev: np.ndarray, w: GRUWeights) -> tuple[np.ndarray, dict]:
    """One time step. x_t: (batch, features), h_prev: (batch, units) -> h_t: (batch, units).

    Also returns the intermediate values (gates, candidate) that the backward pass and
    the book's gate plots need.
    """
    hx = np.concatenate([h_prev, x_t], axis=1)                     # [h_{t-1}, x_t]: (batch, units + features)
    z = sigmoid(hx @ w.W_z.T + w.b_z)                              # update gate
    r = sigmoid(hx @ w.W_r.T + w.b_r)                              # reset gate
    if not w.reset_after:
        rhx = np.concatenate([r * h_prev, x_t], axis=1)            # [r_t ⊙ h_{t-1}, x_t]
        h_tilde = np.tanh(rhx @ w.W.T + w.b)                       # candidate
        extra = {"rhx": rhx}
    else:
        W_h, W_x = w.W[:, :w.units], w.W[:, w.units:]
        n_h = h_prev @ W_h.T + w.b_hn                               # recurrent product, reset applied after it
        h_tilde = np.tanh(x_t @ W_x.T + w.b + r * n_h)
        extra = {"n_h": n_h}
    h = (1 - z) * h_prev + z * h_tilde                             # new state
    return h, {"hx": hx, "z": z, "r": r, "h_tilde": h_tilde, **extra}


def gru_forward(x: np.ndarray, weights: GRUWeights, h0: np.ndarray | None = None,
                return_gates: bool = False):
    """Run the GRU over a whole sequence.

    Args:
        x: (batch, time, features).
        weights: a :class:`GRUWeights`.
        h0: initial state (batch, units); zeros if None.
        return_gates: also return a dict with ``z``, ``r`` and ``h_tilde``, each (batch, time, units).

    Returns:
        Every hidden state h_1..h_T, (batch, time, units); with return_gates, ``(H, gates)``.
    """
    x, h = _check_inputs(x, weights, h0)
    states, gates = [], {"z": [], "r": [], "h_tilde": []}
    for t in range(x.shape[1]):
        h, cache = gru_step(x[:, t], h, weights)
        states.append(h)
        for key in gates:
            gates[key].append(cache[key])
    H = np.stack(states, axis=1) if states else np.zeros((x.shape[0], 0, weights.units))
    if return_gates:
        return H, {k: np.stack(v, axis=1) for k, v in gates.items()}
    return H


def gru_backward(x: np.ndarray, weights: GRUWeights, dH: np.ndarray,
                 h0: np.ndarray | None = None) -> GRUGradients:
    """Backpropagation through time for either variant.

    Signature: ``gru_backward(x, weights, dH, h0=None) -> GRUGradients``.

    Args:
        x: (batch, time, features), the inputs of the forward pass.
        weights: the :class:`GRUWeights` of the forward pass.
        dH: dL/dH for the *direct* dependence of the loss on each output h_t,
            (batch, time, units). For a loss on the last state only, zeros except ``dH[:, -1]``.
        h0: the initial state used forward (zeros if None).

    Returns:
        A :class:`GRUGradients` with dL/d(weights), dL/dx, dL/dh_0 and the total dL/dh_t.
    """
    x, h0 = _check_inputs(x, weights, h0)
    dH = np.asarray(dH, dtype=np.float64)
    _check_shape("dH", dH, (x.shape[0], x.shape[1], weights.units))
    w, units = weights, weights.units

    # Forward again, keeping every step's intermediates.
    caches, h_prevs, h = [], [], h0
    for t in range(x.shape[1]):
        h_prevs.append(h)
        h, cache = gru_step(x[:, t], h, w)
        caches.append(cache)

    grads = {name: np.zeros_like(a) for name, a in w.arrays().items()}
    dx = np.zeros_like(x)
    dh_total = np.zeros_like(dH)
    dh_next = np.zeros_like(h0)            # gradient arriving at h_t from step t+1
    for t in reversed(range(x.shape[1])):
        c, h_prev = caches[t], h_prevs[t]
        z, r, h_tilde, hx = c["z"], c["r"], c["h_tilde"], c["hx"]
        dh = dH[:, t] + dh_next
        dh_total[:, t] = dh

        # h_t = (1 - z) ⊙ h_{t-1} + z ⊙ h̃_t
        dh_tilde = dh * z
        dz = dh * (h_tilde - h_prev)
        dh_prev = dh * (1 - z)

        da_h = dh_tilde * (1 - h_tilde ** 2)          # through tanh
        if not w.reset_after:
            # h̃_t = tanh(W [r ⊙ h_{t-1}, x_t] + b)
            grads["W"] += da_h.T @ c["rhx"]
            grads["b"] += da_h.sum(0)
            drhx = da_h @ w.W
            dr = drhx[:, :units] * h_prev
            dh_prev += drhx[:, :units] * r
            dx[:, t] += drhx[:, units:]
        else:
            # h̃_t = tanh(W_x x_t + b + r ⊙ (W_h h_{t-1} + b_hn))
            n_h = c["n_h"]
            dn_h = da_h * r
            dr = da_h * n_h
            grads["W"][:, :units] += dn_h.T @ h_prev
            grads["W"][:, units:] += da_h.T @ x[:, t]
            grads["b"] += da_h.sum(0)
            grads["b_hn"] += dn_h.sum(0)
            dh_prev += dn_h @ w.W[:, :units]
            dx[:, t] += da_h @ w.W[:, units:]

        da_z = dz * z * (1 - z)                        # through σ
        da_r = dr * r * (1 - r)
        grads["W_z"] += da_z.T @ hx
        grads["b_z"] += da_z.sum(0)
        grads["W_r"] += da_r.T @ hx
        grads["b_r"] += da_r.sum(0)
        dhx = da_z @ w.W_z + da_r @ w.W_r
        dh_prev += dhx[:, :units]
        dx[:, t] += dhx[:, units:]
        dh_next = dh_prev

    return GRUGradients(weights=grads, dx=dx, dh0=dh_next, dh=dh_total)


# --------------------------------------------------------------------------- framework weights

def weights_from_keras(layer) -> GRUWeights:
    """Read a built ``keras.layers.GRU`` (either ``reset_after``) into the article's convention.

    Keras stores ``kernel`` (features, 3·units) and ``recurrent_kernel`` (units, 3·units) with
    gate blocks in the order [z, r, h], and a bias of shape (3·units,) or, with reset_after,
    (2, 3·units) = [input bias; recurrent bias].

    Keras updates the state as ``h = z ⊙ h_{t-1} + (1 - z) ⊙ h̃``: its z means "keep", the
    article's z means "take the candidate". Since σ(-a) = 1 - σ(a), the article's gate is
    Keras's gate with the pre-activation negated, so the update-gate weights and bias change sign.
    """
    import keras

    if not isinstance(layer, keras.layers.GRU):
        raise TypeError(f"weights_from_keras needs a keras.layers.GRU, got {type(layer).__name__}")
    if not layer.built:
        raise ValueError(
            f"GRU layer {layer.name!r} is not built, so it has no weights yet: call it on an input "
            "or build it with layer.build((batch, time, features)) first"
        )
    cell = layer.cell
    for role, fn, expected in (("activation", cell.activation, "tanh"),
                               ("recurrent_activation", cell.recurrent_activation, "sigmoid")):
        if getattr(fn, "__name__", "") != expected:
            raise ValueError(f"the reference GRU needs {role}={expected!r}, the layer has "
                             f"{getattr(fn, '__name__', fn)!r}")
    units = cell.units
    kernel = np.asarray(keras.ops.convert_to_numpy(cell.kernel), dtype=np.float64)            # (d, 3h)
    recurrent = np.asarray(keras.ops.convert_to_numpy(cell.recurrent_kernel), dtype=np.float64)  # (h, 3h)
    if cell.use_bias:
        bias = np.asarray(keras.ops.convert_to_numpy(cell.bias), dtype=np.float64)
    else:
        bias = np.zeros((2, 3 * units) if cell.reset_after else (3 * units,))
    if cell.reset_after:
        b_in, b_rec = bias[0], bias[1]
    else:
        b_in, b_rec = bias, np.zeros(3 * units)

    def block(matrix, k):                  # gate k of [z, r, h]
        return matrix[:, k * units:(k + 1) * units]

    def W_of(k):                            # (units, units + features), columns [h, x]
        return np.concatenate([block(recurrent, k).T, block(kernel, k).T], axis=1)

    def b_of(k, vector):
        return vector[k * units:(k + 1) * units]

    if cell.reset_after:
        b = b_of(2, b_in)
        b_hn = b_of(2, b_rec)
    else:
        b, b_hn = b_of(2, b_in), None
    return GRUWeights(
        W_z=-W_of(0), b_z=-(b_of(0, b_in) + b_of(0, b_rec)),   # sign flip: Keras z keeps, ours updates
        W_r=W_of(1), b_r=b_of(1, b_in) + b_of(1, b_rec),
        W=W_of(2), b=b,
        reset_after=bool(cell.reset_after), b_hn=b_hn,
    )


def weights_from_torch(module) -> GRUWeights:
    """Read a one-layer, one-direction ``torch.nn.GRU`` into the article's convention.

    PyTorch is reset-after with gate blocks ordered [r, z, n] in ``weight_ih_l0`` (3·units, features)
    and ``weight_hh_l0`` (3·units, units), and like Keras its z means "keep", so z changes sign.
    """
    import torch

    if not isinstance(module, torch.nn.GRU):
        raise TypeError(f"weights_from_torch needs a torch.nn.GRU, got {type(module).__name__}")
    if module.num_layers != 1 or module.bidirectional or getattr(module, "proj_size", 0):
        raise ValueError("weights_from_torch reads a single-layer, unidirectional GRU; "
                         f"got num_layers={module.num_layers}, bidirectional={module.bidirectional}")
    units = module.hidden_size

    def get(name, shape):
        p = getattr(module, name, None)
        return np.zeros(shape) if p is None else p.detach().cpu().double().numpy()

    W_ih = get("weight_ih_l0", None)
    W_hh = get("weight_hh_l0", None)
    b_ih = get("bias_ih_l0", (3 * units,))
    b_hh = get("bias_hh_l0", (3 * units,))

    def rows(m, k):                         # gate k of [r, z, n]
        return m[k * units:(k + 1) * units]

    def W_of(k):
        return np.concatenate([rows(W_hh, k), rows(W_ih, k)], axis=1)

    return GRUWeights(
        W_r=W_of(0), b_r=rows(b_ih, 0) + rows(b_hh, 0),
        W_z=-W_of(1), b_z=-(rows(b_ih, 1) + rows(b_hh, 1)),
        W=W_of(2), b=rows(b_ih, 2), b_hn=rows(b_hh, 2),
        reset_after=True,
    )


# --------------------------------------------------------------------------- parameter counts

def count_params(cell: str, units: int, features: int, reset_after: bool = True) -> int:
    """Trainable parameters of one Keras recurrent layer, from the formulas.

    With h = units and d = features, one gate block costs h(h + d) + h:
    SimpleRNN has one block, LSTM four, GRU three, plus 3h for the extra
    recurrent bias of the reset-after form. ``reset_after`` only matters for "GRU".
    """
    if cell not in CELL_NAMES:
        raise ValueError(f"unknown cell {cell!r}; expected one of {', '.join(CELL_NAMES)}")
    for name, value in (("units", units), ("features", features)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    h, d = int(units), int(features)
    block = h * (h + d) + h
    if cell == "SimpleRNN":
        return block
    if cell == "LSTM":
        return 4 * block
    return 3 * block + (3 * h if reset_after else 0)
