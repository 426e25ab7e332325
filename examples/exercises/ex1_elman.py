"""Exercise set 1: the Elman RNN — your ex1_elman.py, graded function by function.

Write the functions in your exercises folder's ``ex1_elman.py`` (``python -m scratchrnn
exercises init my_exercises`` writes it: each function's docstring has its shapes and
slide equation, its body a TODO), then run this notebook top to bottom; after an edit,
rerun the cell of the function you changed. Each grading cell runs the parity kit's grader
(``python -m parity grade my_exercises --only NAME``, torch as the reference) on both
nonlinearities, tanh and ReLU; the last cells run your ``elman_step_forward`` over the
characters of a surname and show your hidden states next to the reference's.

The notebook committed in the repository ran on the reference solutions
(``exercises init --solutions``): that is what all green looks like.
"""

# %% [markdown]
# ## Your exercises folder
# `EXERCISES` names it, from the repository root (as on the command line). If it does
# not exist yet, this cell writes the exercises there for you, as
# `python -m scratchrnn exercises init my_exercises` would.

# %%
import os
import sys
from pathlib import Path

EXERCISES = os.environ.get("SCRATCHRNN_EXERCISES", "my_exercises")  # your folder

start = (Path(__file__).parent if "__file__" in globals() else Path.cwd()).resolve()
ROOT = next(p for p in (start, *start.parents) if (p / "scratchrnn" / "cells.py").is_file())
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)  # EXERCISES is named from the repository root

import numpy as np

from parity.exercise_plots import run_student, side_by_side
from parity.grade import grade
from scratchrnn import cells
from scratchrnn.exercises.template import write_exercises

FILE = Path(EXERCISES) / "ex1_elman.py"
if not FILE.exists():
    print(f"no {FILE} yet: python -m scratchrnn exercises init {EXERCISES}")
    write_exercises(EXERCISES, log=print)
print(f"grading {FILE}")

# %% [markdown]
# ## 1. `elman_step_forward`
# h_t = tanh(gx_t + W_hh h_{t-1} + b_hh) (or ReLU), gx_t = x_t W_ih^T + b_ih given.

# %%
print(grade(EXERCISES, only="elman_step_forward").text())

# %% [markdown]
# ## 2. `elman_step_backward`
# Through the nonlinearity first: da_t = dh_t ⊙ (1 − h_t²) for tanh (of the output h_t),
# dh_t ⊙ [h_t > 0] for ReLU; then dh_{t-1} = da_t W_hh.

# %%
print(grade(EXERCISES, only="elman_step_backward").text())

# %% [markdown]
# ## 3. `elman_cell_forward` and 4. `elman_cell_backward`
# torch's RNNCell as a function: the input projection, your step, and the parameter
# gradients around it (a bias gradient sums over the batch).

# %%
print(grade(EXERCISES, only="elman_cell_forward").text())

# %%
print(grade(EXERCISES, only="elman_cell_backward").text())

# %% [markdown]
# ## Your hidden states on a surname
# The characters of "Nakamura" (a fixed random embedding, E = 8) through a tanh Elman
# RNN with fixed random weights (H = 8): once with your `elman_step_forward`, once with
# `scratchrnn.cells.elman_step_forward`. The Elman RNN has no gates: each heatmap is the
# hidden state h_t, hidden units (rows) × characters (columns). Right, yours equals the
# reference and the difference column is blank.

# %%
SURNAME, E, H = "Nakamura", 8, 8
rng = np.random.default_rng(0)
embedding = rng.standard_normal((26, E))
x_seq = embedding[[ord(c) - ord("a") for c in SURNAME.lower()]][:, None, :]  # (T, B=1, E)
W_ih, W_hh = rng.uniform(-1, 1, (H, E)), rng.uniform(-1, 1, (H, H))
b_ih, b_hh = rng.uniform(-1, 1, H), rng.uniform(-1, 1, H)


def states_over_surname(elman_step_forward):
    """h_t at every step, (H, T), as elman_step_forward returns it."""
    h_t, seen = np.zeros((1, H)), []
    for x_t in x_seq:
        h_t, _ = elman_step_forward(x_t @ W_ih.T + b_ih, h_t, W_hh, b_hh, "tanh")
        seen.append(h_t[0])
    return {"h_t": np.array(seen).T}


reference = states_over_surname(cells.elman_step_forward)
yours, problem = run_student(FILE, "elman_step_forward", states_over_surname)
if problem:
    print(problem)
else:
    print(f"max |yours − reference|: h_t {np.abs(yours['h_t'] - reference['h_t']).max():.1e}")

# %%
try:
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
    print("matplotlib is not installed: no plot (pip install -e '.[plot]')")

if plt is not None:
    side_by_side(yours, reference, SURNAME, problem=problem,
                 title=f"Elman hidden state h_t on {SURNAME!r} (tanh)",
                 vmin=-1, vmax=1, cmap="RdBu_r")
    plt.show()
