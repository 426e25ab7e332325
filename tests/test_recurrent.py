"""scratchrnn.recurrent (RNN, LSTM, GRU over sequences), in NumPy only (no torch).

BPTT against finite differences for every option; independence of the rows of a batch;
torch's packed-sequence semantics for variable lengths; shapes and parameter names as
torch documents them; dtype, initialisation and seeding; dropout; input validation.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchrnn.gradcheck import assert_gradients_close
from scratchrnn.recurrent import GRU, LSTM, RNN

KINDS = ("rnn_tanh", "rnn_relu", "lstm", "gru", "gru_slide")
SMOOTH_KINDS = ("rnn_tanh", "lstm", "gru", "gru_slide")  # no ReLU kink for finite differences
seeds = st.integers(0, 2**32 - 1)
# finite differences cost two forwards per parameter element: fewer examples there
FEW = max(4, settings().max_examples // 3)


def build(kind, I, H, L=1, bi=False, bf=False, bias=True, proj=0, dropout=0.0,
          dtype="float64", seed=0, reference=False):
    common = dict(num_layers=L, bias=bias, batch_first=bf, dropout=dropout, bidirectional=bi,
                  dtype=dtype, rng=seed, reference=reference)
    if kind.startswith("rnn"):
        return RNN(I, H, nonlinearity=kind[4:], **common)
    if kind == "lstm":
        return LSTM(I, H, proj_size=proj, **common)
    return GRU(I, H, form="slide" if kind == "gru_slide" else "torch", **common)


def make_inputs(m, B, T, rng, lengths=False, masks=False, p=0.5):
    """x, h0, (c0), lengths, dropout masks and upstream gradients for module ``m``."""
    dt = m.dtype
    D, P, LD = m.num_directions, m.output_size, m.num_layers * m.num_directions

    def r(*shape):
        return rng.standard_normal(shape).astype(dt)

    def seq_shape(F):
        return (B, T, F) if m.batch_first else (T, B, F)

    inp = {"x": r(*seq_shape(m.input_size)), "h0": r(LD, B, P),
           "d_out": r(*seq_shape(D * P)), "d_h_n": r(LD, B, P), "c0": None, "d_c_n": None}
    if isinstance(m, LSTM):
        inp["c0"], inp["d_c_n"] = r(LD, B, m.hidden_size), r(LD, B, m.hidden_size)
    inp["lengths"] = rng.integers(1, T + 1, size=B) if lengths else None
    inp["masks"] = None
    if masks and m.num_layers > 1:
        inp["masks"] = [(rng.random(seq_shape(D * P)) >= p).astype(dt) / (1 - p)
                        for _ in range(m.num_layers - 1)]
    return inp


def hx(m, h, c):
    """torch's hx for module ``m``: the array h, or LSTM's pair (h, c)."""
    return (h, c) if m.has_cell_state else h


def forward(m, inp):
    kw = {"lengths": inp["lengths"], "dropout_masks": inp["masks"]}
    (out, hx_n), cache = m.forward(inp["x"], hx(m, inp["h0"], inp["c0"]), **kw)
    if isinstance(m, LSTM):
        return {"output": out, "h_n": hx_n[0], "c_n": hx_n[1]}, cache
    return {"output": out, "h_n": hx_n}, cache


def run(m, inp):
    """Forward and backward: (outputs, gradients of input, h0, c0 and every parameter)."""
    m.zero_grad()
    outs, cache = forward(m, inp)
    d_x, d_hx0, d_p = m.backward(inp["d_out"], cache, hx(m, inp["d_h_n"], inp["d_c_n"]))
    if isinstance(m, LSTM):
        grads = {"x": d_x, "h0": d_hx0[0], "c0": d_hx0[1]}
    else:
        grads = {"x": d_x, "h0": d_hx0}
    return outs, {**grads, **d_p}


def loss(m, inp):
    """Σ output ⊙ d_out + Σ h_n ⊙ d_h_n (+ Σ c_n ⊙ d_c_n): its gradient is what backward returns."""
    outs, _ = forward(m, inp)
    total = np.sum(outs["output"] * inp["d_out"]) + np.sum(outs["h_n"] * inp["d_h_n"])
    if "c_n" in outs:
        total += np.sum(outs["c_n"] * inp["d_c_n"])
    return total


def tfirst(m, a):
    """A sequence array of ``m``'s layout as (T, B, F)."""
    return a.transpose(1, 0, 2) if m.batch_first else a


