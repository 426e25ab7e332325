"""Exercise set 5: BPTT over a sequence — your ex5_sequence_bptt.py, graded function by function.

Write the two functions in your exercises folder's ``ex5_sequence_bptt.py`` (``python -m
scratchrnn exercises init my_exercises`` writes it; ``--hard`` writes it without TODOs):
the loop over t = T−1 … 0 that gives each step the carry from t+1 plus its output's
gradient, and passes the carry through a padded step untouched (the mask). The forward
and the step backwards are given in the file (the reference's), so this set grades the
loop alone. Each grading cell runs the parity kit's grader (``python -m parity grade
my_exercises --only NAME``) against ``torch.nn.RNN`` / ``torch.nn.LSTM`` on packed
sequences; the last cells run your ``elman_sequence_backward`` on a padded batch of two
surnames and show the gradient reaching each step next to the reference's.

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
from scratchrnn.exercises import sequence

EXERCISES, FILE = nb.open_exercises("ex5_sequence_bptt.py", ROOT)

# %% [markdown]
# ## 1. `elman_sequence_backward`
# t = T−1 … 0: dh_t = dh_{t+1 → t} + dout_t, then `elman_step_backward`; the carry
# starts at dh_n and ends as dh0. A padded step (mask[t] False) gets dh_t = 0 and
# passes the carry through as it came.

# %%
nb.grade_cell(EXERCISES, "elman_sequence_backward")

# %% [markdown]
# ## 2. `lstm_sequence_backward`
# The same loop with the cell state's carry beside it: dC_t = dC_{t+1 → t} (no output
# reads C_t), from dc_n to dc0; `lstm_step_backward` returns both carries.

# %%
nb.grade_cell(EXERCISES, "lstm_sequence_backward")

# %% [markdown]
# ## The gradient reaching each step, on a padded batch
# Two surnames through a tanh Elman RNN with fixed random weights (H = 8): "Nakamura"
# (8 steps) and "Sato" (4 steps, padded to 8, lengths = [8, 4]), the loss the sum of
# every output (dout_t = 1 at every step, dh_n = 0). Each heatmap is dgx_t, hidden units
# (rows) × steps t (columns), of one row of the batch: once from your
# `elman_sequence_backward`, once from the reference's. Right, Sato's four padded steps
# get no gradient at all (a blank right half) and the difference column is blank; a
# mask left out lights them up.

# %%
w = nb.surname_weights(gates=1)
sato = nb.surname_weights(gates=1, surname="Sato")  # the same weights (seed 0)
T, lengths = len(w.surname), np.array([8, 4])
x = np.concatenate([w.x_seq, np.pad(sato.x_seq, ((0, T - 4), (0, 0), (0, 0)))], axis=1)
mask = np.arange(T)[:, None, None] < lengths[None, :, None]  # (T, B, 1)
GX = x @ w.W_ih.T + w.b_ih
_, _, steps = sequence.elman_sequence_forward(GX, np.zeros((2, 8)), w.W_hh, w.b_hh, mask)


def gradients_over_steps(elman_sequence_backward):
    """dgx_t of each row of the batch, (H, T), from elman_sequence_backward."""
    dGX, _, _ = elman_sequence_backward(np.ones((T, 2, 8)), np.zeros((2, 8)), steps, w.W_hh,
                                        mask)
    return {"dgx_t of Nakamura": dGX[:, 0].T, "dgx_t of Sato (4 of 8)": dGX[:, 1].T}


yours, reference, problem = nb.against_reference(FILE, "elman_sequence_backward",
                                                 gradients_over_steps,
                                                 sequence.elman_sequence_backward)

# %%
top = max(np.abs(g).max() for g in reference.values())
nb.show(yours, reference, "01234567", problem, vmin=-top, vmax=top, cmap="RdBu_r",
        title="BPTT: dgx_t at each step t of a padded batch (lengths 8 and 4)")

# %% [markdown]
# ## What a slip looks like
# The same panels, with a student's typical slip planted in the reference
# (`parity.grade.slips.elman_sequence_backward_without_mask`): the loop over t with the mask
# forgotten. Nakamura (no padding) is unchanged, a blank difference; Sato's four padded
# steps (t = 4 … 7) now take gradient, and the carry they pass back changes its real steps
# too.

# %%
from parity.grade import slips  # noqa: E402

nb.show_slip(gradients_over_steps, reference, slips.elman_sequence_backward_without_mask,
             "01234567", vmin=-top, vmax=top, cmap="RdBu_r",
             title="BPTT: dgx_t of a padded batch, the mask forgotten")
