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
