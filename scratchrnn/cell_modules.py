r"""One-step cell modules with torch.nn's API, and the lecture's ``ElmanRNN``.

* :class:`RNNCell`, :class:`LSTMCell`, :class:`GRUCell`: ``torch.nn.RNNCell`` /
  ``LSTMCell`` / ``GRUCell`` (parameters ``weight_ih``, ``weight_hh``, ``bias_ih``,
  ``bias_hh``), built on the step functions of :mod:`scratchrnn.cells`.
* :class:`ElmanRNN`: the lecture's (and the book's) module, an explicit loop over
  an Elman cell, returning every step's hidden state.

Each ``forward`` returns ``(output, cache)``; each ``backward(d_output, cache)``
returns ``(d_input, d_state, d_params)`` and adds ``d_params`` into ``self.grads``.
"""

from __future__ import annotations

import numpy as np

from .cells import (
    GRU_FORMS,
    NONLINEARITIES,
    CellCache,
    elman_cell_backward,
    elman_cell_forward,
    gru_cell_backward,
    gru_cell_forward,
    lstm_cell_backward,
    lstm_cell_forward,
)
from .checks import check_array, check_choice, check_float_dtype, check_positive_int
from .module import Module
from .rng import as_generator


class _CellBase(Module):
    gates = 1
    #: Elman and GRU: the cell's one variant argument, handed to its ``_cell_forward``
    variant = ""

    def __init__(self, input_size, hidden_size, bias, dtype, rng) -> None:
        super().__init__()
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.bias = bool(bias)
        dt = check_float_dtype(dtype)
        gen = as_generator(rng)
        G, H = self.gates, self.hidden_size
        bound = 1.0 / np.sqrt(H)
        shapes = [("weight_ih", (G * H, self.input_size)), ("weight_hh", (G * H, H))]
        if self.bias:
            shapes += [("bias_ih", (G * H,)), ("bias_hh", (G * H,))]
        for name, shape in shapes:
            self.add_param(name, gen.uniform(-bound, bound, size=shape).astype(dt))

    def _check(self, x: np.ndarray, h: np.ndarray | None, name: str = "hx"):
        """Accept (B, I) or unbatched (I,) input, as torch; returns 2-D arrays and a flag."""
        dt = self.dtype
        if isinstance(x, np.ndarray) and x.ndim == 1:
            x = check_array("input", x, (self.input_size,), dt)[None]
            unbatched = True
        else:
            x = check_array("input", x, (None, self.input_size), dt)
            unbatched = False
        B = x.shape[0]
        if h is None:
            h = np.zeros((B, self.hidden_size), dt)
        elif unbatched:
            h = check_array(name, h, (self.hidden_size,), dt)[None]
        else:
            h = check_array(name, h, (B, self.hidden_size), dt)
        return x, h, unbatched

    def _weights(self) -> dict[str, np.ndarray | None]:
        p = self.params
        return {
            "weight_ih": p["weight_ih"],
            "weight_hh": p["weight_hh"],
            "bias_ih": p.get("bias_ih"),
            "bias_hh": p.get("bias_hh"),
        }

    def forward(self, x: np.ndarray, hx: np.ndarray | None = None):
        """h' (B, H) or (H,) and the cache, from input (B, I) or (I,) and hx (zeros if None)
        (Elman and GRU; LSTM has its own)."""
        x, h, unbatched = self._check(x, hx)
        options = {self.variant: getattr(self, self.variant)}
        h_t, cache = self._cell_forward(x, h, **self._weights(), **options)
        return (h_t[0] if unbatched else h_t), (cache, unbatched)

    def backward(self, d_h: np.ndarray, cache: tuple[CellCache, bool]):
        """(d_input, d_h_prev, d_params) from d_h' (Elman and GRU; LSTM has its own)."""
        cell_cache, unbatched = cache
        g = self._cell_backward(d_h[None] if unbatched else d_h, cell_cache)
        d_params = self._accumulate(g)
        if unbatched:
            return g["x"][0], g["h_prev"][0], d_params
        return g["x"], g["h_prev"], d_params

    def _accumulate(self, grads: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        d_params = {k: grads[k] for k in self.params}
        for k, g in d_params.items():
            self.grads[k] += g
        return d_params


class RNNCell(_CellBase):
    r"""torch.nn.RNNCell: h' = tanh(W_ih x + b_ih + W_hh h + b_hh)  (or ReLU).

    input (B, I) or (I,); hx (B, H) or (H,), zeros if None; returns h' of hx's shape.
    """

    # torch.nn.RNNCell's arguments; the rest is _CellBase's, so GRUCell reads alike
    gates, variant = 1, "nonlinearity"
    _cell_forward = staticmethod(elman_cell_forward)
    _cell_backward = staticmethod(elman_cell_backward)

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", dtype: object = np.float32,
                 rng: int | np.random.Generator | None = None) -> None:
        self.nonlinearity = check_choice("nonlinearity", nonlinearity, NONLINEARITIES)
        super().__init__(input_size, hidden_size, bias, dtype, rng)


