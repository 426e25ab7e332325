"""Family 8: Ctrl-C at any moment is one line and exit 130, naming the epoch really saved."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import pytest

from scratchrnn import interrupt
from scratchrnn import train as train_module
from scratchrnn.backend import NumpyBackend
from scratchrnn.checkpoint import load_checkpoint

from .kit import REPO, TINY, assert_one_line, message_lines, run, synthetic_csv


def _importing_numpy(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/maps") as f:
            return "numpy" in f.read()
    except OSError:
        return False


# python -c IGNORING ARGS…: exec ARGS with SIGINT ignored, as a shell starts a background job
# (an exec, not a preexec_fn: that would fork the test process, which may hold JAX's threads)
_IGNORING = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
             "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])")


def _ignoring(inherited: str) -> list[str]:
    return [sys.executable, "-c", _IGNORING] if inherited == "ignored" else [sys.executable]


# Run with SIGINT ignored, as a background job is: every SIGINT disposition the command
# line sets, in order, up to the point where it parses its arguments.
_DISPOSITIONS = """
import signal, sys
import scratchrnn.__main__ as entry
set_ = []
real = signal.signal
def record(signum, handler):
    if signum == signal.SIGINT:
        set_.append("ignore" if handler is signal.SIG_IGN else "default"
                    if handler is signal.SIG_DFL else getattr(handler, "__name__", "?"))
    return real(signum, handler)
signal.signal = record
sys.argv = ["scratchrnn", "--help"]
try:
    entry.run()
except SystemExit:
    pass
