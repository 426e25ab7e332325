r"""Backpropagation through time over a whole sequence, for exercise set 5: the loop over t.

The lecture's BPTT, written as plainly as the slide: the forward runs one step per t,
keeping each step's cache; the backward walks t = T−1 … 0 and gives each step the sum of
the two gradients that reach its new state::

    dh_t = dh_{t+1 → t} + dout_t       the carry from step t+1, plus the output's at t
    (dgx_t, dgh_t, dh_{t-1}) = step_backward(dh_t, cache_t)

and for the LSTM the cell state's carry dC_{t+1 → t} too. Variable lengths (torch's packed
sequences): ``mask`` (T, B, 1) is True where t < lengths[b]; a padded step left the state
unchanged and output 0, so in the backward it passes the carry through untouched, and its
output's gradient and its step get none.

These are the reference solutions of ``ex5_sequence_bptt.py``; the sequence modules
(:mod:`scratchrnn.recurrent.unroll`) run the same loop behind torch's API, for any cell and
direction, and on the fast path.
"""

from __future__ import annotations

import numpy as np

from ..cells import (
    ElmanCache,
    LSTMCache,
    elman_step_backward,
    elman_step_forward,
    lstm_step_backward,
    lstm_step_forward,
)

__all__ = ["ElmanCache", "LSTMCache", "elman_sequence_backward", "elman_sequence_forward",
           "lstm_sequence_backward", "lstm_sequence_forward"]


def elman_sequence_forward(
    GX: np.ndarray,
    h0: np.ndarray,
    W_hh: np.ndarray,
    b_hh: np.ndarray | None,
    mask: np.ndarray | None = None,
    nonlinearity: str = "tanh",
) -> tuple[np.ndarray, np.ndarray, list[ElmanCache]]:
    r"""Elman over a sequence: h_t = tanh(gx_t + h_{t-1} W_hh^T + b_hh), t = 0 … T−1.

    GX (T, B, H) = the input projections x_t W_ih^T + b_ih of every step;  h0 (B, H);
    W_hh (H, H);  b_hh (H,) or None;  mask (T, B, 1) bool or None (True where t <
    lengths[b]: a padded step keeps h_{t-1} and outputs 0).
    Returns out (T, B, H), h_n (B, H) and the T step caches.
    """
    out = np.zeros((GX.shape[0], *h0.shape), dtype=GX.dtype)
    h, steps = h0, []
    for t in range(GX.shape[0]):
        h_t, cache = elman_step_forward(GX[t], h, W_hh, b_hh, nonlinearity)
        steps.append(cache)
        h = h_t if mask is None else np.where(mask[t], h_t, h)
        out[t] = h_t if mask is None else np.where(mask[t], h_t, 0)
    return out, h, steps


def elman_sequence_backward(
    d_out: np.ndarray,
    dh_n: np.ndarray,
    steps: list[ElmanCache],
    W_hh: np.ndarray,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""BPTT of :func:`elman_sequence_forward`: the loop over t = T−1 … 0.

    dh_t = dh_{t+1 → t} + dout_t   (the carry from t+1; at t = T−1 it is dh_n);
    (dgx_t, dgh_t, dh_{t-1}) = elman_step_backward(dh_t, cache_t, W_hh);
    a padded step (mask[t] False): dh_{t-1} = dh_{t+1 → t}, and dgx_t = dgh_t = 0.
    d_out (T, B, H);  dh_n (B, H);  steps: the forward's T caches;  W_hh (H, H);
    mask (T, B, 1) bool or None.
    Returns (dGX, dGH, dh0): dGX, dGH (T, B, H), dh0 (B, H).
    """
    dGX, dGH = np.zeros_like(d_out), np.zeros_like(d_out)
    dh = dh_n
    for t in reversed(range(d_out.shape[0])):
        dh_t = dh + d_out[t]
        if mask is not None:
            dh_carry = np.where(mask[t], 0, dh)  # what a padded step passes through
            dh_t = np.where(mask[t], dh_t, 0)
        dGX[t], dGH[t], dh = elman_step_backward(dh_t, steps[t], W_hh)
        if mask is not None:
            dh = dh + dh_carry
    return dGX, dGH, dh


# the step's arguments, one a line as cells.lstm_step_forward has them (alike on purpose)
def lstm_sequence_forward(
    GX: np.ndarray,
    h0: np.ndarray,
    c0: np.ndarray,
    W_hh: np.ndarray,
    b_hh: np.ndarray | None,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[LSTMCache]]:
    r"""LSTM over a sequence: C_t = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t, h_t = o_t ⊙ tanh(C_t).

    GX (T, B, 4H) = x_t W_ih^T + b_ih of every step;  h0, c0 (B, H);  W_hh (4H, H);
    b_hh (4H,) or None;  mask (T, B, 1) bool or None (a padded step keeps h and C).
    Returns out (T, B, H), h_n (B, H), C_n (B, H) and the T step caches.
    """
    out = np.zeros((GX.shape[0], *h0.shape), dtype=GX.dtype)
    h, c, steps = h0, c0, []
    for t in range(GX.shape[0]):
        h_t, c_t, cache = lstm_step_forward(GX[t], h, c, W_hh, b_hh)
        steps.append(cache)
        h = h_t if mask is None else np.where(mask[t], h_t, h)
        c = c_t if mask is None else np.where(mask[t], c_t, c)
        out[t] = h_t if mask is None else np.where(mask[t], h_t, 0)
    return out, h, c, steps


def lstm_sequence_backward(
    d_out: np.ndarray,
    dh_n: np.ndarray,
    dc_n: np.ndarray,
    steps: list[LSTMCache],
    W_hh: np.ndarray,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""BPTT of :func:`lstm_sequence_forward`: the loop over t = T−1 … 0, two carries.

    dh_t = dh_{t+1 → t} + dout_t;   dC_t = dC_{t+1 → t}   (at t = T−1: dh_n, dC_n);
    (dgx_t, dgh_t, dh_{t-1}, dC_{t-1}) = lstm_step_backward(dh_t, dC_t, cache_t, W_hh);
    a padded step (mask[t] False) passes both carries through, and its dgx_t = dgh_t = 0.
    d_out (T, B, H);  dh_n, dc_n (B, H);  steps: the forward's T caches;  W_hh (4H, H);
    mask (T, B, 1) bool or None.
    Returns (dGX, dGH, dh0, dc0): dGX, dGH (T, B, 4H), dh0, dc0 (B, H).
    """
    T = d_out.shape[0]
    dGX = np.zeros((T, d_out.shape[1], W_hh.shape[0]), dtype=d_out.dtype)
    dGH = np.zeros_like(dGX)
    dh, dc = dh_n, dc_n
    for t in reversed(range(T)):
        dh_t, dc_t = dh + d_out[t], dc
        if mask is not None:
            dh_carry, dc_carry = np.where(mask[t], 0, dh), np.where(mask[t], 0, dc)
            dh_t, dc_t = np.where(mask[t], dh_t, 0), np.where(mask[t], dc_t, 0)
        dGX[t], dGH[t], dh, dc = lstm_step_backward(dh_t, dc_t, steps[t], W_hh)
        if mask is not None:
            dh, dc = dh + dh_carry, dc + dc_carry
    return dGX, dGH, dh, dc
