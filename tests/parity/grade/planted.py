"""The planted-mistake corpus: a one-place edit of a reference solution, the function it
breaks, and what the grader's first line must name (tests/parity/grade/test_mistakes.py;
``python scripts/planted_mistakes.py`` prints the docs' table from it)."""

from __future__ import annotations

import inspect

from scratchrnn.exercises.sequence import elman_sequence_backward

#: elman_sequence_backward's loop body, as the solutions have it (read from the reference)
_LOOP = inspect.getsource(elman_sequence_backward)
ELMAN_MASKED = _LOOP[_LOOP.index("        if mask is not None:\n"):_LOOP.index("    return")]

#: (what a student did, file, function, old text, new text, the words the first line names)
PLANTED = [
    ("σ′ sign flipped in the forget gate", "ex3_lstm.py", "lstm_step_backward",
     "            df_t * f_t * (1 - f_t),", "            -df_t * f_t * (1 - f_t),",
     "sign flipped in df_t"),
    ("g and o blocks written in the wrong order", "ex3_lstm.py", "lstm_step_backward",
     "            dg_t * (1 - g_t * g_t),\n            do_t * o_t * (1 - o_t),",
     "            do_t * o_t * (1 - o_t),\n            dg_t * (1 - g_t * g_t),",
     "blocks g and o swapped in dgx_t"),
    ("tanh′ taken as 2(1 − g²)", "ex3_lstm.py", "lstm_step_backward",
     "            dg_t * (1 - g_t * g_t),", "            2 * dg_t * (1 - g_t * g_t),",
     "a factor of 2 too large in block g of dgx_t"),
    ("a stray ½ on the input gate", "ex3_lstm.py", "lstm_step_backward",
     "            di_t * i_t * (1 - i_t),", "            0.5 * di_t * i_t * (1 - i_t),",
     "a factor of ½ (half the gradient) in block i of dgx_t"),
    ("the output gate's term left out", "ex3_lstm.py", "lstm_step_backward",
     "    do_t = dm_t * tanh_c_t\n", "    do_t = 0 * dm_t\n",
     "block o of dgx_t is zero: its term is missing"),
    ("dW_hh as h_prevᵀ dA instead of dAᵀ h_prev", "ex1_elman.py", "elman_cell_backward",
     '"weight_hh": dgh.T @ hh_in', '"weight_hh": hh_in.T @ dgh',
     "d_weight_hh is the reference's transpose"),
    # a forward: one gate's bias block not added (the outputs re-run without it)
    ("b_hn left out of the GRU candidate", "ex4_gru.py", "gru_step_forward",
     "    b_hn = None if b_hh is None else b_hh[2 * H :]\n", "    b_hn = None\n",
     "the bias b_hn of gate n is missing"),
    ("the forget gate's b_hf not added", "ex3_lstm.py", "lstm_step_forward",
     "    a_t = gx_t + hidden_projection(h_prev, W_hh, b_hh)\n",
     "    a_t = gx_t + hidden_projection(h_prev, W_hh, b_hh)\n"
     "    if b_hh is not None:\n        a_t[:, H:2 * H] -= b_hh[H:2 * H]  # b_hf not added\n",
     "the bias b_hf of gate f is missing"),
    # the loop over t (exercise set 5): one piece of BPTT left out
    ("dh_next not added: dh_t = dout_t", "ex5_sequence_bptt.py", "elman_sequence_backward",
     "        dh_t = dh + d_out[t]\n", "        dh_t = d_out[t]\n",
     "forgot the carry from t+1"),
    ("the step's dh_prev thrown away", "ex5_sequence_bptt.py", "elman_sequence_backward",
     "        dGX[t], dGH[t], dh = elman_step_backward(",
     "        dGX[t], dGH[t], _ = elman_step_backward(", "forgot the carry from t+1"),
    ("no mask: padded steps backpropagated", "ex5_sequence_bptt.py", "elman_sequence_backward",
     ELMAN_MASKED, "        dGX[t], dGH[t], dh = elman_step_backward(dh_t, steps[t], W_hh)\n",
     "padded step leaked gradient"),
    ("masked, but the carry not passed through", "ex5_sequence_bptt.py",
     "elman_sequence_backward", ELMAN_MASKED,
     ELMAN_MASKED.replace("            dh_carry = np.where(mask[t], 0, dh)  # what a padded "
                          "step passes through\n", "")
     .replace("        if mask is not None:\n            dh = dh + dh_carry\n", ""),
     "a padded step dropped the carry"),
    ("the LSTM's dc_prev thrown away", "ex5_sequence_bptt.py", "lstm_sequence_backward",
     "dGX[t], dGH[t], dh, dc = lstm_step_backward(", "dGX[t], dGH[t], dh, _ = lstm_step_backward(",
     "forgot the cell state's carry from t+1"),
    ("dout_t not added (LSTM)", "ex5_sequence_bptt.py", "lstm_sequence_backward",
     "dh_t, dc_t = dh + d_out[t], dc", "dh_t, dc_t = dh, dc",
     "the output's gradient at t is missing"),
]
