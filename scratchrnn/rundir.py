"""Run directories: a training run owns its ``--out`` directory.

A run directory holds ``model.npz`` (the best model), ``last.npz`` (the last
complete epoch), maybe ``interrupted.npz``, ``metrics.json`` and ``run.json``,
which says what the run is::

    {"format": "scratchrnn-run", "kind": "classifier",
     "data": "sha256:…",            # the CSV's bytes: other rows or another order differ
     "config": {"cell": "gru", "hidden": 64, "lr": 0.001, ...}}   # what a resume must keep

Rules (:meth:`RunDir.open`):

* while a run trains, it holds ``.lock`` in the directory (an exclusive
  ``fcntl.flock``, released by the kernel if the process dies; ``O_EXCL`` and a
  pid check where there is no ``fcntl``); a second run into the same directory
  gets :class:`RunDirError` naming the pid that holds it;
* at the start, the temporaries of writes that a dead process left behind
  (``.<name>.<pid>.<random>.tmp``, see :mod:`scratchrnn.fileio`) are removed;
* a fresh run (no ``--resume``) into a directory that holds another kind of run,
  another config or other data, or the files of a run without ``run.json``, is
  refused unless ``overwrite``, which first removes that run's files (and only
  those: other files in the directory are left alone);
* ``--resume`` is refused, with one line naming each difference, when the
  checkpoint's kind, data fingerprint or config differ from the new run's
  (:func:`check_resume`); the keys of :data:`RESUMABLE` may change.

Every refusal raises :class:`RunDirError`, a ``ValueError`` (exit status 2 at the CLI).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .fileio import (
    UnsafeFileError,
    atomic_write_json,
    loads_bounded,
    open_regular,
    read_regular_bytes,
    remove_stale_temporaries,
)

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows: O_EXCL and a pid check
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "RUN_FILE",
    "LOCK_FILE",
    "RUN_FILES",
    "RESUMABLE",
    "RunDirError",
    "RunDir",
    "data_fingerprint",
    "config_fingerprint",
    "config_differences",
    "check_resume",
]

FORMAT = "scratchrnn-run"
RUN_FILE = "run.json"
LOCK_FILE = ".lock"
#: the files a training run writes into its directory (``--overwrite`` removes these only)
RUN_FILES = ("model.npz", "last.npz", "interrupted.npz", "metrics.json", RUN_FILE)
#: config keys that may differ between a run and its resumption: the epoch budget, and
#: where and how it runs (a checkpoint resumes on either backend and any device)
RESUMABLE = frozenset({
    "epochs", "early_stopping", "progress", "no_progress", "resume", "overwrite", "out",
    "data", "json", "backend", "device", "reference",
})
_MAX_RUN_JSON = 1 << 20


class RunDirError(ValueError):
    """A run directory cannot be used as asked; the message says why and what to do."""


# -- fingerprints ------------------------------------------------------------------------
def data_fingerprint(path: str | os.PathLike[str]) -> str:
    """``"sha256:<hex>"`` of a data file's bytes (other rows, or the same in another order,
    give another fingerprint)."""
    digest = hashlib.sha256()
    with open_regular(path) as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"


def _plain(value: Any) -> Any:
    """JSON's view of ``value`` (tuples become lists, NumPy scalars Python numbers)."""
    return json.loads(json.dumps(value, default=_default, allow_nan=False))


def _default(o: Any) -> Any:
    item = getattr(o, "item", None)
    if callable(item):
        return item()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def config_fingerprint(config: Mapping[str, Any],
                       resumable: Iterable[str] = RESUMABLE) -> dict[str, Any]:
    """The part of ``config`` that a resumed run must keep, as plain JSON data."""
    skip = set(resumable)
    return _plain({k: v for k, v in sorted(config.items()) if k not in skip})


