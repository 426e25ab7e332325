"""Layout adapters: round trips (yours → torch → yours, torch → yours → torch) and the
arrangement each promises, checked on the arrays themselves (no torch needed)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from parity.kit import CellSpec, Layout, make_cell_case, parse_layout

LAYOUTS = {
    "torch": Layout(),
    "concat": Layout(weights="concat"),
    "concat-xh-transposed": Layout(weights="concat", concat_order="xh", transposed=True),
    "per-gate": Layout(weights="per_gate"),
    "per-gate-slide": Layout(weights="per_gate", names={"W": "W_{g}", "bias": "b_{g}"},
                             gate_names={"g": "C"}),
    "order-fiog": Layout(order="fiog"),
    "order-ifog-transposed-summed": Layout(order="ifog", transposed=True, summed_bias=True),
    "columns": Layout(columns=True, names={"weight_ih": "Wxh", "weight_hh": "Whh", "bias": "bh"}),
    "gru-zrn": Layout(order="zrn", transposed=True),
}
CELL_OF = {"gru-zrn": "gru", "columns": "elman"}


def specs(name):
    cell = CELL_OF.get(name, "lstm")
    return st.builds(CellSpec, cell=st.just(cell), batch=st.integers(1, 3),
                     input_size=st.integers(1, 4), hidden_size=st.integers(1, 4),
                     bias=st.booleans(), seed=st.integers(0, 2**31))


@pytest.mark.parametrize("name", LAYOUTS)
@given(data=st.data())
def test_round_trips(name, data):
    spec = data.draw(specs(name))
    L = LAYOUTS[name]
    p = make_cell_case(spec).params
    H, I = spec.hidden_size, spec.input_size
    user = L.params_from_torch(spec.cell, p)
    back = L.params_to_torch(spec.cell, user, H, I, spec.bias)
    again = L.params_from_torch(spec.cell, back)
    assert set(again) == set(user)
    for k in user:  # yours → torch → yours is exact
        np.testing.assert_array_equal(again[k], user[k])
    for k in ("weight_ih", "weight_hh"):  # the matrices survive torch → yours → torch
        np.testing.assert_array_equal(back[k], p[k])
    if spec.bias and not L.summed:
        np.testing.assert_array_equal(back["bias_ih"], p["bias_ih"])
        np.testing.assert_array_equal(back["bias_hh"], p["bias_hh"])
    if spec.bias and L.summed:  # what the cell sees: b_ih + b_hh
        np.testing.assert_allclose(back["bias_ih"] + back["bias_hh"],
                                   p["bias_ih"] + p["bias_hh"], rtol=0, atol=1e-15)
        grads = L.grads_to_torch(spec.cell, user, H, I, True)  # a summed bias's gradient
        np.testing.assert_array_equal(grads["bias_ih"], grads["bias_hh"])  # is both


def test_concat_is_the_slides_W_h_x():
    spec = CellSpec(cell="lstm", input_size=3, hidden_size=2)
    p = make_cell_case(spec).params
    u = Layout(weights="concat").params_from_torch("lstm", p)
    assert set(u) == {"W", "b"}
    np.testing.assert_array_equal(u["W"], np.concatenate([p["weight_hh"], p["weight_ih"]], 1))
    np.testing.assert_array_equal(u["b"], p["bias_ih"] + p["bias_hh"])


def test_per_gate_slide_names_and_blocks():
    spec = CellSpec(cell="lstm", input_size=3, hidden_size=2)
    p = make_cell_case(spec).params
    u = LAYOUTS["per-gate-slide"].params_from_torch("lstm", p)
    assert set(u) == {"W_i", "W_f", "W_C", "W_o", "b_i", "b_f", "b_C", "b_o"}
    np.testing.assert_array_equal(u["W_f"][:, :2], p["weight_hh"][2:4])  # f: torch rows H:2H
    np.testing.assert_array_equal(u["W_C"][:, 2:], p["weight_ih"][4:6])


def test_gate_order_and_transpose():
    spec = CellSpec(cell="gru", input_size=3, hidden_size=2, bias=False)
    p = make_cell_case(spec).params
    u = LAYOUTS["gru-zrn"].params_from_torch("gru", p)
    assert u["weight_ih"].shape == (3, 6)  # x @ W
    np.testing.assert_array_equal(u["weight_ih"][:, :2], p["weight_ih"][2:4].T)  # z first


def test_columns_states_and_bias_shape():
    L = LAYOUTS["columns"]
    u = L.params_from_torch("elman", make_cell_case(CellSpec(cell="elman", hidden_size=3)).params)
    assert u["bh"].shape == (3, 1)
    a = np.arange(6.0).reshape(2, 3)
    assert L.array_to_user(a).shape == (3, 2)
    np.testing.assert_array_equal(L.array_from_user(L.array_to_user(a)), a)


def test_layout_mistakes_are_named():
    with pytest.raises(ValueError, match="not a permutation"):
        Layout(order="ifgx").check_cell("lstm")
    with pytest.raises(ValueError, match="b_hn sits inside"):
        Layout(weights="concat").check_cell("gru")
    with pytest.raises(ValueError, match="unknown layout"):
        parse_layout("diagonal")
    assert parse_layout("concat,transposed") == Layout(weights="concat", transposed=True)
    Layout(weights="concat").check_cell("gru-slide")  # the slide's GRU is fine
