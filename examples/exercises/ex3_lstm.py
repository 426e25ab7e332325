"""Exercise set 3: the LSTM — your ex3_lstm.py, graded function by function.

Write the functions in your exercises folder's ``ex3_lstm.py`` (``python -m scratchrnn
exercises init my_exercises`` writes it: each function's docstring has its shapes and
slide equation, its body a TODO), then run this notebook top to bottom; after an edit,
rerun the cell of the function you changed. Each grading cell runs the parity kit's grader
(``python -m parity grade my_exercises --only NAME``, torch as the reference); the last
cells run your ``lstm_step_forward`` over the characters of a surname and show your
gates next to the reference's.

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

FILE = Path(EXERCISES) / "ex3_lstm.py"
if not FILE.exists():
    print(f"no {FILE} yet: python -m scratchrnn exercises init {EXERCISES}")
    write_exercises(EXERCISES, log=print)
print(f"grading {FILE}")

# %% [markdown]
# ## 1. `lstm_step_forward`
# a_t = gx_t + W_hh h_{t-1} + b_hh, split in torch's order i, f, g, o;
# C_t = f_t ⊙ C_{t-1} + i_t ⊙ g_t, h_t = o_t ⊙ tanh(C_t).

# %%
print(grade(EXERCISES, only="lstm_step_forward").text())

# %% [markdown]
# ## 2. `lstm_step_backward`
# Graded on the reference forward's cache, so a wrong forward cannot hide a right
# backward. Mind the carry dC_{t-1} = dC_t ⊙ f_t and σ′ = σ(1 − σ) of the gate's output.

# %%
print(grade(EXERCISES, only="lstm_step_backward").text())

# %% [markdown]
# ## 3. `lstm_cell_forward` and 4. `lstm_cell_backward`
# torch's LSTMCell as a function: the input projection, your step, and the parameter
# gradients around it.

# %%
print(grade(EXERCISES, only="lstm_cell_forward").text())

# %%
print(grade(EXERCISES, only="lstm_cell_backward").text())

# %% [markdown]
# ## Your gates on a surname
# The characters of "Nakamura" (a fixed random embedding, E = 8) through an LSTM with
# fixed random weights (H = 8): once with your `lstm_step_forward`, once with
# `scratchrnn.cells.lstm_step_forward`. Each heatmap is one gate, hidden units (rows) ×
# characters (columns), read from the step's cache. Right, yours equals the reference
# and the difference column is blank.

# %%
SURNAME, E, H = "Nakamura", 8, 8
rng = np.random.default_rng(0)
embedding = rng.standard_normal((26, E))
x_seq = embedding[[ord(c) - ord("a") for c in SURNAME.lower()]][:, None, :]  # (T, B=1, E)
W_ih, W_hh = rng.uniform(-1, 1, (4 * H, E)), rng.uniform(-1, 1, (4 * H, H))
b_ih, b_hh = rng.uniform(-1, 1, 4 * H), rng.uniform(-1, 1, 4 * H)
GATES = ("i_t", "f_t", "o_t")


def gates_over_surname(lstm_step_forward):
    """Each gate of GATES at every step, (H, T), from the caches of lstm_step_forward."""
    h_t, c_t = np.zeros((1, H)), np.zeros((1, H))
    seen = {g: [] for g in GATES}
    for x_t in x_seq:
        h_t, c_t, cache = lstm_step_forward(x_t @ W_ih.T + b_ih, h_t, c_t, W_hh, b_hh)
        for g in GATES:
            seen[g].append(getattr(cache, g)[0])
    return {g: np.array(v).T for g, v in seen.items()}


reference = gates_over_surname(cells.lstm_step_forward)
yours, problem = run_student(FILE, "lstm_step_forward", gates_over_surname)
if problem:
    print(problem)
else:
    print("max |yours − reference|: " + ", ".join(
        f"{g} {np.abs(yours[g] - reference[g]).max():.1e}" for g in GATES))

# %%
try:
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
    print("matplotlib is not installed: no plot (pip install -e '.[plot]')")

if plt is not None:
    side_by_side(yours, reference, SURNAME, problem=problem,
                 title=f"LSTM gates on {SURNAME!r}: input i_t, forget f_t, output o_t")
    plt.show()
