"""Cross-entropy with class weights and ignore_index, the sequence loss, accuracy.

Semantics are exactly ``torch.nn.functional.cross_entropy``'s (class-index
targets). For logits ``s`` (N, C), targets ``y`` (N,), class weights ``w`` (C,)
(all ones when not given) and the set V = {i : y_i != ignore_index}::

    log p_i   = log_softmax(s_i)                       (log-sum-exp, stable)
    nll_i     = -log p_i[y_i]
    ℓ_i       = w[y_i] · nll_i   for i in V,   0 otherwise       reduction="none"
    L_sum     = Σ_{i∈V} w[y_i] · nll_i                           reduction="sum"
    L_mean    = Σ_{i∈V} w[y_i] · nll_i / Σ_{i∈V} w[y_i]           reduction="mean"

So "mean" is a *weighted* mean over the non-ignored targets, not a division
by N. The gradient, with g_i = ∂L/∂ℓ_i (dloss · w[y_i] / Σ w for "mean")::

    ∂L/∂s_i = g_i · (softmax(s_i) - onehot(y_i))     for i in V,   0 otherwise

Edge cases, as torch (checked by experiment against torch 2.x):
  * every target ignored (or N = 0): "mean" is 0/0 = nan, "sum" is 0, "none" is
    zeros; the gradient is all zeros (no row takes part).
  * non-ignored targets whose class weights sum to 0: "mean" is nan and the
    gradient of those rows is nan (torch divides by the zero total weight).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .checks import check_float_input, check_int_array

__all__ = [
    "cross_entropy",
    "cross_entropy_backward",
    "sequence_cross_entropy",
    "sequence_cross_entropy_backward",
    "accuracy",
]

_REDUCTIONS = ("mean", "sum", "none")


def cross_entropy(
    logits: np.ndarray,
    target: np.ndarray,
    weight: np.ndarray | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> tuple[Any, tuple]:
    """Softmax cross-entropy of ``logits`` (N, C) against class indices ``target`` (N,).

    weight: (C,) class weights of the logits' dtype, or None (all ones).
    ignore_index: targets equal to it contribute nothing (loss and gradient).
    reduction: "mean" (weighted mean over non-ignored targets, see the module
    docstring), "sum", or "none" (per-sample losses (N,), 0 where ignored).

    Returns ``(loss, cache)``: loss is a scalar of the logits' dtype for
    "mean"/"sum" (nan for "mean" when no target counts, as torch) and an (N,)
    array for "none".
    """
    s = check_float_input("logits", logits)
    if s.ndim != 2 or s.shape[1] < 1:
        raise ValueError(f"logits must have shape (N, C) with C >= 1, got {s.shape}")
    N, C = s.shape
    y = check_int_array("target", target)
    if y.shape != (N,):
        raise ValueError(f"target must have shape ({N},) (N from logits), got {y.shape}")
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
        raise ValueError(f"ignore_index must be an int, got {ignore_index!r}")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    valid = y != ignore_index  # (N,) the set V
    if np.any(valid & ((y < 0) | (y >= C))):
        bad = y[valid & ((y < 0) | (y >= C))]
        raise ValueError(
            f"target values must lie in [0, {C}) (C classes) or equal ignore_index="
            f"{ignore_index}, got {bad[:5].tolist()}"
        )
    if weight is not None:
        w = check_float_input("weight", weight, s.dtype)
        if w.shape != (C,):
            raise ValueError(f"weight must have shape ({C},) (C classes), got {w.shape}")
    else:
        w = np.ones(C, dtype=s.dtype)

    y_safe = np.where(valid, y, 0)  # any in-range class for the ignored rows
    # log p = shifted − log Σ exp(shifted), shifted = s − max (log-sum-exp, as
    # log_softmax); only the targets' entries of log p are formed, and exp(shifted) is
    # kept for the backward's softmax (one exp pass over the logits in all)
    shifted = s - s.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    # >= 1: the row's maximum contributes exp(0); summed as a product with ones (a
    # third of the time of a sum along short rows)
    sum_e = e @ np.ones(C, dtype=s.dtype)
    rows = np.arange(N)
    nll = np.log(sum_e) - shifted[rows, y_safe]  # (N,)
    w_y = np.where(valid, w[y_safe], 0).astype(s.dtype)  # (N,) w[y_i], 0 if ignored
    losses = np.where(valid, w_y * nll, 0).astype(s.dtype)  # ℓ_i

    total_weight = w_y.sum()
    if reduction == "none":
        loss: Any = losses
    elif reduction == "sum":
        loss = losses.sum()
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            loss = losses.sum() / total_weight
    cache = (e, sum_e, y_safe, valid, w_y, total_weight, reduction)
    return loss, cache


def cross_entropy_backward(dloss: Any, cache: tuple) -> np.ndarray:
    """∂L/∂logits (N, C), given ``dloss`` = ∂(upstream)/∂loss.

    dloss is a scalar for reduction "mean"/"sum" and an (N,) array for "none".
    ∂L/∂s_i = g_i (softmax(s_i) - onehot(y_i)) with g_i = dloss · w[y_i] / Σ_V w
    ("mean"), dloss · w[y_i] ("sum") or dloss_i · w[y_i] ("none"); 0 for ignored i.
    """
    e, sum_e, y_safe, valid, w_y, total_weight, reduction = cache
    N, _C = e.shape
    dt = e.dtype
    if reduction == "none":
        d = check_float_input("dloss", dloss, dt)
        if d.shape != (N,):
            raise ValueError(f"dloss must have shape ({N},) for reduction='none', got {d.shape}")
        g = w_y * d
    else:
        if np.ndim(dloss) != 0:
            raise ValueError(
                f"dloss must be a scalar for reduction={reduction!r}, got shape {np.shape(dloss)}"
            )
        d = dt.type(dloss)
        if reduction == "sum":
            g = w_y * d
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                g = w_y * (d / total_weight)
    g = np.where(valid, g, 0).astype(dt)  # (N,) ignored rows take no part
    ds = e * (g / sum_e)[:, None]  # g_i softmax(s_i)
    ds[np.arange(N), y_safe] -= g  # − g_i onehot(y_i)
    return ds


def sequence_cross_entropy(
    logits: np.ndarray, targets: np.ndarray, mask_index: int = 0
) -> tuple[Any, tuple]:
    """The generation lab's sequence loss: mean cross-entropy over non-mask positions.

    logits: (B, T, C) (batch-first, as the book);  targets: (B, T) integers.
        L = Σ_{(b,t): y_bt != mask_index} nll_bt / #{(b,t): y_bt != mask_index}
    i.e. :func:`cross_entropy` on the (B·T, C) flattened positions with
    ``ignore_index=mask_index``. Returns (loss scalar, cache); nan if every
    position is masked (as torch).
    """
    s = check_float_input("logits", logits)
    if s.ndim != 3:
        raise ValueError(f"logits must have shape (B, T, C), got {s.shape}")
    y = check_int_array("targets", targets)
    if y.shape != s.shape[:2]:
        raise ValueError(
            f"targets must have shape {s.shape[:2]} (B, T from logits), got {y.shape}"
        )
    B, T, C = s.shape
    loss, cache = cross_entropy(
        s.reshape(B * T, C), y.reshape(B * T), ignore_index=mask_index, reduction="mean"
    )
    return loss, (cache, s.shape)


def sequence_cross_entropy_backward(dloss: Any, cache: tuple) -> np.ndarray:
    """∂L/∂logits (B, T, C) of :func:`sequence_cross_entropy`; dloss is a scalar."""
    ce_cache, shape = cache
    return cross_entropy_backward(dloss, ce_cache).reshape(shape)


def accuracy(
    logits: np.ndarray, target: np.ndarray, ignore_index: int | None = None
) -> float:
    """Percentage of positions whose arg-max class equals the target.

    logits: (*, C);  target: (*) integers. Positions where target == ignore_index
    are left out of both counts. Returns 100 · correct / counted (nan if nothing
    is counted).
    """
    s = check_float_input("logits", logits)
    if s.ndim < 1:
        raise ValueError(f"logits must have shape (*, C), got {s.shape}")
    y = check_int_array("target", target)
    if y.shape != s.shape[:-1]:
        raise ValueError(f"target must have shape {s.shape[:-1]} (logits minus C), got {y.shape}")
    pred = np.argmax(s, axis=-1)
    counted = np.ones(y.shape, dtype=bool) if ignore_index is None else y != ignore_index
    n = int(counted.sum())
    if n == 0:
        return float("nan")
    return 100.0 * float(np.sum((pred == y) & counted)) / n

