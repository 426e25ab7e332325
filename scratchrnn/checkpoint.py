"""Checkpoints: one ``.npz`` file with the arrays and a JSON manifest, no pickle anywhere.

A checkpoint is a single file written by :func:`save_checkpoint` and read back by
:func:`load_checkpoint`. It is an ordinary NumPy ``.npz`` (zip) archive whose
entries are::

    meta.json             uint8 array: the UTF-8 bytes of the JSON metadata below
    param/<name>          one model parameter, under its torch state_dict name
    optim/<path>          one array of the optimizer state (e.g. optim/buffers/exp_avg/fc.weight)
    extra/<key>           any extra array the caller passes (``extra_arrays``)

and the metadata is strict JSON (no NaN/Infinity)::

    {"format": "scratchrnn-checkpoint", "format_version": 1,
     "kind": "classifier",                       # what the model is; checked on load
     "hyperparameters": {...},                   # enough to rebuild the model
     "vocabularies": {...},
     "optimizer": {...} | null,                  # optimizer state_dict, arrays replaced
                                                 #   by {"__ndarray__": "optim/<path>"}
     "scheduler": {...} | null,                  # e.g. ReduceLROnPlateau.state_dict()
     "epoch": 3,
     "extra": {...},                             # free JSON: early stopping, RNG states, ...
     "params": {"fc.weight": {"shape": [4, 3], "dtype": "float32"}, ...},
     "extra_arrays": {"<key>": {"shape": [...], "dtype": "..."}, ...}}

Everything is read with ``np.load(..., allow_pickle=False)``: loading a checkpoint
never executes code, and an archive holding an object array is rejected. Every
problem on loading (missing file, not an archive, a torch ``.pth``, a truncated
or corrupted file, a newer format, the wrong kind of model, arrays that disagree
with the manifest or with what the caller expects) raises :class:`CheckpointError`
(a ``ValueError``) with a one-line message that starts with the file's path.

Writes are atomic: the archive goes to a temporary file in the target's
directory, is flushed and ``fsync``-ed, then ``os.replace``-d onto the real name,
so a crash mid-write leaves any earlier checkpoint at that name intact.

Typical use::

    save_checkpoint(path, model.state_dict(), kind="classifier",
                    hyperparameters=hp, optimizer_state=opt.state_dict(),
                    scheduler_state=sched.state_dict(), epoch=epoch,
                    extra={"rng": rng.bit_generator.state})
    ckpt = load_checkpoint(path, kind="classifier", expected_params=parameter_spec(model))
    load_into(model, ckpt)
    opt.load_state_dict(ckpt.optimizer_state)
"""

from __future__ import annotations

import contextlib
import json
import math
import operator
import os
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "Checkpoint",
    "CheckpointError",
    "save_checkpoint",
    "load_checkpoint",
    "load_into",
    "parameter_spec",
]

#: value of the ``"format"`` key of every scratchrnn checkpoint's metadata
FORMAT = "scratchrnn-checkpoint"
#: the newest format version this module writes and reads
FORMAT_VERSION = 1

META_KEY = "meta.json"
PARAM_PREFIX = "param/"
OPTIM_PREFIX = "optim/"
EXTRA_PREFIX = "extra/"
#: key of the JSON object that stands for an array in the ``"optimizer"`` metadata
ARRAY_PLACEHOLDER = "__ndarray__"

#: dtype kinds an array may have in a checkpoint: bool, ints, uints, floats, complex
_ARRAY_KINDS = "biufc"
_META_KEYS = (
    "format",
    "format_version",
    "kind",
    "hyperparameters",
    "vocabularies",
    "optimizer",
    "scheduler",
    "epoch",
    "extra",
    "params",
    "extra_arrays",
)

PathLike = str | os.PathLike[str]
#: ``{name: (shape, dtype)}`` as :func:`parameter_spec` returns it
ParamSpec = Mapping[str, tuple[Iterable[int], Any]]


class CheckpointError(ValueError):
    """A checkpoint could not be written or read; the message names the file and why."""


@dataclass
class Checkpoint:
    """Everything :func:`load_checkpoint` read from one file.

    ``optimizer_state`` is the optimizer's ``state_dict()`` exactly as it was saved
    (arrays included), ready for ``optimizer.load_state_dict``; ``None`` if none
    was saved. Likewise ``scheduler_state``.
    """

    model_state: dict[str, np.ndarray]
    kind: str
    hyperparameters: dict[str, Any]
    vocabularies: dict[str, Any] = field(default_factory=dict)
    optimizer_state: dict[str, Any] | None = None
    scheduler_state: dict[str, Any] | None = None
    epoch: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    extra_arrays: dict[str, np.ndarray] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    #: the file it was read from
    path: Path | None = None


