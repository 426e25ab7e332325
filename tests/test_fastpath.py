"""The fast paths (scratchrnn.fastpath) equal the reference step functions.

The readable step functions of scratchrnn.cells are the reference; every fast path
is checked against them here (and against torch through the parity suite, which
runs the default, fast, path).
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from parity.compare import build_module, random_inputs, run_ours
from parity.strategies import seq_configs
from scratchrnn.gradcheck import max_relative_error


def _both_paths(cfg, seed):
    inp = random_inputs(cfg, np.random.default_rng(seed))
    results = []
    for fast in (True, False):
        module = build_module(cfg, seed)
        module.fast = fast
        results.append(run_ours(module, cfg, inp))
    return results


@given(seq_configs(dtypes=("float64",)), st.integers(0, 99))
def test_fast_path_equals_step_functions_float64(cfg, seed):
    (o_fast, g_fast), (o_ref, g_ref) = _both_paths(cfg, seed)
    assert o_fast.keys() == o_ref.keys() and g_fast.keys() == g_ref.keys()
    for k in o_ref:
        assert max_relative_error(o_fast[k], o_ref[k]) <= 1e-12, k
    for k in g_ref:
        assert max_relative_error(g_fast[k], g_ref[k]) <= 1e-12, k


@given(seq_configs(dtypes=("float32",)))
def test_fast_path_equals_step_functions_float32(cfg):
    (o_fast, g_fast), (o_ref, g_ref) = _both_paths(cfg, 0)
    for k in o_ref:
        assert o_fast[k].dtype == np.float32
        assert max_relative_error(o_fast[k], o_ref[k]) <= 1e-4, k
    for k in g_ref:
        assert g_fast[k].dtype == np.float32
        assert max_relative_error(g_fast[k], g_ref[k]) <= 1e-4, k


def test_input_grad_false_skips_only_the_input_gradient():
    from parity.compare import SeqConfig

    cfg = SeqConfig(cell="gru", num_layers=2, bidirectional=True, lengths=True)
    inp = random_inputs(cfg, np.random.default_rng(3))
    m = build_module(cfg, 0)
    (out, h_n), cache = m.forward(inp["x"], inp["h0"], lengths=inp["lengths"])
    d_x, d_h0, grads = m.backward(inp["d_output"], cache, inp["d_h_n"])
    d_x2, d_h02, grads2 = m.backward(inp["d_output"], cache, inp["d_h_n"], input_grad=False)
    assert d_x is not None and d_x2 is None
    np.testing.assert_array_equal(d_h0, d_h02)
    for k in grads:
        np.testing.assert_array_equal(grads[k], grads2[k])
