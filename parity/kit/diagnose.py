"""Compare a user's outputs and gradients with a reference and say *what* is wrong.

The tolerance policy (one place): every output and every gradient must lie within
``tol`` of the reference, measured as ``|ours − ref| / max(1, |ref|)``, with

    float64: 1e-9        float32: 1e-4

(override with ``tol=``). A reference computed by finite differences (the gating
cells) is only good to about 1e-7, so its gradients get ``max(tol, FD_TOLERANCE)``.
An array whose dtype is not the input's (float64 gradients out of float32 inputs), whose
shape differs, that is missing, or that is not finite where the reference is, fails
whatever its values.

:func:`diagnose` returns a :class:`Diagnosis`: one :class:`QuantityResult` per output
and gradient (max relative difference, worst index, the gate blocks that are wrong for
a stacked tensor, passed), usable by a program (``to_dict()``) or a person
(``message()``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np

from .cells import cell_kind

TOLERANCE: dict[str, float] = {"float64": 1e-9, "float32": 1e-4}
FD_TOLERANCE = 1e-6
STACKED = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def tolerance_for(dtype: object, tol: float | None = None) -> float:
    """The policy's tolerance for ``dtype`` (float32 / float64), or ``tol`` if given."""
    if tol is not None:
        return float(tol)
    name = np.dtype(dtype).name
    if name not in TOLERANCE:
        raise ValueError(f"parity is defined for float32 and float64, got {name}")
    return TOLERANCE[name]


