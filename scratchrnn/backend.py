"""The backend contract of the labs, and the NumPy backend that implements it.

A *backend* runs one lab model behind :class:`Backend`; the training loop
(:mod:`scratchrnn.train`), the data, the metrics, the schedule and the checkpoints
are the same whatever backend runs the model. Two implement it:

* :class:`NumpyBackend` — the model's hand-written backward and scratchrnn's Adam;
* ``parity.runtime.backend.TorchBackend`` — the model's torch twin (CPU or CUDA).

``scratchrnn`` never imports the second: the command line (:mod:`scratchrnn.cli`)
builds it and hands it to :func:`scratchrnn.train.run_training` as a
:data:`BackendFactory`.

What a backend needs to know about the job comes from the task and the model, so
that no backend re-derives it:

* the loss, described without torch by the task's :class:`LossSpec`
  (class weights, ``ignore_index``, one target per sequence or per step);
* the dropout masks, drawn by the model's ``dropout_masks(x_in)`` from the model's
  own Generator in the order and shapes its forward would draw them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from .checks import all_finite, library_arrays
from .losses import cross_entropy, cross_entropy_backward
from .module import Module
from .optim import Adam, clip_grad_norm


@dataclass(frozen=True)
class LossSpec:
    """Cross-entropy as a task wants it, in plain NumPy terms (any backend can build it).

    ``weight``: (C,) class weights or None (all ones); ``ignore_index``: targets equal
    to it count for nothing; ``per_step``: logits (B, T, C) with targets (B, T) (a
    sequence loss over every step) rather than logits (B, C) with targets (B,).
    The loss is torch's ``cross_entropy(logits.reshape(-1, C), y.reshape(-1), weight,
    ignore_index)``: a weighted mean over the targets that count.
    """

    weight: np.ndarray | None = None
    ignore_index: int = -100
    per_step: bool = False


def spec_loss(spec: LossSpec, logits: np.ndarray, y: np.ndarray) -> tuple[float, tuple]:
    """(loss, cache) of ``spec`` in NumPy (:func:`scratchrnn.losses.cross_entropy`)."""
    want = 3 if spec.per_step else 2
    if np.ndim(logits) != want:
        raise ValueError(f"this loss takes logits with {want} dimensions, got {np.shape(logits)}")
    C = logits.shape[-1]
    weight = None if spec.weight is None else spec.weight.astype(logits.dtype)
    loss, cache = cross_entropy(logits.reshape(-1, C), np.asarray(y).reshape(-1),
                                weight=weight, ignore_index=spec.ignore_index)
    return float(loss), (cache, logits.shape)


def spec_loss_and_grad(spec: LossSpec, logits: np.ndarray,
                       y: np.ndarray) -> tuple[float, np.ndarray]:
    """(loss, ∂loss/∂logits) of ``spec`` in NumPy; the gradient has the logits' shape."""
    loss, (cache, shape) = spec_loss(spec, logits, y)
    return loss, cross_entropy_backward(1.0, cache).reshape(shape)


