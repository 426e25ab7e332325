"""Reading a checkpoint: sniff the file, check the manifest and every array, rebuild."""

from __future__ import annotations

import os
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..fileio import UnsafeFileError, check_npz_members, loads_bounded, open_regular
from .format import (
    ARRAY_KINDS,
    EXTRA_PREFIX,
    FORMAT,
    FORMAT_VERSION,
    META_KEY,
    META_KEYS,
    OPTIM_PREFIX,
    PARAM_PREFIX,
    Checkpoint,
    CheckpointError,
    PathLike,
    check_epoch,
    check_finite_parameter,
    fail,
    join_arrays,
    one_line,
    shorten,
)

__all__ = ["load_checkpoint"]


#: the largest meta.json a checkpoint may hold (bytes)
MAX_META_BYTES = 16 * 2**20
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError)


def _sniff(path: Path) -> IO[bytes]:
    """Open ``path`` (a regular file only: never wait on a FIFO) and fail early, with a
    precise message, on what is not a zip archive at all. Returns the open file."""
    if not path.exists():
        raise fail(path, "no such file")
    try:
        f = open_regular(path)
    except UnsafeFileError as e:
        raise fail(path, f"{e}, not a checkpoint file") from None
    except OSError as e:
        raise fail(path, f"cannot be read ({e.strerror or e})") from None
    try:
        head = f.read(6)
        f.seek(0)
    except OSError as e:
        f.close()
        raise fail(path, f"cannot be read ({e.strerror or e})") from None
    if head[:4] in _ZIP_MAGICS:
        return f
    f.close()
    if not head:
        raise fail(path, "is empty, not a scratchrnn checkpoint")
    if head == b"\x93NUMPY":
        raise fail(path, "is a single .npy array, not a scratchrnn checkpoint (.npz archive)")
    if head[:1] == b"\x80":
        raise fail(
            path,
            "looks like a pickle (a legacy torch .pth?), not a scratchrnn checkpoint; "
            "scratchrnn never unpickles files",
        )
    raise fail(path, "is not a zip/.npz archive, so not a scratchrnn checkpoint")


def _check_declared_sizes(path: Path, f: IO[bytes]) -> None:
    """Every member's declared sizes against the file's size, before any array is read."""
    size = os.fstat(f.fileno()).st_size
    try:
        with zipfile.ZipFile(f) as zf:
            check_npz_members(zf, size, json_member=META_KEY + ".npy",
                              max_json_bytes=MAX_META_BYTES)
    except UnsafeFileError as e:
        raise fail(path, str(e)) from None
    finally:
        f.seek(0)


def _read_meta(path: Path, npz: Any, files: list[str]) -> dict[str, Any]:
    if META_KEY not in files:
        torchish = any(f == "data.pkl" or f.endswith("/data.pkl") for f in npz.zip.namelist())
        hint = " (it looks like a torch checkpoint)" if torchish else ""
        raise fail(path, f"not a scratchrnn checkpoint: the archive has no {META_KEY}{hint}")
    raw = npz[META_KEY]
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise fail(path, f"{META_KEY} must be a 1-d uint8 array, got {raw.dtype} {raw.shape}")

    try:
        meta = loads_bounded(raw.tobytes(), max_bytes=MAX_META_BYTES)
    except UnsafeFileError as e:
        raise fail(path, f"{META_KEY} is not valid UTF-8 JSON ({e})") from None
    if not isinstance(meta, dict):
        raise fail(path, f"{META_KEY} must hold a JSON object, got {type(meta).__name__}")
    return meta


def _check_meta(path: Path, meta: dict[str, Any], kind: str | None) -> None:
    if meta.get("format") != FORMAT:
        raise fail(path, f"unknown checkpoint format {meta.get('format')!r} (expected {FORMAT!r})")
    version = meta.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise fail(path, f"invalid format_version {version!r}")
    if version > FORMAT_VERSION:
        raise fail(
            path,
            f"format_version {version} is newer than this scratchrnn reads "
            f"(up to {FORMAT_VERSION}); upgrade scratchrnn",
        )
    missing = [key for key in META_KEYS if key not in meta]
    unexpected = sorted(set(meta) - set(META_KEYS))
    if missing or unexpected:
        raise fail(
            path, f"{META_KEY} is malformed: missing keys {missing}, unexpected keys {unexpected}"
        )
    if not isinstance(meta["kind"], str):
        raise fail(path, f"{META_KEY}: kind must be a string, got {meta['kind']!r}")
    if kind is not None and meta["kind"] != kind:
        raise fail(path, f"this is a {meta['kind']} checkpoint, expected {kind}")
    types = {
        "hyperparameters": (dict,),
        "vocabularies": (dict,),
        "optimizer": (dict, type(None)),
        "scheduler": (dict, type(None)),
        "extra": (dict,),
        "params": (dict,),
        "extra_arrays": (dict,),
    }
    for key, allowed in types.items():
        if not isinstance(meta[key], allowed):
            raise fail(
                path, f"{META_KEY}: {key} has type {type(meta[key]).__name__}, expected a dict"
            )
    check_epoch(path, meta["epoch"])