# ---------------------------------------------------------------------------
# BPTT against finite differences
# ---------------------------------------------------------------------------
def _gradcheck(m, inp):
    outs, grads = run(m, inp)
    for name, g in m.grads.items():  # backward also accumulated into module.grads
        np.testing.assert_array_equal(g, grads[name])
    inputs = {"x": inp["x"], "h0": inp["h0"], **m.params}
    if inp["c0"] is not None:
        inputs["c0"] = inp["c0"]
    assert set(grads) == set(inputs)
    assert_gradients_close(lambda: loss(m, inp), inputs, grads)


GRID = [
    # kind, L, bi, batch_first, bias, proj, lengths, masks, B, T, I, H
    ("rnn_tanh", 1, False, False, True, 0, False, False, 1, 1, 1, 1),
    ("rnn_relu", 2, True, True, True, 0, True, False, 2, 3, 2, 3),
    ("rnn_tanh", 3, False, False, False, 0, True, True, 2, 3, 1, 2),
    ("lstm", 1, False, True, False, 1, False, False, 1, 3, 2, 2),
    ("lstm", 2, True, False, True, 2, True, False, 2, 3, 2, 3),
    ("lstm", 2, True, True, True, 0, True, True, 2, 3, 1, 2),
    ("gru", 2, True, False, True, 0, True, True, 2, 3, 2, 2),
    ("gru", 1, False, False, False, 0, False, False, 1, 1, 1, 1),
    ("gru_slide", 2, True, True, True, 0, True, False, 2, 3, 2, 3),
    ("gru_slide", 2, False, False, False, 0, False, True, 1, 2, 2, 2),
]


@pytest.mark.parametrize("kind,L,bi,bf,bias,proj,lengths,masks,B,T,I,H", GRID)
def test_bptt_gradients_grid(kind, L, bi, bf, bias, proj, lengths, masks, B, T, I, H):
    """Every option at least once: GRU slide form, LSTM projection, 2–3 layers, both
    directions, lengths, batch_first, dropout with given masks, no bias, sizes of 1."""
    m = build(kind, I, H, L, bi, bf, bias, proj, dropout=0.5 if masks else 0.0, seed=7)
    _gradcheck(m, make_inputs(m, B, T, np.random.default_rng(8), lengths, masks))


@st.composite
def small_configs(draw, kinds=SMOOTH_KINDS, max_batch=2, max_steps=3):
    kind = draw(st.sampled_from(kinds))
    H = draw(st.integers(1, 3))
    proj = draw(st.integers(1, H - 1)) if kind == "lstm" and H > 1 and draw(st.booleans()) else 0
    L = draw(st.integers(1, 2))
    return {
        "kind": kind, "L": L, "bi": draw(st.booleans()), "bf": draw(st.booleans()),
        "bias": draw(st.booleans()), "proj": proj, "H": H, "I": draw(st.integers(1, 3)),
        "B": draw(st.integers(1, max_batch)), "T": draw(st.integers(1, max_steps)),
        "lengths": draw(st.booleans()), "masks": L > 1 and draw(st.booleans()),
        "seed": draw(seeds),
    }


def build_cfg(c, **override):
    c = {**c, **override}
    return build(c["kind"], c["I"], c["H"], c["L"], c["bi"], c["bf"], c["bias"], c["proj"],
                 dropout=0.5 if c.get("masks") else 0.0, seed=c["seed"])


@settings(max_examples=FEW)
@given(small_configs())
def test_bptt_gradients_property(c):
    m = build_cfg(c)
    _gradcheck(m, make_inputs(m, c["B"], c["T"], np.random.default_rng(c["seed"]),
                              c["lengths"], c["masks"]))


# ---------------------------------------------------------------------------
# Rows of a batch are independent; padding changes nothing
# ---------------------------------------------------------------------------
def _row_inputs(m, inp, b):
    """Row b of a batch as a batch of one (same layout)."""
    sl = slice(b, b + 1)

    def seq(a):
        return a[sl] if m.batch_first else a[:, sl]

    return {"x": seq(inp["x"]), "d_out": seq(inp["d_out"]), "h0": inp["h0"][:, sl],
            "d_h_n": inp["d_h_n"][:, sl],
            "c0": None if inp["c0"] is None else inp["c0"][:, sl],
            "d_c_n": None if inp["d_c_n"] is None else inp["d_c_n"][:, sl],
            "lengths": None if inp["lengths"] is None else inp["lengths"][sl],
            "masks": None if inp["masks"] is None else [seq(k) for k in inp["masks"]]}


