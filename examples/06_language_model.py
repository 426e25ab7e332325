"""Lecture "Sequence Modeling", part 1: the language-model slide, P(w_1..w_n) = Π_t P(w_t | w_<t).

The slide's example, "The cat sat on the mat" against "The cat sad on the mat", scored
by a small word-level RNN language model trained here on a tiny corpus that the project
writes itself (a small grammar, no download, the same sentences on every run); then the
same chain rule for surnames, character by character, with the lab-2 generator.

Run (from the repository root; the surnames part reads data/surnames/):

    .venv/bin/python examples/06_language_model.py
    SCRATCHRNN_EPOCHS=2 .venv/bin/python examples/06_language_model.py

The word model trains in a few seconds; SCRATCHRNN_EPOCHS bounds the surname
generator's training (as in 04), whose model goes to runs/examples/06_language_model/.
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

from scratchrnn import generate
from scratchrnn.studies import wordlm
from scratchrnn.studies.lecture import example_settings, pyplot

DATA, OUT, EPOCHS, CELL = example_settings(ROOT, "06_language_model", cell="gru")

# %% [markdown]
# ## A language model is the chain rule
# P(w_1 … w_n) = P(w_1) P(w_2 | w_1) P(w_3 | w_1 w_2) … P(w_n | w_1 … w_{n−1}), so
# log P(sentence) = Σ_t log P(w_t | w_<t). An RNN gives every factor: h_t summarises
# w_≤t, and softmax(Linear(h_t)) is the distribution of the next word. We add <END> as
# the last "word", so that the model also says where a sentence may stop.
#
# The corpus: sentences from a small grammar (`wordlm.lm_corpus`). "sat" is the likeliest
# verb after an animal, and "sad" only ever follows "was" or "the". Counting the corpus
# already gives the slide's answer, P(sat | the cat) high and P(sad | the cat) = 0:

# %%
corpus = wordlm.lm_corpus(n=400, seed=0)
print(f"{len(corpus)} sentences, e.g.:")
for s in corpus[:6]:
    print("  ", s)
after_the_cat = [wordlm.words(s)[2] for s in corpus if wordlm.words(s)[:2] == ["the", "cat"]]
counts = {w: after_the_cat.count(w) for w in sorted(set(after_the_cat))}
print(f"\nwhat follows 'the cat' ({len(after_the_cat)} times): {counts}")

# %% [markdown]
# ## The word-level RNN language model
# Embedding(16) → LSTM(32) → Linear(32, V) at every step: the lab-2 surname generator with
# words in place of characters. Input <BEGIN> w_1 … w_n, target w_1 … w_n <END>; the loss is
# the mean −log P(w_t | w_<t) over the real words (cross-entropy), minimised by Adam on the
# whole corpus at once.

# %%
model, vocab, losses = wordlm.train_lm(corpus, cell="lstm", steps=150, seed=0)
print(f"vocabulary: {len(vocab)} tokens ({', '.join(vocab.tokens[4:])})")
print(f"training loss: {losses[0]:.3f} nats/word at the start (log V = {np.log(len(vocab)):.3f})"
      f", {losses[-1]:.3f} after {len(losses)} Adam steps")

# %% [markdown]
# ## What the model expects after "The cat"
# One softmax over the whole vocabulary (it sums to 1).

# %%
p = wordlm.next_word_distribution(model, vocab, "The cat")
top = np.argsort(-p)[:5]
print("P(w | The cat):", ", ".join(f"{vocab.lookup_index(int(i))} {p[i]:.3f}" for i in top))
print(f"P(sad | The cat) = {p[vocab.lookup_token('sad')]:.2e}   (sums to {p.sum():.6f})")

# %% [markdown]
# ## The slide's sentences, scored word by word
# log P(w_t | w_<t) for each word and the sum, log P(sentence). The grammatical sentence
# gets the higher one; the ratio P(a)/P(b) = exp(log P(a) − log P(b)).

# %%
scored = {}
for a, b in wordlm.SLIDE_PAIRS:
    for sentence in (a, b):
        if sentence in scored:
            continue
        tokens, logp = wordlm.sentence_log_prob(model, vocab, sentence)
        scored[sentence] = (tokens, logp)
        print(f"\n{sentence!r}: log P = {logp.sum():.2f}")
        print("   " + "  ".join(f"{w}:{lp:.2f}" for w, lp in zip(tokens, logp, strict=True)))
    (_, la), (_, lb) = scored[a], scored[b]
    print(f"  -> P({a!r}) / P({b!r}) = e^{la.sum() - lb.sum():.1f}")

# %% [markdown]
# The slide's pair, word by word (needs matplotlib: `pip install -e '.[plot]'`): the two
# sentences agree everywhere but at the third word, and after it (the model, having read
# "sad", is unsure what comes next).

# %%
plt = pyplot()
if plt is not None:
    a, b = wordlm.SLIDE_PAIRS[0]
    fig, ax = plt.subplots(figsize=(7, 3))
    for shift, sentence in ((-0.2, a), (0.2, b)):
        tokens, logp = scored[sentence]
        ax.bar(np.arange(len(tokens)) + shift, logp, width=0.4,
               label=f"{sentence!r}: log P = {logp.sum():.1f}")
    ax.set_xticks(range(len(scored[a][0])),
                  [f"{x}/{y}" if x != y else x for x, y in zip(scored[a][0], scored[b][0],
                                                                 strict=True)])
    ax.set(ylabel=r"$\log P(w_t \mid w_{<t})$", title="the language-model slide, word by word")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    plt.show()

# %% [markdown]
# ## The same chain rule for surnames
# The lab-2 generator (04_surname_generation.py) is the same model over characters:
# log P(surname) = Σ_t log P(c_t | c_<t), <END> included. `wordlm.token_log_probs` gives
# each character's term; their sum is what `generate.score` (and `scratchrnn generate
# score`) reports.

# %%
print(f"training the unconditioned {CELL} generator for up to {EPOCHS} epochs -> "
      f"{OUT.relative_to(ROOT)}")
metrics = generate.train(data=DATA, out=OUT, cell=CELL, conditioned=False, epochs=EPOCHS,
                         progress=False, overwrite=True)
print(f"test loss {metrics['test_loss']:.3f} nats/char after {metrics['epochs']} epochs")
generator, vectorizer, _ = generate.load_model(OUT)
voc = vectorizer.char_vocab
surnames = ["Smith", "Nakamura", "Xqzwv"]
x_from, y_to = (vectorizer.vectorize_batch(surnames)[k] for k in ("x_gen", "y_gen"))
per_char = wordlm.token_log_probs(generator, x_from, y_to, voc.mask_index)
for surname, logp, y, r in zip(surnames, per_char, y_to, generate.score(OUT, surnames),
                               strict=True):
    chars = [voc.lookup_index(int(i)) for i in y if i != voc.mask_index]
    print(f"\n{surname!r}: Σ log P(c_t | c_<t) = {logp.sum():.2f}   "
          f"(generate.score: {r['log_prob']:.2f})")
    print("   " + "  ".join(f"{c}:{lp:.2f}" for c, lp in zip(chars, logp, strict=False)))
