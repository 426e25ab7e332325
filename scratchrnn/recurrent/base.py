r"""The recurrent contract: :class:`Recurrent`, the base of every sequence module.

:class:`Recurrent` holds the parameters (torch's names and shapes), checks the inputs,
stacks the layers and directions, applies dropout between layers and runs the backward
through them; one layer in one direction is :mod:`scratchrnn.recurrent.unroll`'s.
Subclasses (:class:`~scratchrnn.recurrent.RNN`, ``LSTM``, ``GRU``,
:class:`~scratchrnn.gating.GatedRNN`) supply only the cell: a cell whose state is h alone
names its step pair (:attr:`Recurrent.cell_steps`, :attr:`Recurrent.variant`), the LSTM
writes :meth:`Recurrent.step_forward` and :meth:`Recurrent.step_backward`; optionally
:meth:`Recurrent.fast_path` and :meth:`Recurrent.weight_hh_grad`.

Every module shares one signature (``hx`` is torch's: one array, or the pair
``(h, c)`` for the LSTM, whose class sets ``has_cell_state``)::

    (output, hx_n), cache = module.forward(x, hx=None, lengths=None, dropout_masks=None)
    d_input, d_hx0, d_params = module.backward(d_output, cache, d_hx_n=None, input_grad=True)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..checks import check_array, check_float_dtype, check_positive_int
from ..module import Module
from ..rng import as_generator
from .unroll import (
    DirectionCache,
    DirectionWeights,
    lengths_mask,
    unroll_backward,
    unroll_forward,
)

#: the recurrent state: one array (L·D, B, H), or the LSTM's pair (h (L·D, B, P), c (L·D, B, H))
State = np.ndarray | tuple[np.ndarray, np.ndarray]


class RecurrentCache(NamedTuple):
    """What :meth:`Recurrent.backward` needs from the forward."""

    layers: list[list[DirectionCache]]  # per layer, per direction
    mask: np.ndarray | None  # (T, B, 1) bool, None when every sequence has length T
    dropout_masks: list  # per layer: the mask applied to its input (None for layer 0)
    batch_first: bool


class Recurrent(Module):
    """Base of the sequence modules (torch's ``RNNBase``): one forward/backward contract.

    Constructor arguments are torch's, plus ``dtype``, ``rng`` (a seed or Generator for
    the initialisation U(−1/√H, 1/√H) and dropout) and ``reference``: True runs the step
    functions of :mod:`scratchrnn.cells` one step at a time (the readable path, every
    step's cache kept), False (default) the whole-sequence :mod:`scratchrnn.fastpath`
    where the cell has one. Both give the same numbers to float rounding (tested).
    """

    mode: str = ""
    gates: int = 1  # stacked blocks in weight_ih / weight_hh: 1 Elman, 4 LSTM, 3 GRU
    has_cell_state: bool = False  # True: the state is the pair (h, c), as torch.nn.LSTM's

    # torch.nn.RNN/LSTM/GRU's arguments in torch's order, one a line: the subclasses' signatures
    # repeat them on purpose (the API users know)
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
        reference: bool = False,
    ) -> None:
        super().__init__()
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.proj_size = check_positive_int("proj_size", proj_size, minimum=0)
        if self.proj_size and not self.has_cell_state:
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
        #: True: the step functions of :mod:`scratchrnn.cells` (the readable path)
        self.reference = bool(reference)
        #: when True, each backward stores ∂L/∂h_t (T, B, H) per layer and direction in
        #: ``state_grads[suffix]`` (e.g. "_l0"), 0 at padded steps — for gradient-flow studies
        self.record_state_grads = False
        self.state_grads: dict[str, np.ndarray] = {}

        G, H = self.gates, self.hidden_size
        P = self.proj_size or H
        bound = 1.0 / np.sqrt(H)
        for layer in range(self.num_layers):
            layer_in = self.input_size if layer == 0 else P * self.num_directions
            for suffix in self.suffixes(layer):
                shapes = [("weight_ih", (G * H, layer_in)), ("weight_hh", (G * H, P))]
                if self.bias:
                    shapes += [("bias_ih", (G * H,)), ("bias_hh", (G * H,))]
                if self.proj_size:
                    shapes += [("weight_hr", (P, H))]
                for name, shape in shapes:
                    value = self.rng.uniform(-bound, bound, size=shape).astype(dt)
                    self.add_param(name + suffix, value)

    # -- the cell interface: what a subclass supplies -----------------------------
    #: a cell whose state is h alone (RNN, GRU, GatedRNN) names its step pair here,
    #: ``forward(gx_t, h_prev, W_hh, b_hh, option)`` and ``backward(dh_t, cache, W_hh)``, and
    #: in :attr:`variant` the attribute holding that option (``nonlinearity``, ``form`` …)
    cell_steps: tuple = ()
    variant: str = ""

    def step_forward(self, gx_t: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray | None,
                     W_hh: np.ndarray, b_hh: np.ndarray | None, W_hr: np.ndarray | None):
        """One step of the cell from gx_t = x_t W_ih^T + b_ih (B, G·H) and h_prev (B, P)
        (c_prev (B, H) for LSTM, else None). Returns (h_t, c_t or None, step cache).
        Here: the one-state cell of :attr:`cell_steps` (the LSTM has its own)."""
        h_t, cache = self.cell_steps[0](gx_t, h_prev, W_hh, b_hh, getattr(self, self.variant))
        return h_t, None, cache

    def step_backward(self, dh_t: np.ndarray, dc_t: np.ndarray | None, cache: object,
                      W_hh: np.ndarray, W_hr: np.ndarray | None):
        """Backward of :meth:`step_forward`: (dgx_t, dgh_t (B, G·H), dh_prev, dc_prev or None)."""
        return (*self.cell_steps[1](dh_t, cache, W_hh), None)

    def fast_path(self) -> tuple | None:
        """(forward, backward, extra forward arguments) of :mod:`scratchrnn.fastpath`, or None."""
        return None

    def weight_hh_grad(self, dGH: np.ndarray, steps: list) -> np.ndarray:
        """dW_hh = Σ_t dgh_t^T h_{t-1} from dGH (T·B, G·H) and the reference step caches."""
        H_prev = np.stack([s.h_prev for s in steps]).reshape(dGH.shape[0], -1)
        return dGH.T @ H_prev

    # -- helpers ------------------------------------------------------------------
    @property
    def dtype(self) -> np.dtype:
        """The parameters' dtype (all share it), without walking the module tree."""
        return next(iter(self.params.values())).dtype

    def suffixes(self, layer: int) -> list[str]:
        """Parameter-name suffixes of ``layer``'s directions: ``_l{k}`` and ``_l{k}_reverse``."""
        return [f"_l{layer}", f"_l{layer}_reverse"][: self.num_directions]

    @property
    def output_size(self) -> int:
        """P: the size of h_t (proj_size for a projected LSTM, else hidden_size)."""
        return self.proj_size or self.hidden_size

    def direction_weights(self, suffix: str) -> DirectionWeights:
        """The parameters of one layer and direction, e.g. ``suffix="_l0"``."""
        p = self.params
        return DirectionWeights(p["weight_ih" + suffix], p["weight_hh" + suffix],
                                p.get("bias_ih" + suffix), p.get("bias_hh" + suffix),
                                p.get("weight_hr" + suffix))

    def _state_shapes(self, B: int) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
        LD = self.num_layers * self.num_directions
        return (LD, B, self.output_size), (LD, B, self.hidden_size)

    def _check_state(self, name: str, hx: object, B: int) -> tuple[np.ndarray | None, ...]:
        """hx (or d_hx_n) as (h, c) with c None unless LSTM; None → (None, None)."""
        h_shape, c_shape = self._state_shapes(B)
        kind = type(self).__name__
        if hx is None:
            return None, None
        dt = self.dtype
        if self.has_cell_state:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise ValueError(
                    f"{kind} expects {name} = (h, c), a pair of arrays of shapes {h_shape} "
                    f"and {c_shape} (as torch.nn.LSTM), got {_describe(hx)}")
            h, c = hx
            return (check_array(f"{name}[0] (h)", h, h_shape, dt),
                    check_array(f"{name}[1] (c)", c, c_shape, dt))
        if not isinstance(hx, np.ndarray):
            raise ValueError(f"{kind} expects {name} = one array of shape {h_shape}, "
                             f"got {_describe(hx)}")
        return check_array(name, hx, h_shape, dt), None

    def _check_inputs(self, x, hx, lengths):
        x = check_array("input", x, (None, None, self.input_size), self.dtype)
        if self.batch_first:
            x = x.transpose(1, 0, 2)
        T, B = x.shape[:2]
        if T == 0 or B == 0:
            raise ValueError(f"input must have at least one step and one sequence, got {x.shape}")
        h0, c0 = self._check_state("hx", hx, B)
        h_shape, c_shape = self._state_shapes(B)
        if h0 is None:
            h0 = np.zeros(h_shape, self.dtype)
            c0 = np.zeros(c_shape, self.dtype) if self.has_cell_state else None
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

    # -- the contract ---------------------------------------------------------------
    def forward(
        self,
        x: np.ndarray,
        hx: State | None = None,
        lengths: np.ndarray | None = None,
        dropout_masks: list | None = None,
    ) -> tuple[tuple[np.ndarray, State], RecurrentCache]:
        """((output, hx_n), cache) of the whole sequence, as torch's ``module(x, hx)``.

        x (T, B, I) or (B, T, I) with ``batch_first``; hx torch's initial state: an array
        h0 (L·D, B, H), or for LSTM the pair (h0 (L·D, B, P), c0 (L·D, B, H)); None: zeros.
        lengths (B,) ints in [1, T] (packed-sequence semantics) or None (all T);
        dropout_masks: per layer ≥ 1 the mask of its input (shape of that input), to
        replay a run; None draws them from ``rng`` in training mode.
        output (T, B, D·P) (or batch-first); hx_n of hx's kind: the state at each
        sequence's last step. On the fast path, one direction and all lengths T, output is
        a read-only view of the states that :meth:`backward` reads (torch refuses an
        in-place change of such a tensor at its backward; here it cannot happen): copy it
        to write into it.
        """
        x, h0, c0, mask = self._check_inputs(x, hx, lengths)
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
            for d, suffix in enumerate(self.suffixes(layer)):
                k = layer * D + d
                out, h_n[k], c_last, dcache = unroll_forward(
                    self, layer_input, self.direction_weights(suffix), h0[k],
                    None if c0 is None else c0[k], d == 1, mask)
                if c_n is not None:
                    c_n[k] = c_last
                outs.append(out)
                dir_caches.append(dcache)
            layer_caches.append(dir_caches)
            layer_input = outs[0] if D == 1 else np.concatenate(outs, axis=2)
        output = layer_input.transpose(1, 0, 2) if self.batch_first else layer_input
        cache = RecurrentCache(layer_caches, mask, used_masks, self.batch_first)
        return (output, (h_n, c_n) if self.has_cell_state else h_n), cache

    def backward(
        self,
        d_output: np.ndarray | None,
        cache: RecurrentCache,
        d_hx_n: State | None = None,
        input_grad: bool = True,
    ) -> tuple[np.ndarray | None, State, dict[str, np.ndarray]]:
        """BPTT: (d_input, d_hx0, d_params); adds d_params into ``self.grads``.

        d_output: the gradient of ``output`` (its shape) or None (zero); d_hx_n that of
        hx_n, of hx's kind or None (zero); for LSTM either member of the pair may be None.
        d_input has the input's shape (None when ``input_grad`` is False: the first
        layer then skips dgx_t W_ih); d_hx0 is of hx's kind.
        """
        L, D, dt = self.num_layers, self.num_directions, self.dtype
        x0 = cache.layers[0][0].x
        T, B, _ = x0.shape
        P = self.output_size
        out_shape = (T, B, D * P)
        if d_output is None:
            d_layer = np.zeros(out_shape, dt)
        else:
            d_output = check_array("d_output", d_output,
                                   (B, T, out_shape[2]) if cache.batch_first else out_shape, dt)
            d_layer = d_output.transpose(1, 0, 2) if cache.batch_first else d_output
        d_h_n, d_c_n = self._check_state("d_hx_n", _fill_pair(d_hx_n, self.has_cell_state,
                                                              self._state_shapes(B), dt), B)
        h_shape, c_shape = self._state_shapes(B)
        if d_h_n is None:
            d_h_n = np.zeros(h_shape, dt)
            d_c_n = np.zeros(c_shape, dt) if self.has_cell_state else None
        d_h0 = np.empty_like(d_h_n)
        d_c0 = None if d_c_n is None else np.empty_like(d_c_n)
        grads: dict[str, np.ndarray] = {}
        for layer in reversed(range(L)):
            d_in = None
            for d, suffix in enumerate(self.suffixes(layer)):
                k = layer * D + d
                g = unroll_backward(
                    self, d_layer[:, :, d * P : (d + 1) * P], d_h_n[k],
                    None if d_c_n is None else d_c_n[k], cache.layers[layer][d],
                    self.direction_weights(suffix), d == 1, cache.mask,
                    input_grad or layer > 0, self.record_state_grads)
                d_h0[k] = g.dh0
                if d_c0 is not None:
                    d_c0[k] = g.dc0
                grads.update({name + suffix: value for name, value in g.params.items()})
                if g.state_grads is not None:
                    self.state_grads[suffix] = g.state_grads
                d_in = g.d_x if d_in is None else d_in + g.d_x
            drop = cache.dropout_masks[layer]
            d_layer = d_in if drop is None or d_in is None else d_in * drop
        for name, g in grads.items():
            self.grads[name] += g
        if d_layer is None:
            d_input = None
        else:
            d_input = d_layer.transpose(1, 0, 2) if cache.batch_first else d_layer
        return d_input, ((d_h0, d_c0) if self.has_cell_state else d_h0), grads


def _fill_pair(d_hx_n, has_cell_state: bool, shapes, dt):
    """An LSTM's (d_h_n, None) or (None, d_c_n) with the missing member as zeros."""
    if has_cell_state and isinstance(d_hx_n, (tuple, list)) and len(d_hx_n) == 2:
        if d_hx_n[0] is None and d_hx_n[1] is None:
            return None
        return tuple(np.zeros(shape, dt) if d is None else d
                     for d, shape in zip(d_hx_n, shapes, strict=True))
    return d_hx_n


def _describe(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    return type(value).__name__


__all__ = ["Recurrent", "RecurrentCache", "State"]
