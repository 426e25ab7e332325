"""A minimal NumPy BPTT per cell: the sanity baseline that scratchrnn must beat.

What a careful student writes in ~40 lines per cell: one matrix product for all
input projections, a Python loop over the steps, one product per weight gradient;
no lengths, no checks, no preallocation, sigmoid as ``1 / (1 + exp(−a))`` (it warns
on overflow: fine for a baseline). Each function returns the input gradient and
every parameter's gradient, so it does the same work as the library with
``input_grad=True``. Weights in torch's layout: W_ih (G·H, I), W_hh (G·H, H).
"""

from __future__ import annotations

import numpy as np


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def _weight_grads(x, dA, dGH, Hprev, W_ih):
    N = dA.shape[0] * dA.shape[1]
    dA2, dGH2 = dA.reshape(N, -1), dGH.reshape(N, -1)
    return (dA2 @ W_ih).reshape(x.shape), {
        "weight_ih": dA2.T @ x.reshape(N, -1), "weight_hh": dGH2.T @ Hprev.reshape(N, -1),
        "bias_ih": dA2.sum(0), "bias_hh": dGH2.sum(0)}


def elman(x, h0, W_ih, W_hh, b_ih, b_hh, d_out):
    T, B, _ = x.shape
    GX = (x.reshape(T * B, -1) @ W_ih.T).reshape(T, B, -1) + (b_ih + b_hh)
    Hs = [h0]
    for t in range(T):
        Hs.append(np.tanh(GX[t] + Hs[-1] @ W_hh.T))
    dA = np.empty_like(GX)
    dh = np.zeros_like(h0)
    for t in reversed(range(T)):
        dA[t] = (dh + d_out[t]) * (1 - Hs[t + 1] ** 2)
        dh = dA[t] @ W_hh
    return _weight_grads(x, dA, dA, np.stack(Hs[:-1]), W_ih)


def lstm(x, h0, W_ih, W_hh, b_ih, b_hh, d_out):
    T, B, _ = x.shape
    H = h0.shape[1]
    GX = (x.reshape(T * B, -1) @ W_ih.T).reshape(T, B, -1) + (b_ih + b_hh)
    Hs, Cs, cache = [h0], [np.zeros_like(h0)], []
    for t in range(T):
        a = GX[t] + Hs[-1] @ W_hh.T
        i, f = _sigmoid(a[:, :H]), _sigmoid(a[:, H:2 * H])
        g, o = np.tanh(a[:, 2 * H:3 * H]), _sigmoid(a[:, 3 * H:])
        Cs.append(f * Cs[-1] + i * g)
        tc = np.tanh(Cs[-1])
        Hs.append(o * tc)
        cache.append((i, f, g, o, tc))
    dA = np.empty_like(GX)
    dh, dc = np.zeros_like(h0), np.zeros_like(h0)
    for t in reversed(range(T)):
        i, f, g, o, tc = cache[t]
        dht = dh + d_out[t]
        dct = dc + dht * o * (1 - tc * tc)
        dA[t, :, :H] = dct * g * i * (1 - i)
        dA[t, :, H:2 * H] = dct * Cs[t] * f * (1 - f)
        dA[t, :, 2 * H:3 * H] = dct * i * (1 - g * g)
        dA[t, :, 3 * H:] = dht * tc * o * (1 - o)
        dh, dc = dA[t] @ W_hh, dct * f
    return _weight_grads(x, dA, dA, np.stack(Hs[:-1]), W_ih)


def gru(x, h0, W_ih, W_hh, b_ih, b_hh, d_out):
    """torch's form: n = tanh(gx_n + r ⊙ (W_hn h + b_hn)), h' = (1 − z) n + z h."""
    T, B, _ = x.shape
    H = h0.shape[1]
    GX = (x.reshape(T * B, -1) @ W_ih.T).reshape(T, B, -1) + b_ih
    Hs, cache = [h0], []
    for t in range(T):
        gh = Hs[-1] @ W_hh.T + b_hh
        r = _sigmoid(GX[t, :, :H] + gh[:, :H])
        z = _sigmoid(GX[t, :, H:2 * H] + gh[:, H:2 * H])
        n = np.tanh(GX[t, :, 2 * H:] + r * gh[:, 2 * H:])
        Hs.append((1 - z) * n + z * Hs[-1])
        cache.append((r, z, n, gh[:, 2 * H:]))
    dA, dGH = np.empty_like(GX), np.empty_like(GX)
    dh = np.zeros_like(h0)
    for t in reversed(range(T)):
        r, z, n, ghn = cache[t]
        dht = dh + d_out[t]
        dan = dht * (1 - z) * (1 - n * n)
        dA[t, :, :H] = dGH[t, :, :H] = dan * ghn * r * (1 - r)
        dA[t, :, H:2 * H] = dGH[t, :, H:2 * H] = dht * (Hs[t] - n) * z * (1 - z)
        dA[t, :, 2 * H:] = dan
        dGH[t, :, 2 * H:] = dan * r
        dh = dht * z + dGH[t] @ W_hh
    return _weight_grads(x, dA, dGH, np.stack(Hs[:-1]), W_ih)


CELLS = {"elman": elman, "lstm": lstm, "gru": gru}
