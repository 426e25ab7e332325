"""The training loop shared by both labs and both backends.

A *backend* (:class:`scratchrnn.backend.Backend`: the NumPy one, or the torch one the
command line hands in) runs one model; the loop, the data, the metrics, the
schedule, early stopping and the checkpoints are the same for both.

Schedule (the book's): Adam, ReduceLROnPlateau(factor 0.5, patience 1) on the
validation loss, early stopping after ``patience`` epochs without a new best
validation loss; the best model is kept on disk and restored at the end.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import interrupt
from .backend import Backend, BackendFactory, NumpyBackend, Task
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .config import checkpoint_hyperparameters, flat_hyperparameters
from .data import SurnameDataset, SurnameVectorizer, ambiguous_surnames
from .fileio import atomic_write_json
from .optim import ReduceLROnPlateau
from .rundir import RunDir, check_resume
from .schema import check_lab_checkpoint, check_train_state


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
    """A fault during training: divergence (a non-finite loss, gradient, parameter after an
    update, or validation loss)."""


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


class NonFiniteOutput(ArithmeticError):
    """The model's output on an evaluation split is not finite (it has diverged)."""


def evaluate(backend: Backend, dataset: SurnameDataset, split: str, task: Task,
             batch_size: int = 512) -> dict:
    """Loss and metrics of ``split`` (every row, in file order) under the task's loss.

    Raises :class:`NonFiniteOutput` if a logit or the loss is not finite.
    """
    backend.eval()
    logits, targets = [], []
    for batch in dataset.eval_batches(split, batch_size):
        out = backend.predict(batch).astype(np.float64)
        if not np.isfinite(out).all():
            raise NonFiniteOutput(f"non-finite output on the {split} split")
        logits.append(out)
        targets.append(task.targets(batch))
    metrics = task.metrics(np.concatenate(logits), np.concatenate(targets))
    if not np.isfinite(metrics["loss"]):
        raise NonFiniteOutput(f"non-finite {split} loss ({metrics['loss']})")
    return metrics


def _parameters_finite(backend) -> bool:
    check = getattr(backend, "parameters_finite", None)
    if check is not None:
        return bool(check())
    return all(np.isfinite(v).all() for v in backend.model_state().values())


