"""The training loop shared by both labs and both backends.

A *backend* (:class:`scratchrnn.backend.Backend`: the NumPy one, or the torch one the
command line hands in) runs one model; the loop, the data, the metrics, the
schedule, early stopping and the checkpoints are the same for both.

Schedule (the book's): Adam, ReduceLROnPlateau(factor 0.5, patience 1) on the
validation loss, early stopping after ``patience`` epochs without a new best
validation loss; the best model is kept on disk and restored at the end.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .backend import Backend, BackendFactory, NumpyBackend, Task
from .checkpoint import load_checkpoint, save_checkpoint
from .data import SurnameDataset, SurnameVectorizer
from .optim import ReduceLROnPlateau


@dataclass
class TrainConfig:
    epochs: int = 100
    batch_size: int = 64
    lr: float = 1e-3
    seed: int = 1337
    early_stopping: int = 5
    lr_factor: float = 0.5
    lr_patience: int = 1
    clip: float | None = None
    progress: bool | None = None  # None: a bar only when stderr is a terminal


@dataclass
class TrainState:
    """Everything the loop needs to continue after an interruption."""

    epoch: int = 0  # epochs completed
    best_val_loss: float | None = None  # None until the first validation
    best_epoch: int = -1
    bad_epochs: int = 0
    history: list = field(default_factory=list)
    stopped_early: bool = False


class TrainingError(RuntimeError):
    """A fault during training (non-finite loss or gradient)."""


class TrainingInterrupted(RuntimeError):
    """Ctrl-C during training; the message says what was saved and how to resume."""


def _progress(total: int, desc: str, enabled: bool | None):
    """A tqdm bar if tqdm is installed and enabled, else a silent stand-in.

    ``enabled=None`` shows the bar only when stderr is a terminal, so that logs
    redirected to a file hold the epoch lines and no carriage-return updates.
    """
    if enabled is None:
        isatty = getattr(sys.stderr, "isatty", None)
        enabled = bool(isatty and isatty())
    if enabled:
        try:
            from tqdm.auto import tqdm

            return tqdm(total=total, desc=desc, leave=False, file=sys.stderr)
        except ImportError:
            pass

    class _Quiet:
        def update(self, n=1):
            pass

        def set_postfix(self, **kw):
            pass

        def close(self):
            pass

    return _Quiet()


def evaluate(backend: Backend, dataset: SurnameDataset, split: str, task: Task,
             batch_size: int = 512) -> dict:
    """Loss and metrics of ``split`` (every row, in file order) under the task's loss."""
    backend.eval()
    logits, targets = [], []
    for batch in dataset.eval_batches(split, batch_size):
        logits.append(backend.predict(batch).astype(np.float64))
        targets.append(task.targets(batch))
    return task.metrics(np.concatenate(logits), np.concatenate(targets))


