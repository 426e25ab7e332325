"""Elementwise nonlinearities shared by the cells and layers, numerically stable.

    σ(x) = 1 / (1 + e^{-x})      computed without overflow for any finite x
    σ'(x) = σ(x) (1 − σ(x))
    tanh'(x) = 1 − tanh(x)^2
"""

from __future__ import annotations

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic sigmoid, stable for |x| up to the dtype's range (no overflow warnings).

    Uses e = exp(−|x|) ≤ 1, then σ(x) = 1/(1+e) for x ≥ 0 and e/(1+e) for x < 0.
    Both branches are exact to rounding, so tiny outputs keep their relative precision.
    """
    x = np.asarray(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0, e) / (1.0 + e)


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    """log σ(x) = −log(1 + e^{−x}), stable: min(x, 0) − log1p(e^{−|x|})."""
    x = np.asarray(x)
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0)
