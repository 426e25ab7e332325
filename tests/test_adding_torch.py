"""The adding problem's torch backend trains the same model as NumPy, step for step."""

from __future__ import annotations

import pytest

from scratchrnn.studies.adding import compare, train_adding

pytest.importorskip("torch")


@pytest.mark.parametrize("cell", ["elman-tanh", "irnn", "lstm", "gru"])
def test_torch_backend_follows_numpy_in_float64(cell):
    from parity.adding import train_adding_torch

    kw = dict(steps=30, eval_every=10, hidden_size=8, batch_size=8, eval_size=50,
              dtype="float64")
    a = train_adding(cell, 12, **kw)
    b = train_adding_torch(cell, 12, **kw)
    assert [s for s, _ in a.history] == [s for s, _ in b.history]
    for (_, ma), (_, mb) in zip(a.history, b.history, strict=True):
        assert mb == pytest.approx(ma, rel=1e-9)


def test_gating_cells_have_no_torch_twin():
    with pytest.raises(ValueError, match="no torch twin"):
        compare(["hidden-gating"], [10], backend="torch", steps=1)
