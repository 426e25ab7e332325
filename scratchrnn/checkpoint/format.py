"""The checkpoint format: its constants, its errors, and the JSON <-> arrays mapping.

Shared by :mod:`.writing` and :mod:`.reading`; see :mod:`scratchrnn.checkpoint` for
the layout of a file.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..checks import all_finite, check_nonnegative_int

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "META_KEY",
    "PARAM_PREFIX",
    "OPTIM_PREFIX",
    "EXTRA_PREFIX",
    "ARRAY_PLACEHOLDER",
    "ARRAY_KINDS",
    "META_KEYS",
    "PathLike",
    "Checkpoint",
    "CheckpointError",
    "fail",
    "shorten",
    "describe",
    "check_name",
    "check_stored_array",
    "check_epoch",
    "to_json",
    "split_arrays",
    "join_arrays",
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
ARRAY_KINDS = "biufc"
META_KEYS = (
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


# -- helpers ---------------------------------------------------------------------------
def one_line(text: object) -> str:
    return " ".join(str(text).split())


def fail(path: PathLike, what: object) -> CheckpointError:
    """A CheckpointError whose one-line message starts with the file's path."""
    return CheckpointError(f"{os.fspath(path)}: {one_line(what)}")


def shorten(items: Iterable[object], limit: int = 8) -> str:
    """``[a, b, c]``, with at most ``limit`` items and a count of the rest."""
    items = list(items)
    shown = ", ".join(repr(x) for x in items[:limit])
    more = f", ... ({len(items) - limit} more)" if len(items) > limit else ""
    return f"[{shown}{more}]"


def describe(arr: np.ndarray) -> dict[str, Any]:
    return {"shape": list(arr.shape), "dtype": str(arr.dtype)}


def check_name(path: PathLike, what: str, name: object) -> str:
    if not isinstance(name, str) or not name:
        raise fail(path, f"{what} names must be non-empty strings, got {name!r}")
    if "\x00" in name:
        raise fail(path, f"{what} name {name!r} contains a NUL character")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise fail(path, f"{what} name {name!r} is not encodable as UTF-8") from None
    return name


def check_finite_parameter(path: PathLike, name: str, value: np.ndarray) -> None:
    """A model parameter must be finite: a checkpoint never holds, and a model never runs
    on, NaN or ±inf weights (written by a diverged run, or damaged on disk)."""
    if value.dtype.kind == "f" and not all_finite(value):
        bad = int(value.size - np.isfinite(value).sum())
        raise fail(path, f"parameter {name!r} holds NaN or inf in {bad} of {value.size} "
                         "entries: the checkpoint is damaged or its training diverged")


def check_stored_array(path: PathLike, where: str, value: object) -> np.ndarray:
    if not isinstance(value, np.ndarray):
        raise fail(path, f"{where} must be a numpy.ndarray, got {type(value).__name__}")
    if value.dtype.kind not in ARRAY_KINDS or value.dtype.fields is not None:
        raise fail(
            path,
            f"{where} has dtype {value.dtype}; checkpoints hold only bool, integer, float "
            "and complex arrays (never objects, which would need pickle)",
        )
    return value


def to_json(path: PathLike, where: str, value: object) -> Any:
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
            raise fail(
                path,
                f"{where} is {out}, which strict JSON cannot hold "
                "(store it as the string 'inf', '-inf' or 'nan')",
            )
        return out
    if isinstance(value, Mapping):
        out_dict: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise fail(
                    path,
                    f"{where} has the key {key!r} of type {type(key).__name__}; JSON keys "
                    "must be strings (convert them, or they would come back as strings)",
                )
            out_dict[key] = to_json(path, f"{where}[{key!r}]", item)
        return out_dict
    if isinstance(value, (list, tuple)):
        return [to_json(path, f"{where}[{i}]", item) for i, item in enumerate(value)]
    if isinstance(value, np.ndarray):
        raise fail(
            path,
            f"{where} is a numpy array; pass arrays in extra_arrays (or the model or "
            "optimizer state), not in the JSON metadata",
        )
    raise fail(path, f"{where} has type {type(value).__name__}, which is not JSON-serialisable")


def split_arrays(
    path: PathLike, value: object, keys: list[str], where: str, arrays: dict[str, np.ndarray]
) -> Any:
    """JSON part of a nested optimizer state; its arrays go into ``arrays``.

    ``keys`` is the path of ``value`` inside the state. Each array is stored under
    ``optim/<keys joined by '/'>`` and replaced by ``{"__ndarray__": that key}``.
    """
    if isinstance(value, np.ndarray):
        check_stored_array(path, where, value)
        npz_key = OPTIM_PREFIX + "/".join(keys)
        if npz_key in arrays:
            raise fail(path, f"{where}: two arrays of the optimizer state map to {npz_key!r}")
        arrays[npz_key] = value
        return {ARRAY_PLACEHOLDER: npz_key}
    if isinstance(value, Mapping):
        if ARRAY_PLACEHOLDER in value:
            raise fail(path, f"{where} uses the reserved key {ARRAY_PLACEHOLDER!r}")
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise fail(path, f"{where} has the non-string key {key!r}")
            check_name(path, "optimizer state key", key)
            out[key] = split_arrays(path, item, [*keys, key], f"{where}[{key!r}]", arrays)
        return out
    if isinstance(value, (list, tuple)):
        return [
            split_arrays(path, item, [*keys, str(i)], f"{where}[{i}]", arrays)
            for i, item in enumerate(value)
        ]
    return to_json(path, where, value)


def join_arrays(
    path: PathLike, value: Any, where: str, arrays: Mapping[str, np.ndarray], used: set[str]
) -> Any:
    """Inverse of :func:`split_arrays`: put the arrays back in place of the placeholders."""
    if isinstance(value, dict):
        if ARRAY_PLACEHOLDER in value:
            key = value[ARRAY_PLACEHOLDER]
            if len(value) != 1 or not isinstance(key, str) or not key.startswith(OPTIM_PREFIX):
                raise fail(path, f"meta.json: malformed array placeholder at {where}: {value!r}")
            if key not in arrays:
                raise fail(path, f"array {key!r} (optimizer state {where}) is missing")
            used.add(key)
            return arrays[key]
        return {k: join_arrays(path, v, f"{where}[{k!r}]", arrays, used) for k, v in value.items()}
    if isinstance(value, list):
        return [join_arrays(path, v, f"{where}[{i}]", arrays, used) for i, v in enumerate(value)]
    return value


def check_epoch(path: PathLike, epoch: object) -> int:
    try:
        return check_nonnegative_int("epoch", epoch)
    except ValueError as e:
        raise fail(path, e) from None
