"""The kit's assertions: correct cells in every layout pass; each planted mistake fails
with a message naming the right output or gradient and gate block."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from parity.kit import (  # noqa: E402
    CellSpec,
    ParityError,
    assert_cell_parity,
    check_cell,
    find_cell_failure,
)

from . import zoo  # noqa: E402

EXAMPLES = 25


def failing(d):
    return {q.name: q for q in d.failed}


def blocks(q):
    return {b.split(" ")[0] for b in q.gate_blocks}


# ---------------------------------------------------------------------------
# correct cells pass, in every layout
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("cell", ["elman", "elman-relu", "lstm", "gru", "gru-slide"])
def test_scratchrnn_cells_pass_in_torch_layout(cell):
    fwd, bwd = zoo.scratchrnn_cell(cell)
    assert_cell_parity(fwd, bwd, cell, examples=EXAMPLES, seed=0)


@pytest.mark.parametrize("cell", ["gated-none", "gated-input", "gated-hidden"])
def test_gating_cells_pass_against_finite_differences(cell):
    fwd, bwd = zoo.scratchrnn_cell(cell)
    assert_cell_parity(fwd, bwd, cell, examples=10, seed=0, max_size=4)


@pytest.mark.parametrize("cell,layout,fwd,bwd", [
    ("lstm", "concat", zoo.lstm_concat_forward, zoo.lstm_concat_backward),
    ("lstm", zoo.LSTM_SLIDE, zoo.lstm_slide_forward, zoo.lstm_slide_backward),
    ("lstm", zoo.LSTM_IFOG, zoo.lstm_ifog_forward, zoo.lstm_ifog_backward),
    ("gru", zoo.GRU_XW, zoo.gru_xw_forward, zoo.gru_xw_backward),
    ("elman", zoo.ELMAN_COLUMNS, *zoo.make_elman_columns()),
    ("lstm", "torch", *zoo.make_lstm()),
    ("gru", "torch", *zoo.make_gru()),
], ids=["concat", "per-gate-slide", "ifog-transposed", "gru-zrn-transposed", "columns",
        "lstm-torch", "gru-torch"])
def test_hand_written_cells_pass_in_their_layout(cell, layout, fwd, bwd):
    assert_cell_parity(fwd, bwd, cell, layout, examples=EXAMPLES, seed=1)


# ---------------------------------------------------------------------------
# each mistake fails, named
# ---------------------------------------------------------------------------
def test_swapped_gate_block_names_both_blocks():
    d = find_cell_failure(*zoo.make_lstm(swap_if=True), "lstm", examples=EXAMPLES, seed=0)
    bad = failing(d)
    assert "h_next" in bad and "c_next" in bad
    assert blocks(bad["h_next"]) == {"i", "f"}
    assert "gate block i (input gate, rows 0:H), f (forget gate, rows H:2H)" in d.message()
    assert "i ← torch's f, f ← torch's i" in d.message()


def test_a_wrong_gate_order_in_the_layout_is_a_swapped_block():
    """ifog code declared as torch's ifgo: the probe names g and o."""
    d = find_cell_failure(zoo.lstm_ifog_forward, zoo.lstm_ifog_backward, "lstm",
                          zoo.Layout(transposed=True, summed_bias=True), examples=EXAMPLES,
                          seed=0)
    assert blocks(failing(d)["h_next"]) == {"g", "o"}


def test_sigma_prime_from_pre_activation_names_the_sigmoid_blocks():
    d = find_cell_failure(*zoo.make_lstm(sigma_pre=True), "lstm", examples=EXAMPLES, seed=0)
    bad = failing(d)
    assert not {"h_next", "c_next"} & set(bad), "the forward is right"
    assert blocks(bad["d_weight_hh"]) <= {"i", "f", "o"} and blocks(bad["d_weight_hh"])
    assert "g" not in blocks(bad["d_weight_ih"])


def test_dropped_cell_state_carry_names_d_c_prev():
    d = find_cell_failure(*zoo.make_lstm(drop_carry=True), "lstm", examples=EXAMPLES, seed=0)
    assert set(failing(d)) == {"d_c_prev"}
    assert "wrong: d_c_prev" in d.message()


