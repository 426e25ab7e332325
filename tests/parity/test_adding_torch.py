"""The adding problem's torch backend trains the same model as NumPy, step for step."""

from __future__ import annotations

import pytest

from scratchrnn.cli import adding_train_fn
from scratchrnn.config import AddingConfig
from scratchrnn.studies.adding import compare, train_adding

pytest.importorskip("torch")


@pytest.mark.parametrize("cell", ["elman-tanh", "irnn", "lstm", "gru"])
def test_torch_backend_follows_numpy_in_float64(cell):
    from parity.runtime.adding import train_adding_torch

    kw = dict(updates=30, eval_every=10, hidden=8, batch_size=8, eval_size=50,
              dtype="float64")
    a = train_adding(cell, 12, **kw)
    b = train_adding_torch(cell, 12, **kw)
    assert [s for s, _ in a.history] == [s for s, _ in b.history]
    for (_, ma), (_, mb) in zip(a.history, b.history, strict=True):
        assert mb == pytest.approx(ma, rel=1e-9)


def test_gating_cells_have_no_torch_twin():
    with pytest.raises(ValueError, match="no torch twin"):
        adding_train_fn(AddingConfig(backend="torch", cells=("gru", "hidden-gating")))


def test_the_handed_in_train_fn_is_what_runs():
    """compare() runs the train_fn it is given: torch's equals NumPy's in float64."""
    kw = dict(cells=("gru",), lengths=(6,), updates=4, eval_every=2, hidden=4, batch_size=4,
              eval_size=8, dtype="float64")
    cfg_a, fn_a = adding_train_fn(AddingConfig(**kw))
    cfg_b, fn_b = adding_train_fn(AddingConfig(backend="torch", **kw))
    a, b = compare(cfg_a, train_fn=fn_a), compare(cfg_b, train_fn=fn_b)
    assert a[0].config["backend"] == "numpy" and b[0].config["backend"] == "torch"
    assert b[0].final_mse == pytest.approx(a[0].final_mse, rel=1e-9)
