r"""Fast paths: one direction of one layer, whole sequence, with preallocated buffers.

The same mathematics as the step functions of :mod:`scratchrnn.cells` (which stay
the reference: ``tests/test_fastpath.py`` checks every path against them and torch),
arranged for speed:

* every activation of the sequence lives in one preallocated array, written with
  ``out=`` (no per-step allocation), and the backward reads those arrays;
* the hidden bias is folded into the input projections once (b_ih + b_hh), except
  the GRU's b_hn which sits inside r ⊙ (W_hn h + b_hn);
* the LSTM's gate blocks are reordered i, f, o | g so the three sigmoids are one
  contiguous block; σ(a) = ½ tanh(a/2) + ½ lets one ``tanh`` call compute all four
  gates (the ½ is folded into the weights); the blocks return to torch's order after;
* derivative factors that do not depend on the incoming gradient (1 − h², σ(1 − σ),
  …) are computed for all steps at once, outside the loop.

Arrays are time-major: GX (T, B, G·H) holds x_t W_ih^T + b_ih for every t; ``mask``
(T, B, 1) bool or None; processing runs t = 0 … T−1, or backwards if ``reverse``.
Each ``*_forward`` returns (out (T, B, H), h_n, c_n or None, cache); each
``*_backward`` returns (dGX, dGH, H_prev, dh0, dc0 or None, G) with dGX, dGH
(T, B, G·H), H_prev (T, B, H) — the state each step's W_hh multiplied — and G
(T, B, H) = ∂L/∂h_t, the total gradient reaching each step's state; all in time order.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class FastCache(NamedTuple):
    S: np.ndarray  # (T+1, B, H) states in processing order: S[0] = h0
    act: tuple  # per-cell activations / precomputed derivative factors
    mask: np.ndarray | None
    reverse: bool


def _order(T: int, reverse: bool) -> range:
    return range(T - 1, -1, -1) if reverse else range(T)


def _time_ordered(S_prev: np.ndarray, reverse: bool) -> np.ndarray:
    """States before each step, from processing order to time order."""
    return S_prev[::-1] if reverse else S_prev


def _outputs(S: np.ndarray, mask, reverse: bool) -> np.ndarray:
    out = _time_ordered(S[1:], reverse)
    return out * mask if mask is not None else out.copy()


def _sigmoid_(a: np.ndarray) -> np.ndarray:
    """In place: σ(a) = ½ tanh(a/2) + ½ (stable for any a, no overflow)."""
    a *= 0.5
    np.tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


# ---------------------------------------------------------------------------
# Elman
# ---------------------------------------------------------------------------
def elman_forward(GX, h0, W_hh, b_hh, nonlinearity, mask, reverse):
    """h_t = tanh(GX_t + h_{t-1} W_hh^T + b_hh)  (or ReLU), all steps."""
    T, B, H = GX.shape
    padded = None if mask is None else ~mask  # steps where a sequence has ended
    A = GX + b_hh if b_hh is not None else GX
    W = W_hh.T
    S = np.empty((T + 1, B, H), dtype=GX.dtype)
    S[0] = h0
    for k, t in enumerate(_order(T, reverse)):
        h = S[k + 1]
        np.matmul(S[k], W, out=h)
        h += A[t]
        if nonlinearity == "tanh":
            np.tanh(h, out=h)
        else:
            np.maximum(h, 0, out=h)
        if mask is not None:
            np.copyto(h, S[k], where=padded[t])
    return _outputs(S, mask, reverse), S[T], None, FastCache(S, (nonlinearity,), mask, reverse)


def elman_backward(d_out, dh_n, dc_n, cache: FastCache, W_hh):
    S, mask, reverse = cache.S, cache.mask, cache.reverse
    T = S.shape[0] - 1
    H_new = _time_ordered(S[1:], reverse)
    # da_t = dh_t ⊙ (1 − h_t²)  (tanh)  or  dh_t ⊙ [h_t > 0]  (ReLU); 0 at padded steps
    D = 1 - H_new * H_new if cache.act[0] == "tanh" else (H_new > 0).astype(S.dtype)
    padded = None if mask is None else (~mask).astype(S.dtype)
    if mask is not None:
        D *= mask
        d_out = d_out * mask
    dA = np.empty(H_new.shape, dtype=S.dtype)
    G = np.empty(H_new.shape, dtype=S.dtype)  # ∂L/∂h_t, the total gradient at each state
    dh = dh_n
    for t in (range(T) if reverse else range(T - 1, -1, -1)):
        g = np.add(dh, d_out[t], out=G[t])
        np.multiply(g, D[t], out=dA[t])
        dh_prev = dA[t] @ W_hh
        if mask is not None:
            dh_prev += g * padded[t]  # padded step: the state passed straight through
        dh = dh_prev
    return dA, dA, _time_ordered(S[:-1], reverse), dh, None, G


# ---------------------------------------------------------------------------
# LSTM (no projection)
# ---------------------------------------------------------------------------
def _ifog(H: int) -> np.ndarray:
    """Row permutation from torch's (i, f, g, o) to (i, f, o, g)."""
    return np.r_[0 : 2 * H, 3 * H : 4 * H, 2 * H : 3 * H]


