r"""The lecture's gating progression as cells: residual → input gating → hidden-state gating.

The gating slides build the LSTM's idea in three steps. With ``[h, x]`` the
concatenation and σ the logistic sigmoid::

    F_t = tanh(W_F·[h_{t-1}, x_t] + b_F)           candidate update ("F")
    λ_t = σ(W_λ·[h_{t-1}, x_t] + b_λ)              input gate
    μ_t = σ(W_μ·[h_{t-1}, x_t] + b_μ)              hidden-state gate

    gating="none"    h_t = h_{t-1} + F_t                  residual, no gating   (G = 1)
    gating="input"   h_t = h_{t-1} + λ_t ⊙ F_t            input gating          (G = 2)
    gating="hidden"  h_t = μ_t ⊙ h_{t-1} + λ_t ⊙ F_t      hidden-state gating   (G = 3)

The last one is an LSTM without its output gate and separate cell state (μ plays the
forget gate f_t, λ the input gate i_t, F the candidate C̃_t).

Weights are stored as torch stores the other cells: ``W·[h, x] + b`` is split into
``x W_ih^T + b_ih + h W_hh^T + b_hh`` with ``W = [W_hh | W_ih]`` and ``b = b_ih + b_hh``,
and the G blocks are stacked row-wise in the order **F, λ, μ**::

    weight_ih (G·H, I),  weight_hh (G·H, H),  bias_ih (G·H,),  bias_hh (G·H,)

No torch module computes these cells, so finite differences are their proof
(``tests/test_gating.py``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .cells import hidden_projection
from .checks import check_choice
from .functional import sigmoid
from .recurrent import Recurrent

GATINGS = ("none", "input", "hidden")
GATE_BLOCKS = {"none": 1, "input": 2, "hidden": 3}


class GatedCache(NamedTuple):
    h_prev: np.ndarray  # (B, H)
    F_t: np.ndarray  # (B, H) candidate tanh(·)
    lam_t: np.ndarray | None  # (B, H) input gate λ_t (None for gating="none")
    mu_t: np.ndarray | None  # (B, H) hidden-state gate μ_t (only gating="hidden")
    gating: str


def _check_gating(gating: str) -> str:
    return check_choice("gating", gating, GATINGS)


# The contract of the cells' steps (cells.py); the gating progression's own equations.
def gated_step_forward(
    gx_t: np.ndarray,
    h_prev: np.ndarray,
    W_hh: np.ndarray,
    b_hh: np.ndarray | None,
    gating: str = "none",
) -> tuple[np.ndarray, GatedCache]:
    r"""One step of the gating progression (blocks F, λ, μ of the stacked weights)::

        a_t = gx_t + h_{t-1} W_hh^T + b_hh              (B, G·H), gx_t = x_t W_ih^T + b_ih
        F_t = tanh(a_t[:, 0:H])
        λ_t = σ(a_t[:, H:2H])                           (gating "input", "hidden")
        μ_t = σ(a_t[:, 2H:3H])                          (gating "hidden")

        none:    h_t = h_{t-1} + F_t
        input:   h_t = h_{t-1} + λ_t ⊙ F_t
        hidden:  h_t = μ_t ⊙ h_{t-1} + λ_t ⊙ F_t

    gx_t (B, G·H);  h_prev (B, H);  W_hh (G·H, H);  b_hh (G·H,) or None;
    G = 1, 2, 3 for gating "none", "input", "hidden". Returns h_t (B, H) and the cache.
    """
    _check_gating(gating)
    H = h_prev.shape[1]
    a_t = gx_t + hidden_projection(h_prev, W_hh, b_hh)
    F_t = np.tanh(a_t[:, :H])
    if gating == "none":
        return h_prev + F_t, GatedCache(h_prev, F_t, None, None, gating)
    lam_t = sigmoid(a_t[:, H : 2 * H])
    if gating == "input":
        return h_prev + lam_t * F_t, GatedCache(h_prev, F_t, lam_t, None, gating)
    mu_t = sigmoid(a_t[:, 2 * H : 3 * H])
    h_t = mu_t * h_prev + lam_t * F_t
    return h_t, GatedCache(h_prev, F_t, lam_t, mu_t, gating)


def gated_step_backward(
    dh_t: np.ndarray, cache: GatedCache, W_hh: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Backward of :func:`gated_step_forward`.

    dF_t = dh_t (none) or dh_t ⊙ λ_t;   dλ_t = dh_t ⊙ F_t;   dμ_t = dh_t ⊙ h_{t-1};
    pre-activations: da_F = dF_t ⊙ (1 − F_t²),  da_λ = dλ_t ⊙ λ_t(1 − λ_t),
    da_μ = dμ_t ⊙ μ_t(1 − μ_t);   da_t = [da_F, da_λ, da_μ] (B, G·H);
    dh_{t-1} = dh_t (none, input) or dh_t ⊙ μ_t (hidden), plus da_t W_hh.
    Returns (dgx_t, dgh_t, dh_prev) with dgx_t = dgh_t = da_t (B, G·H), dh_prev (B, H).
    """
    F_t, lam_t, mu_t = cache.F_t, cache.lam_t, cache.mu_t
    if cache.gating == "none":
        da_t = dh_t * (1 - F_t * F_t)
        return da_t, da_t, dh_t + da_t @ W_hh
    blocks = [dh_t * lam_t * (1 - F_t * F_t), dh_t * F_t * lam_t * (1 - lam_t)]
    if cache.gating == "input":
        dh_direct = dh_t
    else:
        blocks.append(dh_t * cache.h_prev * mu_t * (1 - mu_t))
        dh_direct = dh_t * mu_t
    da_t = np.concatenate(blocks, axis=1)
    return da_t, da_t, dh_direct + da_t @ W_hh


