"""scratchrnn.gating: the slides' gating progression (residual, input gating, hidden-state gating).

No torch module computes these cells, so their proof is:

* finite differences of every step function and of the sequence module GatedRNN
  (variable lengths, two layers, both directions, batch_first) in float64;
* the forward equals the slide's equations written directly in concatenated form
  W·[h_{t-1}, x_t] + b;
* exact relationships between the three cells (a saturated gate turns one into the
  previous one).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scratchrnn.gating import (
    GATE_BLOCKS,
    GATINGS,
    GatedRNN,
    gated_step_backward,
    gated_step_forward,
)
from scratchrnn.gradcheck import assert_gradients_close
from scratchrnn.recurrent import Recurrent

sizes = st.integers(1, 4)
seeds = st.integers(0, 2**32 - 1)


# ---------------------------------------------------------------------------
# step functions
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("gating", GATINGS)
@pytest.mark.parametrize("bias", [True, False])
@given(B=sizes, H=sizes, seed=seeds)
def test_step_backward_matches_finite_differences(gating, bias, B, H, seed):
    rng = np.random.default_rng(seed)
    G = GATE_BLOCKS[gating]
    gx = rng.standard_normal((B, G * H))
    h_prev = rng.standard_normal((B, H))
    W_hh = rng.standard_normal((G * H, H)) * 0.7
    b_hh = rng.standard_normal(G * H) if bias else None
    dout = rng.standard_normal((B, H))

    h_t, cache = gated_step_forward(gx, h_prev, W_hh, b_hh, gating)
    assert h_t.shape == (B, H)
    dgx, dgh, dh_prev = gated_step_backward(dout, cache, W_hh)
    assert dgx.shape == dgh.shape == (B, G * H) and dh_prev.shape == (B, H)

    def loss():
        return np.sum(gated_step_forward(gx, h_prev, W_hh, b_hh, gating)[0] * dout)

    inputs = {"gx": gx, "h_prev": h_prev, "W_hh": W_hh}
    analytic = {"gx": dgx, "h_prev": dh_prev, "W_hh": dgh.T @ h_prev}
    if bias:
        inputs["b_hh"] = b_hh
        analytic["b_hh"] = dgh.sum(axis=0)
    assert_gradients_close(loss, inputs, analytic)


def _slide_step(x, h, W, b, gating):
    """The slide's equations, directly: W·[h, x] + b with W = [W_hh | W_ih] row blocks F, λ, μ."""
    H = h.shape[1]
    a = np.concatenate([h, x], axis=1) @ W.T + b
    F = np.tanh(a[:, :H])
    if gating == "none":
        return h + F
    lam = 1.0 / (1.0 + np.exp(-a[:, H : 2 * H]))
    if gating == "input":
        return h + lam * F
    mu = 1.0 / (1.0 + np.exp(-a[:, 2 * H :]))
    return mu * h + lam * F


@pytest.mark.parametrize("gating", GATINGS)
@given(T=sizes, B=sizes, H=sizes, I=sizes, seed=seeds)
def test_module_forward_is_the_slide_equations(gating, T, B, H, I, seed):
    rng = np.random.default_rng(seed)
    m = GatedRNN(I, H, gating=gating, dtype=np.float64, rng=rng)
    p = m.params
    x = rng.standard_normal((T, B, I))
    h0 = rng.standard_normal((1, B, H))
    (out, h_n), _ = m.forward(x, h0)
    W = np.concatenate([p["weight_hh_l0"], p["weight_ih_l0"]], axis=1)
    b = p["bias_ih_l0"] + p["bias_hh_l0"]
    h = h0[0]
    for t in range(T):
        h = _slide_step(x[t], h, W, b, gating)
        np.testing.assert_allclose(out[t], h, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h_n[0], h, rtol=1e-12, atol=1e-12)


def test_parameter_names_and_shapes_follow_torch():
    for gating, G in GATE_BLOCKS.items():
        m = GatedRNN(5, 3, gating=gating, num_layers=2, bidirectional=True)
        assert m.params["weight_ih_l0"].shape == (G * 3, 5)
        assert m.params["weight_ih_l1_reverse"].shape == (G * 3, 6)
        assert m.params["weight_hh_l1"].shape == (G * 3, 3)
        assert m.params["bias_hh_l0_reverse"].shape == (G * 3,)
        assert m.params["weight_hh_l0"].dtype == np.float32
        assert np.abs(m.params["weight_hh_l0"]).max() <= 1 / np.sqrt(3)
    assert "bias_ih_l0" not in GatedRNN(2, 2, gating="input", bias=False).params


def test_bad_gating_is_rejected():
    with pytest.raises(ValueError, match="gating must be one of"):
        GatedRNN(2, 2, gating="output")
    with pytest.raises(ValueError, match="gating must be one of"):
        gated_step_forward(np.zeros((1, 2)), np.zeros((1, 2)), np.zeros((2, 2)), None, "lstm")