def lstm_forward(GX, h0, c0, W_hh, b_hh, mask, reverse):
    """C_t = f ⊙ C_{t-1} + i ⊙ g,  h_t = o ⊙ tanh(C_t), all steps (gates i, f, g, o)."""
    T, B, G = GX.shape
    H = G // 4
    padded = None if mask is None else ~mask
    perm = _ifog(H)
    half = np.ones(G, dtype=GX.dtype)
    half[: 3 * H] = 0.5  # σ(a) = ½ tanh(½ a) + ½ on the i, f, o block
    A = (GX + b_hh if b_hh is not None else GX)[:, :, perm] * half
    W = (W_hh[perm] * half[:, None]).T
    S = np.empty((T + 1, B, H), dtype=GX.dtype)
    C = np.empty((T + 1, B, H), dtype=GX.dtype)
    S[0], C[0] = h0, c0
    Y = np.empty((T, B, G), dtype=GX.dtype)  # post-activations i, f, o, g (time order)
    TC = np.empty((T, B, H), dtype=GX.dtype)  # tanh(C_t)
    ig = np.empty((B, H), dtype=GX.dtype)
    for k, t in enumerate(_order(T, reverse)):
        y = Y[t]
        np.matmul(S[k], W, out=y)
        y += A[t]
        np.tanh(y, out=y)
        sig = y[:, : 3 * H]
        sig *= 0.5
        sig += 0.5
        i_t, f_t, o_t, g_t = y[:, :H], y[:, H : 2 * H], y[:, 2 * H : 3 * H], y[:, 3 * H :]
        c = C[k + 1]
        np.multiply(f_t, C[k], out=c)
        np.multiply(i_t, g_t, out=ig)
        c += ig
        np.tanh(c, out=TC[t])
        np.multiply(o_t, TC[t], out=S[k + 1])
        if mask is not None:
            np.copyto(S[k + 1], S[k], where=padded[t])
            np.copyto(c, C[k], where=padded[t])
    cache = FastCache(S, (C, Y, TC, perm), mask, reverse)
    return _outputs(S, mask, reverse), S[T], C[T], cache


def lstm_backward(d_out, dh_n, dc_n, cache: FastCache, W_hh):
    S, mask, reverse = cache.S, cache.mask, cache.reverse
    C, Y, TC, perm = cache.act
    T, B, G = Y.shape
    H = G // 4
    C_prev = _time_ordered(C[:-1], reverse)
    # pre-activation factors: σ' = s(1 − s) for i, f, o;  1 − g² for g
    Dact = Y * (1 - Y)
    Dact[:, :, 3 * H :] = 1 - Y[:, :, 3 * H :] ** 2
    DTC = 1 - TC * TC
    padded = None if mask is None else ~mask
    if mask is not None:
        Dact *= mask
        d_out = d_out * mask
    W = W_hh[perm]
    dA = np.empty_like(Y)  # (i, f, o, g) order
    G = np.empty_like(TC)  # ∂L/∂h_t
    dh, dc = dh_n, dc_n
    dc_t = np.empty((B, H), dtype=Y.dtype)
    for t in (range(T) if reverse else range(T - 1, -1, -1)):
        y, da = Y[t], dA[t]
        i_t, f_t, o_t, g_t = y[:, :H], y[:, H : 2 * H], y[:, 2 * H : 3 * H], y[:, 3 * H :]
        g = np.add(dh, d_out[t], out=G[t])
        np.multiply(g, o_t, out=dc_t)  # dC_t = dc + dh ⊙ o ⊙ (1 − tanh² C_t)
        dc_t *= DTC[t]
        dc_t += dc
        np.multiply(dc_t, g_t, out=da[:, :H])  # di
        np.multiply(dc_t, C_prev[t], out=da[:, H : 2 * H])  # df
        np.multiply(g, TC[t], out=da[:, 2 * H : 3 * H])  # do
        np.multiply(dc_t, i_t, out=da[:, 3 * H :])  # dg
        da *= Dact[t]
        dh_prev = da @ W
        dc_prev = dc_t * f_t
        if mask is not None:
            dh_prev += g * padded[t]
            np.copyto(dc_prev, dc, where=padded[t])
        dh, dc = dh_prev, dc_prev
    inverse = np.argsort(perm)
    dA = dA[:, :, inverse]
    return dA, dA, _time_ordered(S[:-1], reverse), dh, dc, G


