"""The words of the exercise files: what each exercise computes (its TODO) and each set's
slide equations (its module docstring), kept apart from :mod:`.template`, which writes them.
"""

from __future__ import annotations

#: what each exercise computes, in the math's names (its docstring has the equations)
TODOS: dict[str, str] = {
    "elman_step_forward": """\
a_t = gx_t + h_{t-1} W_hh^T + b_hh   (hidden_projection gives the last two terms);
h_t = tanh(a_t), or ReLU(a_t) = max(a_t, 0) when nonlinearity == "relu".
Return h_t and ElmanCache(h_prev, h_t, nonlinearity).""",
    "elman_step_backward": """\
da_t = the gradient at the pre-activation a_t, from dh_t and the output h_t (cache.h_t):
the derivative of tanh (or of ReLU) written with h_t.
a_t = gx_t + gh_t, so dgx_t = dgh_t = da_t;  dh_{t-1} = da_t W_hh.""",
    "elman_cell_forward": """\
gx_t = x W_ih^T + b_ih (no b_ih when it is None), then one elman_step_forward with the
hidden side (weight_hh, bias_hh). Return h_t and
_cell_cache(x, step_cache, weight_ih, weight_hh, bias_ih).""",
    "elman_cell_backward": """\
p = cache.params ("weight_ih", "weight_hh", and "bias": True when the cell has biases);
dgx, dgh, dh_prev = elman_step_backward(dh_t, cache.step, W_hh);
weight_ih: dgx^T x (x = cache.x);  weight_hh: dgh^T h_{t-1} (cache.step.h_prev);
bias_ih, bias_hh (with biases only): dgx, dgh summed over the batch;  x: dgx W_ih.
Return the dict of those keys and h_prev.""",
    "gated_step_forward": """\
a_t = gx_t + h_{t-1} W_hh^T + b_hh   (B, G·H);
F_t = tanh(a_t[:, 0:H]), λ_t = σ(a_t[:, H:2H]), μ_t = σ(a_t[:, 2H:3H]), as far as the
gating has blocks; h_t as the docstring's case says.
Return h_t and GatedCache(h_prev, F_t, λ_t or None, μ_t or None, gating).""",
    "gated_step_backward": """\
dF_t, dλ_t, dμ_t from dh_t (the gating's h_t equation); through tanh and σ, whose
derivatives are written with their outputs (in the cache), to the pre-activation blocks
da_t = [da_F, da_λ, da_μ]   (B, G·H, only the gating's blocks);
dh_{t-1} = the direct path through h_{t-1} + da_t W_hh.  Return (da_t, da_t, dh_prev).""",
    "lstm_step_forward": """\
a_t = gx_t + h_{t-1} W_hh^T + b_hh   (B, 4H), blocks in torch's order i, f, g, o;
i_t, f_t, o_t = σ(their blocks), g_t = tanh(its block);  C_t = f_t ⊙ C_{t-1} + i_t ⊙ g_t;
m_t = o_t ⊙ tanh(C_t);  h_t = m_t, or m_t W_hr^T when W_hr is given.
Return h_t, C_t and LSTMCache(h_prev, c_prev, i_t, f_t, g_t, o_t, tanh(C_t), m_t).""",
    "lstm_step_backward": """\
dm_t = dh_t (dh_t W_hr when W_hr is given);  dC_t = dc_t + the path through
h_t = o_t ⊙ tanh(C_t);  then do_t, di_t, df_t, dg_t and dC_{t-1};
da_t = the four blocks through σ' or tanh'   (B, 4H, order i, f, g, o).
Return (da_t, da_t, da_t W_hh, dC_{t-1}).""",
    "lstm_cell_forward": """\
gx_t = x W_ih^T + b_ih (no b_ih when it is None), then one lstm_step_forward with the
hidden side (weight_hh, bias_hh). Return (h_t, C_t) and
_cell_cache(x, step_cache, weight_ih, weight_hh, bias_ih).""",
    "lstm_cell_backward": """\
p = cache.params ("weight_ih", "weight_hh", and "bias": True when the cell has biases);
dgx, dgh, dh_prev, dc_prev = lstm_step_backward(dh_t, dc_t, cache.step, W_hh);
weight_ih: dgx^T x (x = cache.x);  weight_hh: dgh^T h_{t-1} (cache.step.h_prev);
bias_ih, bias_hh (with biases only): dgx, dgh summed over the batch;  x: dgx W_ih.
Return the dict of those keys, h_prev and c_prev.""",
    "gru_step_forward": """\
r_t, z_t = σ of blocks 0:H and H:2H of gx_t + h_{t-1} W_hh^T + b_hh;
n_t and h_t as the form says. torch: r_t multiplies gh_n = h_{t-1} W_hn^T + b_hn;
slide: W_hn multiplies rh_prev = r_t ⊙ h_{t-1}.
Return h_t and GRUCache(h_prev, r_t, z_t, n_t, gh_n, rh_prev, form), with None for
the one of gh_n, rh_prev that the form does not use.""",
    "gru_step_backward": """\
dn_t and dz_t from dh_t (the form's h_t equation);  da_n = dn_t ⊙ (1 − n_t²);
dr_t from what r_t multiplied;  da_r, da_z through σ'.
dgx_t = [da_r, da_z, da_n];  dgh_t = the gradient at the hidden projection's output
(torch form: its n block is not da_n);  dh_{t-1} = the sum of every path to h_{t-1}.
Return (dgx_t, dgh_t, dh_prev).""",
    "gru_cell_forward": """\
gx_t = x W_ih^T + b_ih (no b_ih when it is None), then one gru_step_forward with the
hidden side (weight_hh, bias_hh) and the form. Return h_t and
_cell_cache(x, step_cache, weight_ih, weight_hh, bias_ih).""",
    "gru_cell_backward": """\
p = cache.params ("weight_ih", "weight_hh", and "bias": True when the cell has biases);
dgx, dgh, dh_prev = gru_step_backward(dh_t, cache.step, W_hh);  weight_ih: dgx^T x;
weight_hh: gru_weight_hh_grad(dgh, *gru_hidden_inputs(cache.step)) (in the slide form
W_hn multiplied r_t ⊙ h_{t-1});  bias_ih, bias_hh (with biases only): dgx, dgh summed
over the batch;  x: dgx W_ih.  Return the dict of those keys and h_prev.""",
    "elman_sequence_backward": """\
dGX, dGH = zeros like d_out;  dh = dh_n (the carry into the last step);
for t = T−1 down to 0:  dh_t = dh + d_out[t];  with a mask, a padded step (mask[t]
False) gets dh_t = 0 and keeps its carry aside (np.where(mask[t], 0, dh));
dGX[t], dGH[t], dh = elman_step_backward(dh_t, steps[t], W_hh);  add the kept carry back.
Return (dGX, dGH, dh): dh is then dh0.""",
    "lstm_sequence_backward": """\
As elman_sequence_backward, with a second carry: dc = dc_n, and at each step
dC_t = dc (no output adds to the cell state);  a padded step passes dh and dc through;
dGX[t], dGH[t], dh, dc = lstm_step_backward(dh_t, dC_t, steps[t], W_hh).
Return (dGX, dGH, dh, dc).""",
}

