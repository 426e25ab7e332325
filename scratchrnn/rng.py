"""Explicit randomness: every random draw takes a ``numpy.random.Generator``."""

from __future__ import annotations

import numpy as np


def as_generator(rng: int | np.random.Generator | None) -> np.random.Generator:
    """A Generator from a seed, an existing Generator (returned as is), or None (fresh)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise ValueError(f"rng must be an int seed, a numpy.random.Generator or None, got {rng!r}")
