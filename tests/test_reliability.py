"""Reliability: extreme numerics, training faults, interruption, fuzzed CSV input.

Each test here backs one row of the README's "Failure modes" table.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchrnn import cells, classify, generate
from scratchrnn.checkpoint import load_checkpoint
from scratchrnn.data import DataError, load_surnames
from scratchrnn.losses import (
    cross_entropy,
    cross_entropy_backward,
    sequence_cross_entropy,
    sequence_cross_entropy_backward,
)
from scratchrnn.train import TrainingError
from tests.conftest import synthetic_csv

REPO = Path(__file__).resolve().parents[1]


# -- numerics ---------------------------------------------------------------------
extreme = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, width=32)


def _no_overflow():
    """Turn overflow/invalid/divide warnings into errors; underflow to 0 is correct."""
    return np.errstate(over="raise", invalid="raise", divide="raise")


@pytest.mark.parametrize("cell", ["elman", "lstm", "gru", "gru-slide"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(scale=extreme, seed=st.integers(0, 2**16))
@settings(max_examples=15)
def test_cells_finite_at_extreme_inputs(cell, dtype, scale, seed):
    """Pre-activations up to ±1e4 give finite states and gradients, with no warnings."""
    rng = np.random.default_rng(seed)
    B, I, H = 2, 3, 4
    G = {"elman": 1, "lstm": 4, "gru": 3, "gru-slide": 3}[cell]
    x = (scale * rng.standard_normal((B, I))).astype(dtype)
    h = np.tanh(rng.standard_normal((B, H))).astype(dtype)
    W = {"weight_ih": rng.standard_normal((G * H, I)).astype(dtype),
         "weight_hh": rng.standard_normal((G * H, H)).astype(dtype),
         "bias_ih": (scale * rng.standard_normal(G * H)).astype(dtype),
         "bias_hh": rng.standard_normal(G * H).astype(dtype)}
    dh = rng.standard_normal((B, H)).astype(dtype)
    with warnings.catch_warnings(), _no_overflow():
        warnings.simplefilter("error")
        if cell == "lstm":
            c = (scale * rng.standard_normal((B, H))).astype(dtype)
            (h1, c1), cache = cells.lstm_cell_forward(x, h, c, **W)
            grads = cells.lstm_cell_backward(dh, dh, cache)
            outs = [h1, c1]
        elif cell == "elman":
            h1, cache = cells.elman_cell_forward(x, h, **W)
            grads = cells.elman_cell_backward(dh, cache)
            outs = [h1]
        else:
            form = "slide" if cell == "gru-slide" else "torch"
            h1, cache = cells.gru_cell_forward(x, h, **W, form=form)
            grads = cells.gru_cell_backward(dh, cache)
            outs = [h1]
    for a in [*outs, *grads.values()]:
        assert np.isfinite(a).all()
        assert a.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(scale=extreme, seed=st.integers(0, 2**16), weighted=st.booleans())
@settings(max_examples=25)
def test_losses_finite_at_extreme_logits(dtype, scale, seed, weighted):
    rng = np.random.default_rng(seed)
    logits = (scale * rng.standard_normal((5, 4))).astype(dtype)
    y = rng.integers(0, 4, 5)
    w = rng.uniform(0.1, 2, 4).astype(dtype) if weighted else None
    targets = (y + 1) % 4  # 0 is the mask: some positions are left out ...
    targets[0] = max(targets[0], 1)  # ... but not all (all masked is nan, as torch)
    with warnings.catch_warnings(), _no_overflow():
        warnings.simplefilter("error")
        loss, cache = cross_entropy(logits, y, weight=w)
        d = cross_entropy_backward(1.0, cache)
        sloss, scache = sequence_cross_entropy(logits[None], targets[None])
        sd = sequence_cross_entropy_backward(1.0, scache)
    assert np.isfinite(loss) and np.isfinite(d).all()
    assert np.isfinite(sloss) and np.isfinite(sd).all()


# -- training faults --------------------------------------------------------------
def test_non_finite_loss_stops_with_epoch_and_step(tmp_path, monkeypatch):
    csv = synthetic_csv(tmp_path)
    out = tmp_path / "run"
    classify.train(data=str(csv), out=out, hidden=4, embedding=4, epochs=2, batch_size=8,
                   progress=False)
    before = load_checkpoint(out / "last.npz")

    calls = {"n": 0}
    real = classify.ClassificationTask.loss_and_grad

    def poisoned(self, logits, y):  # the 2nd training step of the new run diverges
        calls["n"] += 1
        loss, d = real(self, logits, y)
        return (float("nan") if calls["n"] == 2 else loss), d

    monkeypatch.setattr(classify.ClassificationTask, "loss_and_grad", poisoned)
    with pytest.raises(TrainingError, match=r"epoch 3, step 2"):
        classify.train(data=str(csv), out=out, hidden=4, embedding=4, epochs=4, batch_size=8,
                       progress=False, resume=True)
    after = load_checkpoint(out / "last.npz")  # the last good checkpoint is intact
    assert after.epoch == before.epoch == 2
    for k, v in before.model_state.items():
        np.testing.assert_array_equal(after.model_state[k], v)


def test_ctrl_c_saves_a_checkpoint_and_exits_cleanly(tmp_path):
    csv = synthetic_csv(tmp_path, n_train=400)
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "scratchrnn", "classify", "train", "--data", str(csv),
           "--out", str(out), "--epochs", "100000", "--early-stopping", "100000",
           "--hidden", "8", "--embedding", "8", "--batch-size", "8", "--no-progress"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 120
        while not (out / "last.npz").exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "training never finished an epoch"
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    lines = [ln for ln in err.splitlines()  # the run's own log: epoch lines, the data note
             if ln and not ln.startswith(("epoch ", "data: "))]
    assert len(lines) == 1 and "interrupted" in lines[0] and "--resume" in lines[0], err
    assert "Traceback" not in err
    assert load_checkpoint(out / "interrupted.npz", kind="classifier").model_state
    assert load_checkpoint(out / "last.npz", kind="classifier").epoch >= 1


def test_generation_resume_equals_uninterrupted(tmp_path):
    csv = synthetic_csv(tmp_path)
    kw = dict(data=str(csv), hidden=6, embedding=5, batch_size=8, progress=False,
              conditioned=True, early_stopping=100)
    straight = generate.train(out=tmp_path / "a", epochs=4, **kw)
    generate.train(out=tmp_path / "b", epochs=2, **kw)
    resumed = generate.train(out=tmp_path / "b", epochs=4, resume=True, **kw)
    a = load_checkpoint(tmp_path / "a" / "last.npz").model_state
    b = load_checkpoint(tmp_path / "b" / "last.npz").model_state
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert straight["test_loss"] == resumed["test_loss"]


# -- data input -------------------------------------------------------------------
@given(st.binary(max_size=300))
@settings(max_examples=60)
def test_csv_loader_fuzz_never_crashes(tmp_path_factory, raw):
    """Arbitrary bytes: either records or a DataError naming the file, never anything else."""
    path = tmp_path_factory.mktemp("fuzz") / "surnames_with_splits.csv"
    path.write_bytes(raw)
    try:
        records = load_surnames(path)
    except DataError as exc:
        assert str(path) in str(exc) or path.name in str(exc)
    else:
        assert all(r.surname.strip() and r.split in ("train", "val", "test") for r in records)


@given(st.lists(st.sampled_from(
    ["nationality,split,surname", "Czech,train,Novák", "German,val,Koch", "x,test,",
     "Polish,dev,Nowak", "\ufeff", "a,b", ",,,", "Czech,train,\"Dv\"\"o\"", "\r"]),
    min_size=0, max_size=6))
@settings(max_examples=60)
def test_csv_loader_fuzz_structured(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("fuzz") / "surnames_with_splits.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    try:
        load_surnames(path)
    except DataError as exc:
        assert "\n" not in str(exc).strip()
