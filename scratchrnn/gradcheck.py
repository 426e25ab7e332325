"""Finite-difference gradient checks, usable on any NumPy function.

The central difference ``(f(x + eps) - f(x - eps)) / (2 eps)`` has error
O(eps^2); in float64 with ``eps = 1e-6`` it agrees with an exact gradient to
about 1e-8 relative, which is what :func:`gradcheck` asserts by default.

Typical use, checking a hand-written backward::

    out, cache = f_forward(x, W)
    dout = rng.standard_normal(out.shape)
    dx, dW = f_backward(dout, cache)
    loss = lambda: np.sum(f_forward(x, W)[0] * dout)   # scalar with gradient dout
    assert_gradients_close(loss, {"x": x, "W": W}, {"x": dx, "W": dW})
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of the scalar ``f()`` with respect to ``x``.

    ``x`` is perturbed *in place*, one element at a time, and restored; ``f``
    must read it afresh on every call. Returns an array of ``x``'s shape (float64).
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise ValueError("x must be a floating-point numpy.ndarray")
    grad = np.zeros(x.shape, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    for _ in it:
        i = it.multi_index
        old = x[i].item()
        x[i] = old + eps
        f_plus = float(f())
        x[i] = old - eps
        f_minus = float(f())
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def max_relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max(1, |b|): the parity policy's measure (0.0 for empty arrays)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b))))


def gradient_errors(
    f: Callable[[], float],
    inputs: Mapping[str, np.ndarray],
    analytic: Mapping[str, np.ndarray],
    eps: float = 1e-6,
) -> dict[str, float]:
    """Max relative error between ``analytic[name]`` and the numerical gradient, per input."""
    errors = {}
    for name, x in inputs.items():
        if name not in analytic:
            raise ValueError(f"no analytic gradient given for {name!r}")
        num = numerical_gradient(f, x, eps)
        errors[name] = max_relative_error(analytic[name], num)
    return errors


def assert_gradients_close(
    f: Callable[[], float],
    inputs: Mapping[str, np.ndarray],
    analytic: Mapping[str, np.ndarray],
    eps: float = 1e-6,
    tol: float = 1e-7,
) -> dict[str, float]:
    """Raise ``AssertionError`` if any analytic gradient differs from finite differences.

    ``inputs`` must be float64 arrays that ``f`` reads (they are perturbed in
    place). Returns the errors per input name.
    """
    for name, x in inputs.items():
        if x.dtype != np.float64:
            raise ValueError(f"gradcheck needs float64 inputs; {name!r} is {x.dtype}")
    errors = gradient_errors(f, inputs, analytic, eps)
    bad = {k: v for k, v in errors.items() if not v <= tol}
    if bad:
        raise AssertionError(f"gradient check failed (tol {tol:g}): {bad}")
    return errors
