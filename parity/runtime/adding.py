"""The adding problem on the torch backend (CPU or GPU), for longer sequences.

Same model, initial weights, data, optimizer schedule and evaluation as
:func:`scratchrnn.studies.adding.train_adding` — the NumPy model is built first and
its weights are loaded into ``torch.nn.RNN/LSTM/GRU`` + ``Linear`` — so a result on
the torch backend is comparable with one on NumPy. The slides' gating cells have no
torch twin and stay NumPy-only.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from functools import partial

import numpy as np

from scratchrnn.checks import check_float_dtype
from scratchrnn.config import AddingConfig, to_dict
from scratchrnn.studies.adding import (
    AddingModel,
    AddingResult,
    adding_batch,
    run_rng,
    run_schedule,
)

from .._torch import check_device, import_torch

TORCH_CELLS = ("elman-tanh", "elman-relu", "irnn", "lstm", "gru")
DEFAULT_CELLS = ("elman-tanh", "irnn", "lstm", "gru")  # the study's cells with a torch twin


def torch_adding_model(model: AddingModel, device: str = "cpu"):
    """A torch twin (recurrent layer → h_T → Linear) of a NumPy :class:`AddingModel`."""
    torch = import_torch()
    if model.cell not in TORCH_CELLS:
        raise ValueError(f"{model.cell!r} has no torch twin; torch cells: {', '.join(TORCH_CELLS)}")
    rnn = model.rnn
    kw = dict(batch_first=False)
    if model.cell in ("elman-tanh", "elman-relu", "irnn"):
        layer = torch.nn.RNN(2, rnn.hidden_size, nonlinearity=rnn.nonlinearity, **kw)
    elif model.cell == "lstm":
        layer = torch.nn.LSTM(2, rnn.hidden_size, **kw)
    else:
        layer = torch.nn.GRU(2, rnn.hidden_size, **kw)

    class Twin(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = layer
            self.fc = torch.nn.Linear(rnn.hidden_size, 1)

        def forward(self, x):
            _, h = self.rnn(x)
            h = h[0] if isinstance(h, tuple) else h
            return self.fc(h[-1])[:, 0]

    dtype = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}
    twin = Twin().to(dtype=dtype[model.dtype], device=device)  # dtype first: no rounding
    twin.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in model.state_dict().items()})
    return twin


def torch_train_fn(cells, device: str = "cpu"):
    """:func:`train_adding_torch` on ``device``, as the adding study's ``train_fn``; every cell
    of ``cells`` must have a torch twin (:data:`TORCH_CELLS`)."""
    missing = [c for c in cells if c not in TORCH_CELLS]
    if missing:
        raise ValueError(f"no torch twin for {', '.join(missing)}; torch cells: "
                         f"{', '.join(TORCH_CELLS)}")
    return partial(train_adding_torch, device=check_device(device))


def train_adding_torch(cell: str, T: int, config: AddingConfig | None = None,
                       device: str = "cpu", **overrides) -> AddingResult:
    """:func:`scratchrnn.studies.adding.train_adding` with the model and updates in torch."""
    torch = import_torch()
    cfg = replace(config or AddingConfig(), **overrides)
    dt = check_float_dtype(cfg.dtype)
    start = time.perf_counter()
    twin = torch_adding_model(AddingModel(cell, cfg.hidden, dt, run_rng(cfg.seed, T, 0)),
                              device)
    opt = torch.optim.Adam(twin.parameters(), lr=cfg.lr)
    x_eval, y_eval = adding_batch(T, cfg.eval_size, run_rng(cfg.seed, T, 1), dt)
    xe, ye = torch.as_tensor(x_eval, device=device), torch.as_tensor(y_eval, device=device)
    baseline = float(np.mean((y_eval.astype(np.float64) - 1.0) ** 2))

    def evaluate() -> float:
        with torch.no_grad():
            mse = float(torch.mean((twin(xe) - ye) ** 2))
        return mse if math.isfinite(mse) else math.inf

    def update(x: np.ndarray, y: np.ndarray) -> bool:
        opt.zero_grad()
        loss = torch.mean((twin(torch.as_tensor(x, device=device))
                           - torch.as_tensor(y, device=device)) ** 2)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(twin.parameters(), cfg.clip)
        if not (math.isfinite(loss.item()) and math.isfinite(norm.item())):
            return False
        opt.step()
        return True

    final, first_below, diverged, history = run_schedule(cfg, T, dt, update, evaluate)
    return AddingResult(cell, T, final, first_below, baseline, diverged,
                        time.perf_counter() - start, history,
                        {**to_dict(cfg), "backend": "torch", "device": device})