class GatedRNN(Recurrent):
    r"""The gating-progression cells over a sequence, with torch.nn.RNN's interface.

    ``gating="none"``:    h_t = h_{t-1} + F_t
    ``gating="input"``:   h_t = h_{t-1} + λ_t ⊙ F_t
    ``gating="hidden"``:  h_t = μ_t ⊙ h_{t-1} + λ_t ⊙ F_t

    with F_t = tanh(·), λ_t = σ(·), μ_t = σ(·) of x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh
    (blocks F, λ, μ; see :func:`gated_step_forward`). Parameters, named as torch's RNN:
    ``weight_ih_l{k}`` (G·H, I or D·H), ``weight_hh_l{k}`` (G·H, H), ``bias_ih_l{k}``,
    ``bias_hh_l{k}`` (G·H,), ``…_reverse`` for the backward direction, initialised
    U(−1/√H, 1/√H) as torch initialises its cells.

    Lengths, layers, directions, dropout between layers and BPTT are the shared
    machinery of :class:`scratchrnn.recurrent.Recurrent`, whose contract it shares:
    ``forward(x, hx=None, lengths=None)`` returns ``((output, h_n), cache)`` with hx,
    h_n (L·D, B, H); ``backward(d_output, cache, d_hx_n=None)`` returns
    ``(d_input, d_h0, d_params)`` and adds ``d_params`` into ``self.grads``. No fast path:
    ``reference`` is accepted for the common constructor and changes nothing.
    """

    mode = "GATED_NONE"
    gates = 1
    cell_steps, variant = (gated_step_forward, gated_step_backward), "gating"

    # torch.nn.RNN's signature with gating for nonlinearity (see Recurrent.__init__)
    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        gating: str = "none",
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype: object = np.float32,
        rng: int | np.random.Generator | None = None,
        reference: bool = False,
    ) -> None:
        self.gating = _check_gating(gating)
        self.mode = "GATED_" + gating.upper()
        self.gates = GATE_BLOCKS[gating]
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, dtype, rng, reference)

    def __repr__(self) -> str:
        return (f"GatedRNN({self.input_size}, {self.hidden_size}, gating={self.gating!r}, "
                f"num_layers={self.num_layers})")
