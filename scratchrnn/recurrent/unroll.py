r"""One layer, one direction: the time unroll and its backward through time (BPTT).

Only the recurrence loops over time. The input projections of all T steps are one
matrix product before the loop, and after the backward loop the weight gradients are
one matrix product each::

    GX = X W_ih^T + b_ih                         (T, B, G·H), before the loop
    dW_ih = Σ_t dgx_t^T x_t                      one product over all T·B rows
    dW_hh = Σ_t dgh_t^T h_{t-1}                  (GRU, slide form: r_t ⊙ h_{t-1} for n)
    db_ih = Σ_t dgx_t,  db_hh = Σ_t dgh_t

The step itself is the cell's (:class:`Cell`, which
:class:`~scratchrnn.recurrent.base.Recurrent` implements): on the reference path the
step functions of :mod:`scratchrnn.cells`, one call per step; on the fast path one
call of :mod:`scratchrnn.fastpath` for the whole sequence. Variable lengths: ``mask``
(T, B, 1) is True where t < lengths[b]; a masked step leaves the state unchanged and
outputs 0 (torch's packed sequences).
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

import numpy as np

from .. import fastpath


class Cell(Protocol):
    """What the unroll needs of a sequence module: its cell (see ``Recurrent``)."""

    reference: bool  # True: always the step functions, never the fast path

    def step_forward(self, gx_t, h_prev, c_prev, W_hh, b_hh, W_hr) -> tuple: ...

    def step_backward(self, dh_t, dc_t, cache, W_hh, W_hr) -> tuple: ...

    def fast_path(self) -> tuple | None: ...

    def weight_hh_grad(self, dGH: np.ndarray, steps: list) -> np.ndarray: ...


class DirectionWeights(NamedTuple):
    """The parameters of one layer and direction (torch's names without the suffix)."""

    W_ih: np.ndarray  # (G·H, In)
    W_hh: np.ndarray  # (G·H, P)
    b_ih: np.ndarray | None  # (G·H,)
    b_hh: np.ndarray | None  # (G·H,)
    W_hr: np.ndarray | None  # (P, H), LSTM with proj_size only


class DirectionCache(NamedTuple):
    """What the backward of one layer and direction needs."""

    x: np.ndarray  # (T, B, In): this layer's input
    steps: list | fastpath.FastCache  # per time index t: the step cache; or the fast path's
    dh_in: list | None  # LSTM with projection: ∂L/∂h_t per step, filled by backward


class DirectionGrads(NamedTuple):
    """The backward of one layer and direction."""

    d_x: np.ndarray | None  # (T, B, In), None unless asked for
    dh0: np.ndarray  # (B, P)
    dc0: np.ndarray | None  # (B, H), LSTM only
    params: dict[str, np.ndarray]  # keyed weight_ih, weight_hh, bias_ih, … (no suffix)
    state_grads: np.ndarray | None  # (T, B, P) = ∂L/∂h_t, 0 at padded steps (if recorded)


def is_fast(cache: DirectionCache) -> bool:
    """Whether the forward that made ``cache`` ran the fast path."""
    return isinstance(cache.steps, fastpath.FastCache)


def lengths_mask(lengths: np.ndarray, T: int) -> np.ndarray:
    """(T, B, 1) boolean mask: True where step t < lengths[b]."""
    return (np.arange(T)[:, None] < lengths[None, :])[:, :, None]


def unroll_forward(
    cell: Cell,
    x: np.ndarray,
    W: DirectionWeights,
    h0: np.ndarray,
    c0: np.ndarray | None,
    reverse: bool,
    mask: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, DirectionCache]:
    """Run ``cell`` over x (T, B, In) from h0 (B, P) (and c0 (B, H) for LSTM).

    Returns (out (T, B, P), h_n (B, P), c_n (B, H) or None, cache); out is in time
    order also when ``reverse`` (processing t = T−1 … 0).
    """
    fast = None if cell.reference or W.W_hr is not None else cell.fast_path()
    if fast is not None:  # the fast path computes its own projections (gate-outer)
        forward, _, extra = fast
        state = (h0,) if c0 is None else (h0, c0)
        out, h, c, fcache = forward(x, *state, W.W_ih, W.W_hh, W.b_ih, W.b_hh, *extra,
                                    mask, reverse)
        return out, h, c, DirectionCache(x, fcache, None)
    T, B, _ = x.shape
    GX = (x.reshape(T * B, -1) @ W.W_ih.T).reshape(T, B, -1)
    if W.b_ih is not None:
        GX += W.b_ih
    out = np.empty((T, B, h0.shape[-1]), dtype=x.dtype)
    steps: list = [None] * T
    h, c = h0, c0
    for t in (reversed(range(T)) if reverse else range(T)):
        h_t, c_t, steps[t] = cell.step_forward(GX[t], h, c, W.W_hh, W.b_hh, W.W_hr)
        if mask is None:
            h, c = h_t, c_t
            out[t] = h_t
        else:
            m = mask[t]
            out[t] = np.where(m, h_t, 0)
            h = np.where(m, h_t, h)
            c = None if c is None else np.where(m, c_t, c)
    return out, h, c, DirectionCache(x, steps, [None] * T if W.W_hr is not None else None)


def unroll_backward(
    cell: Cell,
    d_out: np.ndarray,
    dh: np.ndarray,
    dc: np.ndarray | None,
    cache: DirectionCache,
    W: DirectionWeights,
    reverse: bool,
    mask: np.ndarray | None,
    input_grad: bool = True,
    record_state_grads: bool = False,
) -> DirectionGrads:
    """BPTT through one direction: d_out (T, B, P) the gradient of its outputs, dh (B, P)
    (and dc (B, H)) that of its final state. Walks the steps in the opposite order.
    """
    x, steps = cache.x, cache.steps
    T, B, _ = x.shape
    N = T * B
    grads: dict[str, np.ndarray] = {}
    if is_fast(cache):
        backward = cell.fast_path()[1]
        dGX, dGH, H_prev, dh, dc, G = backward(d_out, dh, dc, steps, W.W_hh)
        if record_state_grads and mask is not None:
            G = G * mask
        d_x = weight_grads(cell, x, dGX, dGH, H_prev.reshape(N, -1), W, grads, input_grad)
        return DirectionGrads(d_x, dh, dc, grads, G if record_state_grads else None)
    dGX = np.zeros((T, B, W.W_ih.shape[0]), dtype=x.dtype)
    dGH = np.zeros_like(dGX)
    G = np.zeros((T, B, dh.shape[-1]), dtype=x.dtype) if record_state_grads else None
    for t in (range(T) if reverse else reversed(range(T))):
        dh_t = dh + d_out[t]
        dc_t = dc
        if mask is not None:
            # a padded step passes the state's gradient through unchanged and gets none
            m = mask[t]
            dh_carry, dh_t = np.where(m, 0, dh), np.where(m, dh_t, 0)
            if dc is not None:
                dc_carry, dc_t = np.where(m, 0, dc), np.where(m, dc, 0)
        if cache.dh_in is not None:
            cache.dh_in[t] = dh_t
        if G is not None:
            G[t] = dh_t
        dGX[t], dGH[t], dh, dc = cell.step_backward(dh_t, dc_t, steps[t], W.W_hh, W.W_hr)
        if mask is not None:
            dh = dh + dh_carry
            if dc is not None:
                dc = dc + dc_carry
    if W.W_hr is not None:
        M = np.stack([s.m_t for s in steps]).reshape(N, -1)
        grads["weight_hr"] = np.stack(cache.dh_in).reshape(N, -1).T @ M
    d_x = weight_grads(cell, x, dGX, dGH, steps, W, grads, input_grad)
    return DirectionGrads(d_x, dh, dc, grads, G)


def weight_grads(
    cell: Cell,
    x: np.ndarray,
    dGX: np.ndarray,
    dGH: np.ndarray,
    H_prev: np.ndarray | list,
    W: DirectionWeights,
    grads: dict[str, np.ndarray],
    input_grad: bool,
) -> np.ndarray | None:
    """One matrix product each: dW_ih = Σ_t dgx_t^T x_t, dW_hh = Σ_t dgh_t^T h_{t-1}.

    dGX, dGH (T, B, G·H); ``H_prev`` is the (T·B, P) array W_hh multiplied, or the
    reference path's step caches (the cell's :meth:`weight_hh_grad` reads them).
    Fills ``grads``; returns d_input = dgx_t W_ih (T, B, In), None unless ``input_grad``.
    """
    N = dGX.shape[0] * dGX.shape[1]
    dGX_flat, dGH_flat = dGX.reshape(N, -1), dGH.reshape(N, -1)
    grads["weight_ih"] = dGX_flat.T @ x.reshape(N, -1)
    if isinstance(H_prev, np.ndarray):
        grads["weight_hh"] = dGH_flat.T @ H_prev
    else:
        grads["weight_hh"] = cell.weight_hh_grad(dGH_flat, H_prev)
    if W.b_ih is not None:
        # Σ over the T·B rows as a product with a vector of ones (a quarter of the
        # time of a column sum of a C-ordered array)
        ones = np.ones(N, dtype=dGX.dtype)
        grads["bias_ih"] = ones @ dGX_flat
        # Elman and LSTM: dgh_t = dgx_t, the fast path returns one array for both
        grads["bias_hh"] = grads["bias_ih"].copy() if dGH is dGX else ones @ dGH_flat
    if not input_grad:
        return None
    return (dGX_flat @ W.W_ih).reshape(x.shape)
