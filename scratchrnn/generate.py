"""Lab 2: surname generation, a character language model (the book's ch. 7).

    P(surname) = Π_t P(c_t | c_<t),   c_1 … c_n followed by <END>

Unconditioned (실습 1) or conditioned on the nationality (실습 2: its embedding is
h0). Training shares the loop of lab 1; this module adds sampling and scoring:

    python -m scratchrnn generate train --conditioned
    python -m scratchrnn generate sample --model runs/generate --nationality Korean -n 5
    python -m scratchrnn generate score --model runs/generate Nakamura Smith
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from .activations import log_softmax
from .backend import BackendFactory, LabTask, LossSpec, spec_loss
from .config import GeneratorConfig, to_dict
from .data import SurnameDataset, SurnameVectorizer, typed_surnames
from .losses import accuracy
from .models import SurnameGenerator
from .rng import as_generator
from .train import load_lab_model, train_lab, write_metrics

KIND = "generator"


class GenerationTask(LabTask):
    """What lab 2 trains: next-character targets under a masked sequence loss."""

    kind = KIND
    mask_index = 0

    def __init__(self, vectorizer: SurnameVectorizer, conditioned: bool,
                 hyperparameters: dict) -> None:
        self.vectorizer, self.conditioned = vectorizer, conditioned
        self.hyperparameters = hyperparameters

    def inputs(self, batch: dict) -> tuple:
        return batch["x_gen"], (batch["y_nationality"] if self.conditioned else None)

    @staticmethod
    def targets(batch: dict) -> np.ndarray:
        return batch["y_gen"]

    @property
    def loss(self) -> LossSpec:
        """Cross-entropy at every step, the padding (``mask_index``) ignored."""
        return LossSpec(ignore_index=self.mask_index, per_step=True)

    def batch_accuracy(self, logits: np.ndarray, y: np.ndarray) -> float:
        return accuracy(logits, y, ignore_index=self.mask_index)

    def metrics(self, logits: np.ndarray, y: np.ndarray) -> dict:
        loss, _ = spec_loss(self.loss, logits, y)
        return {"loss": float(loss), "acc": self.batch_accuracy(logits, y),
                "perplexity": math.exp(float(loss))}


def build_model(hp: dict, dtype=np.float32) -> SurnameGenerator:
    """The generator of ``hp`` (a checkpoint's hyperparameters: ``config`` and the sizes
    ``num_embeddings``, ``num_nationalities`` from the data)."""
    cfg = hp["config"]
    return SurnameGenerator(
        char_embedding_size=cfg["embedding"], char_vocab_size=hp["num_embeddings"],
        rnn_hidden_size=cfg["hidden"], cell=cfg["cell"],
        num_nationalities=hp["num_nationalities"] if cfg["conditioned"] else None,
        num_layers=cfg["layers"], dropout_p=cfg["dropout"], dtype=dtype, rng=cfg["seed"],
        reference=cfg["reference"])


def train(config: GeneratorConfig | None = None, *,
          make_backend: BackendFactory | None = None, progress: bool | None = None,
          log: Callable[[str], None] | None = None, overwrite: bool = False,
          **overrides) -> dict:
    """Train, keep the best model in ``config.out``/model.npz, evaluate it on the test split.

    Arguments as :func:`scratchrnn.classify.train`. A conditioned model is also scored
    as a generative classifier of the test split (``generative_classifier_test_acc``).
    """
    cfg = replace(config or GeneratorConfig(), **overrides)
    dataset = SurnameDataset.load(cfg.data)
    vec = dataset.vectorizer
    prior = class_prior(dataset)
    hp = {"config": to_dict(cfg), "num_embeddings": len(vec.char_vocab),
          "num_nationalities": len(vec.nationality_vocab), "prior": prior.tolist()}
    task = GenerationTask(vec, cfg.conditioned, hp)
    state, test, seconds = train_lab(cfg, build_model(hp), task, dataset, make_backend,
                                     progress, log, overwrite)
    metrics = {
        "lab": "generate", "config": to_dict(cfg),
        "test_loss": test["loss"], "test_acc": test["acc"],
        "test_perplexity": test["perplexity"], "epochs": state.epoch,
        "best_epoch": state.best_epoch, "best_val_loss": state.best_val_loss,
        "seconds_per_epoch": seconds,
    }
    if cfg.conditioned:
        model, _, _ = load_model(cfg.out)
        test_split = dataset.split("test")
        post = nationality_posterior(model, vec, list(test_split.surnames), prior)
        metrics["generative_classifier_test_acc"] = float(
            100.0 * np.mean(post.argmax(axis=1) == test_split.y_nationality))
    write_metrics(cfg.out, metrics)
    return metrics


def load_model(model_dir: str | Path):
    """(model, vectorizer, hyperparameters) from a directory written by :func:`train`
    (``hyperparameters["config"]``: the :class:`~scratchrnn.config.GeneratorConfig`;
    ``["prior"]``: P(nationality) of the train split). Older checkpoints load too."""
    return load_lab_model(model_dir, KIND, build_model, GeneratorConfig)


def class_prior(dataset: SurnameDataset) -> np.ndarray:
    """P(nationality) from the train split's counts."""
    y = dataset.split("train").y_nationality
    counts = np.bincount(y, minlength=len(dataset.vectorizer.nationality_vocab))
    return counts / counts.sum()


