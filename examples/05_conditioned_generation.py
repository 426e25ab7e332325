"""Lecture "Sequence Modeling", Lab 2: LSTM으로 Surname Generation 풀기 — 실습 2.

The character language model of 04_surname_generation.py, now conditioned on the
nationality: the nationality's embedding (size H) is the initial hidden state h_0, so
the model learns P(surname | nationality) = Π_t P(c_t | c_<t, nationality).
Then: samples per nationality, and the model used backwards as a *generative
classifier*, P(nationality | surname) ∝ P(surname | nationality) P(nationality).

Run (from the repository root; needs data/surnames/surnames_with_splits.csv):

    .venv/bin/python examples/05_conditioned_generation.py
    SCRATCHRNN_EPOCHS=2 .venv/bin/python examples/05_conditioned_generation.py

SCRATCHRNN_EPOCHS and SCRATCHRNN_CELL as in 04 (default: up to 100 epochs of a GRU); the
run is kept in runs/examples/05_conditioned_generation/.
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
from scratchrnn.studies.lecture import example_settings, pyplot

DATA, OUT, EPOCHS, CELL = example_settings(ROOT, "05_conditioned_generation", cell="gru")

# %% [markdown]
# ## Training
# Same model as 실습 1 (E=32, H=32, batch 128) plus Embedding(18 nationalities, H) for
# h_0; its gradient is the gradient BPTT delivers to h_0. After training, the test split
# is also classified with the generative classifier below.

# %%
print(f"training the conditioned {CELL} generator for up to {EPOCHS} epochs -> "
      f"{OUT.relative_to(ROOT)}")
# overwrite: a rerun (with another SCRATCHRNN_EPOCHS, say) replaces this example's last run
metrics = generate.train(data=DATA, out=OUT, cell=CELL, conditioned=True, epochs=EPOCHS,
                         progress=False, log=print, overwrite=True)
print(f"test loss {metrics['test_loss']:.3f} nats/char (perplexity "
      f"{metrics['test_perplexity']:.1f}); generative classifier test accuracy "
      f"{metrics['generative_classifier_test_acc']:.1f}%")

# %% [markdown]
# ## Samples per nationality
# The same sampling loop as 실습 1, started from the nationality's h_0.

# %%
model, vectorizer, hp = generate.load_model(OUT)
print()
for nationality in ("English", "Russian", "Japanese", "Korean", "Italian", "Arabic"):
    names = generate.sample(model, vectorizer, n=6, nationality=nationality,
                            temperature=0.8, rng=0)
    print(f"  {nationality:<9} {', '.join(names)}")

# %% [markdown]
# ## log P(surname | nationality)
# generate.score with a nationality scores the surname under that nationality's h_0.

# %%
print()
for nationality in ("Japanese", "Russian", "English"):
    (r,) = generate.score(OUT, ["Nakamura"], nationality=nationality)
    print(f"  log P('Nakamura' | {nationality:<8}) = {r['log_prob']:7.2f}")

# %% [markdown]
# ## The generative classifier: P(nationality | surname)
# Bayes' rule over all 18 nationalities, with the train split's class frequencies as
# the prior P(nationality):
# P(n | s) = P(s | n) P(n) / Σ_m P(s | m) P(m).

# %%
surnames = ["Nakamura", "Ivanov", "Kowalski", "O'Neill", "Rossi", "Kim"]
post = generate.nationality_posterior(model, vectorizer, surnames, np.array(hp["prior"]))
print()
for surname, p in zip(surnames, post, strict=True):
    top = np.argsort(-p)[:3]
    shown = ", ".join(f"{vectorizer.nationalities[i]} {p[i]:.2f}" for i in top)
    print(f"  P(nationality | {surname:<8}) : {shown}")

# %% [markdown]
# The same posteriors over all 18 nationalities (needs matplotlib:
# `pip install -e '.[plot]'`).

# %%
plt = pyplot()

if plt is not None:
    fig, ax = plt.subplots(figsize=(8, 3))
    image = ax.imshow(post, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(vectorizer.nationalities)), vectorizer.nationalities, rotation=90)
    ax.set_yticks(range(len(surnames)), surnames)
    ax.set_title("P(nationality | surname), the generative classifier")
    fig.colorbar(image, ax=ax, fraction=0.03)
    fig.tight_layout()
    plt.show()
