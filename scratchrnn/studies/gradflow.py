r"""Gradient flow during training: ‖∂L/∂h_t‖ against the distance from the loss.

The classification lab's loss reads each surname's hidden state at its last
character, so the gradient enters at step t = len − 1 and flows back through the
recurrence. :func:`gradient_flow` trains the lab-1 classifier (NumPy backend) for
each cell and, before training and after every epoch, measures on a fixed batch of
validation surnames the exact ∂L/∂h_t of every step (recorded by the hand-written
backward, ``record_state_grads``), averaged by distance k = len − 1 − t::

    norm(k) = mean over surnames b with len_b > k of ‖∂L/∂h_{len_b − 1 − k}‖₂

Vanishing gradients show as norm(k) falling exponentially with k.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from .. import classify
from ..backend import NumpyBackend
from ..config import ClassifierConfig, GradflowConfig, to_dict
from ..data import SurnameDataset
from ..fileio import atomic_text, save_figure
from ..train import TrainConfig, Trainer
from . import pyplot


def state_gradient_norms(model, task, batch: dict) -> np.ndarray:
    """norm(k) for k = 0 … T−1 on ``batch`` (eval mode; gradients are not kept)."""
    model.eval()
    rnn = model.rnn
    rnn.record_state_grads = True
    try:
        logits, cache = model.forward(batch["x"], batch["lengths"])
        _, d_logits = task.loss_and_grad(logits, batch["y_nationality"])
        model.backward(d_logits, cache)
        G = rnn.state_grads["_l0"]  # (T, B, H), forward direction of the first layer
    finally:
        rnn.record_state_grads = False
        rnn.state_grads = {}
        model.zero_grad()
    T = G.shape[0]
    norms = np.linalg.norm(G, axis=2)  # (T, B)
    lengths = batch["lengths"]
    out = np.full(T, np.nan)
    for k in range(T):
        t = lengths - 1 - k
        ok = t >= 0
        if ok.any():
            out[k] = float(np.mean(norms[t[ok], np.nonzero(ok)[0]]))
    return out


def gradient_flow(config: GradflowConfig | None = None, log=None) -> list[dict]:
    """Rows {cell, epoch, distance, norm, count} (epoch 0 = at initialisation).

    For each cell of ``config.cells``: lab 1's classifier (embedding 100, dropout 0.5,
    class weights; the hidden size, batch size, seed and path of the config) trains
    ``config.epochs`` epochs on the NumPy backend, checkpoints under
    ``config.out``/runs/CELL.
    """
    cfg = config or GradflowConfig()
    dataset = SurnameDataset.load(cfg.data)
    vec = dataset.vectorizer
    # a seeded random sample of the validation split (the file is ordered by nationality)
    monitor = min(cfg.monitor, dataset.split("val").x.shape[0])
    batch = next(dataset.batches("val", monitor, shuffle=True, rng=cfg.seed, drop_last=True))
    counts = np.bincount(batch["lengths"] - 1, minlength=batch["x"].shape[1])[::-1].cumsum()[::-1]
    rows = []
    for cell in cfg.cells:
        lab = ClassifierConfig(cell=cell, hidden=cfg.hidden, batch_size=cfg.batch_size,
                               seed=cfg.seed, reference=cfg.reference,
                               forget_bias=0.0)  # torch's initialisation, for every cell
        hp = {"config": to_dict(lab), "num_embeddings": len(vec.char_vocab),
              "num_classes": len(vec.nationality_vocab)}
        task = classify.ClassificationTask(vec, dataset.class_weights(), hp)
        model = classify.build_model(hp)
        trainer = Trainer(NumpyBackend(model, task), dataset, task,
                          TrainConfig(batch_size=cfg.batch_size, seed=cfg.seed, progress=False),
                          Path(cfg.out) / "runs" / cell, log=log or (lambda _: None))
        for epoch in range(cfg.epochs + 1):
            if epoch:
                trainer.train_epoch()
            for k, v in enumerate(state_gradient_norms(model, task, batch)):
                if np.isfinite(v):
                    rows.append({"cell": cell, "epoch": epoch, "distance": k, "norm": float(v),
                                 "count": int(counts[k])})
    return rows


def run(config: GradflowConfig | None = None, log=None) -> dict:
    """:func:`gradient_flow`, then gradflow.csv and gradflow.png into ``config.out``.

    Returns :func:`summarize` of the rows, with the files written under ``files``.
    """
    cfg = config or GradflowConfig()
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = gradient_flow(cfg, log)
    files = [write_csv(rows, out / "gradflow.csv"), plot(rows, out / "gradflow.png")]
    summary = summarize(rows)
    summary["files"] = [str(f) for f in files if f is not None]
    return summary


def write_csv(rows: list[dict], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_text(path) as f:
        w = csv.DictWriter(f, fieldnames=["cell", "epoch", "distance", "norm", "count"])
        w.writeheader()
        w.writerows(rows)
    return path


def plot(rows: list[dict], path: str | Path) -> Path | None:
    plt = pyplot(str(path))
    if plt is None:
        return None
    cells = sorted({r["cell"] for r in rows})
    fig, axes = plt.subplots(1, len(cells), figsize=(5 * len(cells), 4), squeeze=False,
                             sharey=True)
    for ax, cell in zip(axes[0], cells, strict=True):
        epochs = sorted({r["epoch"] for r in rows if r["cell"] == cell})
        cmap = plt.get_cmap("viridis")
        for e in epochs:
            sel = [r for r in rows if r["cell"] == cell and r["epoch"] == e and r["count"] >= 10]
            ax.plot([r["distance"] for r in sel], [r["norm"] for r in sel],
                    color=cmap(e / max(1, epochs[-1])), label=f"epoch {e}")
        ax.set_yscale("log")
        ax.set_xlabel("distance from the loss k = len − 1 − t")
        ax.set_title(cell)
        ax.grid(True, which="both", alpha=0.3)
    axes[0, 0].set_ylabel("mean ‖∂L/∂h_t‖")
    axes[0, -1].legend(fontsize=7)
    fig.tight_layout()
    path = Path(path)
    save_figure(fig, path, dpi=90)
    plt.close(fig)
    return path


def summarize(rows: list[dict], distances=(0, 5, 10)) -> dict:
    """Per cell, at initialisation and after the last epoch: norm(k) for a few k and the
    ratio norm(10) / norm(0) — how much of the gradient reaches 10 steps back."""
    out: dict = {}
    for cell in dict.fromkeys(r["cell"] for r in rows):
        mine = [r for r in rows if r["cell"] == cell]
        last = max(r["epoch"] for r in mine)
        for epoch in (0, last):
            by_k = {r["distance"]: r["norm"] for r in mine if r["epoch"] == epoch}
            entry = {f"k{k}": by_k.get(k) for k in distances}
            if by_k.get(0) and by_k.get(10) is not None:
                entry["ratio_10_0"] = by_k[10] / by_k[0]
            out[f"{cell}@epoch{epoch}"] = entry
    return out


def format_table(summary: dict) -> str:
    head = f"{'cell@epoch':<16}{'k=0':>11}{'k=5':>11}{'k=10':>11}{'k10/k0':>11}"
    lines = ["mean ‖∂L/∂h_t‖ at distance k = len − 1 − t from the loss", head]
    for key, e in summary.items():
        if not isinstance(e, dict):  # "files"
            continue
        vals = [e.get("k0"), e.get("k5"), e.get("k10"), e.get("ratio_10_0")]
        lines.append(f"{key:<16}" + "".join(f"{v:11.3g}" if v is not None else f"{'-':>11}"
                                           for v in vals))
    return "\n".join(lines)
