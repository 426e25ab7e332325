"""The torch backend follows the NumPy backend's trajectory (same init, batches, masks)."""

from __future__ import annotations

import pytest

from scratchrnn import classify, generate
from scratchrnn.cli import backend_factory
from tests.conftest import synthetic_csv

pytest.importorskip("torch")


@pytest.mark.parametrize("lab, cell", [("classify", "gru"), ("classify", "lstm"),
                                       ("generate", "gru")])
def test_backends_follow_the_same_trajectory(tmp_path, lab, cell):
    data = synthetic_csv(tmp_path, n_train=40)
    kw = dict(data=str(data), cell=cell, hidden=6, embedding=5, epochs=3, batch_size=8,
              progress=False, early_stopping=100)
    if lab == "generate":
        kw["conditioned"] = True
    train = classify.train if lab == "classify" else generate.train
    a = train(out=tmp_path / "numpy", backend="numpy", **kw)
    b = train(out=tmp_path / "torch", backend="torch", make_backend=backend_factory("torch"), **kw)
    assert b["test_loss"] == pytest.approx(a["test_loss"], rel=1e-4)
    assert b["test_acc"] == pytest.approx(a["test_acc"], abs=1e-9)
