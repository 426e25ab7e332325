r"""The sentiment-classification slide: a many-to-one RNN against a bag of words.

:func:`sentiment_corpus` writes short reviews from templates, each labelled positive (1)
or negative (0), deterministic per seed. Three kinds of phrase:

    plain     "the movie was really good"                   → the adjective's polarity
    negated   "the movie was not good", "i did not like it" → the opposite
    contrast  "the plot was bad but the acting was great"   → the clause after "but"

A bag of words sees only which words occur: "not" and "good" are there whether the
phrase is "not good" or "good … not bad", so for the negated and contrast phrases it has
no better rule than counting. The RNN reads the words in order, and its last hidden
state decides: h_T → Linear → ReLU → Linear → logits (2,) (the lab's
:class:`~scratchrnn.models.SurnameClassifier`, with words in place of characters).

Both train with the project's cross-entropy and Adam; :func:`compare` gives the accuracy
of each on held-out phrases, per kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ..data import SequenceVocabulary
from ..layers import Linear
from ..losses import cross_entropy, cross_entropy_backward
from ..models import SurnameClassifier
from ..optim import Adam
from ..rng import as_generator
from .wordlm import build_vocabulary, words

KINDS = ("plain", "negated", "contrast")
POSITIVE = ("good", "great", "fun", "lovely")
NEGATIVE = ("bad", "boring", "awful", "dull")
THINGS = ("movie", "film", "plot", "acting", "music", "ending")
VERBS = {"liked": 1, "loved": 1, "enjoyed": 1, "hated": 0, "disliked": 0}


class Phrase(NamedTuple):
    text: str
    label: int  # 1 positive, 0 negative
    kind: str  # one of KINDS


def _clause(gen: np.random.Generator, negate: bool) -> tuple[str, int]:
    """One clause and its label: an adjective or a verb phrase, negated or not."""
    thing = THINGS[gen.integers(len(THINGS))]
    adverb = ("", "really ", "very ", "quite ")[gen.integers(4)]
    if gen.random() < 0.7:
        good = bool(gen.random() < 0.5)
        adjective = (POSITIVE if good else NEGATIVE)[gen.integers(4)]
        text = f"the {thing} was {'not ' if negate else ''}{adverb}{adjective}"
        return text, int(good != negate)
    verb = list(VERBS)[gen.integers(len(VERBS))]
    if negate:
        base = {"liked": "like", "loved": "love", "enjoyed": "enjoy", "hated": "hate",
                "disliked": "dislike"}[verb]
        return f"i did not {base} the {thing}", 1 - VERBS[verb]
    return f"i {adverb}{verb} the {thing}", VERBS[verb]


def sentiment_corpus(n: int = 600, seed: int = 0) -> list[Phrase]:
    """``n`` labelled phrases, the same for the same seed: kinds plain : negated : contrast
    = 2 : 2 : 1, labels about half positive."""
    gen = as_generator(seed)
    out = []
    for _ in range(n):
        kind = KINDS[gen.choice(3, p=(0.4, 0.4, 0.2))]
        if kind == "contrast":
            first, first_label = _clause(gen, negate=bool(gen.random() < 0.5))
            second, label = _clause(gen, negate=bool(gen.random() < 0.5))
            while label == first_label:  # "but" joins opposite clauses
                second, label = _clause(gen, negate=bool(gen.random() < 0.5))
            out.append(Phrase(f"{first} but {second}", label, kind))
        else:
            text, label = _clause(gen, negate=kind == "negated")
            out.append(Phrase(text, label, kind))
    return out


def encode_phrases(vocab: SequenceVocabulary, phrases: Sequence[Phrase]
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x (N, T) int64 padded with <MASK> = 0, lengths (N,), labels (N,)); no BEGIN/END."""
    rows = [[vocab.lookup_token(w) for w in words(p.text)] for p in phrases]
    x = np.zeros((len(rows), max(map(len, rows))), dtype=np.int64)
    for i, r in enumerate(rows):
        x[i, : len(r)] = r
    return (x, np.array([len(r) for r in rows], dtype=np.int64),
            np.array([p.label for p in phrases], dtype=np.int64))