# -- small helpers ---------------------------------------------------------------------
def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _fail(path: PathLike, what: object) -> CheckpointError:
    """A CheckpointError whose one-line message starts with the file's path."""
    return CheckpointError(f"{os.fspath(path)}: {_one_line(what)}")


def _shorten(items: Iterable[object], limit: int = 8) -> str:
    """``[a, b, c]``, with at most ``limit`` items and a count of the rest."""
    items = list(items)
    shown = ", ".join(repr(x) for x in items[:limit])
    more = f", ... ({len(items) - limit} more)" if len(items) > limit else ""
    return f"[{shown}{more}]"


def _describe(arr: np.ndarray) -> dict[str, Any]:
    return {"shape": list(arr.shape), "dtype": str(arr.dtype)}


def _check_name(path: PathLike, what: str, name: object) -> str:
    if not isinstance(name, str) or not name:
        raise _fail(path, f"{what} names must be non-empty strings, got {name!r}")
    if "\x00" in name:
        raise _fail(path, f"{what} name {name!r} contains a NUL character")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise _fail(path, f"{what} name {name!r} is not encodable as UTF-8") from None
    return name


def _check_array(path: PathLike, where: str, value: object) -> np.ndarray:
    if not isinstance(value, np.ndarray):
        raise _fail(path, f"{where} must be a numpy.ndarray, got {type(value).__name__}")
    if value.dtype.kind not in _ARRAY_KINDS or value.dtype.fields is not None:
        raise _fail(
            path,
            f"{where} has dtype {value.dtype}; checkpoints hold only bool, integer, float "
            "and complex arrays (never objects, which would need pickle)",
        )
    return value