def relative_difference(ours: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Elementwise ``|ours − ref| / max(1, |ref|)`` in float64 (NaN where ours is NaN)."""
    a = np.asarray(ours, dtype=np.float64)
    b = np.asarray(ref, dtype=np.float64)
    return np.abs(a - b) / np.maximum(1.0, np.abs(b))


@dataclass(frozen=True)
class QuantityResult:
    """The verdict on one output or gradient.

    ``name`` is the torch-side name (``h_next``, ``d_weight_hh`` …); ``user_name`` what
    the user's layout calls it; ``gate_blocks`` the failing blocks of a stacked tensor
    (e.g. ``("f (forget gate, rows H:2H)",)``), ``gate_diffs`` the max relative difference
    per block letter; ``worst_index`` the index of the largest difference; ``problem`` a
    reason that fails the quantity whatever its values (missing, shape, dtype, not finite).
    """

    name: str
    kind: str  # "output" | "gradient"
    max_rel_diff: float
    tolerance: float
    passed: bool
    shape: tuple[int, ...]
    worst_index: tuple[int, ...] | None = None
    gate_blocks: tuple[str, ...] = ()
    gate_diffs: dict[str, float] = field(default_factory=dict)
    problem: str | None = None
    user_name: str | None = None

    def line(self) -> str:
        status = "ok  " if self.passed else "FAIL"
        label = self.name if not self.user_name or self.user_name == self.name else \
            f"{self.name} [{self.user_name}]"
        diff = "      -" if np.isnan(self.max_rel_diff) else f"{self.max_rel_diff:9.2e}"
        out = f"  {status} {label:<34} {diff}  (tol {self.tolerance:g})"
        if not self.passed:
            where = []
            if self.problem:
                where.append(self.problem)
            if self.gate_blocks:
                where.append("gate block " + ", ".join(self.gate_blocks))
            if self.worst_index is not None:
                where.append(f"worst at {list(self.worst_index)}")
            out += "  " + "; ".join(where)
        return out


@dataclass
class Diagnosis:
    """The verdict on one case: every quantity, the case and how to rebuild it."""

    cell: str
    case: dict  # sizes, bias, dtype, seed … (JSON-ready)
    quantities: list[QuantityResult]
    reference: str = ""
    layout: str = ""
    error: str | None = None  # an exception raised by the user's code
    rebuild: str = ""  # Python lines that rebuild the case
    notes: list[str] = field(default_factory=list)
    #: the compared arrays, {"ours": {...}, "ref": {...}} (not in to_dict): what the grader
    #: reads to name a mistake from the numbers (parity.grade.mistakes)
    arrays: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def passed(self) -> bool:
        return self.error is None and all(q.passed for q in self.quantities)

    @property
    def failed(self) -> list[QuantityResult]:
        return [q for q in self.quantities if not q.passed]

    def to_dict(self) -> dict:
        d = asdict(replace(self, arrays={}))
        d.pop("arrays")
        d["passed"] = self.passed
        for q in d["quantities"]:
            q["max_rel_diff"] = None if np.isnan(q["max_rel_diff"]) else q["max_rel_diff"]
            q["worst_index"] = None if q["worst_index"] is None else list(q["worst_index"])
            q["shape"] = list(q["shape"])
        return d

    def message(self) -> str:
        c = self.case
        sizes = ", ".join(f"{k}={v}" for k, v in c.items())
        head = f"{self.cell} parity {'passed' if self.passed else 'FAILED'}"
        if self.layout:
            head += f" (layout: {self.layout})"
        lines = [head, f"  case: {sizes}"]
        if self.reference:
            lines.append(f"  reference: {self.reference}")
        lines += [f"  note: {n}" for n in self.notes]
        if self.error:
            lines.append(f"  your code raised: {self.error}")
        if self.quantities:
            lines.append("  quantity                                max rel diff")
            lines += [q.line() for q in self.quantities]
        bad = self.failed
        if bad:
            lines.append("  wrong: " + "; ".join(_summary(q) for q in bad))
        if self.rebuild and not self.passed:
            lines.append("  rebuild this case:")
            lines += ["    " + s for s in self.rebuild.splitlines()]
        return "\n".join(lines)


def _summary(q: QuantityResult) -> str:
    s = q.name
    if q.problem:
        s += f" ({q.problem})"
    if q.gate_blocks:
        s += " in gate block " + ", ".join(b.split(" ")[0] for b in q.gate_blocks)
    return s


def compare_quantity(name: str, kind: str, ours, ref: np.ndarray, *, cell: str,
                     dtype: object, tol: float, user_name: str | None = None) -> QuantityResult:
    """One :class:`QuantityResult`: ``ours`` against ``ref`` under ``tol``.

    Tensors named like torch's stacked parameters (``weight_ih``, ``d_bias_hh`` …) are
    split into the cell's gate blocks along axis 0 (``G·H`` rows).
    """
    ref = np.asarray(ref)
    shape = tuple(ref.shape)
    kw = dict(name=name, kind=kind, tolerance=tol, shape=shape, user_name=user_name)
    if ours is None:
        return QuantityResult(max_rel_diff=float("nan"), passed=False, problem="missing", **kw)
    if not isinstance(ours, np.ndarray):
        ours = np.asarray(ours)
        if ours.dtype == object:
            return QuantityResult(max_rel_diff=float("nan"), passed=False,
                                  problem=f"not an array ({type(ours).__name__})", **kw)
    if ours.shape != shape:
        return QuantityResult(max_rel_diff=float("nan"), passed=False,
                              problem=f"shape {ours.shape}, expected {shape}", **kw)
    rel = relative_difference(ours, ref)
    problem = None
    if np.dtype(ours.dtype) != np.dtype(dtype):
        problem = f"dtype {ours.dtype}, expected {np.dtype(dtype).name} (the input's)"
    rel = np.where(np.isnan(rel), np.inf, rel)
    if rel.size == 0:
        return QuantityResult(max_rel_diff=0.0, passed=problem is None, problem=problem, **kw)
    flat = int(np.argmax(rel))
    worst = float(rel.flat[flat])
    if not np.isfinite(worst) and problem is None:
        problem = "not finite"
    index = tuple(int(i) for i in np.unravel_index(flat, rel.shape))
    blocks, diffs = (), {}
    base = name[2:] if name.startswith("d_") else name
    if base in STACKED and rel.ndim >= 1:
        kind_ = cell_kind(cell)
        G = kind_.gates
        if shape[0] % G == 0 and shape[0] > 0:
            H = shape[0] // G
            per = [float(rel[k * H:(k + 1) * H].max()) for k in range(G)]
            diffs = {kind_.letters[k]: per[k] for k in range(G)}
            blocks = tuple(kind_.block_label(k, H) for k in range(G) if not per[k] <= tol)
    passed = problem is None and worst <= tol
    return QuantityResult(max_rel_diff=worst, passed=passed,
                          worst_index=None if passed else index,
                          gate_blocks=() if passed and not blocks else blocks,
                          gate_diffs=diffs, problem=problem, **kw)


def diagnose(ours: dict, ref: dict, *, cell: str, dtype: object, tol: float | None = None,
             grad_tol: float | None = None, user_names: dict | None = None,
             case: dict | None = None, reference: str = "", layout: str = "",
             rebuild: str = "") -> Diagnosis:
    """Compare every quantity of ``ref`` (outputs, then keys starting with ``d_``).

    ``ours`` and ``ref`` map torch-side names to arrays; a key of ``ref`` absent from
    ``ours`` is reported missing. ``dtype`` is the input's dtype, which every array of
    ``ours`` must have. ``grad_tol`` (default ``tol``) applies to gradients.
    """
    t = tolerance_for(dtype, tol)
    gt = t if grad_tol is None else max(t, grad_tol)
    names = user_names or {}
    results = []
    for name, r in ref.items():
        kind = "gradient" if name.startswith("d_") else "output"
        results.append(compare_quantity(name, kind, ours.get(name), r, cell=cell, dtype=dtype,
                                        tol=gt if kind == "gradient" else t,
                                        user_name=names.get(name)))
    return Diagnosis(cell=cell, case=dict(case or {}), quantities=results, reference=reference,
                     layout=layout, rebuild=rebuild, arrays={"ours": ours, "ref": ref})
