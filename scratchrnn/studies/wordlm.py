r"""The language-model slide, word by word: P(w_1..w_n) = Π_t P(w_t | w_1..w_{t-1}).

A tiny corpus that the project writes itself (:func:`lm_corpus`: a few hundred sentences
from a small grammar, deterministic per seed, no download) trains a small word-level RNN
language model, which then scores the slide's pair::

    log P("the cat sat on the mat") = Σ_t log P(w_t | w_<t)   (high: the grammar says "sat")
    log P("the cat sad on the mat")                            (low: "sad" never follows a noun)

The model is the lab's :class:`~scratchrnn.models.SurnameGenerator` with words in place of
characters: Embedding(E) → RNN/LSTM/GRU(H) → Linear(H, V) at every step, trained on the
mean cross-entropy of the next word with Adam. Its input is ``<BEGIN> w_1 … w_n`` and
its target ``w_1 … w_n <END>``, so the sum over the targets is log P of the whole
sentence, its end included. The same :func:`token_log_probs` scores the surname
generator's characters.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..activations import log_softmax
from ..data import SequenceVocabulary
from ..losses import sequence_cross_entropy, sequence_cross_entropy_backward
from ..models import SurnameGenerator
from ..optim import Adam
from ..rng import as_generator

#: the slide's pairs: (the sentence the grammar allows, a near miss it does not)
SLIDE_PAIRS = (
    ("The cat sat on the mat", "The cat sad on the mat"),
    ("The dog was sad", "The dog was sat"),
    ("The cat sat on the mat", "mat the on sat cat The"),
)

ANIMALS = ("cat", "dog", "bird", "child")
PLACES = ("mat", "rug", "sofa", "floor")
MOODS = ("sad", "happy", "tired")


def _pick(gen: np.random.Generator, words: Sequence[str], weights: Sequence[float]) -> str:
    p = np.asarray(weights, dtype=float)
    return str(words[gen.choice(len(words), p=p / p.sum())])


def lm_corpus(n: int = 400, seed: int = 0) -> list[str]:
    """``n`` sentences from a small grammar, the same for the same seed.

    Four rules (weights 5 : 2 : 1.5 : 1.5)::

        the ANIMAL VERB on the PLACE       VERB: sat 6, slept 2, lay 2;  PLACE: mat 5, rug 2, …
        the ANIMAL was MOOD                MOOD: sad, happy, tired
        the MOOD ANIMAL VERB on the PLACE
        the ANIMAL saw the ANIMAL

    So "sat on the mat" is the likeliest continuation of "the cat", and "sad" comes only
    after "was" or "the", never straight after an animal.
    """
    gen = as_generator(seed)
    out = []
    for _ in range(n):
        rule = _pick(gen, "abcd", (5, 2, 1.5, 1.5))
        animal = _pick(gen, ANIMALS, (4, 3, 2, 1))
        verb = _pick(gen, ("sat", "slept", "lay"), (6, 2, 2))
        place = _pick(gen, PLACES, (5, 2, 2, 1))
        mood = _pick(gen, MOODS, (1, 1, 1))
        if rule == "a":
            out.append(f"the {animal} {verb} on the {place}")
        elif rule == "b":
            out.append(f"the {animal} was {mood}")
        elif rule == "c":
            out.append(f"the {mood} {animal} {verb} on the {place}")
        else:
            out.append(f"the {animal} saw the {_pick(gen, ANIMALS, (1, 1, 1, 1))}")
    return out


def words(sentence: str) -> list[str]:
    """The sentence's tokens: lower case, split on white space (the corpus has no punctuation)."""
    return sentence.lower().split()


def build_vocabulary(sentences: Sequence[str]) -> SequenceVocabulary:
    """<MASK>=0, <UNK>=1, <BEGIN>=2, <END>=3, then every word in order of first appearance."""
    vocab = SequenceVocabulary()
    for s in sentences:
        for w in words(s):
            vocab.add(w)
    return vocab


