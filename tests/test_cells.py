"""scratchrnn.cells and scratchrnn.cell_modules, in NumPy only (no torch).

* finite-difference checks of every step function and every cell function (float64);
* the slide's concatenated form W·[h, x] + b equals the split form torch stores;
* the exact relationship between the GRU's torch form and its slide form;
* the cell modules (gradient accumulation, unbatched input) and the lecture's ElmanRNN.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from scratchrnn.cell_modules import ElmanRNN, GRUCell, LSTMCell, RNNCell
from scratchrnn.cells import (
    elman_cell_backward,
    elman_cell_forward,
    elman_step_backward,
    elman_step_forward,
    gru_cell_backward,
    gru_cell_forward,
    gru_hidden_inputs,
    gru_step_backward,
    gru_step_forward,
    gru_weight_hh_grad,
    lstm_cell_backward,
    lstm_cell_forward,
    lstm_step_backward,
    lstm_step_forward,
)
from scratchrnn.gradcheck import assert_gradients_close
from scratchrnn.recurrent import RNN

GATES = {"elman": 1, "lstm": 4, "gru": 3}
sizes = st.integers(1, 4)
seeds = st.integers(0, 2**32 - 1)


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


@st.composite
def step_cases(draw, cell: str, proj: bool = False):
    """Arrays for one step of ``cell`` (float64): sizes 1–4, bias or not, any seed.

    Keys: gx (B, G·H), h (B, P), c (B, H) for the LSTM, W_hh (G·H, P), b_hh (G·H,) or None,
    W_hr (P, H) or None, dh (B, P), dc (B, H); and x (B, I), W_ih, b_ih for whole cells.
    """
    B, I, H = draw(sizes), draw(sizes), draw(sizes)
    P = H
    if proj:
        H = max(H, 2)
        P = draw(st.integers(1, H - 1))
    bias = draw(st.booleans())
    rng = np.random.default_rng(draw(seeds))
    G = GATES[cell]

    def r(*shape, s=1.0):
        return s * rng.standard_normal(shape)

    return {
        "B": B, "I": I, "H": H, "P": P, "bias": bias,
        "x": r(B, I),
        "gx": r(B, G * H),
        "h": r(B, P),
        "c": r(B, H),
        "W_ih": r(G * H, I, s=1 / np.sqrt(I)),
        "W_hh": r(G * H, P, s=1 / np.sqrt(P)),
        "b_ih": r(G * H) if bias else None,
        "b_hh": r(G * H) if bias else None,
        "W_hr": r(P, H, s=1 / np.sqrt(H)) if proj else None,
        "dh": r(B, P),
        "dc": r(B, H),
    }


def _bias(case):
    return {"b_hh": case["b_hh"]} if case["bias"] else {}


# ---------------------------------------------------------------------------
# Finite differences: step functions
# ---------------------------------------------------------------------------
@given(step_cases("elman"), st.sampled_from(["tanh", "relu"]))
def test_elman_step_gradients(case, nonlinearity):
    gx, h, W_hh, b_hh, dh = case["gx"], case["h"], case["W_hh"], case["b_hh"], case["dh"]
    if nonlinearity == "relu":
        # keep every pre-activation at least 0.1 from ReLU's kink (finite differences
        # move it by ~1e-6), by shifting gx_t; the sign pattern stays random
        a = gx + h @ W_hh.T + (0 if b_hh is None else b_hh)
        gx += np.where(np.abs(a) < 0.1, np.where(a < 0, -0.1, 0.1) - a, 0.0)
    h_t, cache = elman_step_forward(gx, h, W_hh, b_hh, nonlinearity)
    dgx, dgh, dh_prev = elman_step_backward(dh, cache, W_hh)

    def loss():
        return np.sum(elman_step_forward(gx, h, W_hh, b_hh, nonlinearity)[0] * dh)

    inputs = {"gx": gx, "h": h, "W_hh": W_hh, **_bias(case)}
    analytic = {"gx": dgx, "h": dh_prev, "W_hh": dgh.T @ h, "b_hh": dgh.sum(axis=0)}
    assert_gradients_close(loss, inputs, analytic)


@given(st.booleans().flatmap(lambda proj: step_cases("lstm", proj=proj)))
def test_lstm_step_gradients(case):
    """With and without the projection W_hr (proj_size)."""
    gx, h, c, W_hh, b_hh, W_hr = (case[k] for k in ("gx", "h", "c", "W_hh", "b_hh", "W_hr"))
    dh, dc = case["dh"], case["dc"]
    h_t, c_t, cache = lstm_step_forward(gx, h, c, W_hh, b_hh, W_hr)
    assert h_t.shape == (case["B"], case["P"]) and c_t.shape == (case["B"], case["H"])
    dgx, dgh, dh_prev, dc_prev = lstm_step_backward(dh, dc, cache, W_hh, W_hr)

    def loss():
        h1, c1, _ = lstm_step_forward(gx, h, c, W_hh, b_hh, W_hr)
        return np.sum(h1 * dh) + np.sum(c1 * dc)

    inputs = {"gx": gx, "h": h, "c": c, "W_hh": W_hh, **_bias(case)}
    analytic = {"gx": dgx, "h": dh_prev, "c": dc_prev, "W_hh": dgh.T @ h,
                "b_hh": dgh.sum(axis=0)}
    if W_hr is not None:
        inputs["W_hr"] = W_hr
        analytic["W_hr"] = dh.T @ cache.m_t
    assert_gradients_close(loss, inputs, analytic)


@given(step_cases("gru"), st.sampled_from(["torch", "slide"]))
def test_gru_step_gradients(case, form):
    gx, h, W_hh, b_hh, dh = case["gx"], case["h"], case["W_hh"], case["b_hh"], case["dh"]
    h_t, cache = gru_step_forward(gx, h, W_hh, b_hh, form)
    dgx, dgh, dh_prev = gru_step_backward(dh, cache, W_hh)

    def loss():
        return np.sum(gru_step_forward(gx, h, W_hh, b_hh, form)[0] * dh)

    inputs = {"gx": gx, "h": h, "W_hh": W_hh, **_bias(case)}
    analytic = {"gx": dgx, "h": dh_prev, "W_hh": gru_weight_hh_grad(dgh, *gru_hidden_inputs(cache)),
                "b_hh": dgh.sum(axis=0)}
    assert_gradients_close(loss, inputs, analytic)


# ---------------------------------------------------------------------------
# Finite differences: whole cells (input projection + step), every parameter
# ---------------------------------------------------------------------------
def _cell_weights(case):
    return {"weight_ih": case["W_ih"], "weight_hh": case["W_hh"],
            "bias_ih": case["b_ih"], "bias_hh": case["b_hh"]}


def _cell_inputs(case, *state):
    inputs = {"x": case["x"], "h_prev": case["h"]}
    if "c" in state:
        inputs["c_prev"] = case["c"]
    inputs.update({k: v for k, v in _cell_weights(case).items() if v is not None})
    return inputs


def _assert_one_state_cell_gradients(cell_forward, cell_backward, case, **variant):
    """The cell's backward (Elman or GRU: the state is h alone) against finite differences
    of Σ h' ⊙ dh, for the input, h_prev and every parameter."""
    w = _cell_weights(case)
    x, h, dh = case["x"], case["h"], case["dh"]
    _, cache = cell_forward(x, h, **w, **variant)
    grads = cell_backward(dh, cache)

    def loss():
        return np.sum(cell_forward(x, h, **w, **variant)[0] * dh)

    inputs = _cell_inputs(case)
    assert set(grads) == set(inputs)
    assert_gradients_close(loss, inputs, grads)


