"""The recorded per-step state gradients (``record_state_grads``), which only the studies read.

Written to kill mutants of ``make mutate`` (docs/mutation.md): with variable lengths, several
layers and both directions, on the fast path and on the reference path. The recorded
G[t] = ∂L/∂h_t of a padded batch must be, at each sequence's own steps, the G of that sequence
run alone (no padding), and exactly 0 at its padded steps; the two paths must agree on every
layer and direction. (tests/test_fastpath.py anchors G itself to ∂L/∂h_t by restarting the
sequence from h_t, for one layer and one direction.)
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from parity.compare import SeqConfig, build_module

T, B, I, H = 5, 3, 3, 4


@st.composite
def configs(draw) -> SeqConfig:
    cell = draw(st.sampled_from(["elman", "lstm", "gru"]))
    proj_size = draw(st.sampled_from([0, 2])) if cell == "lstm" else 0
    return SeqConfig(cell=cell, num_layers=draw(st.integers(1, 2)),
                     bidirectional=draw(st.booleans()), steps=T, batch=B, input_size=I,
                     hidden_size=H, proj_size=proj_size, reference=draw(st.booleans()))


def _inputs(cfg: SeqConfig, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    D = 2 if cfg.bidirectional else 1
    P = cfg.proj_size or H
    LD = cfg.num_layers * D
    lengths = rng.integers(1, T + 1, size=B)
    lengths[rng.integers(B)] = T  # the longest sets T; the others are padded
    lengths[(rng.integers(B) + 1) % B] = min(lengths.min(), T - 1)  # at least one padded
    inp = {"x": rng.standard_normal((T, B, I)), "d_out": rng.standard_normal((T, B, D * P)),
           "h0": rng.standard_normal((LD, B, P)), "d_h_n": rng.standard_normal((LD, B, P)),
           "lengths": lengths}
    if cfg.cell == "lstm":
        inp["c0"] = rng.standard_normal((LD, B, H))
        inp["d_c_n"] = rng.standard_normal((LD, B, H))
    return inp


def _state_grads(m, cfg: SeqConfig, inp: dict, rows=slice(None), steps: int = T,
                 lengths: bool = True) -> dict[str, np.ndarray]:
    """m.state_grads after forward and backward on the batch rows ``rows``, first ``steps``."""
    lstm = cfg.cell == "lstm"
    hx = (inp["h0"][:, rows], inp["c0"][:, rows]) if lstm else inp["h0"][:, rows]
    d_hx_n = (inp["d_h_n"][:, rows], inp["d_c_n"][:, rows]) if lstm else inp["d_h_n"][:, rows]
    m.record_state_grads = True
    m.state_grads = {}
    (_, _), cache = m.forward(inp["x"][:steps, rows], hx,
                              lengths=inp["lengths"][rows] if lengths else None)
    m.backward(inp["d_out"][:steps, rows], cache, d_hx_n)
    return {k: v.copy() for k, v in m.state_grads.items()}


@given(configs(), st.integers(0, 2**16))
def test_padded_batch_records_each_sequence_alone_and_zero_at_padding(cfg, seed):
    m = build_module(cfg, seed)
    inp = _inputs(cfg, seed)
    G = _state_grads(m, cfg, inp)
    D = 2 if cfg.bidirectional else 1
    assert sorted(G) == sorted(s for layer in range(cfg.num_layers) for s in m.suffixes(layer))
    assert len(G) == cfg.num_layers * D
    P = cfg.proj_size or H
    for b, L_b in enumerate(inp["lengths"]):
        alone = _state_grads(m, cfg, inp, rows=slice(b, b + 1), steps=int(L_b), lengths=False)
        for suffix, G_s in G.items():
            assert G_s.shape == (T, B, P)
            np.testing.assert_allclose(G_s[:L_b, b], alone[suffix][:, 0], rtol=1e-10,
                                       atol=1e-12, err_msg=f"{suffix} row {b}")
            assert np.all(G_s[L_b:, b] == 0), f"{suffix} row {b}: padded steps must record 0"


@given(configs(), st.booleans(), st.integers(0, 2**16))
def test_fast_and_reference_paths_record_the_same_state_grads(cfg, lengths, seed):
    inp = _inputs(cfg, seed)
    paths = []
    for reference in (False, True):
        c = replace(cfg, reference=reference)
        paths.append(_state_grads(build_module(c, seed), c, inp, lengths=lengths))
    fast, ref = paths
    assert fast.keys() == ref.keys()
    for suffix in ref:
        np.testing.assert_allclose(fast[suffix], ref[suffix], rtol=1e-12, atol=1e-13,
                                   err_msg=suffix)


def test_nothing_is_recorded_unless_asked():
    cfg = SeqConfig(cell="gru", num_layers=2, bidirectional=True, steps=T, batch=B,
                    input_size=I, hidden_size=H)
    inp = _inputs(cfg, 0)
    for reference in (False, True):
        m = build_module(replace(cfg, reference=reference), 0)
        (_, _), cache = m.forward(inp["x"], inp["h0"], lengths=inp["lengths"])
        m.backward(inp["d_out"], cache, inp["d_h_n"])
        assert m.state_grads == {}


# -- the cells' and modules' defaults and texts (mutants no other test saw) ------------------
def test_cell_and_gated_defaults():
    from scratchrnn.cells import elman_step_forward
    from scratchrnn.gating import GatedRNN, gated_step_forward

    rng = np.random.default_rng(0)
    gx, h = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    W = rng.standard_normal((3, 3))
    np.testing.assert_array_equal(elman_step_forward(gx, h, W, None)[0],
                                  np.tanh(gx + h @ W.T))
    np.testing.assert_array_equal(gated_step_forward(gx, h, W, None)[0], h + np.tanh(gx + h @ W.T))
    g = GatedRNN(3, 4)
    assert (g.gating, g.mode, g.gates, g.dropout) == ("none", "GATED_NONE", 1, 0.0)
    assert GatedRNN(3, 4, gating="hidden").mode == "GATED_HIDDEN"
    a, b, c = (GatedRNN(3, 4, rng=s, dtype=np.float64) for s in (0, 0, 1))
    for name in a.params:
        np.testing.assert_array_equal(a.params[name], b.params[name])
        assert not np.array_equal(a.params[name], c.params[name])
    with pytest.raises(ValueError, match=r"^gating must be one of 'none', 'input', 'hidden', "
                                         r"got 'gates'$"):
        GatedRNN(3, 4, gating="gates")


def test_a_wrong_kind_of_hx_is_described():
    from scratchrnn.recurrent import GRU, LSTM

    x = np.zeros((2, 1, 3), np.float32)
    with pytest.raises(ValueError, match=r"got int$"):
        LSTM(3, 4).forward(x, 5)
    with pytest.raises(ValueError, match=r"got a list of 3$"):
        LSTM(3, 4).forward(x, [1, 2, 3])
    with pytest.raises(ValueError, match=r"got a tuple of 2$"):
        GRU(3, 4).forward(x, (np.zeros((1, 1, 4)), np.zeros((1, 1, 4))))


@given(configs(), st.booleans(), st.integers(0, 2**16))
def test_float32_runs_keep_float32_everywhere_state_grads_included(cfg, lengths, seed):
    """The fast path's scratch buffers and constants are of the input's dtype: every output,
    gradient and recorded state gradient of a float32 run is float32."""
    cfg = replace(cfg, dtype="float32", dropout=0.25 if cfg.num_layers > 1 else 0.0)
    inp = {k: v.astype(np.float32) if k != "lengths" else v
           for k, v in _inputs(cfg, seed).items()}
    m = build_module(cfg, seed)
    lstm = cfg.cell == "lstm"
    hx = (inp["h0"], inp["c0"]) if lstm else inp["h0"]
    m.record_state_grads = True
    (out, hx_n), cache = m.forward(inp["x"], hx, lengths=inp["lengths"] if lengths else None)
    d_x, d_hx0, grads = m.backward(inp["d_out"], cache,
                                   (inp["d_h_n"], inp["d_c_n"]) if lstm else inp["d_h_n"])
    arrays = [out, d_x, *(hx_n if lstm else [hx_n]), *(d_hx0 if lstm else [d_hx0]),
              *grads.values(), *m.state_grads.values()]
    assert all(a.dtype == np.float32 for a in arrays), [a.dtype for a in arrays]


def test_module_defaults_and_modes():
    from scratchrnn.cells import gru_step_forward
    from scratchrnn.recurrent import GRU, RNN

    assert (RNN(3, 4).mode, RNN(3, 4, nonlinearity="relu").mode) == ("RNN_TANH", "RNN_RELU")
    for m in (RNN(3, 4), GRU(3, 4)):
        assert m.dropout == 0.0 and m.reference is False
    rng = np.random.default_rng(0)
    gx, h = rng.standard_normal((2, 9)), rng.standard_normal((2, 3))
    W, b = rng.standard_normal((9, 3)), rng.standard_normal(9)
    h_t, cache = gru_step_forward(gx, h, W, b)
    h_torch, cache_torch = gru_step_forward(gx, h, W, b, form="torch")
    np.testing.assert_array_equal(h_t, h_torch)
    assert cache.form == "torch"
    assert not np.array_equal(h_t, gru_step_forward(gx, h, W, b, form="slide")[0])


@pytest.mark.parametrize("reference", [False, True])
def test_dropout_1_between_layers_feeds_zeros_to_the_next(reference):
    """p = 1 drops every input of layer 2 (scale 0, not 0/0): as if layer 2 read zeros."""
    from scratchrnn.recurrent import GRU

    m = GRU(3, 4, num_layers=2, dropout=1.0, dtype=np.float64, rng=0, reference=reference)
    x = np.random.default_rng(1).standard_normal((5, 2, 3))
    (out, h_n), _ = m.forward(x)
    assert np.all(np.isfinite(out))
    one = GRU(4, 4, dtype=np.float64, rng=0, reference=reference)
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        one.params[f"{name}_l0"][...] = m.params[f"{name}_l1"]
    (out2, _), _ = one.forward(np.zeros((5, 2, 4)))
    np.testing.assert_array_equal(out, out2)


@given(configs(), st.sampled_from(["float32", "float64"]), st.integers(0, 2**16))
def test_missing_upstream_gradients_are_zeros(cfg, dtype, seed):
    """backward(None, cache, None) is backward with zero d_output and d_hx_n; for the LSTM,
    (None, d_c_n) and (d_h_n, None) fill only the missing member with zeros; all in the
    module's dtype."""
    cfg = replace(cfg, dtype=dtype)
    dt = np.dtype(dtype)
    inp = {k: v.astype(dt) if k != "lengths" else v for k, v in _inputs(cfg, seed).items()}
    m = build_module(cfg, seed)
    lstm = cfg.cell == "lstm"
    (out, _), cache = m.forward(inp["x"], lengths=inp["lengths"])
    zeros_h = np.zeros_like(inp["d_h_n"])

    def run(d_out, d_hx):
        m.zero_grad()
        d_x, d_hx0, grads = m.backward(d_out, cache, d_hx)
        return [d_x, *(d_hx0 if lstm else [d_hx0]), *grads.values()]

    cases = [((None, None), (np.zeros_like(out), (zeros_h, np.zeros_like(inp["c0"])) if lstm
                                                 else zeros_h))]
    if lstm:
        cases += [((inp["d_out"], (None, inp["d_c_n"])), (inp["d_out"], (zeros_h, inp["d_c_n"]))),
                  ((inp["d_out"], (inp["d_h_n"], None)),
                   (inp["d_out"], (inp["d_h_n"], np.zeros_like(inp["d_c_n"]))))]
    for implicit, explicit in cases:
        for a, b in zip(run(*implicit), run(*explicit), strict=True):
            assert a.dtype == dt
            np.testing.assert_array_equal(a, b)