def _to_json(path: PathLike, where: str, value: object) -> Any:
    """A strict-JSON copy of ``value``; tuples become lists, NumPy scalars Python scalars.

    Rejects anything JSON would not round-trip exactly: non-string dict keys,
    non-finite floats, arrays, other objects.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        out = float(value)
        if not math.isfinite(out):
            raise _fail(
                path,
                f"{where} is {out}, which strict JSON cannot hold "
                "(store it as the string 'inf', '-inf' or 'nan')",
            )
        return out
    if isinstance(value, Mapping):
        out_dict: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise _fail(
                    path,
                    f"{where} has the key {key!r} of type {type(key).__name__}; JSON keys "
                    "must be strings (convert them, or they would come back as strings)",
                )
            out_dict[key] = _to_json(path, f"{where}[{key!r}]", item)
        return out_dict
    if isinstance(value, (list, tuple)):
        return [_to_json(path, f"{where}[{i}]", item) for i, item in enumerate(value)]
    if isinstance(value, np.ndarray):
        raise _fail(
            path,
            f"{where} is a numpy array; pass arrays in extra_arrays (or the model or "
            "optimizer state), not in the JSON metadata",
        )
    raise _fail(path, f"{where} has type {type(value).__name__}, which is not JSON-serialisable")


def _split_arrays(
    path: PathLike, value: object, keys: list[str], where: str, arrays: dict[str, np.ndarray]
) -> Any:
    """JSON part of a nested optimizer state; its arrays go into ``arrays``.

    ``keys`` is the path of ``value`` inside the state. Each array is stored under
    ``optim/<keys joined by '/'>`` and replaced by ``{"__ndarray__": that key}``.
    """
    if isinstance(value, np.ndarray):
        _check_array(path, where, value)
        npz_key = OPTIM_PREFIX + "/".join(keys)
        if npz_key in arrays:
            raise _fail(path, f"{where}: two arrays of the optimizer state map to {npz_key!r}")
        arrays[npz_key] = value
        return {ARRAY_PLACEHOLDER: npz_key}
    if isinstance(value, Mapping):
        if ARRAY_PLACEHOLDER in value:
            raise _fail(path, f"{where} uses the reserved key {ARRAY_PLACEHOLDER!r}")
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise _fail(path, f"{where} has the non-string key {key!r}")
            _check_name(path, "optimizer state key", key)
            out[key] = _split_arrays(path, item, [*keys, key], f"{where}[{key!r}]", arrays)
        return out
    if isinstance(value, (list, tuple)):
        return [
            _split_arrays(path, item, [*keys, str(i)], f"{where}[{i}]", arrays)
            for i, item in enumerate(value)
        ]
    return _to_json(path, where, value)


def _join_arrays(
    path: PathLike, value: Any, where: str, arrays: Mapping[str, np.ndarray], used: set[str]
) -> Any:
    """Inverse of :func:`_split_arrays`: put the arrays back in place of the placeholders."""
    if isinstance(value, dict):
        if ARRAY_PLACEHOLDER in value:
            key = value[ARRAY_PLACEHOLDER]
            if len(value) != 1 or not isinstance(key, str) or not key.startswith(OPTIM_PREFIX):
                raise _fail(path, f"meta.json: malformed array placeholder at {where}: {value!r}")
            if key not in arrays:
                raise _fail(path, f"array {key!r} (optimizer state {where}) is missing")
            used.add(key)
            return arrays[key]
        return {k: _join_arrays(path, v, f"{where}[{k!r}]", arrays, used) for k, v in value.items()}
    if isinstance(value, list):
        return [_join_arrays(path, v, f"{where}[{i}]", arrays, used) for i, v in enumerate(value)]
    return value


def _check_epoch(path: PathLike, epoch: object) -> int:
    if isinstance(epoch, (bool, np.bool_)) or not isinstance(epoch, (int, np.integer)):
        raise _fail(path, f"epoch must be an integer >= 0, got {epoch!r}")
    if epoch < 0:
        raise _fail(path, f"epoch must be an integer >= 0, got {epoch!r}")
    return int(epoch)


def _mapping_or_empty(path: PathLike, what: str, value: object) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _fail(path, f"{what} must be a dict, got {type(value).__name__}")
    return value


# -- saving ------------------------------------------------------------------------------
def _fsync_dir(directory: Path) -> None:
    """Make the rename durable where the platform allows (POSIX); best effort elsewhere."""
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


def save_checkpoint(
    path: PathLike,
    model_state: Mapping[str, np.ndarray],
    *,
    kind: str,
    hyperparameters: Mapping[str, Any],
    vocabularies: Mapping[str, Any] | None = None,
    optimizer_state: Mapping[str, Any] | None = None,
    scheduler_state: Mapping[str, Any] | None = None,
    epoch: int = 0,
    extra: Mapping[str, Any] | None = None,
    extra_arrays: Mapping[str, np.ndarray] | None = None,
) -> Path:
    """Write a checkpoint to ``path`` atomically and return ``path`` as a Path.

    ``model_state`` maps parameter names to arrays (``Module.state_dict()``).
    ``kind`` names what the model is (``"classifier"``, ``"generator"``, ...) and
    is checked by :func:`load_checkpoint`. ``hyperparameters``, ``vocabularies``,
    ``scheduler_state`` and ``extra`` must be strict JSON data (string keys, finite
    floats; tuples come back as lists, NumPy scalars as Python scalars).
    ``optimizer_state`` is an optimizer's ``state_dict()``: any nested dicts and
    lists of JSON data and arrays, restored exactly. ``extra_arrays`` are further
    named arrays. Arrays must have a bool, integer, float or complex dtype.

    The file is written exactly at ``path`` (no suffix is added); missing parent
    directories are created. Everything is validated before anything is written;
    the write goes to a temporary file in the same directory which replaces
    ``path`` only once complete and synced to disk, and which is removed on any
    error. Raises :class:`CheckpointError` for invalid inputs.
    """
    path = Path(path)
    if not isinstance(kind, str) or not kind:
        raise _fail(path, f"kind must be a non-empty string, got {kind!r}")
    if not isinstance(model_state, Mapping):
        raise _fail(path, f"model_state must be a dict of arrays, got {type(model_state).__name__}")
    if not isinstance(hyperparameters, Mapping):
        raise _fail(path, f"hyperparameters must be a dict, got {type(hyperparameters).__name__}")

    arrays: dict[str, np.ndarray] = {}
    params_meta: dict[str, Any] = {}
    for name, value in model_state.items():
        _check_name(path, "parameter", name)
        arrays[PARAM_PREFIX + name] = _check_array(path, f"model_state[{name!r}]", value)
        params_meta[name] = _describe(value)

    extra_arrays_meta: dict[str, Any] = {}
    for key, value in _mapping_or_empty(path, "extra_arrays", extra_arrays).items():
        _check_name(path, "extra array", key)
        arrays[EXTRA_PREFIX + key] = _check_array(path, f"extra_arrays[{key!r}]", value)
        extra_arrays_meta[key] = _describe(value)

    if optimizer_state is not None and not isinstance(optimizer_state, Mapping):
        raise _fail(path, f"optimizer_state must be a dict, got {type(optimizer_state).__name__}")
    optim_json = (
        None
        if optimizer_state is None
        else _split_arrays(path, optimizer_state, [], "optimizer_state", arrays)
    )
    if scheduler_state is not None and not isinstance(scheduler_state, Mapping):
        raise _fail(path, f"scheduler_state must be a dict, got {type(scheduler_state).__name__}")

    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "hyperparameters": _to_json(path, "hyperparameters", hyperparameters),
        "vocabularies": _to_json(
            path, "vocabularies", _mapping_or_empty(path, "vocabularies", vocabularies)
        ),
        "optimizer": optim_json,
        "scheduler": _to_json(path, "scheduler_state", scheduler_state),
        "epoch": _check_epoch(path, epoch),
        "extra": _to_json(path, "extra", _mapping_or_empty(path, "extra", extra)),
        "params": params_meta,
        "extra_arrays": extra_arrays_meta,
    }
    meta_bytes = json.dumps(meta, ensure_ascii=False, allow_nan=False).encode("utf-8")
    arrays[META_KEY] = np.frombuffer(meta_bytes, dtype=np.uint8)

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o777  # keep the permissions of the file we replace
    except OSError:
        mode = 0o644
    tmp = tempfile.NamedTemporaryFile(
        mode="wb", delete=False, dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with tmp:
            np.savez(tmp, **arrays)  # object arrays were rejected above
            tmp.flush()
            os.fsync(tmp.fileno())
        with contextlib.suppress(OSError):
            os.chmod(tmp.name, mode)
        os.replace(tmp.name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp.name)
        raise
    _fsync_dir(path.parent)
    return path


# -- loading -------------------------------------------------------------------------------
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError)


def _sniff(path: Path) -> None:
    """Fail early, with a precise message, on what is not a zip archive at all."""
    if not path.exists():
        raise _fail(path, "no such file")
    if path.is_dir():
        raise _fail(path, "is a directory, not a checkpoint file")
    try:
        with open(path, "rb") as f:
            head = f.read(6)
    except OSError as e:
        raise _fail(path, f"cannot be read ({e.strerror or e})") from None
    if head[:4] in _ZIP_MAGICS:
        return
    if not head:
        raise _fail(path, "is empty, not a scratchrnn checkpoint")
    if head == b"\x93NUMPY":
        raise _fail(path, "is a single .npy array, not a scratchrnn checkpoint (.npz archive)")
    if head[:1] == b"\x80":
        raise _fail(
            path,
            "looks like a pickle (a legacy torch .pth?), not a scratchrnn checkpoint; "
            "scratchrnn never unpickles files",
        )
    raise _fail(path, "is not a zip/.npz archive, so not a scratchrnn checkpoint")


def _read_meta(path: Path, npz: Any, files: list[str]) -> dict[str, Any]:
    if META_KEY not in files:
        torchish = any(f == "data.pkl" or f.endswith("/data.pkl") for f in npz.zip.namelist())
        hint = " (it looks like a torch checkpoint)" if torchish else ""
        raise _fail(path, f"not a scratchrnn checkpoint: the archive has no {META_KEY}{hint}")
    raw = npz[META_KEY]
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise _fail(path, f"{META_KEY} must be a 1-d uint8 array, got {raw.dtype} {raw.shape}")

    def no_constants(name: str) -> None:
        raise ValueError(f"non-standard JSON constant {name}")

    try:
        meta = json.loads(raw.tobytes().decode("utf-8"), parse_constant=no_constants)
    except (UnicodeDecodeError, ValueError) as e:
        raise _fail(path, f"{META_KEY} is not valid UTF-8 JSON ({e})") from None
    if not isinstance(meta, dict):
        raise _fail(path, f"{META_KEY} must hold a JSON object, got {type(meta).__name__}")
    return meta


def _check_meta(path: Path, meta: dict[str, Any], kind: str | None) -> None:
    if meta.get("format") != FORMAT:
        raise _fail(path, f"unknown checkpoint format {meta.get('format')!r} (expected {FORMAT!r})")
    version = meta.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _fail(path, f"invalid format_version {version!r}")
    if version > FORMAT_VERSION:
        raise _fail(
            path,
            f"format_version {version} is newer than this scratchrnn reads "
            f"(up to {FORMAT_VERSION}); upgrade scratchrnn",
        )
    missing = [key for key in _META_KEYS if key not in meta]
    unexpected = sorted(set(meta) - set(_META_KEYS))
    if missing or unexpected:
        raise _fail(
            path, f"{META_KEY} is malformed: missing keys {missing}, unexpected keys {unexpected}"
        )
    if not isinstance(meta["kind"], str):
        raise _fail(path, f"{META_KEY}: kind must be a string, got {meta['kind']!r}")
    if kind is not None and meta["kind"] != kind:
        raise _fail(path, f"this is a {meta['kind']} checkpoint, expected {kind}")
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
            raise _fail(
                path, f"{META_KEY}: {key} has type {type(meta[key]).__name__}, expected a dict"
            )
    epoch = meta["epoch"]
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise _fail(path, f"{META_KEY}: epoch must be an integer >= 0, got {epoch!r}")


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
            raise _fail(path, f"{META_KEY}: malformed entry for {what} {name!r}: {desc!r}")
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
        problems.append(f"{what}s not listed in {META_KEY}: {_shorten(stray)}")
    if problems:
        raise _fail(path, "; ".join(problems))
    return out


def _normalise_spec(path: PathLike, spec: object) -> dict[str, tuple[tuple[int, ...], Any]]:
    """``{name: (shape tuple, np.dtype or None)}`` from a caller's ``expected_params``."""
    if not isinstance(spec, Mapping):
        raise _fail(path, f"expected_params must be a dict, got {type(spec).__name__}")
    out: dict[str, tuple[tuple[int, ...], Any]] = {}
    for name, entry in spec.items():
        try:
            shape, dtype = entry
            shape = tuple(operator.index(n) for n in shape)
            dtype = None if dtype is None else np.dtype(dtype)
        except (TypeError, ValueError):
            raise _fail(
                path, f"expected_params[{name!r}] must be (shape, dtype), got {entry!r}"
            ) from None
        out[name] = (shape, dtype)
    return out