@given(step_cases("elman"), st.sampled_from(["tanh", "relu"]))
def test_elman_cell_gradients(case, nonlinearity):
    w = _cell_weights(case)
    x, h = case["x"], case["h"]
    if nonlinearity == "relu":  # stay away from the kink (finite differences move a by ~1e-6)
        a = x @ w["weight_ih"].T + h @ w["weight_hh"].T
        if case["bias"]:
            a += w["bias_ih"] + w["bias_hh"]
        assume(np.abs(a).min() > 1e-3)
    _assert_one_state_cell_gradients(elman_cell_forward, elman_cell_backward, case,
                                     nonlinearity=nonlinearity)


@given(step_cases("lstm"))
def test_lstm_cell_gradients(case):
    w = _cell_weights(case)
    x, h, c, dh, dc = case["x"], case["h"], case["c"], case["dh"], case["dc"]
    _, cache = lstm_cell_forward(x, h, c, **w)
    grads = lstm_cell_backward(dh, dc, cache)

    def loss():
        (h1, c1), _ = lstm_cell_forward(x, h, c, **w)
        return np.sum(h1 * dh) + np.sum(c1 * dc)

    inputs = _cell_inputs(case, "c")
    assert set(grads) == set(inputs)
    assert_gradients_close(loss, inputs, grads)