#: each set's slide equations, for its module docstring
EQUATIONS: dict[str, str] = {
    "ex1_elman": """\
    h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)          (or ReLU)

A step takes the input projection gx_t = x_t W_ih^T + b_ih (the sequence modules compute
it for all steps at once) and adds the hidden projection gh_t = h_{t-1} W_hh^T + b_hh.
Its backward returns (dgx_t, dgh_t, dh_prev): the gradients at gx_t, at gh_t and at
h_{t-1}. A cell (torch.nn.RNNCell as a function) is the input projection, one step, and
for its backward the parameter gradients around the step.""",
    "ex2_gating": """\
    F_t = tanh(W_F·[h_{t-1}, x_t] + b_F)       candidate update
    λ_t = σ(W_λ·[h_{t-1}, x_t] + b_λ)          input gate
    μ_t = σ(W_μ·[h_{t-1}, x_t] + b_μ)          hidden-state gate

    gating="none"    h_t = h_{t-1} + F_t                   (G = 1 block)
    gating="input"   h_t = h_{t-1} + λ_t ⊙ F_t             (G = 2 blocks)
    gating="hidden"  h_t = μ_t ⊙ h_{t-1} + λ_t ⊙ F_t       (G = 3 blocks)

W·[h, x] + b is stored as torch stores a cell: x W_ih^T + b_ih + h W_hh^T + b_hh, the G
blocks stacked row-wise in the order F, λ, μ. The last case is an LSTM without its output
gate and separate cell state: μ plays f_t, λ plays i_t, F plays C̃_t.""",
    "ex3_lstm": """\
    i_t = σ(W_i·[h_{t-1}, x_t] + b_i)            input gate     rows 0:H
    f_t = σ(W_f·[h_{t-1}, x_t] + b_f)            forget gate    rows H:2H
    C̃_t = g_t = tanh(W_C·[h_{t-1}, x_t] + b_C)   candidate      rows 2H:3H
    o_t = σ(W_o·[h_{t-1}, x_t] + b_o)            output gate    rows 3H:4H
    C_t = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t               cell state
    h_t = o_t ⊙ tanh(C_t)

Weights in torch's layout and gate order i, f, g, o: W_ih (4H, I), W_hh (4H, H).
The backward's heart is the cell-state carry dC_{t-1} = dC_t ⊙ f_t.""",
    "ex4_gru": """\
    r_t = σ(W_r·[h_{t-1}, x_t] + b_r)          reset gate      rows 0:H
    z_t = σ(W_z·[h_{t-1}, x_t] + b_z)          update gate     rows H:2H

    torch (torch.nn.GRUCell), rows 2H:3H:
        n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t-1} + b_hn))
        h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}
    slide (Cho et al. 2014):
        h̃_t = tanh(W_in x_t + b_in + W_hn (r_t ⊙ h_{t-1}) + b_hn)
        h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t

The two differ in where the reset gate acts (after or before the hidden projection) and
in what z_t weighs. Both are graded: write the form argument's two branches.""",
    "ex5_sequence_bptt": """\
    forward, t = 0 … T−1:   h_t, cache_t = step_forward(gx_t, h_{t-1})     (given)
    backward, t = T−1 … 0:  dh_t = dh_{t+1 → t} + dout_t
                            dgx_t, dgh_t, dh_{t → t-1} = step_backward(dh_t, cache_t)
    LSTM, the second carry: dC_t = dC_{t+1 → t}  (no output reads C_t directly)
    padded steps (mask[t] False where t ≥ lengths[b]): the carry passes through,
                            dh_t = 0, so dgx_t = dgh_t = 0

The carry starts at the final state's gradient (dh_n, dC_n) and ends as dh0 (dC0). The
forward and the step backwards are given (the reference's), so this file grades the loop
alone; the weight gradients are then one product each over all steps
(dW_ih = Σ_t dgx_tᵀ x_t, dW_hh = Σ_t dgh_tᵀ h_{t-1}), done by the grader.""",
}