def _spec_differences(
    actual: Mapping[str, np.ndarray], expected: ParamSpec, target: str | None = None
) -> list[str]:
    """Differences between a checkpoint's arrays and a ``{name: (shape, dtype)}`` spec.

    ``target`` names what the spec describes (``"the Classifier"``); ``None`` means
    the caller's ``expected_params``.
    """
    not_there = "not expected" if target is None else f"not in {target}"
    other = "expected" if target is None else f"{target} has"
    problems: list[str] = []
    missing = [name for name in expected if name not in actual]
    unexpected = [name for name in actual if name not in expected]
    if missing:
        problems.append(f"missing from the checkpoint: {_shorten(missing)}")
    if unexpected:
        problems.append(f"in the checkpoint but {not_there}: {_shorten(unexpected)}")
    for name, (shape, dtype) in expected.items():
        if name not in actual:
            continue
        arr = actual[name]
        want_shape = tuple(int(n) for n in shape)
        if arr.shape != want_shape:
            problems.append(
                f"{name!r} has shape {arr.shape} in the checkpoint, {other} {want_shape}"
            )
        if dtype is not None and arr.dtype != np.dtype(dtype):
            problems.append(
                f"{name!r} has dtype {arr.dtype} in the checkpoint, {other} {np.dtype(dtype)}"
            )
    return problems