def close(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@given(small_configs(kinds=KINDS, max_batch=4, max_steps=5))
def test_batch_rows_are_independent(c):
    """Row b's output, h_n, c_n and input/state gradients are those of row b run alone;
    the parameter gradients of the batch are the sum of the rows' gradients."""
    m = build_cfg(c)
    inp = make_inputs(m, c["B"], c["T"], np.random.default_rng(c["seed"]), c["lengths"],
                      c["masks"])
    outs, grads = run(m, inp)
    param_sum = {k: np.zeros_like(v) for k, v in m.params.items()}
    for b in range(c["B"]):
        o1, g1 = run(m, _row_inputs(m, inp, b))
        close(tfirst(m, o1["output"])[:, 0], tfirst(m, outs["output"])[:, b])
        close(tfirst(m, g1["x"])[:, 0], tfirst(m, grads["x"])[:, b])
        _close_row_states(o1, g1, outs, grads, b)
        for k in param_sum:
            param_sum[k] += g1[k]
    for k, v in param_sum.items():
        close(v, grads[k])


def _close_row_states(o1: dict, g1: dict, outs: dict, grads: dict, b: int) -> None:
    """A one-row run's final state (h_n[, c_n]) and initial-state gradient (h0[, c0])
    equal row ``b`` of the batch's."""
    for k in ("h_n", "c_n"):
        if k in outs:
            close(o1[k][:, 0], outs[k][:, b])
    for k in ("h0", "c0"):
        if k in grads:
            close(g1[k][:, 0], grads[k][:, b])


@given(small_configs(kinds=KINDS, max_batch=4, max_steps=5))
def test_padding_invariance(c):
    """A sequence of length L alone (T = L, no padding, no lengths) gives the same
    output[:L], h_n, c_n and input gradient[:L] as inside a padded batch with lengths;
    the padded batch's outputs and input gradients beyond L are exactly 0, and the
    upstream gradients at padded steps are ignored."""
    m = build_cfg(c, masks=False)
    rng = np.random.default_rng(c["seed"])
    inp = make_inputs(m, c["B"], c["T"], rng, lengths=True)
    outs, grads = run(m, inp)
    out_tf, dx_tf = tfirst(m, outs["output"]), tfirst(m, grads["x"])
    for b, L in enumerate(inp["lengths"]):
        row = _row_inputs(m, inp, b)
        row["lengths"] = None
        for k in ("x", "d_out"):  # cut to its own length, no padding at all
            row[k] = row[k][:, :L] if m.batch_first else row[k][:L]
        o1, g1 = run(m, row)
        close(tfirst(m, o1["output"])[:, 0], out_tf[:L, b])
        close(tfirst(m, g1["x"])[:, 0], dx_tf[:L, b])
        assert not out_tf[L:, b].any()
        assert not dx_tf[L:, b].any()
        _close_row_states(o1, g1, outs, grads, b)


@pytest.mark.parametrize("kind", KINDS)
def test_reverse_direction_starts_at_each_sequence_end(kind):
    """Bidirectional, lengths (3, 1, 4) in T = 4: the reverse half of output at step L−1
    is one step of the reverse cell from h0 on x[L−1] alone."""
    m = build(kind, 2, 3, bi=True, seed=1)
    rng = np.random.default_rng(2)
    lengths = np.array([3, 1, 4])
    x = rng.standard_normal((4, 3, 2))
    h0 = rng.standard_normal((2, 3, m.output_size))
    c0 = rng.standard_normal((2, 3, 3)) if kind == "lstm" else None
    (out, _), _ = m.forward(x, hx(m, h0, c0), lengths=lengths)
    (full, _), _ = m.forward(x, hx(m, h0, c0))
    P = m.output_size
    for b, L in enumerate(lengths):
        rows = slice(b, b + 1)
        one_hx = hx(m, h0[:, rows], None if c0 is None else c0[:, rows])
        (one, _), _ = m.forward(x[L - 1 : L, rows], one_hx)
        close(out[L - 1, b, P:], one[0, 0, P:])
        if L < 4:  # without lengths the reverse pass would start at T − 1 instead
            assert np.abs(full[L - 1, b, P:] - out[L - 1, b, P:]).max() > 1e-6


@given(small_configs(kinds=KINDS, max_batch=4, max_steps=5), st.randoms())
def test_unsorted_lengths_permute_with_the_rows(c, random):
    """Lengths in any order are legal: permuting the rows (and lengths) permutes the results."""
    m = build_cfg(c, masks=False)
    inp = make_inputs(m, c["B"], c["T"], np.random.default_rng(c["seed"]), lengths=True)
    perm = np.array(random.sample(range(c["B"]), c["B"]))
    pinp = dict(inp, lengths=inp["lengths"][perm])
    for k in ("x", "d_out"):
        pinp[k] = inp[k][perm] if m.batch_first else inp[k][:, perm]
    for k in ("h0", "d_h_n", "c0", "d_c_n"):
        if inp[k] is not None:
            pinp[k] = inp[k][:, perm]
    outs, grads = run(m, inp)
    p_outs, p_grads = run(m, pinp)
    close(tfirst(m, p_outs["output"]), tfirst(m, outs["output"])[:, perm])
    close(tfirst(m, p_grads["x"]), tfirst(m, grads["x"])[:, perm])
    for k in ("h_n", "c_n"):
        if k in outs:
            close(p_outs[k], outs[k][:, perm])
    for k in m.params:
        close(p_grads[k], grads[k])


# ---------------------------------------------------------------------------
# Shapes and parameter names, as torch documents them
# ---------------------------------------------------------------------------
@given(small_configs(kinds=KINDS, max_batch=3, max_steps=4), st.integers(1, 3))
def test_shapes(c, L):
    """output (T, B, D·P) or (B, T, D·P); h_n (L·D, B, P); c_n (L·D, B, H); P = proj or H;
    the gradients have the shapes of what they are the gradients of."""
    m = build_cfg(c, L=L, masks=False)
    B, T, H = c["B"], c["T"], c["H"]
    D = 2 if c["bi"] else 1
    P = c["proj"] or H
    inp = make_inputs(m, B, T, np.random.default_rng(c["seed"]), c["lengths"])
    outs, grads = run(m, inp)
    assert outs["output"].shape == ((B, T, D * P) if c["bf"] else (T, B, D * P))
    assert outs["h_n"].shape == (L * D, B, P)
    assert grads["x"].shape == inp["x"].shape
    assert grads["h0"].shape == (L * D, B, P)
    if c["kind"] == "lstm":
        assert outs["c_n"].shape == grads["c0"].shape == (L * D, B, H)
    for k, v in m.params.items():
        assert grads[k].shape == m.grads[k].shape == v.shape
    # without h0 (zeros) the shapes are the same
    x = inp["x"]
    assert m(x)[0].shape == outs["output"].shape


def _names(layers, reverse, per_direction):
    return [(f"{n}_l{k}{s}", shape(k)) for k in range(layers)
            for s in (["", "_reverse"] if reverse else [""]) for n, shape in per_direction]


EXPECTED_NAMES = [
    # torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2)
    (lambda: LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2),
     [("weight_ih_l0", (16, 3)), ("weight_hh_l0", (16, 2)), ("bias_ih_l0", (16,)),
      ("bias_hh_l0", (16,)), ("weight_hr_l0", (2, 4)),
      ("weight_ih_l0_reverse", (16, 3)), ("weight_hh_l0_reverse", (16, 2)),
      ("bias_ih_l0_reverse", (16,)), ("bias_hh_l0_reverse", (16,)),
      ("weight_hr_l0_reverse", (2, 4)),
      ("weight_ih_l1", (16, 4)), ("weight_hh_l1", (16, 2)), ("bias_ih_l1", (16,)),
      ("bias_hh_l1", (16,)), ("weight_hr_l1", (2, 4)),
      ("weight_ih_l1_reverse", (16, 4)), ("weight_hh_l1_reverse", (16, 2)),
      ("bias_ih_l1_reverse", (16,)), ("bias_hh_l1_reverse", (16,)),
      ("weight_hr_l1_reverse", (2, 4))]),
    # torch.nn.GRU(3, 4, num_layers=2, bias=False)
    (lambda: GRU(3, 4, num_layers=2, bias=False),
     [("weight_ih_l0", (12, 3)), ("weight_hh_l0", (12, 4)),
      ("weight_ih_l1", (12, 4)), ("weight_hh_l1", (12, 4))]),
    # torch.nn.RNN(1, 1, nonlinearity="relu", bidirectional=True)
    (lambda: RNN(1, 1, nonlinearity="relu", bidirectional=True),
     [("weight_ih_l0", (1, 1)), ("weight_hh_l0", (1, 1)), ("bias_ih_l0", (1,)),
      ("bias_hh_l0", (1,)), ("weight_ih_l0_reverse", (1, 1)),
      ("weight_hh_l0_reverse", (1, 1)), ("bias_ih_l0_reverse", (1,)),
      ("bias_hh_l0_reverse", (1,))]),
    # torch.nn.LSTM(2, 3, num_layers=3): layers ≥ 1 take H inputs
    (lambda: LSTM(2, 3, num_layers=3),
     _names(3, False, [("weight_ih", lambda k: (12, 2 if k == 0 else 3)),
                       ("weight_hh", lambda k: (12, 3)), ("bias_ih", lambda k: (12,)),
                       ("bias_hh", lambda k: (12,))])),
    # torch.nn.GRU(5, 2, num_layers=2, bidirectional=True): layer 1 takes D·H = 4 inputs
    (lambda: GRU(5, 2, num_layers=2, bidirectional=True, form="slide"),
     _names(2, True, [("weight_ih", lambda k: (6, 5 if k == 0 else 4)),
                      ("weight_hh", lambda k: (6, 2)), ("bias_ih", lambda k: (6,)),
                      ("bias_hh", lambda k: (6,))])),
]


