"""Name a backward's mistake from the numbers, gate block by gate block (issue 24, item 2).

A fixed hint per block says where to look; the numbers often say what happened. For each
wrong gradient stacked by gate (``d_weight_ih``, ``d_bias_ih``, ``d_weight_hh``: rows in
blocks i, f, g, o / r, z, n / F, λ, μ; a step backward's dgx_t and dgh_t are judged through
them), the student's block k is compared with the reference's blocks:

    ours_k = −ref_k                  "sign flipped in df_t (block f of dgx_t)"
    ours_a = ref_b, ours_b = ref_a   "blocks g and o swapped"
    ours_k = 2·ref_k or ½·ref_k      "a factor of 2 too large in block f"
    ours_k = 0 where ref_k is not    "block f is zero: its term is missing"
    ours = refᵀ (a square gradient)  "transposed: d_weight_hh is the reference's transpose"

A forward's wrong output is put to the reference again with one gate's bias block left out
(b_ih or b_hh, block k, zero): when that reproduces the student's outputs, "the bias b_hn
of gate n is missing" (:func:`missing_bias`).

Each test is exact up to the tolerance of the policy (relative to max(1, |ref|)), on the
case where the kit found the failure; a pattern that could hold by accident (a zero
reference block, a 1 × 1 block for a swap of equal values) is not claimed.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..kit.cases import CellSpec, make_cell_case
from ..kit.cells import cell_kind
from ..kit.references import cell_reference

#: a gradient of the kit stacked in gate blocks along axis 0, and the exercise's name for
#: the array whose blocks it shows (a step backward returns dgx_t / dgh_t)
STACKED = {"d_weight_ih": "dgx_t", "d_bias_ih": "dgx_t", "d_weight_hh": "dgh_t",
           "d_bias_hh": "dgh_t"}


def within(a: np.ndarray, b: np.ndarray, tol: float) -> bool:
    """Same shape and |a − b| ≤ tol · max(1, |b|) everywhere: the policy's test, exact."""
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= tol * np.maximum(1, np.abs(b))))


def _significant(a: np.ndarray, tol: float) -> bool:
    return bool(np.max(np.abs(a), initial=0.0) > 100 * tol)


def _array_name(kit_name: str, step: bool) -> str:
    return STACKED[kit_name] if step else kit_name


def block_mistakes(ours: np.ndarray, ref: np.ndarray, letters: str, H: int, tol: float,
                   array: str) -> list[str]:
    """What each wrong block of ``ours`` (G·H rows first) is, in words (see module doc)."""
    G = len(letters)
    if ours.shape != ref.shape or ours.shape[0] != G * H:
        return []
    o = [ours[k * H:(k + 1) * H] for k in range(G)]
    r = [ref[k * H:(k + 1) * H] for k in range(G)]
    wrong = [k for k in range(G) if not within(o[k], r[k], tol)]
    found: list[str] = []
    swapped = set()
    for a in wrong:
        for b in wrong:
            if a < b and within(o[a], r[b], tol) and within(o[b], r[a], tol) and \
                    not within(r[a], r[b], tol):
                found.append(f"blocks {letters[a]} and {letters[b]} swapped in {array}")
                swapped |= {a, b}
    for k in wrong:
        if k in swapped or not _significant(r[k], tol):
            continue
        gate = letters[k]
        if within(o[k], -r[k], tol):
            found.append(f"sign flipped in d{gate}_t (block {gate} of {array} is minus the "
                         "reference's)")
        elif within(o[k], 2 * r[k], tol):
            found.append(f"a factor of 2 too large in block {gate} of {array}")
        elif within(o[k], 0.5 * r[k], tol):
            found.append(f"a factor of ½ (half the gradient) in block {gate} of {array}")
        elif not _significant(o[k], tol):
            found.append(f"block {gate} of {array} is zero: its term is missing")
    return found


def missing_bias(variant: str, d, tol: float) -> list[str]:
    """The bias block whose absence reproduces the student's forward outputs on the failing
    case ``d`` (the torch reference re-run with that block zero), in words; [] when none
    does or the case has no bias."""
    ours = (getattr(d, "arrays", None) or {}).get("ours") or {}
    c = d.case
    outputs = [k for k in ("h_next", "c_next") if k in ours]
    if not outputs or not c.get("bias"):
        return []
    case = make_cell_case(CellSpec(variant, c["B"], c["I"], c["H"], True, c["dtype"], c["seed"]))
    kind, H = cell_kind(variant), c["H"]
    found = []
    for side, name in (("h", "bias_hh"), ("i", "bias_ih")):
        for k, gate in enumerate(kind.letters):
            b = case.params[name].copy()
            b[k * H:(k + 1) * H] = 0
            ref = cell_reference(replace(case, params={**case.params, name: b}))
            if all(within(np.asarray(ours[o], dtype=np.float64),
                          np.asarray(ref[o], dtype=np.float64), tol) for o in outputs):
                rows = ":".join(f"{n}H" if n > 1 else ("H" if n else "0") for n in (k, k + 1))
                found.append(f"the bias b_{side}{gate} of gate {gate} is missing ({name}"
                             f"[{rows}] not added)")
    return found


def name_mistakes(exercise, variant: str, d) -> list[str]:
    """The mistakes the numbers of the failing case ``d`` show, most telling first."""
    arrays = getattr(d, "arrays", None) or {}
    ours, ref = arrays.get("ours") or {}, arrays.get("ref") or {}
    kind = cell_kind(variant)
    letters, H = kind.letters, int(d.case.get("H", 0) or 0)
    tol = max(q.tolerance for q in d.quantities) if d.quantities else 1e-9
    step = exercise.level == "step"
    out: list[str] = []
    failed = {q.name for q in d.quantities if not q.passed}
    if exercise.kind == "forward" and failed & {"h_next", "c_next"} and H:
        out += missing_bias(variant, d, tol)
    for name in ("d_bias_ih", "d_weight_ih", "d_bias_hh", "d_weight_hh"):
        if name not in failed or name not in ours or name not in ref or H == 0:
            continue
        a, b = np.asarray(ours[name], dtype=np.float64), np.asarray(ref[name], dtype=np.float64)
        if len(letters) > 1 or name.startswith("d_bias"):
            array = _array_name(name, step)
            for m in block_mistakes(a, b, letters, H, tol, array):
                # LSTM/Elman steps return one array as dgx_t and dgh_t: say it once
                if m not in out and m.replace(array, "dgx_t") not in out:
                    out.append(m)
    for name in sorted(failed):
        a, b = ours.get(name), ref.get(name)
        if a is None or b is None:
            continue
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        if a.ndim == 2 and a.shape[0] == a.shape[1] > 1 and within(a, b.T, tol) and \
                not within(b, b.T, tol):
            out.append(f"{name} is the reference's transpose: a weight used transposed")
    return out