@given(step_cases("gru"), st.sampled_from(["torch", "slide"]))
def test_gru_cell_gradients(case, form):
    _assert_one_state_cell_gradients(gru_cell_forward, gru_cell_backward, case, form=form)


# ---------------------------------------------------------------------------
# The slide's concatenated form W·[h, x] + b is torch's split form
# ---------------------------------------------------------------------------
def _concatenated(case):
    """W = [W_hh | W_ih] (G·H, P + I), b = b_ih + b_hh, and the input [h, x] (B, P + I)."""
    W = np.concatenate([case["W_hh"], case["W_ih"]], axis=1)
    b = case["b_ih"] + case["b_hh"] if case["bias"] else np.zeros(W.shape[0])
    return W, b, np.concatenate([case["h"], case["x"]], axis=1)


TOL = 1e-12


@given(step_cases("elman"))
def test_elman_concatenated_form(case):
    """h_t = tanh(W·[h_{t-1}, x_t] + b) equals tanh(W_ih x + b_ih + W_hh h + b_hh)."""
    W, b, hx = _concatenated(case)
    h_t = np.tanh(hx @ W.T + b)
    ours, _ = elman_cell_forward(case["x"], case["h"], **_cell_weights(case))
    np.testing.assert_allclose(ours, h_t, rtol=0, atol=TOL)


@given(step_cases("lstm"))
def test_lstm_concatenated_form(case):
    """The slide's six LSTM equations, with torch's row blocks i, f, g (= C̃), o of W."""
    W, b, hx = _concatenated(case)
    H = case["H"]
    W_i, W_f, W_C, W_o = (W[k * H : (k + 1) * H] for k in range(4))
    b_i, b_f, b_C, b_o = (b[k * H : (k + 1) * H] for k in range(4))
    C_prev = case["c"]
    f_t = sigmoid(hx @ W_f.T + b_f)
    i_t = sigmoid(hx @ W_i.T + b_i)
    C_tilde = np.tanh(hx @ W_C.T + b_C)
    C_t = f_t * C_prev + i_t * C_tilde
    o_t = sigmoid(hx @ W_o.T + b_o)
    h_t = o_t * np.tanh(C_t)

    (ours_h, ours_c), cache = lstm_cell_forward(case["x"], case["h"], C_prev,
                                                **_cell_weights(case))
    step = cache.step
    for ours, slide in [(step.f_t, f_t), (step.i_t, i_t), (step.g_t, C_tilde), (ours_c, C_t),
                        (step.o_t, o_t), (ours_h, h_t)]:
        np.testing.assert_allclose(ours, slide, rtol=0, atol=TOL)


@given(step_cases("gru"))
def test_gru_concatenated_form(case):
    """z_t = σ(W_z·[h, x] + b_z), r_t = σ(W_r·[h, x] + b_r) (torch rows r, z, n), and the
    slide-form GRU in full: h̃_t = tanh(W·[r_t ⊙ h, x] + b), h_t = (1 − z_t) h + z_t h̃_t."""
    W, b, hx = _concatenated(case)
    H = case["H"]
    W_r, W_z, W_n = (W[k * H : (k + 1) * H] for k in range(3))
    b_r, b_z, b_n = (b[k * H : (k + 1) * H] for k in range(3))
    h = case["h"]
    z_t = sigmoid(hx @ W_z.T + b_z)
    r_t = sigmoid(hx @ W_r.T + b_r)
    h_tilde = np.tanh(np.concatenate([r_t * h, case["x"]], axis=1) @ W_n.T + b_n)
    h_t = (1 - z_t) * h + z_t * h_tilde

    for form in ("torch", "slide"):
        _, cache = gru_cell_forward(case["x"], h, **_cell_weights(case), form=form)
        np.testing.assert_allclose(cache.step.z_t, z_t, rtol=0, atol=TOL)
        np.testing.assert_allclose(cache.step.r_t, r_t, rtol=0, atol=TOL)
    ours, cache = gru_cell_forward(case["x"], h, **_cell_weights(case), form="slide")
    np.testing.assert_allclose(cache.step.n_t, h_tilde, rtol=0, atol=TOL)
    np.testing.assert_allclose(ours, h_t, rtol=0, atol=TOL)