@pytest.mark.parametrize("make,expected", EXPECTED_NAMES)
def test_parameter_names_and_shapes_are_torchs(make, expected):
    m = make()
    assert [(k, v.shape) for k, v in m.state_dict().items()] == expected
    assert [(k, g.shape) for k, _, g in m.named_parameters()] == expected


# ---------------------------------------------------------------------------
# dtype, initialisation, seeds
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_float32_stays_float32(kind):
    m = build(kind, 3, 4, L=2, bi=True, proj=2 if kind == "lstm" else 0, dtype="float32",
              seed=0)
    inp = make_inputs(m, 2, 3, np.random.default_rng(0), lengths=True)
    assert inp["x"].dtype == np.float32
    outs, grads = run(m, inp)
    arrays = {**outs, **grads, **m.params, **{"grad " + k: g for k, g in m.grads.items()}}
    for name, a in arrays.items():
        assert a.dtype == np.float32, name
    assert m.dtype == np.float32
    assert m(inp["x"])[0].dtype == np.float32  # default (zero) states too


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("H", [1, 9])
def test_init_uniform_bounds(kind, H):
    """Every parameter is drawn from U(−1/√H, 1/√H), as torch initialises them."""
    m = build(kind, 300, H, L=2, bi=True, proj=1 if kind == "lstm" and H > 1 else 0, seed=3)
    bound = 1 / np.sqrt(H)
    values = np.concatenate([p.ravel() for p in m.parameters()])
    assert np.all(np.abs(values) <= bound)
    # and they fill the interval (thousands of draws): not a smaller range, not a constant
    assert values.min() < -0.9 * bound and values.max() > 0.9 * bound
    assert abs(values.mean()) < 0.1 * bound


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_weights_different_seed_different(kind):
    def state(rng):
        return build(kind, 3, 4, L=2, bi=True, seed=rng).state_dict()

    a, b, c = state(5), state(np.random.default_rng(5)), state(6)
    assert list(a) == list(b) == list(c)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
        assert not np.array_equal(a[k], c[k]), k


