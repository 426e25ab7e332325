"""Family 8: Ctrl-C at any moment is one line and exit 130, naming the epoch really saved."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from scratchrnn import train as train_module
from scratchrnn.checkpoint import load_checkpoint

from .kit import REPO, TINY, assert_one_line, message_lines, run, synthetic_csv


def _importing_numpy(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/maps") as f:
            return "numpy" in f.read()
    except OSError:
        return False


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="needs /proc")
@pytest.mark.parametrize("delay", [0.0, 0.1, 0.3, 1.0])
def test_ctrl_c_during_start_up(tmp_path, delay):
    """SIGINT once Python is up and importing numpy/scratchrnn (``delay`` later): one line,
    exit 130, no traceback; or, late enough, the training's own one line."""
    csv = synthetic_csv(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    p = subprocess.Popen([sys.executable, "-m", "scratchrnn", "classify", "train", "--data",
                          str(csv), "--out", str(tmp_path / "o"), "--epochs", "1000",
                          "--early-stopping", "1000", *TINY],
                         cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        deadline = time.monotonic() + 60
        while not _importing_numpy(p.pid) and p.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.002)
        time.sleep(delay)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert "Traceback" not in err, err
    assert p.returncode == 130, (p.returncode, err)
    assert len(message_lines(err)) == 1, err
    assert "interrupted" in err


def test_ctrl_c_while_saving_epoch_2_names_epoch_1(tmp_path, monkeypatch):
    csv = synthetic_csv(tmp_path)
    out = tmp_path / "o"
    real = train_module.save_checkpoint

    def save(path, *args, **kwargs):
        if kwargs.get("epoch") == 2 and str(path).endswith("last.npz"):
            raise KeyboardInterrupt
        return real(path, *args, **kwargs)

    monkeypatch.setattr(train_module, "save_checkpoint", save)
    rc, _, err = run(["classify", "train", "--data", str(csv), "--out", str(out),
                      "--epochs", "5", "--early-stopping", "100", *TINY])
    line = assert_one_line(rc, err, 130, "interrupted", "holds epoch 1", "--resume")
    assert "epoch 2)" not in line
    assert load_checkpoint(out / "last.npz", kind="classifier").epoch == 1
    assert not [f for f in os.listdir(out) if f.endswith(".tmp")]


def test_ctrl_c_before_any_epoch_says_nothing_to_resume(tmp_path, monkeypatch):
    csv = synthetic_csv(tmp_path)

    def interrupt(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_module.Trainer, "train_epoch", interrupt)
    rc, _, err = run(["classify", "train", "--data", str(csv), "--out", str(tmp_path / "o"),
                      "--epochs", "5", *TINY])
    assert_one_line(rc, err, 130, "nothing to resume")


def test_ctrl_c_in_prediction_is_one_line(tmp_path, monkeypatch):
    from scratchrnn import classify

    def interrupt(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(classify, "load_model", interrupt)
    rc, _, err = run(["classify", "predict", "--model", str(tmp_path), "abc"])
    assert_one_line(rc, err, 130, "interrupted")


def test_ctrl_c_inside_a_write_is_delivered_after_the_file_is_in_place(tmp_path):
    """A write is a critical section: Ctrl-C inside it (here: inside a zip member, as under
    np.savez) waits until the file is complete and in place, then is a KeyboardInterrupt.
    (Raised inside zipfile, it became "Can't close the ZIP file ..." and a traceback.)"""
    import zipfile

    from scratchrnn.fileio import atomic_write

    path = tmp_path / "ckpt.npz"

    def writer(f):
        with zipfile.ZipFile(f, "w") as z, z.open("a.npy", "w") as member:
            member.write(b"x" * 1000)
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(1000):  # Python would raise the KeyboardInterrupt in here
                member.write(b"y")

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, writer)
    with zipfile.ZipFile(path) as z:
        assert z.read("a.npy") == b"x" * 1000 + b"y" * 1000
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.npz"]  # no temporary file left
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
