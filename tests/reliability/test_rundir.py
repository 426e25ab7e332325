"""Family 5: a run directory is owned; --resume refuses what does not match.

A lock while training (a second run into the same --out: one line, exit 2; two real
processes), a kind and a fingerprint of data + config in the run's record; another
kind or config needs --overwrite; --resume refuses other data (same rows, another
order) or another config, naming what differs; only the epoch budget may change.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scratchrnn.checkpoint import load_checkpoint
from scratchrnn.rundir import (
    LOCK_FILE,
    RUN_FILE,
    RunDir,
    RunDirError,
    check_resume,
    config_fingerprint,
)

from .kit import (
    REPO,
    TINY,
    assert_user_error,
    copy_run,
    run,
    synthetic_csv,
    synthetic_rows,
    write_csv,
)

PROBE = settings(suppress_health_check=list(HealthCheck), deadline=None, max_examples=10)


def train_argv(lab: str, csv: Path, out: Path, *extra: str) -> list[str]:
    return [lab, "train", "--data", str(csv), "--out", str(out), "--epochs", "1", *TINY, *extra]


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("base")
    csv = synthetic_csv(root)
    for lab in ("classify", "generate"):
        rc, _, err = run(train_argv(lab, csv, root / lab))
        assert rc == 0, err
    return {"root": root, "csv": csv, "classify": root / "classify",
            "generate": root / "generate"}


def test_run_record_holds_kind_data_and_config(base):
    record = json.loads((base["classify"] / RUN_FILE).read_text())
    assert record["kind"] == "classifier" and record["data"].startswith("sha256:")
    assert record["config"]["lr"] == 0.001 and "epochs" not in record["config"]
    extra = load_checkpoint(base["classify"] / "last.npz").extra
    assert extra["run"] == record
    assert not (base["classify"] / LOCK_FILE).exists()  # released


def test_classify_over_a_generator_run_needs_overwrite(base, tmp_path):
    out = copy_run(base["generate"], tmp_path / "g")
    before = (out / "model.npz").read_bytes()
    rc, _, err = run(train_argv("classify", base["csv"], out))
    assert_user_error(rc, err, "generator run", "--overwrite")
    assert (out / "model.npz").read_bytes() == before
    rc, _, err = run(train_argv("classify", base["csv"], out, "--overwrite"))
    assert rc == 0, err
    assert load_checkpoint(out / "model.npz").kind == "classifier"


@PROBE
@given(flag=st.sampled_from([("--lr", "0.01"), ("--hidden", "5"), ("--seed", "3"),
                             ("--dropout", "0.25"), ("--batch-size", "4"), ("--cell", "gru"),
                             ("--clip", "1.0"), ("--layers", "2")]))
def test_fresh_run_with_another_config_needs_overwrite(base, tmp_path_factory, flag):
    out = copy_run(base["classify"], tmp_path_factory.mktemp("c") / "c")
    before = (out / "model.npz").read_bytes()
    rc, _, err = run(train_argv("classify", base["csv"], out, *flag))
    assert_user_error(rc, err, "another config", flag[0].lstrip("-").replace("-", "_"))
    assert (out / "model.npz").read_bytes() == before


@PROBE
@given(flag=st.sampled_from([("--lr", "0.01"), ("--hidden", "5"), ("--seed", "3"),
                             ("--dropout", "0.25"), ("--batch-size", "4"), ("--cell", "gru")]))
def test_resume_with_another_config_is_refused(base, tmp_path_factory, flag):
    out = copy_run(base["classify"], tmp_path_factory.mktemp("c") / "c")
    before = (out / "last.npz").read_bytes()
    rc, _, err = run(train_argv("classify", base["csv"], out, "--resume", "--epochs", "2",
                                *flag))
    assert_user_error(rc, err, "cannot resume", flag[0].lstrip("-").replace("-", "_"))
    assert (out / "last.npz").read_bytes() == before


def test_resume_with_the_same_rows_in_another_order_is_refused(base, tmp_path):
    out = copy_run(base["classify"], tmp_path / "c")
    rows = synthetic_rows()
    shuffled = write_csv(tmp_path / "other.csv", rows[::-1])
    rc, _, err = run(train_argv("classify", shuffled, out, "--resume", "--epochs", "2"))
    assert_user_error(rc, err, "cannot resume", "data differ")


def test_resume_with_a_larger_epoch_budget_is_fine(base, tmp_path):
    out = copy_run(base["classify"], tmp_path / "c")
    rc, _, err = run(train_argv("classify", base["csv"], out, "--resume", "--epochs", "2"))
    assert rc == 0, err
    assert load_checkpoint(out / "last.npz").epoch == 2


def test_same_config_again_is_fine_and_other_files_survive(base, tmp_path):
    out = copy_run(base["classify"], tmp_path / "c")
    (out / "notes.txt").write_text("mine")
    rc, _, err = run(train_argv("classify", base["csv"], out))
    assert rc == 0, err
    rc, _, err = run(train_argv("classify", base["csv"], out, "--lr", "0.01", "--overwrite"))
    assert rc == 0, err
    assert (out / "notes.txt").read_text() == "mine"


def test_files_of_a_run_without_record_need_overwrite(base, tmp_path):
    out = copy_run(base["classify"], tmp_path / "c")
    (out / RUN_FILE).unlink()
    rc, _, err = run(train_argv("classify", base["csv"], out))
    assert_user_error(rc, err, "--overwrite")


@pytest.mark.parametrize("out", ["", " "])
def test_empty_out_is_refused(base, out, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, _, err = run(train_argv("classify", base["csv"], Path("x"))[:4] + ["--out", out, *TINY])
    assert_user_error(rc, err, "--out")
    assert list(tmp_path.iterdir()) == []


def test_a_held_lock_refuses_a_second_run(base, tmp_path):
    out = tmp_path / "busy"
    holder = RunDir(out, kind="classifier", data="sha256:x", config={}).open()
    try:
        rc, _, err = run(train_argv("classify", base["csv"], out))
        assert_user_error(rc, err, "in use", str(os.getpid()))
    finally:
        holder.close()
    rc, _, err = run(train_argv("classify", base["csv"], out, "--overwrite"))
    assert rc == 0, err


def test_two_real_processes_into_one_out(base, tmp_path):
    """Two trainings started together: one trains, the other gets one line and exit 2."""
    csv = synthetic_csv(tmp_path, n_train=200)
    out = tmp_path / "shared"
    argv = [sys.executable, "-m", "scratchrnn", *train_argv("classify", csv, out)]
    argv[argv.index("--epochs") + 1] = "3"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    procs = [subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = []
    try:
        for p in procs:
            _, err = p.communicate(timeout=180)
            results.append((p.returncode, err))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    codes = sorted(rc for rc, _ in results)
    if codes == [0, 0]:  # the first finished before the second started: both fine, in turn
        pytest.skip("the runs did not overlap on this machine")
    assert codes == [0, 2], results
    loser = next(err for rc, err in results if rc == 2)
    assert_user_error(2, loser, "in use")
    assert load_checkpoint(out / "model.npz", kind="classifier").epoch >= 1
    assert load_checkpoint(out / "last.npz", kind="classifier").epoch == 3


def test_stale_lock_of_a_killed_run_does_not_block(base, tmp_path):
    out = tmp_path / "stale"
    code = ("import sys, time; from scratchrnn.rundir import RunDir; "
            f"RunDir({str(out)!r}, kind='classifier', data='d', config={{}}).open(); "
            "print('locked', flush=True); time.sleep(60)")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    p = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "locked"
        rc, _, err = run(train_argv("classify", base["csv"], out))
        assert_user_error(rc, err, "in use", str(p.pid))
    finally:
        p.kill()
        p.wait(timeout=30)
    assert (out / LOCK_FILE).exists()  # kill -9 left it behind; the kernel dropped the lock
    deadline = time.monotonic() + 10
    while True:
        rc, _, err = run(train_argv("classify", base["csv"], out, "--overwrite"))
        if rc == 0 or time.monotonic() > deadline:
            break
    assert rc == 0, err


# -- units ------------------------------------------------------------------------------
def test_check_resume_names_each_difference():
    saved = {"kind": "classifier", "data": "sha256:a",
             "config": config_fingerprint({"lr": 0.001, "hidden": 4, "epochs": 3})}
    check_resume("x", saved, kind="classifier", data="sha256:a",
                 config=config_fingerprint({"lr": 0.001, "hidden": 4, "epochs": 9}))
    with pytest.raises(RunDirError, match=r"lr 0.001 -> 0.01.*hidden 4 -> 8|hidden.*lr"):
        check_resume("x", saved, kind="classifier", data="sha256:a",
                     config=config_fingerprint({"lr": 0.01, "hidden": 8}))
    with pytest.raises(RunDirError, match="data differ"):
        check_resume("x", saved, kind="classifier", data="sha256:b", config=saved["config"])
    with pytest.raises(RunDirError, match="no record"):
        check_resume("x", None, kind="classifier", data="sha256:a", config={})