# ---------------------------------------------------------------------------
# Dropout between layers
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_dropout_training_draws_new_masks_eval_is_deterministic(kind):
    gen = np.random.default_rng(0)
    m = build(kind, 3, 5, L=2, bi=True, dropout=0.5, seed=gen)
    ref = build(kind, 3, 5, L=2, bi=True, dropout=0.0, seed=1)
    ref.load_state_dict(m.state_dict())
    x = np.random.default_rng(1).standard_normal((4, 3, 3))

    first = m(x)[0]
    second = m(x)[0]
    assert np.abs(first - second).max() > 1e-6  # new masks from the shared Generator
    m.eval()
    np.testing.assert_array_equal(m(x)[0], m(x)[0])
    np.testing.assert_array_equal(m(x)[0], ref(x)[0])
    ref.train()
    np.testing.assert_array_equal(ref(x)[0], ref.eval()(x)[0])  # p = 0: training = eval


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("p", [0.25, 0.5])
def test_dropout_masks_are_inverted_and_reproducible(kind, p):
    """Training masks hold 0 or 1/(1 − p); giving the same masks reproduces the output."""
    m = build(kind, 3, 5, L=3, dropout=p, seed=2)
    x = np.random.default_rng(3).standard_normal((6, 4, 3))
    (out, *_), cache = m.forward(x)
    masks = cache.dropout_masks
    assert masks[0] is None and len(masks) == 3
    for k in masks[1:]:
        assert k.shape == (6, 4, 5)
        assert set(np.unique(k)) <= {0.0, 1 / (1 - p)}
        assert 0 < np.count_nonzero(k) < k.size
    (again, *_), _ = m.forward(x, dropout_masks=masks[1:])
    np.testing.assert_array_equal(again, out)