def test_states_and_masks_in_another_dtype():
    from scratchrnn.recurrent import GRU, LSTM, RNN

    x = np.zeros((2, 1, 3), np.float32)
    with pytest.raises(ValueError, match=r"^hx\[0\] \(h\) must have dtype float32"):
        LSTM(3, 4).forward(x, (np.zeros((1, 1, 4)), np.zeros((1, 1, 4), np.float32)))
    with pytest.raises(ValueError, match=r"^hx\[1\] \(c\) must have dtype float32"):
        LSTM(3, 4).forward(x, (np.zeros((1, 1, 4), np.float32), np.zeros((1, 1, 4))))
    with pytest.raises(ValueError, match=r"^input must have shape"):
        GRU(3, 4).forward(np.zeros((2, 1, 5), np.float32))
    with pytest.raises(ValueError, match=r"^proj_size is supported only by LSTM$"):
        RNN(3, 4, proj_size=2)
    m = GRU(3, 4, num_layers=2, dropout=0.5, rng=0)
    masks = [np.ones((2, 1, 4))]  # float64 0/1 masks for a float32 module: cast, accepted
    (out, _), _ = m.forward(x, dropout_masks=masks)
    (out2, _), _ = m.forward(x, dropout_masks=[np.ones((2, 1, 4), np.float32)])
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, out2)


