r"""Sequence modules with torch.nn's API: :class:`RNN`, :class:`LSTM`, :class:`GRU`.

The time unroll, variable lengths, stacked layers and both directions, and the
backward pass through time (BPTT), written with the step functions of
:mod:`scratchrnn.cells`. Only the recurrence loops over time: each layer's input
projections ``X W_ih^T + b_ih`` for all steps are one matrix product before the loop,
and the weight gradients ``dW_ih = Σ_t dgx_t^T x_t``, ``dW_hh = Σ_t dgh_t^T h_{t-1}``
are one matrix product each after it.

Shapes (as torch): T steps, B batch, I input, H hidden, D = 2 if bidirectional
else 1, L layers, P = proj_size (LSTM) or H::

    input      (T, B, I)         or (B, T, I) with batch_first
    h0, h_n    (L·D, B, P)       row l·D + d: layer l, direction d (1 = reverse)
    c0, c_n    (L·D, B, H)       LSTM only
    output     (T, B, D·P)       or (B, T, D·P); last layer, both directions concatenated

Variable lengths (``lengths``, shape (B,), 1 ≤ lengths[b] ≤ T, any order) follow
torch's packed sequences (``pack_padded_sequence(..., enforce_sorted=False)``, then
``pad_packed_sequence(..., total_length=T)``): sequence b is updated only at steps
t < lengths[b]; its outputs beyond are zero; h_n holds its state at its own last
step; the reverse direction starts at its own last step.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import fastpath
from .cells import (
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
from .checks import check_array, check_float_dtype, check_positive_int
from .module import Module
from .rng import as_generator


class DirectionCache(NamedTuple):
    x: np.ndarray  # (T, B, In): this layer's input
    steps: list  # per time index t: the step cache
    dh_in: list | None  # LSTM with projection: filled by backward


class RecurrentCache(NamedTuple):
    layers: list  # per layer: list of DirectionCache (one per direction)
    mask: np.ndarray | None  # (T, B, 1) bool, None when every sequence has length T
    dropout_masks: list  # per layer >= 1: the mask applied to its input (or None)
    batch_first: bool


def lengths_mask(lengths: np.ndarray, T: int) -> np.ndarray:
    """(T, B, 1) boolean mask: True where step t < lengths[b]."""
    return (np.arange(T)[:, None] < lengths[None, :])[:, :, None]


class _RecurrentBase(Module):
    """Shared machinery of RNN, LSTM and GRU (torch's ``RNNBase``)."""

    mode: str = ""
    gates: int = 1  # stacked blocks in weight_ih / weight_hh: 1 Elman, 4 LSTM, 3 GRU

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        dtype: object = np.float32,
        rng: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.proj_size = check_positive_int("proj_size", proj_size, minimum=0)
        if self.proj_size and self.mode != "LSTM":
            raise ValueError("proj_size is supported only by LSTM")
        if self.proj_size >= self.hidden_size:
            raise ValueError(
                f"proj_size must be smaller than hidden_size, got {proj_size} >= {hidden_size}"
            )
        if isinstance(dropout, bool) or not (0.0 <= float(dropout) <= 1.0):
            raise ValueError(f"dropout must be a probability in [0, 1], got {dropout!r}")
        self.dropout = float(dropout)
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.bidirectional = bool(bidirectional)
        self.num_directions = 2 if bidirectional else 1
        dt = check_float_dtype(dtype)
        self.rng = as_generator(rng)
        #: use :mod:`scratchrnn.fastpath` where it exists (False: the step functions)
        self.fast = True
        #: when True, each backward stores ∂L/∂h_t (T, B, H) per layer and direction in
        #: ``state_grads[suffix]`` (e.g. "_l0"), 0 at padded steps — for gradient-flow studies
        self.record_state_grads = False
        self.state_grads: dict[str, np.ndarray] = {}

        G, H = self.gates, self.hidden_size
        P = self.proj_size or H
        bound = 1.0 / np.sqrt(H)
        for layer in range(self.num_layers):
            layer_in = self.input_size if layer == 0 else P * self.num_directions
            for suffix in self._suffixes(layer):
                shapes = [("weight_ih", (G * H, layer_in)), ("weight_hh", (G * H, P))]
                if self.bias:
                    shapes += [("bias_ih", (G * H,)), ("bias_hh", (G * H,))]
                if self.proj_size:
                    shapes += [("weight_hr", (P, H))]
                for name, shape in shapes:
                    value = self.rng.uniform(-bound, bound, size=shape).astype(dt)
                    self.add_param(name + suffix, value)

    # -- helpers ------------------------------------------------------------
    def _suffixes(self, layer: int) -> list[str]:
        return [f"_l{layer}", f"_l{layer}_reverse"][: self.num_directions]

    @property
    def output_size(self) -> int:
        return self.proj_size or self.hidden_size

    def _check_inputs(self, x, h0, c0, lengths):
        dt = self.dtype
        x = check_array("input", x, (None, None, self.input_size), dt)
        if self.batch_first:
            x = x.transpose(1, 0, 2)
        T, B = x.shape[:2]
        if T == 0 or B == 0:
            raise ValueError(f"input must have at least one step and one sequence, got {x.shape}")
        LD = self.num_layers * self.num_directions
        if h0 is None:
            h0 = np.zeros((LD, B, self.output_size), dt)
        else:
            h0 = check_array("h0", h0, (LD, B, self.output_size), dt)
        if self.mode == "LSTM":
            if c0 is None:
                c0 = np.zeros((LD, B, self.hidden_size), dt)
            else:
                c0 = check_array("c0", c0, (LD, B, self.hidden_size), dt)
        mask = None
        if lengths is not None:
            lengths = np.asarray(lengths)
            if lengths.dtype.kind not in "iu":
                raise ValueError(f"lengths must be integers, got dtype {lengths.dtype}")
            if lengths.shape != (B,):
                raise ValueError(
                    f"lengths must have shape ({B},) (one per sequence), got {lengths.shape}"
                )
            if lengths.min() < 1 or lengths.max() > T:
                raise ValueError(
                    f"lengths must lie in [1, {T}] (the number of steps), got {lengths.tolist()}"
                )
            if lengths.min() < T:
                mask = lengths_mask(lengths, T)
        return x, h0, c0, mask

    # -- one layer, one direction -------------------------------------------
    def _step(self, gx_t, h, c, W_hh, b_hh, W_hr):
        """One step of this module's cell: returns (h_t, c_t or None, cache)."""
        raise NotImplementedError

    def _step_backward(self, dh, dc, cache, W_hh, W_hr):
        """Returns (dgx_t, dgh_t, dh_prev, dc_prev or None)."""
        raise NotImplementedError

    def _fast_functions(self):
        """(forward, backward) of :mod:`scratchrnn.fastpath` for this cell, or None."""
        return None

    def _fast_args(self) -> tuple:
        """Extra arguments of the fast forward after W_hh, b_hh (Elman: nonlinearity)."""
        return ()

    def _weight_hh_grad(self, dGH: np.ndarray, steps: list) -> np.ndarray:
        H_prev = np.stack([s.h_prev for s in steps]).reshape(dGH.shape[0], -1)
        return dGH.T @ H_prev

    def _direction_forward(self, x, h0, c0, suffix, reverse, mask):
        p = self.params
        W_ih, W_hh = p["weight_ih" + suffix], p["weight_hh" + suffix]
        b_ih, b_hh = p.get("bias_ih" + suffix), p.get("bias_hh" + suffix)
        W_hr = p.get("weight_hr" + suffix)
        T, B, _ = x.shape
        GX = (x.reshape(T * B, -1) @ W_ih.T).reshape(T, B, -1)
        if b_ih is not None:
            GX += b_ih
        fast = self._fast_functions() if self.fast and W_hr is None else None
        if fast is not None:
            args = (GX, h0) if c0 is None else (GX, h0, c0)
            out, h, c, fcache = fast[0](*args, W_hh, b_hh, *self._fast_args(), mask, reverse)
            return out, h, c, DirectionCache(x, fcache, None)
        out = np.empty((T, B, h0.shape[-1]), dtype=x.dtype)
        steps: list = [None] * T
        h, c = h0, c0
        for t in (reversed(range(T)) if reverse else range(T)):
            h_t, c_t, steps[t] = self._step(GX[t], h, c, W_hh, b_hh, W_hr)
            if mask is None:
                h, c = h_t, c_t
                out[t] = h_t
            else:
                m = mask[t]
                out[t] = np.where(m, h_t, 0)
                h = np.where(m, h_t, h)
                c = None if c is None else np.where(m, c_t, c)
        return out, h, c, DirectionCache(x, steps, [None] * T if W_hr is not None else None)

    def _direction_backward(self, d_out, dh, dc, cache, suffix, reverse, mask, grads,
                            input_grad=True):
        p = self.params
        W_ih, W_hh, W_hr = p["weight_ih" + suffix], p["weight_hh" + suffix], p.get(
            "weight_hr" + suffix
        )
        x, steps = cache.x, cache.steps
        T, B, _ = x.shape
        N = T * B
        if isinstance(steps, fastpath.FastCache):
            dGX, dGH, H_prev, dh, dc, G = self._fast_functions()[1](d_out, dh, dc, steps, W_hh)
            if self.record_state_grads:
                self.state_grads[suffix] = G if mask is None else G * mask
            return self._weight_grads(x, dGX, dGH, H_prev.reshape(N, -1), suffix, grads,
                                      input_grad), dh, dc
        dGX = np.zeros((T, B, W_ih.shape[0]), dtype=x.dtype)
        dGH = np.zeros_like(dGX)
        G = np.zeros((T, B, dh.shape[-1]), dtype=x.dtype) if self.record_state_grads else None
        for t in (range(T) if reverse else reversed(range(T))):
            dh_t = dh + d_out[t]
            dc_t = dc
            if mask is not None:
                m = mask[t]
                dh_carry, dh_t = np.where(m, 0, dh), np.where(m, dh_t, 0)
                if dc is not None:
                    dc_carry, dc_t = np.where(m, 0, dc), np.where(m, dc, 0)
            if cache.dh_in is not None:
                cache.dh_in[t] = dh_t
            if G is not None:
                G[t] = dh_t
            dGX[t], dGH[t], dh, dc = self._step_backward(dh_t, dc_t, steps[t], W_hh, W_hr)
            if mask is not None:
                dh = dh + dh_carry
                if dc is not None:
                    dc = dc + dc_carry
        if G is not None:
            self.state_grads[suffix] = G
        if W_hr is not None:
            M = np.stack([s.m_t for s in steps]).reshape(N, -1)
            grads["weight_hr" + suffix] = np.stack(cache.dh_in).reshape(N, -1).T @ M
        dx = self._weight_grads(x, dGX, dGH, steps, suffix, grads, input_grad)
        return dx, dh, dc

    def _weight_grads(self, x, dGX, dGH, H_prev, suffix, grads, input_grad):
        """One matrix product each: dW_ih = Σ_t dgx_t^T x_t, dW_hh = Σ_t dgh_t^T h_{t-1}.

        ``H_prev`` is the (T·B, ·) array W_hh multiplied, or the reference path's step
        caches. Returns d_input = dgx_t W_ih (None when ``input_grad`` is False).
        """
        N = dGX.shape[0] * dGX.shape[1]
        dGX_flat, dGH_flat = dGX.reshape(N, -1), dGH.reshape(N, -1)
        grads["weight_ih" + suffix] = dGX_flat.T @ x.reshape(N, -1)
        if isinstance(H_prev, np.ndarray):
            grads["weight_hh" + suffix] = dGH_flat.T @ H_prev
        else:
            grads["weight_hh" + suffix] = self._weight_hh_grad(dGH_flat, H_prev)
        if self.bias:
            grads["bias_ih" + suffix] = dGX_flat.sum(axis=0)
            grads["bias_hh" + suffix] = dGH_flat.sum(axis=0)
        if not input_grad:
            return None
        return (dGX_flat @ self.params["weight_ih" + suffix]).reshape(x.shape)

    # -- whole module ----------------------------------------------------------
    def _forward(self, x, h0, c0, lengths, dropout_masks):
        x, h0, c0, mask = self._check_inputs(x, h0, c0, lengths)
        D = self.num_directions
        h_n, c_n = np.empty_like(h0), (None if c0 is None else np.empty_like(c0))
        layer_caches, used_masks = [], []
        layer_input = x
        for layer in range(self.num_layers):
            drop = None
            if layer > 0:
                drop = self._dropout_mask(layer, layer_input, dropout_masks)
                if drop is not None:
                    layer_input = layer_input * drop
            used_masks.append(drop)
            outs, dir_caches = [], []
            for d, suffix in enumerate(self._suffixes(layer)):
                k = layer * D + d
                out, h_n[k], c_last, dcache = self._direction_forward(
                    layer_input, h0[k], None if c0 is None else c0[k], suffix, d == 1, mask
                )
                if c_n is not None:
                    c_n[k] = c_last
                outs.append(out)
                dir_caches.append(dcache)
            layer_caches.append(dir_caches)
            layer_input = outs[0] if D == 1 else np.concatenate(outs, axis=2)
        output = layer_input.transpose(1, 0, 2) if self.batch_first else layer_input
        cache = RecurrentCache(layer_caches, mask, used_masks, self.batch_first)
        return output, h_n, c_n, cache

    def _dropout_mask(self, layer, layer_input, dropout_masks):
        """Inverted dropout mask (values 0 or 1/(1-p)) for the input of ``layer`` ≥ 1."""
        if dropout_masks is not None:
            given = dropout_masks[layer - 1]
            if given is None:
                return None
            T, B, F = layer_input.shape
            given = check_array(f"dropout_masks[{layer - 1}]", np.asarray(given, layer_input.dtype),
                                (B, T, F) if self.batch_first else (T, B, F))
            return given.transpose(1, 0, 2) if self.batch_first else given
        if not self.training or self.dropout == 0.0:
            return None
        if self.dropout == 1.0:
            return np.zeros_like(layer_input)
        keep = self.rng.random(layer_input.shape) >= self.dropout
        return keep.astype(layer_input.dtype) / (1.0 - self.dropout)

    def _backward(self, d_output, cache, d_h_n, d_c_n, input_grad=True):
        L, D, dt = self.num_layers, self.num_directions, self.dtype
        x0 = cache.layers[0][0].x
        T, B, _ = x0.shape
        out_shape = (T, B, D * self.output_size)
        if d_output is None:
            d_layer = np.zeros(out_shape, dt)
        else:
            d_output = check_array("d_output", d_output,
                                   (B, T, out_shape[2]) if cache.batch_first else out_shape, dt)
            d_layer = d_output.transpose(1, 0, 2) if cache.batch_first else d_output
        LD = L * D
        d_h_n = (np.zeros((LD, B, self.output_size), dt) if d_h_n is None
                 else check_array("d_h_n", d_h_n, (LD, B, self.output_size), dt))
        if self.mode == "LSTM":
            d_c_n = (np.zeros((LD, B, self.hidden_size), dt) if d_c_n is None
                     else check_array("d_c_n", d_c_n, (LD, B, self.hidden_size), dt))
        d_h0 = np.empty_like(d_h_n)
        d_c0 = None if d_c_n is None else np.empty_like(d_c_n)
        grads: dict[str, np.ndarray] = {}
        P = self.output_size
        for layer in reversed(range(L)):
            d_in = None
            for d, suffix in enumerate(self._suffixes(layer)):
                k = layer * D + d
                dx, d_h0[k], dc0 = self._direction_backward(
                    d_layer[:, :, d * P : (d + 1) * P],
                    d_h_n[k],
                    None if d_c_n is None else d_c_n[k],
                    cache.layers[layer][d],
                    suffix,
                    d == 1,
                    cache.mask,
                    grads,
                    input_grad or layer > 0,
                )
                if d_c0 is not None:
                    d_c0[k] = dc0
                d_in = dx if d_in is None else d_in + dx
            drop = cache.dropout_masks[layer]
            d_layer = d_in if drop is None or d_in is None else d_in * drop
        for name, g in grads.items():
            self.grads[name] += g
        if d_layer is None:
            d_input = None
        else:
            d_input = d_layer.transpose(1, 0, 2) if cache.batch_first else d_layer
        return d_input, d_h0, d_c0, grads


class RNN(_RecurrentBase):
    r"""Elman RNN over a sequence, as ``torch.nn.RNN``.

    h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)     (``nonlinearity="relu"``: ReLU)

    Parameters (torch's names and shapes): ``weight_ih_l{k}`` (H, I or D·H),
    ``weight_hh_l{k}`` (H, H), ``bias_ih_l{k}``, ``bias_hh_l{k}`` (H,), and
    ``…_reverse`` for the backward direction. Initialised U(−1/√H, 1/√H) like torch.

    ``forward(x, h0=None, lengths=None)`` returns ``((output, h_n), cache)``;
    ``backward(d_output, cache, d_h_n=None)`` returns ``(d_input, d_h0, d_params)``
    and adds ``d_params`` into ``self.grads``.
    """

    mode = "RNN_TANH"

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
    ) -> None:
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, dtype, rng)

    def _step(self, gx_t, h, c, W_hh, b_hh, W_hr):
        h_t, cache = elman_step_forward(gx_t, h, W_hh, b_hh, self.nonlinearity)
        return h_t, None, cache

    def _fast_functions(self):
        return fastpath.elman_forward, fastpath.elman_backward

    def _fast_args(self):
        return (self.nonlinearity,)

    def _step_backward(self, dh, dc, cache, W_hh, W_hr):
        return (*elman_step_backward(dh, cache, W_hh), None)

    def forward(
        self,
        x: np.ndarray,
        h0: np.ndarray | None = None,
        lengths: np.ndarray | None = None,
        dropout_masks: list | None = None,
    ) -> tuple[tuple[np.ndarray, np.ndarray], RecurrentCache]:
        output, h_n, _, cache = self._forward(x, h0, None, lengths, dropout_masks)
        return (output, h_n), cache

    def backward(
        self,
        d_output: np.ndarray | None,
        cache: RecurrentCache,
        d_h_n: np.ndarray | None = None,
        input_grad: bool = True,
    ) -> tuple[np.ndarray | None, np.ndarray, dict[str, np.ndarray]]:
        d_input, d_h0, _, grads = self._backward(d_output, cache, d_h_n, None, input_grad)
        return d_input, d_h0, grads