class Trainer:
    """Runs epochs of ``backend`` on ``dataset`` for ``task``, saving into ``out_dir``.

    ``task`` (:class:`scratchrnn.backend.Task`) provides ``targets(batch)``,
    ``metrics(logits, targets)`` (with ``loss`` and ``acc``), ``kind`` and
    ``checkpoint_meta()`` (hyperparameters, vocabularies).
    """

    def __init__(self, backend: Backend, dataset: SurnameDataset, task: Task,
                 config: TrainConfig,
                 out_dir: str | Path, log: Callable[[str], None] | None = None,
                 run: RunDir | None = None) -> None:
        self.backend, self.dataset, self.task, self.cfg = backend, dataset, task, config
        self.out_dir = Path(out_dir)
        self.run = run
        #: the epoch that last.npz holds (None: no last.npz written or resumed from)
        self.saved_epoch: int | None = None
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
                **({"run": self.run.record} if self.run is not None else {}),
            },
        )

    def resume(self, path: str | Path) -> None:
        """Restore model, optimizer, scheduler, early-stopping and RNG states."""
        ckpt = load_checkpoint(path, kind=self.task.kind)
        check_lab_checkpoint(ckpt, self.task.kind)
        check_train_state(ckpt)
        if self.run is not None:
            check_resume(path, ckpt.extra.get("run"), kind=self.run.kind, data=self.run.data,
                         config=self.run.config)
        if ckpt.optimizer_state is None or ckpt.scheduler_state is None:
            raise CheckpointError(f"{path}: holds no optimizer or scheduler state to resume")
        try:
            self.backend.load_model_state(ckpt.model_state)
            self.backend.load_optimizer_state(ckpt.optimizer_state)
            self.scheduler.load_state_dict(ckpt.scheduler_state)
            self.backend.set_rng_state(ckpt.extra["model_rng"])
        except (ValueError, KeyError, TypeError, IndexError, RuntimeError) as e:
            raise CheckpointError(
                f"{path}: cannot restore the training state ({' '.join(str(e).split())})"
            ) from None
        self.state = TrainState(**ckpt.extra["train_state"])
        self.shuffle_rng.bit_generator.state = ckpt.extra["shuffle_rng"]
        self.saved_epoch = ckpt.epoch

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
                interrupt.check()  # a Ctrl-C that Python swallowed is acted on here
                loss, logits = self.backend.train_step(batch)
                if not np.isfinite(loss):
                    raise TrainingError(
                        f"non-finite loss or gradient ({loss}) at epoch {st.epoch + 1}, "
                        f"step {i + 1}; nothing was updated; {self._kept()}")
                if not _parameters_finite(self.backend):
                    raise TrainingError(
                        f"non-finite parameters after the update at epoch {st.epoch + 1}, "
                        f"step {i + 1} (diverged: try a smaller --lr or --clip); {self._kept()}")
                acc = self.task.batch_accuracy(logits, self.task.targets(batch))
                loss_sum += loss
                acc_sum += acc
                bar.update(1)
                bar.set_postfix(loss=f"{loss_sum / (i + 1):.3f}", acc=f"{acc_sum / (i + 1):.1f}")
        finally:
            bar.close()
        return {"train_loss": loss_sum / n, "train_acc": acc_sum / n}

    def _epoch_on_disk(self) -> int | None:
        """The epoch last.npz really holds (None if there is none or it is unreadable)."""
        try:
            return load_checkpoint(self.last_path, kind=self.task.kind).epoch
        except (CheckpointError, OSError):
            return None

    def _kept(self) -> str:
        if self.saved_epoch is None:
            return "no epoch was complete yet"
        return f"the last good checkpoint is {self.last_path} (epoch {self.saved_epoch})"

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
            try:
                self._save(path)
                saved = f"saved {path}"
            except (KeyboardInterrupt, OSError, ValueError):
                saved = "the current model was not saved"
            try:
                on_disk = self._epoch_on_disk()
            except KeyboardInterrupt:  # pressed again: what this run last saved, unread
                on_disk = self.saved_epoch
            hint = (f"{self.last_path} holds epoch {on_disk}: continue from it with --resume"
                    if on_disk is not None else "no epoch was complete: nothing to resume")
            raise TrainingInterrupted(
                f"interrupted during epoch {self.state.epoch + 1}: {saved}; {hint}"
            ) from None
        if self.best_path.exists():
            self.backend.load_model_state(load_checkpoint(self.best_path).model_state)
        return self.state

    def _epochs(self) -> None:
        cfg, st = self.cfg, self.state
        while st.epoch < cfg.epochs and not st.stopped_early:
            start = time.perf_counter()
            row = self.train_epoch()
            try:
                val = evaluate(self.backend, self.dataset, "val", self.task)
            except NonFiniteOutput as e:
                raise TrainingError(
                    f"{e} after epoch {st.epoch + 1}, step "
                    f"{self.dataset.num_batches('train', cfg.batch_size, drop_last=True)} "
                    f"(diverged: try a smaller --lr or --clip); {self._kept()}") from None
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
            self.saved_epoch = st.epoch
            self.log(f"epoch {st.epoch:3d}  train loss {row['train_loss']:.4f} "
                     f"acc {row['train_acc']:5.1f}  val loss {val['loss']:.4f} "
                     f"acc {val['acc']:5.1f}  lr {row['lr']:.2e}  {row['seconds']:.1f}s")



