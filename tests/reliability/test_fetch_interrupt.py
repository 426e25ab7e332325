"""Ctrl-C during ``scratchrnn data fetch`` stops the download at once (issue 25, item 2):
exit 130 with one line, no partial or temporary file, a file already at the target
untouched, no folder left that the fetch created."""

from __future__ import annotations

import http.server
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from .kit import REPO, message_lines

#: a functional bound, generous for a loaded machine: without the fix the process ran
#: until the whole (slow) transfer ended, ~50 s here
STOP_WITHIN_S = 3.0


class _Trickle(http.server.BaseHTTPRequestHandler):
    """100 kB announced, sent 100 bytes every 50 ms (50 s in all)."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "100000")
        self.end_headers()
        for _ in range(1000):
            try:
                self.wfile.write(b"x" * 100)
                self.wfile.flush()
            except OSError:
                return
            time.sleep(0.05)

    def log_message(self, *args):
        pass


@pytest.fixture
def slow_url():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Trickle)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/surnames_with_splits.csv"
    server.shutdown()
    server.server_close()


def _fetch(url: str, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "scratchrnn", "data", "fetch", "--from", url, "--out", str(out)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={"PYTHONPATH": str(REPO), "PATH": ""})


def _wait_for_temporary(folder: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    """Until the download's temporary file exists, and half a second more: the transfer
    is under way (its first 64 kB read takes ~30 s at this server's pace)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if folder.exists() and list(folder.glob(".*.tmp")):
            time.sleep(0.5)
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("the download never started")


@pytest.mark.parametrize("existing", [False, True])
def test_ctrl_c_stops_the_download_at_once_and_leaves_nothing(tmp_path, slow_url, existing):
    out = tmp_path / "new" / "surnames"
    if existing:
        out.mkdir(parents=True)
        (out / "surnames_with_splits.csv").write_text("an older, wrong copy\n")
    proc = _fetch(slow_url, out)
    _wait_for_temporary(out, proc)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    took = time.monotonic() - sent
    assert proc.returncode == 130, err
    assert took < STOP_WITHIN_S, took
    assert "Traceback" not in err
    lines = message_lines(err)
    assert len(lines) == 1 and "interrupted" in lines[0] and str(out) in lines[0], err
    if existing:
        assert [p.name for p in out.iterdir()] == ["surnames_with_splits.csv"]
        assert (out / "surnames_with_splits.csv").read_text() == "an older, wrong copy\n"
    else:
        assert not (tmp_path / "new").exists()  # the folders this fetch made are gone
