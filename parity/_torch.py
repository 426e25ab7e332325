"""Lazy torch import with a clear message where torch is missing."""

from __future__ import annotations


def import_torch():
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - exercised only without torch
        raise ImportError(
            "parity needs torch: pip install 'scratchrnn[torch]' (or `make demo`)"
        ) from exc
    return torch


def torch_dtype(np_dtype):
    torch = import_torch()
    import numpy as np

    return {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[
        np.dtype(np_dtype)
    ]
