"""Lecture "Sequence Modeling", part 1: the sentiment-classification RNN slide (many-to-one).

An RNN reads a review word by word and its last hidden state decides: positive or
negative. On a tiny labelled corpus written here from templates (no download, the same
phrases on every run) with negation ("not good") and contrast ("bad but great"), it is
measured against a bag of words, which sees which words occur but not their order.

Run (from the repository root; no data needed, about ten seconds):

    .venv/bin/python examples/07_sentiment.py
"""

# %% [markdown]
# ## Setup
# Run from a checkout: make the repository root importable even without `pip install -e .`.

# %%
import sys
from pathlib import Path

# the repository root; in a notebook (no __file__) the kernel runs in notebooks/, one below
ROOT = (Path(__file__).parent if "__file__" in globals() else Path.cwd()).resolve().parent
sys.path.insert(0, str(ROOT))

import numpy as np

from scratchrnn.studies import sentiment
from scratchrnn.studies.lecture import pyplot
from scratchrnn.studies.wordlm import build_vocabulary

# %% [markdown]
# ## The corpus
# Short phrases from templates (`sentiment.sentiment_corpus`), each labelled 1 (positive)
# or 0 (negative), of three kinds:
# * plain: "the movie was really good" — the adjective (or verb) decides;
# * negated: "the movie was not good", "i did not like the film" — the opposite;
# * contrast: "the plot was bad but the acting was great" — the clause after "but".

# %%
train = sentiment.sentiment_corpus(n=600, seed=0)
seen = {p.text for p in train}
test = [p for p in sentiment.sentiment_corpus(n=400, seed=1) if p.text not in seen]
for p in train[:8]:
    print(f"  {p.label}  {p.kind:<9} {p.text}")
print(f"\n{len(train)} training phrases; {len(test)} test phrases, none of them in training")

# %% [markdown]
# ## Many-to-one: the last hidden state classifies
# Embedding(16) → LSTM(32) over the words → h_T at each phrase's last word → Linear(32, 32)
# → ReLU → Linear(32, 2) → softmax: the lab-1 surname classifier with words in place of
# characters, trained with cross-entropy and Adam (`train_rnn`'s defaults: 30 epochs in
# batches of 32, a few seconds, so this example takes no SCRATCHRNN_EPOCHS).
#
# The bag of words: a phrase as its word counts, logits = counts · Wᵀ + b
# (logistic regression), trained the same way. "not" gets one weight wherever it stands,
# so "not good" and "not bad" cannot both come out right: w_not + w_good < 0 and
# w_not + w_bad > 0 need w_good < w_bad, the opposite of what the plain phrases need.

# %%
vocab = build_vocabulary([p.text for p in train])
x, lengths, y = sentiment.encode_phrases(vocab, train)
print(f"vocabulary {len(vocab)} tokens; x {x.shape}, lengths {lengths.shape}, labels {y.shape}")
bow = sentiment.train_bag_of_words(x, y, len(vocab), seed=0)
rnn = sentiment.train_rnn(x, lengths, y, len(vocab), cell="lstm", seed=0)

# %% [markdown]
# ## Accuracy on the held-out phrases, by kind

# %%
x_test, lengths_test, y_test = sentiment.encode_phrases(vocab, test)
kinds = np.array([p.kind for p in test])
predicted = {
    "bag of words": bow.forward(sentiment.bag_of_words(x_test, len(vocab)))[0].argmax(axis=1),
    "LSTM": rnn.forward(x_test, lengths_test)[0].argmax(axis=1),
}
print(f"{'':<13}" + "".join(f"{k:>10}" for k in (*sentiment.KINDS, "all")))
accuracy = {}
for name, pred in predicted.items():
    accuracy[name] = [100 * np.mean(pred[kinds == k] == y_test[kinds == k])
                      for k in sentiment.KINDS] + [100 * np.mean(pred == y_test)]
    print(f"{name:<13}" + "".join(f"{a:9.1f}%" for a in accuracy[name]))
print(f"(test phrases per kind: "
      f"{', '.join(f'{k} {np.sum(kinds == k)}' for k in sentiment.KINDS)})")

# %% [markdown]
# The bag of words is no worse a learner: trained on the plain phrases alone, it gets
# them right. It is the mixture that no single weight per word can fit.

# %%
plain = np.array([p.kind == "plain" for p in train])
bow_plain = sentiment.train_bag_of_words(x[plain], y[plain], len(vocab), seed=0)
pred = bow_plain.forward(sentiment.bag_of_words(x_test, len(vocab)))[0].argmax(axis=1)
print(f"bag of words trained on the {plain.sum()} plain phrases only: plain test accuracy "
      f"{100 * np.mean(pred[kinds == 'plain'] == y_test[kinds == 'plain']):.1f}%, "
      f"negated {100 * np.mean(pred[kinds == 'negated'] == y_test[kinds == 'negated']):.1f}%")

# %% [markdown]
# ## Where the bag of words goes wrong
# The same words in another order, or with "not" in front, get the same (or a linearly
# shifted) score from the bag of words; the RNN reads them in order.

# %%
probes = ["the movie was good", "the movie was not good", "the movie was bad",
          "the movie was not bad", "the plot was bad but the acting was great",
          "the acting was great but the plot was bad"]
px, pl, _ = sentiment.encode_phrases(vocab, [sentiment.Phrase(t, 0, "") for t in probes])


def p_positive(logits):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e[:, 1] / e.sum(axis=1)


p_bow = p_positive(bow.forward(sentiment.bag_of_words(px, len(vocab)))[0])
p_rnn = p_positive(rnn.forward(px, pl)[0])
print(f"{'P(positive)':<44} bag of words   LSTM")
for text, a, b in zip(probes, p_bow, p_rnn, strict=True):
    print(f"  {text:<42} {a:9.2f}   {b:6.2f}")

# %% [markdown]
# The table as bars (needs matplotlib: `pip install -e '.[plot]'`).

# %%
plt = pyplot()
if plt is not None:
    labels = [*sentiment.KINDS, "all"]
    fig, ax = plt.subplots(figsize=(6, 3))
    for shift, (name, acc) in zip((-0.2, 0.2), accuracy.items(), strict=True):
        ax.bar(np.arange(len(labels)) + shift, acc, width=0.4, label=name)
    ax.axhline(50, color="gray", lw=0.8, ls="--")
    ax.set_xticks(range(len(labels)), labels)
    ax.set(ylabel="test accuracy (%)", ylim=(0, 105),
           title="sentiment, many-to-one: bag of words vs LSTM")
    ax.legend(loc="lower right")
    fig.tight_layout()
    plt.show()