class GRU(_RecurrentBase):
    r"""GRU over a sequence, as ``torch.nn.GRU`` (gate rows r, z, n).

    ``form="torch"`` (default, torch.nn.GRU)::

        r_t = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
        z_t = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
        n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t-1} + b_hn))
        h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}

    ``form="slide"`` (Cho et al. 2014, as on the lecture's slide)::

        h̃_t = tanh(W_in x_t + b_in + W_hn (r_t ⊙ h_{t-1}) + b_hn)
        h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t

    Parameters as torch: ``weight_ih_l{k}`` (3H, ·), ``weight_hh_l{k}`` (3H, H), biases (3H,).
    ``forward(x, h0=None, lengths=None)`` returns ``((output, h_n), cache)``;
    ``backward(d_output, cache, d_h_n=None)`` returns ``(d_input, d_h0, d_params)``.
    """

    mode = "GRU"
    gates = 3

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
    ) -> None:
        if form not in GRU_FORMS:
            raise ValueError(f"form must be 'torch' or 'slide', got {form!r}")
        self.form = form
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, dtype, rng)

    def _step(self, gx_t, h, c, W_hh, b_hh, W_hr):
        h_t, cache = gru_step_forward(gx_t, h, W_hh, b_hh, self.form)
        return h_t, None, cache

    def _fast_functions(self):
        return (fastpath.gru_forward, fastpath.gru_backward) if self.form == "torch" else None

    def _step_backward(self, dh, dc, cache, W_hh, W_hr):
        return (*gru_step_backward(dh, cache, W_hh), None)

    def _weight_hh_grad(self, dGH, steps):
        N = dGH.shape[0]
        h_in, rh_in = zip(*(gru_hidden_inputs(s) for s in steps), strict=True)
        H_prev = np.stack(h_in).reshape(N, -1)
        RH_prev = H_prev if self.form == "torch" else np.stack(rh_in).reshape(N, -1)
        return gru_weight_hh_grad(dGH, H_prev, RH_prev)

    forward = RNN.forward
    backward = RNN.backward


