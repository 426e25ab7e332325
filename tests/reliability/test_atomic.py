"""Family 6: leftovers and half-writes.

Every file the program writes goes through one atomic write (metrics.json too);
the temporaries a killed run left behind are removed at the next start in that
directory, and a live writer's are not.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchrnn import fileio
from scratchrnn.checkpoint import load_checkpoint

from .kit import TINY, copy_run, one_epoch_classifier, run


def dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait(timeout=60)
    return p.pid


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> dict[str, Path]:
    return one_epoch_classifier(tmp_path_factory)


def test_stale_temporaries_of_a_dead_run_are_removed_at_the_next_start(base, tmp_path):
    out = copy_run(base["run"], tmp_path / "c")
    pid = dead_pid()
    stale = [out / f".model.npz.{pid}.abcd1234.tmp", out / f".metrics.json.{pid}.x_9.tmp"]
    for p in stale:
        p.write_bytes(b"\0" * 4096)
    live = out / f".last.npz.{os.getpid()}.zzzz.tmp"  # a live process's: kept
    live.write_bytes(b"x")
    other = out / ".notes.tmp"  # not ours: kept
    other.write_bytes(b"x")
    rc, _, err = run(["classify", "train", "--data", str(base["csv"]), "--out", str(out),
                      "--epochs", "2", "--resume", *TINY])
    assert rc == 0, err
    assert not any(p.exists() for p in stale)
    assert live.exists() and other.exists()


def test_kill_9_mid_write_leaves_a_temporary_the_next_run_removes(tmp_path):
    """A real process killed while writing: the target is intact, the leftover goes later."""
    target = tmp_path / "metrics.json"
    fileio.atomic_write_json(target, {"old": True})
    code = (
        "import os, sys, time\n"
        "from scratchrnn.fileio import atomic_write\n"
        "def slow(f):\n"
        "    f.write(b'{' * 100000); f.flush(); print('writing', flush=True); time.sleep(60)\n"
        f"atomic_write({str(target)!r}, slow)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    p = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                         text=True)
    try:
        assert p.stdout.readline().strip() == "writing"
        p.kill()
        p.wait(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    leftovers = [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]
    assert len(leftovers) == 1
    assert json.loads(target.read_text()) == {"old": True}
    assert fileio.remove_stale_temporaries(tmp_path) == [tmp_path / leftovers[0]]
    assert sorted(os.listdir(tmp_path)) == ["metrics.json"]


def test_metrics_json_full_disk_keeps_the_old_file(base, tmp_path, monkeypatch):
    out = copy_run(base["run"], tmp_path / "c")
    good = (out / "metrics.json").read_text()

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fileio.os, "fsync", full)
    rc, _, err = run(["classify", "train", "--data", str(base["csv"]), "--out", str(out),
                      "--epochs", "1", *TINY])
    monkeypatch.undo()
    assert rc == 2 and "No space left" in err and "Traceback" not in err
    assert (out / "metrics.json").read_text() == good
    json.loads(good)
    assert not [f for f in os.listdir(out) if f.endswith(".tmp")]
    load_checkpoint(out / "model.npz", kind="classifier")


@given(payload=st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                            lambda c: st.lists(c, max_size=3)
                            | st.dictionaries(st.text(max_size=4), c, max_size=3),
                            max_leaves=10),
       fail_at=st.sampled_from(["write", "fsync", "replace", None]))
@settings(max_examples=20)
def test_atomic_write_is_all_or_nothing(tmp_path_factory, payload, fail_at):
    d = tmp_path_factory.mktemp("a")
    target = d / "f.json"
    fileio.atomic_write_json(target, {"before": 1})

    def boom(*a, **k):
        raise OSError(errno.ENOSPC, "full")

    def writer(f):
        f.write(json.dumps(payload).encode())
        if fail_at == "write":
            boom()

    saved = {"fsync": os.fsync, "replace": os.replace}
    try:
        if fail_at in saved:
            setattr(os, fail_at, boom)
        try:
            fileio.atomic_write(target, writer)
        except OSError:
            assert fail_at is not None
        else:
            assert fail_at is None
    finally:
        os.fsync, os.replace = saved["fsync"], saved["replace"]
    expected = {"before": 1} if fail_at else payload
    assert json.loads(target.read_text()) == expected
    assert os.listdir(d) == ["f.json"]


def test_every_writer_of_the_program_uses_the_atomic_write():
    """No module of scratchrnn writes a file in place (open(..., 'w'), write_text, savefig
    to a path): each goes through scratchrnn.fileio."""
    root = Path(__file__).resolve().parents[2] / "scratchrnn"
    offenders = []
    for path in root.rglob("*.py"):
        if path.name == "fileio.py":
            continue
        text = path.read_text()
        for needle in (".write_text(", ".write_bytes(", 'open("w"', ".open(\"w\"",
                       "open(path, \"w", "np.savez(path", "savefig(path"):
            if needle in text:
                offenders.append(f"{path.relative_to(root)}: {needle}")
    assert not offenders, offenders
