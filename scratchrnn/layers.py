"""The non-recurrent layers around a cell: Embedding, Linear, Dropout and "gather the
last step" (the lecture's ``column_gather``).

Every operation comes as a pair, in the CS231n style::

    out, cache = op_forward(x, ...)
    dx, ... = op_backward(dout, cache)

and the layers with state (parameters, a random generator, train/eval mode) are
:class:`~scratchrnn.module.Module` subclasses whose ``forward`` returns
``(out, cache)`` and whose ``backward(dout, cache)`` *adds* the parameter
gradients into ``self.grads`` and returns the gradient of the input.

Parameter names and shapes are torch's (``weight``, ``bias``), so
``Linear.load_state_dict(torch_linear.state_dict())`` just works (after
``.detach()``). dtype follows the parameters: inputs of another dtype are
rejected, never silently cast.

The activations and softmax are in :mod:`scratchrnn.activations`.

Shapes: ``N`` vocabulary size, ``E`` embedding size, ``D`` input features,
``M`` output features, ``T`` time steps, ``B`` batch, ``H`` hidden size; ``*``
stands for any number of leading dimensions (including none).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .checks import (
    check_float_dtype,
    check_float_input,
    check_int_array,
    check_positive_int,
    check_same_shape,
)
from .module import Module
from .rng import as_generator

__all__ = [
    "Embedding",
    "Linear",
    "Dropout",
    "GatherLast",
    "embedding_forward",
    "embedding_backward",
    "linear_forward",
    "linear_backward",
    "dropout_forward",
    "dropout_backward",
    "gather_last",
    "gather_last_backward",
]


# ---------------------------------------------------------------------------
# Embedding
# ---------------------------------------------------------------------------
def embedding_forward(indices: np.ndarray, W: np.ndarray) -> tuple[np.ndarray, tuple]:
    """Row lookup: out[..., :] = W[indices[...], :].

    indices: (*) integers in [0, N);  W: (N, E);  out: (*, E).
    Returns (out, cache = (indices, W.shape, W.dtype)).
    """
    indices = check_int_array("indices", indices)
    N = W.shape[0]
    if indices.size and (indices.min() < 0 or indices.max() >= N):
        raise ValueError(
            f"indices must lie in [0, {N}) (num_embeddings={N}), "
            f"got values in [{indices.min()}, {indices.max()}]"
        )
    return W[indices], (indices, W.shape, W.dtype)


def embedding_backward(
    dout: np.ndarray, cache: tuple, padding_idx: int | None = None
) -> np.ndarray:
    """dW[n] = Σ over positions p with indices[p] == n of dout[p]   (scatter-add).

    dout: (*, E) -> dW: (N, E). Repeated indices add up; the row ``padding_idx``,
    if given, gets no gradient (as torch). The integer input has no gradient.
    The scatter-add is done by sorting the indices and summing each run with
    ``np.add.reduceat`` (the same sums as ``np.add.at``, several times faster); the
    positions holding ``padding_idx`` are left out before the sums.
    """
    indices, W_shape, dtype = cache
    dout = check_float_input("dout", dout, dtype)
    check_same_shape("dout", dout, indices.shape + (W_shape[1],))
    dW = np.zeros(W_shape, dtype=dtype)
    flat = indices.reshape(-1)
    order = np.argsort(flat, kind="stable")
    if padding_idx is not None:
        order = order[flat[order] != padding_idx]
    if order.size:
        ids = flat[order]  # sorted: each row's positions form one run
        starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
        dW[ids[starts]] = np.add.reduceat(dout.reshape(-1, W_shape[1])[order], starts, axis=0)
    return dW


class Embedding(Module):
    """A lookup table of word vectors, as ``torch.nn.Embedding``.

    Parameter ``weight``: (num_embeddings, embedding_dim), initialised N(0, 1)
    like torch; the row ``padding_idx`` (if given) starts at zero and never
    receives a gradient, so it stays zero under any optimiser without weight decay.
    A negative ``padding_idx`` counts from the end, as in torch.

    forward(indices (*) int) -> (out (*, E), cache);  backward(dout (*, E), cache) -> None
    (accumulates d weight into ``self.grads["weight"]``).
    """

    # torch.nn.Embedding's arguments; Linear's below are torch.nn.Linear's (alike in shape only)
    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        dtype: Any = np.float32,
        rng: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        self.num_embeddings = check_positive_int("num_embeddings", num_embeddings)
        self.embedding_dim = check_positive_int("embedding_dim", embedding_dim)
        dt = check_float_dtype(dtype)
        if padding_idx is not None:
            if isinstance(padding_idx, bool) or not isinstance(padding_idx, (int, np.integer)):
                raise ValueError(f"padding_idx must be an int or None, got {padding_idx!r}")
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"padding_idx must be in [-{num_embeddings}, {num_embeddings}), "
                    f"got {padding_idx}"
                )
            padding_idx = int(padding_idx) % num_embeddings
        self.padding_idx = padding_idx
        W = as_generator(rng).standard_normal((num_embeddings, embedding_dim)).astype(dt)
        if padding_idx is not None:
            W[padding_idx] = 0
        self.add_param("weight", W)

    def forward(self, indices: np.ndarray) -> tuple[np.ndarray, tuple]:
        return embedding_forward(indices, self.params["weight"])

    def backward(self, dout: np.ndarray, cache: tuple) -> None:
        self.grads["weight"] += embedding_backward(dout, cache, self.padding_idx)
        return None

    def __repr__(self) -> str:
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"Embedding({self.num_embeddings}, {self.embedding_dim}{pad})"


# ---------------------------------------------------------------------------
# Linear
# ---------------------------------------------------------------------------
def linear_forward(
    x: np.ndarray, W: np.ndarray, b: np.ndarray | None = None
) -> tuple[np.ndarray, tuple]:
    """y = x Wᵀ + b.

    x: (*, D);  W: (M, D);  b: (M,) or None;  y: (*, M). Returns (y, cache = (x, W)).
    """
    x = check_float_input("x", x, W.dtype)
    if x.ndim < 1 or x.shape[-1] != W.shape[1]:
        raise ValueError(f"x must have shape (*, {W.shape[1]}) (in_features), got {x.shape}")
    # one matrix product over all leading positions: a (B, T, D) @ (D, M) product would
    # be B separate ones
    y = (x.reshape(-1, W.shape[1]) @ W.T).reshape(x.shape[:-1] + (W.shape[0],))
    if b is not None:
        y += b
    return y, (x, W)


def linear_backward(
    dout: np.ndarray, cache: tuple
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of y = x Wᵀ + b.

    dout: (*, M) -> dx = dout W: (*, D),  dW = Σ doutᵀ x: (M, D),  db = Σ dout: (M,),
    the sums running over all leading positions ``*``.
    """
    x, W = cache
    dout = check_float_input("dout", dout, W.dtype)
    check_same_shape("dout", dout, x.shape[:-1] + (W.shape[0],))
    dout2 = dout.reshape(-1, W.shape[0])  # (P, M), P = prod(*)
    x2 = x.reshape(-1, W.shape[1])  # (P, D)
    dx = (dout2 @ W).reshape(x.shape)
    dW = dout2.T @ x2
    db = np.ones(dout2.shape[0], dtype=dout2.dtype) @ dout2  # Σ over rows, as one product
    return dx, dW, db