# ---------------------------------------------------------------------------
# The GRU's two forms
# ---------------------------------------------------------------------------
def _slide_twin(W_ih, W_hh, b_ih, b_hh, H):
    """Slide-form weights equal to the torch-form ones except the z rows negated."""
    W_ih, W_hh = W_ih.copy(), W_hh.copy()
    W_ih[H : 2 * H] *= -1
    W_hh[H : 2 * H] *= -1
    if b_ih is not None:
        b_ih, b_hh = b_ih.copy(), b_hh.copy()
        b_ih[H : 2 * H] *= -1
        b_hh[H : 2 * H] *= -1
    return W_ih, W_hh, b_ih, b_hh


@given(step_cases("gru"))
def test_gru_slide_form_equals_torch_form_exactly_when(case):
    r"""The exact relationship between the two GRU forms.

    torch:  z = σ(a_z),  n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),  h' = (1 − z) n + z h
    slide:  z = σ(a_z),  h̃ = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn), h' = (1 − z) h + z h̃

    They compute the same h' for every x and h when the slide form's weights are the
    torch form's except that

    (a) the z-gate rows of W_ih, W_hh, b_ih, b_hh are negated, so that the slide's
        z = σ(−a_z) = 1 − σ(a_z) is 1 minus torch's z (z weighs the other term), and
    (b) W_hn is diagonal and b_hn = 0, so that W_hn (r ⊙ h) = r ⊙ (W_hn h): the reset
        gate commutes with the hidden projection.

    Being the same function of (x, h), they also have the same gradients in x and h.
    (For a non-diagonal W_hn they differ: see the next test.)
    """
    H = case["H"]
    W_ih, b_ih, b_hh = case["W_ih"], case["b_ih"], case["b_hh"]
    W_hh = case["W_hh"].copy()
    W_hh[2 * H :] = np.diag(np.diag(W_hh[2 * H :]))  # (b) diagonal W_hn …
    if b_hh is not None:
        b_hh = b_hh.copy()
        b_hh[2 * H :] = 0.0  # … and b_hn = 0
    slide = _slide_twin(W_ih, W_hh, b_ih, b_hh, H)  # (a)
    x, h, dh = case["x"], case["h"], case["dh"]

    h_torch, c_torch = gru_cell_forward(x, h, W_ih, W_hh, b_ih, b_hh, form="torch")
    h_slide, c_slide = gru_cell_forward(x, h, *slide, form="slide")
    np.testing.assert_allclose(h_slide, h_torch, rtol=0, atol=1e-12)
    np.testing.assert_allclose(c_slide.step.z_t, 1 - c_torch.step.z_t, rtol=0, atol=1e-12)
    g_torch, g_slide = gru_cell_backward(dh, c_torch), gru_cell_backward(dh, c_slide)
    for k in ("x", "h_prev"):
        np.testing.assert_allclose(g_slide[k], g_torch[k], rtol=0, atol=1e-12)


def test_gru_forms_differ_for_non_diagonal_W_hn():
    """With (a) applied but W_hn not diagonal, the forms give different h' (fixed example).

    H = 2, I = 1, x = 0, no bias. W_hh's r rows give r = (σ(2), σ(−2)) for h = (1, 1/2);
    W_hn swaps the two units. torch: r ⊙ (W_hn h) = (σ(2)/2, σ(−2));
    slide: W_hn (r ⊙ h) = (σ(−2)/2, σ(2)); different pre-activations of the candidate.
    """
    H = 2
    h = np.array([[1.0, 0.5]])
    x = np.zeros((1, 1))
    W_ih = np.zeros((3 * H, 1))
    W_hh = np.zeros((3 * H, H))
    W_hh[0:2] = [[2.0, 0.0], [0.0, -4.0]]  # r rows: a_r = (2, −2)
    W_hh[2:4] = [[0.3, 0.0], [0.0, 0.3]]  # z rows
    W_hh[4:6] = [[0.0, 1.0], [1.0, 0.0]]  # W_hn: a swap, not diagonal
    h_torch, _ = gru_cell_forward(x, h, W_ih, W_hh, form="torch")
    h_slide, _ = gru_cell_forward(x, h, *_slide_twin(W_ih, W_hh, None, None, H), form="slide")
    s = sigmoid(np.array([2.0, -2.0]))
    a_z = np.array([0.3, 0.15])
    z = sigmoid(a_z)
    expect_torch = (1 - z) * np.tanh([s[0] / 2, s[1]]) + z * h[0]
    expect_slide = z * h[0] + (1 - z) * np.tanh([s[1] / 2, s[0]])  # z_slide = 1 − z
    np.testing.assert_allclose(h_torch[0], expect_torch, rtol=0, atol=1e-12)
    np.testing.assert_allclose(h_slide[0], expect_slide, rtol=0, atol=1e-12)
    assert np.abs(h_slide - h_torch).max() > 1e-2


