"""Lecture "Sequence Modeling", part 1: language models and the Elman RNN.

Follows the slides from the language-model idea to the Elman RNN, its
backpropagation through time (BPTT), the lecture's ``ElmanRNN`` module, its
equality with ``torch.nn.RNN``, and the teaser "Issues in ElmanRNN": gradients
that vanish with distance.

Run (from the repository root; no data needed, a few seconds):

    .venv/bin/python examples/01_elman_rnn.py
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

from scratchrnn.cell_modules import ElmanRNN
from scratchrnn.cells import elman_step_forward
from scratchrnn.gradcheck import assert_gradients_close, max_relative_error
from scratchrnn.studies.lecture import pyplot

rng = np.random.default_rng(0)
np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## The language model
# A language model gives a sequence its probability one token at a time:
# P(w_1 … w_n) = Π_t P(w_t | w_1 … w_{t-1}). An RNN carries "w_1 … w_{t-1}" in a
# hidden state h_{t-1} of fixed size, updated once per token.

# %%
print("language model: P(w_1..w_n) = Π_t P(w_t | w_<t); an RNN summarises w_<t in h_{t-1}")

# %% [markdown]
# ## One Elman step, by hand
# h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), with torch's layout:
# W_ih (H, I), W_hh (H, H); a batch of B rows, so x_t (B, I) and h (B, H) multiply
# the transposed weights. The library's step takes the input projection
# gx_t = x_t W_ih^T + b_ih (computed for all steps at once by the sequence modules).

# %%
B, I, H = 3, 4, 5
x_t = rng.standard_normal((B, I))
h_prev = rng.standard_normal((B, H))
W_ih, W_hh = rng.uniform(-0.5, 0.5, (H, I)), rng.uniform(-0.5, 0.5, (H, H))
b_ih, b_hh = rng.uniform(-0.5, 0.5, H), rng.uniform(-0.5, 0.5, H)

h_t_by_hand = np.tanh(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)
h_t_library, _ = elman_step_forward(x_t @ W_ih.T + b_ih, h_prev, W_hh, b_hh)
print(f"\none Elman step: h_t by hand vs elman_step_forward, max |diff| = "
      f"{np.abs(h_t_by_hand - h_t_library).max():.1e}")
print("h_t[0] =", h_t_by_hand[0])

# %% [markdown]
# ## The lecture's ElmanRNN over a batch
# A loop over an Elman cell that returns every step's hidden state.
# With batch_first=True, x_in is (B, T, I) and the hidden states are (B, T, H).

# %%
T = 6
elman = ElmanRNN(input_size=I, hidden_size=H, batch_first=True, dtype=np.float64, rng=1)
x_in = rng.standard_normal((B, T, I))
hiddens, caches = elman.forward(x_in)
print(f"\nElmanRNN: x_in {x_in.shape} -> hiddens {hiddens.shape}")

# %% [markdown]
# ## BPTT and a finite-difference check
# Backward takes dL/dh_t for every step (here a random upstream gradient, i.e. the
# loss L = Σ_t ⟨d_hiddens_t, h_t⟩) and walks the loop backwards:
# dL/dh_{t-1} = (dL/dh_t + upstream_{t-1}) through tanh' and W_hh. Central
# differences (f(θ+ε) − f(θ−ε)) / 2ε check every gradient.

# %%
d_hiddens = rng.standard_normal(hiddens.shape)
elman.zero_grad()
d_x_in, d_h0, d_params = elman.backward(d_hiddens, caches)


def loss():
    return np.sum(elman.forward(x_in)[0] * d_hiddens)


cell = elman.rnn_cell.params  # weight_ih, weight_hh, bias_ih, bias_hh (perturbed in place)
errors = assert_gradients_close(
    loss,
    {"x_in": x_in, **{f"rnn_cell.{k}": v for k, v in cell.items()}},
    {"x_in": d_x_in, **d_params},
)
print("\nBPTT vs finite differences (max relative error):")
for name, err in errors.items():
    print(f"  {name:<20} {err:.1e}")

# %% [markdown]
# ## The same numbers as torch.nn.RNN
# ElmanRNN's weights carry torch's names; a one-layer `torch.nn.RNN(batch_first=True)`
# with the same weights (suffix `_l0`) must give the same hidden states and gradients.
# Skipped when torch is not installed (it is only needed for this check).

# %%
try:
    import torch
except ImportError:
    torch = None
    print("\ntorch is not installed: skipping the comparison with torch.nn.RNN")

if torch is not None:
    twin = torch.nn.RNN(I, H, batch_first=True, dtype=torch.float64)
    twin.load_state_dict({f"{k}_l0": torch.from_numpy(v.copy()) for k, v in cell.items()})
    x_torch = torch.tensor(x_in, requires_grad=True)
    out_torch, _ = twin(x_torch)
    (out_torch * torch.from_numpy(d_hiddens)).sum().backward()
    diffs = {"hiddens": max_relative_error(hiddens, out_torch.detach().numpy()),
             "d_x_in": max_relative_error(d_x_in, x_torch.grad.numpy())}
    for k in cell:
        diffs[f"d_{k}"] = max_relative_error(d_params[f"rnn_cell.{k}"],
                                             getattr(twin, f"{k}_l0").grad.numpy())
    print("\nElmanRNN vs torch.nn.RNN (max relative difference):")
    for name, diff in diffs.items():
        print(f"  {name:<12} {diff:.1e}")

    from parity.compare import SeqConfig, compare_sequence

    row = compare_sequence(SeqConfig(cell="elman", num_layers=2, bidirectional=True,
                                     batch_first=True, lengths=True))
    print(f"scratchrnn.RNN vs torch.nn.RNN, {row['config']}: outputs "
          f"{row['max_rel_diff_output']:.1e}, gradients {row['max_rel_diff_grad']:.1e}")

# %% [markdown]
# ## Issues in ElmanRNN: gradients vanish with distance
# How much does h_T still depend on h_t, k = T − t steps back? The Jacobian
# ∂h_T/∂h_t = Π_s diag(1 − h_s²) W_hh is a product of k factors; with ‖W_hh‖ < 1
# and tanh' ≤ 1 it shrinks geometrically. We get it from BPTT itself: run H copies
# of one sequence, put the upstream gradient only at the last step (row j = unit
# vector e_j), and walk back with the cell's backward; the gradient reaching h_t
# in row j is row j of ∂h_T/∂h_t.

# %%
T_long = 50
lm = ElmanRNN(input_size=I, hidden_size=H, dtype=np.float64, rng=2)  # default init
x_seq = np.repeat(rng.standard_normal((T_long, 1, I)), H, axis=1)  # (T, H copies, I)
_, steps = lm.forward(x_seq)

jacobian_norm = {}
d_h = np.eye(H)  # dh_T/dh_T = I
for t in reversed(range(T_long)):
    jacobian_norm[T_long - 1 - t] = np.linalg.norm(d_h, 2)  # ‖∂h_T/∂h_t‖₂, t = T − k
    _, d_h, _ = lm.rnn_cell.backward(d_h, steps[t])  # one step of BPTT: now ∂h_T/∂h_{t-1}

print("\n‖∂h_T/∂h_{T-k}‖₂ for a tanh Elman RNN (H=5, torch's default init):")
print("   k   norm")
for k in (0, 1, 2, 5, 10, 20, 30, 49):
    print(f"  {k:2d}   {jacobian_norm[k]:.2e}")

# %% [markdown]
# On a log scale a geometric decay is a straight line: the norm loses about the same
# factor at every step back. (The plot needs matplotlib: `pip install -e '.[plot]'`.)

# %%
plt = pyplot()

if plt is not None:
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.semilogy(list(jacobian_norm), list(jacobian_norm.values()), marker=".")
    ax.set(xlabel="k (steps back from T)", ylabel=r"$\|\partial h_T / \partial h_{T-k}\|_2$",
           title=f"Elman RNN, H={H}: the gradient vanishes with distance")
    ax.grid(True, which="major", alpha=0.3)
    plt.show()
