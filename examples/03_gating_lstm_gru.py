"""Lecture "Sequence Modeling", part 1: gating, the LSTM and the GRU.

Follows the slides after "Issues in ElmanRNN": the gating progression, the LSTM
equations (one step by hand against the library), the GRU as on the slide
(Cho et al. 2014) and as torch computes it, the exact relationship between the two,
and the vanishing-gradient table of ``01_elman_rnn.py`` for all three cells.

Run (from the repository root; no data needed, a few seconds):

    .venv/bin/python examples/03_gating_lstm_gru.py
"""

# %% [markdown]
# ## Setup
# Run from a checkout: make the repository root importable even without `pip install -e .`.

# %%
import sys
from pathlib import Path

# the repository root; in a notebook (no __file__) the kernel runs in notebooks/, one below
ROOT = (Path(__file__).parent if "__file__" in globals() else Path.cwd()).resolve().parent
sys.path.insert(0, str(ROOT))

import numpy as np

from scratchrnn.cell_modules import GRUCell, LSTMCell, RNNCell
from scratchrnn.cells import gru_cell_forward, lstm_step_forward
from scratchrnn.functional import sigmoid
from scratchrnn.studies.lecture import pyplot

rng = np.random.default_rng(0)
B, I, H = 3, 4, 5

# %% [markdown]
# ## Gating, as the slides build it up
# * no gating: h_t = h_{t-1} + F(h_{t-1}, x_t) — every step adds its whole update;
# * input gating: h_t = h_{t-1} + λ(h_{t-1}, x_t) F(h_{t-1}, x_t) — a gate λ ∈ (0, 1)
#   decides how much of the update to write;
# * hidden-state gating: h_t = μ(h_{t-1}, x_t) h_{t-1} + λ(h_{t-1}, x_t) F(…) — a second
#   gate μ decides how much of the old state to keep.
# The LSTM's forget gate f_t is μ and its input gate i_t is λ; the GRU ties them
# (μ = 1 − z_t, λ = z_t on the slide).

# %%
print("gating: h_t = h_{t-1} + F  →  h_{t-1} + λ·F  →  μ·h_{t-1} + λ·F"
      "   (LSTM: μ = f_t, λ = i_t;  GRU: μ = 1 − z_t, λ = z_t)")

# %% [markdown]
# ## One LSTM step, by hand
# The slide's concatenated form W·[h_{t-1}, x_t] + b is torch's split form with
# W = [W_hh | W_ih] and b = b_ih + b_hh. torch stacks the four gate blocks in the
# order i, f, g (= C̃), o, so rows 0:H are W_i, H:2H W_f, 2H:3H W_C, 3H:4H W_o.

# %%
x_t, h_prev, C_prev = (rng.standard_normal((B, n)) for n in (I, H, H))
W_ih, W_hh = rng.uniform(-0.5, 0.5, (4 * H, I)), rng.uniform(-0.5, 0.5, (4 * H, H))
b_ih, b_hh = rng.uniform(-0.5, 0.5, 4 * H), rng.uniform(-0.5, 0.5, 4 * H)

W, b = np.concatenate([W_hh, W_ih], axis=1), b_ih + b_hh
W_i, W_f, W_C, W_o = np.split(W, 4)
b_i, b_f, b_C, b_o = np.split(b, 4)
h_x = np.concatenate([h_prev, x_t], axis=1)  # [h_{t-1}, x_t]

f_t = sigmoid(h_x @ W_f.T + b_f)  # forget gate
i_t = sigmoid(h_x @ W_i.T + b_i)  # input gate
C_tilde = np.tanh(h_x @ W_C.T + b_C)  # candidate
C_t = f_t * C_prev + i_t * C_tilde  # cell state
o_t = sigmoid(h_x @ W_o.T + b_o)  # output gate
h_t = o_t * np.tanh(C_t)

h_lib, C_lib, _ = lstm_step_forward(x_t @ W_ih.T + b_ih, h_prev, C_prev, W_hh, b_hh)
print(f"\nLSTM step by hand vs lstm_step_forward: max |diff| h_t {np.abs(h_t - h_lib).max():.1e},"
      f" C_t {np.abs(C_t - C_lib).max():.1e}")

# %% [markdown]
# ## The GRU on the slide, by hand
# z_t = σ(W_z·[h_{t-1}, x_t]),  r_t = σ(W_r·[h_{t-1}, x_t]),
# h̃_t = tanh(W·[r_t ⊙ h_{t-1}, x_t]),  h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t
# (no biases on the slide). torch stacks the GRU blocks as r, z, n.

# %%
W_ih, W_hh = rng.uniform(-0.5, 0.5, (3 * H, I)), rng.uniform(-0.5, 0.5, (3 * H, H))
b_ih, b_hh = rng.uniform(-0.5, 0.5, 3 * H), rng.uniform(-0.5, 0.5, 3 * H)
(W_ir, W_iz, W_in), (W_hr, W_hz, W_hn) = np.split(W_ih, 3), np.split(W_hh, 3)