# ---------------------------------------------------------------------------
# Cell modules
# ---------------------------------------------------------------------------
CELL_MODULES = {
    "rnn_tanh": lambda I, H, bias, seed: RNNCell(I, H, bias, dtype="float64", rng=seed),
    "rnn_relu": lambda I, H, bias, seed: RNNCell(I, H, bias, "relu", dtype="float64", rng=seed),
    "lstm": lambda I, H, bias, seed: LSTMCell(I, H, bias, dtype="float64", rng=seed),
    "gru": lambda I, H, bias, seed: GRUCell(I, H, bias, dtype="float64", rng=seed),
    "gru_slide": lambda I, H, bias, seed: GRUCell(I, H, bias, "slide", dtype="float64", rng=seed),
}


def _module_case(kind, B, I, H, bias, seed):
    cell = CELL_MODULES[kind](I, H, bias, seed)
    rng = np.random.default_rng(seed + 1)
    x, h, dh = rng.standard_normal((B, I)), rng.standard_normal((B, H)), rng.standard_normal((B, H))
    if kind == "lstm":
        c, dc = rng.standard_normal((B, H)), rng.standard_normal((B, H))
        return cell, x, (h, c), (dh, dc)
    return cell, x, h, dh


def _cell_function_grads(kind, cell, x, state, d_state):
    """The gradients straight from scratchrnn.cells, to check the module against."""
    w = cell._weights()
    if kind == "lstm":
        _, cache = lstm_cell_forward(x, *state, **w)
        return lstm_cell_backward(*d_state, cache)
    if kind.startswith("rnn"):
        _, cache = elman_cell_forward(x, state, **w, nonlinearity=cell.nonlinearity)
        return elman_cell_backward(d_state, cache)
    _, cache = gru_cell_forward(x, state, **w, form=cell.form)
    return gru_cell_backward(d_state, cache)


@given(st.sampled_from(sorted(CELL_MODULES)), sizes, sizes, sizes, st.booleans(), seeds)
def test_cell_module_backward_accumulates(kind, B, I, H, bias, seed):
    """backward adds into self.grads: called twice on one cache, the grads double."""
    cell, x, state, d_state = _module_case(kind, B, I, H, bias, seed)
    cell.zero_grad()
    _, cache = cell.forward(x, state)
    _, _, d_params = cell.backward(d_state, cache)
    expected = _cell_function_grads(kind, cell, x, state, d_state)
    assert set(d_params) == set(cell.params)
    for k in cell.params:
        np.testing.assert_array_equal(d_params[k], expected[k])
        np.testing.assert_array_equal(cell.grads[k], expected[k])
    cell.backward(d_state, cache)
    for k in cell.params:
        np.testing.assert_array_equal(cell.grads[k], 2 * expected[k])
    cell.zero_grad()
    assert all(not g.any() for g in cell.grads.values())


@given(st.sampled_from(sorted(CELL_MODULES)), sizes, sizes, sizes, st.booleans(), seeds,
       st.data())
