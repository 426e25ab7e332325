"""Family 3: divergence is exit 1 with the epoch and the step, never a user mistake.

Non-finite parameters after an update (an Adam step that overflows float32), or a
non-finite validation output or loss, stop training with exit 1 and a message
naming the epoch and step; the last good checkpoint stays intact and loadable.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scratchrnn import backend as numpy_backend
from scratchrnn import train as train_module
from scratchrnn.checkpoint import load_checkpoint

from .kit import TINY, assert_one_line, copy_run, one_epoch_classifier, run, run_process

PROBE = settings(suppress_health_check=list(HealthCheck), deadline=None, max_examples=6)
STEPS_PER_EPOCH = 3  # 24 train rows, batch size 8


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return one_epoch_classifier(tmp_path_factory)


def resume_argv(base, out):
    return ["classify", "train", "--data", str(base["csv"]), "--out", str(out), "--epochs", "3",
            "--resume", *TINY]


def assert_kept(out, before: bytes) -> None:
    assert (out / "last.npz").read_bytes() == before
    assert load_checkpoint(out / "last.npz", kind="classifier").epoch == 1


@PROBE
@given(step=st.integers(1, 2 * STEPS_PER_EPOCH), value=st.sampled_from([np.inf, -np.inf, np.nan]))
def test_update_that_makes_parameters_non_finite(base, tmp_path_factory, monkeypatch, step,
                                                 value):
    out = copy_run(base["run"], tmp_path_factory.mktemp("d") / "c")
    before = (out / "last.npz").read_bytes()
    real = numpy_backend.NumpyBackend.train_step
    calls = {"n": 0}

    def overflowing(self, batch):
        loss, logits = real(self, batch)
        calls["n"] += 1
        if calls["n"] == step:  # as an Adam step that overflows float32 would
            next(p for _, p, _ in self.model.named_parameters())[...] = value
        return loss, logits

    with monkeypatch.context() as m:
        m.setattr(numpy_backend.NumpyBackend, "train_step", overflowing)
        rc, _, err = run(resume_argv(base, out))
    epoch, within = 2 + (step - 1) // STEPS_PER_EPOCH, (step - 1) % STEPS_PER_EPOCH + 1
    line = assert_one_line(rc, err, 1, "non-finite parameters", f"epoch {epoch}, step {within}")
    assert "last.npz" in line
    if epoch == 2:
        assert_kept(out, before)
    load_checkpoint(out / "model.npz", kind="classifier")


@pytest.mark.parametrize("what", ["nan-logits", "inf-loss"])
def test_non_finite_validation_is_divergence(base, tmp_path, monkeypatch, what):
    out = copy_run(base["run"], tmp_path / "c")
    before = (out / "last.npz").read_bytes()
    if what == "nan-logits":
        real = numpy_backend.NumpyBackend.predict

        def predict(self, batch):
            logits = real(self, batch)
            return np.full_like(logits, np.nan)

        monkeypatch.setattr(numpy_backend.NumpyBackend, "predict", predict)
    else:
        from scratchrnn import classify

        real = classify.ClassificationTask.metrics

        def metrics(self, logits, y):
            return dict(real(self, logits, y), loss=float("inf"))

        monkeypatch.setattr(classify.ClassificationTask, "metrics", metrics)
    rc, _, err = run(resume_argv(base, out))
    assert_one_line(rc, err, 1, "val", "epoch 2", f"step {STEPS_PER_EPOCH}")
    assert_kept(out, before)


@pytest.mark.parametrize("lr", ["1e20", "1e38", "1e300"])
def test_huge_lr_is_divergence_not_a_user_mistake(base, tmp_path, lr):
    """The issue's case: the Adam update overflows float32; exit 1 naming epoch and step."""
    rc, _, err = run(["classify", "train", "--data", str(base["csv"]), "--out",
                      str(tmp_path / "c"), "--epochs", "3", "--lr", lr, *TINY])
    assert_one_line(rc, err, 1, "non-finite", "epoch 1, step")


def test_huge_lr_in_a_real_process_prints_one_line(base, tmp_path):
    """No RuntimeWarning lines from the overflowing update: the one line says it all."""
    proc = run_process(["classify", "train", "--data", str(base["csv"]), "--out",
                        str(tmp_path / "c"), "--epochs", "3", "--lr", "1e38", *TINY])
    assert_one_line(proc.returncode, proc.stderr, 1, "non-finite", "epoch 1, step")


def test_trainer_checks_parameters_of_a_backend_without_the_method():
    class Bare:
        def model_state(self):
            return {"w": np.array([1.0, np.inf])}

    assert not train_module._parameters_finite(Bare())