# ---------------------------------------------------------------------------
# sampling
# ---------------------------------------------------------------------------
def sample(model: SurnameGenerator, vec: SurnameVectorizer, n: int = 10,
           nationality: str | None = None, temperature: float = 1.0,
           top_k: int | None = None, max_length: int | None = None,
           rng: int | np.random.Generator | None = None) -> list[str]:
    """Draw ``n`` surnames: c_t ~ softmax(logits_t / temperature), restricted to the top k.

    Starts from ``<BEGIN>`` (and the nationality's h0 when conditioned) and stops at
    ``<END>`` or after ``max_length`` characters. ``<MASK>``, ``<UNK>`` and ``<BEGIN>``
    are never drawn.
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top-k must be at least 1, got {top_k}")
    gen = as_generator(rng)
    cv = vec.char_vocab
    max_length = max_length or vec.max_length
    state = _initial_state(model, vec, nationality, n)
    x_t = np.full(n, cv.begin_seq_index)
    out = np.zeros((n, max_length), dtype=np.int64)
    done = np.zeros(n, dtype=bool)
    banned = [cv.mask_index, cv.unk_index, cv.begin_seq_index]
    for t in range(max_length):
        logits, state = model.step(x_t, state)
        z = logits.astype(np.float64) / temperature
        z[:, banned] = -np.inf
        if top_k is not None and top_k < z.shape[1]:
            kth = np.partition(z, -top_k, axis=1)[:, -top_k][:, None]
            z = np.where(z >= kth, z, -np.inf)
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        u = gen.random((n, 1))
        x_t = np.minimum((p.cumsum(axis=1) < u).sum(axis=1), p.shape[1] - 1)
        out[:, t] = np.where(done, cv.mask_index, x_t)
        done |= x_t == cv.end_seq_index
        if done.all():
            break
    return [vec.decode(row) for row in out]


def _initial_state(model, vec, nationality, batch):
    if model.conditioned:
        if nationality is None:
            raise ValueError("this model is conditioned: give a nationality "
                             f"({', '.join(vec.nationalities)})")
        index = np.full(batch, vec.lookup_nationality(nationality))
        h0, _ = model.initial_state(index, batch)
        return h0
    if nationality is not None:
        raise ValueError("this model is unconditioned: it takes no nationality")
    return None


# ---------------------------------------------------------------------------
# scoring: log P(surname) and the generative classifier
# ---------------------------------------------------------------------------
def _vectorize(vec: SurnameVectorizer, surnames: list[str]):
    batch = vec.vectorize_batch(surnames)
    return batch["x_gen"], batch["y_gen"]


def log_probability(model: SurnameGenerator, vec: SurnameVectorizer, surnames: list[str],
                    nationality_index: np.ndarray | None = None) -> np.ndarray:
    """log P(surname) = Σ_t log P(c_t | c_<t), ``<END>`` included, in nats; shape (N,)."""
    x, y = _vectorize(vec, surnames)
    logits, _ = model.forward(x, nationality_index)
    logp = log_softmax(logits.astype(np.float64), axis=-1)
    picked = np.take_along_axis(logp, y[..., None], axis=-1)[..., 0]
    return np.where(y != vec.char_vocab.mask_index, picked, 0.0).sum(axis=1)


def log_probability_by_nationality(model: SurnameGenerator, vec: SurnameVectorizer,
                                   surnames: list[str], batch_size: int = 512) -> np.ndarray:
    """log P(surname | nationality) for every nationality; shape (N, C)."""
    C = len(vec.nationality_vocab)
    logp = np.empty((len(surnames), C))
    for lo in range(0, len(surnames), batch_size):
        chunk = surnames[lo: lo + batch_size]
        for c in range(C):
            logp[lo: lo + len(chunk), c] = log_probability(
                model, vec, chunk, np.full(len(chunk), c))
    return logp


def posterior(log_likelihood: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Bayes: P(n | s) = P(s | n) P(n) / Σ_m P(s | m) P(m), from log P(s | n) (N, C)."""
    joint = log_likelihood + np.log(np.asarray(prior, dtype=np.float64))
    joint -= joint.max(axis=1, keepdims=True)
    post = np.exp(joint)
    return post / post.sum(axis=1, keepdims=True)