# ---------------------------------------------------------------------------
# exact relationships along the progression
# ---------------------------------------------------------------------------
def _gate_held(seed: int, simpler: str, gated: str, bias: float):
    """Two cells of the progression, ``gated`` holding ``simpler``'s blocks and its extra
    gate's pre-activation pinned at ``bias`` (weights zero): (rng, simpler, gated, x)."""
    rng = np.random.default_rng(seed)
    H, I = 3, 2
    src = GatedRNN(I, H, gating=simpler, dtype=np.float64, rng=rng)
    dst = GatedRNN(I, H, gating=gated, dtype=np.float64, rng=rng)
    G = src.gates
    for name in dst.params:
        dst.params[name][: G * H] = src.params[name]
    dst.params["weight_ih_l0"][G * H :] = 0
    dst.params["weight_hh_l0"][G * H :] = 0
    dst.params["bias_ih_l0"][G * H :] = bias
    return rng, src, dst, rng.standard_normal((5, 2, I))


@given(seed=seeds)
def test_open_input_gate_is_the_residual_cell(seed):
    """λ ≡ 1 (b_λ → +∞): h_t = h_{t-1} + λ F becomes h_{t-1} + F."""
    _, res, inp, x = _gate_held(seed, "none", "input", 60.0)  # σ(60) = 1 − 9e-27
    np.testing.assert_allclose(inp(x)[0], res(x)[0], rtol=0, atol=1e-13)


@given(seed=seeds)
def test_hidden_gate_held_open_is_input_gating(seed):
    """μ ≡ 1: h_t = μ h_{t-1} + λ F becomes h_{t-1} + λ F; μ ≡ 0 forgets h_{t-1} entirely."""
    rng, inp, hid, x = _gate_held(seed, "input", "hidden", 60.0)
    H = inp.hidden_size
    np.testing.assert_allclose(hid(x)[0], inp(x)[0], rtol=0, atol=1e-13)

    hid.params["bias_ih_l0"][2 * H :] = -60.0  # μ ≈ 0: h_t = λ_t ⊙ F_t, no memory of h_{t-1}
    gx = x[-1] @ hid.params["weight_ih_l0"].T + hid.params["bias_ih_l0"]
    h_prev = rng.standard_normal((2, H))
    h_t, c = gated_step_forward(gx, h_prev, hid.params["weight_hh_l0"],
                                hid.params["bias_hh_l0"], "hidden")
    np.testing.assert_allclose(h_t, c.lam_t * c.F_t, atol=1e-20)
    assert np.all(c.mu_t < 1e-25)


# ---------------------------------------------------------------------------
# the sequence module: BPTT with lengths, layers, directions
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("gating", GATINGS)
@pytest.mark.parametrize(
    "layers, bidirectional, batch_first, use_lengths",
    [(1, False, False, False), (2, True, False, True), (2, False, True, True)],
)
def test_module_backward_matches_finite_differences(gating, layers, bidirectional, batch_first,
                                                    use_lengths):
    rng = np.random.default_rng(7)
    T, B, I, H = 4, 3, 2, 3
    D = 2 if bidirectional else 1
    m = GatedRNN(I, H, gating=gating, num_layers=layers, bidirectional=bidirectional,
                 batch_first=batch_first, dtype=np.float64, rng=rng)
    x = rng.standard_normal((B, T, I) if batch_first else (T, B, I))
    h0 = rng.standard_normal((layers * D, B, H))
    lengths = np.array([4, 1, 3]) if use_lengths else None
    (out, h_n), cache = m.forward(x, hx=h0, lengths=lengths)  # the recurrent contract
    d_out = rng.standard_normal(out.shape)
    d_hn = rng.standard_normal(h_n.shape)
    m.zero_grad()
    dx, dh0, grads = m.backward(d_out, cache, d_hx_n=d_hn)

    def loss():
        (o, hn), _ = m.forward(x, hx=h0, lengths=lengths)
        return np.sum(o * d_out) + np.sum(hn * d_hn)

    inputs = {"x": x, "h0": h0, **m.params}
    analytic = {"x": dx, "h0": dh0, **grads}
    assert_gradients_close(loss, inputs, analytic)
    for name in m.params:  # backward accumulated into the module's gradients
        np.testing.assert_array_equal(m.grads[name], grads[name])
    if use_lengths:  # sequence 1 has length 1: zero output after its first step
        assert np.all((out[1, 1:] if batch_first else out[1:, 1]) == 0)


def test_gated_rnn_shares_the_recurrent_contract():
    """A Recurrent like RNN/GRU: hx is one array (L·D, B, H), a pair or a wrong shape is a
    ValueError naming what was expected; input_grad=False skips only d_input."""
    m = GatedRNN(2, 3, gating="hidden", num_layers=2, dtype=np.float64, rng=0)
    assert isinstance(m, Recurrent) and not m.has_cell_state
    x = np.random.default_rng(1).standard_normal((4, 5, 2))
    h0 = np.zeros((2, 5, 3))
    with pytest.raises(ValueError, match=r"GatedRNN expects hx = one array of shape \(2, 5, 3\), "
                                         r"got a tuple of 2"):
        m.forward(x, (h0, h0))
    with pytest.raises(ValueError, match=r"hx must have shape \(2, 5, 3\)"):
        m.forward(x, h0[:1])
    (out, h_n), cache = m.forward(x, h0)
    with pytest.raises(ValueError, match="GatedRNN expects d_hx_n = one array"):
        m.backward(None, cache, (h_n, h_n))
    d_x, d_h0, grads = m.backward(out, cache, h_n)
    none_x, d_h0_again, grads_again = m.backward(out, cache, h_n, input_grad=False)
    assert d_x.shape == x.shape and none_x is None
    np.testing.assert_array_equal(d_h0, d_h0_again)
    assert d_h0.shape == h0.shape and set(grads) == set(m.params)
