"""The three recurrent cells side by side, each step written the same way, and what it takes to
write them: a measured answer to "a GRU is easier to implement than an LSTM".

``rnn_step``, ``lstm_step`` and ``gru_step`` are minimal NumPy steps in one style (one line per
equation, weights named after the symbols, ``[h, x]`` concatenated once). The GRU follows the
article's convention (z weighs the new candidate) and the equations of ``grubook.reference``; the
tests prove each step equal to Keras on the same weights. ``measures`` counts, by reading their
source, what each step needs. Counts of lines and operations say how much there is to write and
get right; they say nothing about how easy the cell is to understand, train or tune.
"""

from __future__ import annotations

import ast
import inspect

import numpy as np

from .reference import sigmoid

__all__ = ["rnn_step", "lstm_step", "gru_step", "STEPS", "STATES", "measures"]


def rnn_step(x_t, h, p):
    """h_t = tanh(W [h_{t-1}, x_t] + b)."""
    h = np.tanh(np.concatenate([h, x_t], axis=1) @ p["W"].T + p["b"])
    return h


def lstm_step(x_t, state, p):
    """Hochreiter & Schmidhuber's cell with a forget gate (Gers et al.), as in Keras."""
    h, c = state
    hx = np.concatenate([h, x_t], axis=1)
    i = sigmoid(hx @ p["W_i"].T + p["b_i"])                 # input gate
    f = sigmoid(hx @ p["W_f"].T + p["b_f"])                 # forget gate
    o = sigmoid(hx @ p["W_o"].T + p["b_o"])                 # output gate
    c_tilde = np.tanh(hx @ p["W_c"].T + p["b_c"])           # candidate cell state
    c = f * c + i * c_tilde
    h = o * np.tanh(c)
    return h, c


def gru_step(x_t, h, p):
    """The article's four equations (z weighs the new candidate)."""
    hx = np.concatenate([h, x_t], axis=1)
    z = sigmoid(hx @ p["W_z"].T + p["b_z"])                 # update gate
    r = sigmoid(hx @ p["W_r"].T + p["b_r"])                 # reset gate
    h_tilde = np.tanh(np.concatenate([r * h, x_t], axis=1) @ p["W_h"].T + p["b_h"])
    h = (1 - z) * h + z * h_tilde
    return h


STEPS = {"SimpleRNN": rnn_step, "LSTM": lstm_step, "GRU": gru_step}
STATES = {"SimpleRNN": 1, "LSTM": 2, "GRU": 1}            # vectors carried from step to step


def measures(cell: str) -> dict[str, int]:
    """What one step of ``cell`` takes, read from its source: statements in the body (docstring
    excluded), matrix products, gate and output nonlinearities (sigmoid, tanh), element-wise
    products, weight matrices and state vectors."""
    if cell not in STEPS:
        raise ValueError(f"unknown cell {cell!r}; expected one of {', '.join(STEPS)}")
    tree = ast.parse(inspect.getsource(STEPS[cell])).body[0]
    body = [s for s in tree.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    nodes = [n for s in body for n in ast.walk(s)]
    calls = [n.func for n in nodes if isinstance(n, ast.Call)]
    weights = {n.slice.value for n in nodes if isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Constant)
               and str(n.slice.value).startswith("W")}
    return {
        "statements": len(body),
        "matrix products": sum(isinstance(n, ast.BinOp) and isinstance(n.op, ast.MatMult) for n in nodes),
        "nonlinearities": sum(getattr(f, "attr", getattr(f, "id", None)) in ("sigmoid", "tanh") for f in calls),
        "element-wise products": sum(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult) for n in nodes),
        "weight matrices": len(weights),
        "state vectors": STATES[cell],
    }