def bag_of_words(x: np.ndarray, vocab_size: int) -> np.ndarray:
    """Word counts, (N, V) float64; column 0 (<MASK>, the padding) left at zero."""
    counts = np.zeros((x.shape[0], vocab_size))
    np.add.at(counts, (np.arange(x.shape[0])[:, None], x), 1.0)
    counts[:, 0] = 0.0
    return counts


def train_bag_of_words(x: np.ndarray, labels: np.ndarray, vocab_size: int,
                       steps: int = 300, lr: float = 0.05, seed: int = 0) -> Linear:
    """Logistic regression on word counts: logits = counts W^T + b, W (2, V); full-batch Adam."""
    features = bag_of_words(x, vocab_size)
    model = Linear(vocab_size, 2, dtype=np.float64, rng=seed)
    opt = Adam(model, lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        logits, cache = model.forward(features)
        _, ce_cache = cross_entropy(logits, labels)
        model.backward(cross_entropy_backward(1.0, ce_cache), cache)
        opt.step()
    return model


def train_rnn(x: np.ndarray, lengths: np.ndarray, labels: np.ndarray, vocab_size: int,
              cell: str = "lstm", embedding: int = 16, hidden: int = 32, epochs: int = 30,
              batch_size: int = 32, lr: float = 0.01, seed: int = 0) -> SurnameClassifier:
    """The many-to-one RNN: minibatch Adam on cross-entropy, no dropout, float64; eval mode."""
    model = SurnameClassifier(embedding, vocab_size, 2, hidden, cell=cell, dropout_p=0.0,
                              dtype=np.float64, rng=seed)
    opt = Adam(model, lr=lr)
    gen = as_generator(seed)
    for _ in range(epochs):
        order = gen.permutation(len(labels))
        for lo in range(0, len(order), batch_size):
            rows = order[lo: lo + batch_size]
            opt.zero_grad()
            logits, cache = model.forward(x[rows], lengths[rows])
            _, ce_cache = cross_entropy(logits, labels[rows])
            model.backward(cross_entropy_backward(1.0, ce_cache), cache)
            opt.step()
    model.eval()
    return model


def compare(n_train: int = 600, n_test: int = 400, cell: str = "lstm", epochs: int = 30,
            seed: int = 0) -> dict:
    """Accuracy (%) of the bag of words and of the RNN on held-out phrases, overall and per kind.

    Train on ``sentiment_corpus(n_train, seed)``; test on ``sentiment_corpus(n_test,
    seed + 1)`` less every phrase that is also in the training set (so neither model is
    scored on what it could have memorised). Returns {"bag_of_words": {kind: acc, "all":
    acc}, "rnn": {…}, "n_test": phrases kept, "train_acc": {model: acc}}.
    """
    train = sentiment_corpus(n_train, seed)
    seen = {p.text for p in train}
    test = [p for p in sentiment_corpus(n_test, seed + 1) if p.text not in seen]
    vocab = build_vocabulary([p.text for p in train])
    V = len(vocab)
    x, lengths, y = encode_phrases(vocab, train)
    bow = train_bag_of_words(x, y, V, seed=seed)
    rnn = train_rnn(x, lengths, y, V, cell=cell, epochs=epochs, seed=seed)

    def predictions(phrases):
        xs, ls, _ = encode_phrases(vocab, phrases)
        return {"bag_of_words": bow.forward(bag_of_words(xs, V))[0].argmax(axis=1),
                "rnn": rnn.forward(xs, ls)[0].argmax(axis=1)}

    def accuracy(pred, phrases):
        y_ = np.array([p.label for p in phrases])
        kinds = np.array([p.kind for p in phrases])
        out = {k: float(100 * np.mean(pred[kinds == k] == y_[kinds == k]))
               for k in KINDS if np.any(kinds == k)}
        out["all"] = float(100 * np.mean(pred == y_))
        return out

    on_test, on_train = predictions(test), predictions(train)
    result = {name: accuracy(pred, test) for name, pred in on_test.items()}
    result["train_acc"] = {name: accuracy(pred, train)["all"] for name, pred in on_train.items()}
    result["n_test"] = len(test)
    return result