class Trainer:
    """Runs epochs of ``backend`` on ``dataset`` for ``task``, saving into ``out_dir``.

    ``task`` (:class:`scratchrnn.backend.Task`) provides ``targets(batch)``,
    ``metrics(logits, targets)`` (with ``loss`` and ``acc``), ``kind`` and
    ``checkpoint_meta()`` (hyperparameters, vocabularies).
    """

    def __init__(self, backend: Backend, dataset: SurnameDataset, task: Task,
                 config: TrainConfig,
                 out_dir: str | Path, log: Callable[[str], None] | None = None) -> None:
        self.backend, self.dataset, self.task, self.cfg = backend, dataset, task, config
        self.out_dir = Path(out_dir)
        self.log = log or (lambda msg: print(msg, file=sys.stderr))
        self.state = TrainState()
        self.shuffle_rng = np.random.default_rng(config.seed)
        self.scheduler = ReduceLROnPlateau(backend, mode="min", factor=config.lr_factor,
                                           patience=config.lr_patience)

    # -- checkpoints -------------------------------------------------------------
    @property
    def best_path(self) -> Path:
        return self.out_dir / "model.npz"

    @property
    def last_path(self) -> Path:
        return self.out_dir / "last.npz"

    def _save(self, path: Path) -> None:
        meta = self.task.checkpoint_meta()
        save_checkpoint(
            path,
            self.backend.model_state(),
            kind=self.task.kind,
            hyperparameters=meta["hyperparameters"],
            vocabularies=meta["vocabularies"],
            optimizer_state=self.backend.optimizer_state(),
            scheduler_state=self.scheduler.state_dict(),
            epoch=self.state.epoch,
            extra={
                "train_state": asdict(self.state),
                "train_config": asdict(self.cfg),
                "shuffle_rng": self.shuffle_rng.bit_generator.state,
                "model_rng": self.backend.rng_state(),
            },
        )

    def resume(self, path: str | Path) -> None:
        """Restore model, optimizer, scheduler, early-stopping and RNG states."""
        ckpt = load_checkpoint(path, kind=self.task.kind)
        self.backend.load_model_state(ckpt.model_state)
        self.backend.load_optimizer_state(ckpt.optimizer_state)
        self.scheduler.load_state_dict(ckpt.scheduler_state)
        self.state = TrainState(**ckpt.extra["train_state"])
        self.shuffle_rng.bit_generator.state = ckpt.extra["shuffle_rng"]
        self.backend.set_rng_state(ckpt.extra["model_rng"])

    # -- the loop ----------------------------------------------------------------
    def train_epoch(self) -> dict:
        cfg, st = self.cfg, self.state
        self.backend.train()
        n = self.dataset.num_batches("train", cfg.batch_size, drop_last=True)
        bar = _progress(n, f"epoch {st.epoch + 1}", cfg.progress)
        loss_sum, acc_sum = 0.0, 0.0
        try:
            for i, batch in enumerate(self.dataset.batches(
                    "train", cfg.batch_size, shuffle=True, rng=self.shuffle_rng, drop_last=True)):
                loss, logits = self.backend.train_step(batch)
                if not np.isfinite(loss):
                    kept = (f"the last good checkpoint is {self.last_path}"
                            if self.last_path.exists() else "no epoch was complete yet")
                    raise TrainingError(
                        f"non-finite loss or gradient ({loss}) at epoch {st.epoch + 1}, "
                        f"step {i + 1}; nothing was updated; {kept}")
                acc = self.task.batch_accuracy(logits, self.task.targets(batch))
                loss_sum += loss
                acc_sum += acc
                bar.update(1)
                bar.set_postfix(loss=f"{loss_sum / (i + 1):.3f}", acc=f"{acc_sum / (i + 1):.1f}")
        finally:
            bar.close()
        return {"train_loss": loss_sum / n, "train_acc": acc_sum / n}

    def fit(self) -> TrainState:
        """Run epochs until ``epochs`` or early stopping; restore the best model.

        Ctrl-C saves the current (mid-epoch) model to ``interrupted.npz`` and raises
        :class:`TrainingInterrupted`; ``last.npz`` still holds the last complete epoch,
        from which ``--resume`` continues exactly.
        """
        self.out_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._epochs()
        except KeyboardInterrupt:
            path = self.out_dir / "interrupted.npz"
            self._save(path)
            hint = (f"continue from the last complete epoch ({self.state.epoch}) with --resume"
                    if self.last_path.exists() else "no epoch was complete: nothing to resume")
            raise TrainingInterrupted(
                f"interrupted during epoch {self.state.epoch + 1}: saved {path}; {hint}"
            ) from None
        if self.best_path.exists():
            self.backend.load_model_state(load_checkpoint(self.best_path).model_state)
        return self.state

    def _epochs(self) -> None:
        cfg, st = self.cfg, self.state
        while st.epoch < cfg.epochs and not st.stopped_early:
            start = time.perf_counter()
            row = self.train_epoch()
            val = evaluate(self.backend, self.dataset, "val", self.task)
            row.update(epoch=st.epoch + 1, val_loss=val["loss"], val_acc=val["acc"],
                       lr=self.backend.lr, seconds=time.perf_counter() - start)
            st.epoch += 1
            st.history.append(row)
            self.scheduler.step(val["loss"])
            if st.best_val_loss is None or val["loss"] < st.best_val_loss:
                st.best_val_loss, st.best_epoch, st.bad_epochs = val["loss"], st.epoch, 0
                self._save(self.best_path)
            else:
                st.bad_epochs += 1
                st.stopped_early = st.bad_epochs >= cfg.early_stopping
            self._save(self.last_path)
            self.log(f"epoch {st.epoch:3d}  train loss {row['train_loss']:.4f} "
                     f"acc {row['train_acc']:5.1f}  val loss {val['loss']:.4f} "
                     f"acc {val['acc']:5.1f}  lr {row['lr']:.2e}  {row['seconds']:.1f}s")



def run_training(model, task, dataset: SurnameDataset, config: TrainConfig, out: str | Path,
                 make_backend: BackendFactory = NumpyBackend, resume: bool = False, log=None):
    """Train (or resume) ``model``; returns (state, test metrics, seconds per epoch).

    ``make_backend(model, task, lr=…, clip=…)`` builds the backend that runs the model:
    :class:`~scratchrnn.backend.NumpyBackend` by default; the command line hands in the
    torch one. The best model (by validation loss) ends up in ``out/model.npz`` and in
    the backend.
    """
    be = make_backend(model, task, lr=config.lr, clip=config.clip)
    trainer = Trainer(be, dataset, task, config, out, log=log)
    if resume:
        trainer.resume(trainer.last_path)
    epochs_before = trainer.state.epoch
    start = time.perf_counter()
    state = trainer.fit()
    seconds_per_epoch = (time.perf_counter() - start) / max(1, state.epoch - epochs_before)
    test = evaluate(be, dataset, "test", task)
    return state, test, seconds_per_epoch


def load_lab_model(model_dir: str | Path, kind: str, build):
    """(model, vectorizer, hyperparameters) from ``model_dir/model.npz`` (or a file path).

    ``build(hyperparameters, dtype=...)`` makes the lab's model; the checkpoint must be
    of ``kind`` ("classifier" or "generator"). The model is returned in eval mode.
    """
    path = Path(model_dir)
    if path.is_dir():
        path = path / "model.npz"
    ckpt = load_checkpoint(path, kind=kind)
    vec = SurnameVectorizer.from_json(ckpt.vocabularies)
    hp = ckpt.hyperparameters
    model = build(hp, dtype=next(iter(ckpt.model_state.values())).dtype)
    model.load_state_dict(ckpt.model_state)
    model.eval()
    return model, vec, hp


def write_metrics(out: str | Path, metrics: dict) -> Path:
    path = Path(out) / "metrics.json"
    path.write_text(json.dumps(metrics, indent=2, default=_json_default))
    return path


def _json_default(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def resolve_backend(name: str, make_backend: BackendFactory | None = None) -> BackendFactory:
    """The factory for backend ``name``: ``make_backend`` if given, else NumPy's.

    scratchrnn itself only knows the NumPy backend; the torch one is handed in by
    its caller (the command line builds it from ``parity.runtime.backend``).
    """
    if name not in ("numpy", "torch"):
        raise ValueError(f"backend must be numpy or torch, got {name!r}")
    if make_backend is not None:
        return make_backend
    if name == "torch":
        raise ValueError("the torch backend is handed in by the caller: pass make_backend "
                         "(scratchrnn.cli.backend_factory builds it)")
    return NumpyBackend