def test_dropout_one_layer_has_no_effect_and_p1_cuts_the_input():
    m = LSTM(3, 4, num_layers=1, dropout=0.5, dtype="float64", rng=0)
    x = np.random.default_rng(0).standard_normal((3, 2, 3))
    np.testing.assert_array_equal(m(x)[0], m.eval()(x)[0])
    m = GRU(3, 4, num_layers=2, dropout=1.0, dtype="float64", rng=0)
    out1, out2 = m(x)[0], m(2 * x + 1)[0]  # layer 2 sees zeros whatever x is
    np.testing.assert_array_equal(out1, out2)


# ---------------------------------------------------------------------------
# One contract: hx of torch's kind, the reference path on demand
# ---------------------------------------------------------------------------
def test_lstm_d_hx_n_member_none_is_zero():
    """backward(..., d_hx_n=(d_h_n, None)) equals d_hx_n=(d_h_n, 0), and (None, None) = None."""
    m = build("lstm", 3, 4, L=2, bi=True, seed=1)
    inp = make_inputs(m, 2, 5, np.random.default_rng(2))
    zeros = np.zeros_like(inp["d_c_n"])
    _, cache = forward(m, inp)
    expected = m.backward(inp["d_out"], cache, (inp["d_h_n"], zeros))
    got = m.backward(inp["d_out"], cache, (inp["d_h_n"], None))
    close(got[0], expected[0])
    close(got[1][0], expected[1][0])
    close(got[1][1], expected[1][1])
    nothing = m.backward(inp["d_out"], cache, (None, None))
    close(nothing[1][1], m.backward(inp["d_out"], cache)[1][1])


@pytest.mark.parametrize("kind", KINDS)
def test_reference_is_a_constructor_argument_and_not_state(kind):
    """reference=True runs the step functions (a per-step cache list), False the fast path
    where one exists; the same state_dict on both paths gives the same results."""
    fast = build(kind, 3, 4, L=2, bi=True, seed=5)
    ref = build(kind, 3, 4, L=2, bi=True, seed=6, reference=True)
    assert (fast.reference, ref.reference) == (False, True)
    assert not hasattr(fast, "fast")
    ref.load_state_dict(fast.state_dict())
    assert ref.reference and ref.state_dict().keys() == fast.state_dict().keys()
    inp = make_inputs(fast, 3, 4, np.random.default_rng(7), lengths=True)
    steps = {id(m): forward(m, inp)[1].layers[0][0].steps for m in (fast, ref)}
    assert isinstance(steps[id(ref)], list)
    assert isinstance(steps[id(fast)], list) is (kind == "gru_slide")  # no slide fast path
    (o_fast, g_fast), (o_ref, g_ref) = run(fast, inp), run(ref, inp)
    for k in o_ref:
        np.testing.assert_allclose(o_fast[k], o_ref[k], rtol=1e-12, atol=1e-13)
    for k in g_ref:
        np.testing.assert_allclose(g_fast[k], g_ref[k], rtol=1e-12, atol=1e-13)


# ---------------------------------------------------------------------------
# Bad input: ValueError naming what was expected
# ---------------------------------------------------------------------------
def _rnn():
    return RNN(4, 3, dtype="float64", rng=0)


def _lstm():
    return LSTM(4, 3, dtype="float64", rng=0)