def dataset_fingerprint(dataset: SurnameDataset) -> str:
    """``"sha256:…"`` of what training sees: the vocabularies and every split's rows in
    order (the same rows in another order, or other rows, give another fingerprint)."""
    rows = {name: [[r.surname, r.nationality] for r in recs]
            for name, recs in dataset.records.items()}
    text = json.dumps([dataset.vectorizer.to_json(), rows], ensure_ascii=False, sort_keys=True)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def run_training(model, task, dataset: SurnameDataset, config: TrainConfig, out: str | Path,
                 make_backend: BackendFactory = NumpyBackend, resume: bool = False, log=None,
                 overwrite: bool = False):
    """Train (or resume) ``model``; returns (state, test metrics, seconds per epoch).

    ``make_backend(model, task, lr=…, clip=…)`` builds the backend that runs the model:
    :class:`~scratchrnn.backend.NumpyBackend` by default; the command line hands in the
    torch one. ``out`` is owned while training (:class:`scratchrnn.rundir.RunDir`: a
    lock, the overwrite rule, a resume that must match the run's data and config). The
    best model (by validation loss) ends up in ``out/model.npz`` and in the backend.
    """
    run_config = {**flat_hyperparameters(task.checkpoint_meta()["hyperparameters"]),
                  **asdict(config)}
    run = RunDir(out, kind=task.kind, data=dataset_fingerprint(dataset), config=run_config)
    be = make_backend(model, task, lr=config.lr, clip=config.clip)
    with run.open(resume=resume, overwrite=overwrite):
        trainer = Trainer(be, dataset, task, config, out, log=log, run=run)
        if resume:
            trainer.resume(trainer.last_path)
        epochs_before = trainer.state.epoch
        start = time.perf_counter()
        state = trainer.fit()
        seconds_per_epoch = (time.perf_counter() - start) / max(1, state.epoch - epochs_before)
    test = evaluate(be, dataset, "test", task)
    return state, test, seconds_per_epoch


def train_lab(config, model, task, dataset: SurnameDataset, make_backend=None,
              progress: bool | None = None, log=None, overwrite: bool = False):
    """:func:`run_training` for a lab's config (``ClassifierConfig``/``GeneratorConfig``):
    its schedule fields make the :class:`TrainConfig`, its ``backend`` names the backend
    (``make_backend`` builds it when it is not NumPy's). Returns what run_training does."""
    n = ambiguous_surnames(r for rows in dataset.records.values() for r in rows)
    if n:  # said once per run; the rows are kept (a surname can be of two nationalities)
        (log or (lambda msg: print(msg, file=sys.stderr)))(
            f"data: {n} surnames appear under more than one nationality (kept, as in the "
            "book's data)")
    schedule = TrainConfig(epochs=config.epochs, batch_size=config.batch_size, lr=config.lr,
                           seed=config.seed, early_stopping=config.early_stopping,
                           clip=config.clip, progress=progress)
    return run_training(model, task, dataset, schedule, config.out,
                        resolve_backend(config.backend, make_backend), config.resume, log,
                        overwrite=overwrite)


def load_lab_model(model_dir: str | Path, kind: str, build, config_class: type):
    """(model, vectorizer, hyperparameters) from ``model_dir/model.npz`` (or a file path).

    ``build(hyperparameters, dtype=...)`` makes the lab's model; the checkpoint must be
    of ``kind`` ("classifier" or "generator"). Its hyperparameters come in today's layout
    (``{"config": …, sizes …}``, :func:`scratchrnn.config.checkpoint_hyperparameters`),
    whichever layout wrote them. The model is returned in eval mode.
    """
    path = Path(model_dir)
    if path.is_dir():
        path = path / "model.npz"
    ckpt = load_checkpoint(path, kind=kind)
    check_lab_checkpoint(ckpt, kind)  # before anything is built from it
    try:
        vec = SurnameVectorizer.from_json(ckpt.vocabularies)
        hp = checkpoint_hyperparameters(config_class, ckpt.hyperparameters)
        model = build(hp, dtype=next(iter(ckpt.model_state.values())).dtype)
        model.load_state_dict(ckpt.model_state)
    except (ValueError, KeyError, TypeError) as e:
        raise CheckpointError(f"{path}: {' '.join(str(e).split())}") from None
    model.eval()
    return model, vec, hp


def write_metrics(out: str | Path, metrics: dict) -> Path:
    """``out/metrics.json``, written atomically (a crash or a full disk leaves the old one)."""
    return atomic_write_json(Path(out) / "metrics.json", _finite(metrics), default=_json_default)


def _finite(value):
    """``value`` with every non-finite float replaced by None (strict JSON has no NaN)."""
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


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
