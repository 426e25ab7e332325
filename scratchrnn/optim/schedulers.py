"""Learning-rate schedulers: :class:`ReduceLROnPlateau`, as torch's."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..checks import check_nonnegative, check_nonnegative_int
from .optimizers import Optimizer

__all__ = ["ReduceLROnPlateau"]


def _encode_float(x: float) -> float | str:
    """A float as strict JSON allows it: non-finite values become 'inf', '-inf', 'nan'."""
    return x if math.isfinite(x) else str(x)


def _decode_float(name: str, x: object) -> float:
    if isinstance(x, str) and x in ("inf", "-inf", "nan"):
        return float(x)
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.number)):
        raise ValueError(f"{name} must be a number or 'inf'/'-inf'/'nan', got {x!r}")
    return float(x)


class ReduceLROnPlateau:
    r"""Reduce ``optimizer.lr`` when a metric stops improving, as torch's ReduceLROnPlateau.

    On each ``step(metric)`` (one per epoch)::

        better(a, best) = a < best (1 - threshold)    mode min, threshold_mode rel
                        = a < best - threshold        mode min, threshold_mode abs
                        = a > best (1 + threshold)    mode max, threshold_mode rel
                        = a > best + threshold        mode max, threshold_mode abs
        if better(metric, best): best = metric; num_bad_epochs = 0
        else:                    num_bad_epochs += 1
        if cooldown_counter > 0: cooldown_counter -= 1; num_bad_epochs = 0
        if num_bad_epochs > patience:
            new_lr = max(lr · factor, min_lr)
            if lr - new_lr > eps: lr = new_lr          (tiny changes are skipped)
            cooldown_counter = cooldown; num_bad_epochs = 0

    ``best`` starts at +inf (min) or -inf (max), so the first metric always counts
    as an improvement; a NaN metric never does. Stricter than torch, the
    constructor also rejects negative ``factor``, ``threshold``, ``min_lr``, ``eps``,
    ``patience`` and ``cooldown``.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float = 0.0,
        eps: float = 1e-8,
    ) -> None:
        # Any object with a read/write ``lr`` works (the labs' backends pass themselves).
        if not isinstance(getattr(optimizer, "lr", None), (int, float)):
            raise ValueError(
                "optimizer must have a numeric 'lr' attribute (a scratchrnn Optimizer), "
                f"got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        self._configure(mode, factor, patience, threshold, threshold_mode, cooldown, min_lr, eps)
        self.last_epoch = 0
        self.last_lr = optimizer.lr
        self.best = self.mode_worse
        self.num_bad_epochs = 0
        self.cooldown_counter = 0

    def _configure(
        self,
        mode: str,
        factor: float,
        patience: int,
        threshold: float,
        threshold_mode: str,
        cooldown: int,
        min_lr: float,
        eps: float,
    ) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        factor_f = check_nonnegative("factor", factor)
        if factor_f >= 1.0:
            raise ValueError(f"factor must be < 1.0, got {factor!r}")
        values = {
            "mode": mode,
            "threshold_mode": threshold_mode,
            "factor": factor_f,
            "patience": check_nonnegative_int("patience", patience),
            "threshold": check_nonnegative("threshold", threshold),
            "cooldown": check_nonnegative_int("cooldown", cooldown),
            "min_lr": check_nonnegative("min_lr", min_lr),
            "eps": check_nonnegative("eps", eps),
        }
        # assign only once everything is valid
        for key, value in values.items():
            setattr(self, key, value)

    @property
    def mode_worse(self) -> float:
        return math.inf if self.mode == "min" else -math.inf

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def is_better(self, a: float, best: float) -> bool:
        """Whether metric ``a`` improves on ``best`` by more than the threshold."""
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min":
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def step(self, metric: float) -> float:
        """Record one epoch's metric; reduce the optimizer's lr if due. Returns the lr."""
        if isinstance(metric, (bool, np.bool_)) or not isinstance(metric, (int, float, np.number)):
            if not (isinstance(metric, np.ndarray) and metric.shape == ()):
                raise ValueError(f"metric must be a real number, got {metric!r}")
        current = float(metric)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during cooldown are ignored
        if self.num_bad_epochs > self.patience:
            old_lr = float(self.optimizer.lr)
            new_lr = max(old_lr * self.factor, self.min_lr)
            if old_lr - new_lr > self.eps:
                self.optimizer.lr = new_lr
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self.last_lr = self.optimizer.lr
        return self.last_lr

    def get_last_lr(self) -> list[float]:
        """The lr after the last step, as a one-element list (torch's shape)."""
        return [self.last_lr]

    _CONFIG = (
        "mode",
        "factor",
        "patience",
        "threshold",
        "threshold_mode",
        "cooldown",
        "min_lr",
        "eps",
    )
    _COUNTERS = ("num_bad_epochs", "cooldown_counter", "last_epoch")

    def state_dict(self) -> dict[str, Any]:
        """Configuration and counters as strict JSON data (``best`` may be 'inf'/'-inf')."""
        out: dict[str, Any] = {"type": type(self).__name__}
        out.update({key: getattr(self, key) for key in self._CONFIG + self._COUNTERS})
        out["best"] = _encode_float(self.best)
        out["last_lr"] = self.last_lr
        return out

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore configuration and counters (the optimizer's lr lives in its own state)."""
        if not isinstance(state, Mapping):
            raise ValueError(f"state must be a mapping, got {type(state).__name__}")
        expected = {"type", "best", "last_lr", *self._CONFIG, *self._COUNTERS}
        if set(state) != expected:
            raise ValueError(
                f"scheduler state_dict must have keys {sorted(expected)}, got {sorted(state)}"
            )
        if state["type"] != type(self).__name__:
            raise ValueError(f"state_dict is for {state['type']!r}, not {type(self).__name__!r}")
        counters = {key: check_nonnegative_int(key, state[key]) for key in self._COUNTERS}
        best = _decode_float("best", state["best"])
        last_lr = check_nonnegative("last_lr", state["last_lr"])
        self._configure(*(state[key] for key in self._CONFIG))
        for key, value in counters.items():
            setattr(self, key, value)
        self.best = best
        self.last_lr = last_lr

    def __repr__(self) -> str:
        config = ", ".join(f"{key}={getattr(self, key)!r}" for key in self._CONFIG)
        return f"ReduceLROnPlateau({config})"
