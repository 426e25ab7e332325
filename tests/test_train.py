"""Lab 1 end to end on a tiny synthetic CSV: files, determinism, early stopping, the best
checkpoint, resume, the torch backend, predict, and the classification metrics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import scratchrnn.train as train_module
from scratchrnn import classify
from scratchrnn.checkpoint import load_checkpoint
from scratchrnn.cli import backend_factory
from scratchrnn.metrics import classification_report, confusion_matrix, per_class_recall
from scratchrnn.train import TrainingError
from tests.conftest import LETTERS, needs_torch, write_synthetic_csv

METRIC_KEYS = {"test_loss", "test_acc", "test_balanced_acc", "epochs", "seconds_per_epoch"}
TIMING_KEYS = {"seconds_per_epoch"}  # the only entries that may differ between equal runs


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_synthetic_csv(tmp_path_factory.mktemp("data") / "surnames.csv")


def tiny_train(data: Path, out: Path, **kw) -> dict:
    args = dict(data=str(data), out=str(out), hidden=8, embedding=8, epochs=3, batch_size=8,
                progress=False, log=lambda msg: None)
    args.update(kw)
    backend = args.get("backend", "numpy")
    args["make_backend"] = backend_factory(backend, seed=args.get("seed", 1337))
    return classify.train(**args)


def params_of(path: Path) -> dict[str, np.ndarray]:
    return load_checkpoint(path).model_state


def assert_same_params(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]), k


def without_timing(metrics: dict) -> dict:
    """The metrics but the timing, and the config but where it went and whether it resumed."""
    out = {k: v for k, v in metrics.items() if k not in TIMING_KEYS}
    out["config"] = {k: v for k, v in out["config"].items() if k not in ("out", "resume")}
    return out


@pytest.fixture(scope="module")
def trained(data, tmp_path_factory):
    """(metrics, out dir) of one 3-epoch NumPy run, shared by the read-only tests."""
    out = tmp_path_factory.mktemp("run")
    return tiny_train(data, out), out


# ---------------------------------------------------------------------------
# files and determinism
# ---------------------------------------------------------------------------
def test_train_writes_checkpoints_and_metrics(trained):
    metrics, out = trained
    for name in ("model.npz", "last.npz", "metrics.json"):
        assert (out / name).is_file(), name
    on_disk = json.loads((out / "metrics.json").read_text())
    assert METRIC_KEYS <= set(on_disk)
    assert METRIC_KEYS <= set(metrics)
    for k in METRIC_KEYS:
        assert on_disk[k] == pytest.approx(metrics[k]), k
    assert metrics["epochs"] == 3
    assert 1 <= metrics["best_epoch"] <= 3
    assert np.isfinite(metrics["test_loss"]) and metrics["test_loss"] > 0
    assert 0 <= metrics["test_acc"] <= 100 and 0 <= metrics["test_balanced_acc"] <= 100
    assert metrics["seconds_per_epoch"] >= 0
    assert sorted(metrics["nationalities"]) == sorted(LETTERS)
    cm = np.array(metrics["confusion_matrix"])
    assert cm.shape == (3, 3) and cm.sum() == 10  # every test row, nothing dropped
    assert metrics["test_acc"] == pytest.approx(100 * np.trace(cm) / cm.sum())
    assert load_checkpoint(out / "last.npz").epoch == 3
    assert load_checkpoint(out / "model.npz").epoch == metrics["best_epoch"]


def test_train_is_deterministic_for_a_seed(data, trained, tmp_path):
    metrics, out = trained
    again = tiny_train(data, tmp_path)
    assert without_timing(again) == without_timing(metrics)
    assert_same_params(params_of(tmp_path / "model.npz"), params_of(out / "model.npz"))
    assert_same_params(params_of(tmp_path / "last.npz"), params_of(out / "last.npz"))


def test_another_seed_gives_another_model(data, trained, tmp_path):
    _, out = trained
    tiny_train(data, tmp_path, seed=7)
    a, b = params_of(tmp_path / "last.npz"), params_of(out / "last.npz")
    assert any(not np.array_equal(a[k], b[k]) for k in a)


# ---------------------------------------------------------------------------
# early stopping and the best checkpoint (validation loss scripted by a patched evaluate)
# ---------------------------------------------------------------------------
REAL_EVALUATE = train_module.evaluate


def script_val_losses(monkeypatch, losses):
    """Make the trainer see ``losses`` as the validation loss of epochs 1, 2, …"""
    real = REAL_EVALUATE
    seen = []

    def fake(backend, dataset, split, task, *args, **kwargs):
        result = real(backend, dataset, split, task, *args, **kwargs)
        if split == "val":
            result["loss"] = float(losses[len(seen)])
            seen.append(result["loss"])
        return result

    monkeypatch.setattr(train_module, "evaluate", fake)
    return seen


def test_early_stopping_stops_after_patience(data, tmp_path, monkeypatch):
    seen = script_val_losses(monkeypatch, [5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0])
    metrics = tiny_train(data, tmp_path, epochs=8, early_stopping=2)
    assert metrics["epochs"] == 3  # epoch 1 is best, 2 and 3 are no better: stop
    assert metrics["best_epoch"] == 1
    assert seen == [5.0, 6.0, 7.0]
    last = load_checkpoint(tmp_path / "last.npz")
    assert last.extra["train_state"]["stopped_early"] is True
    assert last.epoch == 3


def test_no_early_stop_while_improving(data, tmp_path, monkeypatch):
    script_val_losses(monkeypatch, [5.0, 4.0, 3.0, 2.0])
    metrics = tiny_train(data, tmp_path, epochs=4, early_stopping=1)
    assert metrics["epochs"] == 4 and metrics["best_epoch"] == 4


def test_best_checkpoint_is_restored(data, tmp_path, monkeypatch):
    """Best at epoch 2 of 5: model.npz and the test metrics are those of epoch 2's weights."""
    script_val_losses(monkeypatch, [3.0, 1.0, 2.0, 4.0, 5.0])
    long_run = tiny_train(data, tmp_path / "long", epochs=5, early_stopping=10)
    assert long_run["epochs"] == 5 and long_run["best_epoch"] == 2
    assert long_run["best_val_loss"] == 1.0

    script_val_losses(monkeypatch, [3.0, 1.0])
    short_run = tiny_train(data, tmp_path / "short", epochs=2, early_stopping=10)
    epoch2 = params_of(tmp_path / "short" / "last.npz")
    assert_same_params(params_of(tmp_path / "long" / "model.npz"), epoch2)
    last = params_of(tmp_path / "long" / "last.npz")
    assert any(not np.array_equal(last[k], epoch2[k]) for k in last)  # it did move on
    # the test split was evaluated with the restored (epoch-2) weights
    assert long_run["test_loss"] == short_run["test_loss"]
    assert long_run["confusion_matrix"] == short_run["confusion_matrix"]
    # and load_model gives that model
    model, _, _ = classify.load_model(tmp_path / "long")
    assert_same_params(model.state_dict(), epoch2)