class LSTM(_RecurrentBase):
    r"""LSTM over a sequence, as ``torch.nn.LSTM`` (gate rows i, f, g, o).

    i_t, f_t, o_t = σ(·), g_t = C̃_t = tanh(·) of x_t W_i·^T + b_i· + h_{t-1} W_h·^T + b_h·;
    C_t = f_t ⊙ C_{t-1} + i_t ⊙ g_t;   h_t = o_t ⊙ tanh(C_t)   (then × W_hr^T if proj_size > 0).

    Parameters as torch: ``weight_ih_l{k}`` (4H, ·), ``weight_hh_l{k}`` (4H, P), biases
    (4H,), and with ``proj_size`` P > 0 also ``weight_hr_l{k}`` (P, H).
    ``forward(x, h0=None, c0=None, lengths=None)`` returns ``((output, (h_n, c_n)), cache)``;
    ``backward(d_output, cache, d_h_n=None, d_c_n=None)`` returns
    ``(d_input, (d_h0, d_c0), d_params)``.
    """

    mode = "LSTM"
    gates = 4  # the constructor is _RecurrentBase's: torch.nn.LSTM's arguments

    def _step(self, gx_t, h, c, W_hh, b_hh, W_hr):
        return lstm_step_forward(gx_t, h, c, W_hh, b_hh, W_hr)

    def _fast_functions(self):
        return fastpath.lstm_forward, fastpath.lstm_backward

    def _step_backward(self, dh, dc, cache, W_hh, W_hr):
        return lstm_step_backward(dh, dc, cache, W_hh, W_hr)

    def forward(
        self,
        x: np.ndarray,
        h0: np.ndarray | None = None,
        c0: np.ndarray | None = None,
        lengths: np.ndarray | None = None,
        dropout_masks: list | None = None,
    ) -> tuple[tuple[np.ndarray, tuple[np.ndarray, np.ndarray]], RecurrentCache]:
        output, h_n, c_n, cache = self._forward(x, h0, c0, lengths, dropout_masks)
        return (output, (h_n, c_n)), cache

    def backward(
        self,
        d_output: np.ndarray | None,
        cache: RecurrentCache,
        d_h_n: np.ndarray | None = None,
        d_c_n: np.ndarray | None = None,
        input_grad: bool = True,
    ) -> tuple[np.ndarray | None, tuple[np.ndarray, np.ndarray], dict[str, np.ndarray]]:
        d_input, d_h0, d_c0, grads = self._backward(d_output, cache, d_h_n, d_c_n, input_grad)
        return d_input, (d_h0, d_c0), grads