class Linear(Module):
    """y = x Wᵀ + b, as ``torch.nn.Linear``, on inputs of shape (*, in_features).

    Parameters ``weight``: (out_features, in_features) and ``bias``: (out_features,),
    both initialised U(-1/√in_features, 1/√in_features) like torch.
    forward(x (*, D)) -> (y (*, M), cache);  backward(dout (*, M), cache) -> dx (*, D).
    """

    # torch.nn.Linear's arguments
    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        dtype: Any = np.float32,
        rng: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        self.in_features = check_positive_int("in_features", in_features)
        self.out_features = check_positive_int("out_features", out_features)
        dt = check_float_dtype(dtype)
        g = as_generator(rng)
        k = 1.0 / np.sqrt(in_features)
        self.add_param("weight", g.uniform(-k, k, (out_features, in_features)).astype(dt))
        self.use_bias = bool(bias)
        if self.use_bias:
            self.add_param("bias", g.uniform(-k, k, (out_features,)).astype(dt))

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, tuple]:
        return linear_forward(x, self.params["weight"], self.params.get("bias"))

    def backward(self, dout: np.ndarray, cache: tuple) -> np.ndarray:
        dx, dW, db = linear_backward(dout, cache)
        self.grads["weight"] += dW
        if self.use_bias:
            self.grads["bias"] += db
        return dx

    def __repr__(self) -> str:
        return (
            f"Linear(in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.use_bias})"
        )


# ---------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------
def _check_p(p: object) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating, np.integer)):
        raise ValueError(f"dropout probability p must be a number in [0, 1], got {p!r}")
    if not 0.0 <= float(p) <= 1.0:
        raise ValueError(f"dropout probability p must be in [0, 1], got {p}")
    return float(p)


def bernoulli_mask(shape: tuple[int, ...], p: float, rng: np.random.Generator,
                   dtype: object = np.float32) -> np.ndarray:
    """The 0/1 keep-mask m ~ Bernoulli(1 − p) that dropout draws (one uniform per element)."""
    return (rng.random(shape) < 1.0 - p).astype(dtype)


