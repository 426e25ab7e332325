"""Shared helpers of the fault-injection tests: data, the CLI as a user runs it, tampering.

Every probe asserts what the issue asks of a fault: the exit status (2 for a user
mistake, 1 for divergence, 130 for Ctrl-C), one line on stderr, no traceback, and
the files on disk intact and loadable afterwards.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

# the synthetic CSVs are shared by all tests; the reliability tests take them from here
from tests.conftest import TINY, synthetic_csv, synthetic_rows, write_csv  # noqa: F401
from tests.conftest import run_cli as run

REPO = Path(__file__).resolve().parents[2]


def one_epoch_classifier(tmp_path_factory) -> dict[str, Path]:
    """A synthetic CSV and a classifier trained on it for one epoch, the CLI's way:
    ``{"csv": the CSV, "run": the run directory}`` (a module fixture's base to copy)."""
    root = tmp_path_factory.mktemp("base")
    csv = synthetic_csv(root)
    rc, _, err = run(["classify", "train", "--data", str(csv), "--out", str(root / "c"),
                      "--epochs", "1", *TINY])
    assert rc == 0, err
    return {"csv": csv, "run": root / "c"}


def run_process(args: list[str], timeout: float = 120, module: str = "scratchrnn",
                **kw: Any) -> subprocess.CompletedProcess:
    """``python -m MODULE ARGS`` as a real process, bounded in time."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", module, *args], cwd=kw.pop("cwd", REPO),
                          env=env, capture_output=True, text=True, timeout=timeout, **kw)


def message_lines(err: str) -> list[str]:
    """stderr without the per-epoch log lines and progress bars."""
    return [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("epoch ")]


def assert_one_line(rc: int, err: str, status: int, *fragments: str) -> str:
    """Exit ``status``, one message line on stderr containing ``fragments``, no traceback."""
    lines = message_lines(err)
    assert "Traceback" not in err, err
    assert rc == status, (rc, err)
    assert len(lines) == 1, err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def assert_user_error(rc: int, err: str, *fragments: str) -> str:
    return assert_one_line(rc, err, 2, *fragments)


def copy_run(src: Path, dst: Path) -> Path:
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    return dst


# -- tampering with a checkpoint ---------------------------------------------------------
def read_members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def write_members(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=False)
    return buf.getvalue()


def read_meta(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as z:
        return json.loads(z["meta.json"].tobytes().decode("utf-8"))


def write_meta_text(path: Path, text: str) -> None:
    members = read_members(path)
    members["meta.json.npy"] = npy_bytes(np.frombuffer(text.encode("utf-8"), dtype=np.uint8))
    write_members(path, members)


def write_meta(path: Path, meta: dict) -> None:
    write_meta_text(path, json.dumps(meta))
