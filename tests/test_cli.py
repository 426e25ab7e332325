"""``python -m scratchrnn classify``: train and predict, and one line + exit 2 for mistakes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scratchrnn import classify
from scratchrnn.cli import main
from tests.conftest import TINY, needs_torch, write_synthetic_csv
from tests.conftest import run_cli as run

METRIC_KEYS = {"test_loss", "test_acc", "test_balanced_acc", "epochs", "seconds_per_epoch"}


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_synthetic_csv(tmp_path_factory.mktemp("data") / "surnames.csv")


@pytest.fixture(scope="module")
def model_dir(data, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("model")
    classify.train(data=str(data), out=str(out), hidden=4, embedding=4, epochs=1, batch_size=8,
                   progress=False, log=lambda msg: None)
    return out


def run_capsys(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_user_error(code: int, err: str) -> str:
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and err.endswith("\n"), err
    return lines[0]


# ---------------------------------------------------------------------------
# the happy paths
# ---------------------------------------------------------------------------
def test_classify_train_json(data, tmp_path, capsys):
    code, out, err = run_capsys(["classify", "train", "--data", str(data), "--out",
                                 str(tmp_path), "--epochs", "2", *TINY, "--json"], capsys)
    assert code == 0, err
    assert "Traceback" not in err
    lines = out.strip().splitlines()
    metrics = json.loads(lines[-1])
    assert METRIC_KEYS <= set(metrics)
    assert metrics["epochs"] == 2 and metrics["config"]["hidden"] == 4
    assert "test loss" in out and "per-class recall" in out
    on_disk = json.loads((tmp_path / "metrics.json").read_text())
    assert on_disk["test_loss"] == pytest.approx(metrics["test_loss"])
    assert (tmp_path / "model.npz").is_file() and (tmp_path / "last.npz").is_file()
    assert sum(line.startswith("epoch") for line in err.splitlines()) == 2  # the log


def test_classify_train_resume_flag(data, tmp_path, capsys):
    base = ["classify", "train", "--data", str(data), "--out", str(tmp_path), *TINY, "--json"]
    assert run_capsys([*base, "--epochs", "1"], capsys)[0] == 0
    code, out, err = run_capsys([*base, "--epochs", "2", "--resume"], capsys)
    assert code == 0, err
    assert json.loads(out.strip().splitlines()[-1])["epochs"] == 2
    assert sum(line.startswith("epoch") for line in err.splitlines()) == 1  # only epoch 2


def test_classify_predict(model_dir, capsys):
    code, out, err = run_capsys(["classify", "predict", "--model", str(model_dir), "Smith",
                                 "Nakamoto", "--topk", "2"], capsys)
    assert code == 0, err
    assert err == ""
    lines = out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("Smith: ") and lines[1].startswith("Nakamoto: ")
    assert lines[0].count("%") == 2


def test_classify_predict_json(model_dir, capsys):
    code, out, _ = run_capsys(["classify", "predict", "--model", str(model_dir), "Ivanov",
                               "--json"], capsys)
    assert code == 0
    [r] = json.loads(out.strip().splitlines()[-1])
    assert r["surname"] == "Ivanov" and len(r["predictions"]) == 3
    assert sum(p["probability"] for p in r["predictions"]) == pytest.approx(1.0)


# ---------------------------------------------------------------------------
# user mistakes: exit 2, exactly one line on stderr, no traceback
# ---------------------------------------------------------------------------
def test_predict_missing_model_dir(tmp_path, capsys):
    missing = tmp_path / "no-such-run"
    code, out, err = run_capsys(["classify", "predict", "--model", str(missing), "Smith"],
                                capsys)
    line = assert_user_error(code, err)
    assert "no-such-run" in line
    assert out == ""


def test_predict_without_model_flag(capsys):
    line = assert_user_error(*run_capsys(["classify", "predict", "Smith"], capsys)[::2])
    assert "--model" in line


def test_train_missing_data_file(tmp_path, capsys):
    code, _, err = run_capsys(["classify", "train", "--data", str(tmp_path / "nope.csv"),
                               "--out", str(tmp_path / "o"), *TINY], capsys)
    line = assert_user_error(code, err)
    assert "data/README.md" in line and "nope.csv" in line


@pytest.mark.parametrize(("argv", "needle"), [
    (["classify", "train", "--epochs", "0"], "--epochs"),
    (["classify", "train", "--cell", "foo"], "--cell"),
    (["classify", "train", "--lr", "nan"], "--lr"),
    (["classify", "train", "--hidden", "-3"], "--hidden"),
    (["classify", "predict", "--model", "x", "Smith", "--topk", "0"], "--topk"),
    (["classify", "predict", "--model", "x", "Smith", "--topk", "two"], "--topk"),
    (["classify", "frobnicate"], "frobnicate"),
    (["frobnicate"], "frobnicate"),
    (["classify"], "command"),
    ([], "lab"),
    (["classify", "train", "--bogus"], "--bogus"),
])
def test_argument_errors(argv, needle, capsys):
    code, out, err = run_capsys(argv, capsys)
    line = assert_user_error(code, err)
    assert needle in line
    assert out == ""


def test_value_errors_inside_training(data, tmp_path, capsys):
    base = ["classify", "train", "--data", str(data), "--out", str(tmp_path), *TINY]
    line = assert_user_error(*run_capsys([*base, "--dropout", "2"], capsys)[::2])
    assert "dropout" in line
    line = assert_user_error(*run_capsys([*base, "--batch-size", "100"], capsys)[::2])
    assert "batch_size" in line
    line = assert_user_error(*run_capsys([*base, "--resume"], capsys)[::2])
    assert "last.npz" in line


def test_predict_empty_surname(model_dir, capsys):
    line = assert_user_error(*run_capsys(
        ["classify", "predict", "--model", str(model_dir), "  "], capsys)[::2])
    assert "empty" in line


def test_predict_model_is_not_a_checkpoint(data, capsys):
    assert_user_error(*run_capsys(["classify", "predict", "--model", str(data), "Smith"],
                                  capsys)[::2])


def test_help_exits_zero(capsys):
    code, out, err = run_capsys(["classify", "train", "-h"], capsys)
    assert code == 0 and "--epochs" in out and err == ""


def test_train_out_is_an_existing_file(data, tmp_path, capsys):
    target = tmp_path / "taken"
    target.write_text("not a directory")
    code, _, err = run_capsys(["classify", "train", "--data", str(data), "--out", str(target),
                               "--epochs", "1", *TINY], capsys)
    assert_user_error(code, err)


@needs_torch
def test_train_torch_bad_device(data, tmp_path, capsys):
    code, _, err = run_capsys(["classify", "train", "--data", str(data), "--out", str(tmp_path),
                               "--epochs", "1", "--backend", "torch", "--device", "foo", *TINY],
                              capsys)
    assert_user_error(code, err)


# ---------------------------------------------------------------------------
# fuzz: any argv from a small alphabet ends in exit 0 or 2, never a traceback
# ---------------------------------------------------------------------------
PREDICT_TOKENS = ["--model", "MODEL", "/no/such/dir", "--topk", "0", "1", "3", "99", "x",
                  "-1", "--json", "Smith", "O'Neil", "Ñoño", "漢", "", " ", "--bogus", "-h",
                  "--model=MODEL", "--topk=2"]
TRAIN_OPTIONS = {  # each flag with good and bad values
    "--cell": ["gru", "lstm", "elman", "foo"], "--epochs": ["1", "2", "0", "-1", "x"],
    "--layers": ["1", "2", "0"], "--dropout": ["0", "0.3", "2", "nan", "-0.5"],
    "--lr": ["0.01", "1e-4", "0", "inf"], "--batch-size": ["4", "8", "100", "0"],
    "--clip": ["1.0", "0", "-2"], "--seed": ["0", "3", "-1", "x"],
    "--data": ["/no/such.csv", "DATA"], "--early-stopping": ["1", "0"],
    "--embedding": ["1", "3", "0"], "--hidden": ["1", "3", "0"], "--device": ["cpu", "cuda"],
    "--backend": ["numpy", "tensorflow"],
}
TRAIN_FLAGS = ["--bidirectional", "--no-class-weights", "--json", "--resume"]
TRAIN_GARBAGE = ["--bogus", "extra", "--epochs", "--cell", "-x"]
train_args = st.one_of(
    st.sampled_from(sorted(TRAIN_OPTIONS)).flatmap(
        lambda flag: st.sampled_from(TRAIN_OPTIONS[flag]).map(lambda v: [flag, v])),
    st.sampled_from(TRAIN_FLAGS).map(lambda f: [f]),
    st.sampled_from(TRAIN_GARBAGE).map(lambda f: [f]),
)


@given(st.lists(st.sampled_from(PREDICT_TOKENS), max_size=8))
def test_fuzz_classify_predict(model_dir, tokens):
    argv = ["classify", "predict", *(t.replace("MODEL", str(model_dir)) for t in tokens)]
    code, out, err = run(argv)
    assert code in (0, 2), (argv, err)
    assert "Traceback" not in err
    if code == 2:
        assert len(err.splitlines()) == 1, (argv, err)


@given(groups=st.lists(train_args, max_size=5), out_name=st.sampled_from(["a", "b"]))
def test_fuzz_classify_train(data, tmp_path_factory, groups, out_name):
    out = tmp_path_factory.getbasetemp() / "fuzz-train" / out_name
    tokens = [t.replace("DATA", str(data)) for group in groups for t in group]
    # the tiny set-up first; the drawn options may override any of it (later flags win)
    argv = ["classify", "train", "--data", str(data), "--out", str(out), "--epochs", "1", *TINY,
            *tokens]
    code, stdout, err = run(argv)
    assert code in (0, 2), (argv, err)
    assert "Traceback" not in err
    if code == 2:
        assert len(err.splitlines()) == 1, (argv, err)
    else:
        assert "test loss" in stdout
