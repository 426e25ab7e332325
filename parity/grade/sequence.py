"""Grading the loop over t (exercise set 5): a sequence backward as the kit's sequence protocol.

The student's ``elman_sequence_backward(d_out, dh_n, steps, W_hh, mask)`` (and the LSTM's,
with ``dc_n``) runs on the caches of the *given* forward (the reference's, in their file),
and returns ``(dGX, dGH, dh0[, dc0])``; around it the grader puts the input projection
``GX = X W_ihᵀ + b_ih`` and the weight gradients, one product each over all T·B rows
(``dW_ih = Σ_t dgx_tᵀ x_t``, ``dW_hh = Σ_t dgh_tᵀ h_{t−1}``, the biases, ``d_x = dgx_t
W_ih``), and the kit compares everything with ``torch.nn.RNN`` / ``torch.nn.LSTM`` (packed
sequences when lengths vary).

**What the numbers say happened** (:func:`name_sequence_mistakes`): the reference loop is
run again on the failing case with one piece of it left out — the carry from t+1, the
mask, the carry a padded step passes through, the cell state's carry, the output's
gradient — and where the student's ``(dGX, dGH, dh0[, dc0])`` equals one of these
exactly (and the reference does not), the grader names it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from scratchrnn import cells as ref_cells
from scratchrnn.exercises import sequence as ref_sequence
from scratchrnn.recurrent.unroll import lengths_mask

from ..kit.cases import SeqSpec, make_seq_case
from .adapters import Recorder, _shaped, _student_cache, _tuple
from .mistakes import within

#: what a sequence backward returns, and the kit's quantities that judge each
SEQUENCE_SOURCES = {
    "dGX": ("d_weight_ih_l0", "d_bias_ih_l0", "d_input"),
    "dGH": ("d_weight_hh_l0", "d_bias_hh_l0"),
    "dh0": ("d_h0",),
    "dc0": ("d_c0",),
}
#: the slide equation to check, by the returned array that is wrong
SEQUENCE_HINTS = {
    "dGX": "t = T−1 … 0: dh_t = dh_{t+1 → t} + dout_t, then the step backward; a padded step "
           "(mask[t] False) gets dh_t = 0 and passes the carry through unchanged",
    "dh0": "dh0 is the carry after step 0: the step backward's dh_prev (through padded "
           "steps, the carry as it came)",
    "dc0": "dC_t = dC_{t+1 → t}: the cell state's carry is lstm_step_backward's dc_prev, "
           "starting at dc_n",
}


def fixed_sequence_specs(variant: str) -> list[SeqSpec]:
    """The fixed sequence cases, smallest first: T = 1, then T = 2, then padded batches
    (lengths < T for some row: the seed is the first that pads), one in float32 (none for
    elman-relu, whose kink a float32 pre-activation can straddle)."""
    sizes = [(1, 1, 1, 1, True, False, "float64"), (1, 2, 1, 1, False, False, "float64"),
             (2, 3, 2, 2, True, True, "float64"), (2, 3, 3, 4, True, True, "float32"),
             (3, 4, 2, 3, False, True, "float64"), (4, 5, 3, 5, True, True, "float64")]
    out = []
    for k, (B, T, I, H, bias, lengths, dtype) in enumerate(sizes):
        if variant == "elman-relu" and dtype == "float32":
            continue
        spec = SeqSpec(variant, batch=B, steps=T, input_size=I, hidden_size=H, bias=bias,
                       lengths=lengths, dtype=dtype, seed=k + 1)
        while lengths and make_seq_case(spec).lengths.min() == T:
            spec = replace(spec, seed=spec.seed + 100)
        out.append(spec)
    return out


#: the kit's sequence switches the hypothesis cases keep fixed (one layer, one direction)
HYPOTHESIS_SWITCHES = dict(num_layers=1, bidirectional=False, batch_first=False,
                           proj_size=False, h0=True, max_batch=4, max_steps=5, max_size=5)


def case_text(case: dict) -> str:
    bias = "bias" if case.get("bias") else "no bias"
    lengths = "lengths vary" if case.get("lengths") else "full lengths"
    return (f"B={case['batch']}, T={case['steps']}, I={case['input_size']}, "
            f"H={case['hidden_size']}, {lengths}, {bias}, {case['dtype']} (seed {case['seed']})")


@dataclass
class Seen:
    """The student's last return and the reference's arguments, for the diagnosis."""

    ours: tuple | None = None
    args: tuple | None = None


def sequence_adapter(fn, name: str, variant: str, rec: Recorder, module):
    """``fn`` a sequence backward → the kit's (forward, backward) around the given forward;
    the :class:`Seen` it fills."""
    lstm = variant == "lstm"
    nonlinearity = "relu" if variant == "elman-relu" else "tanh"
    names = ("dGX", "dGH", "dh0", "dc0") if lstm else ("dGX", "dGH", "dh0")
    seen = Seen()

    def forward(x, hx, params, lengths, spec):
        W_ih, W_hh = params["weight_ih_l0"], params["weight_hh_l0"]
        b_ih, b_hh = params.get("bias_ih_l0"), params.get("bias_hh_l0")
        T, B, _ = x.shape
        H = W_hh.shape[1]
        GX = x @ W_ih.T if b_ih is None else x @ W_ih.T + b_ih
        mask = None if lengths is None else lengths_mask(lengths, T)
        if lstm:
            h0, c0 = (hx[0][0], hx[1][0]) if hx is not None else (np.zeros((B, H), x.dtype),) * 2
            out, h_n, c_n, steps = ref_sequence.lstm_sequence_forward(GX, h0, c0, W_hh, b_hh,
                                                                       mask)
            return (out, (h_n[None], c_n[None])), (steps, x, params, mask)
        h0 = hx[0] if hx is not None else np.zeros((B, H), x.dtype)
        out, h_n, steps = ref_sequence.elman_sequence_forward(GX, h0, W_hh, b_hh, mask,
                                                               nonlinearity)
        return (out, h_n[None]), (steps, x, params, mask)

    def backward(d_output, packed, d_hx_n):
        steps, x, params, mask = packed
        W_ih, W_hh = params["weight_ih_l0"], params["weight_hh_l0"]
        T, B, _ = x.shape
        GH, H = W_hh.shape
        theirs = [_student_cache(module, s) for s in steps]
        m = None if mask is None else mask.copy()
        if lstm:
            args = (d_output, d_hx_n[0][0], d_hx_n[1][0])
        else:
            args = (d_output, d_hx_n[0])
        seen.args, seen.ours = (*args, steps, W_hh, mask), None
        out = _tuple(rec.call(fn, *[a.copy() for a in args], theirs, W_hh.copy(), m),
                     len(names), name, "(" + ", ".join(names) + ")", rec)
        g = "(T, B, 4H)" if lstm else "(T, B, H)"
        wanted = {"dGX": ((T, B, GH), g), "dGH": ((T, B, GH), g), "dh0": ((B, H), "(B, H)"),
                  "dc0": ((B, H), "(B, H)")}
        for n, v in zip(names, out, strict=True):
            _shaped(v, wanted[n][0], name, n, rec, wanted[n][1])
        seen.ours = out
        N = T * B
        dGX, dGH = out[0].reshape(N, GH), out[1].reshape(N, GH)
        H_prev = np.stack([s.h_prev for s in steps]).reshape(N, H)
        grads = {"weight_ih_l0": dGX.T @ x.reshape(N, -1), "weight_hh_l0": dGH.T @ H_prev}
        if "bias_ih_l0" in params:
            grads["bias_ih_l0"], grads["bias_hh_l0"] = dGX.sum(axis=0), dGH.sum(axis=0)
        d_hx0 = (out[2][None], out[3][None]) if lstm else out[2][None]
        return (dGX @ W_ih).reshape(x.shape), d_hx0, grads

    return forward, backward, seen


# ---------------------------------------------------------------------------
# What the numbers say happened
# ---------------------------------------------------------------------------
#: each piece of the loop that can be left out, and what the grader says then
LEFT_OUT = {
    "carry": "forgot the carry from t+1 (dh_next not added: each step gets only its "
             "output's gradient)",
    "stale carry": "forgot the carry from t+1 (dh_next never updated: every step gets "
                   "dh_n, not what step t+1 passed back)",
    "mask": "padded step leaked gradient (the mask is not applied: a step t ≥ lengths[b] "
            "took its output's gradient)",
    "padded carry": "a padded step dropped the carry (it must pass dh through unchanged: "
                    "dh_n never reached the last real step)",
    "dc carry": "forgot the cell state's carry from t+1 (dc_next never updated: every step "
                "gets dc_n, not what step t+1 passed back)",
    "output": "the output's gradient at t is missing (dout_t not added to the carry)",
}


def reference_loop(step_backward, d_out, dh_n, dc_n, steps, W_hh, mask, left_out=None):
    """The reference loop over t = T−1 … 0, with the piece ``left_out`` (a key of
    :data:`LEFT_OUT`, or None) left out: (dGX, dGH, dh0[, dc0])."""
    T = d_out.shape[0]
    dGX = np.zeros((T, d_out.shape[1], W_hh.shape[0]), dtype=d_out.dtype)
    dGH = np.zeros_like(dGX)
    dh, dc = dh_n, dc_n
    use_mask = mask is not None and left_out != "mask"
    for t in reversed(range(T)):
        dh_t = (0 * dh if left_out == "carry" else dh) + (0 if left_out == "output" else d_out[t])
        dc_t = dc
        if use_mask:
            keep = 0 if left_out == "padded carry" else 1
            dh_carry = keep * np.where(mask[t], 0, dh)
            dh_t = np.where(mask[t], dh_t, 0)
            if dc is not None:
                dc_carry, dc_t = keep * np.where(mask[t], 0, dc), np.where(mask[t], dc_t, 0)
        if dc is None:
            dGX[t], dGH[t], dh_prev = step_backward(dh_t, steps[t], W_hh)
        else:
            dGX[t], dGH[t], dh_prev, dc_prev = step_backward(dh_t, dc_t, steps[t], W_hh)
            dc = dc if left_out == "dc carry" else dc_prev  # that one never updates dc
        dh = dh if left_out == "stale carry" else dh_prev
        if use_mask:
            dh = dh + dh_carry
            if dc is not None:
                dc = dc + dc_carry
    return (dGX, dGH, dh) if dc is None else (dGX, dGH, dh, dc)


def _close(ours, ref, tol: float) -> bool:
    """Every array of ``ours`` :func:`~.mistakes.within` ``tol`` of its twin in ``ref``."""
    return all(within(np.asarray(a, np.float64), b, tol) for a, b in zip(ours, ref, strict=True))


def name_sequence_mistakes(variant: str, seen: Seen, tol: float) -> list[str]:
    """What the student's return on the failing case is: the reference loop with which
    piece left out (none claimed where leaving it out changes nothing on this case)."""
    if seen.ours is None or seen.args is None:
        return []
    lstm = variant == "lstm"
    step = ref_cells.lstm_step_backward if lstm else ref_cells.elman_step_backward
    if lstm:
        d_out, dh_n, dc_n, steps, W_hh, mask = seen.args
    else:
        (d_out, dh_n, steps, W_hh, mask), dc_n = seen.args, None
    ref = reference_loop(step, d_out, dh_n, dc_n, steps, W_hh, mask)
    found: list[str] = []
    for piece, words in LEFT_OUT.items():
        if piece == "dc carry" and not lstm:
            continue
        if piece in ("mask", "padded carry") and mask is None:
            continue
        other = reference_loop(step, d_out, dh_n, dc_n, steps, W_hh, mask, piece)
        if not _close(other, ref, tol) and _close(seen.ours, other, tol) and words not in found:
            found.append(words)
    return found