X = np.zeros((5, 2, 4))  # T = 5, B = 2, I = 4
BAD_CALLS = [
    ("wrong rank", lambda: _rnn().forward(np.zeros((5, 4))), "3 dimensions"),
    ("wrong rank 4-D", lambda: _rnn().forward(np.zeros((5, 2, 4, 1))), "3 dimensions"),
    ("wrong last dim", lambda: _rnn().forward(np.zeros((5, 2, 3))), "(*, *, 4)"),
    ("wrong dtype", lambda: _rnn().forward(X.astype(np.float32)), "dtype float64"),
    ("not an array", lambda: _rnn().forward(X.tolist()), "numpy.ndarray"),
    ("no steps", lambda: _rnn().forward(np.zeros((0, 2, 4))), "at least one step"),
    ("hx shape", lambda: _rnn().forward(X, np.zeros((1, 3, 3))), "hx must have shape (1, 2, 3)"),
    ("hx rank", lambda: _rnn().forward(X, np.zeros((2, 3))), "hx must have 3 dimensions"),
    ("hx dtype", lambda: _rnn().forward(X, np.zeros((1, 2, 3), np.float32)), "float64"),
    ("hx pair to RNN", lambda: _rnn().forward(X, (np.zeros((1, 2, 3)),) * 2),
     "RNN expects hx = one array of shape (1, 2, 3), got a tuple of 2"),
    ("hx pair to GRU", lambda: GRU(4, 3, dtype="float64").forward(X, (np.zeros((1, 2, 3)),) * 2),
     "GRU expects hx = one array of shape (1, 2, 3), got a tuple of 2"),
    ("hx list to RNN", lambda: _rnn().forward(X, np.zeros((1, 2, 3)).tolist()),
     "RNN expects hx = one array of shape (1, 2, 3), got a list of 1"),
    ("hx array to LSTM", lambda: _lstm().forward(X, np.zeros((1, 2, 3))),
     "LSTM expects hx = (h, c), a pair of arrays of shapes (1, 2, 3) and (1, 2, 3) "
     "(as torch.nn.LSTM), got an array of shape (1, 2, 3)"),
    ("hx triple to LSTM", lambda: _lstm().forward(X, (np.zeros((1, 2, 3)),) * 3),
     "LSTM expects hx = (h, c)"),
    ("c shape", lambda: _lstm().forward(X, (np.zeros((1, 2, 3)), np.zeros((1, 2, 4)))),
     "hx[1] (c) must have shape (1, 2, 3)"),
    ("h None in LSTM hx", lambda: _lstm().forward(X, (None, np.zeros((1, 2, 3)))),
     "hx[0] (h) must be a numpy.ndarray, got NoneType"),
    ("lengths 0", lambda: _rnn().forward(X, lengths=np.array([0, 5])), "[1, 5]"),
    ("lengths > T", lambda: _rnn().forward(X, lengths=np.array([6, 1])), "[1, 5]"),
    ("lengths count", lambda: _rnn().forward(X, lengths=np.array([5])), "shape (2,)"),
    ("lengths 2-D", lambda: _rnn().forward(X, lengths=np.array([[5, 5]])), "shape (2,)"),
    ("lengths float", lambda: _rnn().forward(X, lengths=np.array([2.0, 3.0])), "integers"),
    ("lengths float list", lambda: _rnn().forward(X, lengths=[2, 2.5]), "integers"),
    ("NaN input", lambda: _rnn().forward(np.full((5, 2, 4), np.nan)), "NaN or infinite"),
    ("inf input", lambda: _lstm().forward(np.where(np.eye(4)[:1, None] > 0, np.inf, X)),
     "NaN or infinite"),
    ("NaN hx", lambda: _rnn().forward(X, np.full((1, 2, 3), np.nan)), "hx contains NaN"),
    ("d_output shape", lambda: _rnn().backward(np.zeros((5, 2, 4)), _rnn().forward(X)[1]),
     "d_output must have shape (5, 2, 3)"),
    ("d_hx_n array to LSTM",
     lambda: _lstm().backward(None, _lstm().forward(X)[1], np.zeros((1, 2, 3))),
     "LSTM expects d_hx_n = (h, c)"),
    ("d_hx_n h shape",
     lambda: _lstm().backward(None, _lstm().forward(X)[1], (np.zeros((1, 1, 3)), None)),
     "d_hx_n[0] (h) must have shape (1, 2, 3)"),
    ("d_hx_n pair to RNN",
     lambda: _rnn().backward(None, _rnn().forward(X)[1], (np.zeros((1, 2, 3)), None)),
     "RNN expects d_hx_n = one array of shape (1, 2, 3), got a tuple of 2"),
    ("dropout mask shape",
     lambda: RNN(4, 3, 2, dropout=0.5, dtype="float64").forward(X, dropout_masks=[np.ones(3)]),
     "dropout_masks[0] must have 3 dimensions"),
]


@pytest.mark.parametrize("what,call,message", BAD_CALLS, ids=[b[0] for b in BAD_CALLS])
def test_bad_input_raises_value_error_naming_the_expectation(what, call, message):
    with pytest.raises(ValueError) as err:
        call()
    assert message in str(err.value), str(err.value)


def test_legal_inputs_around_the_bad_ones():
    """Unsorted lengths, a list of ints, lengths all equal to T, and batch_first shapes."""
    (out, _), _ = _rnn().forward(np.ones((5, 4, 4)), lengths=np.array([2, 5, 1, 3]))
    assert not out[2:, 0].any() and out[4, 1].any()
    (full, _), _ = _rnn().forward(X + 1)
    np.testing.assert_array_equal(_rnn().forward(X + 1, lengths=[5, 5])[0][0], full)
    m = LSTM(4, 3, batch_first=True, dtype="float64")
    (out, (h_n, c_n)), _ = m.forward(np.zeros((2, 5, 4)), lengths=np.array([5, 2], np.int32))
    assert out.shape == (2, 5, 3) and h_n.shape == c_n.shape == (1, 2, 3)
    with pytest.raises(ValueError, match=r"\(\*, \*, 4\)"):
        m.forward(np.zeros((2, 5, 3)))