def config_differences(saved: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """``["lr 0.001 -> 0.01", "hidden 64 -> 32", ...]`` between two config fingerprints."""
    out = []
    for key in sorted(set(saved) | set(current)):
        old, new = saved.get(key, "(unset)"), current.get(key, "(unset)")
        if old != new:
            out.append(f"{key} {json.dumps(old)} -> {json.dumps(new)}")
    return out


def _short(fingerprint: object) -> str:
    text = str(fingerprint)
    return text[:19] + "…" if len(text) > 20 else text


def check_resume(where: str | os.PathLike[str], saved: object, *, kind: str, data: str,
                 config: Mapping[str, Any]) -> None:
    """Refuse to resume from a checkpoint whose run record ``saved`` does not match.

    ``saved`` is the ``{"kind", "data", "config"}`` record the run stored (in its
    checkpoint); ``config`` is the new run's :func:`config_fingerprint`. Raises
    :class:`RunDirError` naming every difference in one line.
    """
    where = os.fspath(where)
    if not isinstance(saved, Mapping) or not {"kind", "data", "config"} <= set(saved):
        raise RunDirError(
            f"cannot resume from {where}: it holds no record of its run's data and config "
            "(written by an older scratchrnn or tampered with); train afresh with --overwrite")
    problems = []
    if saved["kind"] != kind:
        problems.append(f"it is a {saved['kind']} run, this is a {kind} run")
    if saved["data"] != data:
        problems.append(f"the data differ (fingerprint {_short(saved['data'])} there, "
                        f"{_short(data)} now: other rows or another order)")
    if not isinstance(saved["config"], Mapping):
        problems.append("its config record is malformed")
    else:
        diffs = config_differences(saved["config"], config)
        if diffs:
            problems.append("the config differs: " + ", ".join(diffs))
    if problems:
        raise RunDirError(
            f"cannot resume from {where}: " + "; ".join(problems)
            + " (only --epochs, --early-stopping, --backend and --device may change; "
            "train afresh with --overwrite)")


# -- the directory -----------------------------------------------------------------------
class RunDir:
    """The ``--out`` directory of one training run, owned while the run trains.

    Use as a context manager around the training::

        with RunDir(out, kind="classifier", data=fp, config=cfg).open(resume, overwrite):
            ...   # train, write checkpoints and metrics

    ``data`` is :func:`data_fingerprint` of the CSV; ``config`` the run's full config
    (:func:`config_fingerprint` keeps what a resume must match).
    """

    def __init__(self, path: str | os.PathLike[str], *, kind: str, data: str,
                 config: Mapping[str, Any]) -> None:
        if not os.fspath(path).strip():
            raise RunDirError("--out must name a directory, got an empty string")
        self.path = Path(path)
        self.kind = kind
        self.data = data
        self.config = config_fingerprint(config)
        self._fd: int | None = None

    # -- the record ---------------------------------------------------------------
    @property
    def record(self) -> dict[str, Any]:
        """What this run stores in ``run.json`` and in its checkpoints (``extra["run"]``)."""
        return {"format": FORMAT, "kind": self.kind, "data": self.data, "config": self.config}

    def read_record(self) -> dict[str, Any] | None:
        """The directory's ``run.json``, or None if it has none; RunDirError if unreadable."""
        path = self.path / RUN_FILE
        if not path.exists():
            return None
        try:
            record = loads_bounded(read_regular_bytes(path, _MAX_RUN_JSON))
        except (UnsafeFileError, OSError) as e:
            raise RunDirError(f"{path}: unreadable run record ({e}); pass --overwrite to "
                              "replace the run") from None
        if (not isinstance(record, dict) or record.get("format") != FORMAT
                or not isinstance(record.get("kind"), str)
                or not isinstance(record.get("config"), dict)):
            raise RunDirError(f"{path}: not a scratchrnn run record; pass --overwrite to "
                              "replace the run")
        return record

    # -- opening ------------------------------------------------------------------
    def open(self, resume: bool = False, overwrite: bool = False) -> RunDir:
        """Check the directory, take the lock, clean up, apply the overwrite rule.

        Returns ``self`` (a context manager that releases the lock). Raises
        :class:`RunDirError` (nothing is changed then, and the lock is not held).
        """
        if self.path.exists() and not self.path.is_dir():
            raise RunDirError(f"--out {self.path} is a file, not a directory")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise RunDirError(f"--out {self.path}: cannot create it ({e.strerror or e})") from None
        self._lock()
        try:
            remove_stale_temporaries(self.path)
            if not resume:
                self._claim(overwrite)
        except BaseException:
            self.close()
            raise
        return self

    def _claim(self, overwrite: bool) -> None:
        present = [name for name in RUN_FILES if (self.path / name).exists()]
        if present and not overwrite:
            record = self.read_record()
            if record is None:
                raise RunDirError(
                    f"--out {self.path} holds the files of another run ({', '.join(present)}) "
                    "without a run record; pass --overwrite to replace them, or choose "
                    "another --out")
            what = []
            if record["kind"] != self.kind:
                what.append(f"a {record['kind']} run, this is a {self.kind} run")
            else:
                if record.get("data") != self.data:
                    what.append("a run on other data")
                diffs = config_differences(record["config"], self.config)
                if diffs:
                    more = f", … ({len(diffs) - 4} more)" if len(diffs) > 4 else ""
                    what.append("a run with another config (" + ", ".join(diffs[:4]) + more + ")")
            if what:
                raise RunDirError(
                    f"--out {self.path} holds " + "; ".join(what)
                    + "; pass --overwrite to replace it, or choose another --out")
        if overwrite:  # another run's files go; the same run's are replaced as it saves
            for name in present:
                with contextlib.suppress(FileNotFoundError):
                    (self.path / name).unlink()
        atomic_write_json(self.path / RUN_FILE, self.record)

    # -- the lock -----------------------------------------------------------------
    def _busy(self, pid: str) -> RunDirError:
        who = f" (pid {pid})" if pid else ""
        return RunDirError(
            f"--out {self.path} is in use by another training run{who}; wait for it to "
            "finish or choose another --out")

    @staticmethod
    def _read_pid(fd: int) -> str:
        with contextlib.suppress(OSError):
            text = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
            return text if text.isdigit() else ""
        return ""

    def _lock(self) -> None:
        lock = self.path / LOCK_FILE
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
        for _ in range(20):
            if fcntl is None:  # pragma: no cover - Windows
                if self._lock_excl(lock):
                    return
                continue
            try:
                fd = os.open(lock, flags, 0o644)
            except OSError as e:
                raise RunDirError(
                    f"{lock}: cannot create the lock file ({e.strerror or e})") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                pid = self._read_pid(fd)
                os.close(fd)
                raise self._busy(pid) from None
            # a run that releases unlinks the file: make sure ours is the one at the name
            try:
                same = os.stat(lock, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            self._fd = fd
            return
        raise self._busy("")  # pragma: no cover - 20 lost races in a row

    def _lock_excl(self, lock: Path) -> bool:  # pragma: no cover - Windows
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            try:
                pid = lock.read_text().strip()
            except OSError:
                return False
            from .fileio import _alive

            if pid.isdigit() and not _alive(int(pid)):
                with contextlib.suppress(OSError):
                    lock.unlink()
                return False
            raise self._busy(pid) from None
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    @property
    def locked(self) -> bool:
        return self._fd is not None

    def close(self) -> None:
        """Release the lock (the lock file is removed)."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            (self.path / LOCK_FILE).unlink()
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> RunDir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
