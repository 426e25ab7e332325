"""Gradient clipping by the joint norm of all gradients, as ``torch.nn.utils.clip_grad_norm_``."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np

from ..module import Module
from .optimizers import Optimizer

__all__ = ["clip_grad_norm"]


def _flat_grads(grads: object) -> np.ndarray | None:
    """G, the (N,) buffer that a flat Module's or Optimizer's gradients are views of."""
    flat = grads.flat_parameters() if isinstance(grads, (Module, Optimizer)) else None
    return None if flat is None else flat[1]


def _grad_list(grads: Module | Optimizer | np.ndarray | Iterable[np.ndarray]) -> list[np.ndarray]:
    if isinstance(grads, Module):
        out = grads.gradients()
    elif isinstance(grads, Optimizer):
        out = list(grads.grads)
    elif isinstance(grads, np.ndarray):
        out = [grads]
    elif isinstance(grads, Iterable) and not isinstance(grads, (str, bytes, Mapping)):
        out = list(grads)
    else:
        raise ValueError(
            "grads must be a Module, an Optimizer, an ndarray or an iterable of ndarrays, "
            f"got {type(grads).__name__}"
        )
    for i, g in enumerate(out):
        if not isinstance(g, np.ndarray) or g.dtype.kind != "f":
            raise ValueError(f"grads[{i}] must be a floating-point numpy.ndarray, got {g!r}")
        if not g.flags.writeable:
            raise ValueError(f"grads[{i}] is read-only; clip_grad_norm scales it in place")
    return out


def _vector_norm(x: np.ndarray, p: float) -> np.floating:
    """torch.linalg.vector_norm(x, p) in x's dtype (0 for an empty array)."""
    if x.size == 0:
        return x.dtype.type(0)
    if p == 2.0:
        x = np.ascontiguousarray(x).reshape(-1)
        return np.sqrt(np.dot(x, x))  # x·x = |x|·|x| bit for bit: no need for np.abs
    a = np.abs(x.ravel())
    if p == math.inf:
        return a.max()
    if p == 1.0:
        return a.sum()
    return np.sum(a**p) ** (1.0 / p)


def clip_grad_norm(
    grads: Module | Optimizer | np.ndarray | Iterable[np.ndarray],
    max_norm: float,
    norm_type: float | str = 2.0,
    error_if_nonfinite: bool = False,
) -> float:
    r"""Scale gradients in place so that their joint norm is at most ``max_norm``.

    As ``torch.nn.utils.clip_grad_norm_``::

        total_norm = ‖(‖g_1‖_p, ‖g_2‖_p, …)‖_p     (the p-norm of all gradients as one vector)
        clip_coef  = max_norm / (total_norm + 1e-6)
        g_i ← g_i · min(clip_coef, 1)                (so nothing changes when under the norm)

    ``norm_type`` p may be any p > 0 or ``inf`` (max |g|). ``grads`` is a Module
    (its gradients), an Optimizer (the gradients it steps with), one array or a
    list of arrays. Computed in the gradients' dtype. Returns ``total_norm`` (before
    clipping) as a float; 0.0 when there are no gradients.

    A non-finite total norm raises ``RuntimeError`` if ``error_if_nonfinite``;
    otherwise, as in torch, the gradients are multiplied by the NaN/0 coefficient.
    Unlike torch, a negative or NaN ``max_norm`` is rejected (torch would flip the
    gradients' sign). Gradients that are views of one flat buffer G
    (:meth:`Module.flatten_parameters <scratchrnn.module.Module.flatten_parameters>`)
    are scaled with one multiplication of G; the norms are still taken per gradient,
    so the result is the same bit for bit.
    """
    gs = _grad_list(grads)
    max_norm_f = float(max_norm) if isinstance(max_norm, (int, float, np.number)) else math.nan
    if isinstance(max_norm, (bool, np.bool_)) or not max_norm_f >= 0.0:
        raise ValueError(f"max_norm must be a number >= 0, got {max_norm!r}")
    try:
        p = float(norm_type)
    except (TypeError, ValueError):
        raise ValueError(f"norm_type must be a number > 0 or inf, got {norm_type!r}") from None
    if not p > 0.0:
        raise ValueError(f"norm_type must be a number > 0 or inf, got {norm_type!r}")
    if not gs:
        return 0.0
    dtype = np.result_type(*gs)
    norms = np.array([_vector_norm(g, p) for g in gs], dtype=dtype)
    total = _vector_norm(norms, p)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {p} for gradients is non-finite, so it cannot be "
            "clipped. To disable this error and scale the gradients by the non-finite norm "
            "anyway, set error_if_nonfinite=False"
        )
    # torch evaluates max_norm / tensor as tensor.reciprocal() * max_norm
    clip_coef = (dtype.type(1.0) / (total + dtype.type(1e-6))) * dtype.type(max_norm_f)
    clip_coef_clamped = np.minimum(clip_coef, dtype.type(1.0))  # NaN propagates, as torch.clamp
    if clip_coef_clamped != 1.0:
        G = _flat_grads(grads)
        if G is not None:
            G *= clip_coef_clamped.astype(G.dtype)
            return float(total)
        for g in gs:
            g *= clip_coef_clamped.astype(g.dtype)
    return float(total)
