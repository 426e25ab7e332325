"""Values that mutants of ``make mutate`` (docs/mutation.md) changed and no other test read:
the losses' dtypes, defaults, edge cases and the exact text of their refusals (a refusal
must name the argument at fault and the values it got: that text is what a user reads).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scratchrnn.layers import (
    Dropout,
    Embedding,
    GatherLast,
    Linear,
    dropout_backward,
    dropout_forward,
    embedding_backward,
    embedding_forward,
    gather_last,
    gather_last_backward,
    linear_backward,
    linear_forward,
)
from scratchrnn.losses import (
    accuracy,
    cross_entropy,
    cross_entropy_backward,
    sequence_cross_entropy,
    sequence_cross_entropy_backward,
)
from scratchrnn.recurrent import RNN


def _logits(rng, *shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


@given(st.sampled_from([np.float32, np.float64]), st.sampled_from(["mean", "sum", "none"]),
       st.booleans(), st.integers(0, 2**16))
def test_cross_entropy_keeps_the_logits_dtype_with_and_without_weights(dtype, reduction,
                                                                       weighted, seed):
    rng = np.random.default_rng(seed)
    s = _logits(rng, 5, 3, dtype=dtype)
    y = rng.integers(0, 3, size=5)
    w = rng.random(3).astype(dtype) + 0.5 if weighted else None
    loss, cache = cross_entropy(s, y, weight=w, reduction=reduction)
    assert np.asarray(loss).dtype == dtype
    dloss = rng.standard_normal(5).astype(dtype) if reduction == "none" else 1.0
    ds = cross_entropy_backward(dloss, cache)
    assert ds.dtype == dtype and ds.shape == s.shape


def test_backward_refuses_a_dloss_of_another_dtype_by_name():
    s = np.zeros((2, 3), np.float32)
    _, cache = cross_entropy(s, np.array([0, 1]), reduction="none")
    with pytest.raises(ValueError, match=r"^dloss must have dtype float32, got float64$"):
        cross_entropy_backward(np.ones(2), cache)
    with pytest.raises(ValueError, match=r"^dloss must be a scalar for reduction='sum', "
                                         r"got shape \(2,\)$"):
        cross_entropy_backward(np.ones(2), cross_entropy(s, np.array([0, 1]), reduction="sum")[1])


def test_weights_summing_to_zero_with_a_nonzero_loss_give_inf_silently():
    """Σ w[y_i] = 0 while Σ w[y_i]·nll_i ≠ 0 (a negative weight): x/0 = ±inf, as torch,
    and no divide warning from the loss (its mean divides under np.errstate)."""
    s = np.array([[2.0, 0.0], [0.0, 0.0]])
    y = np.array([0, 1])
    w = np.array([1.0, -1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, cache = cross_entropy(s, y, weight=w)
    with np.errstate(invalid="ignore"):  # the backward's inf − inf
        ds = cross_entropy_backward(1.0, cache)
    nll = -np.log(np.exp(s[np.arange(2), y]) / np.exp(s).sum(1))
    assert np.isinf(loss) and np.sign(loss) == np.sign(w @ nll)
    assert np.all(~np.isfinite(ds))


def test_sequence_loss_ignores_target_0_by_default():
    rng = np.random.default_rng(0)
    s = _logits(rng, 2, 4, 3)
    y = np.array([[1, 2, 0, 0], [2, 1, 1, 0]])
    keep = y.reshape(-1) != 0
    expected, _ = cross_entropy(s.reshape(8, 3)[keep], y.reshape(-1)[keep])
    loss, cache = sequence_cross_entropy(s, y)
    np.testing.assert_allclose(loss, expected, rtol=1e-14)
    ds = sequence_cross_entropy_backward(1.0, cache)
    assert np.all(ds[y == 0] == 0) and np.all(ds[y != 0] != 0)


def test_sequence_loss_is_the_weighted_mean_not_the_sum():
    rng = np.random.default_rng(1)
    s = _logits(rng, 2, 3, 4)
    y = np.array([[1, 2, 3], [3, 1, 2]])
    loss, _ = sequence_cross_entropy(s, y)
    total, _ = cross_entropy(s.reshape(6, 4), y.reshape(6), reduction="sum")
    np.testing.assert_allclose(loss, total / 6, rtol=1e-14)


@given(st.integers(2, 6), st.integers(0, 2**16))
def test_accuracy_of_one_position(C, seed):
    """logits (C,) and a scalar target: the (*, C) shape with * empty is allowed."""
    s = np.random.default_rng(seed).standard_normal(C)
    best = int(np.argmax(s))
    assert accuracy(s, best) == 100.0
    assert accuracy(s, (best + 1) % C) == 0.0


def test_accuracy_with_no_ignore_index_counts_every_position():
    s = np.eye(3)
    assert accuracy(s, np.array([0, 1, 0])) == pytest.approx(200 / 3)
    assert np.isnan(accuracy(s, np.array([5, 5, 5]), ignore_index=5))


def test_out_of_range_targets_are_listed_first_five_ignored_left_out():
    s = np.zeros((4, 3))
    with pytest.raises(ValueError, match=r"^target values must lie in \[0, 3\) \(C classes\) "
                                         r"or equal ignore_index=-100, got \[3, -1\]$"):
        cross_entropy(s, np.array([-100, 3, 0, -1]))
    many = np.array([3, 4, 5, 6, 7, 8, 9])
    with pytest.raises(ValueError, match=r"got \[3, 4, 5, 6, 7\]$"):
        cross_entropy(np.zeros((7, 3)), many)


@pytest.mark.parametrize("call, message", [
    (lambda: cross_entropy(np.zeros((2, 3, 4)), np.zeros(2, int)),
     r"^logits must have shape \(N, C\) with C >= 1, got \(2, 3, 4\)$"),
    (lambda: cross_entropy(np.zeros((2, 0)), np.zeros(2, int)),
     r"^logits must have shape \(N, C\) with C >= 1, got \(2, 0\)$"),
    (lambda: cross_entropy([[0.0]], np.zeros(1, int)), r"^logits must be a numpy.ndarray"),
    (lambda: cross_entropy(np.zeros((2, 3)), np.zeros(2)), r"^target must be an array of int"),
    (lambda: cross_entropy(np.zeros((2, 3)), np.zeros(3, int)),
     r"^target must have shape \(2,\) \(N from logits\), got \(3,\)$"),
    (lambda: cross_entropy(np.zeros((2, 3)), np.zeros(2, int), ignore_index=1.0),
     r"^ignore_index must be an int, got 1.0$"),
    (lambda: cross_entropy(np.zeros((2, 3)), np.zeros(2, int), reduction="avg"),
     r"^reduction must be one of \('mean', 'sum', 'none'\), got 'avg'$"),
    (lambda: cross_entropy(np.zeros((2, 3)), np.zeros(2, int), weight=[1.0, 1.0, 1.0]),
     r"^weight must be a numpy.ndarray"),
    (lambda: cross_entropy(np.zeros((2, 3)), np.zeros(2, int), weight=np.ones(2)),
     r"^weight must have shape \(3,\) \(C classes\), got \(2,\)$"),
    (lambda: sequence_cross_entropy([[[0.0]]], np.zeros((1, 1), int)),
     r"^logits must be a numpy.ndarray"),
    (lambda: sequence_cross_entropy(np.zeros((2, 3)), np.zeros((2, 3), int)),
     r"^logits must have shape \(B, T, C\), got \(2, 3\)$"),
    (lambda: sequence_cross_entropy(np.zeros((2, 3, 4)), np.zeros((2, 3))),
     r"^targets must be an array of int"),
    (lambda: sequence_cross_entropy(np.zeros((2, 3, 4)), np.zeros((3, 2), int)),
     r"^targets must have shape \(2, 3\) \(B, T from logits\), got \(3, 2\)$"),
    (lambda: accuracy(np.float64(1.0), 0), r"^logits must be a numpy.ndarray"),
    (lambda: accuracy(np.array(1.0), 0), r"^logits must have shape \(\*, C\), got \(\)$"),
    (lambda: accuracy(np.zeros((2, 3)), np.zeros(2)), r"^target must be an array of int"),
    (lambda: accuracy(np.zeros((2, 3, 4)), np.zeros((2, 4), int)),
     r"^target must have shape \(2, 3\) \(logits minus C\), got \(2, 4\)$"),
    (lambda: cross_entropy_backward(np.ones(3), cross_entropy(np.zeros((2, 3)), [0, 1],
                                                              reduction="none")[1]),
     r"^dloss must have shape \(2,\) for reduction='none', got \(3,\)$"),
    (lambda: cross_entropy_backward([1.0, 1.0], cross_entropy(np.zeros((2, 3)), [0, 1],
                                                              reduction="none")[1]),
     r"^dloss must be a numpy.ndarray"),
])
def test_a_refusal_names_the_argument_and_what_it_got(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# -- layers ---------------------------------------------------------------------------------
def test_dropout_with_p_1_zeroes_even_a_mask_of_ones():
    x = np.arange(1.0, 7.0).reshape(2, 3)
    y, cache = dropout_forward(x, 1.0, mask=np.ones((2, 3)))
    assert np.all(y == 0) and cache[1] == 0.0
    assert np.all(dropout_backward(np.ones((2, 3)), cache) == 0)


@given(st.sampled_from([np.float32, np.float64]), st.integers(0, 2**16))
def test_layer_backwards_keep_the_dtype(dtype, seed):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((5, 3)).astype(dtype)
    idx = rng.integers(0, 5, size=(2, 4))
    _, cache = embedding_forward(idx, W)
    assert embedding_backward(rng.standard_normal((2, 4, 3)).astype(dtype), cache).dtype == dtype
    x = rng.standard_normal((2, 4, 3)).astype(dtype)
    _, cache = linear_forward(x, W)
    dx, dW, db = linear_backward(rng.standard_normal((2, 4, 5)).astype(dtype), cache)
    assert dx.dtype == dW.dtype == db.dtype == dtype
    assert db.shape == (5,)


def test_embedding_padding_idx_counts_from_the_end_down_to_minus_n():
    emb = Embedding(4, 3, padding_idx=-4, rng=0)
    assert emb.padding_idx == 0 and np.all(emb.params["weight"][0] == 0)
    assert (emb.num_embeddings, emb.embedding_dim) == (4, 3)
    with pytest.raises(ValueError, match=r"^padding_idx must be in \[-4, 4\), got -5$"):
        Embedding(4, 3, padding_idx=-5)
    lin = Linear(3, 2, rng=0)
    assert (lin.in_features, lin.out_features) == (3, 2)


@pytest.mark.parametrize("call, message", [
    (lambda: dropout_backward(np.ones(3, np.float32), dropout_forward(np.ones(3), 0.5, rng=0)[1]),
     r"^dout must have dtype float64, got float32$"),
    (lambda: dropout_backward(np.ones(4), dropout_forward(np.ones(3), 0.5, rng=0)[1]),
     r"^dout must have shape \(3,\), got \(4,\)$"),
    (lambda: dropout_forward([1.0], 0.5), r"^x must be a numpy.ndarray"),
    (lambda: dropout_forward(np.ones(3), 0.5, mask=[1, 1, 1]),
     r"^mask must be a numpy.ndarray, got list$"),
    (lambda: dropout_forward(np.ones(3), 0.5, mask=np.ones(2)),
     r"^mask must have shape \(3,\), got \(2,\)$"),
    (lambda: Dropout(0.5).forward([1.0]), r"^x must be a numpy.ndarray"),
    (lambda: Dropout(0.0).forward([1.0]), r"^x must be a numpy.ndarray"),
    (lambda: Dropout(0.0).forward(np.ones(3), mask=np.ones(2)),
     r"^mask must have shape \(3,\), got \(2,\)$"),
    (lambda: Dropout(0.5).backward([1.0], None), r"^dout must be a numpy.ndarray"),
    (lambda: embedding_forward(np.zeros(2), np.ones((3, 2))), r"^indices must be an array of int"),
    (lambda: embedding_forward(np.array([0, 3]), np.ones((3, 2))),
     r"^indices must lie in \[0, 3\) \(num_embeddings=3\), got values in \[0, 3\]$"),
    (lambda: embedding_backward([[1.0, 1.0]], embedding_forward([0], np.ones((3, 2)))[1]),
     r"^dout must be a numpy.ndarray"),
    (lambda: embedding_backward(np.ones((2, 2)), embedding_forward([0], np.ones((3, 2)))[1]),
     r"^dout must have shape \(1, 2\), got \(2, 2\)$"),
    (lambda: linear_forward([1.0], np.ones((2, 1))), r"^x must be a numpy.ndarray"),
    (lambda: linear_backward([1.0, 1.0], linear_forward(np.ones(1), np.ones((2, 1)))[1]),
     r"^dout must be a numpy.ndarray"),
    (lambda: linear_backward(np.ones(3), linear_forward(np.ones(1), np.ones((2, 1)))[1]),
     r"^dout must have shape \(2,\), got \(3,\)$"),
    (lambda: gather_last([1.0], [1]), r"^h must be a numpy.ndarray"),
    (lambda: gather_last(np.ones((2, 3)), [1]), r"^h must have 3 dimensions \(T, B, H\), "
                                                r"got \(2, 3\)$"),
    (lambda: gather_last(np.ones((2, 3)), [1], batch_first=True),
     r"^h must have 3 dimensions \(B, T, H\), got \(2, 3\)$"),
    (lambda: Linear(0, 2), r"^in_features must be an integer >= 1, got 0$"),
    (lambda: Linear(2, 0), r"^out_features must be an integer >= 1, got 0$"),
    (lambda: Embedding(0, 2), r"^num_embeddings must be an integer >= 1, got 0$"),
    (lambda: Embedding(2, 0), r"^embedding_dim must be an integer >= 1, got 0$"),
    (lambda: RNN(3, 4, nonlinearity="sigmoid"),
     r"^nonlinearity must be 'tanh' or 'relu', got 'sigmoid'$"),
])
def test_a_layer_refusal_names_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_embedding_repr_shows_sizes_and_padding():
    assert repr(Embedding(4, 3, rng=0)) == "Embedding(4, 3)"
    assert repr(Embedding(4, 3, padding_idx=-1, rng=0)) == "Embedding(4, 3, padding_idx=3)"


@given(st.integers(0, 2**16))
def test_embedding_backward_row_sum_depends_only_on_that_rows_positions(seed):
    """The scatter-add sorts stably: row n's sum runs over its own positions in their order,
    whatever the other rows' positions are, so it is bit for bit the sum of that row's
    positions alone (an unstable sort reorders the float32 terms with the others)."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, 3, size=512)
    dout = (rng.standard_normal((512, 4)) * 10.0 ** rng.integers(-4, 5, (512, 1)))
    dout = dout.astype(np.float32)
    W = np.zeros((3, 4), np.float32)
    dW = embedding_backward(dout, embedding_forward(idx, W)[1])
    for n in range(3):
        own = idx == n
        alone = embedding_backward(dout[own], embedding_forward(idx[own], W)[1])
        np.testing.assert_array_equal(dW[n], alone[n])