def load_checkpoint(
    path: PathLike,
    *,
    kind: str | None = None,
    expected_params: ParamSpec | None = None,
) -> Checkpoint:
    """Read and check a checkpoint written by :func:`save_checkpoint`.

    ``kind``, if given, must match the kind it was saved with. ``expected_params``
    (``{name: (shape, dtype)}``, e.g. :func:`parameter_spec` of the model to load
    into; a dtype of ``None`` accepts any) must match the saved parameters exactly:
    the same names, shapes and dtypes. The file is read with
    ``allow_pickle=False``; every zip member's CRC is verified.

    Raises :class:`CheckpointError`, naming the file and the problem, if the file
    is missing, is not a scratchrnn checkpoint (random bytes, a torch ``.pth``, a
    zip without ``meta.json``), is truncated or corrupted, has an unknown or newer
    format, is of another kind, or holds arrays that disagree with its own
    manifest or with ``expected_params``.
    """
    path = Path(path)
    if expected_params is not None:
        expected_params = _normalise_spec(path, expected_params)
    _sniff(path)
    try:
        loaded = np.load(path, allow_pickle=False)
    except _READ_ERRORS as e:
        raise _fail(
            path, f"cannot be read as an .npz archive (truncated or corrupted?): {e}"
        ) from None
    if not isinstance(loaded, np.lib.npyio.NpzFile):  # pragma: no cover - _sniff catches it
        raise _fail(path, "is not an .npz archive")
    try:
        with loaded as npz:
            return _load_from(path, npz, kind, expected_params)
    except CheckpointError:
        raise
    except _READ_ERRORS as e:
        reason = _one_line(e)
        if "allow_pickle" in reason or "Object arrays" in reason:
            reason = f"it holds an object array, which would need pickle ({reason})"
        else:
            reason = f"truncated or corrupted ({type(e).__name__}: {reason})"
        raise _fail(path, f"cannot be read: {reason}") from None


