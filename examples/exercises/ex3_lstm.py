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

EXERCISES, FILE = nb.open_exercises("ex3_lstm.py", ROOT)

# %% [markdown]
# ## 1. `lstm_step_forward`
# a_t = gx_t + W_hh h_{t-1} + b_hh, split in torch's order i, f, g, o;
# C_t = f_t ⊙ C_{t-1} + i_t ⊙ g_t, h_t = o_t ⊙ tanh(C_t).

# %%
nb.grade_cell(EXERCISES, "lstm_step_forward")

# %% [markdown]
# ## 2. `lstm_step_backward`
# Graded on the reference forward's cache, so a wrong forward cannot hide a right
# backward. Mind the carry dC_{t-1} = dC_t ⊙ f_t and σ′ = σ(1 − σ) of the gate's output.

# %%
nb.grade_cell(EXERCISES, "lstm_step_backward")

# %% [markdown]
# ## 3. `lstm_cell_forward` and 4. `lstm_cell_backward`
# torch's LSTMCell as a function: the input projection, your step, and the parameter
# gradients around it.

# %%
nb.grade_cell(EXERCISES, "lstm_cell_forward")

# %%
nb.grade_cell(EXERCISES, "lstm_cell_backward")

# %% [markdown]
# ## Your gates on a surname
# The characters of "Nakamura" (a fixed random embedding, E = 8) through an LSTM with
# fixed random weights (H = 8): once with your `lstm_step_forward`, once with
# `scratchrnn.cells.lstm_step_forward`. Each heatmap is one gate, hidden units (rows) ×
# characters (columns), read from the step's cache. Right, yours equals the reference
# and the difference column is blank.

# %%
w = nb.surname_weights(gates=4)


def gates_over_surname(lstm_step_forward):
    """i_t, f_t, o_t at every step, (H, T), from the caches of lstm_step_forward."""
    def step(gx_t, state):
        h_t, c_t, cache = lstm_step_forward(gx_t, *state, w.W_hh, w.b_hh)
        return (h_t, c_t), cache

    return nb.over_surname(w, step, (np.zeros((1, 8)),) * 2, ("i_t", "f_t", "o_t"))


yours, reference, problem = nb.against_reference(FILE, "lstm_step_forward",
                                                 gates_over_surname, cells.lstm_step_forward)

# %%
nb.show(yours, reference, w.surname, problem,
        title=f"LSTM gates on {w.surname!r}: input i_t, forget f_t, output o_t")

# %% [markdown]
# ## What a slip looks like
# The same panels, with a student's typical slip planted in the reference
# (`parity.grade.slips.lstm_step_forward_f_o_swapped`): the gates read in the order i, o, g,
# f (f_t from o's rows, o_t from f's), a gate order copied wrong. i_t's difference stays
# blank at the first character and then drifts (h_t differs from the second step on); f_t
# and o_t differ at once.

# %%
from parity.grade import slips  # noqa: E402

nb.show_slip(gates_over_surname, reference, slips.lstm_step_forward_f_o_swapped, w.surname,
             title=f"LSTM gates on {w.surname!r}, f and o blocks swapped")
