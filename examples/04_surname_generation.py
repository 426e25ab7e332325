"""Lecture "Sequence Modeling", Lab 2: LSTM으로 Surname Generation 풀기 — 실습 1.

An unconditioned character language model of surnames (the book's ch. 7):
P(surname) = Π_t P(c_t | c_<t), with <END> as the last character. A GRU (E=32,
H=32, batch 128) reads <BEGIN> + characters and predicts, at every step, the next
character. Then: samples at several temperatures, and log P of a few surnames.

Run (from the repository root; needs data/surnames/surnames_with_splits.csv):

    .venv/bin/python examples/04_surname_generation.py
    SCRATCHRNN_EPOCHS=2 .venv/bin/python examples/04_surname_generation.py

The settings are those of every lab example (`scratchrnn.studies.lecture`): the epoch
budget SCRATCHRNN_EPOCHS, and SCRATCHRNN_CELL, here the book's GRU unless told otherwise.
Its model and metrics: runs/examples/04_surname_generation/.
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

from scratchrnn import generate
from scratchrnn.checkpoint import load_checkpoint
from scratchrnn.data import SurnameDataset
from scratchrnn.studies.lecture import example_settings, pyplot

DATA, OUT, EPOCHS, CELL = example_settings(ROOT, "04_surname_generation", cell="gru")

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
# Embedding(32) → GRU(32) → dropout → Linear(32, |V|) at every step (the lab's defaults,
# the book's sizes, batches of 128); the loss is the mean cross-entropy over the real
# (non-<MASK>) positions, i.e. −log P per character.

# %%
print(f"\ntraining the unconditioned {CELL} generator for up to {EPOCHS} epochs -> "
      f"{OUT.relative_to(ROOT)}")
# overwrite: a rerun (with another SCRATCHRNN_EPOCHS, say) replaces this example's last run
metrics = generate.train(data=DATA, out=OUT, cell=CELL, conditioned=False, epochs=EPOCHS,
                         progress=False, log=print, overwrite=True)
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
scores = generate.score(OUT, ["Smith", "Nakamura", "Ivanov", "Kowalski", "Xqzwv"])
for r in scores:
    print(f"  {r['surname']:<9} log P = {r['log_prob']:7.2f}   "
          f"per char {r['log_prob_per_char']:.2f}")

# %% [markdown]
# ## The loss curve, and the scores as bars
# Every epoch's mean training and validation loss (nats per character) from the run's
# last checkpoint (`last.npz`, its `train_state` history); the best epoch's model is the
# one saved as `model.npz` and used above. Then log P per character of the scored
# surnames: the made-up "Xqzwv" is far less likely per character than the real names.
# (Needs matplotlib: `pip install -e '.[plot]'`.)

# %%
history = load_checkpoint(OUT / "last.npz").extra["train_state"]["history"]
print("\nepoch  train loss  val loss")
for row in history:
    print(f"  {row['epoch']:3d}   {row['train_loss']:8.3f}  {row['val_loss']:8.3f}")

plt = pyplot()
if plt is not None:
    fig, (ax_loss, ax_score) = plt.subplots(1, 2, figsize=(9, 3.2))
    epochs = [row["epoch"] for row in history]
    ax_loss.plot(epochs, [row["train_loss"] for row in history], marker=".", label="train")
    ax_loss.plot(epochs, [row["val_loss"] for row in history], marker=".", label="val")
    ax_loss.axvline(metrics["best_epoch"], color="gray", lw=0.8, ls="--", label="best")
    ax_loss.set(xlabel="epoch", ylabel="loss (nats/char)",
                title=f"{CELL} generator: loss per epoch")
    ax_loss.legend()
    ax_loss.grid(True, alpha=0.3)
    ax_score.bar([r["surname"] for r in scores], [r["log_prob_per_char"] for r in scores])
    ax_score.set(ylabel="log P per character", title="log P(surname) / (length + 1)")
    fig.tight_layout()
    plt.show()
