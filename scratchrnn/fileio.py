"""Files crossing the trust boundary: one atomic write, bounded reads, regular files only.

Every file the program writes goes through :func:`atomic_write` (or its
:func:`atomic_write_text` / :func:`atomic_write_json` shorthands): the bytes go
to a temporary file in the target's directory, named
``.<name>.<pid>.<random>.tmp``, which is flushed, ``fsync``-ed and then
``os.replace``-d onto the real name, so a crash or a full disk mid-write leaves
the earlier file whole. The pid in the name lets :func:`remove_stale_temporaries`
tell the leftovers of a dead process (kill -9 mid-write) from a live writer's.

Every file the program reads from a user goes through :func:`open_regular`
first: it is opened with ``O_NONBLOCK`` and refused unless ``fstat`` says it is a
regular file, so a FIFO, a device or a directory named ``model.npz`` is an error,
never a hang. JSON from a file is parsed by :func:`loads_bounded`, which checks
the size and the nesting depth before :func:`json.loads` sees it (no
``RecursionError``, no ``NaN``). :func:`check_npz_members` checks what every
member of an ``.npz`` archive *declares* (its zip sizes, its ``.npy`` header's
shape and dtype) against the archive's real size before any array is read, so a
header claiming 10¹¹ floats is a one-line error rather than a ``MemoryError``.

All problems raise :class:`UnsafeFileError` (a ``ValueError``) with a one-line
message; callers prefix it with the path.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import re
import signal
import stat
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

__all__ = [
    "MAX_JSON_BYTES",
    "MAX_JSON_DEPTH",
    "UnsafeFileError",
    "atomic_write",
    "atomic_write_text",
    "atomic_write_json",
    "atomic_text",
    "save_figure",
    "temporary_name_pattern",
    "remove_stale_temporaries",
    "open_regular",
    "read_regular_bytes",
    "loads_bounded",
    "check_npz_members",
]

#: the largest JSON document :func:`loads_bounded` accepts by default (bytes)
MAX_JSON_BYTES = 16 * 2**20
#: the deepest nesting of arrays/objects :func:`loads_bounded` accepts by default
MAX_JSON_DEPTH = 64

PathLike = str | os.PathLike[str]


class UnsafeFileError(ValueError):
    """A file is not what it must be (not regular, too big, too deep, sizes that lie)."""


# -- writing ----------------------------------------------------------------------------
def _fsync_dir(directory: Path) -> None:
    """Make a rename durable where the platform allows (POSIX); best effort elsewhere."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def sigint_deferred():
    """Ctrl-C held back while the block runs, then delivered (KeyboardInterrupt) after it.

    A library writing a file can turn a KeyboardInterrupt raised inside it into an error
    of its own (zipfile, under ``np.savez``: "Can't close the ZIP file while there is an
    open writing handle"), so a write is a critical section. Outside the main thread,
    where Python cannot set signal handlers, the block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[bool] = []
    previous = signal.signal(signal.SIGINT, lambda *_: received.append(True))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:  # the block succeeded: deliver the Ctrl-C as the previous handler would
        if callable(previous):
            previous(signal.SIGINT, None)
        elif previous != signal.SIG_IGN:
            raise KeyboardInterrupt


def atomic_write(path: PathLike, data: bytes | Callable[[IO[bytes]], None],
                 interruptible: bool = False) -> Path:
    """Write ``data`` (bytes, or a function writing to a binary file) to ``path`` atomically.

    Missing parent directories are created. The permissions of a file being
    replaced are kept (0o644 for a new one, less the umask's bits). On any error the
    temporary file is removed and ``path`` is untouched. Ctrl-C during the write is
    held back until the file is in place (:func:`sigint_deferred`), then raised as
    KeyboardInterrupt. With ``interruptible`` (a download: ``data`` may take minutes),
    Ctrl-C stops ``data`` at once instead (the temporary removed, ``path`` untouched) and
    only the final rename is held back. Returns ``path`` as a :class:`~pathlib.Path`.
    """
    if not interruptible:
        with sigint_deferred():
            _atomic_write(Path(path), data)
        return Path(path)
    _atomic_write(Path(path), data, commit=sigint_deferred)
    return Path(path)


def _atomic_write(path: Path, data: bytes | Callable[[IO[bytes]], None],
                  commit: Callable = contextlib.nullcontext) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o644 & ~umask
    tmp = tempfile.NamedTemporaryFile(
        mode="wb", delete=False, dir=path.parent, prefix=f".{path.name}.{os.getpid()}.",
        suffix=".tmp",
    )
    try:
        with tmp:
            if isinstance(data, (bytes, bytearray, memoryview)):
                tmp.write(data)
            else:
                data(tmp)
            tmp.flush()
            os.fsync(tmp.fileno())
        with commit():
            with contextlib.suppress(OSError):
                os.chmod(tmp.name, mode)
            os.replace(tmp.name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp.name)
        raise
    _fsync_dir(path.parent)


def atomic_write_text(path: PathLike, text: str) -> Path:
    """:func:`atomic_write` of ``text`` encoded as UTF-8."""
    return atomic_write(path, text.encode("utf-8"))


def atomic_write_json(path: PathLike, value: Any, **dumps_kwargs: Any) -> Path:
    """:func:`atomic_write` of strict JSON (``allow_nan=False``), newline-terminated."""
    dumps_kwargs.setdefault("indent", 2)
    text = json.dumps(value, allow_nan=False, **dumps_kwargs)
    return atomic_write_text(path, text + "\n")


@contextlib.contextmanager
def atomic_text(path: PathLike, newline: str = ""):
    """``with atomic_text(path) as f: f.write(...)``: text (UTF-8) written atomically when
    the block ends without an error; nothing is written if it raises. For ``csv.writer``
    (``newline=""``, as the csv module asks)."""
    buf = io.StringIO(newline=newline)
    yield buf
    atomic_write_text(path, buf.getvalue())


def write_csv_rows(path: PathLike, header: Sequence[str], rows: Iterable[Sequence]) -> Path:
    """A CSV file (``header`` then ``rows``) written atomically, its folder made if needed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_text(path) as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def save_figure(fig: Any, path: PathLike, **savefig_kwargs: Any) -> Path:
    """A matplotlib figure saved atomically (rendered in memory, in the path's format)."""
    path = Path(path)
    buf = io.BytesIO()
    fig.savefig(buf, format=path.suffix.lstrip(".") or "png", **savefig_kwargs)
    return atomic_write(path, buf.getvalue())


_TEMP_RE = re.compile(r"^\.(?P<target>.+)\.(?P<pid>\d+)\.[A-Za-z0-9_]+\.tmp$")


def temporary_name_pattern() -> re.Pattern[str]:
    """The pattern of :func:`atomic_write`'s temporary names (groups ``target``, ``pid``)."""
    return _TEMP_RE


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):  # exists, owned by someone else (or unknowable)
        return True
    return True


