"""The state machine: correct cell objects pass; state carried wrongly between calls fails."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from parity.kit import ParityError  # noqa: E402
from parity.kit.stateful import (  # noqa: E402
    StepCell,
    assert_object_parity,
    find_object_failure,
    step_cell_factory,
)

from . import zoo  # noqa: E402

RUNS = dict(examples=10, steps=20, seed=0)
FAST = dict(RUNS, shrink=False)  # the first failing run, unshrunk: enough to name the step


def concat_factory(cls=StepCell):
    base = step_cell_factory(zoo.lstm_concat_forward, zoo.lstm_concat_backward, "lstm",
                             "concat")

    def factory(I, H, bias):
        obj = base(I, H, bias)
        obj.__class__ = cls
        return obj

    return factory


@pytest.mark.parametrize("cell,layout,fwd,bwd", [
    ("lstm", "concat", zoo.lstm_concat_forward, zoo.lstm_concat_backward),
    ("gru", zoo.GRU_XW, zoo.gru_xw_forward, zoo.gru_xw_backward),
    ("elman", zoo.ELMAN_COLUMNS, *zoo.make_elman_columns()),
], ids=["lstm-concat", "gru-xw", "elman-columns"])
def test_correct_objects_pass(cell, layout, fwd, bwd):
    assert_object_parity(step_cell_factory(fwd, bwd, cell, layout), cell, layout, **RUNS)


def test_zero_grad_that_does_not_reset_fails_after_zero_grad():
    class NoReset(StepCell):
        def zero_grad(self):
            pass

    d = find_object_failure(concat_factory(NoReset), "lstm", "concat", **RUNS)
    assert d is not None and "zero_grad()" in d.notes[-1]
    assert {"d_weight_ih", "d_weight_hh"} <= {q.name for q in d.failed}
    assert "state.zero_grad()" in d.rebuild


def test_overwriting_instead_of_accumulating_fails_on_the_second_backward():
    class Overwrite(StepCell):
        def backward(self, d):
            dx, ds, g = self._backward(d, self._cache)
            for k, v in g.items():
                self.grads[k][...] = v
            return dx, ds

    d = find_object_failure(concat_factory(Overwrite), "lstm", "concat", **FAST)
    assert d is not None
    assert d.notes[-1].count("backward()") >= 2
    assert "d_weight_ih" in {q.name for q in d.failed}


def test_hidden_state_kept_inside_the_object_fails():
    class Sticky(StepCell):
        def forward(self, x, state):
            if getattr(self, "_h", None) is not None and self._h[0].shape == state[0].shape:
                state = self._h  # the mistake: the previous call's state, not the one given
            new = super().forward(x, state)
            self._h = new
            return new

    d = find_object_failure(concat_factory(Sticky), "lstm", "concat", **FAST)
    assert d is not None and {"h_next", "c_next"} & {q.name for q in d.failed}
    assert d.notes[-1].count("forward(") >= 2


def test_a_stale_weight_copy_fails_after_the_optimizer_step():
    class Stale(StepCell):
        def forward(self, x, state):
            if not hasattr(self, "_W"):
                self._W = self.params["W"].copy()  # cached once; the optimizer moves W
            p = dict(self.params, W=self._W)
            new, self._cache = self._forward(x, state, p)
            return new

    d = find_object_failure(concat_factory(Stale), "lstm", "concat", **FAST)
    assert d is not None and "sgd_step" in d.notes[-1]


def test_assert_object_parity_raises_parity_error():
    class Broken(StepCell):
        def forward(self, x, state):
            raise ValueError("shape mismatch in my cell")

    with pytest.raises(ParityError, match="shape mismatch in my cell"):
        assert_object_parity(concat_factory(Broken), "lstm", "concat", **FAST)


def test_seed_changes_the_arrays_not_the_verdict():
    f = step_cell_factory(*zoo.make_lstm(), "lstm")
    assert find_object_failure(f, "lstm", examples=3, steps=5, seed=7) is None
    assert np.isfinite(7)
