"""Lab 1: surname classification (the book's ch. 6), on the NumPy or the torch backend.

    python -m scratchrnn classify train --cell gru --seed 1
    python -m scratchrnn classify predict --model runs/classify McMahan Nakamoto

The model is :class:`scratchrnn.models.SurnameClassifier` (E=100, H=64 by default);
the loss is cross-entropy weighted by 1/count of each nationality in the train split.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .activations import softmax
from .backend import BackendFactory, LossSpec, spec_loss, spec_loss_and_grad
from .data import SurnameDataset, SurnameVectorizer
from .losses import accuracy
from .metrics import classification_report
from .models import SurnameClassifier
from .train import TrainConfig, load_lab_model, resolve_backend, run_training, write_metrics

KIND = "classifier"


class ClassificationTask:
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

    def loss_and_grad(self, logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """(loss, ∂loss/∂logits) of :attr:`loss` in NumPy."""
        return spec_loss_and_grad(self.loss, logits, y)

    @staticmethod
    def batch_accuracy(logits: np.ndarray, y: np.ndarray) -> float:
        return accuracy(logits, y)

    def metrics(self, logits: np.ndarray, y: np.ndarray) -> dict:
        loss, _ = spec_loss(self.loss, logits, y)
        report = classification_report(y, logits.argmax(axis=1), logits.shape[1])
        return {"loss": float(loss), **report}

    def checkpoint_meta(self) -> dict:
        return {"hyperparameters": self.hyperparameters,
                "vocabularies": self.vectorizer.to_json()}


def build_model(hp: dict, dtype=np.float32) -> SurnameClassifier:
    return SurnameClassifier(
        embedding_size=hp["embedding_size"], num_embeddings=hp["num_embeddings"],
        num_classes=hp["num_classes"], rnn_hidden_size=hp["hidden_size"], cell=hp["cell"],
        num_layers=hp["num_layers"], bidirectional=hp["bidirectional"],
        dropout_p=hp["dropout"], forget_bias=hp.get("forget_bias", 0.0), dtype=dtype,
        rng=hp["seed"])


def train(data: str | None = None, out: str | Path = "runs/classify", cell: str = "elman",
          backend: str = "numpy", device: str = "cpu", embedding: int = 100, hidden: int = 64,
          layers: int = 1, bidirectional: bool = False, dropout: float = 0.5,
          class_weights: bool = True, epochs: int = 100, batch_size: int = 64,
          lr: float = 1e-3, seed: int = 1337, early_stopping: int = 5,
          clip: float | None = None, progress: bool | None = None, resume: bool = False,
          forget_bias: float | None = None, log=None,
          make_backend: BackendFactory | None = None, overwrite: bool = False) -> dict:
    """Train, keep the best model in ``out/model.npz``, evaluate it on the test split.

    ``forget_bias`` (LSTM): added to the forget gate's bias at initialisation; None
    means 1.0 for an LSTM (the usual remedy for early forgetting, Jozefowicz et al.
    2015), and 0 keeps torch's initialisation exactly.
    """
    if forget_bias is None:
        forget_bias = 1.0 if cell == "lstm" else 0.0
    dataset = SurnameDataset.load(data)
    vec = dataset.vectorizer
    hp = dict(cell=cell, embedding_size=embedding, hidden_size=hidden, num_layers=layers,
              bidirectional=bidirectional, dropout=dropout, num_embeddings=len(vec.char_vocab),
              num_classes=len(vec.nationality_vocab), seed=seed,
              class_weights=class_weights, lr=lr, batch_size=batch_size,
              forget_bias=forget_bias)
    task = ClassificationTask(vec, dataset.class_weights() if class_weights else None, hp)
    cfg = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed,
                      early_stopping=early_stopping, clip=clip, progress=progress)
    state, test, seconds = run_training(build_model(hp), task, dataset, cfg, out,
                                        resolve_backend(backend, make_backend), resume, log,
                                        overwrite=overwrite)
    nat = vec.nationalities
    metrics = {
        "lab": "classify", "backend": backend, "device": device, "cell": cell, "seed": seed,
        "hidden": hidden, "layers": layers, "bidirectional": bidirectional,
        "class_weights": class_weights,
        "test_loss": test["loss"], "test_acc": test["acc"],
        "test_balanced_acc": test["balanced_acc"],
        "per_class_recall": dict(zip(nat, np.round(test["per_class_recall"], 2).tolist(),
                                     strict=True)),
        "confusion_matrix": test["confusion_matrix"].tolist(), "nationalities": nat,
        "epochs": state.epoch, "best_epoch": state.best_epoch,
        "best_val_loss": state.best_val_loss,
        "seconds_per_epoch": seconds,
    }
    write_metrics(out, metrics)
    return metrics


def load_model(model_dir: str | Path):
    """(model, vectorizer, hyperparameters) from a directory written by :func:`train`."""
    return load_lab_model(model_dir, KIND, build_model)


def predict(model_dir: str | Path, surnames: list[str], topk: int = 3) -> list[dict]:
    """Top-k nationalities with probabilities for each surname."""
    if topk < 1:
        raise ValueError(f"--topk must be at least 1, got {topk}")
    model, vec, _ = load_model(model_dir)
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
