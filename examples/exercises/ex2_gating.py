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
from scratchrnn import gating

EXERCISES, FILE = nb.open_exercises("ex2_gating.py", ROOT)

# %% [markdown]
# ## 1. `gated_step_forward`
# F_t = tanh(a_t[:, 0:H]), λ_t = σ(a_t[:, H:2H]), μ_t = σ(a_t[:, 2H:3H]);
# none: h_t = h_{t-1} + F_t; input: h_{t-1} + λ_t ⊙ F_t; hidden: μ_t ⊙ h_{t-1} + λ_t ⊙ F_t.

# %%
nb.grade_cell(EXERCISES, "gated_step_forward")

# %% [markdown]
# ## 2. `gated_step_backward`
# Each gate's σ′ = σ(1 − σ) of its output; dh_{t-1} gets the direct path (1, or μ_t)
# plus da_t W_hh.

# %%
nb.grade_cell(EXERCISES, "gated_step_backward")

# %% [markdown]
# ## Your gates on a surname
# The characters of "Nakamura" (a fixed random embedding, E = 8) through the
# hidden-state-gated cell with fixed random weights (H = 8): once with your
# `gated_step_forward`, once with `scratchrnn.gating.gated_step_forward`. Each heatmap is
# one gate from the step's cache (λ_t: `lam_t`, μ_t: `mu_t`), hidden units (rows) ×
# characters (columns). Right, yours equals the reference and the difference column is
# blank.

# %%
w = nb.surname_weights(gates=3)


def gates_over_surname(gated_step_forward):
    """λ_t and μ_t at every step, (H, T), from the caches of gated_step_forward."""
    def step(gx_t, h_prev):
        return gated_step_forward(gx_t, h_prev, w.W_hh, w.b_hh, "hidden")

    return nb.over_surname(w, step, np.zeros((1, 8)), ("lam_t", "mu_t"))


yours, reference, problem = nb.against_reference(FILE, "gated_step_forward",
                                                 gates_over_surname, gating.gated_step_forward)

# %%
nb.show(yours, reference, w.surname, problem,
        title=f"hidden-state gating on {w.surname!r}: input gate λ_t (lam_t), keep gate μ_t "
              "(mu_t)")

# %% [markdown]
# ## What a slip looks like
# The same panels, with a student's typical slip planted in the reference
# (`parity.grade.slips.gated_step_forward_lam_mu_swapped`): λ_t read from μ's rows and μ_t
# from λ's (the blocks H:2H and 2H:3H exchanged). Both rows of the difference column light
# up: each gate now shows the other's values.

# %%
from parity.grade import slips  # noqa: E402

nb.show_slip(gates_over_surname, reference, slips.gated_step_forward_lam_mu_swapped, w.surname,
             title=f"hidden-state gating on {w.surname!r}, λ and μ blocks swapped")
