"""The NumPy backend of the labs: a model, its hand-written backward and scratchrnn's Adam.

The torch backend with the same interface is ``parity.backend.TorchBackend``.
See :mod:`scratchrnn.train` for the interface.
"""

from __future__ import annotations

import numpy as np

from .module import Module
from .optim import Adam, clip_grad_norm


class NumpyBackend:
    """Train and run a NumPy lab model for a task (see :mod:`scratchrnn.train`)."""

    name = "numpy"

    def __init__(self, model: Module, task, lr: float = 1e-3, clip: float | None = None) -> None:
        self.model, self.task, self.clip = model, task, clip
        self.optimizer = Adam(model, lr=lr)
        # every module of a lab model draws from one Generator (dropout masks)
        self.rng = next(m.rng for _, m in model.named_modules()
                        if isinstance(getattr(m, "rng", None), np.random.Generator))

    def train(self) -> None:
        self.model.train()

    def eval(self) -> None:
        self.model.eval()

    @property
    def lr(self) -> float:
        return self.optimizer.lr

    @lr.setter
    def lr(self, value: float) -> None:
        self.optimizer.lr = value

    def train_step(self, batch: dict) -> tuple[float, np.ndarray]:
        """Forward, loss, backward by hand, optional clipping, one Adam step."""
        self.model.zero_grad()
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported below
            logits, cache = self.model.forward(*self.task.inputs(batch))
            if not np.isfinite(logits).all():
                return float("nan"), logits  # the trainer stops with a message
            loss, d_logits = self.task.loss_and_grad(logits, self.task.targets(batch))
            if not np.isfinite(loss):
                return float(loss), logits
            self.model.backward(d_logits, cache)
            if self.clip is not None:
                norm = clip_grad_norm(self.model, self.clip)
            else:
                norm = np.sqrt(sum(float(np.sum(g * g)) for g in self.model.gradients()))
        if not np.isfinite(norm):
            return float("nan"), logits
        self.optimizer.step()
        return float(loss), logits

    def parameters_finite(self) -> bool:
        """Whether every parameter is finite (an update can overflow: divergence)."""
        return all(np.isfinite(p).all() for _, p, _ in self.model.named_parameters())

    def predict(self, batch: dict) -> np.ndarray:
        logits, _ = self.model.forward(*self.task.inputs(batch))
        return logits

    def model_state(self) -> dict[str, np.ndarray]:
        return self.model.state_dict()

    def load_model_state(self, state: dict) -> None:
        self.model.load_state_dict(state)

    def optimizer_state(self) -> dict:
        return self.optimizer.state_dict()

    def load_optimizer_state(self, state: dict) -> None:
        self.optimizer.load_state_dict(state)

    def rng_state(self) -> dict:
        return self.rng.bit_generator.state

    def set_rng_state(self, state: dict) -> None:
        """Restore the dropout Generator; a torch backend's state (``{"cpu", "numpy"}``) is
        accepted too, so a checkpoint resumes on either backend."""
        if "bit_generator" not in state and "numpy" in state:
            state = state["numpy"]
        self.rng.bit_generator.state = state
