"""scratchrnn.layers: gradient checks, properties, validation, and parity with torch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scratchrnn.activations import (
    ReLU,
    Sigmoid,
    Tanh,
    log_softmax,
    log_softmax_backward,
    log_softmax_forward,
    sigmoid,
    softmax,
    softmax_backward,
    softmax_forward,
)
from scratchrnn.gradcheck import assert_gradients_close
from scratchrnn.layers import (
    Dropout,
    Embedding,
    GatherLast,
    Linear,
    embedding_forward,
    gather_last,
    gather_last_backward,
)
from tests.conftest import PARITY_TOL, needs_torch, seeds

dims = st.integers(1, 5)


def _module_gradcheck(module, x, dout, check_input=True):
    """Finite differences on sum(module(x) * dout) w.r.t. x and every parameter."""
    module.zero_grad()
    out, cache = module.forward(x)
    dx = module.backward(dout, cache)

    def loss():
        return float(np.sum(module.forward(x)[0] * dout))

    inputs = dict(module.params)
    analytic = dict(module.grads)
    if check_input:
        inputs["x"], analytic["x"] = x, dx
    return assert_gradients_close(loss, inputs, analytic)


# ---------------------------------------------------------------------------
# Embedding
# ---------------------------------------------------------------------------
@given(N=dims, E=dims, n_idx=st.integers(1, 8), pad=st.booleans(), seed=seeds)
def test_embedding_gradcheck(N, E, n_idx, pad, seed):
    rng = np.random.default_rng(seed)
    padding_idx = int(rng.integers(N)) if pad else None
    emb = Embedding(N, E, padding_idx=padding_idx, dtype=np.float64, rng=rng)
    W = emb.params["weight"]
    W[...] = rng.standard_normal((N, E))  # the padding row non-zero too
    idx = rng.integers(0, N, (n_idx, 2))  # small N: repeated indices are likely
    dout = rng.standard_normal((n_idx, 2, E))
    out, cache = emb.forward(idx)
    assert out.shape == (n_idx, 2, E)
    assert emb.backward(dout, cache) is None
    frozen = None if padding_idx is None else W[padding_idx].copy()

    def loss():
        # torch's padding row is a constant of the model: it has no gradient
        W_used = W.copy()
        if padding_idx is not None:
            W_used[padding_idx] = frozen
        return float(np.sum(embedding_forward(idx, W_used)[0] * dout))

    assert_gradients_close(loss, {"weight": W}, {"weight": emb.grads["weight"]})


def test_embedding_padding_row_zero_at_init_and_no_grad():
    for padding_idx, row in ((2, 2), (-1, 4)):
        emb = Embedding(5, 3, padding_idx=padding_idx, dtype=np.float64, rng=0)
        assert emb.padding_idx == row
        assert np.all(emb.params["weight"][row] == 0)
        idx = np.array([[row, 1, row], [0, row, 3]])
        out, cache = emb.forward(idx)
        assert np.all(out[idx == row] == 0)
        emb.backward(np.ones((2, 3, 3)), cache)
        assert np.all(emb.grads["weight"][row] == 0)
        # the others got exactly their counts (dout = 1)
        counts = np.bincount(idx.ravel(), minlength=5)
        for n in range(5):
            if n != row:
                assert np.all(emb.grads["weight"][n] == counts[n])


def test_embedding_init_and_dtype():
    emb = Embedding(200, 50, rng=np.random.default_rng(1))
    w = emb.params["weight"]
    assert w.dtype == np.float32 and w.shape == (200, 50)
    # N(0, 1): 10_000 draws, mean within 5 standard errors, std within 5%
    assert abs(w.mean()) < 5 / np.sqrt(w.size)
    assert abs(w.std() - 1) < 0.05
    same = Embedding(200, 50, rng=1).params["weight"]
    assert np.array_equal(w, same)


def test_embedding_rejects_bad_input():
    emb = Embedding(4, 2, dtype=np.float64, rng=0)
    for bad in (np.array([0, 4]), np.array([-1, 0]), np.array([0.0, 1.0]), np.array([True])):
        with pytest.raises(ValueError):
            emb.forward(bad)
    _, cache = emb.forward(np.array([1, 2]))
    with pytest.raises(ValueError, match="shape"):
        emb.backward(np.ones((2, 3)), cache)
    with pytest.raises(ValueError, match="dtype"):
        emb.backward(np.ones((2, 2), dtype=np.float32), cache)
    for kwargs in ({"padding_idx": 4}, {"padding_idx": -5}, {"padding_idx": 1.0}):
        with pytest.raises(ValueError, match="padding_idx"):
            Embedding(4, 2, **kwargs)
    with pytest.raises(ValueError):
        Embedding(0, 2)
    with pytest.raises(ValueError):
        Embedding(3, 2, dtype=np.int64)


# ---------------------------------------------------------------------------
# Linear
# ---------------------------------------------------------------------------
@given(
    D=dims, M=dims, lead=st.lists(st.integers(1, 3), min_size=0, max_size=2),
    bias=st.booleans(), seed=seeds,
)
def test_linear_gradcheck(D, M, lead, bias, seed):
    rng = np.random.default_rng(seed)
    lin = Linear(D, M, bias=bias, dtype=np.float64, rng=rng)
    x = rng.standard_normal((*lead, D))
    dout = rng.standard_normal((*lead, M))
    assert lin.forward(x)[0].shape == (*lead, M)
    _module_gradcheck(lin, x, dout)


def test_linear_backward_accumulates():
    rng = np.random.default_rng(0)
    lin = Linear(3, 2, dtype=np.float64, rng=rng)
    x, dout = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    out, cache = lin.forward(x)
    lin.backward(dout, cache)
    once = {k: g.copy() for k, g in lin.grads.items()}
    lin.backward(dout, cache)
    for k in once:
        np.testing.assert_allclose(lin.grads[k], 2 * once[k], rtol=1e-15)
    np.testing.assert_allclose(out, x @ lin.params["weight"].T + lin.params["bias"], rtol=1e-15)


def test_linear_init_like_torch():
    D = 16
    lin = Linear(D, 300, rng=np.random.default_rng(3))
    k = 1 / np.sqrt(D)
    for name in ("weight", "bias"):
        p = lin.params[name]
        assert p.dtype == np.float32
        assert np.all(np.abs(p) <= k)
        # U(-k, k) has standard deviation k / sqrt(3)
        assert abs(p.std() - k / np.sqrt(3)) < 0.1 * k
    assert "bias" not in Linear(2, 3, bias=False).params


def test_linear_rejects_bad_input():
    lin = Linear(3, 2, dtype=np.float64, rng=0)
    for bad in (np.ones((2, 4)), np.ones(()), np.ones((2, 3), dtype=np.float32),
                [[1.0, 2.0, 3.0]], np.array([[np.nan, 0, 0]])):
        with pytest.raises(ValueError):
            lin.forward(bad)
    _, cache = lin.forward(np.ones((5, 3)))
    with pytest.raises(ValueError, match="shape"):
        lin.backward(np.ones((5, 3)), cache)
    with pytest.raises(ValueError):
        Linear(0, 2)


# ---------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------
def test_dropout_eval_and_p0_are_identity():
    x = np.random.default_rng(0).standard_normal((3, 4))
    d = Dropout(0.7, rng=0).eval()
    out, cache = d.forward(x)
    assert out is x and cache is None
    np.testing.assert_array_equal(d.backward(2 * x, cache), 2 * x)
    d0 = Dropout(0.0, rng=0)
    state = d0.rng.bit_generator.state
    out, cache = d0.forward(x)
    np.testing.assert_array_equal(out, x)
    assert d0.rng.bit_generator.state == state  # nothing drawn


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_scaling_and_mask(p, dtype):
    x = np.random.default_rng(1).uniform(0.5, 2.0, (200, 100)).astype(dtype)  # no zeros
    d = Dropout(p, rng=np.random.default_rng(2))
    out, (mask, _scale) = d.forward(x)
    assert out.dtype == dtype
    kept = out != 0
    np.testing.assert_array_equal(kept, mask == 1)
    np.testing.assert_allclose(out[kept], x[kept] / dtype(1 - p), rtol=1e-6)
    # keep rate 1 - p within 5 binomial standard deviations (n = 20_000)
    n = x.size
    assert abs(kept.mean() - (1 - p)) < 5 * np.sqrt(p * (1 - p) / n)
    dout = np.ones_like(x)
    np.testing.assert_array_equal(d.backward(dout, (mask, _scale)) != 0, kept)


def test_dropout_reproducible_from_seed_and_fresh_each_call():
    x = np.ones((10, 10))
    a, b = Dropout(0.5, rng=42), Dropout(0.5, rng=42)
    first = a(x)
    np.testing.assert_array_equal(first, b(x))
    second = a(x)
    np.testing.assert_array_equal(second, b(x))
    assert not np.array_equal(first, second)


def test_dropout_given_mask_and_p1():
    rng = np.random.default_rng(5)
    x, dout = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    mask = rng.random((4, 5)) < 0.6
    d = Dropout(0.4, rng=0)
    out, cache = d.forward(x, mask=mask)
    np.testing.assert_allclose(out, x * mask / 0.6, rtol=1e-15)
    np.testing.assert_allclose(d.backward(dout, cache), dout * mask / 0.6, rtol=1e-15)
    ones = Dropout(1.0, rng=0)
    out, cache = ones.forward(x)
    assert np.all(out == 0) and np.all(ones.backward(dout, cache) == 0)


def test_dropout_gradcheck_with_fixed_mask():
    rng = np.random.default_rng(6)
    x, dout = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    mask = (rng.random((3, 4)) < 0.5).astype(np.float64)
    d = Dropout(0.3)
    out, cache = d.forward(x, mask=mask)
    dx = d.backward(dout, cache)
    assert_gradients_close(
        lambda: float(np.sum(d.forward(x, mask=mask)[0] * dout)), {"x": x}, {"x": dx}
    )


def test_dropout_rejects_bad_input():
    for p in (-0.1, 1.5, "0.5", True):
        with pytest.raises(ValueError, match="p"):
            Dropout(p)
    d = Dropout(0.5, rng=0)
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match="shape"):
        d.forward(x, mask=np.ones((3, 2)))
    with pytest.raises(ValueError, match="0 and 1"):
        d.forward(x, mask=np.full((2, 3), 2.0))
    with pytest.raises(ValueError):
        d.forward(np.ones((2, 3), dtype=np.int64))
    with pytest.raises(ValueError, match="shape"):
        d.eval().forward(x, mask=np.ones((3, 2)))


# ---------------------------------------------------------------------------
# activations and softmax
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [ReLU, Tanh, Sigmoid])
@given(shape=st.lists(dims, min_size=1, max_size=3), seed=seeds)
def test_activation_gradcheck(cls, shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    x = np.where(np.abs(x) < 1e-3, 0.5, x)  # ReLU's kink: keep finite differences away
    _module_gradcheck(cls(), x, rng.standard_normal(shape))


@pytest.mark.parametrize(
    "fwd,bwd", [(softmax_forward, softmax_backward), (log_softmax_forward, log_softmax_backward)]
)
@given(shape=st.lists(dims, min_size=1, max_size=3), axis=st.integers(-1, 0), seed=seeds)
def test_softmax_gradcheck(fwd, bwd, shape, axis, seed):
    rng = np.random.default_rng(seed)
    x, dout = 2 * rng.standard_normal(shape), rng.standard_normal(shape)
    out, cache = fwd(x, axis=axis)
    dx = bwd(dout, cache)
    assert_gradients_close(lambda: float(np.sum(fwd(x, axis=axis)[0] * dout)), {"x": x}, {"x": dx})


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stable_sigmoid_and_log_softmax_at_extremes(dtype):
    x = np.array([-1e4, -1e3, -100.0, -1.0, 0.0, 1.0, 100.0, 1e3, 1e4], dtype=dtype)
    # exp(-1e4) underflowing to 0 is the right answer; overflow, 0/0, log 0 are not
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        s = sigmoid(x)
        ls = log_softmax(np.stack([x, -x]), axis=-1)
        sm = softmax(np.stack([x, x[::-1]]), axis=-1)
        ls_row = log_softmax(x)
        y, cache = Sigmoid().forward(x)
        Sigmoid().backward(np.ones_like(x), cache)
    assert s.dtype == dtype and ls.dtype == dtype
    assert np.all(np.isfinite(s)) and np.all(np.isfinite(ls)) and np.all(np.isfinite(sm))
    assert s[0] == 0 and s[-1] == 1 and s[4] == 0.5
    np.testing.assert_allclose(s + sigmoid(-x), 1, rtol=0, atol=np.finfo(dtype).eps)
    moderate = np.abs(x) <= 100
    np.testing.assert_allclose(
        s[moderate], 1 / (1 + np.exp(-x[moderate].astype(np.float64))), rtol=1e-6,
        atol=np.finfo(dtype).tiny,  # sigmoid(-100) is subnormal in float32
    )
    # log-sum-exp of a log_softmax is 0; the largest entry 1e4 has log-probability 0
    np.testing.assert_allclose(np.exp(ls).sum(axis=-1), 1, rtol=1e-6)
    assert ls_row[-1] == 0 and ls_row[0] == dtype(-2e4)
    np.testing.assert_allclose(sm.sum(axis=-1), 1, rtol=1e-6)


@given(shape=st.lists(dims, min_size=1, max_size=3), c=st.floats(-50, 50), seed=seeds)
def test_log_softmax_shift_invariant_and_matches_log_of_softmax(shape, c, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    np.testing.assert_allclose(log_softmax(x + c), log_softmax(x), atol=1e-12)
    np.testing.assert_allclose(np.exp(log_softmax(x)), softmax(x), rtol=1e-12)


def test_relu_gradient_at_zero_is_zero_like_torch():
    x = np.array([-1.0, 0.0, 2.0])
    out, cache = ReLU().forward(x)
    np.testing.assert_array_equal(out, [0.0, 0.0, 2.0])
    np.testing.assert_array_equal(ReLU().backward(np.ones(3), cache), [0.0, 0.0, 1.0])


@needs_torch
def test_parity_relu_at_zero():
    import torch

    x = np.array([-1.0, 0.0, 2.0])
    xt = torch.tensor(x, requires_grad=True)
    torch.relu(xt).sum().backward()
    _, cache = ReLU().forward(x)
    np.testing.assert_array_equal(ReLU().backward(np.ones(3), cache), xt.grad.numpy())


def test_activations_reject_bad_input():
    for cls in (ReLU, Tanh, Sigmoid):
        with pytest.raises(ValueError):
            cls().forward(np.array([1, 2]))
        with pytest.raises(ValueError):
            cls().forward([1.0, 2.0])
        _, cache = cls().forward(np.ones(3))
        with pytest.raises(ValueError, match="shape"):
            cls().backward(np.ones(4), cache)


# ---------------------------------------------------------------------------
# gather_last
# ---------------------------------------------------------------------------
@given(T=dims, B=dims, H=dims, batch_first=st.booleans(), seed=seeds)
def test_gather_last_definition_and_gradcheck(T, B, H, batch_first, seed):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, T + 1, B)
    h = rng.standard_normal((B, T, H) if batch_first else (T, B, H))
    out, cache = gather_last(h, lengths, batch_first)
    for b in range(B):
        step = lengths[b] - 1
        np.testing.assert_array_equal(out[b], h[b, step] if batch_first else h[step, b])
    dout = rng.standard_normal((B, H))
    dh = gather_last_backward(dout, cache)
    assert dh.shape == h.shape
    assert_gradients_close(
        lambda: float(np.sum(gather_last(h, lengths, batch_first)[0] * dout)), {"h": h}, {"h": dh}
    )
    # the two layouts agree
    other = h.transpose(1, 0, 2)
    np.testing.assert_array_equal(gather_last(other, lengths, not batch_first)[0], out)
    g = GatherLast(batch_first)
    np.testing.assert_array_equal(g.backward(dout, g.forward(h, lengths)[1]), dh)


def test_gather_last_rejects_bad_input():
    h = np.zeros((4, 2, 3))
    for lengths in ([0, 1], [5, 1], [1, 2, 3], [1.0, 2.0], [[1, 2]]):
        with pytest.raises(ValueError, match="lengths"):
            gather_last(h, lengths)
    with pytest.raises(ValueError, match="3 dimensions"):
        gather_last(np.zeros((4, 2)), [1, 2])
    _, cache = gather_last(h, [1, 4])
    with pytest.raises(ValueError, match="shape"):
        gather_last_backward(np.zeros((3, 2)), cache)


# ---------------------------------------------------------------------------
# parity with torch (float64 within 1e-9; the full report in both dtypes)
# ---------------------------------------------------------------------------
def _assert_parity(row, tol=PARITY_TOL):
    assert row["max_rel_diff_output"] <= tol, row
    assert row["max_rel_diff_grad"] <= tol, row


@needs_torch
@given(
    N=dims, E=dims, index_shape=st.lists(st.integers(1, 4), min_size=0, max_size=2),
    pad=st.sampled_from([None, 0, -1, 2]), seed=seeds,
)
def test_parity_embedding(N, E, index_shape, pad, seed):
    from parity.layers import compare_embedding

    if pad is not None and not -N <= pad < N:
        pad = None
    _assert_parity(compare_embedding(N, E, tuple(index_shape), pad, "float64", seed))


@needs_torch
@given(
    D=dims, M=dims, lead=st.lists(st.integers(1, 3), min_size=0, max_size=2),
    bias=st.booleans(), seed=seeds,
)
def test_parity_linear(D, M, lead, bias, seed):
    from parity.layers import compare_linear

    _assert_parity(compare_linear(D, M, tuple(lead), bias, "float64", seed))


@needs_torch
@given(
    shape=st.lists(dims, min_size=1, max_size=3),
    p=st.sampled_from([0.0, 0.2, 0.5, 0.9, 1.0]), training=st.booleans(), seed=seeds,
)
def test_parity_dropout(shape, p, training, seed):
    from parity.layers import compare_dropout

    _assert_parity(compare_dropout(tuple(shape), p, training, "float64", seed % 2**31))


@needs_torch
@given(
    name=st.sampled_from(["relu", "tanh", "sigmoid", "softmax", "log_softmax"]),
    shape=st.lists(dims, min_size=1, max_size=3), scale=st.sampled_from([0.1, 3.0, 30.0]),
    seed=seeds,
)
def test_parity_activations(name, shape, scale, seed):
    from parity.layers import compare_activation

    _assert_parity(compare_activation(name, tuple(shape), "float64", seed, scale))


@needs_torch
@given(T=dims, B=dims, H=dims, batch_first=st.booleans(), seed=seeds)
def test_parity_gather_last(T, B, H, batch_first, seed):
    from parity.layers import compare_gather_last

    lengths = np.random.default_rng(seed).integers(1, T + 1, B).tolist()
    _assert_parity(compare_gather_last(lengths, T, H, batch_first, "float64", seed))


@needs_torch
def test_layer_rows_report():
    from parity.layers import layer_rows

    rows = layer_rows(seed=0)
    cells = {r["cell"] for r in rows}
    assert {"Embedding", "Embedding(padding_idx)", "Linear", "Linear(bias=False)", "Dropout",
            "ReLU", "Tanh", "Sigmoid", "softmax", "log_softmax", "gather_last",
            "cross_entropy", "sequence_cross_entropy"} <= cells
    assert {r["dtype"] for r in rows} == {"float64", "float32"}
    for r in rows:
        assert set(r) == {"group", "cell", "config", "dtype",
                          "max_rel_diff_output", "max_rel_diff_grad"}
        _assert_parity(r, PARITY_TOL if r["dtype"] == "float64" else 1e-4)
