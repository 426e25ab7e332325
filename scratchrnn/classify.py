"""Lab 1: surname classification (the book's ch. 6), on the NumPy or the torch backend.

    python -m scratchrnn classify train --cell gru --seed 1
    python -m scratchrnn classify predict --model runs/classify McMahan Nakamoto

The model is :class:`scratchrnn.models.SurnameClassifier` (E=100, H=64 by default);
the loss is cross-entropy weighted by 1/count of each nationality in the train split.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from .activations import softmax
from .backend import BackendFactory, LabTask, LossSpec, spec_loss
from .config import ClassifierConfig, to_dict
from .data import SurnameDataset, SurnameVectorizer, typed_surnames
from .losses import accuracy
from .metrics import classification_report
from .models import SurnameClassifier
from .train import load_lab_model, train_lab, write_metrics

KIND = "classifier"


class ClassificationTask(LabTask):
    """What lab 1 trains: inputs, targets, the (weighted) loss and the metrics."""

    kind = KIND

    def __init__(self, vectorizer: SurnameVectorizer, class_weights: np.ndarray | None,
                 hyperparameters: dict) -> None:
        self.vectorizer = vectorizer
        self.class_weights = class_weights
        self.hyperparameters = hyperparameters

    @staticmethod
    def inputs(batch: dict) -> tuple:
        return batch["x"], batch["lengths"]

    @staticmethod
    def targets(batch: dict) -> np.ndarray:
        return batch["y_nationality"]

    @property
    def loss(self) -> LossSpec:
        """Cross-entropy over one target per surname, weighted by ``class_weights``."""
        return LossSpec(weight=self.class_weights)

    @staticmethod
    def batch_accuracy(logits: np.ndarray, y: np.ndarray) -> float:
        return accuracy(logits, y)

    def metrics(self, logits: np.ndarray, y: np.ndarray) -> dict:
        loss, _ = spec_loss(self.loss, logits, y)
        report = classification_report(y, logits.argmax(axis=1), logits.shape[1])
        return {"loss": float(loss), **report}


def build_model(hp: dict, dtype=np.float32) -> SurnameClassifier:
    """The classifier of ``hp`` (a checkpoint's hyperparameters: ``config`` and the sizes
    ``num_embeddings``, ``num_classes`` from the data)."""
    cfg = hp["config"]
    return SurnameClassifier(
        embedding_size=cfg["embedding"], num_embeddings=hp["num_embeddings"],
        num_classes=hp["num_classes"], rnn_hidden_size=cfg["hidden"], cell=cfg["cell"],
        num_layers=cfg["layers"], bidirectional=cfg["bidirectional"],
        dropout_p=cfg["dropout"], forget_bias=cfg["forget_bias"], dtype=dtype,
        rng=cfg["seed"], reference=cfg["reference"])


def train(config: ClassifierConfig | None = None, *,
          make_backend: BackendFactory | None = None, progress: bool | None = None,
          log: Callable[[str], None] | None = None, overwrite: bool = False,
          **overrides) -> dict:
    """Train, keep the best model in ``config.out``/model.npz, evaluate it on the test split.

    ``config`` (default: :class:`~scratchrnn.config.ClassifierConfig`'s defaults) with
    ``overrides`` replacing its fields, e.g. ``train(hidden=32, epochs=5)``.
    ``make_backend`` builds the backend ``config.backend`` names (NumPy's by default;
    :func:`scratchrnn.cli.backend_factory` builds torch's). ``progress``: a progress bar
    (None: only on a terminal); ``log``: where the per-epoch lines go (stderr).
    Returns the metrics, also written to ``metrics.json``: ``lab``, the ``config`` and
    the test split's figures (``epochs`` is the number of epochs trained).
    """
    cfg = replace(config or ClassifierConfig(), **overrides)
    dataset = SurnameDataset.load(cfg.data)
    vec = dataset.vectorizer
    hp = {"config": to_dict(cfg), "num_embeddings": len(vec.char_vocab),
          "num_classes": len(vec.nationality_vocab)}
    task = ClassificationTask(vec, dataset.class_weights() if cfg.class_weights else None, hp)
    state, test, seconds = train_lab(cfg, build_model(hp), task, dataset, make_backend,
                                     progress, log, overwrite)
    nat = vec.nationalities
    metrics = {
        "lab": "classify", "config": to_dict(cfg),
        "test_loss": test["loss"], "test_acc": test["acc"],
        "test_balanced_acc": test["balanced_acc"],
        "per_class_recall": dict(zip(nat, np.round(test["per_class_recall"], 2).tolist(),
                                     strict=True)),
        "confusion_matrix": test["confusion_matrix"].tolist(), "nationalities": nat,
        "epochs": state.epoch, "best_epoch": state.best_epoch,
        "best_val_loss": state.best_val_loss,
        "seconds_per_epoch": seconds,
    }
    write_metrics(cfg.out, metrics)
    return metrics


def load_model(model_dir: str | Path):
    """(model, vectorizer, hyperparameters) from a directory written by :func:`train`.

    ``hyperparameters["config"]`` is the :class:`~scratchrnn.config.ClassifierConfig` as a
    dict; a checkpoint of the layout before the configs loads too (its names mapped).
    """
    return load_lab_model(model_dir, KIND, build_model, ClassifierConfig)


def predict(model_dir: str | Path, surnames: list[str], topk: int = 3) -> list[dict]:
    """Top-k nationalities with probabilities for each surname."""
    if topk < 1:
        raise ValueError(f"--topk must be at least 1, got {topk}")
    model, vec, _ = load_model(model_dir)
    surnames = typed_surnames(vec, surnames, "read")  # NFC; unknown characters: a warning
    out = []
    for surname in surnames:
        x, length = vec.vectorize_classification(surname)
        logits, _ = model.forward(x[None], np.array([length]))
        p = softmax(logits.astype(np.float64), axis=1)[0]
        best = np.argsort(-p)[: min(topk, len(p))]
        out.append({"surname": surname, "predictions": [
            {"nationality": vec.nationality_vocab.lookup_index(int(i)),
             "probability": float(p[i])} for i in best]})
    return out