# ---------------------------------------------------------------------------
# resume: 2 epochs + resume to 4 == 4 epochs straight
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["numpy", pytest.param("torch", marks=needs_torch)])
def test_resume_equals_uninterrupted_run(data, tmp_path, backend):
    straight = tiny_train(data, tmp_path / "a", epochs=4, backend=backend)
    tiny_train(data, tmp_path / "b", epochs=2, backend=backend)
    assert load_checkpoint(tmp_path / "b" / "last.npz").epoch == 2
    resumed = tiny_train(data, tmp_path / "b", epochs=4, resume=True, backend=backend)
    assert without_timing(resumed) == without_timing(straight)
    for name in ("model.npz", "last.npz"):
        assert_same_params(params_of(tmp_path / "b" / name), params_of(tmp_path / "a" / name))
    a = load_checkpoint(tmp_path / "a" / "last.npz")
    b = load_checkpoint(tmp_path / "b" / "last.npz")
    assert a.optimizer_state["step"] == b.optimizer_state["step"]
    for k, v in a.optimizer_state["buffers"].items():
        assert np.array_equal(v, b.optimizer_state["buffers"][k]), k
    hist_a = [{k: v for k, v in r.items() if k != "seconds"}
              for r in a.extra["train_state"]["history"]]
    hist_b = [{k: v for k, v in r.items() if k != "seconds"}
              for r in b.extra["train_state"]["history"]]
    assert hist_a == hist_b


