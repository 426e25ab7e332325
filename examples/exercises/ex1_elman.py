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

EXERCISES, FILE = nb.open_exercises("ex1_elman.py", ROOT)

# %% [markdown]
# ## 1. `elman_step_forward`
# h_t = tanh(gx_t + W_hh h_{t-1} + b_hh) (or ReLU), gx_t = x_t W_ih^T + b_ih given.

# %%
nb.grade_cell(EXERCISES, "elman_step_forward")

# %% [markdown]
# ## 2. `elman_step_backward`
# Through the nonlinearity first: da_t = dh_t ⊙ (1 − h_t²) for tanh (of the output h_t),
# dh_t ⊙ [h_t > 0] for ReLU; then dh_{t-1} = da_t W_hh.

# %%
nb.grade_cell(EXERCISES, "elman_step_backward")

# %% [markdown]
# ## 3. `elman_cell_forward` and 4. `elman_cell_backward`
# torch's RNNCell as a function: the input projection, your step, and the parameter
# gradients around it (a bias gradient sums over the batch).

# %%
nb.grade_cell(EXERCISES, "elman_cell_forward")

# %%
nb.grade_cell(EXERCISES, "elman_cell_backward")

# %% [markdown]
# ## Your hidden states on a surname
# The characters of "Nakamura" (a fixed random embedding, E = 8) through a tanh Elman
# RNN with fixed random weights (H = 8): once with your `elman_step_forward`, once with
# `scratchrnn.cells.elman_step_forward`. The Elman RNN has no gates: each heatmap is the
# hidden state h_t, hidden units (rows) × characters (columns). Right, yours equals the
# reference and the difference column is blank.

# %%
w = nb.surname_weights(gates=1)


def states_over_surname(elman_step_forward):
    """h_t at every step, (H, T), read from the caches of elman_step_forward."""
    def step(gx_t, h_prev):
        return elman_step_forward(gx_t, h_prev, w.W_hh, w.b_hh, "tanh")

    return nb.over_surname(w, step, np.zeros((1, 8)), ("h_t",))


yours, reference, problem = nb.against_reference(FILE, "elman_step_forward",
                                                 states_over_surname, cells.elman_step_forward)

# %%
nb.show(yours, reference, w.surname, problem, vmin=-1, vmax=1, cmap="RdBu_r",
        title=f"Elman hidden state h_t on {w.surname!r} (tanh)")

# %% [markdown]
# ## What a slip looks like
# The same panels, with a student's typical slip planted in the reference
# (`parity.grade.slips.elman_step_forward_without_b_hh`): the recurrent bias b_hh left out
# of h_t = tanh(gx_t + W_hh h_{t-1} + b_hh). Every unit moves by what its bias would have
# added, through the tanh: the whole difference column lights up, more where the
# pre-activation is near 0 and tanh is steep.

# %%
from parity.grade import slips  # noqa: E402

nb.show_slip(states_over_surname, reference, slips.elman_step_forward_without_b_hh, w.surname,
             vmin=-1, vmax=1, cmap="RdBu_r",
             title=f"Elman h_t on {w.surname!r}, b_hh left out")
