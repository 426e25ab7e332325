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


def available_devices() -> list[str]:
    """The torch devices usable here: cpu, then cuda and cuda:N for each GPU torch sees,
    then mps where torch reports it available."""
    torch = import_torch()
    out = ["cpu"]
    if torch.cuda.is_available():
        count = torch.cuda.device_count()
        out += ["cuda", *(f"cuda:{i}" for i in range(count))]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        out.append("mps")
    return out


def check_device(device: object) -> str:
    """``device`` if torch can run on it here; else ValueError naming the available ones."""
    available = available_devices()
    if not isinstance(device, str) or device not in available:
        raise ValueError(f"--device {device!r} is not available to torch here; "
                         f"available: {', '.join(available)}")
    return device