def test_resume_without_checkpoint_is_a_clear_error(data, tmp_path):
    with pytest.raises(ValueError, match="last.npz"):
        tiny_train(data, tmp_path, resume=True)


# ---------------------------------------------------------------------------
# divergence: a huge learning rate must stop as a TrainingError on both backends
# ---------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(("backend", "lr"), [
    pytest.param("numpy", 1e20),
    pytest.param("torch", 1e20, marks=needs_torch),
    pytest.param("torch", 1e38, marks=needs_torch),
])
def test_divergence_is_a_training_error(data, tmp_path, backend, lr):
    with pytest.raises(TrainingError, match="non-finite"):
        tiny_train(data, tmp_path, epochs=2, lr=lr, backend=backend)


# ---------------------------------------------------------------------------
# the torch backend
# ---------------------------------------------------------------------------
@needs_torch
def test_torch_backend_checkpoint_loads_into_numpy(data, tmp_path):
    metrics = tiny_train(data, tmp_path, epochs=2, backend="torch")
    assert metrics["config"]["backend"] == "torch" and metrics["epochs"] == 2
    assert METRIC_KEYS <= set(json.loads((tmp_path / "metrics.json").read_text()))
    model, vec, hp = classify.load_model(tmp_path)
    assert type(model).__name__ == "SurnameClassifier" and not model.training
    assert_same_params(model.state_dict(), params_of(tmp_path / "model.npz"))
    assert hp["config"]["hidden"] == 8
    [result] = classify.predict(tmp_path, ["Nakamoto"], topk=2)
    assert len(result["predictions"]) == 2
    assert {p["nationality"] for p in result["predictions"]} <= set(vec.nationalities)


@needs_torch
def test_torch_and_numpy_backends_start_from_the_same_weights(data, tmp_path):
    """Same seed → same initial model: one epoch with dropout 0 and no class weights agrees."""
    a = tiny_train(data, tmp_path / "np", epochs=1, dropout=0.0)
    b = tiny_train(data, tmp_path / "torch", epochs=1, dropout=0.0, backend="torch")
    pa, pb = params_of(tmp_path / "np" / "last.npz"), params_of(tmp_path / "torch" / "last.npz")
    for k in pa:  # float32 training: loose agreement
        np.testing.assert_allclose(pa[k], pb[k], rtol=1e-3, atol=1e-4, err_msg=k)
    assert a["test_loss"] == pytest.approx(b["test_loss"], rel=1e-3)


# ---------------------------------------------------------------------------
# predict
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("topk", [1, 2, 3, 10])
def test_predict_topk_sorted_probabilities(trained, topk):
    _, out = trained
    results = classify.predict(out, ["Smith", "Nakamoto", "ivanov"], topk=topk)
    assert [r["surname"] for r in results] == ["Smith", "Nakamoto", "ivanov"]
    for r in results:
        probs = [p["probability"] for p in r["predictions"]]
        assert len(probs) == min(topk, 3)
        assert probs == sorted(probs, reverse=True)
        assert all(0 <= p <= 1 for p in probs)
        assert sum(probs) <= 1 + 1e-9
        assert len({p["nationality"] for p in r["predictions"]}) == len(probs)
        if topk >= 3:
            assert sum(probs) == pytest.approx(1.0, abs=1e-9)


def test_predict_unknown_characters_are_fine(trained):
    _, out = trained
    with pytest.warns(UserWarning, match="read as <UNK>: .*'漢'"):
        [r] = classify.predict(out, ["Zß漢字-O'Neil"], topk=3)
    assert sum(p["probability"] for p in r["predictions"]) == pytest.approx(1.0)
    # all unknown characters → the same input as one of <UNK>s: still a valid prediction
    with pytest.warns(UserWarning, match="read as <UNK>: 'Ж'$"):
        [u] = classify.predict(out, ["ЖЖЖ"], topk=1)
    assert 0 < u["predictions"][0]["probability"] <= 1