class GRUCell(_CellBase):
    r"""torch.nn.GRUCell (``form="torch"``) or the slide's GRU (``form="slide"``).

    See :func:`scratchrnn.cells.gru_step_forward` for both sets of equations.
    """

    gates, variant = 3, "form"
    _cell_forward = staticmethod(gru_cell_forward)
    _cell_backward = staticmethod(gru_cell_backward)

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 form: str = "torch", dtype: object = np.float32,
                 rng: int | np.random.Generator | None = None) -> None:
        self.form = check_choice("form", form, GRU_FORMS)
        super().__init__(input_size, hidden_size, bias, dtype, rng)


class LSTMCell(_CellBase):
    r"""torch.nn.LSTMCell: (h', c') from x and (h, c); gate rows i, f, g, o.

    forward(x, hx=None) with hx = (h, c) or None (zeros); returns ((h', c'), cache).
    backward((d_h', d_c'), cache) returns (d_x, (d_h, d_c), d_params); d_c' may be None.
    """

    gates = 4

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        dtype: object = np.float32,
        rng: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, dtype, rng)

    def forward(self, x: np.ndarray, hx: tuple[np.ndarray, np.ndarray] | None = None):
        h, c = (None, None) if hx is None else hx
        _, c, _ = self._check(x, c, "c")
        x, h, unbatched = self._check(x, h, "h")
        (h_t, c_t), cache = lstm_cell_forward(x, h, c, **self._weights())
        if unbatched:
            h_t, c_t = h_t[0], c_t[0]
        return (h_t, c_t), (cache, unbatched)

    def backward(self, d_state, cache: tuple[CellCache, bool]):
        cell_cache, unbatched = cache
        d_h, d_c = d_state
        if d_c is None:
            d_c = np.zeros_like(d_h)
        if unbatched:
            d_h, d_c = d_h[None], d_c[None]
        g = lstm_cell_backward(d_h, d_c, cell_cache)
        d_params = self._accumulate(g)
        if unbatched:
            return g["x"][0], (g["h_prev"][0], g["c_prev"][0]), d_params
        return g["x"], (g["h_prev"], g["c_prev"]), d_params


class ElmanRNN(Module):
    r"""The lecture's ElmanRNN: a loop over an Elman cell, every step's h_t returned.

    h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh),  t = 1 … T.

    x_in (B, T, I) with ``batch_first`` else (T, B, I); ``initial_hidden`` (B, H) or
    None (zeros). Returns hiddens of shape (B, T, H) (or (T, B, H)). Parameters live
    in the child ``rnn_cell`` (``rnn_cell.weight_ih`` …), as in the book's module.
    """

    # the book's ElmanRNN arguments, torch-style like Linear's and Embedding's
    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        batch_first: bool = False,
        dtype: object = np.float32,
        rng: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        self.rnn_cell = self.add_module("rnn_cell", RNNCell(input_size, hidden_size, dtype=dtype,
                                                             rng=rng))
        self.batch_first = bool(batch_first)
        self.hidden_size = hidden_size

    def forward(self, x_in: np.ndarray, initial_hidden: np.ndarray | None = None):
        x_in = check_array("x_in", x_in, (None, None, self.rnn_cell.input_size), self.dtype)
        if self.batch_first:
            x_in = x_in.transpose(1, 0, 2)
        T, B, _ = x_in.shape
        h_t = initial_hidden
        hiddens, caches = [], []
        for t in range(T):
            h_t, cache = self.rnn_cell.forward(x_in[t], h_t)
            hiddens.append(h_t)
            caches.append(cache)
        hiddens = np.stack(hiddens)
        if self.batch_first:
            hiddens = hiddens.transpose(1, 0, 2)
        return hiddens, caches

    def backward(self, d_hiddens: np.ndarray, caches: list):
        """BPTT: returns (d_x_in, d_initial_hidden, d_params) and accumulates d_params."""
        if self.batch_first:
            d_hiddens = d_hiddens.transpose(1, 0, 2)
        d_h = np.zeros_like(d_hiddens[0])
        d_x = [None] * len(caches)
        d_params = {k: np.zeros_like(v) for k, v in self.rnn_cell.params.items()}
        for t in reversed(range(len(caches))):
            d_x[t], d_h, d_p = self.rnn_cell.backward(d_hiddens[t] + d_h, caches[t])
            for k, g in d_p.items():
                d_params[k] += g
        d_x = np.stack(d_x)
        if self.batch_first:
            d_x = d_x.transpose(1, 0, 2)
        return d_x, d_h, {f"rnn_cell.{k}": v for k, v in d_params.items()}