z_t = sigmoid(h_x @ np.concatenate([W_hz, W_iz], axis=1).T)
r_t = sigmoid(h_x @ np.concatenate([W_hr, W_ir], axis=1).T)
h_tilde = np.tanh(np.concatenate([r_t * h_prev, x_t], axis=1)
                  @ np.concatenate([W_hn, W_in], axis=1).T)
h_t = (1 - z_t) * h_prev + z_t * h_tilde

h_lib, _ = gru_cell_forward(x_t, h_prev, W_ih, W_hh, form="slide")
print(f"slide GRU step by hand vs gru_cell_forward(form='slide'): max |diff| "
      f"{np.abs(h_t - h_lib).max():.1e}")

# %% [markdown]
# ## The slide's GRU and torch's GRU: the exact relationship
# torch (gate order r, z, n):  n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t-1} + b_hn)),
# h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}. Two differences from the slide:
# * z weighs the *old state* in torch, the *candidate* on the slide. Negating the z
#   rows of every weight and bias turns one into the other, since σ(−a) = 1 − σ(a);
# * the reset gate acts *after* the hidden projection in torch, r ⊙ (W_hn h + b_hn),
#   and *before* it on the slide, W_hn (r ⊙ h) + b_hn. These agree exactly when W_hn
#   is diagonal (it then commutes with r ⊙ ·) and b_hn = 0.
# So: slide form with negated z rows == torch form, under those two conditions only.


# %%
def negate_z_rows(*arrays):
    """Copies with the z block (rows H:2H, torch's order r, z, n) negated."""
    out = [a.copy() for a in arrays]
    for a in out:
        a[H : 2 * H] *= -1
    return out


def torch_vs_slide(W_ih, W_hh, b_ih, b_hh):
    h_torch, _ = gru_cell_forward(x_t, h_prev, W_ih, W_hh, b_ih, b_hh, form="torch")
    h_slide, _ = gru_cell_forward(x_t, h_prev, *negate_z_rows(W_ih, W_hh, b_ih, b_hh),
                                  form="slide")
    return np.abs(h_torch - h_slide).max()


W_hh_diag, b_hh_diag = W_hh.copy(), b_hh.copy()
W_hh_diag[2 * H :] = np.diag(np.diag(W_hh[2 * H :]))  # W_hn diagonal
b_hh_diag[2 * H :] = 0.0  # b_hn = 0
print("\ntorch GRU vs slide GRU with the z rows negated, max |h_t difference|:")
print(f"  diagonal W_hn, b_hn = 0 : {torch_vs_slide(W_ih, W_hh_diag, b_ih, b_hh_diag):.1e}"
      "   (equal)")
print(f"  general W_hn, b_hn      : {torch_vs_slide(W_ih, W_hh, b_ih, b_hh):.1e}"
      "   (different functions)")

# %% [markdown]
# ## Do gates help the gradient? ‖∂h_T/∂h_{T−k}‖₂ for Elman, LSTM, GRU
# As in 01_elman_rnn.py: H copies of one sequence, the upstream gradient e_j in row j
# at the last step only, then BPTT with each cell's own backward; the gradient that
# reaches h_t is the Jacobian ∂h_T/∂h_t (for the LSTM: holding C_t fixed, the path
# through C_t being part of the product).
# Twice: with torch's default initialisation, and with the gate that keeps the old
# state opened (LSTM forget-gate bias +3, so f_t ≈ 0.95; GRU update-gate bias +3,
# so torch's z_t ≈ 0.95 keeps h_{t-1}). The Elman RNN has no such gate.

# %%
T, H, I = 50, 16, 8
x_seq = np.repeat(rng.standard_normal((T, 1, I)), H, axis=1)  # (T, H copies, I)


def jacobian_norms(cell, lstm=False):
    state, caches = None, []
    for t in range(T):
        state, cache = cell.forward(x_seq[t], state)
        caches.append(cache)
    d_state = (np.eye(H), np.zeros((H, H))) if lstm else np.eye(H)  # (dh_T, dC_T)
    norms = []
    for t in reversed(range(T)):
        norms.append(np.linalg.norm(d_state[0] if lstm else d_state, 2))  # k = T-1-t
        _, d_state, _ = cell.backward(d_state, caches[t])
    return norms


def cells(gate_bias):
    lstm = LSTMCell(I, H, dtype=np.float64, rng=1)
    gru = GRUCell(I, H, dtype=np.float64, rng=1)
    lstm.params["bias_ih"][H : 2 * H] += gate_bias  # f rows (i, f, g, o)
    gru.params["bias_ih"][H : 2 * H] += gate_bias  # z rows (r, z, n)
    return RNNCell(I, H, dtype=np.float64, rng=1), lstm, gru


curves = {}  # title -> (Elman, LSTM, GRU) norms, index k
for gate_bias, title in ((0.0, "default init"), (3.0, "forget/update gate bias +3")):
    elman, lstm, gru = cells(gate_bias)
    curves[title] = (jacobian_norms(elman), jacobian_norms(lstm, lstm=True), jacobian_norms(gru))
    rows = dict(enumerate(zip(*curves[title], strict=True)))
    print(f"\n‖∂h_T/∂h_(T-k)‖₂, H={H}, {title}:")
    print("   k     Elman      LSTM       GRU")
    for k in (1, 2, 5, 10, 20, 30, 49):
        print(f"  {k:2d}  " + "  ".join(f"{v:9.2e}" for v in rows[k]))

