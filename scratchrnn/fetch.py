"""Fetch the surnames dataset: download, verify its sha256, rename it into place.

    python -m scratchrnn data fetch [--from URL|PATH ...] [--out DIR] [--timeout S]

The file is third-party data (see ``data/README.md``): it is downloaded to the
user's machine, never committed. Sources are tried in order until one gives
bytes whose sha256 is the pinned one (:data:`SURNAMES_SHA256`):

1. a copy pinned to one commit on raw.githubusercontent.com;
2. the book's own file host: the Google Drive file that the book's repository
   (``delip/PyTorchNLPBook``, ``data/get-all-data.sh`` and ``download.py``)
   downloads through ``https://docs.google.com/uc?export=download&id=…``.

The bytes are streamed into a hidden temporary file beside the target, hashed as
they arrive, fsynced, and renamed over the target only when the hash matches; a
wrong checksum, a network or HTTP error, a timeout or a truncated transfer raises
:class:`FetchError` and leaves nothing behind (no partial file, no temporary file,
no directory this call created). Ctrl-C stops a download at once, leaving nothing
behind either, and raises KeyboardInterrupt (the CLI: one line, exit 130). Only the
standard library is used.
"""

from __future__ import annotations

import hashlib
import http.client
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from .fileio import UnsafeFileError, atomic_write, open_regular

FILENAME = "surnames_with_splits.csv"
SURNAMES_SHA256 = "7596d10a73c650fdd34a6432bc972cf47ce353db3d9e22fe60c7e4affd5b6d20"
SOURCES: tuple[str, ...] = (
    "https://raw.githubusercontent.com/lucasou15/Surname_Classification/"
    "0cac23fe1528eec3f2f3558123aca58f386c8d2d/surnames_with_splits.csv",
    "https://docs.google.com/uc?export=download&id=1T1la2tYO1O7XkMRawG8VcFcvtjbxDqU-",
)
DEFAULT_OUT = Path("data") / "surnames"
DEFAULT_TIMEOUT = 30.0  # seconds, for the connection and for each read
MAX_SECONDS = 600.0  # a whole transfer, however slowly the bytes trickle in
MAX_BYTES = 64 * 2**20  # the real file is ~0.3 MB; refuse anything absurd
_CHUNK = 64 * 1024
_USER_AGENT = "scratchrnn-data-fetch/1"


class FetchError(RuntimeError):
    """Every source failed; the message is one line naming each source and why."""


def _is_url(source: str) -> bool:
    return urllib.parse.urlsplit(source).scheme.lower() in ("http", "https", "file", "ftp")