def test_predict_strips_surrounding_spaces(trained):
    _, out = trained
    [a] = classify.predict(out, ["  Smith "], topk=3)
    [b] = classify.predict(out, ["Smith"], topk=3)
    assert a["predictions"] == b["predictions"]


@pytest.mark.parametrize("surname", ["", " ", "   \t"])
def test_predict_empty_surname_is_a_value_error(trained, surname):
    _, out = trained
    with pytest.raises(ValueError, match="empty"):
        classify.predict(out, [surname])


def test_predict_bad_topk_and_missing_model(trained, tmp_path):
    _, out = trained
    with pytest.raises(ValueError, match="topk"):
        classify.predict(out, ["Smith"], topk=0)
    with pytest.raises(ValueError):
        classify.predict(tmp_path / "nothing-here", ["Smith"])


def test_predict_is_deterministic(trained):
    _, out = trained
    assert classify.predict(out, ["Smith"], topk=3) == classify.predict(out, ["Smith"], topk=3)


# ---------------------------------------------------------------------------
# metrics
# ---------------------------------------------------------------------------
def test_confusion_matrix_and_report_by_hand():
    y_true = np.array([0, 0, 1, 1, 1, 2])
    y_pred = np.array([0, 1, 1, 1, 0, 2])
    cm = confusion_matrix(y_true, y_pred, 3)
    assert cm.tolist() == [[1, 1, 0], [1, 2, 0], [0, 0, 1]]
    rep = classification_report(y_true, y_pred, 3)
    assert rep["acc"] == pytest.approx(100 * 4 / 6)
    np.testing.assert_allclose(rep["per_class_recall"], [50.0, 200 / 3, 100.0])
    assert rep["balanced_acc"] == pytest.approx((50 + 200 / 3 + 100) / 3)


def test_balanced_accuracy_skips_absent_classes():
    rep = classification_report(np.array([0, 0, 2]), np.array([0, 1, 2]), 4)
    assert np.isnan(rep["per_class_recall"][1]) and np.isnan(rep["per_class_recall"][3])
    assert rep["balanced_acc"] == pytest.approx((50 + 100) / 2)


@st.composite
def labelled(draw, balanced=False):
    k = draw(st.integers(1, 5))
    if balanced:
        m = draw(st.integers(1, 6))
        y_true = np.repeat(np.arange(k), m)
    else:
        y_true = np.array(draw(st.lists(st.integers(0, k - 1), min_size=1, max_size=40)))
    y_pred = np.array(draw(st.lists(st.integers(0, k - 1), min_size=len(y_true),
                                    max_size=len(y_true))))
    return k, y_true, y_pred


@given(labelled(balanced=True))
def test_balanced_accuracy_equals_accuracy_for_balanced_classes(case):
    k, y_true, y_pred = case
    rep = classification_report(y_true, y_pred, k)
    assert rep["balanced_acc"] == pytest.approx(rep["acc"], abs=1e-9)


@given(labelled())
def test_confusion_matrix_properties(case):
    k, y_true, y_pred = case
    cm = confusion_matrix(y_true, y_pred, k)
    assert cm.shape == (k, k) and cm.dtype.kind == "i"
    assert cm.sum() == len(y_true)
    np.testing.assert_array_equal(cm.sum(axis=1), np.bincount(y_true, minlength=k))
    np.testing.assert_array_equal(cm.sum(axis=0), np.bincount(y_pred, minlength=k))
    assert np.trace(cm) == np.sum(y_true == y_pred)
    recall = per_class_recall(cm)
    present = ~np.isnan(recall)
    np.testing.assert_array_equal(present, np.bincount(y_true, minlength=k) > 0)
    assert np.all((recall[present] >= 0) & (recall[present] <= 100))
    rep = classification_report(y_true, y_pred, k)
    assert 0 <= rep["acc"] <= 100 and 0 <= rep["balanced_acc"] <= 100
    assert rep["acc"] == pytest.approx(100 * np.mean(y_true == y_pred))
    # perfect predictions score 100 on both
    perfect = classification_report(y_true, y_true, k)
    assert perfect["acc"] == 100 and perfect["balanced_acc"] == 100