class _FakeLibc:
    """ctypes.CDLL(None) stand-in: records each mallopt(param, value) and returns ``ok``."""

    def __init__(self, ok: int = 1) -> None:
        self.calls: list[tuple[int, int]] = []
        self.ok = ok
        outer = self

        class _Mallopt:
            argtypes = None

            def __call__(self, param, value):
                outer.calls.append((param, value))
                return outer.ok

        self.mallopt = _Mallopt()


def test_retain_freed_memory_asks_glibc_once_for_its_two_thresholds(monkeypatch):
    import ctypes

    from scratchrnn import fastpath

    libc = _FakeLibc()
    monkeypatch.setattr(fastpath, "_retained", False)
    monkeypatch.setattr(ctypes, "CDLL", lambda name: libc)
    monkeypatch.delenv("SCRATCHRNN_KEEP_FREED_MEMORY", raising=False)
    assert fastpath.retain_freed_memory() is True
    assert libc.calls == [(-3, 32 << 20), (-1, 1 << 30)]  # M_MMAP_THRESHOLD, M_TRIM_THRESHOLD
    assert libc.mallopt.argtypes == [ctypes.c_int, ctypes.c_int]
    assert fastpath.retain_freed_memory() is True and len(libc.calls) == 2  # once
    monkeypatch.setattr(fastpath, "_retained", False)
    monkeypatch.setenv("SCRATCHRNN_KEEP_FREED_MEMORY", "0")
    assert fastpath.retain_freed_memory() is False and len(libc.calls) == 2
    monkeypatch.setenv("SCRATCHRNN_KEEP_FREED_MEMORY", "1")
    failing = _FakeLibc(ok=0)
    monkeypatch.setattr(ctypes, "CDLL", lambda name: failing)
    assert fastpath.retain_freed_memory() is False and failing.calls == [(-3, 32 << 20)]

    def no_libc(name):
        raise OSError("not glibc")

    monkeypatch.setattr(ctypes, "CDLL", no_libc)
    assert fastpath.retain_freed_memory() is False


