"""Parity of scratchrnn.layers and scratchrnn.losses with torch.nn, as report rows.

Each ``compare_*`` function builds the scratchrnn object and its torch twin on
the *same* weights and inputs, runs forward and backward in both (the same
upstream gradient ``dout``), and returns one row::

    {"group": "layer" | "loss", "cell": "Linear", "config": "D=3 M=4 lead=(2,)",
     "dtype": "float64", "max_rel_diff_output": 1e-16, "max_rel_diff_grad": 2e-16}

The difference is :func:`scratchrnn.gradcheck.max_relative_error`, i.e.
max |ours - torch| / max(1, |torch|), maximised over all outputs and over all
gradients (input gradients and parameter gradients). NaN entries count as
equal when both sides have NaN in the same place (torch's mean over no target
is nan), and as an infinite difference otherwise.

:func:`layer_rows` covers every layer and loss option in float64 and float32.
torch is imported inside the functions only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from scratchrnn.activations import (
    ReLU,
    Sigmoid,
    Tanh,
    log_softmax_backward,
    log_softmax_forward,
    softmax_backward,
    softmax_forward,
)
from scratchrnn.checks import check_float_dtype
from scratchrnn.gradcheck import max_relative_error
from scratchrnn.layers import Dropout, Embedding, GatherLast, Linear
from scratchrnn.losses import (
    cross_entropy,
    cross_entropy_backward,
    sequence_cross_entropy,
    sequence_cross_entropy_backward,
)

from ._torch import import_torch

__all__ = [
    "max_rel_diff",
    "compare_embedding",
    "compare_linear",
    "compare_dropout",
    "compare_activation",
    "compare_gather_last",
    "compare_cross_entropy",
    "compare_sequence_cross_entropy",
    "column_gather",
    "sequence_loss",
    "layer_rows",
]

ACTIVATIONS = ("relu", "tanh", "sigmoid", "softmax", "log_softmax")


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def _setup(dtype: Any, seed: int):
    """What every comparison starts from: torch, the dtype's name, the seeded Generator."""
    return import_torch(), check_float_dtype(dtype).name, np.random.default_rng(seed)


def _t(a: np.ndarray, requires_grad: bool = False):
    """A torch tensor holding a copy of ``a`` (same dtype)."""
    t = import_torch().from_numpy(np.array(a, copy=True))
    return t.requires_grad_(True) if requires_grad else t


def _np(t) -> np.ndarray:
    return t.detach().cpu().numpy()


