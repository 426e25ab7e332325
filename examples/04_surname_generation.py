"""Lecture "Sequence Modeling", Lab 2: LSTM으로 Surname Generation 풀기 — 실습 1.

An unconditioned character language model of surnames (the book's ch. 7):
P(surname) = Π_t P(c_t | c_<t), with <END> as the last character. A GRU (E=32,
H=32, batch 128) reads <BEGIN> + characters and predicts, at every step, the next
character. Then: samples at several temperatures, and log P of a few surnames.

Run (from the repository root; needs data/surnames/surnames_with_splits.csv):

    .venv/bin/python examples/04_surname_generation.py
    SCRATCHRNN_EPOCHS=2 .venv/bin/python examples/04_surname_generation.py

SCRATCHRNN_EPOCHS (default 100, with early stopping after 5 epochs without a better
validation loss), SCRATCHRNN_CELL (gru | lstm | elman, default gru, the book's choice).
The model and metrics go to runs/examples/04_surname_generation/.
"""

# %% [markdown]
# ## Setup
# Run from a checkout: make the repository root importable even without `pip install -e .`.

# %%
import os
import sys
from pathlib import Path

# the repository root; in a notebook (no __file__) the kernel runs in notebooks/, one below
ROOT = (Path(__file__).parent if "__file__" in globals() else Path.cwd()).resolve().parent
sys.path.insert(0, str(ROOT))

from scratchrnn import generate
from scratchrnn.data import SurnameDataset

DATA = ROOT / "data" / "surnames"
OUT = ROOT / "runs" / "examples" / "04_surname_generation"
EPOCHS = int(os.environ.get("SCRATCHRNN_EPOCHS", "100"))
CELL = os.environ.get("SCRATCHRNN_CELL", "gru")

# %% [markdown]
# ## Input and target: the same surname, shifted by one
# from = <BEGIN> + characters, to = characters + <END>: at step t the model sees
# from[t] (and, through h_t, everything before it) and must predict to[t].
# Padding (<MASK> = 0) is ignored by the loss.

# %%
vectorizer = SurnameDataset.load(DATA).vectorizer
x_from, y_to = vectorizer.vectorize_generation("Nakamura")
voc = vectorizer.char_vocab
print("from:", " ".join(voc.lookup_index(int(i)) for i in x_from if i != voc.mask_index))
print("to:  ", " ".join(voc.lookup_index(int(i)) for i in y_to if i != voc.mask_index))

# %% [markdown]
# ## Training
# Embedding(32) → GRU(32) → dropout → Linear(32, |V|) at every step; the loss is the
# mean cross-entropy over the real (non-<MASK>) positions, i.e. −log P per character.

# %%
print(f"\ntraining the unconditioned {CELL} generator for up to {EPOCHS} epochs -> "
      f"{OUT.relative_to(ROOT)}")
# overwrite: a rerun (with another SCRATCHRNN_EPOCHS, say) replaces this example's last run
metrics = generate.train(data=DATA, out=OUT, cell=CELL, conditioned=False, embedding=32,
                         hidden=32, batch_size=128, epochs=EPOCHS, progress=False, log=print,
                         overwrite=True)
print(f"test loss {metrics['test_loss']:.3f} nats/char (perplexity "
      f"{metrics['test_perplexity']:.1f}), next-character accuracy {metrics['test_acc']:.1f}%")

# %% [markdown]
# ## Sampling
# Start from <BEGIN>, draw c_t ~ softmax(logits_t / temperature), feed it back, stop at
# <END>. A low temperature sharpens the distribution (safe, repetitive names); a high
# one flattens it (more varied, less plausible). Each temperature uses the same random
# draws (rng=0), so the differences come from the temperature alone.

# %%
model, vectorizer, _ = generate.load_model(OUT)
for temperature in (0.5, 1.0, 1.5):
    names = generate.sample(model, vectorizer, n=8, temperature=temperature, rng=0)
    print(f"  temperature {temperature}: {', '.join(names)}")

# %% [markdown]
# ## Scoring: log P(surname)
# The same model scores any string: log P = Σ_t log P(c_t | c_<t), <END> included.
# Per character, it is comparable across lengths.

# %%
print()
for r in generate.score(OUT, ["Smith", "Nakamura", "Ivanov", "Kowalski", "Xqzwv"]):
    print(f"  {r['surname']:<9} log P = {r['log_prob']:7.2f}   "
          f"per char {r['log_prob_per_char']:.2f}")
