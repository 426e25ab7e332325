"""scratchrnn.studies: exact Jacobians (vs finite differences) and the adding problem."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from scratchrnn.gradcheck import assert_gradients_close
from scratchrnn.recurrent import LSTM, RNN
from scratchrnn.studies import CELLS, make_recurrent
from scratchrnn.studies import adding as add
from scratchrnn.studies import jacobian as jac


# ---------------------------------------------------------------------------
# Jacobians
# ---------------------------------------------------------------------------
def _final_h(module, x_tail, h, c):
    (_, hx_n), _ = module.forward(x_tail, h[None] if c is None else (h[None], c[None]))
    return (hx_n if c is None else hx_n[0])[0]


def _fd_jacobian(module, x, k, eps=1e-6):
    """Central differences of h_T with respect to the state (h, and C for LSTM) at T − k."""
    T, B, _ = x.shape
    H = module.hidden_size
    is_lstm = isinstance(module, LSTM)
    h = np.zeros((B, H))
    c = np.zeros((B, H)) if is_lstm else None
    if k < T:
        (_, hx_n), _ = module.forward(x[: T - k], h[None] if c is None else (h[None], c[None]))
        h, c = (hx_n[0], None) if c is None else (hx_n[0][0], hx_n[1][0])
    state = np.concatenate([h, c], axis=1) if is_lstm else h
    J = np.zeros((B, H, state.shape[1]))
    for j in range(state.shape[1]):
        for sign in (1, -1):
            s = state.copy()
            s[:, j] += sign * eps
            out = _final_h(module, x[T - k :], s[:, :H], s[:, H:] if is_lstm else None)
            J[:, :, j] += sign * out / (2 * eps)
    return J


@pytest.mark.parametrize("cell", CELLS)
def test_jacobian_equals_finite_differences(cell):
    rng = np.random.default_rng(3)
    T, B, I, H = 5, 2, 3, 4
    module = make_recurrent(cell, I, H, np.float64, rng)
    for name in module.params:  # a larger scale than the default, so nothing is near 0
        module.params[name] *= 2.0
    x = rng.standard_normal((T, B, I))
    sweep = jac.jacobian_sweep(module, x)
    S = 2 * H if cell == "lstm" else H
    assert sweep.shape == (T, B, H, S)
    for k in range(1, T + 1):
        direct = jac.jacobian(module, x, k)
        np.testing.assert_allclose(sweep[k - 1], direct, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(sweep[k - 1], _fd_jacobian(module, x, k), rtol=1e-6,
                                   atol=1e-8)
    assert np.abs(sweep).max() > 1e-3  # not a trivially zero comparison


def test_jacobian_leaves_module_gradients_alone():
    m = make_recurrent("gru", 2, 3, np.float64, 0)
    m.grads["weight_hh_l0"][...] = 5.0
    jac.jacobian(m, np.ones((3, 1, 2)), 2)
    assert np.all(m.grads["weight_hh_l0"] == 5.0)
    assert np.all(m.grads["weight_ih_l0"] == 0.0)


def test_norms_spectral_below_frobenius_and_equal_to_numpy():
    rng = np.random.default_rng(0)
    J = rng.standard_normal((6, 4, 8))
    spectral, frobenius = jac.matrix_norms(J)
    for i in range(6):
        assert spectral[i] == pytest.approx(np.linalg.norm(J[i], 2), rel=1e-12)
        assert frobenius[i] == pytest.approx(np.linalg.norm(J[i], "fro"), rel=1e-12)
    assert np.all(spectral <= frobenius + 1e-12)
    assert np.all(frobenius <= 2.0 * spectral + 1e-12)  # ≤ √rank · spectral, rank ≤ 4


@pytest.mark.parametrize("cell", ["elman-tanh", "lstm", "hidden-gating"])
def test_curve_norms_are_consistent(cell):
    curve = jac.cell_curve(cell, steps=12, hidden=5, seeds=2, batch=3)
    assert curve.spectral.shape == curve.frobenius.shape == (6, 12)
    assert np.all(curve.spectral <= curve.frobenius * (1 + 1e-12))
    assert np.all(curve.frobenius <= curve.spectral * math.sqrt(5) * (1 + 1e-12))
    assert list(curve.distances) == list(range(1, 13))


def test_zero_recurrent_weights_give_zero_jacobian():
    """Elman with W_hh = 0: h_t depends on x_t only, so ∂h_T/∂h_t = 0 at every distance."""
    m = make_recurrent("elman-tanh", 3, 4, np.float64, 0)
    m.params["weight_hh_l0"][...] = 0
    J = jac.jacobian_sweep(m, np.random.default_rng(1).standard_normal((6, 2, 3)))
    assert np.all(J == 0)


def test_residual_cell_with_zero_recurrent_weights_is_the_identity():
    """h_t = h_{t-1} + tanh(W_ih x_t + b) with W_hh = 0: ∂h_T/∂h_t = I at every distance."""
    m = make_recurrent("residual", 3, 4, np.float64, 0)
    m.params["weight_hh_l0"][...] = 0
    sp, fr = jac.jacobian_norms(m, np.random.default_rng(1).standard_normal((7, 2, 3)))
    np.testing.assert_allclose(sp, 1.0, rtol=1e-12)
    np.testing.assert_allclose(fr, 2.0, rtol=1e-12)  # √H


def test_active_relu_elman_jacobian_is_a_matrix_power():
    """ReLU Elman with every unit active: ∂h_T/∂h_{T−k} = W_hh^k exactly."""
    rng = np.random.default_rng(2)
    H = 4
    m = RNN(2, H, nonlinearity="relu", dtype=np.float64, rng=rng)
    W = rng.uniform(-0.3, 0.3, (H, H))
    m.params["weight_hh_l0"][...] = W
    m.params["bias_ih_l0"][...] = 50.0  # pre-activations stay positive
    x = rng.standard_normal((6, 1, 2))
    J = jac.jacobian_sweep(m, x)
    for k in range(1, 7):
        np.testing.assert_allclose(J[k - 1, 0], np.linalg.matrix_power(W, k), rtol=1e-10,
                                   atol=1e-14)


def test_decay_fit_recovers_a_geometric_rate():
    k = np.arange(1, 41)
    norms = 3.0 * 0.5 ** k
    norms[30:] = 0.0  # underflow: ignored by the fit
    fit = jac.fit_decay(k, norms)
    assert fit.points == 30
    assert fit.slope == pytest.approx(math.log10(0.5), rel=1e-10)
    assert fit.intercept == pytest.approx(math.log10(3.0), rel=1e-10)
    assert fit.factor_per_step == pytest.approx(0.5, rel=1e-10)
    assert fit.steps_per_decade == pytest.approx(1 / math.log10(2), rel=1e-10)
    assert "÷10 every 3.32 steps" in fit.describe()
    assert "×10" in jac.fit_decay(k, 2.0 ** k).describe()
    assert math.isnan(jac.fit_decay(k, np.zeros(40)).slope)


def test_spectral_radius_rescaling_and_sweep_order():
    m = make_recurrent("elman-tanh", 3, 6, np.float64, 0)
    jac.set_spectral_radius(m, 1.3)
    assert np.max(np.abs(np.linalg.eigvals(m.params["weight_hh_l0"]))) == pytest.approx(1.3)
    with pytest.raises(ValueError, match="square"):
        jac.set_spectral_radius(make_recurrent("lstm", 3, 6, np.float64, 0), 1.0)
    low, high = jac.radius_sweep(rhos=(0.3, 1.0), steps=15, hidden=6, seeds=2, batch=2)
    assert low.rho == 0.3 and high.study == "radius"
    assert low.at(15) < high.at(15)  # a smaller radius vanishes faster


def test_gated_cells_keep_gradients_longer_than_elman():
    curves = {c.cell: c for c in jac.at_initialisation(
        cells=("elman-tanh", "residual", "lstm"), steps=30, hidden=8, seeds=2, batch=2)}
    assert curves["residual"].at(30) > 1e3 * curves["elman-tanh"].at(30)
    assert curves["elman-tanh"].fit().slope < 0


def test_curve_means_ignore_missing_distances():
    sp = np.array([[1.0, 0.1, np.nan], [3.0, 0.1, 0.01]])
    curve = jac.JacobianCurve("x", "elman-tanh", np.arange(1, 4), sp, 2 * sp)
    np.testing.assert_allclose(curve.mean(), [2.0, 0.1, 0.01])
    np.testing.assert_allclose(curve.gmean(), [math.sqrt(3.0), 0.1, 0.01])
    np.testing.assert_array_equal(curve.counts(), [2, 2, 1])
    assert math.isnan(curve.at(7))


def test_first_layer_copies_layer_zero():
    rng = np.random.default_rng(0)
    deep = LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True, rng=rng)
    one = jac.first_layer(deep)
    assert one.num_layers == 1 and not one.bidirectional and one.dtype == np.float64
    x = rng.standard_normal((2, 5, 3)).astype(np.float32)
    out_deep, cache = deep.forward(x)
    (h_l0, _), _ = one.forward(x.transpose(1, 0, 2).astype(np.float64))
    np.testing.assert_allclose(cache.layers[0][0].x.shape, (5, 2, 3))
    # layer 0's forward output is layer 1's input (its first H features)
    np.testing.assert_allclose(cache.layers[1][0].x[:, :, :4], h_l0, rtol=1e-5, atol=1e-6)


class _FakeVectorizer:
    def vectorize_classification(self, s):
        idx = [1] + [2 + (ord(ch) % 5) for ch in s] + [7]
        return np.array(idx + [0] * (12 - len(idx))), len(idx)


def test_surname_curve_groups_by_length():
    rng = np.random.default_rng(0)
    rnn = make_recurrent("gru", 3, 4, np.float32, rng)
    table = rng.standard_normal((8, 3))
    names = ["ab", "cd", "efg", "hijkl"] * 3
    curve = jac.surname_curve(rnn, lambda idx: table[idx], names, _FakeVectorizer(),
                              min_count=3)
    # lengths (with BEGIN, END) 4, 4, 5, 7: 12 surnames reach k ≤ 4, 6 reach 5, 3 reach 7
    np.testing.assert_array_equal(curve.counts(), [12, 12, 12, 12, 6, 3, 3])
    x = table[np.array([1, 2 + ord("h") % 5, 2 + ord("i") % 5, 2 + ord("j") % 5,
                        2 + ord("k") % 5, 2 + ord("l") % 5, 7])][:, None, :]
    sp, _ = jac.jacobian_norms(jac.first_layer(rnn), x)
    np.testing.assert_allclose(curve.spectral[-1], sp[:, 0], rtol=1e-12)


def test_csv_and_summary(tmp_path):
    curves = jac.at_initialisation(cells=("elman-tanh", "gru"), steps=6, hidden=3, seeds=1, batch=2)
    path = jac.write_csv(curves, tmp_path / "j.csv")
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == 12 and tuple(rows[0]) == jac.CSV_COLUMNS
    assert rows[0]["cell"] == "elman-tanh" and rows[0]["distance"] == "1"
    assert float(rows[0]["spectral_mean"]) == pytest.approx(curves[0].at(1), rel=1e-6)
    summary = jac.summarize(curves, distances=(1, 5))
    assert set(summary) == {"elman-tanh", "gru"} and "d5" in summary["gru"]
    assert summary["gru"]["d1"] == pytest.approx(curves[1].at(1))
    assert summary["gru"]["slope_log10"] < 0
    assert jac.summarize(curves, distances=(50,))["gru"]["d50"] is None  # not measured
    assert "elman-tanh" in jac.format_table(curves, distances=(1, 5))


def test_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    curves = jac.at_initialisation(cells=("elman-tanh",), steps=5, hidden=3, seeds=1, batch=1)
    path = jac.plot_curves(curves, tmp_path / "j.png", "test")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_jacobian_rejects_unsupported_modules():
    with pytest.raises(ValueError, match="one-layer"):
        jac.jacobian_sweep(RNN(2, 3, num_layers=2), np.zeros((2, 1, 2), np.float32))
    with pytest.raises(ValueError, match="distance k"):
        jac.jacobian(make_recurrent("gru", 2, 3), np.zeros((2, 1, 2)), 3)
    with pytest.raises(ValueError, match="dtype float64"):
        jac.jacobian_sweep(make_recurrent("gru", 2, 3), np.zeros((2, 1, 2), np.float32))
    with pytest.raises(ValueError, match="shape"):
        jac.jacobian_sweep(make_recurrent("gru", 2, 3), np.zeros((2, 1, 5)))


# ---------------------------------------------------------------------------
# The adding problem
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("T", [2, 3, 10, 25])
def test_adding_batch_has_two_markers_and_the_sum_as_target(T):
    x, y = add.adding_batch(T, 200, rng=1)
    assert x.shape == (T, 200, 2) and y.shape == (200,) and x.dtype == y.dtype == np.float32
    values, markers = x[:, :, 0], x[:, :, 1]
    assert set(np.unique(markers)) <= {0.0, 1.0}
    np.testing.assert_array_equal(markers.sum(axis=0), 2)
    np.testing.assert_array_equal(markers[: T // 2].sum(axis=0), 1)  # one in each half
    np.testing.assert_allclose(y, (values * markers).sum(axis=0), rtol=1e-6)
    assert values.min() >= 0 and values.max() < 1
    x2, y2 = add.adding_batch(T, 200, rng=1)
    np.testing.assert_array_equal(x, x2)
    with pytest.raises(ValueError):
        add.adding_batch(1, 4)


def test_adding_baseline_is_one_sixth():
    _, y = add.adding_batch(50, 20000, rng=0, dtype=np.float64)
    assert np.mean((y - 1.0) ** 2) == pytest.approx(add.BASELINE_MSE, abs=0.006)


def test_mse_backward_matches_finite_differences():
    rng = np.random.default_rng(0)
    pred, target = rng.standard_normal(7), rng.standard_normal(7)
    loss, cache = add.mse_loss(pred, target)
    assert loss == pytest.approx(np.mean((pred - target) ** 2))
    d = add.mse_loss_backward(1.5, cache)
    assert_gradients_close(lambda: 1.5 * add.mse_loss(pred, target)[0], {"pred": pred},
                           {"pred": d})
    with pytest.raises(ValueError):
        add.mse_loss(pred, target[:3])


@pytest.mark.parametrize("cell", add.ADDING_CELLS)
def test_adding_model_backward_matches_finite_differences(cell):
    rng = np.random.default_rng(5)
    model = add.AddingModel(cell, hidden_size=3, dtype=np.float64, rng=rng)
    for _, p, _ in model.named_parameters():
        p += rng.uniform(-0.1, 0.1, p.shape)  # move IRNN off its exact identity
    x, y = add.adding_batch(4, 3, rng=rng, dtype=np.float64)
    model.zero_grad()
    pred, cache = model.forward(x)
    _, lc = add.mse_loss(pred, y)
    model.backward(add.mse_loss_backward(1.0, lc), cache)
    params = {name: p for name, p, _ in model.named_parameters()}
    grads = {name: g.copy() for name, _, g in model.named_parameters()}
    assert_gradients_close(lambda: add.mse_loss(model.forward(x)[0], y)[0], params, grads)


def test_irnn_initialisation():
    m = make_recurrent("irnn", 2, 5, np.float32, 0)
    np.testing.assert_array_equal(m.params["weight_hh_l0"], np.eye(5))
    assert not m.params["bias_ih_l0"].any() and not m.params["bias_hh_l0"].any()
    assert m.nonlinearity == "relu"


def test_tiny_training_run_reduces_the_loss_and_is_seeded():
    kw = dict(hidden=8, batch_size=16, updates=120, lr=1e-2, eval_every=40, eval_size=64)
    r = add.train_adding("gru", 6, **kw)
    assert [s for s, _ in r.history] == [0, 40, 80, 120]
    assert r.final_mse < 0.5 * r.history[0][1]
    assert r.final_mse < r.baseline_mse
    assert not r.diverged
    again = add.train_adding("gru", 6, **{**kw, "updates": 40})
    assert again.history[1] == r.history[1]  # same seed, same data, same model


def test_first_below_and_table(tmp_path):
    r = add.train_adding("elman-tanh", 4, updates=3, eval_every=2, eval_size=8, threshold=100.0)
    assert r.first_below == 0 and r.solved
    r2 = add.train_adding("elman-tanh", 4, updates=3, eval_every=2, eval_size=8, threshold=0.0)
    assert r2.first_below is None and [s for s, _ in r2.history] == [0, 2, 3]
    out = add.run(out=str(tmp_path), cells=("elman-tanh", "lstm"), lengths=(4,), updates=2,
                  eval_every=1,
                  eval_size=8, plot=False)
    rows = list(csv.DictReader((tmp_path / "adding.csv").open()))
    assert [row["cell"] for row in rows] == ["elman-tanh", "lstm"]
    assert set(out["summary"]) == {"elman-tanh@4", "lstm@4"}
    assert "lstm" in add.format_table(out["results"])
    history = list(csv.DictReader((tmp_path / "adding_history.csv").open()))
    assert len(history) == 6


def test_compare_in_parallel_gives_the_same_results():
    kw = dict(cells=("gru", "irnn"), lengths=(3, 4), updates=2, eval_every=1, eval_size=8)
    serial = add.compare(**kw)
    seen = []
    parallel = add.compare(**kw, workers=2, progress=seen.append)
    assert [(r.cell, r.T) for r in parallel] == [("gru", 3), ("irnn", 3), ("gru", 4), ("irnn", 4)]
    assert [r.history for r in parallel] == [r.history for r in serial]
    assert len(seen) == 4