def max_rel_diff(ours: Any, theirs: Any) -> float:
    """max_relative_error(ours, theirs), with NaN in the same places counted as equal."""
    a = np.asarray(ours, dtype=np.float64)
    b = np.asarray(theirs, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: ours {a.shape} vs torch {b.shape}")
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    if np.any(nan_a != nan_b):
        return float("inf")
    keep = ~nan_a
    return max_relative_error(a[keep], b[keep])


def _row(
    group: str,
    cell: str,
    config: str,
    dtype: str,
    outputs: Sequence[tuple[Any, Any]],
    grads: Sequence[tuple[Any, Any]],
) -> dict:
    return {
        "group": group,
        "cell": cell,
        "config": config,
        "dtype": dtype,
        "max_rel_diff_output": max((max_rel_diff(a, b) for a, b in outputs), default=0.0),
        "max_rel_diff_grad": max((max_rel_diff(a, b) for a, b in grads), default=0.0),
    }


# ---------------------------------------------------------------------------
# layers
# ---------------------------------------------------------------------------
def compare_embedding(
    num_embeddings: int,
    embedding_dim: int,
    index_shape: tuple[int, ...] = (3,),
    padding_idx: int | None = None,
    dtype: Any = "float64",
    seed: int = 0,
) -> dict:
    """Embedding vs torch.nn.Embedding: output and d weight (padding row included).

    When ``padding_idx`` is given the first index is set to it, so the padding
    row is looked up (and must receive no gradient in both).
    """
    torch, dt, rng = _setup(dtype, seed)
    ours = Embedding(num_embeddings, embedding_dim, padding_idx, dtype=dt, rng=rng)
    idx = rng.integers(0, num_embeddings, index_shape)
    if padding_idx is not None and idx.size:
        idx.flat[0] = padding_idx % num_embeddings
    dout = rng.standard_normal(index_shape + (embedding_dim,)).astype(dt)

    theirs = torch.nn.Embedding(
        num_embeddings, embedding_dim, padding_idx=padding_idx, dtype=getattr(torch, dt)
    )
    theirs.load_state_dict({"weight": _t(ours.params["weight"])})
    out, cache = ours.forward(idx)
    ours.backward(dout, cache)
    t_out = theirs(_t(idx).long())
    t_out.backward(_t(dout))

    cell = "Embedding" if padding_idx is None else "Embedding(padding_idx)"
    config = f"N={num_embeddings} E={embedding_dim} idx={tuple(index_shape)} pad={padding_idx}"
    return _row(
        "layer", cell, config, dt,
        [(out, _np(t_out))],
        [(ours.grads["weight"], _np(theirs.weight.grad))],
    )


def compare_linear(
    in_features: int,
    out_features: int,
    lead_shape: tuple[int, ...] = (2,),
    bias: bool = True,
    dtype: Any = "float64",
    seed: int = 0,
) -> dict:
    """Linear vs torch.nn.Linear on x of shape lead_shape + (in_features,): y, dx, dW, db."""
    torch, dt, rng = _setup(dtype, seed)
    ours = Linear(in_features, out_features, bias=bias, dtype=dt, rng=rng)
    x = rng.standard_normal(tuple(lead_shape) + (in_features,)).astype(dt)
    dout = rng.standard_normal(tuple(lead_shape) + (out_features,)).astype(dt)

    theirs = torch.nn.Linear(in_features, out_features, bias=bias, dtype=getattr(torch, dt))
    theirs.load_state_dict({k: _t(v) for k, v in ours.state_dict().items()})
    out, cache = ours.forward(x)
    dx = ours.backward(dout, cache)
    xt = _t(x, requires_grad=True)
    t_out = theirs(xt)
    t_out.backward(_t(dout))

    grads = [(dx, _np(xt.grad)), (ours.grads["weight"], _np(theirs.weight.grad))]
    if bias:
        grads.append((ours.grads["bias"], _np(theirs.bias.grad)))
    cell = "Linear" if bias else "Linear(bias=False)"
    config = f"D={in_features} M={out_features} lead={tuple(lead_shape)}"
    return _row("layer", cell, config, dt, [(out, _np(t_out))], grads)


def compare_dropout(
    shape: tuple[int, ...] = (3, 4),
    p: float = 0.5,
    training: bool = True,
    dtype: Any = "float64",
    seed: int = 0,
) -> dict:
    """Dropout vs torch.nn.functional.dropout, with torch's own mask fed to ours.

    torch draws the mask (seeded, inside ``torch.random.fork_rng`` so the global
    torch state is untouched); it is read back as ``y != 0`` (x has no zeros)
    and given to ``Dropout.forward(x, mask=...)``. This checks the scaling
    1/(1-p), p = 1 and eval mode against torch, not the random stream.
    """
    torch, dt, rng = _setup(dtype, seed)
    x = rng.standard_normal(shape).astype(dt)
    x[x == 0] = 1  # so that "y != 0" recovers the mask exactly
    dout = rng.standard_normal(shape).astype(dt)

    xt = _t(x, requires_grad=True)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        t_out = torch.nn.functional.dropout(xt, p=p, training=training)
    t_out.backward(_t(dout))
    mask = _np(t_out) != 0 if training and p > 0 else None

    ours = Dropout(p, rng=seed).train(training)
    out, cache = ours.forward(x, mask=mask)
    dx = ours.backward(dout, cache)
    config = f"shape={tuple(shape)} p={p} {'train' if training else 'eval'}"
    return _row(
        "layer", "Dropout", config, dt, [(out, _np(t_out))], [(dx, _np(xt.grad))]
    )


def compare_activation(
    name: str,
    shape: tuple[int, ...] = (3, 4),
    dtype: Any = "float64",
    seed: int = 0,
    scale: float = 3.0,
) -> dict:
    """ReLU / Tanh / Sigmoid modules and softmax / log_softmax (last axis) vs torch."""
    torch = import_torch()
    if name not in ACTIVATIONS:
        raise ValueError(f"name must be one of {ACTIVATIONS}, got {name!r}")
    dt = check_float_dtype(dtype).name
    rng = np.random.default_rng(seed)
    x = (scale * rng.standard_normal(shape)).astype(dt)
    dout = rng.standard_normal(shape).astype(dt)

    if name in ("relu", "tanh", "sigmoid"):
        module = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}[name]()
        out, cache = module.forward(x)
        dx = module.backward(dout, cache)
        t_fn = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}[name]
        cell = type(module).__name__
    else:
        fwd, bwd = {
            "softmax": (softmax_forward, softmax_backward),
            "log_softmax": (log_softmax_forward, log_softmax_backward),
        }[name]
        out, cache = fwd(x, axis=-1)
        dx = bwd(dout, cache)
        t_fn = {
            "softmax": lambda t: torch.softmax(t, dim=-1),
            "log_softmax": lambda t: torch.log_softmax(t, dim=-1),
        }[name]
        cell = name
    xt = _t(x, requires_grad=True)
    t_out = t_fn(xt)
    t_out.backward(_t(dout))
    config = f"shape={tuple(shape)} scale={scale:g}"
    return _row("layer", cell, config, dt, [(out, _np(t_out))], [(dx, _np(xt.grad))])