def encode_lm(vocab: SequenceVocabulary, sentences: Sequence[str]
              ) -> tuple[np.ndarray, np.ndarray]:
    """(x, y), both (N, T) int64, T = longest sentence + 1, padded with <MASK> = 0.

    x = <BEGIN> w_1 … w_n, y = w_1 … w_n <END>: at step t the model has read w_≤t and
    must predict y_t = w_{t+1}. Unknown words become <UNK>.
    """
    rows = [[vocab.lookup_token(w) for w in words(s)] for s in sentences]
    T = max(len(r) for r in rows) + 1
    x = np.full((len(rows), T), vocab.mask_index, dtype=np.int64)
    y = np.full((len(rows), T), vocab.mask_index, dtype=np.int64)
    for i, r in enumerate(rows):
        x[i, : len(r) + 1] = [vocab.begin_seq_index, *r]
        y[i, : len(r) + 1] = [*r, vocab.end_seq_index]
    return x, y


def token_log_probs(model: SurnameGenerator, x: np.ndarray, y: np.ndarray,
                    mask_index: int = 0) -> np.ndarray:
    """log P(y_t | x_≤t) for every position, (N, T) float64, 0 where y is <MASK>.

    Row sums are log P(sequence) = Σ_t log P(w_t | w_<t). Works for any
    SurnameGenerator: this module's word model or the lab's (unconditioned) surname one.
    """
    logits, _ = model.forward(x)
    logp = log_softmax(np.asarray(logits, dtype=np.float64), axis=-1)  # (N, T, V)
    picked = np.take_along_axis(logp, y[..., None], axis=-1)[..., 0]
    return np.where(y != mask_index, picked, 0.0)


def next_word_distribution(model: SurnameGenerator, vocab: SequenceVocabulary,
                           prefix: str) -> np.ndarray:
    """P(w | <BEGIN> prefix) over the whole vocabulary, (V,) float64 (sums to 1)."""
    ids = [vocab.begin_seq_index, *(vocab.lookup_token(w) for w in words(prefix))]
    logits, _ = model.forward(np.array([ids], dtype=np.int64))
    return np.exp(log_softmax(np.asarray(logits[0, -1], dtype=np.float64), axis=-1))


def sentence_log_prob(model: SurnameGenerator, vocab: SequenceVocabulary, sentence: str
                      ) -> tuple[list[str], np.ndarray]:
    """(the predicted tokens w_1 … w_n <END>, log P of each given what came before).

    Their sum is log P(sentence) = Σ_t log P(w_t | w_<t), in nats.
    """
    x, y = encode_lm(vocab, [sentence])
    tokens = [w if w in vocab else vocab.UNK for w in words(sentence)] + [vocab.END]
    return tokens, token_log_probs(model, x, y, vocab.mask_index)[0, : len(tokens)]


def train_lm(sentences: Sequence[str], cell: str = "lstm", embedding: int = 16,
             hidden: int = 32, steps: int = 150, lr: float = 0.02, seed: int = 0,
             vocab: SequenceVocabulary | None = None
             ) -> tuple[SurnameGenerator, SequenceVocabulary, list[float]]:
    """A word-level RNN LM trained on ``sentences``: (model in eval mode, vocabulary, losses).

    Full-batch Adam on the mean next-word cross-entropy (nats per word), ``steps``
    updates, no dropout, float64; the losses are one per update, before it.
    """
    vocab = vocab or build_vocabulary(sentences)
    x, y = encode_lm(vocab, sentences)
    model = SurnameGenerator(embedding, len(vocab), hidden, cell=cell, dropout_p=0.0,
                             dtype=np.float64, rng=seed)
    opt = Adam(model, lr=lr)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        logits, cache = model.forward(x)
        loss, ce_cache = sequence_cross_entropy(logits, y, vocab.mask_index)
        model.backward(sequence_cross_entropy_backward(1.0, ce_cache), cache)
        opt.step()
        losses.append(float(loss))
    model.eval()
    return model, vocab, losses
