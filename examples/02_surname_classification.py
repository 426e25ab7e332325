"""Lecture "Sequence Modeling", Lab 1: RNN으로 Surname Classification 풀기.

Classify a surname's nationality (18 classes) from its characters with an Elman RNN
(the book's ch. 6): data, vocabulary and vectorizer, the model, training with early
stopping, evaluation, prediction.

Run (from the repository root; needs data/surnames/surnames_with_splits.csv):

    .venv/bin/python examples/02_surname_classification.py
    SCRATCHRNN_EPOCHS=2 SCRATCHRNN_CELL=gru .venv/bin/python examples/02_surname_classification.py

Training runs up to SCRATCHRNN_EPOCHS epochs (default 100; it stops early after 5 epochs
without a better validation loss) with the cell SCRATCHRNN_CELL (elman, the default, lstm
or gru), and keeps the model and its metrics in runs/examples/02_surname_classification/.
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

from scratchrnn import classify
from scratchrnn.data import SurnameDataset
from scratchrnn.models import SurnameClassifier
from scratchrnn.studies.lecture import example_settings, pyplot

DATA, OUT, EPOCHS, CELL = example_settings(ROOT, "02_surname_classification", cell="elman")

# %% [markdown]
# ## The data
# surnames_with_splits.csv: one surname, its nationality and its split (train / val /
# test) per row. The vocabularies are built from the train split.

# %%
dataset = SurnameDataset.load(DATA)
vectorizer = dataset.vectorizer
print(dataset)
print("nationalities:", ", ".join(vectorizer.nationalities))

# %% [markdown]
# ## Vocabulary and vectorizer
# Characters get indices after the four special tokens <MASK>=0, <UNK>=1, <BEGIN>=2,
# <END>=3. A surname becomes <BEGIN> + characters + <END>, padded with <MASK> to a
# fixed length; its length (without padding) tells the model where its last step is.

# %%
surname = "McMahan"
x, length = vectorizer.vectorize_classification(surname)
tokens = [vectorizer.char_vocab.lookup_index(int(i)) for i in x[:length]]
print(f"\n{surname!r} -> indices {x.tolist()}")
print(f"  first {length} positions: {' '.join(tokens)}   (the rest is <MASK>)")

# %% [markdown]
# ## The model
# Embedding(E=100) → Elman RNN (H=64) → h at each surname's last step (column_gather)
# → dropout → Linear(H, H) → ReLU → dropout → Linear(H, 18) → logits.

# %%
C = len(vectorizer.nationality_vocab)
model = SurnameClassifier(embedding_size=100, num_embeddings=len(vectorizer.char_vocab),
                          num_classes=C, rnn_hidden_size=64, cell=CELL, rng=1337)
for name, p, _ in model.named_parameters():
    print(f"  {name:<18} {p.shape}")
train = dataset.split("train")
logits, _ = model.forward(train.x[:4], train.lengths[:4])
print(f"a batch of 4 surnames {train.x[:4].shape} -> logits {logits.shape}")

# %% [markdown]
# ## Training
# classify.train builds the same model, trains it with Adam (lr 1e-3, batch 64),
# cross-entropy weighted by 1/count of each nationality, halves the learning rate when
# the validation loss stalls, stops early, and keeps the best model on disk.

# %%
print(f"\ntraining the {CELL} classifier for up to {EPOCHS} epochs -> {OUT.relative_to(ROOT)}")
# overwrite: a rerun (with another SCRATCHRNN_EPOCHS, say) replaces this example's last run
metrics = classify.train(data=DATA, out=OUT, cell=CELL, epochs=EPOCHS, progress=False,
                         log=print, overwrite=True)

# %% [markdown]
# ## Evaluation on the test split
# Accuracy counts every surname equally, so it is dominated by the big classes
# (English, Russian, Arabic); balanced accuracy is the mean recall over classes.

# %%
print(f"\ntest loss {metrics['test_loss']:.3f}   accuracy {metrics['test_acc']:.1f}%   "
      f"balanced accuracy {metrics['test_balanced_acc']:.1f}%   "
      f"(best epoch {metrics['best_epoch']} of {metrics['epochs']})")
recall = metrics["per_class_recall"]
print("recall per class:", ", ".join(f"{k} {v:.0f}%" for k, v in
                                     sorted(recall.items(), key=lambda kv: -np.nan_to_num(kv[1]))))

# %% [markdown]
# The confusion matrix, each row divided by its class's count: the diagonal is the
# recall per class, the rest shows which nationalities are taken for which (needs
# matplotlib: `pip install -e '.[plot]'`).

# %%
plt = pyplot()

if plt is not None:
    cm = np.array(metrics["confusion_matrix"], dtype=float)  # C[true, predicted]
    cm /= np.maximum(cm.sum(axis=1, keepdims=True), 1)
    names = metrics["nationalities"]
    fig, ax = plt.subplots(figsize=(6, 5.2))
    image = ax.imshow(cm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(names)), names, rotation=90)
    ax.set_yticks(range(len(names)), names)
    ax.set(xlabel="predicted", ylabel="true",
           title=f"{CELL}, {metrics['epochs']} epochs: test split, rows normalised")
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    plt.show()

# %% [markdown]
# ## Prediction
# classify.predict loads the saved model and returns the top-k nationalities.

# %%
print()
for result in classify.predict(OUT, ["McMahan", "Nakamoto", "Wan", "Cho", "Schmidt", "Rossi"]):
    top = ", ".join(f"{p['nationality']} {p['probability']:.2f}" for p in result["predictions"])
    print(f"  {result['surname']:<9} -> {top}")