def column_gather(y_out, x_lengths):
    """The book's ``column_gather`` (batch-first y_out (B, T, H)), verbatim in spirit."""
    torch = import_torch()
    x_lengths = x_lengths.long().detach().cpu().numpy() - 1
    out = []
    for batch_index, column_index in enumerate(x_lengths):
        out.append(y_out[batch_index, column_index])
    return torch.stack(out)


def compare_gather_last(
    lengths: Sequence[int],
    T: int | None = None,
    H: int = 3,
    batch_first: bool = False,
    dtype: Any = "float64",
    seed: int = 0,
) -> dict:
    """gather_last vs the book's column_gather (torch): output and dh."""
    torch, dt, rng = _setup(dtype, seed)
    lengths = np.asarray(lengths, dtype=np.int64)
    B = len(lengths)
    T = int(lengths.max()) if T is None else T
    h = rng.standard_normal((B, T, H) if batch_first else (T, B, H)).astype(dt)
    dout = rng.standard_normal((B, H)).astype(dt)

    ours = GatherLast(batch_first=batch_first)
    out, cache = ours.forward(h, lengths)
    dh = ours.backward(dout, cache)
    ht = _t(h, requires_grad=True)
    t_out = column_gather(ht if batch_first else ht.transpose(0, 1), torch.from_numpy(lengths))
    t_out.backward(_t(dout))
    config = f"T={T} B={B} H={H} lengths={lengths.tolist()} batch_first={batch_first}"
    return _row("layer", "gather_last", config, dt, [(out, _np(t_out))], [(dh, _np(ht.grad))])


# ---------------------------------------------------------------------------
# losses
# ---------------------------------------------------------------------------
def _loss_row(name: str, config: str, dt: str, ours: tuple, theirs: tuple,
              dloss: np.ndarray) -> dict:
    """Row of a loss: ours (loss, d logits) against torch's loss, backpropagated with
    ``dloss`` into its logits tensor: ``theirs`` = (t_loss, logits tensor)."""
    t_loss, t_logits = theirs
    t_loss.backward(_t(dloss))
    loss, dlogits = ours
    return _row("loss", name, config, dt, [(loss, _np(t_loss))], [(dlogits, _np(t_logits.grad))])


def compare_cross_entropy(
    N: int,
    C: int,
    weighted: bool = False,
    ignore_index: int = -100,
    ignore_fraction: float = 0.0,
    reduction: str = "mean",
    dtype: Any = "float64",
    seed: int = 0,
    scale: float = 3.0,
) -> dict:
    """cross_entropy vs torch.nn.functional.cross_entropy: loss and d logits.

    Targets are uniform over the C classes; a fraction ``ignore_fraction`` of
    them (chosen at random) is then set to ``ignore_index`` (which may also be a
    real class index). Class weights, when ``weighted``, are U(0.1, 2).
    The upstream gradient is a random scalar (or an (N,) vector for "none").
    """
    torch, dt, rng = _setup(dtype, seed)
    logits = (scale * rng.standard_normal((N, C))).astype(dt)
    target = rng.integers(0, C, N)
    target[rng.random(N) < ignore_fraction] = ignore_index
    weight = rng.uniform(0.1, 2.0, C).astype(dt) if weighted else None
    dloss = rng.standard_normal(N if reduction == "none" else ()).astype(dt)

    loss, cache = cross_entropy(logits, target, weight, ignore_index, reduction)
    dlogits = cross_entropy_backward(dloss if reduction == "none" else dloss[()], cache)
    st = _t(logits, requires_grad=True)
    t_loss = torch.nn.functional.cross_entropy(
        st,
        _t(target).long(),
        weight=None if weight is None else _t(weight),
        ignore_index=ignore_index,
        reduction=reduction,
    )
    config = (
        f"N={N} C={C} weight={'yes' if weighted else 'no'} ignore_index={ignore_index} "
        f"ignored={int(np.sum(target == ignore_index))} reduction={reduction}"
    )
    return _loss_row("cross_entropy", config, dt, (loss, dlogits), (t_loss, st), dloss)


