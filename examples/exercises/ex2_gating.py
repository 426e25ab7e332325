"""Exercise set 2: gating, step by step — your ex2_gating.py, graded function by function.

Write the functions in your exercises folder's ``ex2_gating.py`` (``python -m scratchrnn
exercises init my_exercises`` writes it: each function's docstring has its shapes and
slide equation, its body a TODO), then run this notebook top to bottom; after an edit,
rerun the cell of the function you changed. Each grading cell runs the parity kit's grader
(``python -m parity grade my_exercises --only NAME``) on the slides' three steps, residual
→ input-gated → hidden-state-gated (these cells have no torch twin: finite differences are
the reference for the backward); the last cells run your ``gated_step_forward`` over the
characters of a surname and show your gates λ_t, μ_t next to the reference's.

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
from scratchrnn import gating
from scratchrnn.exercises.template import write_exercises

FILE = Path(EXERCISES) / "ex2_gating.py"
if not FILE.exists():
    print(f"no {FILE} yet: python -m scratchrnn exercises init {EXERCISES}")
    write_exercises(EXERCISES, log=print)
print(f"grading {FILE}")

# %% [markdown]
# ## 1. `gated_step_forward`
# F_t = tanh(a_t[:, 0:H]), λ_t = σ(a_t[:, H:2H]), μ_t = σ(a_t[:, 2H:3H]);
# none: h_t = h_{t-1} + F_t; input: h_{t-1} + λ_t ⊙ F_t; hidden: μ_t ⊙ h_{t-1} + λ_t ⊙ F_t.

# %%
print(grade(EXERCISES, only="gated_step_forward").text())

# %% [markdown]
# ## 2. `gated_step_backward`
# Each gate's σ′ = σ(1 − σ) of its output; dh_{t-1} gets the direct path (1, or μ_t)
# plus da_t W_hh.

# %%
print(grade(EXERCISES, only="gated_step_backward").text())

# %% [markdown]
# ## Your gates on a surname
# The characters of "Nakamura" (a fixed random embedding, E = 8) through the
# hidden-state-gated cell with fixed random weights (H = 8): once with your
# `gated_step_forward`, once with `scratchrnn.gating.gated_step_forward`. Each heatmap is
# one gate from the step's cache (λ_t: `lam_t`, μ_t: `mu_t`), hidden units (rows) ×
# characters (columns). Right, yours equals the reference and the difference column is
# blank.

# %%
SURNAME, E, H = "Nakamura", 8, 8
rng = np.random.default_rng(0)
embedding = rng.standard_normal((26, E))
x_seq = embedding[[ord(c) - ord("a") for c in SURNAME.lower()]][:, None, :]  # (T, B=1, E)
W_ih, W_hh = rng.uniform(-1, 1, (3 * H, E)), rng.uniform(-1, 1, (3 * H, H))
b_ih, b_hh = rng.uniform(-1, 1, 3 * H), rng.uniform(-1, 1, 3 * H)
GATES = ("lam_t", "mu_t")  # λ_t, μ_t


def gates_over_surname(gated_step_forward):
    """Each gate of GATES at every step, (H, T), from the caches of gated_step_forward."""
    h_t = np.zeros((1, H))
    seen = {g: [] for g in GATES}
    for x_t in x_seq:
        h_t, cache = gated_step_forward(x_t @ W_ih.T + b_ih, h_t, W_hh, b_hh, "hidden")
        for g in GATES:
            seen[g].append(getattr(cache, g)[0])
    return {g: np.array(v).T for g, v in seen.items()}


reference = gates_over_surname(gating.gated_step_forward)
yours, problem = run_student(FILE, "gated_step_forward", gates_over_surname)
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
                 title=f"hidden-state gating on {SURNAME!r}: input gate λ_t (lam_t), "
                       "keep gate μ_t (mu_t)")
    plt.show()