def _copy_stream(read: Callable[[int], bytes], dst, expected_size: int | None,
                 deadline: float) -> tuple[int, str]:
    """Copy ``read`` into ``dst`` chunk by chunk; return (bytes, sha256 hex)."""
    digest = hashlib.sha256()
    size = 0
    while True:
        chunk = read(_CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > MAX_BYTES:
            raise FetchError(f"more than {MAX_BYTES} bytes: not the surnames file")
        if time.monotonic() > deadline:
            raise FetchError(f"transfer took longer than {MAX_SECONDS:.0f} s")
        digest.update(chunk)
        dst.write(chunk)
    if expected_size is not None and size != expected_size:
        raise FetchError(f"truncated transfer: got {size} of {expected_size} bytes")
    return size, digest.hexdigest()


def _download(url: str, dst, timeout: float) -> tuple[int, str]:
    """Stream ``url`` into the open file ``dst``; raise FetchError on any failure."""
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    deadline = time.monotonic() + MAX_SECONDS
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            try:
                expected = int(length) if length is not None else None
            except ValueError:
                expected = None
            return _copy_stream(response.read, dst, expected, deadline)
    except urllib.error.HTTPError as exc:
        raise FetchError(f"HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise FetchError(f"timed out after {timeout:g} s") from None
        if isinstance(reason, OSError) and reason.strerror:
            raise FetchError(reason.strerror.lower()) from None
        raise FetchError(str(reason)) from None
    except TimeoutError:
        raise FetchError(f"timed out after {timeout:g} s") from None
    except http.client.IncompleteRead as exc:
        got = len(exc.partial)
        raise FetchError(f"truncated transfer ({got} bytes, then the connection closed)") \
            from None
    except (http.client.HTTPException, ConnectionError) as exc:
        raise FetchError(f"connection failed: {exc.__class__.__name__}") from None
    except ValueError as exc:  # a malformed URL
        raise FetchError(str(exc)) from None


def _copy_local(path: Path, dst, filename: str) -> tuple[int, str]:
    """Copy a local file (or ``folder/filename``) into ``dst``; raise FetchError on failure."""
    if path.is_dir():
        path = path / filename
    try:
        with open_regular(path) as src:  # a FIFO or a device is refused, never read forever
            return _copy_stream(src.read, dst, None, time.monotonic() + MAX_SECONDS)
    except FileNotFoundError:
        raise FetchError("no such file") from None
    except UnsafeFileError as exc:
        raise FetchError(str(exc)) from None
    except OSError as exc:
        raise FetchError(exc.strerror or str(exc)) from None


def sha256_of(path: str | Path) -> str:
    """The sha256 hex digest of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _try_source(source: str, target: Path, sha256: str, timeout: float) -> int:
    """Fetch one source into ``target`` through :func:`scratchrnn.fileio.atomic_write`
    (a temporary beside it, renamed only when the hash matches); return its size or
    raise FetchError. A failure removes the temporary and leaves ``target`` untouched."""
    got = {}

    def write_verified(dst) -> None:
        if _is_url(source):
            size, digest = _download(source, dst, timeout)
        else:
            size, digest = _copy_local(Path(source), dst, target.name)
        if digest != sha256:
            raise FetchError(f"wrong sha256 {digest[:12]}… (expected {sha256[:12]}…, "
                             f"{size} bytes)")
        got["size"] = size

    atomic_write(target, write_verified, interruptible=True)  # Ctrl-C stops a download
    return got["size"]


def fetch(out: str | Path = DEFAULT_OUT, sources: Sequence[str] = SOURCES,
          sha256: str = SURNAMES_SHA256, timeout: float = DEFAULT_TIMEOUT,
          filename: str = FILENAME,
          log: Callable[[str], None] | None = None) -> Path:
    """Put a verified copy of ``filename`` into the folder ``out``; return its path.

    ``sources`` (URLs or local paths; a folder means ``folder/filename``) are tried
    in order; the first whose bytes hash to ``sha256`` wins. A file already at the
    target with that hash is kept and nothing is fetched. ``timeout`` bounds the
    connection and each read. If every source fails, :class:`FetchError` says why
    for each, in one line, and nothing is left behind.
    """
    if not sources:
        raise ValueError("no source to fetch from")
    if timeout <= 0:
        raise ValueError(f"timeout must be > 0, got {timeout}")
    sha256 = sha256.lower()
    out = Path(out)
    target = out / filename
    if out.exists() and not out.is_dir():
        raise FetchError(f"cannot fetch into {out}: not a directory")
    if target.is_file() and sha256_of(target) == sha256:
        if log:
            log(f"{target} is already here (sha256 verified)")
        return target
    created = []  # folders this call makes, removed again if every source fails
    for parent in reversed((out, *out.parents)):
        if not parent.exists():
            created.append(parent)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FetchError(f"cannot create {out}: {exc.strerror or exc}") from None
    failures = []
    try:
        for source in sources:
            try:
                size = _try_source(source, target, sha256, timeout)
            except FetchError as exc:
                failures.append(f"{source}: {exc}")
                continue
            except OSError as exc:  # writing the temporary file (disk full, permissions)
                failures.append(f"{source}: {exc.strerror or exc}")
                continue
            if log:
                log(f"fetched {target} from {source} ({size} bytes, sha256 verified)")
            return target
    except KeyboardInterrupt:  # Ctrl-C mid-download: the temporary is gone already
        _remove_empty(created)
        raise KeyboardInterrupt(f"interrupted: nothing was written to {out}") from None
    _remove_empty(created)
    raise FetchError(f"could not fetch {filename}: " + "; ".join(failures))


def _remove_empty(created: list[Path]) -> None:
    """Remove the folders a failed or interrupted fetch made, innermost first."""
    for folder in reversed(created):
        try:
            folder.rmdir()
        except OSError:
            break


__all__ = ["FILENAME", "SURNAMES_SHA256", "SOURCES", "FetchError", "fetch", "sha256_of"]
