"""A student's typical slip in each exercise notebook's drawn function, made from the
reference, so that the notebooks' "what a slip looks like" panels show a real error in the
difference column (the committed notebooks run on the reference solutions, whose own
difference column is blank).

Each slip has the signature of the function it stands in for: a bias left out, two gates
read from each other's rows (a gate order copied wrong), the mask of padded steps
forgotten (the last is one of the sequence grader's named diagnoses).
"""

from __future__ import annotations

import numpy as np

from scratchrnn import cells, gating

from .sequence import reference_loop


def _swapped(a: np.ndarray | None, i: int, j: int, H: int, axis: int) -> np.ndarray | None:
    """``a`` with its gate blocks i and j (H entries each along ``axis``) exchanged."""
    if a is None:
        return None
    index = np.arange(a.shape[axis])
    index[i * H:(i + 1) * H] = np.arange(j * H, (j + 1) * H)
    index[j * H:(j + 1) * H] = np.arange(i * H, (i + 1) * H)
    return np.take(a, index, axis=axis)


def _read_swapped(gx_t, W_hh, b_hh, i: int, j: int):
    """gx_t (B, G·H), W_hh (G·H, H), b_hh (G·H,) with gate blocks i and j exchanged."""
    H = W_hh.shape[1]
    return (_swapped(gx_t, i, j, H, -1), _swapped(W_hh, i, j, H, 0),
            _swapped(b_hh, i, j, H, 0))


def elman_step_forward_without_b_hh(gx_t, h_prev, W_hh, b_hh, nonlinearity="tanh"):
    """Slip: the recurrent bias left out, h_t = tanh(gx_t + h_{t-1} W_hh^T)."""
    return cells.elman_step_forward(gx_t, h_prev, W_hh, None, nonlinearity)


def gated_step_forward_lam_mu_swapped(gx_t, h_prev, W_hh, b_hh, kind="none"):
    """Slip: λ_t read from μ's rows (H:2H ↔ 2H:3H) and μ_t from λ's."""
    gx_t, W_hh, b_hh = _read_swapped(gx_t, W_hh, b_hh, 1, 2)
    return gating.gated_step_forward(gx_t, h_prev, W_hh, b_hh, kind)


def lstm_step_forward_f_o_swapped(gx_t, h_prev, c_prev, W_hh, b_hh, W_hr=None):
    """Slip: the gates read in the order i, o, g, f (f_t from o's rows, o_t from f's)."""
    gx_t, W_hh, b_hh = _read_swapped(gx_t, W_hh, b_hh, 1, 3)
    return cells.lstm_step_forward(gx_t, h_prev, c_prev, W_hh, b_hh, W_hr)


def gru_step_forward_r_z_swapped(gx_t, h_prev, W_hh, b_hh, form="torch"):
    """Slip: the slide's order z, r taken for torch's r, z (r_t from z's rows)."""
    gx_t, W_hh, b_hh = _read_swapped(gx_t, W_hh, b_hh, 0, 1)
    return cells.gru_step_forward(gx_t, h_prev, W_hh, b_hh, form)


def elman_sequence_backward_without_mask(d_out, dh_n, steps, W_hh, mask=None):
    """Slip: the loop over t that forgets the mask, so padded steps take gradient."""
    return reference_loop(cells.elman_step_backward, d_out, dh_n, None, steps, W_hh, mask,
                          left_out="mask")
