"""The labs' torch backend (CPU or GPU): the torch twin of a NumPy lab model.

Implements :class:`scratchrnn.backend.Backend`, as :class:`scratchrnn.backend.NumpyBackend`
does: the training loop, data, metrics and checkpoints are shared. The twin starts
from the NumPy model's initial weights and sees the same batches; its dropout masks
are the ones the NumPy model draws (``model.dropout_masks``) and its loss is the
task's :class:`scratchrnn.backend.LossSpec`, so for a given seed both backends follow
the same trajectory up to float32 rounding. Optimizer state is saved in scratchrnn's
Adam format, so a checkpoint resumes on either backend.

:mod:`scratchrnn.cli` hands :class:`TorchBackend` (with ``device`` and ``seed``
bound) to the training loop as its backend factory.
"""

from __future__ import annotations

import numpy as np

from scratchrnn.backend import model_generator

from .._torch import check_device, import_torch
from .models import to_torch_model


class TorchBackend:
    """The torch twin of ``model`` trained with ``torch.optim.Adam`` on ``device``."""

    name = "torch"

    def __init__(self, model, task, lr: float = 1e-3, clip: float | None = None,
                 device: str = "cpu", seed: int = 0) -> None:
        torch = self.torch = import_torch()
        check_device(device)  # one line naming the devices torch has
        torch.manual_seed(seed)
        self.device, self.model, self.task, self.clip = device, model, task, clip
        self.net = to_torch_model(model, device)
        self.rng = model_generator(model)  # the NumPy model's Generator: the dropout masks
        self.names = [n for n, _ in self.net.named_parameters()]
        self.opt = torch.optim.Adam(self.net.parameters(), lr=lr)
        spec = task.loss
        self.weight = (None if spec.weight is None else
                       torch.as_tensor(spec.weight, dtype=self._dtype(), device=device))

    def _dtype(self):
        return next(self.net.parameters()).dtype

    def _tensors(self, arrays):
        return [None if a is None else self.torch.as_tensor(np.asarray(a), device=self.device)
                for a in arrays]

    def _loss(self, logits, y):
        """The task's :class:`~scratchrnn.backend.LossSpec` in torch."""
        return self.torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), y.reshape(-1), weight=self.weight,
            ignore_index=self.task.loss.ignore_index)

    # Backend's modes and lr, as NumpyBackend has them (alike by the contract, own optimizer)
    def train(self) -> None:
        self.net.train()

    def eval(self) -> None:
        self.net.eval()

    @property
    def lr(self) -> float:
        return float(self.opt.param_groups[0]["lr"])

    @lr.setter
    def lr(self, value: float) -> None:
        for group in self.opt.param_groups:
            group["lr"] = value

    def _masks(self, inputs) -> tuple:
        """The dropout keep-masks the NumPy model draws for these inputs, as tensors."""
        return tuple(None if m is None else
                     self.torch.as_tensor(m, dtype=self._dtype(), device=self.device)
                     for m in self.model.dropout_masks(inputs[0]))

    def train_step(self, batch: dict):
        torch = self.torch
        self.opt.zero_grad()
        inputs = self.task.inputs(batch)
        logits = self.net(*self._tensors(inputs), masks=self._masks(inputs))
        (y,) = self._tensors([self.task.targets(batch)])
        loss = self._loss(logits, y)
        value = loss.item()
        if not np.isfinite(value):
            return value, logits.detach().cpu().numpy()
        loss.backward()
        if self.clip is not None:
            norm = torch.nn.utils.clip_grad_norm_(self.net.parameters(), self.clip)
        else:
            norm = torch.linalg.vector_norm(
                torch.stack([p.grad.norm() for p in self.net.parameters()]))
        if not torch.isfinite(norm):
            return float("nan"), logits.detach().cpu().numpy()
        try:
            self.opt.step()
        except RuntimeError:  # e.g. an update that overflows float32: divergence
            return float("nan"), logits.detach().cpu().numpy()
        return value, logits.detach().cpu().numpy()

    def parameters_finite(self) -> bool:
        """Whether every parameter is finite (an update can overflow: divergence)."""
        torch = self.torch
        with torch.no_grad():
            return bool(all(torch.isfinite(p).all() for p in self.net.parameters()))

    def predict(self, batch: dict) -> np.ndarray:
        with self.torch.no_grad():
            return self.net(*self._tensors(self.task.inputs(batch))).cpu().numpy()

    def model_state(self) -> dict:
        return {k: v.detach().cpu().numpy().copy() for k, v in self.net.state_dict().items()}

    def load_model_state(self, state: dict) -> None:
        torch = self.torch
        self.net.load_state_dict({k: torch.as_tensor(np.asarray(v)) for k, v in state.items()})

    def optimizer_state(self) -> dict:
        """torch's Adam state in scratchrnn's Adam ``state_dict`` format."""
        group = self.opt.param_groups[0]
        buffers, step = {}, 0
        for name, p in zip(self.names, self.net.parameters(), strict=True):
            st = self.opt.state.get(p)
            if st:
                step = int(st["step"])
                buffers[f"exp_avg/{name}"] = st["exp_avg"].detach().cpu().numpy().copy()
                buffers[f"exp_avg_sq/{name}"] = st["exp_avg_sq"].detach().cpu().numpy().copy()
        hyper = {"lr": group["lr"], "betas": list(group["betas"]), "eps": group["eps"],
                 "weight_decay": group["weight_decay"], "amsgrad": group["amsgrad"],
                 "maximize": group["maximize"]}
        return {"type": "Adam", "hyper": hyper, "step": step, "param_names": list(self.names),
                "buffers": buffers}

    def load_optimizer_state(self, state: dict) -> None:
        torch = self.torch
        self.lr = state["hyper"]["lr"]
        for name, p in zip(self.names, self.net.parameters(), strict=True):
            if f"exp_avg/{name}" in state["buffers"]:
                self.opt.state[p] = {
                    "step": torch.tensor(float(state["step"])),
                    "exp_avg": torch.as_tensor(state["buffers"][f"exp_avg/{name}"],
                                               device=self.device).clone(),
                    "exp_avg_sq": torch.as_tensor(state["buffers"][f"exp_avg_sq/{name}"],
                                                  device=self.device).clone(),
                }

    def rng_state(self) -> dict:
        state = {"cpu": self.torch.get_rng_state().tolist(),
                 "numpy": self.rng.bit_generator.state}
        if self.device.startswith("cuda"):
            state["cuda"] = self.torch.cuda.get_rng_state().tolist()
        return state

    def set_rng_state(self, state: dict) -> None:
        """Restore torch's and the dropout Generator's states. A NumPy backend's state (the
        Generator's alone) is accepted too: the dropout masks come from that Generator,
        so a run resumes on either backend on the same trajectory."""
        torch = self.torch
        if "bit_generator" in state:  # written by the NumPy backend
            self.rng.bit_generator.state = state
            return
        torch.set_rng_state(torch.tensor(state["cpu"], dtype=torch.uint8))
        if "numpy" in state:
            self.rng.bit_generator.state = state["numpy"]
        if "cuda" in state and self.device.startswith("cuda"):
            torch.cuda.set_rng_state(torch.tensor(state["cuda"], dtype=torch.uint8))
