"""Family 7: a checkpoint resumes on either backend, in both directions, on the same
trajectory (up to float32 rounding) as a run that never changed backend."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from scratchrnn.checkpoint import load_checkpoint

from .kit import TINY, copy_run, run, synthetic_csv

pytestmark = pytest.mark.skipif(importlib.util.find_spec("torch") is None,
                                reason="torch is not installed")


def argv(lab, csv, out, backend, epochs, *extra):
    return [lab, "train", "--data", str(csv), "--out", str(out), "--backend", backend,
            "--epochs", str(epochs), "--early-stopping", "100", *TINY, *extra]


@pytest.mark.parametrize("lab", ["classify", "generate"])
@pytest.mark.parametrize(("first", "then"), [("numpy", "torch"), ("torch", "numpy")])
def test_resume_on_the_other_backend(tmp_path, lab, first, then):
    csv = synthetic_csv(tmp_path)
    rc, _, err = run(argv(lab, csv, tmp_path / "straight", first, 2))
    assert rc == 0, err
    rc, _, err = run(argv(lab, csv, tmp_path / "half", first, 1))
    assert rc == 0, err
    switched = copy_run(tmp_path / "half", tmp_path / "switched")
    rc, _, err = run(argv(lab, csv, switched, then, 2, "--resume"))
    assert rc == 0, err
    a = load_checkpoint(tmp_path / "straight" / "last.npz")
    b = load_checkpoint(switched / "last.npz")
    assert a.epoch == b.epoch == 2
    for name, value in a.model_state.items():
        np.testing.assert_allclose(b.model_state[name], value, rtol=1e-3, atol=1e-4,
                                   err_msg=name)