#: hard mode (``exercises init --hard``): each backward's docstring without the derivation,
#: only its shapes and the forward's slide equations (a forward's docstring is already that)
HARD_DOCS: dict[str, str] = {
    "elman_step_backward": """\
Backward of elman_step_forward: h_t = tanh(gx_t + h_{t-1} W_hh^T + b_hh)   (or ReLU).

dh_t (B, H);  cache: ElmanCache(h_prev, h_t, nonlinearity);  W_hh (H, H).
Returns (dgx_t, dgh_t, dh_prev), each (B, H).""",
    "elman_cell_backward": """\
Backward of elman_cell_forward: h_t = tanh(x W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh).

dh_t (B, H);  cache: CellCache(x, step, params).
Returns {"x", "h_prev", "weight_ih", "weight_hh"[, "bias_ih", "bias_hh"]}: each the
shape of what it is the gradient of.""",
    "gated_step_backward": """\
Backward of gated_step_forward (the gating's h_t equation in this file's docstring).

dh_t (B, H);  cache: GatedCache;  W_hh (G·H, H).
Returns (dgx_t, dgh_t, dh_prev): (B, G·H), (B, G·H), (B, H).""",
    "lstm_step_backward": """\
Backward of lstm_step_forward: C_t = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t, h_t = o_t ⊙ tanh(C_t)
(× W_hr^T with a projection).

dh_t (B, P);  dc_t (B, H);  cache: LSTMCache;  W_hh (4H, P);  W_hr (P, H) or None.
Returns (dgx_t, dgh_t, dh_prev, dc_prev): (B, 4H) in the order i, f, g, o, (B, 4H),
(B, P), (B, H).""",
    "lstm_cell_backward": """\
Backward of lstm_cell_forward (torch.nn.LSTMCell).

dh_t, dc_t (B, H);  cache: CellCache(x, step, params).
Returns {"x", "h_prev", "c_prev", "weight_ih", "weight_hh"[, "bias_ih", "bias_hh"]}.""",
    "gru_step_backward": """\
Backward of gru_step_forward, in the form the cache names (torch's or the slide's).

dh_t (B, H);  cache: GRUCache;  W_hh (3H, H).
Returns (dgx_t, dgh_t, dh_prev): (B, 3H) in the order r, z, n, (B, 3H), (B, H);
dgh_t is the gradient at h_{t-1} W_hh^T + b_hh.""",
    "gru_cell_backward": """\
Backward of gru_cell_forward (torch.nn.GRUCell, or the slide's GRU).

dh_t (B, H);  cache: CellCache(x, step, params).
Returns {"x", "h_prev", "weight_ih", "weight_hh"[, "bias_ih", "bias_hh"]}.""",
    "elman_sequence_backward": """\
BPTT of elman_sequence_forward over t = T−1 … 0 (this file's docstring).

d_out (T, B, H);  dh_n (B, H);  steps: T ElmanCaches;  W_hh (H, H);
mask (T, B, 1) bool or None.
Returns (dGX, dGH, dh0): (T, B, H), (T, B, H), (B, H).""",
    "lstm_sequence_backward": """\
BPTT of lstm_sequence_forward over t = T−1 … 0 (this file's docstring).

d_out (T, B, H);  dh_n, dc_n (B, H);  steps: T LSTMCaches;  W_hh (4H, H);
mask (T, B, 1) bool or None.
Returns (dGX, dGH, dh0, dc0): (T, B, 4H), (T, B, 4H), (B, H), (B, H).""",
}