BAD_CONSTRUCTORS = [
    ("hidden_size 0", lambda: RNN(3, 0), "hidden_size must be an integer >= 1"),
    ("hidden_size float", lambda: GRU(3, 2.5), "hidden_size must be an integer >= 1"),
    ("input_size 0", lambda: LSTM(0, 3), "input_size must be an integer >= 1"),
    ("num_layers 0", lambda: GRU(3, 3, num_layers=0), "num_layers must be an integer >= 1"),
    ("nonlinearity", lambda: RNN(3, 3, nonlinearity="sigmoid"), "'tanh' or 'relu'"),
    ("proj_size = hidden", lambda: LSTM(3, 4, proj_size=4),
     "proj_size must be smaller than hidden_size"),
    ("proj_size > hidden", lambda: LSTM(3, 4, proj_size=7),
     "proj_size must be smaller than hidden_size"),
    ("proj_size < 0", lambda: LSTM(3, 4, proj_size=-1), "proj_size must be an integer >= 0"),
    ("dropout 1.5", lambda: LSTM(3, 4, dropout=1.5), "dropout must be a probability in [0, 1]"),
    ("dropout < 0", lambda: GRU(3, 4, dropout=-0.1), "dropout must be a probability in [0, 1]"),
    ("dropout bool", lambda: RNN(3, 4, dropout=True), "dropout must be a probability"),
    ("GRU form", lambda: GRU(3, 4, form="cho"), "form must be 'torch' or 'slide'"),
    ("dtype", lambda: RNN(3, 4, dtype=np.int32), "dtype must be float32 or float64"),
    ("rng", lambda: LSTM(3, 4, rng="seed"), "rng must be"),
]


@pytest.mark.parametrize("what,make,message", BAD_CONSTRUCTORS,
                         ids=[b[0] for b in BAD_CONSTRUCTORS])
def test_bad_constructor_raises_value_error(what, make, message):
    with pytest.raises(ValueError) as err:
        make()
    assert message in str(err.value), str(err.value)


@pytest.mark.parametrize("cls", [GRU, RNN])
def test_proj_size_on_gru_or_rnn_is_a_value_error(cls):
    with pytest.raises(ValueError, match="proj_size"):
        cls(3, 4, proj_size=2)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("reference", [False, True])
@pytest.mark.parametrize("bias,lengths,bad", [(True, False, np.nan), (True, False, -np.inf),
                                              (False, False, np.nan), (True, True, np.inf)])
def test_non_finite_d_output_is_refused_and_grads_untouched(kind, reference, bias, lengths,
                                                             bad):
    """Every element of d_output is checked, the one at a padded step and the last one
    included, on both paths (the fast path reads it off the top layer's bias gradients
    where there are biases and no padded steps), before anything is added into ``grads``,
    with no warning on the way."""
    m = build(kind, 3, 4, L=2, bi=True, bias=bias, reference=reference)
    rng = np.random.default_rng(0)
    inp = make_inputs(m, 3, 5, rng, lengths=lengths)
    if lengths:
        inp["lengths"] = np.array([5, 2, 5])
    _, cache = m.forward(inp["x"], lengths=inp["lengths"])
    for where in [(0, 0, 0), (4, 2, 7), (3, 1, 5)]:  # (3, 1) is padded when lengths
        d_out = inp["d_out"].copy()
        d_out[where] = bad
        with (pytest.raises(ValueError, match="d_output contains NaN or infinite"),
              warnings.catch_warnings()):
            warnings.simplefilter("error")  # one clear error, no warning on the way
            m.backward(d_out, cache)
        assert all(not g.any() for g in m.grads.values())
    m.backward(inp["d_out"], cache)  # and a finite one still runs
    assert all(np.isfinite(g).all() for g in m.grads.values())


@pytest.mark.parametrize("kind", KINDS)
def test_fast_output_is_a_read_only_view_and_backward_unchanged(kind):
    """Where the fast path returns the states it keeps for BPTT as the output (one
    direction, all lengths T), writing into them is refused, so the backward can't be
    corrupted; the reference path and padded outputs are fresh arrays."""
    x = np.random.default_rng(1).standard_normal((5, 2, 3))
    for reference in (False, True):
        (out, _), _ = build(kind, 3, 4, reference=reference).forward(x)
        fast = not reference and kind != "gru_slide"
        assert out.flags.writeable is not fast
        if fast:
            with pytest.raises(ValueError, match="read-only"):
                out += 1
    (out, _), _ = build(kind, 3, 4).forward(x, lengths=np.array([5, 2]))
    assert out.flags.writeable