def _load_from(
    path: Path, npz: Any, kind: str | None, expected_params: ParamSpec | None
) -> Checkpoint:
    # Verify every member's CRC first: a flipped bit anywhere is an error, not a bad weight.
    bad = npz.zip.testzip()
    if bad is not None:
        raise _fail(path, f"corrupted: CRC check failed for archive member {bad!r}")
    files = list(npz.files)
    meta = _read_meta(path, npz, files)
    _check_meta(path, meta, kind)

    stray = sorted(
        f
        for f in files
        if f != META_KEY and not f.startswith((PARAM_PREFIX, OPTIM_PREFIX, EXTRA_PREFIX))
    )
    if stray:
        raise _fail(path, f"unexpected archive entries {_shorten(stray)}")
    # Read every array (allow_pickle=False: an object array fails here, unexecuted).
    entries = {f: npz[f] for f in files if f != META_KEY}
    odd = [f"{f} ({a.dtype})" for f, a in entries.items() if a.dtype.kind not in _ARRAY_KINDS]
    if odd:
        raise _fail(path, f"arrays of unsupported dtype: {_shorten(odd)}")
    model_state = _manifest_arrays(path, entries, meta["params"], PARAM_PREFIX, "parameter")
    extra_arrays = _manifest_arrays(
        path, entries, meta["extra_arrays"], EXTRA_PREFIX, "extra array"
    )

    optimizer_state = None
    optim_arrays = {f: a for f, a in entries.items() if f.startswith(OPTIM_PREFIX)}
    used: set[str] = set()
    if meta["optimizer"] is not None:
        optimizer_state = _join_arrays(path, meta["optimizer"], "optimizer", optim_arrays, used)
    unused = sorted(set(optim_arrays) - used)
    if unused:
        raise _fail(path, f"optimizer arrays not referenced by {META_KEY}: {_shorten(unused)}")

    if expected_params is not None:
        problems = _spec_differences(model_state, expected_params)
        if problems:
            raise _fail(path, "parameters do not match the expected ones: " + "; ".join(problems))

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


# -- models ----------------------------------------------------------------------------
def parameter_spec(module: Any) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """``{name: (shape, dtype)}`` of a Module's parameters, for ``expected_params``."""
    return {name: (p.shape, p.dtype) for name, p, _ in module.named_parameters()}


def load_into(module: Any, checkpoint: Checkpoint | PathLike) -> Checkpoint:
    """Copy a checkpoint's parameters into ``module`` in place; return the checkpoint.

    ``checkpoint`` is a :class:`Checkpoint` or a path (then loaded first). The
    names, shapes and dtypes must match ``module.named_parameters()`` exactly;
    otherwise :class:`CheckpointError` lists every difference and nothing is
    changed.
    """
    if not isinstance(checkpoint, Checkpoint):
        checkpoint = load_checkpoint(checkpoint)
    where = checkpoint.path if checkpoint.path is not None else "<checkpoint>"
    own = {name: p for name, p, _ in module.named_parameters()}
    problems = _spec_differences(
        checkpoint.model_state,
        {name: (p.shape, p.dtype) for name, p in own.items()},
        target=f"the {type(module).__name__}",
    )
    if problems:
        raise _fail(where, f"does not fit {type(module).__name__}: " + "; ".join(problems))
    for name, p in own.items():
        p[...] = checkpoint.model_state[name]
    return checkpoint
