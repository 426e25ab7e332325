"""The exercise notebooks' planted slips (parity.grade.slips) are the mistakes their
docstrings name, no more: one gate block read for another, a bias left out, the mask
forgotten — and so the notebooks' "what a slip looks like" panels show what they say."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from parity.grade import slips
from scratchrnn import cells, gating
from scratchrnn.exercises import sequence


def _draw(seed: int, G: int, B: int = 3, H: int = 4):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((B, G * H)), rng.standard_normal((B, H)),
            rng.standard_normal((G * H, H)), rng.standard_normal(G * H))


@given(st.integers(0, 2**32 - 1))
def test_a_swapped_slip_reads_each_gate_from_the_others_rows(seed):
    gx, h, W, b = _draw(seed, 4)
    c = np.random.default_rng(seed + 1).standard_normal(h.shape)
    *_, ref = cells.lstm_step_forward(gx, h, c, W, b)
    *_, got = slips.lstm_step_forward_f_o_swapped(gx, h, c, W, b)
    np.testing.assert_allclose(got.f_t, ref.o_t, rtol=1e-12)
    np.testing.assert_allclose(got.o_t, ref.f_t, rtol=1e-12)
    np.testing.assert_allclose(got.i_t, ref.i_t, rtol=1e-12)
    np.testing.assert_allclose(got.g_t, ref.g_t, rtol=1e-12)
    gx, h, W, b = _draw(seed, 3)
    _, ref = cells.gru_step_forward(gx, h, W, b, "torch")
    _, got = slips.gru_step_forward_r_z_swapped(gx, h, W, b, "torch")
    np.testing.assert_allclose(got.r_t, ref.z_t, rtol=1e-12)
    np.testing.assert_allclose(got.z_t, ref.r_t, rtol=1e-12)
    _, ref = gating.gated_step_forward(gx, h, W, b, "hidden")
    _, got = slips.gated_step_forward_lam_mu_swapped(gx, h, W, b, "hidden")
    np.testing.assert_allclose(got.lam_t, ref.mu_t, rtol=1e-12)
    np.testing.assert_allclose(got.mu_t, ref.lam_t, rtol=1e-12)


@given(st.integers(0, 2**32 - 1))
def test_the_bias_slip_is_the_reference_with_b_hh_zero(seed):
    gx, h, W, b = _draw(seed, 1)
    got, _ = slips.elman_step_forward_without_b_hh(gx, h, W, b, "tanh")
    np.testing.assert_array_equal(got, cells.elman_step_forward(gx, h, W, 0 * b, "tanh")[0])
    assert not np.allclose(got, cells.elman_step_forward(gx, h, W, b, "tanh")[0])


@given(st.integers(0, 2**32 - 1), st.lists(st.integers(1, 5), min_size=2, max_size=4))
def test_the_mask_slip_leaks_exactly_where_steps_are_padded(seed, lengths):
    rng = np.random.default_rng(seed)
    T, B, H = 5, len(lengths), 3
    mask = np.arange(T)[:, None, None] < np.array(lengths)[None, :, None]
    GX, W, b = rng.standard_normal((T, B, H)), rng.standard_normal((H, H)), rng.standard_normal(H)
    _, _, steps = sequence.elman_sequence_forward(GX, np.zeros((B, H)), W, b, mask)
    d_out = rng.standard_normal((T, B, H))
    ref = sequence.elman_sequence_backward(d_out, np.zeros((B, H)), steps, W, mask)
    got = slips.elman_sequence_backward_without_mask(d_out, np.zeros((B, H)), steps, W, mask)
    full = np.array(lengths) == T
    np.testing.assert_allclose(got[0][:, full], ref[0][:, full], rtol=1e-12)  # unpadded rows
    padded = ~mask[..., 0]
    assert np.all(ref[0][padded] == 0)
    assert np.all(np.abs(got[0][padded]).sum(-1) > 0)  # every padded step takes gradient