class Task(Protocol):
    """What a lab trains: :class:`scratchrnn.classify.ClassificationTask` and
    :class:`scratchrnn.generate.GenerationTask` implement it."""

    kind: str  # "classifier" or "generator": the checkpoint's kind

    @property
    def loss(self) -> LossSpec:
        """The loss, described for any backend."""

    def loss_and_grad(self, logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """(loss, ∂loss/∂logits) of :attr:`loss` in NumPy (:func:`spec_loss_and_grad`)."""

    def inputs(self, batch: dict) -> tuple: ...

    def targets(self, batch: dict) -> np.ndarray: ...

    def batch_accuracy(self, logits: np.ndarray, y: np.ndarray) -> float: ...

    def metrics(self, logits: np.ndarray, y: np.ndarray) -> dict: ...

    def checkpoint_meta(self) -> dict: ...


class LabTask:
    """What the two labs' tasks share: :meth:`loss_and_grad` from the task's :attr:`loss`
    and the checkpoint's meta (hyperparameters and vocabularies)."""

    vectorizer: Any  # a SurnameVectorizer
    hyperparameters: dict
    loss: LossSpec

    def loss_and_grad(self, logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """(loss, ∂loss/∂logits) of :attr:`loss` in NumPy."""
        return spec_loss_and_grad(self.loss, logits, y)

    def checkpoint_meta(self) -> dict:
        return {"hyperparameters": self.hyperparameters,
                "vocabularies": self.vectorizer.to_json()}


class Backend(Protocol):
    """One lab model, trainable and runnable, behind the interface the loop uses."""

    name: str

    def train(self) -> None:
        """Training mode (dropout on)."""

    def eval(self) -> None:
        """Evaluation mode (dropout off)."""

    @property
    def lr(self) -> float:
        """The optimizer's learning rate; the plateau scheduler sets it."""

    @lr.setter
    def lr(self, value: float) -> None: ...

    def train_step(self, batch: dict) -> tuple[float, np.ndarray]:
        """Forward, the task's loss, backward, clipping, one Adam step: (loss, logits).

        A non-finite loss or gradient returns a non-finite loss and updates nothing."""

    def predict(self, batch: dict) -> np.ndarray:
        """Logits of ``batch`` (no gradient)."""

    def model_state(self) -> dict[str, np.ndarray]:
        """The model's parameters under torch's ``state_dict`` names."""

    def load_model_state(self, state: dict) -> None: ...

    def optimizer_state(self) -> dict:
        """Adam's state in scratchrnn's ``Adam.state_dict`` format (either backend reads it)."""

    def load_optimizer_state(self, state: dict) -> None: ...

    def rng_state(self) -> dict:
        """Everything random the backend draws from (dropout masks), JSON-ready."""

    def set_rng_state(self, state: dict) -> None: ...


#: ``factory(model, task, lr=…, clip=…)`` → a :class:`Backend` running ``model``.
BackendFactory = Callable[..., Backend]


def model_generator(model: Module) -> np.random.Generator:
    """The Generator a lab model's modules draw from (every module shares one)."""
    for _, m in model.named_modules():
        if isinstance(getattr(m, "rng", None), np.random.Generator):
            return m.rng
    raise ValueError(f"{type(model).__name__} has no module with a Generator")


def _gradient_norm(model: Module, flat: tuple[np.ndarray, np.ndarray] | None) -> float:
    """‖∇‖₂ of all the model's gradients, whose finiteness decides whether a step is taken.

    Flat gradients: one dot product G·G in their dtype. Where that is not finite
    (a non-finite element, or float32 squares beyond float32's range) the sum of the
    per-parameter sums in float64 decides, as without flat buffers."""
    if flat is not None:
        G = flat[1]
        with np.errstate(over="ignore", invalid="ignore"):
            norm = float(np.sqrt(np.dot(G, G)))
        if np.isfinite(norm):
            return norm
    return float(np.sqrt(sum(float(np.sum(g * g)) for g in model.gradients())))


class NumpyBackend:
    """Train and run a NumPy lab model for a task: the hand-written backward and Adam."""

    name = "numpy"

    def __init__(self, model: Module, task: Any, lr: float = 1e-3,
                 clip: float | None = None) -> None:
        self.model, self.task, self.clip = model, task, clip
        # one buffer for the parameters, one for the gradients: zeroing, the norm, Adam
        # and the finiteness check are each a few whole-buffer calls (Module docstring)
        model.flatten_parameters()
        self.optimizer = Adam(model, lr=lr)
        self.rng = model_generator(model)  # the dropout masks

    # Backend's modes and lr, as TorchBackend has them (alike by the contract, own optimizer)
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
        flat = self.model.flat_parameters()
        if flat is not None:
            flat[1].fill(0)
        else:
            self.model.zero_grad()
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported below
            logits, cache = self.model.forward(*self.task.inputs(batch))
            if not np.isfinite(logits).all():
                return float("nan"), logits  # the trainer stops with a message
            # the logits were just checked: the loss's gradient is finite as well
            with library_arrays():
                loss, d_logits = self.task.loss_and_grad(logits, self.task.targets(batch))
                if not np.isfinite(loss):
                    return float(loss), logits
                self.model.backward(d_logits, cache)
            if self.clip is not None:
                norm = clip_grad_norm(self.model, self.clip)
            else:
                norm = _gradient_norm(self.model, flat)
        if not np.isfinite(norm):
            return float("nan"), logits
        with np.errstate(over="ignore", invalid="ignore"):  # divergence: checked after
            self.optimizer.step()
        return float(loss), logits

    def parameters_finite(self) -> bool:
        """Whether every parameter is finite (an update can overflow: divergence)."""
        flat = self.model.flat_parameters()
        if flat is not None:
            return all_finite(flat[0])
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
