r"""torch.nn's three sequence modules: :class:`RNN`, :class:`LSTM`, :class:`GRU`.

Each is a :class:`~scratchrnn.recurrent.base.Recurrent` that supplies its cell: the
step functions of :mod:`scratchrnn.cells` (the reference path) and, where one exists,
the whole-sequence function of :mod:`scratchrnn.fastpath` (the default).
"""

from __future__ import annotations

import numpy as np

from .. import fastpath
from ..cells import (
    GRU_FORMS,
    NONLINEARITIES,
    elman_step_backward,
    elman_step_forward,
    gru_hidden_inputs,
    gru_step_backward,
    gru_step_forward,
    gru_weight_hh_grad,
    lstm_step_backward,
    lstm_step_forward,
)
from ..checks import check_choice
from .base import Recurrent


class RNN(Recurrent):
    r"""Elman RNN over a sequence, as ``torch.nn.RNN``.

    h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)     (``nonlinearity="relu"``: ReLU)

    Parameters (torch's names and shapes): ``weight_ih_l{k}`` (H, I or D·H),
    ``weight_hh_l{k}`` (H, H), ``bias_ih_l{k}``, ``bias_hh_l{k}`` (H,), and
    ``…_reverse`` for the backward direction. Initialised U(−1/√H, 1/√H) like torch.

    ``forward(x, hx=None, lengths=None)`` returns ``((output, h_n), cache)`` with
    hx, h_n (L·D, B, H); ``backward(d_output, cache, d_hx_n=None)`` returns
    ``(d_input, d_h0, d_params)`` and adds ``d_params`` into ``self.grads``.
    """

    mode = "RNN_TANH"
    cell_steps, variant = (elman_step_forward, elman_step_backward), "nonlinearity"

    # torch.nn.RNN's signature (see Recurrent.__init__): repeated, not shared, so help() shows it
    # whole
    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        dtype: object = np.float32,
        rng: int | np.random.Generator | None = None,
        reference: bool = False,
    ) -> None:
        self.nonlinearity = check_choice("nonlinearity", nonlinearity, NONLINEARITIES)
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, dtype, rng, reference)

    def fast_path(self):
        return fastpath.elman_forward, fastpath.elman_backward, (self.nonlinearity,)


class GRU(Recurrent):
    r"""GRU over a sequence, as ``torch.nn.GRU`` (gate rows r, z, n).

    ``form="torch"`` (default, torch.nn.GRU)::

        r_t = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
        z_t = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
        n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t-1} + b_hn))
        h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}

    ``form="slide"`` (Cho et al. 2014, as on the lecture's slide; reference path only)::

        h̃_t = tanh(W_in x_t + b_in + W_hn (r_t ⊙ h_{t-1}) + b_hn)
        h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t

    Parameters as torch: ``weight_ih_l{k}`` (3H, ·), ``weight_hh_l{k}`` (3H, H), biases (3H,).
    ``forward(x, hx=None, lengths=None)`` returns ``((output, h_n), cache)``;
    ``backward(d_output, cache, d_hx_n=None)`` returns ``(d_input, d_h0, d_params)``.
    """

    mode = "GRU"
    gates = 3
    cell_steps, variant = (gru_step_forward, gru_step_backward), "form"

    # torch.nn.GRU's signature, plus form (see Recurrent.__init__): repeated on purpose
    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        form: str = "torch",
        proj_size: int = 0,
        dtype: object = np.float32,
        rng: int | np.random.Generator | None = None,
        reference: bool = False,
    ) -> None:
        self.form = check_choice("form", form, GRU_FORMS)
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, dtype, rng, reference)

    def fast_path(self):
        if self.form != "torch":
            return None
        return fastpath.gru_forward, fastpath.gru_backward, ()

    def weight_hh_grad(self, dGH, steps):
        N = dGH.shape[0]
        h_in, rh_in = zip(*(gru_hidden_inputs(s) for s in steps), strict=True)
        H_prev = np.stack(h_in).reshape(N, -1)
        RH_prev = H_prev if self.form == "torch" else np.stack(rh_in).reshape(N, -1)
        return gru_weight_hh_grad(dGH, H_prev, RH_prev)


class LSTM(Recurrent):
    r"""LSTM over a sequence, as ``torch.nn.LSTM`` (gate rows i, f, g, o).

    i_t, f_t, o_t = σ(·), g_t = C̃_t = tanh(·) of x_t W_i·^T + b_i· + h_{t-1} W_h·^T + b_h·;
    C_t = f_t ⊙ C_{t-1} + i_t ⊙ g_t;   h_t = o_t ⊙ tanh(C_t)   (then × W_hr^T if proj_size > 0).

    Parameters as torch: ``weight_ih_l{k}`` (4H, ·), ``weight_hh_l{k}`` (4H, P), biases
    (4H,), and with ``proj_size`` P > 0 also ``weight_hr_l{k}`` (P, H). The state is
    torch's pair: ``forward(x, hx=(h0, c0) or None, lengths=None)`` returns
    ``((output, (h_n, c_n)), cache)``; ``backward(d_output, cache, d_hx_n=(d_h_n, d_c_n))``
    returns ``(d_input, (d_h0, d_c0), d_params)``.
    """

    mode = "LSTM"
    gates = 4  # the constructor is Recurrent's: torch.nn.LSTM's arguments
    has_cell_state = True

    def step_forward(self, gx_t, h_prev, c_prev, W_hh, b_hh, W_hr):
        return lstm_step_forward(gx_t, h_prev, c_prev, W_hh, b_hh, W_hr)

    def step_backward(self, dh_t, dc_t, cache, W_hh, W_hr):
        return lstm_step_backward(dh_t, dc_t, cache, W_hh, W_hr)

    def fast_path(self):
        return fastpath.lstm_forward, fastpath.lstm_backward, ()