def sequence_loss(y_pred, y_true, mask_index):
    """The book's sequence_loss (normalize_sizes + F.cross_entropy with ignore_index)."""
    torch = import_torch()
    if y_pred.dim() == 3:
        y_pred = y_pred.contiguous().view(-1, y_pred.size(2))
    if y_true.dim() == 2:
        y_true = y_true.contiguous().view(-1)
    return torch.nn.functional.cross_entropy(y_pred, y_true, ignore_index=mask_index)


def compare_sequence_cross_entropy(
    B: int,
    T: int,
    C: int,
    mask_index: int = 0,
    mask_fraction: float = 0.3,
    dtype: Any = "float64",
    seed: int = 0,
    scale: float = 3.0,
) -> dict:
    """sequence_cross_entropy vs the book's sequence_loss: loss and d logits (B, T, C)."""
    dt = check_float_dtype(dtype).name
    rng = np.random.default_rng(seed)
    logits = (scale * rng.standard_normal((B, T, C))).astype(dt)
    targets = rng.integers(0, C, (B, T))
    targets[rng.random((B, T)) < mask_fraction] = mask_index
    dloss = np.asarray(rng.standard_normal(), dtype=dt)

    loss, cache = sequence_cross_entropy(logits, targets, mask_index)
    dlogits = sequence_cross_entropy_backward(dloss[()], cache)
    st = _t(logits, requires_grad=True)
    t_loss = sequence_loss(st, _t(targets).long(), mask_index)
    config = (
        f"B={B} T={T} C={C} mask_index={mask_index} "
        f"masked={int(np.sum(targets == mask_index))}"
    )
    return _loss_row("sequence_cross_entropy", config, dt, (loss, dlogits), (t_loss, st),
                     dloss)


# ---------------------------------------------------------------------------
# the report
# ---------------------------------------------------------------------------
def layer_rows(seed: int = 0) -> list[dict]:
    """One row per layer/loss option, in float64 and float32."""
    rows: list[dict] = []
    for dt in ("float64", "float32"):
        rows += [
            compare_embedding(7, 5, (3, 4), None, dt, seed),
            compare_embedding(7, 5, (3, 4), 0, dt, seed),
            compare_embedding(7, 5, (6,), -1, dt, seed),
            compare_linear(4, 3, (5,), True, dt, seed),
            compare_linear(4, 3, (2, 3), False, dt, seed),
            compare_linear(1, 1, (1,), True, dt, seed),
        ]
        for p, training in ((0.5, True), (0.0, True), (1.0, True), (0.5, False)):
            rows.append(compare_dropout((4, 6), p, training, dt, seed))
        rows += [compare_activation(name, (3, 5), dt, seed) for name in ACTIVATIONS]
        rows += [
            compare_gather_last([3, 1, 2], 4, 3, False, dt, seed),
            compare_gather_last([3, 1, 2], 4, 3, True, dt, seed),
        ]
        for weighted in (False, True):
            for ignore_index, fraction in ((-100, 0.0), (-100, 0.3), (0, 0.3)):
                for reduction in ("mean", "sum", "none"):
                    rows.append(
                        compare_cross_entropy(
                            8, 5, weighted, ignore_index, fraction, reduction, dt, seed
                        )
                    )
            rows.append(compare_cross_entropy(4, 3, weighted, -100, 1.0, "mean", dt, seed))
        rows += [
            compare_sequence_cross_entropy(3, 4, 6, 0, 0.3, dt, seed),
            compare_sequence_cross_entropy(2, 5, 4, 2, 0.5, dt, seed),
        ]
    return rows