def test_gru_z_exchanged_names_h_next_and_the_update_block():
    d = find_cell_failure(*zoo.make_gru(swap_z=True), "gru", examples=EXAMPLES, seed=0)
    bad = failing(d)
    assert "h_next" in bad
    assert blocks(bad["h_next"]) == {"z"}
    assert "z (update gate" in d.message()


def test_bias_gradient_not_summed_names_both_biases():
    d = find_cell_failure(*zoo.make_lstm(bias_mean=True), "lstm", examples=EXAMPLES, seed=0)
    assert set(failing(d)) == {"d_bias_ih", "d_bias_hh"}
    assert d.case["B"] > 1 and d.case["bias"] is True  # shrunk to the smallest batch that shows it
    assert blocks(failing(d)["d_bias_ih"]) == {"i", "f", "g", "o"}


def test_gradient_buffer_not_reset_fails_on_the_second_call():
    fwd, bwd = zoo.make_lstm(accumulate=True)
    spec = CellSpec(cell="lstm", batch=2, input_size=3, hidden_size=2, bias=True)
    assert check_cell(fwd, bwd, spec).passed  # the first iteration is right
    d = check_cell(fwd, bwd, spec)
    assert {"d_weight_ih", "d_weight_hh", "d_bias_ih", "d_bias_hh"} == set(failing(d))


def test_float64_gradients_from_float32_input_fail_on_dtype():
    d = find_cell_failure(*zoo.make_lstm(upcast=True), "lstm", examples=EXAMPLES, seed=0,
                          dtypes=("float32",))
    bad = failing(d)
    assert "d_x" in bad and "d_weight_ih" in bad
    assert "dtype float64, expected float32" in bad["d_x"].problem


def test_elman_tanh_prime_of_the_wrong_tensor_names_the_one_block():
    d = find_cell_failure(*zoo.make_elman_columns(tanh_pre=True), "elman", zoo.ELMAN_COLUMNS,
                          examples=EXAMPLES, seed=0)
    bad = failing(d)
    assert "d_weight_hh" in bad and "h_next" not in bad
    assert "h (the one Elman block, rows 0:H)" in d.message()
    assert "d Whh" in d.message()  # the user's own name for it


def test_parity_error_carries_the_structured_diagnosis():
    with pytest.raises(ParityError) as info:
        assert_cell_parity(*zoo.make_lstm(drop_carry=True), "lstm", examples=EXAMPLES, seed=0)
    d = info.value.diagnosis
    rec = d.to_dict()
    assert rec["passed"] is False
    q = {r["name"]: r for r in rec["quantities"]}["d_c_prev"]
    assert q["passed"] is False and q["max_rel_diff"] > 1e-9 and q["worst_index"] is not None
    assert "CellSpec(cell='lstm'" in str(info.value)  # the rebuild lines


def test_exceptions_and_wrong_returns_are_results_not_crashes():
    def broken(x, state, p):
        raise RuntimeError("boom")

    d = check_cell(broken, None, CellSpec())
    assert not d.passed and "RuntimeError: boom" in d.error
    assert "test_assertions.py" in d.error and "(broken)" in d.error  # your line, not ours

    def no_tuple(x, state, p):
        return state[0]

    d = check_cell(no_tuple, None, CellSpec())
    assert "forward must return (new_state, cache)" in d.error


def test_missing_gradient_key_is_named():
    fwd, bwd = zoo.make_lstm()

    def lossy(d_state, cache):
        dx, ds, g = bwd(d_state, cache)
        g.pop("weight_hh")
        return dx, ds, g

    d = check_cell(fwd, lossy, CellSpec())
    assert "d_weight_hh" in failing(d)
    assert any("no gradient 'weight_hh'" in n for n in d.notes)


def test_tolerance_is_overridable_and_relative():
    fwd, bwd = zoo.make_lstm()

    def nudged(x, state, p):
        (h, c), cache = fwd(x, state, p)
        return (h + 1e-7 * np.maximum(1, np.abs(h)), c), cache

    spec = CellSpec()
    assert not check_cell(nudged, None, spec).passed
    assert check_cell(nudged, None, spec, tol=1e-6).passed