print(" ".join(set_), file=sys.stderr)
"""


def test_sigint_is_never_ignored_once_start_up_begins():
    """A Ctrl-C landing between two handlers is lost if the start-up puts the inherited
    SIG_IGN back even for an instant (it did: a CI run's training then ran to its end).
    Every disposition set after the first must be a handler that acts on the signal."""
    out = subprocess.run([*_ignoring("ignored"), "-c", _DISPOSITIONS], cwd=REPO,
                         capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=str(REPO)), check=True).stderr.split()
    assert out[0] == "<lambda>" and len(out) >= 2, out
    assert "ignore" not in out and "default" not in out, out
    assert out[-1] == "on_sigint", out


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="needs /proc")
@pytest.mark.parametrize("inherited", ["default", "ignored"])
@pytest.mark.parametrize("delay", [0.0, 0.1, 0.3, 1.0])
def test_ctrl_c_during_start_up(tmp_path, delay, inherited):
    """SIGINT once Python is up and importing numpy/scratchrnn (``delay`` later): one line,
    exit 130, no traceback; or, late enough, the training's own one line. ``ignored``: the
    parent started us with SIGINT ignored, as a shell does a background job (CI's case)."""
    csv = synthetic_csv(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    p = subprocess.Popen([*_ignoring(inherited), "-m", "scratchrnn", "classify", "train", "--data",
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


@pytest.mark.parametrize("gap", [0.0, 0.005, 0.05])
def test_ctrl_c_pressed_twice_in_training_is_still_one_line(tmp_path, gap):
    """The second press used to land in the exit's garbage collection (a traceback) or
    after the message (a second line, "interrupted")."""
    csv = synthetic_csv(tmp_path)
    p = subprocess.Popen([sys.executable, "-m", "scratchrnn", "classify", "train", "--data",
                          str(csv), "--out", str(tmp_path / "o"), "--epochs", "100000",
                          "--early-stopping", "100000", *TINY],
                         cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stderr.readline().startswith(("epoch", "data:"))  # training has begun
        for press in range(2):
            time.sleep(gap * press)
            with contextlib.suppress(ProcessLookupError):
                p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert_one_line(p.returncode, err, 130, "interrupted")


class _Swallowed:
    """Python's SIGINT handler run where its KeyboardInterrupt is lost: in a ``__del__``
    (as in importlib's module-lock weakref callback, where a CI run lost one)."""

    def __del__(self):
        interrupt.on_sigint(signal.SIGINT, None)


def test_a_swallowed_ctrl_c_stops_training_at_the_next_step(tmp_path, monkeypatch):
    csv = synthetic_csv(tmp_path)
    real, steps = NumpyBackend.train_step, []

    def step(self, batch):
        steps.append(1)
        if len(steps) == 2:
            _Swallowed()  # "Exception ignored in: ... KeyboardInterrupt", and training goes on
        return real(self, batch)

    monkeypatch.setattr(NumpyBackend, "train_step", step)
    rc, _, err = run(["classify", "train", "--data", str(csv), "--out", str(tmp_path / "o"),
                      "--epochs", "50", "--early-stopping", "50", *TINY])
    assert_one_line(rc, err, 130, "interrupted during epoch 1")
    assert len(steps) == 2  # the check before step 3 raised it again
    assert "Exception ignored" not in err


def test_a_ctrl_c_swallowed_after_the_last_check_is_still_130(tmp_path, monkeypatch):
    from scratchrnn import cli

    def finished(args):
        _Swallowed()
        return 0

    monkeypatch.setattr(cli, "_data", finished)
    rc, _, err = run(["data", "fetch", "--out", "x.csv"])
    assert_one_line(rc, err, 130, "the command had finished")


def test_the_quiet_hook_keeps_other_unraisable_errors(monkeypatch):
    """Only a remembered Ctrl-C's report is dropped; any other goes to the caller's hook."""
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append(u.exc_type))

    class Broken:
        def __del__(self):
            raise ValueError("in __del__")

    with interrupt.installed():
        Broken()
        _Swallowed()
    assert seen == [ValueError]
    assert sys.unraisablehook is not None and not hasattr(sys.unraisablehook, "quiet_for_sigint")


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


@pytest.mark.skipif(not os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children"),
                    reason="needs /proc/PID/task/PID/children")
@pytest.mark.parametrize("presses", [1, 2])
@pytest.mark.parametrize("to", ["parent", "group"])
def test_ctrl_c_in_a_parallel_study_stops_its_workers_at_once(tmp_path, to, presses):
    """``study adding --workers 2``: SIGINT to the parent (kill -INT) or to the whole
    process group (a terminal's Ctrl-C) while both workers train. It used to wait for the
    running trainings to end (64 s here); now one line, exit 130 within seconds, the
    workers gone, no worker traceback and no leaked-semaphore warning."""
    p = subprocess.Popen([sys.executable, "-m", "scratchrnn", "study", "adding", "--cells",
                          "lstm", "gru", "--lengths", "100", "--updates", "100000",
                          "--workers", "2", "--out", str(tmp_path / "o")],
                         cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while p.poll() is None and time.monotonic() < deadline:
            workers = [c for c in _children(p.pid) if _importing_numpy(c)]
            if len(workers) >= 2:
                break
            time.sleep(0.05)
        assert len(workers) >= 2, "the workers did not start"
        time.sleep(1.0)  # inside their trainings
        start = time.monotonic()
        for press in range(presses):  # a second press 10 ms later: still one line
            time.sleep(0.01 * press)
            if to == "group":
                os.killpg(p.pid, signal.SIGINT)
            else:
                p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=60)
        took = time.monotonic() - start
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
    assert_one_line(p.returncode, err, 130, "interrupted")
    assert "leaked" not in err
    assert took < 10, took
    time.sleep(0.5)
    assert not [w for w in workers if os.path.exists(f"/proc/{w}") and _importing_numpy(w)]


@pytest.mark.skipif(not os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children"),
                    reason="needs /proc/PID/task/PID/children")
def test_a_killed_worker_stops_the_parallel_study_in_one_line(tmp_path):
    """A worker that dies (kill -9, the out-of-memory killer) is one line and exit 1, and
    nothing is written; multiprocessing.Pool, tried, waited for it forever."""
    out = tmp_path / "o"
    p = subprocess.Popen([sys.executable, "-m", "scratchrnn", "study", "adding", "--cells",
                          "lstm", "gru", "--lengths", "100", "--updates", "100000",
                          "--workers", "2", "--out", str(out)],
                         cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        workers = []
        while p.poll() is None and time.monotonic() < deadline and len(workers) < 2:
            workers = [c for c in _children(p.pid) if _importing_numpy(c)]
            time.sleep(0.05)
        assert len(workers) == 2, "the workers did not start"
        os.kill(workers[0], signal.SIGKILL)
        _, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert_one_line(p.returncode, err, 1, "a worker process of the study died",
                    "nothing was written")
    assert not out.exists() or not any(out.iterdir())


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