def test_the_gru_module_steps_in_its_form_and_records_nothing_by_default():
    from scratchrnn.recurrent import GRU

    x = np.random.default_rng(2).standard_normal((4, 2, 3))
    torch_form = GRU(3, 4, dtype=np.float64, rng=0, reference=True)
    slide = GRU(3, 4, dtype=np.float64, rng=0, reference=True, form="slide")
    assert torch_form.record_state_grads is False
    (a, _), _ = torch_form.forward(x)
    (b, _), _ = slide.forward(x)
    assert not np.allclose(a, b)


def test_backward_refuses_a_d_output_of_another_dtype():
    from scratchrnn.recurrent import GRU

    m = GRU(3, 4, rng=0)
    (out, _), cache = m.forward(np.zeros((2, 1, 3), np.float32))
    with pytest.raises(ValueError, match=r"^d_output must have dtype float32"):
        m.backward(np.zeros(out.shape), cache)


@pytest.mark.parametrize("cell", ["elman", "lstm", "gru"])
def test_lengths_all_t_are_no_lengths_read_only_outputs_included(cell):
    """lengths equal to T everywhere is the unpadded run: the same values and, on the fast
    path, the same read-only view of the states as the output (no mask is made)."""
    cfg = SeqConfig(cell=cell, steps=T, batch=B, input_size=I, hidden_size=H)
    m = build_module(cfg, 0)
    x = np.random.default_rng(3).standard_normal((T, B, I))
    (out, _), _ = m.forward(x)
    (out_t, _), cache = m.forward(x, lengths=np.full(B, T))
    np.testing.assert_array_equal(out, out_t)
    assert cache.mask is None and not out_t.flags.writeable
