"""Progress bars only on a terminal: logs redirected to a file keep the epoch lines only."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scratchrnn import train as train_mod
from scratchrnn.cli import build_parser
from tests.conftest import write_synthetic_csv

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ["classify", "train", "--epochs", "2", "--hidden", "4", "--embedding", "4",
         "--batch-size", "8"]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _is_bar(obj) -> bool:
    return type(obj).__name__ != "_Quiet"


@pytest.mark.parametrize("enabled, tty, bar", [
    (None, False, False), (None, True, True),  # auto: only on a terminal
    (True, False, True), (False, True, False),  # --progress / --no-progress
])
def test_progress_follows_the_terminal_unless_forced(monkeypatch, enabled, tty, bar):
    pytest.importorskip("tqdm")
    monkeypatch.setattr(sys, "stderr", _Terminal() if tty else io.StringIO())
    obj = train_mod._progress(3, "epoch 1", enabled)
    try:
        assert _is_bar(obj) is bar
    finally:
        obj.close()


def test_progress_flags():
    parse = build_parser().parse_args
    assert parse(TRAIN).progress is None
    assert parse([*TRAIN, "--progress"]).progress is True
    assert parse([*TRAIN, "--no-progress"]).progress is False
    with pytest.raises(SystemExit) as info:
        parse([*TRAIN, "--progress", "--no-progress"])
    assert info.value.code == 2


def _train_stderr(tmp_path: Path, *extra: str) -> str:
    data = write_synthetic_csv(tmp_path / "s.csv")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "scratchrnn", *TRAIN, "--data", str(data),
         "--out", str(tmp_path / f"out{len(extra)}"), *extra],
        capture_output=True, env=env, timeout=120)  # bytes: text mode would turn \r into \n
    assert proc.returncode == 0, proc.stderr
    return proc.stderr.decode()


def test_redirected_stderr_has_epoch_lines_and_no_bar(tmp_path):
    pytest.importorskip("tqdm")
    quiet = _train_stderr(tmp_path)
    assert "\r" not in quiet
    assert len([line for line in quiet.splitlines() if "epoch" in line]) == 2, quiet
    forced = _train_stderr(tmp_path, "--progress")
    assert "\r" in forced  # the same run with --progress draws bars
