"""Check your own recurrent cell against torch with the parity kit: forward, backward, and
the way a training loop uses it.

You wrote an LSTM step in NumPy the way the slide writes it: one matrix applied to the
concatenation, ``a = W·[h_{t-1}, x_t] + b`` with one bias, gate blocks i, f, g (C̃), o.
torch keeps two matrices and two biases. ``layout="concat"`` tells the kit; it draws cases
with hypothesis (every B, I, H from 1, bias or not, float64 and float32), runs torch's
``LSTMCell`` on the same numbers and compares every output and gradient. On a mismatch
it names the quantity, the gate block and the smallest case, with code to rebuild it.

Run:  .venv/bin/python examples/custom_cell_parity.py      (needs torch)
Or:   .venv/bin/python -m parity check examples/custom_cell_parity.py:lstm_step \\
          --cell lstm --layout concat
Guide: docs/test-your-own-rnn.md
"""

# %%
# Your code: an LSTM step and its backward in the slide's layout (W·[h, x] + b)
import numpy as np

from parity.kit import assert_cell_parity, find_cell_failure
from parity.kit.stateful import assert_object_parity, step_cell_factory


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def lstm_step(x, state, p):
    """x (B, I), state (h, c) each (B, H), p = {"W": (4H, H+I), "b": (4H,)} → (h', c'), cache."""
    h, c = state
    H = h.shape[1]
    hx = np.concatenate([h, x], axis=1)
    a = hx @ p["W"].T + p.get("b", 0)
    i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 3 * H:])
    g = np.tanh(a[:, 2 * H:3 * H])
    c_next = f * c + i * g
    return (o * np.tanh(c_next), c_next), (hx, c, i, f, g, o, c_next, p)


def lstm_step_backward(d_state, cache):
    """(dh', dc'), cache → dx (B, I), (dh, dc) (B, H), {"W": dW, "b": db}."""
    dh, dc = d_state
    hx, c, i, f, g, o, c_next, p = cache
    H, t = c.shape[1], np.tanh(c_next)
    dc = dc + dh * o * (1 - t * t)
    da = np.concatenate([dc * g * i * (1 - i), dc * c * f * (1 - f), dc * i * (1 - g * g),
                         dh * t * o * (1 - o)], axis=1)
    grads = {"W": da.T @ hx, **({"b": da.sum(axis=0)} if "b" in p else {})}
    dhx = da @ p["W"]
    return dhx[:, H:], (dhx[:, :H], dc * f), grads


# %%
# A classic mistake, for contrast: the cell-state carry dC_{t-1} = dC_t ⊙ f_t dropped
def lstm_step_backward_no_carry(d_state, cache):
    dx, (dh_prev, dc_prev), grads = lstm_step_backward(d_state, cache)
    f = cache[3]
    return dx, (dh_prev, dc_prev / f), grads  # returns dC_t instead of dC_t ⊙ f_t


# %% [markdown]
# The checks run when this file runs (as a script or a notebook), not when
# `python -m parity check` imports it for `lstm_step`.

# %%
# 1. forward and backward, property-based (100 hypothesis cases by default)
if __name__ == "__main__":
    assert_cell_parity(lstm_step, lstm_step_backward, cell="lstm", layout="concat")
    print("lstm_step: forward and every gradient equal torch.nn.LSTMCell "
          "(float64 ≤ 1e-9, float32 ≤ 1e-4 relative), layout W·[h, x] + b")

# %%
# 2. the training-loop check: forward / backward / SGD step / zero_grad, batch
# sizes changing, on an object that keeps its parameters and accumulates gradients
if __name__ == "__main__":
    factory = step_cell_factory(lstm_step, lstm_step_backward, "lstm", "concat")
    assert_object_parity(factory, "lstm", "concat")
    print("as a cell object: every step of 30 hypothesis runs matches torch")

# %%
# 3. what a failure looks like
if __name__ == "__main__":
    d = find_cell_failure(lstm_step, lstm_step_backward_no_carry, "lstm", "concat", seed=0)
    print("\nthe mistake, diagnosed:\n" + d.message())
    assert [q.name for q in d.failed] == ["d_c_prev"]
