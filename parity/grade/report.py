"""The grade's results: per quantity, per variant, per function, per directory.

:class:`GradeReport` holds one :class:`FunctionResult` per exercise function graded (in
the lecture's order), each with one :class:`VariantResult` per kit cell it was graded on.
``text()`` is the report a student reads, ``to_dict()`` the same as JSON-ready data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..kit.diagnose import Diagnosis

STATUSES = ("passed", "failed", "not written", "error", "missing", "refused")
MARK = {"passed": "✓", "failed": "✗", "error": "✗", "not written": "–", "missing": "–",
        "refused": "✗"}


@dataclass(frozen=True)
class GradedQuantity:
    """One output or gradient under the exercise's own name (``dgx_t``, ``d_weight_hh`` …).

    ``sources``: the kit's quantities it was judged by; ``gate_blocks``: the kit's labels of
    the wrong blocks (``"f (forget gate, rows H:2H)"``), ``letters`` their letters.
    """

    name: str
    passed: bool
    max_rel_diff: float | None
    gate_blocks: tuple[str, ...] = ()
    letters: str = ""
    problem: str | None = None
    sources: tuple[str, ...] = ()
    kind: str = "gradient"

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "passed": self.passed,
                "max_rel_diff": self.max_rel_diff, "gate_blocks": list(self.gate_blocks),
                "problem": self.problem, "sources": list(self.sources)}


@dataclass
class VariantResult:
    """One function on one kit cell (``elman``, ``gru-slide`` …): its status, the smallest
    failing case, its quantities and the kit's :class:`~parity.kit.Diagnosis`."""

    variant: str
    status: str
    case: dict = field(default_factory=dict)
    cases_run: int = 0
    quantities: list[GradedQuantity] = field(default_factory=list)
    summary: str = ""  # one line: what is wrong, where, the forward, the case
    message: str = ""  # a return mistake, an exception's line, a missing dependency
    hints: list[str] = field(default_factory=list)
    traceback: str | None = None
    forward: str = ""  # "correct", "wrong", "the reference's" (a step backward's), ""
    diagnosis: Diagnosis | None = None

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def to_dict(self) -> dict:
        d = None
        if self.diagnosis is not None:
            d = self.diagnosis.to_dict()
            d.pop("rebuild", None)
            for q in d["quantities"]:
                q["max_rel_diff"] = _finite(q["max_rel_diff"])
                q["gate_diffs"] = {k: _finite(v) for k, v in q["gate_diffs"].items()}
        return {"variant": self.variant, "status": self.status, "passed": self.passed,
                "case": self.case, "cases_run": self.cases_run, "forward": self.forward,
                "quantities": [q.to_dict() for q in self.quantities],
                "summary": self.summary, "message": self.message, "hints": self.hints,
                "traceback": self.traceback, "diagnosis": d}


@dataclass
class FunctionResult:
    """One exercise function: ``status`` in :data:`STATUSES`, its variants, one-line
    ``message``, ``hints`` (slide equations to check), ``traceback`` (into the student's
    file only), ``depends_on`` (functions it calls that fail), ``printed`` (what it printed)."""

    set: str
    file: str
    name: str
    kind: str
    level: str
    status: str
    variants: list[VariantResult] = field(default_factory=list)
    message: str = ""
    hints: list[str] = field(default_factory=list)
    traceback: str | None = None
    depends_on: list[str] = field(default_factory=list)
    printed: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def to_dict(self) -> dict:
        return {"set": self.set, "file": self.file, "name": self.name, "kind": self.kind,
                "level": self.level, "status": self.status, "passed": self.passed,
                "message": self.message, "hints": self.hints, "traceback": self.traceback,
                "depends_on": self.depends_on, "printed": self.printed,
                "variants": [v.to_dict() for v in self.variants]}

    def lines(self) -> list[str]:
        """The function's block of the report."""
        head = f"  {MARK[self.status]} {self.name:<22}"
        if self.status == "passed":
            runs = sum(v.cases_run for v in self.variants)
            return [f"{head} " + "  ".join(f"{v.variant} ✓" for v in self.variants)
                    + f"   ({runs} cases)"]
        if self.status in ("not written", "missing", "refused") or not self.variants:
            out = [f"{head} {self.message}"]
            if self.traceback:
                out += ["      " + s for s in self.traceback.splitlines()]
            return out
        marks = "  ".join(f"{v.variant} {MARK[v.status]}" for v in self.variants)
        out = [f"{head} {marks}"]
        if self.depends_on:
            out.append(f"      {self.message}")
        for v in self.variants:
            if v.passed:
                continue
            if v.summary and not self.depends_on:
                what, _, case = v.summary.partition("; smallest failing case ")
                out.append(f"      {v.variant}: {what}")
                if case:
                    out.append(f"        smallest failing case {case}")
            elif v.message:
                out.append(f"      {v.variant}: {v.message}")
            if v.quantities and v.status == "failed":
                label = f"{v.variant}: " if self.depends_on else ""
                out.append(f"        {label}" + "  ".join(f"{'✓' if q.passed else '✗'} {q.name}"
                                                  for q in v.quantities))
            if v.traceback:
                out.append("        Traceback (your file only):")
                out += ["        " + s for s in v.traceback.splitlines()]
        out += [f"      hint: {h}" for h in self.hints]
        if self.printed:
            first = self.printed.splitlines()[:3]
            out.append(f"      (your code printed while graded: {first[0]!r}"
                       + (" …)" if len(first) > 1 else ")"))
        return out


@dataclass
class SetStatus:
    """One exercise file: graded, missing, or not importable (``error`` its traceback)."""

    stem: str
    file: str
    title: str
    status: str  # "graded" | "missing" | "import error" | "refused"
    path: str
    error: str | None = None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class GradeReport:
    """Every function graded, in the lecture's order; ``passed`` when all of them pass."""

    directory: str
    sets: list[SetStatus]
    results: list[FunctionResult]

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r.passed for r in self.results)

    @property
    def counts(self) -> dict[str, int]:
        return {s: sum(r.status == s for r in self.results) for s in STATUSES}

    def summary(self) -> str:
        c = self.counts
        rest = [f"{c[s]} {s}" for s in ("failed", "error", "not written", "missing",
                                          "refused") if c[s]]
        return (f"{c['passed']} of {len(self.results)} functions pass"
                + (f" ({', '.join(rest)})" if rest else ""))

    def text(self) -> str:
        """The report a student reads: one block per file, one per function, a last line."""
        out = [f"Grading {self.directory}"]
        for s in self.sets:
            out.append("")
            results = [r for r in self.results if r.set == s.stem]
            if s.status == "missing":
                out.append(f"{s.file} — {s.title}: missing ({s.path} does not exist; "
                           f"{len(results)} function(s) not graded)")
                continue
            if s.status == "refused":
                out.append(f"{s.file} — {s.title}: {s.error}")
                continue
            if s.status == "import error":
                out.append(f"{s.file} — {s.title}: cannot be imported, so none of its "
                           f"{len(results)} function(s) was graded:")
                out += ["    " + line for line in (s.error or "").splitlines()]
                continue
            out.append(f"{s.file} — {s.title}")
            for r in results:
                out += r.lines()
        out += ["", self.summary()]
        return "\n".join(out)

    def to_dict(self) -> dict:
        return {"directory": self.directory, "passed": self.passed,
                "functions_passed": self.counts["passed"], "functions": len(self.results),
                "counts": self.counts, "summary": self.summary(),
                "sets": [s.to_dict() for s in self.sets],
                "results": [r.to_dict() for r in self.results]}


def _finite(x):
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else x
