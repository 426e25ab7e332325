"""Input checks for public entry points: fail loudly, name what was expected, never cast.

The one place for the validation helpers that several modules share. Each
returns the checked value (converted only where noted) or raises ``ValueError``
with a message that names the argument and what it should have been.

    arrays     check_array (shape with wildcards, dtype, finite), check_float_input
               (float32/float64, any shape), check_int_array, check_same_shape, all_finite
    dtypes     check_float_dtype
    scalars    check_positive_int, check_nonnegative_int, check_real, check_nonnegative,
               check_bool, check_choice
    internal   library_arrays (a context in which the finiteness passes are skipped)

Finiteness costs a pass over the array, which on a lab's sequence batch is a few per
cent of a training step. Inside a model's forward and backward (:mod:`scratchrnn.models`)
the arrays handed from layer to layer were made by the library from inputs it checked
at the model's entry, so the models run their layers under :func:`library_arrays`: the
layers skip the finiteness pass there (shapes and dtypes are still checked). What can
still go non-finite inside is an overflow — training that diverges — which the
trainer catches on the logits and the gradient norm.
"""

from __future__ import annotations

import contextvars
import math
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

__all__ = [
    "FLOAT_DTYPES",
    "all_finite",
    "library_arrays",
    "check_array",
    "check_bool",
    "check_choice",
    "check_float_dtype",
    "check_float_input",
    "check_int_array",
    "check_nonnegative",
    "check_nonnegative_int",
    "check_positive_int",
    "check_real",
    "check_same_shape",
]

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

#: True while a model runs its layers on arrays the library made (see the docstring)
_LIBRARY_ARRAYS = contextvars.ContextVar("scratchrnn_library_arrays", default=False)


@contextmanager
def library_arrays() -> Iterator[None]:
    """Within this context the array checks skip their finiteness pass (per thread)."""
    token = _LIBRARY_ARRAYS.set(True)
    try:
        yield
    finally:
        _LIBRARY_ARRAYS.reset(token)


# -- dtypes and arrays ----------------------------------------------------------
def check_float_dtype(dtype: object) -> np.dtype:
    """``dtype`` as a ``np.dtype``, which must be float32 or float64."""
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
    if finite and x.dtype.kind == "f" and not _LIBRARY_ARRAYS.get() and not all_finite(x):
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


def all_finite(x: np.ndarray) -> bool:
    """Whether every element of the float array ``x`` is finite.

    Large contiguous float32/float64 arrays are tested with one dot product x·x, which
    reads x once and allocates nothing (half the time of ``np.isfinite(x).all()`` on a
    sequence batch): it is finite only if every element is (squares are ≥ 0, so no
    ∞ − ∞; NaN and ±∞ carry through). Where it is not finite (a bad element, or
    squares beyond the dtype's range) the elementwise test decides.
    """
    if x.size >= 4096 and x.dtype in FLOAT_DTYPES and x.flags.c_contiguous:
        flat = x.reshape(-1)
        with np.errstate(all="ignore"):
            if math.isfinite(np.dot(flat, flat)):
                return True
    return bool(np.isfinite(x).all())


def check_float_input(name: str, x: object, dtype: np.dtype | None = None) -> np.ndarray:
    """``x`` must be a finite float32/float64 ndarray (of ``dtype`` when given), any shape."""
    if not isinstance(x, np.ndarray):
        raise ValueError(f"{name} must be a numpy.ndarray, got {type(x).__name__}")
    if dtype is None:
        if x.dtype not in FLOAT_DTYPES:
            raise ValueError(f"{name} must have dtype float32 or float64, got {x.dtype}")
    elif x.dtype != dtype:
        raise ValueError(f"{name} must have dtype {np.dtype(dtype)}, got {x.dtype}")
    if not _LIBRARY_ARRAYS.get() and not all_finite(x):
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


def check_int_array(name: str, x: object) -> np.ndarray:
    """``x`` as an integer ndarray (lists are accepted); floats and bools are rejected."""
    a = np.asarray(x)
    if a.dtype.kind not in "iu":
        raise ValueError(f"{name} must be an array of integers, got dtype {a.dtype}")
    return a


def check_same_shape(name: str, x: object, shape: tuple[int, ...]) -> None:
    """``np.shape(x)`` must equal ``shape`` exactly (no broadcasting)."""
    if np.shape(x) != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {np.shape(x)}")


# -- scalars ----------------------------------------------------------------------
def check_positive_int(name: str, value: object, minimum: int = 1) -> int:
    """``value`` as an ``int`` >= ``minimum`` (bools, floats and strings are rejected)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_nonnegative_int(name: str, value: object) -> int:
    """``value`` as an ``int`` >= 0 (a count, an epoch, a step)."""
    return check_positive_int(name, value, minimum=0)


def check_real(name: str, value: object) -> float:
    """``value`` as a finite Python float (bools and non-numbers rejected)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return out


def check_nonnegative(name: str, value: object) -> float:
    """``value`` as a finite Python float >= 0."""
    out = check_real(name, value)
    if out < 0.0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return out


def check_bool(name: str, value: object) -> bool:
    """``value`` must be a bool (``numpy.bool_`` accepted); 0/1 and strings are rejected."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be a bool, got {value!r}")
    return bool(value)


def check_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    """``value`` must be one of ``choices``: a cell's variant (``nonlinearity``, ``form``,
    ``gating``); the message quotes them ("'tanh' or 'relu'", "one of 'a', 'b', 'c'")."""
    if value not in choices:
        quoted = [repr(c) for c in choices]
        allowed = " or ".join(quoted) if len(quoted) == 2 else "one of " + ", ".join(quoted)
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return value


def _fmt(shape: tuple[int | None, ...]) -> str:
    return "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