def test_cell_module_unbatched_input_is_the_batched_row(kind, B, I, H, bias, seed, data):
    """(I,) input and (H,) state work as torch's unbatched input: they equal row b of a batch."""
    cell, x, state, d_state = _module_case(kind, B, I, H, bias, seed)
    b = data.draw(st.integers(0, B - 1))

    def row(v):
        return tuple(s[b] for s in v) if isinstance(v, tuple) else v[b]

    out, cache = cell.forward(x, state)
    d_x, d_s, _ = cell.backward(d_state, cache)
    out1, cache1 = cell.forward(x[b], row(state))
    d_x1, d_s1, _ = cell.backward(row(d_state), cache1)
    assert d_x1.shape == (I,)
    for ours, batched in [(out1, row(out)), (d_x1, d_x[b]), (d_s1, row(d_s))]:
        for a, e in zip(ours if isinstance(ours, tuple) else (ours,),
                        batched if isinstance(batched, tuple) else (batched,), strict=True):
            assert a.shape == e.shape == (a.shape[0],)
            np.testing.assert_allclose(a, e, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("kind", sorted(CELL_MODULES))
def test_cell_module_zero_state_by_default(kind):
    """hx=None means a zero initial state, as in torch."""
    cell, x, state, _ = _module_case(kind, 2, 3, 4, True, 0)
    zeros = tuple(np.zeros_like(s) for s in state) if kind == "lstm" else np.zeros_like(state)
    np.testing.assert_array_equal(np.asarray(cell(x)), np.asarray(cell(x, zeros)))
    assert not np.array_equal(np.asarray(cell(x)), np.asarray(cell(x, state)))


# ---------------------------------------------------------------------------
# The lecture's ElmanRNN
# ---------------------------------------------------------------------------
def _elman_and_rnn(I, H, batch_first, seed):
    elman = ElmanRNN(I, H, batch_first=batch_first, dtype="float64", rng=seed)
    rnn = RNN(I, H, batch_first=batch_first, dtype="float64", rng=seed + 1)
    rnn.load_state_dict({k.replace("rnn_cell.", "") + "_l0": v
                         for k, v in elman.state_dict().items()})
    return elman, rnn


@given(sizes, sizes, sizes, sizes, st.booleans(), seeds)
def test_elman_rnn_equals_rnn_one_layer(B, T, I, H, batch_first, seed):
    """ElmanRNN with the weights of RNN(num_layers=1): same hiddens, same BPTT gradients."""
    elman, rnn = _elman_and_rnn(I, H, batch_first, seed)
    assert list(elman.state_dict()) == ["rnn_cell.weight_ih", "rnn_cell.weight_hh",
                                        "rnn_cell.bias_ih", "rnn_cell.bias_hh"]
    rng = np.random.default_rng(seed)
    shape = (B, T, I) if batch_first else (T, B, I)
    x, h0 = rng.standard_normal(shape), rng.standard_normal((B, H))
    d_out = rng.standard_normal(shape[:2] + (H,))

    hiddens, caches = elman.forward(x, h0)
    (output, h_n), cache = rnn.forward(x, h0[None])
    assert hiddens.shape == output.shape == shape[:2] + (H,)
    np.testing.assert_allclose(hiddens, output, rtol=1e-12, atol=1e-12)
    last = hiddens[:, -1] if batch_first else hiddens[-1]
    np.testing.assert_allclose(last, h_n[0], rtol=1e-12, atol=1e-12)

    elman.zero_grad()
    rnn.zero_grad()
    d_x, d_h0, d_params = elman.backward(d_out, caches)
    r_x, r_h0, r_params = rnn.backward(d_out, cache)
    np.testing.assert_allclose(d_x, r_x, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(d_h0, r_h0[0], rtol=1e-12, atol=1e-12)
    for k, g in d_params.items():
        name = k.replace("rnn_cell.", "") + "_l0"
        np.testing.assert_allclose(g, r_params[name], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(elman.rnn_cell.grads[k.replace("rnn_cell.", "")], g,
                                   rtol=1e-12, atol=1e-12)


@given(sizes, sizes, sizes, sizes, st.booleans(), seeds)
def test_elman_rnn_gradients(B, T, I, H, batch_first, seed):
    elman = ElmanRNN(I, H, batch_first=batch_first, dtype="float64", rng=seed)
    rng = np.random.default_rng(seed)
    shape = (B, T, I) if batch_first else (T, B, I)
    x, h0 = rng.standard_normal(shape), rng.standard_normal((B, H))
    d_out = rng.standard_normal(shape[:2] + (H,))
    elman.zero_grad()
    _, caches = elman.forward(x, h0)
    d_x, d_h0, d_params = elman.backward(d_out, caches)

    def loss():
        return np.sum(elman.forward(x, h0)[0] * d_out)

    inputs = {"x": x, "h0": h0, **{f"rnn_cell.{k}": v for k, v in elman.rnn_cell.params.items()}}
    assert_gradients_close(loss, inputs, {"x": d_x, "h0": d_h0, **d_params})