# %% [markdown]
# At initialisation all three shrink geometrically (the gated cells somewhat
# slower). What the gates add is a knob the network can learn: with the "keep" gate
# open, the LSTM's cell state and the GRU's hidden state carry the gradient across
# all 50 steps, while the Elman RNN's only path runs through W_hh and tanh' every step.

# %% [markdown]
# ## Why the LSTM still vanishes at default init, and what the forget-bias init changes
# The LSTM's cell state is C_t = f_t ⊙ C_{t−1} + i_t ⊙ C̃_t, so along the cell-state path
# ∂C_T/∂C_0 = Π_t diag(f_t): the gradient is multiplied by the forget gate at every step.
# torch initialises every weight and bias from U(−1/√H, 1/√H), so the forget gate's
# pre-activation is near 0 and f_t = σ(≈0) ≈ 0.5: over 50 steps Π f_t ≈ 0.5^50 ≈ 9e-16
# (averaged over units the product comes out larger: the units whose gate sits a little
# above 0.5 dominate the average).
# The "constant error carousel" carries the gradient only when f_t ≈ 1. Adding b_f to the
# forget gate's bias at initialisation (Gers et al. 2000; Jozefowicz et al. 2015: b_f = 1)
# starts it at σ(b_f): 0.73 for b_f = 1, 0.88 for 2, 0.95 for 3.
#
# Measured below on the same 50-step sequence (H = 16): the mean f_t, the product Π_t f_t
# (mean over units), and the gradient ratio over all 50 steps for the worst-case loss on
# h_T, ‖∂L/∂h_0‖ / ‖∂L/∂h_T‖ = ‖∂h_T/∂h_0‖₂, and through the cell state, ‖∂h_T/∂C_0‖₂
# (BPTT with the cell's own backward, from dh_T = I back to the initial state).


# %%
def through_all_steps(lstm):
    """(f_t (T, H), ‖∂h_T/∂h_0‖₂, ‖∂h_T/∂C_0‖₂) over x_seq, h_0 = C_0 = 0."""
    state, caches = None, []
    for t in range(T):
        state, cache = lstm.forward(x_seq[t], state)
        caches.append(cache)
    f = np.stack([cache[0].step.f_t[0] for cache in caches])  # (T, H): the H rows are copies
    d_state = (np.eye(H), np.zeros((H, H)))  # (dh_T, dC_T): e_j in row j
    for t in reversed(range(T)):
        _, d_state, _ = lstm.backward(d_state, caches[t])
    return f, np.linalg.norm(d_state[0], 2), np.linalg.norm(d_state[1], 2)


forget_rows = slice(H, 2 * H)  # torch's gate order i, f, g, o
print(f"\nLSTM over T={T} steps, H={H}; 0.5^{T} = {0.5 ** T:.1e}")
print("  b_f   σ(b_f)  mean f_t   Π_t f_t   ‖∂h_T/∂h_0‖₂  ‖∂h_T/∂C_0‖₂")
forget_bias_ratio = {}
for b_f in (0.0, 1.0, 2.0, 3.0):
    lstm = LSTMCell(I, H, dtype=np.float64, rng=1)
    lstm.params["bias_hh"][forget_rows] += b_f
    f, d_h0, d_C0 = through_all_steps(lstm)
    forget_bias_ratio[b_f] = d_h0
    print(f"  {b_f:3.0f}   {sigmoid(b_f):5.2f}   {f.mean():7.3f}   {np.prod(f, axis=0).mean():8.1e}"
          f"   {d_h0:11.1e}   {d_C0:11.1e}")
print(f"b_f = 1 keeps {forget_bias_ratio[1.0] / forget_bias_ratio[0.0]:.0e} times more of the "
      f"gradient over {T} steps than torch's default (b_f = 0), b_f = 2 "
      f"{forget_bias_ratio[2.0] / forget_bias_ratio[0.0]:.0e} times more")

# %% [markdown]
# So the LSTM's gates do not stop vanishing by themselves: at default init its forget
# gate halves the cell-state gradient every step, as fast a decay as Elman's. What they
# give is a path whose factor is a gate the network (or its initialisation) can open: with
# b_f = 1 or 2 the same 50 steps lose orders of magnitude less. Lab 1's `classify train
# --forget-bias` (default 1 for the LSTM) does this, in `scratchrnn.models.make_rnn`.

# %% [markdown]
# The two tables, plotted (needs matplotlib: `pip install -e '.[plot]'`).

# %%
plt = pyplot()

if plt is not None:
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), sharey=True)
    for ax, (title, norms) in zip(axes, curves.items(), strict=True):
        for name, curve in zip(("Elman", "LSTM", "GRU"), norms, strict=True):
            ax.semilogy(curve, label=name)
        ax.set(title=title, xlabel="k (steps back from T)")
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel(r"$\|\partial h_T / \partial h_{T-k}\|_2$")
    axes[0].legend()
    fig.tight_layout()
    plt.show()
