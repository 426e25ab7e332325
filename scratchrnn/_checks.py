"""Input validation for public entry points: fail loudly, name what was expected."""

from __future__ import annotations

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_float_dtype(dtype: object) -> np.dtype:
    dt = np.dtype(dtype)
    if dt not in FLOAT_DTYPES:
        raise ValueError(f"dtype must be float32 or float64, got {dt}")
    return dt


def check_array(
    name: str,
    x: object,
    shape: tuple[int | None, ...],
    dtype: np.dtype | None = None,
    finite: bool = True,
) -> np.ndarray:
    """Check that ``x`` is an ndarray with the given shape (None = any size) and dtype.

    Raises ``ValueError`` naming the expected shape/dtype; never broadcasts.
    """
    if not isinstance(x, np.ndarray):
        raise ValueError(f"{name} must be a numpy.ndarray, got {type(x).__name__}")
    if x.ndim != len(shape):
        raise ValueError(
            f"{name} must have {len(shape)} dimensions {_fmt(shape)}, got shape {x.shape}"
        )
    for got, want in zip(x.shape, shape, strict=True):
        if want is not None and got != want:
            raise ValueError(f"{name} must have shape {_fmt(shape)}, got {x.shape}")
    if dtype is not None and x.dtype != dtype:
        raise ValueError(f"{name} must have dtype {np.dtype(dtype)}, got {x.dtype}")
    if finite and x.dtype.kind == "f" and not np.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


def check_positive_int(name: str, value: object, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _fmt(shape: tuple[int | None, ...]) -> str:
    return "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
