"""Activations and softmax, each as a forward/backward pair and (the elementwise ones)
as a parameter-free :class:`~scratchrnn.module.Module`.

Every operation comes as a pair, in the CS231n style::

    out, cache = op_forward(x)
    dx = op_backward(dout, cache)

Plain functions ``softmax``/``log_softmax`` (numerically stable, no cache) are here
too; ``sigmoid`` lives in :mod:`scratchrnn.functional` and is re-exported. Any
shape ``*``, float32 or float64; ``dout`` must have the forward output's shape
and dtype.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .checks import check_float_input, check_same_shape
from .functional import sigmoid
from .module import Module

__all__ = [
    "ReLU",
    "Tanh",
    "Sigmoid",
    "sigmoid",
    "softmax",
    "log_softmax",
    "relu_forward",
    "relu_backward",
    "tanh_forward",
    "tanh_backward",
    "sigmoid_forward",
    "sigmoid_backward",
    "softmax_forward",
    "softmax_backward",
    "log_softmax_forward",
    "log_softmax_backward",
]


# ---------------------------------------------------------------------------
# plain functions: sigmoid, softmax, log_softmax
# ---------------------------------------------------------------------------
def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """log softmax(x)_k = x_k - m - log Σ_j exp(x_j - m), with m = max_j x_j.

    Subtracting the maximum (log-sum-exp) keeps every ``exp`` argument <= 0, so
    nothing overflows. Shape and dtype are those of ``x``.
    """
    x = np.asarray(x)
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """softmax(x)_k = exp(x_k - m) / Σ_j exp(x_j - m), with m = max_j x_j (stable)."""
    x = np.asarray(x)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


# ---------------------------------------------------------------------------
# activations: forward / backward pairs
# ---------------------------------------------------------------------------
def relu_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """y = max(0, x), elementwise. x: (*). Returns (y, cache = x)."""
    x = check_float_input("x", x)
    return np.maximum(x, 0), x


def relu_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """dx = dout * [x > 0] (the gradient at x = 0 is 0, as torch)."""
    x = cache
    dout = check_float_input("dout", dout, x.dtype)
    check_same_shape("dout", dout, x.shape)
    return dout * (x > 0)


def tanh_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """y = tanh(x), elementwise. x: (*). Returns (y, cache = y)."""
    x = check_float_input("x", x)
    y = np.tanh(x)
    return y, y


def tanh_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """dx = dout * (1 - y²), with y = tanh(x)."""
    y = cache
    dout = check_float_input("dout", dout, y.dtype)
    check_same_shape("dout", dout, y.shape)
    return dout * (1 - y * y)


def sigmoid_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """y = σ(x), elementwise (stable, see :func:`sigmoid`). Returns (y, cache = y)."""
    x = check_float_input("x", x)
    y = sigmoid(x)
    return y, y


def sigmoid_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """dx = dout * y * (1 - y), with y = σ(x)."""
    y = cache
    dout = check_float_input("dout", dout, y.dtype)
    check_same_shape("dout", dout, y.shape)
    return dout * y * (1 - y)


def softmax_forward(x: np.ndarray, axis: int = -1) -> tuple[np.ndarray, tuple]:
    """y = softmax(x) along ``axis``. Returns (y, cache = (y, axis))."""
    x = check_float_input("x", x)
    y = softmax(x, axis=axis)
    return y, (y, axis)


def softmax_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """dx_k = y_k (dout_k - Σ_j dout_j y_j)  (the softmax Jacobian, diag(y) - y yᵀ)."""
    y, axis = cache
    dout = check_float_input("dout", dout, y.dtype)
    check_same_shape("dout", dout, y.shape)
    return y * (dout - np.sum(dout * y, axis=axis, keepdims=True))


def log_softmax_forward(x: np.ndarray, axis: int = -1) -> tuple[np.ndarray, tuple]:
    """y = log_softmax(x) along ``axis``. Returns (y, cache = (softmax(x), axis))."""
    x = check_float_input("x", x)
    y = log_softmax(x, axis=axis)
    return y, (np.exp(y), axis)


def log_softmax_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """dx_k = dout_k - softmax(x)_k Σ_j dout_j."""
    p, axis = cache
    dout = check_float_input("dout", dout, p.dtype)
    check_same_shape("dout", dout, p.shape)
    return dout - p * np.sum(dout, axis=axis, keepdims=True)


class _Activation(Module):
    """An elementwise activation as a parameter-free Module."""

    _forward = staticmethod(relu_forward)
    _backward = staticmethod(relu_backward)

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        return self._forward(x)

    def backward(self, dout: np.ndarray, cache: Any) -> np.ndarray:
        return self._backward(dout, cache)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ReLU(_Activation):
    """y = max(0, x); dx = dout * [x > 0]. Any shape, float32 or float64."""

    _forward = staticmethod(relu_forward)
    _backward = staticmethod(relu_backward)


class Tanh(_Activation):
    """y = tanh(x); dx = dout * (1 - y²). Any shape, float32 or float64."""

    _forward = staticmethod(tanh_forward)
    _backward = staticmethod(tanh_backward)


class Sigmoid(_Activation):
    """y = σ(x) (overflow-free); dx = dout * y (1 - y). Any shape, float32 or float64."""

    _forward = staticmethod(sigmoid_forward)
    _backward = staticmethod(sigmoid_backward)