def test_more_layer_defaults_and_refusal_texts():
    assert Dropout().p == 0.5 and GatherLast().batch_first is False
    x = np.ones((2, 3))
    d = Dropout(0.5)
    d.training = False
    y, cache = d.forward(x, mask=np.ones((2, 3)))  # eval mode: the identity, mask checked only
    assert y is x and cache is None
    h = np.ones((3, 2, 4))
    _, cache = gather_last(h, np.array([1, 3]))
    for call, message in [
        (lambda: dropout_forward(x, 0.5, mask=np.full((2, 3), 2)),
         r"^mask must contain only 0 and 1$"),
        (lambda: d.forward(x, mask=np.ones(3)), r"^mask must have shape \(2, 3\), got \(3,\)$"),
        (lambda: gather_last(h, np.array([1.0, 2.0])), r"^lengths must be an array of int"),
        (lambda: gather_last(h, np.array([1, 2, 3])), r"^lengths must have shape \(2,\), "
                                                      r"got \(3,\)$"),
        (lambda: gather_last_backward([[1.0] * 4] * 2, cache), r"^dout must be a numpy.ndarray"),
        (lambda: gather_last_backward(np.ones((2, 4), np.float32), cache),
         r"^dout must have dtype float64, got float32$"),
        (lambda: gather_last_backward(np.ones((3, 4)), cache),
         r"^dout must have shape \(2, 4\), got \(3, 4\)$"),
        (lambda: linear_backward(np.ones(2, np.float32),
                                 linear_forward(np.ones(1), np.ones((2, 1)))[1]),
         r"^dout must have dtype float64, got float32$"),
        (lambda: linear_forward(np.ones(2), np.ones((2, 1))),
         r"^x must have shape \(\*, 1\) \(in_features\), got \(2,\)$"),
    ]:
        with pytest.raises(ValueError, match=message):
            call()