def dropout_forward(
    x: np.ndarray,
    p: float,
    mask: np.ndarray | None = None,
    rng: int | np.random.Generator | None = None,
) -> tuple[np.ndarray, tuple]:
    """Inverted dropout: y = x * m / (1 - p), with m ~ Bernoulli(1 - p) elementwise.

    x: (*). ``mask``, if given, is the 0/1 array m (x's shape, any numeric or bool
    dtype); otherwise m is drawn from ``rng``. With p = 1 the output is all zeros
    (as torch). The expectation E[y] = x. Returns (y, cache = (m, scale)) with
    scale = 1/(1-p) (0 when p = 1).
    """
    x = check_float_input("x", x)
    p = _check_p(p)
    if mask is None:
        m = bernoulli_mask(x.shape, p, as_generator(rng), x.dtype)
    else:
        if not isinstance(mask, np.ndarray):
            raise ValueError(f"mask must be a numpy.ndarray, got {type(mask).__name__}")
        check_same_shape("mask", mask, x.shape)
        if mask.size and not np.isin(mask, (0, 1)).all():
            raise ValueError("mask must contain only 0 and 1")
        m = mask.astype(x.dtype)
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    return x * m * x.dtype.type(scale), (m, scale)


def dropout_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """dx = dout * m / (1 - p)  (same mask and scale as the forward)."""
    m, scale = cache
    dout = check_float_input("dout", dout, m.dtype)
    check_same_shape("dout", dout, m.shape)
    return dout * m * m.dtype.type(scale)


class Dropout(Module):
    """Inverted dropout, as ``torch.nn.Dropout``: y = x * m / (1 - p), m ~ Bernoulli(1 - p).

    Training mode draws a fresh mask on every forward from the module's own
    Generator (``rng``: a seed or a Generator), unless ``mask`` (a 0/1 array of
    x's shape) is given: then that mask is used, e.g. the one a torch twin drew.
    Eval mode (``module.eval()``) is the identity whatever ``mask`` is given
    (as torch, where a mask exists only in training); so is p = 0 without a mask.
    Neither draws random numbers. p = 1 gives zeros. The cache holds the mask and
    the scale 1/(1-p) (None for the identity).
    """

    def __init__(self, p: float = 0.5, rng: int | np.random.Generator | None = None) -> None:
        super().__init__()
        self.p = _check_p(p)
        self.rng = as_generator(rng)

    def forward(
        self, x: np.ndarray, mask: np.ndarray | None = None
    ) -> tuple[np.ndarray, tuple | None]:
        if not self.training or (self.p == 0.0 and mask is None):
            check_float_input("x", x)
            if mask is not None:
                check_same_shape("mask", mask, x.shape)
            return x, None
        return dropout_forward(x, self.p, mask=mask, rng=self.rng)

    def backward(self, dout: np.ndarray, cache: tuple | None) -> np.ndarray:
        if cache is None:
            return check_float_input("dout", dout)
        return dropout_backward(dout, cache)

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"


# ---------------------------------------------------------------------------
# gather the last valid step of each sequence (the lecture's column_gather)
# ---------------------------------------------------------------------------
def gather_last(
    h: np.ndarray, lengths: np.ndarray, batch_first: bool = False
) -> tuple[np.ndarray, tuple]:
    """Each sequence's hidden state at its last valid step.

        out[b] = h[lengths[b] - 1, b]          (time-major, h: (T, B, H))
        out[b] = h[b, lengths[b] - 1]          (batch_first, h: (B, T, H))

    lengths: (B,) integers in [1, T]. out: (B, H). Returns (out, cache).
    """
    h = check_float_input("h", h)
    if h.ndim != 3:
        raise ValueError(
            f"h must have 3 dimensions ({'B, T' if batch_first else 'T, B'}, H), got {h.shape}"
        )
    T, B = (h.shape[1], h.shape[0]) if batch_first else (h.shape[0], h.shape[1])
    lengths = check_int_array("lengths", lengths)
    check_same_shape("lengths", lengths, (B,))
    if B and (lengths.min() < 1 or lengths.max() > T):
        raise ValueError(
            f"lengths must lie in [1, {T}] (T), got values in [{lengths.min()}, {lengths.max()}]"
        )
    t_last = lengths - 1
    b = np.arange(B)
    out = h[b, t_last] if batch_first else h[t_last, b]
    return out, (h.shape, h.dtype, t_last, batch_first)


def gather_last_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """dh = zeros of h's shape, with dh[lengths[b] - 1, b] = dout[b] (scatter).

    dout: (B, H) -> dh: (T, B, H) (or (B, T, H) if batch_first).
    """
    shape, dtype, t_last, batch_first = cache
    B, H = len(t_last), shape[2]
    dout = check_float_input("dout", dout, dtype)
    check_same_shape("dout", dout, (B, H))
    dh = np.zeros(shape, dtype=dtype)
    b = np.arange(B)
    if batch_first:
        dh[b, t_last] = dout
    else:
        dh[t_last, b] = dout
    return dh


class GatherLast(Module):
    """Module form of :func:`gather_last`: forward(h, lengths) -> (out (B, H), cache)."""

    def __init__(self, batch_first: bool = False) -> None:
        super().__init__()
        self.batch_first = bool(batch_first)

    def forward(self, h: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, tuple]:
        return gather_last(h, lengths, self.batch_first)

    def backward(self, dout: np.ndarray, cache: tuple) -> np.ndarray:
        return gather_last_backward(dout, cache)

    def __repr__(self) -> str:
        return f"GatherLast(batch_first={self.batch_first})"

