"""Writing a checkpoint: validate everything, then one atomic ``.npz`` write."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..fileio import atomic_write
from .format import (
    EXTRA_PREFIX,
    FORMAT,
    FORMAT_VERSION,
    META_KEY,
    PARAM_PREFIX,
    PathLike,
    check_epoch,
    check_finite_parameter,
    check_name,
    check_stored_array,
    describe,
    fail,
    split_arrays,
    to_json,
)

__all__ = ["save_checkpoint"]


def _mapping_or_empty(path: PathLike, what: str, value: object) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise fail(path, f"{what} must be a dict, got {type(value).__name__}")
    return value


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
        raise fail(path, f"kind must be a non-empty string, got {kind!r}")
    if not isinstance(model_state, Mapping):
        raise fail(path, f"model_state must be a dict of arrays, got {type(model_state).__name__}")
    if not isinstance(hyperparameters, Mapping):
        raise fail(path, f"hyperparameters must be a dict, got {type(hyperparameters).__name__}")

    arrays: dict[str, np.ndarray] = {}
    params_meta: dict[str, Any] = {}
    for name, value in model_state.items():
        check_name(path, "parameter", name)
        arrays[PARAM_PREFIX + name] = check_stored_array(path, f"model_state[{name!r}]", value)
        check_finite_parameter(path, name, value)
        params_meta[name] = describe(value)

    extra_arrays_meta: dict[str, Any] = {}
    for key, value in _mapping_or_empty(path, "extra_arrays", extra_arrays).items():
        check_name(path, "extra array", key)
        arrays[EXTRA_PREFIX + key] = check_stored_array(path, f"extra_arrays[{key!r}]", value)
        extra_arrays_meta[key] = describe(value)

    if optimizer_state is not None and not isinstance(optimizer_state, Mapping):
        raise fail(path, f"optimizer_state must be a dict, got {type(optimizer_state).__name__}")
    optim_json = (
        None
        if optimizer_state is None
        else split_arrays(path, optimizer_state, [], "optimizer_state", arrays)
    )
    if scheduler_state is not None and not isinstance(scheduler_state, Mapping):
        raise fail(path, f"scheduler_state must be a dict, got {type(scheduler_state).__name__}")

    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "hyperparameters": to_json(path, "hyperparameters", hyperparameters),
        "vocabularies": to_json(
            path, "vocabularies", _mapping_or_empty(path, "vocabularies", vocabularies)
        ),
        "optimizer": optim_json,
        "scheduler": to_json(path, "scheduler_state", scheduler_state),
        "epoch": check_epoch(path, epoch),
        "extra": to_json(path, "extra", _mapping_or_empty(path, "extra", extra)),
        "params": params_meta,
        "extra_arrays": extra_arrays_meta,
    }
    meta_bytes = json.dumps(meta, ensure_ascii=False, allow_nan=False).encode("utf-8")
    arrays[META_KEY] = np.frombuffer(meta_bytes, dtype=np.uint8)

    # object arrays were rejected above
    atomic_write(path, lambda f: np.savez(f, **arrays))
    return path
