"""Trajectory parity: the labs' models trained step for step in NumPy and in torch.

Both start from the same weights, see the same synthetic batches (variable
lengths, padded with index 0), run with dropout off, and take ``steps`` Adam steps
with gradient-norm clipping. Every step's loss and the final parameters are
compared (relative to max(1, |torch|)).
"""

from __future__ import annotations

import numpy as np

from scratchrnn.gradcheck import max_relative_error
from scratchrnn.losses import (
    cross_entropy,
    cross_entropy_backward,
    sequence_cross_entropy,
    sequence_cross_entropy_backward,
)
from scratchrnn.models import SurnameClassifier, SurnameGenerator
from scratchrnn.optim import Adam, clip_grad_norm

from ._torch import import_torch
from .runtime.models import to_torch_model

VOCAB, CLASSES, NATIONS = 12, 5, 4


def synthetic_batches(n: int, batch: int, steps: int, seed: int) -> list[dict]:
    """Random surnames as index batches: x (B, T) padded with 0, lengths, labels, targets."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        lengths = rng.integers(1, steps + 1, size=batch)
        pad = np.arange(steps)[None, :] >= lengths[:, None]
        x = rng.integers(1, VOCAB, size=(batch, steps))
        x[pad] = 0
        y_gen = rng.integers(1, VOCAB, size=(batch, steps))
        y_gen[pad] = 0
        out.append({"x": x, "lengths": lengths, "y": rng.integers(0, CLASSES, size=batch),
                    "y_gen": y_gen, "nationality": rng.integers(0, NATIONS, size=batch)})
    return out


def _numpy_loss(model, b, weight):
    if isinstance(model, SurnameClassifier):
        logits, cache = model.forward(b["x"], b["lengths"])
        loss, lc = cross_entropy(logits, b["y"], weight=weight)
        return loss, lambda: model.backward(cross_entropy_backward(1.0, lc), cache)
    nat = b["nationality"] if model.conditioned else None
    logits, cache = model.forward(b["x"], nat)
    loss, lc = sequence_cross_entropy(logits, b["y_gen"], mask_index=0)
    return loss, lambda: model.backward(sequence_cross_entropy_backward(1.0, lc), cache)


def _torch_loss(torch, twin, b, weight, device):
    F = torch.nn.functional

    def t(a):
        return torch.as_tensor(a, device=device)

    if hasattr(twin, "fc2"):
        logits = twin(t(b["x"]), t(b["lengths"]))
        return F.cross_entropy(logits, t(b["y"]), weight=None if weight is None else t(weight))
    nat = t(b["nationality"]) if twin.conditioned else None
    logits = twin(t(b["x"]), nat)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), t(b["y_gen"]).reshape(-1),
                           ignore_index=0)


def train_mode_without_dropout(twin):
    """``twin`` in training mode with every dropout probability 0: what eval mode computes,
    and the mode cuDNN needs ("cudnn RNN backward can only be called in training mode",
    seen on an H200: eval-mode twins train on the CPU but not on a GPU)."""
    torch = import_torch()
    twin.dropout_p = 0.0  # the lab twins' F.dropout (parity/runtime/models.py)
    for m in twin.modules():
        if isinstance(m, torch.nn.RNNBase):
            m.dropout = 0.0  # between stacked layers
        elif isinstance(m, torch.nn.modules.dropout._DropoutNd):
            m.p = 0.0
    return twin.train()


def run_trajectory(model, steps: int = 50, lr: float = 1e-2, max_norm: float = 1.0,
                   weight: np.ndarray | None = None, seed: int = 0,
                   device: str = "cpu") -> dict:
    """Train ``model`` and its torch twin side by side; return the differences."""
    torch = import_torch()
    model.eval()  # dropout off (no other train/eval difference in these models)
    twin = train_mode_without_dropout(to_torch_model(model, device))
    opt = Adam(model, lr=lr)
    topt = torch.optim.Adam(twin.parameters(), lr=lr)
    batches = synthetic_batches(steps, batch=6, steps=7, seed=seed)
    losses, tlosses = [], []
    for b in batches:
        model.zero_grad()
        loss, backward = _numpy_loss(model, b, weight)
        backward()
        clip_grad_norm(model, max_norm)
        opt.step()
        topt.zero_grad()
        tloss = _torch_loss(torch, twin, b, weight, device)
        tloss.backward()
        torch.nn.utils.clip_grad_norm_(twin.parameters(), max_norm)
        topt.step()
        losses.append(float(loss))
        tlosses.append(tloss.item())
    tparams = {k: v.detach().cpu().numpy() for k, v in twin.state_dict().items()}
    return {
        "losses": losses,
        "torch_losses": tlosses,
        "max_rel_diff_loss": max_relative_error(np.array(losses), np.array(tlosses)),
        "max_rel_diff_params": max(max_relative_error(p, tparams[n])
                                   for n, p, _ in model.named_parameters()),
    }


def trajectory_configs():
    """(name, config, builder) for every trajectory row."""
    for cell in ("elman", "lstm", "gru"):
        yield ("classifier", f"{cell} weighted-CE Adam+clip", lambda dt, c=cell: SurnameClassifier(
            8, VOCAB, CLASSES, 10, cell=c, dtype=dt, rng=0), True)
    yield ("classifier", "gru bi L=2 Adam+clip", lambda dt: SurnameClassifier(
        8, VOCAB, CLASSES, 10, cell="gru", num_layers=2, bidirectional=True, dtype=dt, rng=0),
        True)
    yield ("generator", "gru unconditioned", lambda dt: SurnameGenerator(
        8, VOCAB, 10, cell="gru", dtype=dt, rng=0), False)
    yield ("generator", "gru conditioned", lambda dt: SurnameGenerator(
        8, VOCAB, 10, cell="gru", num_nationalities=NATIONS, dtype=dt, rng=0), False)
    yield ("generator", "lstm conditioned", lambda dt: SurnameGenerator(
        8, VOCAB, 10, cell="lstm", num_nationalities=NATIONS, dtype=dt, rng=0), False)


def trajectory_rows(steps: int = 50, device: str = "cpu",
                    dtypes: tuple[str, ...] = ("float64", "float32")) -> list[dict]:
    rows = []
    weight = np.random.default_rng(7).uniform(0.2, 2.0, size=CLASSES)
    for dtype in dtypes:
        for name, config, build, weighted in trajectory_configs():
            w = weight.astype(dtype) if weighted else None
            r = run_trajectory(build(np.dtype(dtype)), steps=steps, weight=w, device=device)
            rows.append({
                "group": "trajectory",
                "cell": name,
                "config": f"{config}, {steps} steps",
                "dtype": dtype,
                "max_rel_diff_output": r["max_rel_diff_params"],
                "max_rel_diff_grad": None,
                "max_rel_diff_loss": r["max_rel_diff_loss"],
            })
    return rows