def remove_stale_temporaries(directory: PathLike) -> list[Path]:
    """Remove the temporary files of :func:`atomic_write` left by dead processes.

    Only regular files named like ``.<name>.<pid>.<random>.tmp`` whose pid is not
    a live process are removed. Returns the removed paths.
    """
    directory = Path(directory)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP_RE.match(entry.name)
        if not match or not entry.is_file(follow_symlinks=False):
            continue
        if _alive(int(match["pid"])):
            continue
        with contextlib.suppress(OSError):
            os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


# -- reading ----------------------------------------------------------------------------
def _kind_of(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "not a regular file"


def open_regular(path: PathLike) -> IO[bytes]:
    """Open ``path`` for binary reading; refuse anything but a regular file, never block.

    The file is opened with ``O_NONBLOCK`` (opening a FIFO would otherwise wait
    for a writer) and checked with ``fstat`` on the open descriptor, so what is
    checked is what is read. Raises :class:`UnsafeFileError` for a directory, a
    FIFO, a socket or a device, ``FileNotFoundError``/``OSError`` as ``open`` does.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except IsADirectoryError:
        raise UnsafeFileError("is a directory, not a regular file") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise UnsafeFileError(f"is {_kind_of(mode)}, not a regular file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular_bytes(path: PathLike, max_bytes: int) -> bytes:
    """The bytes of a regular file no larger than ``max_bytes`` (see :func:`open_regular`)."""
    with open_regular(path) as f:
        size = os.fstat(f.fileno()).st_size
        if size > max_bytes:
            raise UnsafeFileError(f"is {size} bytes, more than the {max_bytes} allowed")
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UnsafeFileError(f"is more than the {max_bytes} bytes allowed")
    return data


# a JSON string (with escapes) or one bracket; brackets inside strings are skipped
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in ``text`` (no recursion, no parsing)."""
    depth = deepest = 0
    for match in _JSON_TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "]}":
            depth -= 1
    return deepest


def loads_bounded(
    data: bytes | str, *, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH
) -> Any:
    """Strict JSON (UTF-8, no NaN/Infinity) no bigger than ``max_bytes`` nor deeper than
    ``max_depth``; sizes and depth are checked before parsing. Raises :class:`UnsafeFileError`.
    """
    size = len(data.encode("utf-8") if isinstance(data, str) else data)
    if size > max_bytes:
        raise UnsafeFileError(f"JSON of {size} bytes, more than the {max_bytes} allowed")
    if isinstance(data, (bytes, bytearray, memoryview)):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as e:
            raise UnsafeFileError(f"not UTF-8 ({e.reason} at byte {e.start})") from None
    else:
        text = data
    depth = json_depth(text)
    if depth > max_depth:
        raise UnsafeFileError(f"JSON nested {depth} deep, more than the {max_depth} allowed")

    def no_constants(name: str) -> None:
        raise ValueError(f"non-standard JSON constant {name}")

    try:
        return json.loads(text, parse_constant=no_constants)
    except (ValueError, RecursionError) as e:
        raise UnsafeFileError(f"not valid JSON ({' '.join(str(e).split())})") from None


# -- .npz archives ---------------------------------------------------------------------
def _npy_header(member: IO[bytes]) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, header length) of the ``.npy`` stream ``member``, data unread."""
    fmt = np.lib.format
    version = fmt.read_magic(member)
    if version == (1, 0):
        shape, _, dtype = fmt.read_array_header_1_0(member)
    elif version == (2, 0):
        shape, _, dtype = fmt.read_array_header_2_0(member)
    else:
        raise ValueError(f"unsupported .npy version {version}")
    return tuple(shape), np.dtype(dtype), member.tell()


def check_npz_members(
    zf: zipfile.ZipFile, archive_size: int, *, json_member: str | None = None,
    max_json_bytes: int = MAX_JSON_BYTES,
) -> None:
    """Check what each member of an ``.npz`` declares before a byte of its data is read.

    Every member must be a ``.npy`` whose header's shape × itemsize + header length
    equals the member's declared uncompressed size; an uncompressed member's
    declared size must equal its stored size; the declared sizes of all members
    together may not exceed the archive's size (uncompressed members) or 64× it
    (compressed ones, a bound on zip bombs). Object dtypes are refused (they would
    need pickle). ``json_member`` (e.g. ``"meta.json.npy"``) is also held to
    ``max_json_bytes``. Raises :class:`UnsafeFileError`.
    """
    total = 0
    for info in zf.infolist():
        name = info.filename
        if info.is_dir():
            raise UnsafeFileError(f"archive member {name!r} is a directory")
        if info.compress_type == zipfile.ZIP_STORED:
            if info.file_size != info.compress_size:
                raise UnsafeFileError(
                    f"archive member {name!r} declares {info.file_size} bytes but stores "
                    f"{info.compress_size}")
            total += info.file_size
        else:
            total += info.file_size // 64
        if total > archive_size:
            raise UnsafeFileError(
                f"archive members declare more data than the file's {archive_size} bytes "
                f"(at member {name!r}, {info.file_size} bytes)")
        if json_member is not None and name == json_member and info.file_size > max_json_bytes:
            raise UnsafeFileError(
                f"{name!r} is {info.file_size} bytes, more than the {max_json_bytes} allowed")
    for info in zf.infolist():
        name = info.filename
        if not name.endswith(".npy"):
            continue
        try:
            with zf.open(info) as member:
                shape, dtype, header = _npy_header(member)
        except zipfile.BadZipFile as e:
            raise UnsafeFileError(
                f"corrupted: archive member {name!r} fails its check ({e})") from None
        except (ValueError, TypeError, SyntaxError, EOFError, OSError) as e:
            raise UnsafeFileError(
                f"archive member {name!r} has no valid .npy header "
                f"({' '.join(str(e).split())})") from None
        if dtype.hasobject:
            raise UnsafeFileError(
                f"archive member {name!r} is an object array ({dtype}), which would need pickle")
        if any(n < 0 for n in shape):
            raise UnsafeFileError(f"archive member {name!r} declares the shape {shape}")
        nbytes = math.prod(shape) * dtype.itemsize
        if header + nbytes != info.file_size:
            raise UnsafeFileError(
                f"archive member {name!r} declares a {dtype} array of shape {shape} "
                f"({nbytes} bytes) but holds {info.file_size - header} bytes of data")