def _manifest_arrays(
    path: Path,
    entries: Mapping[str, np.ndarray],
    manifest: dict[str, Any],
    prefix: str,
    what: str,
) -> dict[str, np.ndarray]:
    """The arrays ``manifest`` lists under ``prefix``, checked for shape, dtype, strays."""
    out: dict[str, np.ndarray] = {}
    problems: list[str] = []
    for name, desc in manifest.items():
        if (
            not isinstance(desc, dict)
            or set(desc) != {"shape", "dtype"}
            or not isinstance(desc["shape"], list)
            or not all(isinstance(n, int) and not isinstance(n, bool) for n in desc["shape"])
            or not isinstance(desc["dtype"], str)
        ):
            raise fail(path, f"{META_KEY}: malformed entry for {what} {name!r}: {desc!r}")
        key = prefix + name
        if key not in entries:
            problems.append(f"{what} {name!r} is listed in {META_KEY} but missing")
            continue
        arr = entries[key]
        shape, dtype = tuple(desc["shape"]), desc["dtype"]
        if arr.shape != shape:
            problems.append(f"{what} {name!r} has shape {arr.shape}, {META_KEY} says {shape}")
        if str(arr.dtype) != dtype:
            problems.append(f"{what} {name!r} has dtype {arr.dtype}, {META_KEY} says {dtype}")
        out[name] = arr
    stray = sorted(
        f[len(prefix) :]
        for f in entries
        if f.startswith(prefix) and f[len(prefix) :] not in manifest
    )
    if stray:
        problems.append(f"{what}s not listed in {META_KEY}: {shorten(stray)}")
    if problems:
        raise fail(path, "; ".join(problems))
    return out


def load_checkpoint(
    path: PathLike,
    *,
    kind: str | None = None,
) -> Checkpoint:
    """Read and check a checkpoint written by :func:`save_checkpoint`.

    ``kind``, if given, must match the kind it was saved with. The file is read with
    ``allow_pickle=False``; every zip member's CRC is verified. Whether the
    parameters fit a model is checked where they are loaded into it
    (``Module.load_state_dict``).

    Raises :class:`CheckpointError`, naming the file and the problem, if the file
    is missing, is not a scratchrnn checkpoint (random bytes, a torch ``.pth``, a
    zip without ``meta.json``), is truncated or corrupted, has an unknown or newer
    format, is of another kind, or holds arrays that disagree with its own
    manifest.
    """
    path = Path(path)
    with _sniff(path) as f:
        try:
            _check_declared_sizes(path, f)
            loaded = np.load(f, allow_pickle=False)
        except _READ_ERRORS as e:
            if isinstance(e, CheckpointError):
                raise
            raise fail(
                path, f"cannot be read as an .npz archive (truncated or corrupted?): {e}"
            ) from None
        if not isinstance(loaded, np.lib.npyio.NpzFile):  # pragma: no cover - _sniff catches it
            raise fail(path, "is not an .npz archive")
        return _read_archive(path, loaded, kind)


def _read_archive(path: Path, loaded: Any, kind: str | None) -> Checkpoint:
    try:
        with loaded as npz:
            return _load_from(path, npz, kind)
    except CheckpointError:
        raise
    except _READ_ERRORS as e:
        reason = one_line(e)
        if "allow_pickle" in reason or "Object arrays" in reason:
            reason = f"it holds an object array, which would need pickle ({reason})"
        else:
            reason = f"truncated or corrupted ({type(e).__name__}: {reason})"
        raise fail(path, f"cannot be read: {reason}") from None


def _load_from(path: Path, npz: Any, kind: str | None) -> Checkpoint:
    # Verify every member's CRC first: a flipped bit anywhere is an error, not a bad weight.
    bad = npz.zip.testzip()
    if bad is not None:
        raise fail(path, f"corrupted: CRC check failed for archive member {bad!r}")
    files = list(npz.files)
    meta = _read_meta(path, npz, files)
    _check_meta(path, meta, kind)

    stray = sorted(
        f
        for f in files
        if f != META_KEY and not f.startswith((PARAM_PREFIX, OPTIM_PREFIX, EXTRA_PREFIX))
    )
    if stray:
        raise fail(path, f"unexpected archive entries {shorten(stray)}")
    # Read every array (allow_pickle=False: an object array fails here, unexecuted).
    entries = {f: npz[f] for f in files if f != META_KEY}
    odd = [f"{f} ({a.dtype})" for f, a in entries.items() if a.dtype.kind not in ARRAY_KINDS]
    if odd:
        raise fail(path, f"arrays of unsupported dtype: {shorten(odd)}")
    model_state = _manifest_arrays(path, entries, meta["params"], PARAM_PREFIX, "parameter")
    for name, value in model_state.items():
        check_finite_parameter(path, name, value)
    extra_arrays = _manifest_arrays(
        path, entries, meta["extra_arrays"], EXTRA_PREFIX, "extra array"
    )

    optimizer_state = None
    optim_arrays = {f: a for f, a in entries.items() if f.startswith(OPTIM_PREFIX)}
    used: set[str] = set()
    if meta["optimizer"] is not None:
        optimizer_state = join_arrays(path, meta["optimizer"], "optimizer", optim_arrays, used)
    unused = sorted(set(optim_arrays) - used)
    if unused:
        raise fail(path, f"optimizer arrays not referenced by {META_KEY}: {shorten(unused)}")

    return Checkpoint(
        model_state=model_state,
        kind=meta["kind"],
        hyperparameters=meta["hyperparameters"],
        vocabularies=meta["vocabularies"],
        optimizer_state=optimizer_state,
        scheduler_state=meta["scheduler"],
        epoch=meta["epoch"],
        extra=meta["extra"],
        extra_arrays=extra_arrays,
        format_version=meta["format_version"],
        path=path,
    )
