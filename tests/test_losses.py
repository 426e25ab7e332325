"""scratchrnn.losses: gradient checks, torch's semantics, validation, parity with torch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scratchrnn.gradcheck import assert_gradients_close
from scratchrnn.losses import (
    accuracy,
    cross_entropy,
    cross_entropy_backward,
    sequence_cross_entropy,
    sequence_cross_entropy_backward,
)
from tests.conftest import PARITY_TOL, needs_torch, seeds

dims = st.integers(1, 6)
reductions = st.sampled_from(["mean", "sum", "none"])


def _problem(rng, N, C, weighted, ignore_index, ignore_fraction, dtype=np.float64):
    logits = (2 * rng.standard_normal((N, C))).astype(dtype)
    target = rng.integers(0, C, N)
    target[rng.random(N) < ignore_fraction] = ignore_index
    weight = rng.uniform(0.1, 2.0, C).astype(dtype) if weighted else None
    return logits, target, weight


def _upstream(rng, N, reduction):
    return rng.standard_normal(N) if reduction == "none" else float(rng.standard_normal())


# ---------------------------------------------------------------------------
# cross_entropy: gradients
# ---------------------------------------------------------------------------
@given(
    N=dims, C=dims, weighted=st.booleans(), ignore_index=st.sampled_from([-100, 0, 1]),
    ignore_fraction=st.sampled_from([0.0, 0.4]), reduction=reductions, seed=seeds,
)
def test_cross_entropy_gradcheck(N, C, weighted, ignore_index, ignore_fraction, reduction, seed):
    rng = np.random.default_rng(seed)
    logits, target, weight = _problem(rng, N, C, weighted, ignore_index, ignore_fraction)
    if not np.any(target != ignore_index):
        target[0] = (ignore_index + 1) % C if C > 1 else 0
        if target[0] == ignore_index:  # C == 1 and ignore_index == 0: nothing to count
            return
    dloss = _upstream(rng, N, reduction)
    loss, cache = cross_entropy(logits, target, weight, ignore_index, reduction)
    dlogits = cross_entropy_backward(dloss, cache)

    def f():
        out = cross_entropy(logits, target, weight, ignore_index, reduction)[0]
        return float(np.sum(out * dloss))

    assert_gradients_close(f, {"logits": logits}, {"logits": dlogits})


# ---------------------------------------------------------------------------
# cross_entropy: the semantics, from the equations
# ---------------------------------------------------------------------------
@given(N=dims, C=dims, seed=seeds)
def test_cross_entropy_definition(N, C, seed):
    rng = np.random.default_rng(seed)
    logits, target, weight = _problem(rng, N, C, True, -100, 0.3)
    valid = target != -100
    rows = np.arange(N)[valid]
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    nll = -np.log(p[rows, target[valid]])
    w = weight[target[valid]]
    none = cross_entropy(logits, target, weight, reduction="none")[0]
    np.testing.assert_allclose(none[valid], w * nll, rtol=1e-12)
    assert np.all(none[~valid] == 0)
    total = cross_entropy(logits, target, weight, reduction="sum")[0]
    np.testing.assert_allclose(total, np.sum(w * nll), rtol=1e-12, atol=1e-300)
    if valid.any():
        mean = cross_entropy(logits, target, weight, reduction="mean")[0]
        np.testing.assert_allclose(mean, np.sum(w * nll) / np.sum(w), rtol=1e-12)
        # without weights, mean = average over the counted targets (not over N)
        plain = cross_entropy(logits, target)[0]
        np.testing.assert_allclose(plain, nll.mean(), rtol=1e-12)


@pytest.mark.parametrize("C", [1, 2, 7])
def test_cross_entropy_of_uniform_logits_is_log_C(C):
    loss, cache = cross_entropy(np.zeros((3, C)), np.array([0, C - 1, 0]))
    np.testing.assert_allclose(loss, np.log(C), rtol=1e-15, atol=1e-300)
    d = cross_entropy_backward(1.0, cache)
    expected = np.full((3, C), 1 / C)
    expected[[0, 1, 2], [0, C - 1, 0]] -= 1
    np.testing.assert_allclose(d, expected / 3, rtol=1e-14, atol=1e-17)


def test_ignored_targets_contribute_nothing():
    rng = np.random.default_rng(0)
    logits, target, weight = _problem(rng, 6, 4, True, 2, 0.0)
    target[[1, 4]] = 2  # ignore_index = 2 is also a class: those rows are ignored
    loss, cache = cross_entropy(logits, target, weight, ignore_index=2)
    d = cross_entropy_backward(1.0, cache)
    assert np.all(d[target == 2] == 0)
    changed = logits.copy()
    changed[target == 2] += rng.standard_normal((int(np.sum(target == 2)), 4))
    assert cross_entropy(changed, target, weight, ignore_index=2)[0] == loss
    keep = target != 2
    np.testing.assert_allclose(
        loss, cross_entropy(logits[keep], target[keep], weight)[0], rtol=1e-14
    )


def test_all_ignored_matches_torch_semantics():
    """Mean over no target is 0/0 = nan (torch too), sum is 0, gradient is 0."""
    logits, target = np.ones((3, 4)), np.full(3, -100)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        for weight in (None, np.arange(1.0, 5.0)):
            mean, cache = cross_entropy(logits, target, weight)
            assert np.isnan(mean)
            assert np.all(cross_entropy_backward(1.0, cache) == 0)
            total, cache = cross_entropy(logits, target, weight, reduction="sum")
            assert total == 0 and np.all(cross_entropy_backward(1.0, cache) == 0)
            none, cache = cross_entropy(logits, target, weight, reduction="none")
            assert np.all(none == 0) and np.all(cross_entropy_backward(np.ones(3), cache) == 0)
    empty, _ = cross_entropy(np.zeros((0, 3)), np.zeros(0, dtype=np.int64))
    assert np.isnan(empty)


def test_zero_total_weight_gives_nan_like_torch():
    logits, target = np.ones((2, 3)), np.array([0, -100])
    loss, cache = cross_entropy(logits, target, np.array([0.0, 1.0, 1.0]))
    assert np.isnan(loss)
    d = cross_entropy_backward(1.0, cache)
    assert np.all(np.isnan(d[0])) and np.all(d[1] == 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_stable_and_keeps_dtype(dtype):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]], dtype=dtype)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        loss, cache = cross_entropy(logits, np.array([1, 1]), reduction="none")
        d = cross_entropy_backward(np.ones(2, dtype=dtype), cache)
    assert loss.dtype == dtype and d.dtype == dtype
    np.testing.assert_allclose(loss, [2e4, 0.0])
    np.testing.assert_allclose(d, [[1, -1, 0], [0, 0, 0]], atol=1e-6)
    mean, _ = cross_entropy(logits, np.array([1, 1]))
    assert np.asarray(mean).dtype == dtype


def test_cross_entropy_rejects_bad_input():
    logits = np.zeros((3, 4))
    good = np.array([0, 1, 2])
    bad_calls = [
        dict(logits=logits, target=np.array([0, 1, 4])),
        dict(logits=logits, target=np.array([0, -1, 2])),
        dict(logits=logits, target=np.array([0, 1])),
        dict(logits=logits, target=np.array([0.0, 1.0, 2.0])),
        dict(logits=np.zeros((3, 4, 1)), target=good),
        dict(logits=np.zeros((3, 4), dtype=np.int64), target=good),
        dict(logits=np.full((3, 4), np.nan), target=good),
        dict(logits=logits, target=good, weight=np.ones(3)),
        dict(logits=logits, target=good, weight=np.ones(4, dtype=np.float32)),
        dict(logits=logits, target=good, reduction="avg"),
        dict(logits=logits, target=good, ignore_index=1.5),
    ]
    for kwargs in bad_calls:
        with pytest.raises(ValueError):
            cross_entropy(**kwargs)
    _, cache = cross_entropy(logits, good, reduction="none")
    with pytest.raises(ValueError, match="shape"):
        cross_entropy_backward(np.ones(2), cache)
    _, cache = cross_entropy(logits, good)
    with pytest.raises(ValueError, match="scalar"):
        cross_entropy_backward(np.ones(3), cache)


# ---------------------------------------------------------------------------
# sequence_cross_entropy and accuracy
# ---------------------------------------------------------------------------
@given(B=dims, T=dims, C=st.integers(2, 6), mask_index=st.integers(0, 1), seed=seeds)
def test_sequence_cross_entropy_is_flat_cross_entropy_and_gradcheck(B, T, C, mask_index, seed):
    rng = np.random.default_rng(seed)
    logits = 2 * rng.standard_normal((B, T, C))
    targets = rng.integers(0, C, (B, T))
    targets[rng.random((B, T)) < 0.3] = mask_index
    targets[0, 0] = 1 - mask_index  # at least one counted position
    loss, cache = sequence_cross_entropy(logits, targets, mask_index)
    flat, _ = cross_entropy(logits.reshape(-1, C), targets.reshape(-1), ignore_index=mask_index)
    assert loss == flat
    dloss = float(rng.standard_normal())
    d = sequence_cross_entropy_backward(dloss, cache)
    assert d.shape == (B, T, C)
    assert np.all(d[targets == mask_index] == 0)
    assert_gradients_close(
        lambda: float(sequence_cross_entropy(logits, targets, mask_index)[0]) * dloss,
        {"logits": logits}, {"logits": d},
    )


def test_sequence_cross_entropy_rejects_bad_input():
    with pytest.raises(ValueError, match=r"\(B, T, C\)"):
        sequence_cross_entropy(np.zeros((2, 3)), np.zeros((2,), dtype=np.int64))
    with pytest.raises(ValueError, match="targets"):
        sequence_cross_entropy(np.zeros((2, 3, 4)), np.zeros((3, 2), dtype=np.int64))


def test_accuracy():
    logits = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    target = np.array([1, 1, 1, 0])  # predictions 1, 0, 1, 0: three right
    assert accuracy(logits, target) == 75.0
    assert accuracy(logits, target, ignore_index=0) == pytest.approx(200 / 3)
    assert np.isnan(accuracy(logits, np.full(4, 3), ignore_index=3))
    seq = logits.reshape(2, 2, 2)
    assert accuracy(seq, target.reshape(2, 2)) == 75.0
    with pytest.raises(ValueError, match="target"):
        accuracy(logits, np.array([1, 1, 1]))


# ---------------------------------------------------------------------------
# parity with torch
# ---------------------------------------------------------------------------
def _assert_parity(row, tol=PARITY_TOL):
    assert row["max_rel_diff_output"] <= tol, row
    assert row["max_rel_diff_grad"] <= tol, row


@needs_torch
@given(
    N=dims, C=dims, weighted=st.booleans(), ignore_index=st.sampled_from([-100, 0, 2]),
    ignore_fraction=st.sampled_from([0.0, 0.3, 1.0]), reduction=reductions,
    scale=st.sampled_from([0.1, 3.0, 50.0]), seed=seeds,
)
def test_parity_cross_entropy(N, C, weighted, ignore_index, ignore_fraction, reduction, scale,
                              seed):
    from parity.layers import compare_cross_entropy

    row = compare_cross_entropy(
        N, C, weighted, ignore_index, ignore_fraction, reduction, "float64", seed, scale
    )
    _assert_parity(row)


@needs_torch
def test_parity_zero_total_weight_nan():
    import torch

    logits, target = np.ones((2, 3)), np.array([0, -100])
    weight = np.array([0.0, 1.0, 1.0])
    loss, cache = cross_entropy(logits, target, weight)
    ours = cross_entropy_backward(1.0, cache)
    st_ = torch.tensor(logits, requires_grad=True)
    t_loss = torch.nn.functional.cross_entropy(st_, torch.tensor(target), torch.tensor(weight))
    t_loss.backward()
    assert np.isnan(loss) and torch.isnan(t_loss)
    np.testing.assert_array_equal(np.isnan(ours), torch.isnan(st_.grad).numpy())
    np.testing.assert_array_equal(ours[1], st_.grad.numpy()[1])


@needs_torch
@given(
    B=dims, T=dims, C=dims, mask_index=st.integers(0, 2),
    mask_fraction=st.sampled_from([0.0, 0.3, 1.0]), seed=seeds,
)
def test_parity_sequence_cross_entropy(B, T, C, mask_index, mask_fraction, seed):
    from parity.layers import compare_sequence_cross_entropy

    _assert_parity(
        compare_sequence_cross_entropy(B, T, C, mask_index, mask_fraction, "float64", seed)
    )


@needs_torch
@given(B=dims, T=dims, C=dims, mask_index=st.integers(0, 2), seed=seeds)
def test_accuracy_matches_the_books_compute_accuracy(B, T, C, mask_index, seed):
    import torch

    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((B, T, C))
    targets = rng.integers(0, C, (B, T))
    targets[0, 0] = mask_index + 1  # at least one counted position
    # the book's compute_accuracy (generation lab), on torch tensors
    y_pred = torch.tensor(logits).view(-1, C)
    y_true = torch.tensor(targets).view(-1)
    _, y_pred_indices = y_pred.max(dim=1)
    correct_indices = torch.eq(y_pred_indices, y_true).float()
    valid_indices = torch.ne(y_true, mask_index).float()
    book = (correct_indices * valid_indices).sum().item() / valid_indices.sum().item() * 100
    assert accuracy(logits, targets, ignore_index=mask_index) == pytest.approx(book, rel=1e-12)