def nationality_posterior(model: SurnameGenerator, vec: SurnameVectorizer,
                          surnames: list[str], prior: np.ndarray) -> np.ndarray:
    """P(nationality | surname) under a conditioned model; shape (N, C)."""
    return posterior(log_probability_by_nationality(model, vec, surnames), prior)


def score(model_dir: str | Path, surnames: list[str], nationality: str | None = None) -> list:
    """Per surname: log P (total and per character), and for a conditioned model without a
    nationality given, P(surname | n) for every nationality and the posterior over them."""
    model, vec, hp = load_model(model_dir)
    surnames = typed_surnames(vec, surnames, "scored")  # NFC; unknown characters: a warning
    results = []
    if model.conditioned and nationality is None:
        per_nat = log_probability_by_nationality(model, vec, surnames)
        post = posterior(per_nat, hp["prior"])
        # log P(s) = log Σ_n P(s | n) P(n), the marginal under the train-split prior
        joint = per_nat + np.log(np.asarray(hp["prior"]))
        top = joint.max(axis=1)
        marginal = top + np.log(np.exp(joint - top[:, None]).sum(axis=1))
        for i, s in enumerate(surnames):
            results.append({
                "surname": s, "log_prob": float(marginal[i]),
                "log_prob_per_char": float(marginal[i] / (len(s.strip()) + 1)),
                "log_prob_by_nationality": dict(zip(vec.nationalities, per_nat[i].tolist(),
                                                    strict=True)),
                "posterior": dict(zip(vec.nationalities, post[i].tolist(), strict=True)),
            })
        return results
    index = None
    if model.conditioned:
        index = np.full(len(surnames), vec.lookup_nationality(nationality))
    elif nationality is not None:
        raise ValueError("this model is unconditioned: it takes no --nationality")
    logp = log_probability(model, vec, surnames, index)
    for s, lp in zip(surnames, logp, strict=True):
        results.append({"surname": s, "log_prob": float(lp),
                        "log_prob_per_char": float(lp / (len(s.strip()) + 1))})
    return results
