"""scratchrnn.fetch and ``python -m scratchrnn data fetch``, against a server on 127.0.0.1.

The server runs in a thread of this process, serves small synthetic bytes (never the
third-party file), and stops at the end of each test; no test contacts another host.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from scratchrnn import cli
from scratchrnn import fetch as fetch_mod
from scratchrnn.fetch import FILENAME, FetchError, fetch, sha256_of

ROOT = Path(__file__).resolve().parents[1]
BODY = ("nationality,split,surname\n" + "".join(
    f"{'English' if i % 2 else 'Japanese'},{('train', 'val', 'test')[i % 3]},Name{i}\n"
    for i in range(300))).encode()
SHA = hashlib.sha256(BODY).hexdigest()
SLOW_SECONDS = 3.0  # how long /slow waits before answering (bounded; it stops early on shutdown)


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves BODY (/good), other bytes (/wrong), a short body (/truncated), 404s, and
    slow answers (/slow: nothing for a while; /stall: half the body, then nothing)."""

    def log_message(self, *args):  # keep the test output quiet
        pass

    def _headers(self, length: int) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(length))
        self.end_headers()

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.server.hits.append(self.path)
        path = self.path.split("?")[0]
        if path == "/good/surnames_with_splits.csv":
            self._headers(len(BODY))
            self.wfile.write(BODY)
        elif path == "/wrong":
            other = BODY.replace(b"Name1", b"Nome1")
            self._headers(len(other))
            self.wfile.write(other)
        elif path == "/truncated":
            self._headers(len(BODY) + 1000)  # promises more than it sends, then closes
            self.wfile.write(BODY)
        elif path == "/slow":
            self.server.stopping.wait(SLOW_SECONDS)
            if not self.server.stopping.is_set():
                self._headers(len(BODY))
                self.wfile.write(BODY)
        elif path == "/stall":
            self._headers(len(BODY))
            self.wfile.write(BODY[: len(BODY) // 2])
            self.wfile.flush()
            self.server.stopping.wait(SLOW_SECONDS)
        else:
            self.send_error(404, "Not Found")


@pytest.fixture
def server(monkeypatch):
    """Base URL of a fresh 127.0.0.1 server; it is shut down when the test ends."""
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy",
                "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.hits = []
    httpd.stopping = threading.Event()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield httpd, f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.stopping.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _refused_url() -> str:
    """A 127.0.0.1 URL whose port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/surnames_with_splits.csv"


def _left(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_good_file_is_verified_and_renamed_into_place(server, tmp_path):
    httpd, url = server
    out = tmp_path / "data" / "surnames"
    path = fetch(out, [f"{url}/good/surnames_with_splits.csv"], sha256=SHA, timeout=5)
    assert path == out / FILENAME
    assert path.read_bytes() == BODY
    assert _left(out) == [FILENAME]  # no temporary file beside it
    assert path.stat().st_mode & 0o777 == 0o666 & ~_umask()  # not mkstemp's 0600


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.parametrize("path, message", [
    ("/wrong", "wrong sha256"),
    ("/truncated", "truncated"),
    ("/missing.csv", "HTTP 404"),
])
def test_failures_leave_nothing_behind(server, tmp_path, path, message):
    _, url = server
    out = tmp_path / "data" / "surnames"
    with pytest.raises(FetchError, match=message) as info:
        fetch(out, [url + path], sha256=SHA, timeout=5)
    assert "\n" not in str(info.value)
    assert url + path in str(info.value)
    assert not (tmp_path / "data").exists()  # the folders it made are gone too
    assert _left(tmp_path) == []


def test_connection_refused(tmp_path):
    url = _refused_url()
    with pytest.raises(FetchError, match="refused") as info:
        fetch(tmp_path / "out", [url], sha256=SHA, timeout=5)
    assert url in str(info.value)
    assert _left(tmp_path) == []


@pytest.mark.parametrize("path", ["/slow", "/stall"])
def test_slow_server_times_out(server, tmp_path, path):
    _, url = server
    start = time.monotonic()
    with pytest.raises(FetchError, match="timed out after 0.3 s"):
        fetch(tmp_path / "out", [url + path], sha256=SHA, timeout=0.3)
    assert time.monotonic() - start < SLOW_SECONDS  # it gave up, it did not wait it out
    assert _left(tmp_path) == []


def test_sources_are_tried_in_order_until_one_verifies(server, tmp_path):
    httpd, url = server
    sources = [url + "/missing.csv", url + "/wrong", url + "/good/surnames_with_splits.csv",
               url + "/never-asked"]
    path = fetch(tmp_path, sources, sha256=SHA, timeout=5)
    assert path.read_bytes() == BODY
    assert httpd.hits == ["/missing.csv", "/wrong", "/good/surnames_with_splits.csv"]
    assert _left(tmp_path) == [FILENAME]


def test_every_source_named_when_all_fail(server, tmp_path):
    _, url = server
    with pytest.raises(FetchError) as info:
        fetch(tmp_path, [url + "/missing.csv", url + "/wrong"], sha256=SHA, timeout=5)
    msg = str(info.value)
    assert msg.startswith(f"could not fetch {FILENAME}: ")
    assert "HTTP 404" in msg and "wrong sha256" in msg and "\n" not in msg


def test_verified_file_already_there_is_kept_without_a_request(server, tmp_path):
    httpd, url = server
    (tmp_path / FILENAME).write_bytes(BODY)
    fetch(tmp_path, [url + "/good/surnames_with_splits.csv"], sha256=SHA, timeout=5)
    assert httpd.hits == []


def test_a_wrong_file_there_is_replaced_only_by_verified_bytes(server, tmp_path):
    _, url = server
    target = tmp_path / FILENAME
    target.write_bytes(b"nationality,split,surname\nstale\n")
    with pytest.raises(FetchError):
        fetch(tmp_path, [url + "/wrong"], sha256=SHA, timeout=5)
    assert target.read_bytes() == b"nationality,split,surname\nstale\n"  # untouched
    fetch(tmp_path, [url + "/good/surnames_with_splits.csv"], sha256=SHA, timeout=5)
    assert target.read_bytes() == BODY
    assert _left(tmp_path) == [FILENAME]


def test_local_file_or_folder(tmp_path):
    src = tmp_path / "mirror"
    src.mkdir()
    (src / FILENAME).write_bytes(BODY)
    out = tmp_path / "out"
    assert fetch(out, [str(src)], sha256=SHA).read_bytes() == BODY
    (out / FILENAME).unlink()
    assert fetch(out, [str(src / FILENAME)], sha256=SHA).read_bytes() == BODY
    with pytest.raises(FetchError, match="no such file"):
        fetch(tmp_path / "other", [str(tmp_path / "nowhere.csv")], sha256=SHA)
    assert not (tmp_path / "other").exists()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_as_local_source_is_refused_not_read_forever(tmp_path):
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    with pytest.raises(FetchError, match="not a regular file"):
        fetch(tmp_path / "out", [str(fifo)], sha256=SHA)
    assert not (tmp_path / "out").exists()


def test_sha256_of_matches_hashlib(tmp_path):
    (tmp_path / "f").write_bytes(BODY)
    assert sha256_of(tmp_path / "f") == SHA


def test_pinned_checksum_and_sources_match_the_docs():
    readme = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    assert re.search(rf"{fetch_mod.SURNAMES_SHA256}\s+surnames_with_splits\.csv", readme)
    first = fetch_mod.SOURCES[0]
    assert first.startswith("https://raw.githubusercontent.com/lucasou15/Surname_Classification/")
    assert re.search(r"/[0-9a-f]{40}/surnames_with_splits\.csv$", first)  # pinned to a commit
    assert all(source.startswith("https://") for source in fetch_mod.SOURCES)


# -- the command line -----------------------------------------------------------------

def test_cli_fetch_uses_the_pinned_checksum(server, tmp_path, monkeypatch, capsys):
    _, url = server
    good = url + "/good/surnames_with_splits.csv"
    # with the pinned sum, the test bytes are rejected ...
    assert cli.main(["data", "fetch", "--from", good, "--out", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "wrong sha256" in err
    assert fetch_mod.SURNAMES_SHA256[:12] in err
    assert not (tmp_path / "a").exists()
    # ... and accepted when the pinned sum is theirs
    monkeypatch.setattr(fetch_mod, "SURNAMES_SHA256", SHA)
    assert cli.main(["data", "fetch", "--from", url + "/missing.csv", "--from", good,
                     "--out", str(tmp_path / "b")]) == 0
    assert (tmp_path / "b" / FILENAME).read_bytes() == BODY
    assert "sha256 verified" in capsys.readouterr().out


def test_cli_errors_are_one_line_exit_2_no_traceback(server, tmp_path):
    _, url = server
    env = {**os.environ, "PYTHONPATH": str(ROOT), "no_proxy": "*"}
    for args in (["--from", url + "/missing.csv"], ["--from", _refused_url()],
                 ["--from", url + "/slow", "--timeout", "0.3"], ["--timeout", "0"]):
        proc = subprocess.run(
            [sys.executable, "-m", "scratchrnn", "data", "fetch", "--out",
             str(tmp_path / "out"), *args],
            capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert proc.stdout == ""
        assert not (tmp_path / "out").exists()


def test_cli_fetch_of_the_real_file_from_a_local_copy(tmp_path):
    real = ROOT / "data" / "surnames" / FILENAME
    if not real.is_file():
        pytest.skip("the surnames data is not here (see data/README.md)")
    assert cli.main(["data", "fetch", "--from", str(real.parent),
                     "--out", str(tmp_path)]) == 0
    assert sha256_of(tmp_path / FILENAME) == fetch_mod.SURNAMES_SHA256
