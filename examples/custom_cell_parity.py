"""Check your own recurrent cell against torch, property-based.

You wrote a GRU step in NumPy. Does it compute exactly what ``torch.nn.GRUCell``
computes, for every batch size, input size and hidden size (1 included), with and
without bias? ``parity.strategies.cell_cases`` draws the cases (inputs, weights in
torch's layout), ``parity.compare.torch_cell_reference`` runs torch on them, and
hypothesis searches for a counterexample (and shrinks it, if it finds one).

Run:  .venv/bin/python examples/custom_cell_parity.py      (needs torch)
"""

# %% Your GRU step, written from torch's equations (gate rows r, z, n)
import numpy as np
from hypothesis import given, settings

from parity.compare import torch_cell_reference
from parity.strategies import cell_cases


def my_gru_step(x, h, W_ih, W_hh, b_ih=None, b_hh=None):
    """r = σ(W_ir x + b_ir + W_hr h + b_hr)
    z = σ(W_iz x + b_iz + W_hz h + b_hz)
    n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
    h' = (1 − z) ⊙ n + z ⊙ h

    x (B, I), h (B, H), W_ih (3H, I), W_hh (3H, H), b_ih / b_hh (3H,) or None.
    """
    H = h.shape[1]
    gx = x @ W_ih.T + (0 if b_ih is None else b_ih)
    gh = h @ W_hh.T + (0 if b_hh is None else b_hh)
    r = 1 / (1 + np.exp(-(gx[:, :H] + gh[:, :H])))
    z = 1 / (1 + np.exp(-(gx[:, H : 2 * H] + gh[:, H : 2 * H])))
    n = np.tanh(gx[:, 2 * H :] + r * gh[:, 2 * H :])
    return (1 - z) * n + z * h


# %% The property: for every case hypothesis draws, my step equals torch's GRUCell
@settings(max_examples=100, deadline=None)
@given(cell_cases("gru", dtype="float64"))
def test_my_gru_step_matches_torch(case):
    ref = torch_cell_reference("gru", case)
    mine = my_gru_step(case["x"], case["h"], case["weight_ih"], case["weight_hh"],
                       case["bias_ih"], case["bias_hh"])
    # the parity policy: within 1e-9 relative to max(1, |torch value|)
    err = np.max(np.abs(mine - ref["h_next"]) / np.maximum(1.0, np.abs(ref["h_next"])))
    assert err <= 1e-9, f"differs from torch by {err:.2e} on B, I, H = " \
                        f"{case['x'].shape[0]}, {case['x'].shape[1]}, {case['h'].shape[1]}"


# %% Run it (pytest would collect the test function as it is)
if __name__ == "__main__":
    test_my_gru_step_matches_torch()
    print("my_gru_step equals torch.nn.GRUCell on 100 hypothesis cases (float64, ≤ 1e-9)")
