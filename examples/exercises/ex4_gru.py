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
# `my_exercises`, from the repository root (as on the command line; the environment
# variable `SCRATCHRNN_EXERCISES` names another). If it does not exist yet, this cell
# writes the exercises there for you, as `python -m scratchrnn exercises init` would.

# %%
import sys
from pathlib import Path

start = (Path(__file__).parent if "__file__" in globals() else Path.cwd()).resolve()
ROOT = next(p for p in (start, *start.parents) if (p / "scratchrnn" / "cells.py").is_file())
sys.path.insert(0, str(ROOT))

import numpy as np

from parity.grade import notebook as nb
from scratchrnn import cells

EXERCISES, FILE = nb.open_exercises("ex4_gru.py", ROOT)

# %% [markdown]
# ## 1. `gru_step_forward`
# r_t, z_t = σ(·) of their blocks (torch's order r, z, n). torch: n_t = tanh(gx_n +
# r_t ⊙ (W_hn h_{t-1} + b_hn)), h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}; the slide: the
# reset before W_hn, and z_t weighs the candidate.

# %%
nb.grade_cell(EXERCISES, "gru_step_forward")

# %% [markdown]
# ## 2. `gru_step_backward`
# Graded on the reference forward's cache. Mind which of z_t and 1 − z_t multiplies
# which term, in each form.

# %%
nb.grade_cell(EXERCISES, "gru_step_backward")

# %% [markdown]
# ## 3. `gru_cell_forward` and 4. `gru_cell_backward`
# torch's GRUCell as a function: the input projection, your step, and the parameter
# gradients around it.

# %%
nb.grade_cell(EXERCISES, "gru_cell_forward")

# %%
nb.grade_cell(EXERCISES, "gru_cell_backward")

# %% [markdown]
# ## Your gates on a surname
# The characters of "Nakamura" (a fixed random embedding, E = 8) through a GRU in torch's
# form with fixed random weights (H = 8): once with your `gru_step_forward`, once with
# `scratchrnn.cells.gru_step_forward`. Each heatmap is one gate from the step's cache,
# hidden units (rows) × characters (columns). Right, yours equals the reference and the
# difference column is blank.

# %%
w = nb.surname_weights(gates=3)


def gates_over_surname(gru_step_forward):
    """r_t and z_t at every step, (H, T), from the caches of gru_step_forward."""
    def step(gx_t, h_prev):
        return gru_step_forward(gx_t, h_prev, w.W_hh, w.b_hh, "torch")

    return nb.over_surname(w, step, np.zeros((1, 8)), ("r_t", "z_t"))


yours, reference, problem = nb.against_reference(FILE, "gru_step_forward",
                                                 gates_over_surname, cells.gru_step_forward)

# %%
nb.show(yours, reference, w.surname, problem,
        title=f"GRU gates on {w.surname!r} (torch's form): reset r_t, update z_t")

# %% [markdown]
# ## What a slip looks like
# The same panels, with a student's typical slip planted in the reference
# (`parity.grade.slips.gru_step_forward_r_z_swapped`): the slide's gate order z, r taken for
# torch's r, z: r_t is computed from z's rows and z_t from r's, so both rows of the
# difference column light up from the first character.

# %%
from parity.grade import slips  # noqa: E402

nb.show_slip(gates_over_surname, reference, slips.gru_step_forward_r_z_swapped, w.surname,
             title=f"GRU gates on {w.surname!r}, r and z blocks swapped")
