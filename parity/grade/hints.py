"""Hints: the slide equation to check, for a wrong quantity in a wrong gate block.

:data:`HINTS` is keyed ``(family, quantity, block)``:

* family: ``elman`` (tanh and ReLU), ``lstm``, ``gru`` (torch's form), ``gru-slide`` (the
  slide's Cho form), ``gated`` (the gating progression), or ``*`` for any cell;
* quantity: ``forward`` (a step's outputs), ``cell_forward`` (a cell's outputs while its
  step is right: the input projection), ``da`` (a step backward's pre-activation
  gradients dgx_t / dgh_t), ``dh_prev``, ``dc_prev``, and for a cell backward ``d_x``,
  ``d_weight_ih``, ``d_weight_hh``, ``d_bias``, ``d_h_prev``; ``dtype`` for a result
  whose dtype is not the input's;
* block: a gate letter (``i f g o``, ``r z n``, ``F λ μ``), a string of letters for a
  pattern of blocks wrong together (``ifg``: the three that read dC_t), or None.

:func:`hint_for` looks a key up from the most specific to the least.
"""

from __future__ import annotations

# A table of prose, one hint a key: its rows are alike in shape, with nothing to share.
HINTS: dict[tuple[str, str, str | None], str] = {
    # ---------------------------------------------------------------- forward
    ("elman", "forward", None):
        "h_t = tanh(gx_t + h_{t−1} W_hhᵀ + b_hh) (ReLU: max(0, ·)); gx_t = x_t W_ihᵀ + b_ih "
        "is given, b_hh may be None",
    ("lstm", "forward", "i"):
        "i_t = σ(a_t[:, 0:H]): torch stacks the blocks i, f, g, o — the input gate is the "
        "first; C_t = f_t ⊙ C_{t−1} + i_t ⊙ C̃_t",
    ("lstm", "forward", "f"):
        "f_t = σ(a_t[:, H:2H]) (the second block); C_t = f_t ⊙ C_{t−1} + i_t ⊙ C̃_t: the "
        "forget gate multiplies the old cell state",
    ("lstm", "forward", "if"):
        "torch stacks i, f, g, o: i_t = σ(a_t[:, 0:H]), f_t = σ(a_t[:, H:2H]) — input gate "
        "first, forget gate second; C_t = f_t ⊙ C_{t−1} + i_t ⊙ C̃_t",
    ("lstm", "forward", "g"):
        "the term i_t ⊙ C̃_t: C̃_t = g_t = tanh(a_t[:, 2H:3H]) — tanh, not σ — times the input "
        "gate i_t = σ(a_t[:, 0:H]), the first block (holding g at 0 hides an error in either); "
        "C_t = f_t ⊙ C_{t−1} + i_t ⊙ C̃_t",
    ("lstm", "forward", "o"):
        "o_t = σ(a_t[:, 3H:4H]); h_t = o_t ⊙ tanh(C_t), the tanh of the new cell state",
    ("lstm", "forward", None):
        "a_t = gx_t + h_{t−1} W_hhᵀ + b_hh; i, f, g, o = the four H-column blocks of a_t; "
        "C_t = f_t ⊙ C_{t−1} + i_t ⊙ g_t; h_t = o_t ⊙ tanh(C_t)",
    ("gru", "forward", "r"):
        "torch's form: r_t resets after the projection: n_t = tanh(gx_n + r_t ⊙ "
        "(h_{t−1} W_hnᵀ + b_hn)); r_t = σ(gx_r + h_{t−1} W_hrᵀ + b_hr)",
    ("gru", "forward", "z"):
        "torch's form: h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1} — z_t keeps the OLD state "
        "(the slide's form is the other way round)",
    ("gru", "forward", "n"):
        "torch's form: n_t = tanh(gx_n + r_t ⊙ (h_{t−1} W_hnᵀ + b_hn)) — r_t multiplies "
        "the hidden projection (b_hn included), AFTER W_hn; the slide resets before",
    ("gru", "forward", None):
        "torch's form: r_t, z_t = σ(gx + h_{t−1} W_hhᵀ + b_hh) (blocks r, z); n_t = "
        "tanh(gx_n + r_t ⊙ (h_{t−1} W_hnᵀ + b_hn)); h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}",
    ("gru-slide", "forward", "r"):
        "the slide's form: h̃_t = tanh(gx_n + (r_t ⊙ h_{t−1}) W_hnᵀ + b_hn) — the reset gate "
        "applies to h_{t−1} BEFORE W_hn (torch's form resets after)",
    ("gru-slide", "forward", "z"):
        "the slide's form: h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ h̃_t — z_t weighs the NEW "
        "candidate (torch's form is the other way round)",
    ("gru-slide", "forward", "n"):
        "the slide's form: h̃_t = tanh(gx_n + (r_t ⊙ h_{t−1}) W_hnᵀ + b_hn) — reset h_{t−1} "
        "BEFORE W_hn, then add b_hn (torch's form resets after)",
    ("gru-slide", "forward", None):
        "the slide's form: h̃_t = tanh(gx_n + (r_t ⊙ h_{t−1}) W_hnᵀ + b_hn); "
        "h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ h̃_t",
    ("gated", "forward", "F"):
        "F_t = tanh(a_t[:, 0:H]); none: h_t = h_{t−1} + F_t; input: h_{t−1} + λ_t ⊙ F_t; "
        "hidden: μ_t ⊙ h_{t−1} + λ_t ⊙ F_t",
    ("gated", "forward", "λ"):
        "λ_t = σ(a_t[:, H:2H]) gates the candidate: h_t = … + λ_t ⊙ F_t",
    ("gated", "forward", "μ"):
        "μ_t = σ(a_t[:, 2H:3H]) gates the old state: h_t = μ_t ⊙ h_{t−1} + λ_t ⊙ F_t",
    ("gated", "forward", None):
        "a_t = gx_t + h_{t−1} W_hhᵀ + b_hh, blocks F, λ, μ; none: h_t = h_{t−1} + F_t; "
        "input: h_{t−1} + λ_t ⊙ F_t; hidden: μ_t ⊙ h_{t−1} + λ_t ⊙ F_t",
    ("*", "cell_forward", None):
        "your step is right, so look at the cell around it: gx_t = x W_ihᵀ + b_ih (b_ih may "
        "be None), then the step with W_hh, b_hh and the cell's variant argument",
    # ---------------------------------------------------------------- step backward
    ("elman", "da", None):
        "da_t = dh_t ⊙ (1 − h_t²): tanh′ from the step's own output h_t (cache.h_t), not "
        "from h_{t−1} nor the pre-activation; ReLU: dh_t ⊙ [h_t > 0]; dgx_t = dgh_t = da_t",
    ("elman", "dh_prev", None):
        "dh_{t−1} = da_t W_hh: the pre-activation gradient times W_hh (H, H), not da_t itself",
    ("lstm", "da", "i"):
        "di_t = dC_t ⊙ g_t; da_i = di_t ⊙ i_t(1 − i_t) — σ′ from the gate's output i_t, "
        "not its pre-activation",
    ("lstm", "da", "f"):
        "df_t = dC_t ⊙ C_{t−1}; σ′(a) = f_t(1 − f_t) uses the gate's output, not its "
        "pre-activation",
    ("lstm", "da", "g"):
        "dg_t = dC_t ⊙ i_t; da_g = dg_t ⊙ (1 − g_t²) (tanh′ from C̃_t = g_t itself)",
    ("lstm", "da", "o"):
        "do_t = dh_t ⊙ tanh(C_t); da_o = do_t ⊙ o_t(1 − o_t) — σ′ from the gate's output",
    ("lstm", "da", "ifg"):
        "i, f and g all read dC_t = dc_t + dh_t ⊙ o_t ⊙ (1 − tanh²(C_t)): keep both terms "
        "(dc_t is the carry from step t+1) and take tanh² of tanh(C_t) (cache.tanh_c_t), "
        "not of C_t",
    ("lstm", "dc_prev", None):
        "dC_{t−1} = dC_t ⊙ f_t with dC_t = dc_t + dh_t ⊙ o_t ⊙ (1 − tanh²(C_t)): the cell "
        "state's carry",
    ("lstm", "dh_prev", None):
        "dh_{t−1} = da_t W_hh: the (B, 4H) pre-activation gradient of all four gates times "
        "W_hh (4H, H)",
    ("gru", "da", "r"):
        "torch's form: dr_t = da_n ⊙ (h_{t−1} W_hnᵀ + b_hn) (cache.gh_n); da_r = dr_t ⊙ "
        "r_t(1 − r_t) — σ′ from the gate's output",
    ("gru", "da", "z"):
        "torch's form: dz_t = dh_t ⊙ (h_{t−1} − n_t); da_z = dz_t ⊙ z_t(1 − z_t)",
    ("gru", "da", "n"):
        "torch's form: da_n = dh_t ⊙ (1 − z_t) ⊙ (1 − n_t²); dgx_n = da_n but dgh_n = "
        "da_n ⊙ r_t (r_t multiplies the hidden projection)",
    ("gru", "dh_prev", None):
        "torch's form: dh_{t−1} = dh_t ⊙ z_t + dgh_t W_hh (all three blocks of dgh_t)",
    ("gru-slide", "da", "r"):
        "the slide's form: d(r⊙h) = da_n W_hn; dr_t = d(r⊙h) ⊙ h_{t−1}; da_r = dr_t ⊙ "
        "r_t(1 − r_t)",
    ("gru-slide", "da", "z"):
        "the slide's form: dz_t = dh_t ⊙ (h̃_t − h_{t−1}); da_z = dz_t ⊙ z_t(1 − z_t)",
    ("gru-slide", "da", "n"):
        "the slide's form: da_n = dh_t ⊙ z_t ⊙ (1 − h̃_t²); dgx_n = dgh_n = da_n",
    ("gru-slide", "dh_prev", None):
        "the slide's form: dh_{t−1} = dh_t ⊙ (1 − z_t) + d(r⊙h) ⊙ r_t + dgh_{r,z} W_h{r,z} "
        "(d(r⊙h) = da_n W_hn)",
    ("gated", "da", "F"):
        "da_F = dF_t ⊙ (1 − F_t²) with dF_t = dh_t (none) or dh_t ⊙ λ_t (input, hidden)",
    ("gated", "da", "λ"):
        "dλ_t = dh_t ⊙ F_t; da_λ = dλ_t ⊙ λ_t(1 − λ_t) — σ′ from the gate's output",
    ("gated", "da", "μ"):
        "dμ_t = dh_t ⊙ h_{t−1}; da_μ = dμ_t ⊙ μ_t(1 − μ_t) — σ′ from the gate's output",
    ("gated", "dh_prev", None):
        "dh_{t−1} = dh_t (none, input) or dh_t ⊙ μ_t (hidden) — the direct path — plus "
        "da_t W_hh",
    # ---------------------------------------------------------------- cell backward
    ("*", "d_x", None):
        "d_x = dgx_t W_ih: the input projection's gradient (B, G·H) times W_ih (G·H, I)",
    ("*", "d_weight_ih", None):
        "dW_ih = dgx_tᵀ x: (G·H, B) · (B, I) — the product sums over the batch",
    ("*", "d_weight_hh", None):
        "dW_hh = dgh_tᵀ h_{t−1}: (G·H, B) · (B, H)",
    ("gru-slide", "d_weight_hh", "n"):
        "the slide's form: the n rows of dW_hh multiply what W_hn saw, r_t ⊙ h_{t−1} "
        "(gru_hidden_inputs, gru_weight_hh_grad)",
    ("*", "d_bias", None):
        "db_ih = Σ_batch dgx_t and db_hh = Σ_batch dgh_t: sum over axis 0 (the batch), "
        "shape (G·H,)",
    ("*", "d_h_prev", None):
        "d_h_prev is your step backward's dh_prev, unchanged",
    ("*", "d_c_prev", None):
        "d_c_prev is your step backward's dc_prev, unchanged",
    ("*", "dtype", None):
        "keep the input's dtype: float32 in, float32 out (np.zeros_like(h_prev), not "
        "np.zeros(shape), which is float64)",
}


def hint_for(fam: str, quantity: str, block: str | None = None) -> str | None:
    """The hint for ``quantity`` of family ``fam`` wrong in ``block`` (a letter or a
    pattern of letters), or None: ``(fam, q, block)``, ``(*, q, block)``, ``(fam, q,
    None)``, ``(*, q, None)``, the first the table has."""
    keys = [(fam, quantity, block), ("*", quantity, block)] if block else []
    keys += [(fam, quantity, None), ("*", quantity, None)]
    return next((HINTS[k] for k in keys if k in HINTS), None)


def hints_for_blocks(fam: str, quantity: str, letters: str) -> list[str]:
    """Hints for a quantity wrong in the gate blocks ``letters`` (stacking order): one for
    the whole pattern where the table has it (``ifg``), else one per block (deduplicated)."""
    if len(letters) > 1 and ((fam, quantity, letters) in HINTS):
        return [HINTS[fam, quantity, letters]]
    out: list[str] = []
    for block in letters or [None]:
        h = hint_for(fam, quantity, block)
        if h and h not in out:
            out.append(h)
    return out
