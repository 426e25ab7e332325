"""Exercise set 4: the GRU — your ex4_gru.py, graded function by function.

Write the functions in your exercises folder's ``ex4_gru.py`` (``python -m scratchrnn
exercises init my_exercises`` writes it: each function's docstring has its shapes and
slide equation, its body a TODO), then run this notebook top to bottom; after an edit,
rerun the cell of the function you changed. Each grading cell runs the parity kit's grader
(``python -m parity grade my_exercises --only NAME``) on both forms: torch's (reference
torch.nn.GRUCell) and the slide's (Cho et al. 2014); the last cells run your
``gru_step_forward`` over the characters of a surname and show your gates r_t, z_t next to
the reference's.

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

FILE = Path(EXERCISES) / "ex4_gru.py"
if not FILE.exists():
    print(f"no {FILE} yet: python -m scratchrnn exercises init {EXERCISES}")
    write_exercises(EXERCISES, log=print)
print(f"grading {FILE}")

# %% [markdown]
# ## 1. `gru_step_forward`
# r_t, z_t = σ(·) of their blocks (torch's order r, z, n). torch: n_t = tanh(gx_n +
# r_t ⊙ (W_hn h_{t-1} + b_hn)), h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}; the slide: the
# reset before W_hn, and z_t weighs the candidate.

# %%
print(grade(EXERCISES, only="gru_step_forward").text())

# %% [markdown]
# ## 2. `gru_step_backward`
# Graded on the reference forward's cache. Mind which of z_t and 1 − z_t multiplies
# which term, in each form.

# %%
print(grade(EXERCISES, only="gru_step_backward").text())

# %% [markdown]
# ## 3. `gru_cell_forward` and 4. `gru_cell_backward`
# torch's GRUCell as a function: the input projection, your step, and the parameter
# gradients around it.

# %%
print(grade(EXERCISES, only="gru_cell_forward").text())

# %%
print(grade(EXERCISES, only="gru_cell_backward").text())

# %% [markdown]
# ## Your gates on a surname
# The characters of "Nakamura" (a fixed random embedding, E = 8) through a GRU in torch's
# form with fixed random weights (H = 8): once with your `gru_step_forward`, once with
# `scratchrnn.cells.gru_step_forward`. Each heatmap is one gate from the step's cache,
# hidden units (rows) × characters (columns). Right, yours equals the reference and the
# difference column is blank.

# %%
SURNAME, E, H = "Nakamura", 8, 8
rng = np.random.default_rng(0)
embedding = rng.standard_normal((26, E))
x_seq = embedding[[ord(c) - ord("a") for c in SURNAME.lower()]][:, None, :]  # (T, B=1, E)
W_ih, W_hh = rng.uniform(-1, 1, (3 * H, E)), rng.uniform(-1, 1, (3 * H, H))
b_ih, b_hh = rng.uniform(-1, 1, 3 * H), rng.uniform(-1, 1, 3 * H)
GATES = ("r_t", "z_t")


def gates_over_surname(gru_step_forward):
    """Each gate of GATES at every step, (H, T), from the caches of gru_step_forward."""
    h_t = np.zeros((1, H))
    seen = {g: [] for g in GATES}
    for x_t in x_seq:
        h_t, cache = gru_step_forward(x_t @ W_ih.T + b_ih, h_t, W_hh, b_hh, "torch")
        for g in GATES:
            seen[g].append(getattr(cache, g)[0])
    return {g: np.array(v).T for g, v in seen.items()}


reference = gates_over_surname(cells.gru_step_forward)
yours, problem = run_student(FILE, "gru_step_forward", gates_over_surname)
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
                 title=f"GRU gates on {SURNAME!r} (torch's form): reset r_t, update z_t")
    plt.show()