# ---------------------------------------------------------------------------
# GRU (torch form)
# ---------------------------------------------------------------------------
def gru_forward(GX, h0, W_hh, b_hh, mask, reverse):
    """r, z = σ(·);  n = tanh(gx_n + r ⊙ (W_hn h + b_hn));  h' = n + z ⊙ (h − n)."""
    T, B, G = GX.shape
    H = G // 3
    padded = None if mask is None else ~mask
    A = GX.copy()
    if b_hh is not None:
        A[:, :, : 2 * H] += b_hh[: 2 * H]
        b_hn = b_hh[2 * H :]
    W = W_hh.T
    S = np.empty((T + 1, B, H), dtype=GX.dtype)
    S[0] = h0
    GH = np.empty((T, B, G), dtype=GX.dtype)  # h_{t-1} W_hh^T (+ b_hn in the n block)
    RZ = np.empty((T, B, 2 * H), dtype=GX.dtype)
    N = np.empty((T, B, H), dtype=GX.dtype)
    for k, t in enumerate(_order(T, reverse)):
        gh = GH[t]
        np.matmul(S[k], W, out=gh)
        rz = RZ[t]
        np.add(A[t, :, : 2 * H], gh[:, : 2 * H], out=rz)
        _sigmoid_(rz)
        gh_n = gh[:, 2 * H :]
        if b_hh is not None:
            gh_n += b_hn
        n = N[t]
        np.multiply(rz[:, :H], gh_n, out=n)
        n += A[t, :, 2 * H :]
        np.tanh(n, out=n)
        h = S[k + 1]
        np.subtract(S[k], n, out=h)
        h *= rz[:, H:]
        h += n
        if mask is not None:
            np.copyto(h, S[k], where=padded[t])
    cache = FastCache(S, (RZ, N, GH[:, :, 2 * H :]), mask, reverse)
    return _outputs(S, mask, reverse), S[T], None, cache


def gru_backward(d_out, dh_n, dc_n, cache: FastCache, W_hh):
    S, mask, reverse = cache.S, cache.mask, cache.reverse
    RZ, N, GH_n = cache.act
    T, B, H = N.shape
    H_prev = _time_ordered(S[:-1], reverse)
    r, z = RZ[:, :, :H], RZ[:, :, H:]
    # factors of dh in each pre-activation gradient, for all steps at once
    Dn = (1 - z) * (1 - N * N)  # da_n = dh ⊙ (1 − z) ⊙ (1 − n²)
    Dz = (H_prev - N) * z * (1 - z)  # da_z = dh ⊙ (h − n) ⊙ z(1 − z)
    Dr = GH_n * r * (1 - r)  # da_r = da_n ⊙ (W_hn h + b_hn) ⊙ r(1 − r)
    Zc = z  # the direct path dh_{t-1} += dh ⊙ z_t; a padded step passes dh through whole
    if mask is not None:
        Dn *= mask
        Dz *= mask
        Zc = np.where(mask, z, 1)
        d_out = d_out * mask
    dGX = np.empty((T, B, 3 * H), dtype=N.dtype)
    dGH = np.empty_like(dGX)
    G = np.empty_like(N)  # ∂L/∂h_t
    dh = dh_n
    for t in (range(T) if reverse else range(T - 1, -1, -1)):
        g = np.add(dh, d_out[t], out=G[t])
        dgh = dGH[t]  # da_r, da_z (shared with dGX, copied after the loop), da_n ⊙ r
        da_n = dGX[t, :, 2 * H :]
        np.multiply(g, Dn[t], out=da_n)
        np.multiply(g, Dz[t], out=dgh[:, H : 2 * H])
        np.multiply(da_n, Dr[t], out=dgh[:, :H])
        np.multiply(da_n, r[t], out=dgh[:, 2 * H :])
        dh_prev = dgh @ W_hh
        dh_prev += g * Zc[t]
        dh = dh_prev
    dGX[:, :, : 2 * H] = dGH[:, :, : 2 * H]
    return dGX, dGH, H_prev, dh, None, G
