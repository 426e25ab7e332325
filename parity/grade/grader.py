"""Grading: every exercise of the manifest, on each of its variants, with the parity kit.

A function is checked on a fixed list of small cases (:func:`fixed_specs`, smallest
first: B = I = H = 1 with and without bias, then larger, float32 last), so the first
failing case is the smallest; when all pass, ``examples`` hypothesis-drawn cases search
further (a failure found there is shrunk by hypothesis). Then the verdict of the kit
(:func:`parity.kit.check_cell`) is told in the exercise's own names, with the gate block
and a hint (:mod:`parity.grade.hints`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from types import ModuleType

from scratchrnn.exercises.manifest import EXERCISE_SETS, Exercise, ExerciseSet, find_exercise

from ..kit.assertions import check_cell, check_sequence, find_cell_failure, find_sequence_failure
from ..kit.cases import CellSpec, SeqSpec
from ..kit.cells import cell_kind
from . import adapters
from .adapters import FORWARD_NAMES, STEP_BACKWARD_SOURCES, Recorder, ReturnMistake
from .hints import hint_for, hints_for_blocks
from .honesty import CallWatch, file_refusal, function_refusal, runtime_refusal
from .loader import (
    CappedText,
    exception_line,
    innermost_student_function,
    is_todo,
    load_exercise_file,
    quiet_student,
    student_traceback,
)
from .mistakes import name_mistakes
from .report import FunctionResult, GradedQuantity, GradeReport, SetStatus, VariantResult
from .sequence import (
    HYPOTHESIS_SWITCHES,
    SEQUENCE_HINTS,
    SEQUENCE_SOURCES,
    case_text,
    fixed_sequence_specs,
    name_sequence_mistakes,
    sequence_adapter,
)

DEFAULT_EXAMPLES = 20  # hypothesis cases per variant after the fixed ones (the command's)


class GradeUsageError(ValueError):
    """The directory or the name asked for is wrong (the command: one line, exit 2)."""


def fixed_specs(variant: str) -> list[CellSpec]:
    """The fixed cases, smallest first (float64 only for ``elman-relu``, whose kink a
    float32 pre-activation can straddle in two right implementations)."""
    sizes = [(1, 1, 1, True, "float64"), (1, 2, 1, False, "float64"),
             (2, 1, 2, True, "float64"), (3, 2, 3, False, "float64"),
             (2, 3, 4, True, "float32"), (4, 5, 5, True, "float64")]
    return [CellSpec(variant, B, I, H, bias, dtype, seed=k + 1)
            for k, (B, I, H, bias, dtype) in enumerate(sizes)
            if not (variant == "elman-relu" and dtype == "float32")]


def _dtypes(variant: str) -> tuple[str, ...]:
    return ("float64",) if variant == "elman-relu" else ("float64", "float32")


def dependencies(exercise: Exercise, exercise_set: ExerciseSet) -> list[str]:
    """The exercises a cell function calls: its step, and a backward its own forward."""
    if exercise.level != "cell":
        return []
    names = [e.name for e in exercise_set.exercises]
    deps = [exercise.name.replace("_cell_", "_step_")]
    if exercise.forward:
        deps.append(exercise.forward)
    return [d for d in deps if d in names]


# ---------------------------------------------------------------------------
# One variant
# ---------------------------------------------------------------------------
def _merge(name: str, qs: list, kind: str, letters_order: str) -> GradedQuantity:
    labels: dict[str, str] = {}
    for q in qs:
        for label in q.gate_blocks:
            labels.setdefault(label.split(" ")[0], label)
    order = sorted(labels, key=lambda ch: letters_order.index(ch) if ch in letters_order
                   else len(letters_order))
    diffs = [q.max_rel_diff for q in qs if q.max_rel_diff == q.max_rel_diff]
    return GradedQuantity(name=name, passed=all(q.passed for q in qs),
                          max_rel_diff=max(diffs) if diffs else None,
                          gate_blocks=tuple(labels[ch] for ch in order),
                          letters="".join(order),
                          problem=next((q.problem for q in qs if q.problem), None),
                          sources=tuple(q.name for q in qs), kind=kind)


_SHAPE_NOTE = re.compile(r"gradient '(\w+)' has shape (.*)|your backward returned no "
                         r"gradient '(\w+)'")


def _with_shape_notes(d) -> list:
    """The kit's quantities, a mis-shaped or missing gradient (which the kit fills with
    NaN and notes) told as such rather than as "not finite" in every gate block."""
    problems = {}
    for note in d.notes:
        m = _SHAPE_NOTE.match(note)
        if m:
            key = m.group(1) or m.group(3)
            problems["d_" + key] = f"shape {m.group(2)}" if m.group(1) else "missing"
    return [replace(q, problem=problems[q.name], gate_blocks=()) if q.name in problems else q
            for q in d.quantities]


def graded_quantities(exercise: Exercise, d) -> list[GradedQuantity]:
    """The kit's quantities of ``d`` under the exercise's names (a step backward's
    dgx_t is judged by d_weight_ih, d_bias_ih and d_x; dgh_t by d_weight_hh, d_bias_hh)."""
    letters = cell_kind(d.cell).letters
    quantities = _with_shape_notes(d)
    by = {q.name: q for q in quantities}
    out = []
    if exercise.level == "sequence" or (exercise.level == "step" and exercise.kind == "backward"):
        sources_of = SEQUENCE_SOURCES if exercise.level == "sequence" else STEP_BACKWARD_SOURCES
        for name, sources in sources_of.items():
            qs = [by[s] for s in sources if s in by]
            if qs:
                out.append(_merge(name, qs, "gradient", letters))
        return out
    for q in quantities:
        name = FORWARD_NAMES.get(q.name, q.name)
        out.append(_merge(name, [q], q.kind, letters))
    return out


def _case_text(case: dict) -> str:
    if "steps" in case:
        return case_text(case)
    bias = "bias" if case.get("bias") else "no bias"
    return (f"B={case['B']}, I={case['I']}, H={case['H']}, {bias}, {case['dtype']} "
            f"(seed {case['seed']})")


def _summary(exercise: Exercise, variant: str, quantities: list[GradedQuantity],
             forward: str, case: dict) -> str:
    many = cell_kind(variant).gates > 1
    groups: dict[tuple, list[str]] = {}
    for q in quantities:
        if not q.passed:
            key = (q.gate_blocks if many else (), q.problem)
            groups.setdefault(key, []).append(q.name)
    parts = []
    for (blocks, problem), names in groups.items():
        s = ", ".join(names) + " wrong"
        if blocks:
            s += " in gate block " + ", ".join(blocks)
        if problem:
            s += f" ({problem})"
        parts.append(s)
    if forward:
        parts.append(f"forward {forward}")
    parts.append("smallest failing case " + _case_text(case))
    return "; ".join(parts)


def _hints(exercise: Exercise, variant: str, quantities: list[GradedQuantity]) -> list[str]:
    fam = adapters.family(variant)
    wrong = {q.name: q for q in quantities if not q.passed}
    hints: list[str] = []

    def add(items):
        for h in items:
            if h and h not in hints:
                hints.append(h)

    if any(q.problem and q.problem.startswith("dtype") for q in wrong.values()):
        add([hint_for(fam, "dtype")])
    outputs = [q for q in wrong.values() if q.kind == "output"]
    if exercise.level == "sequence":
        add([SEQUENCE_HINTS[n] for n in ("dGX", "dh0", "dc0")
             if n in wrong or (n == "dGX" and "dGH" in wrong)])
    elif exercise.kind == "forward":
        letters = "".join(dict.fromkeys("".join(q.letters for q in outputs)))
        add(hints_for_blocks(fam, "forward" if exercise.level == "step" else "cell_forward",
                             letters))
    elif exercise.level == "step":
        da = "".join(ch for ch in cell_kind(variant).letters
                     if any(ch in wrong[n].letters for n in ("dgx_t", "dgh_t") if n in wrong))
        if da:
            add(hints_for_blocks(fam, "da", da))
            if "dc_prev" in wrong and not set("ifg") <= set(da):
                add([hint_for(fam, "dc_prev")])
        else:
            for n in ("dh_prev", "dc_prev"):
                if n in wrong:
                    add([hint_for(fam, n)])
    elif not outputs:  # a cell backward whose forward is right
        for n, q in wrong.items():
            quantity = "d_bias" if n.startswith("d_bias") else n
            add(hints_for_blocks(fam, quantity, q.letters if n == "d_weight_hh" else ""))
    return hints


@dataclass
class _Verdict:
    variant: VariantResult
    depends_on: list[str] = field(default_factory=list)


def _from_exception(exercise: Exercise, module: ModuleType, variant: str, rec: Recorder,
                    d, spec: CellSpec, runs: int) -> _Verdict:
    exc = rec.exc
    base = dict(variant=variant, case=spec.describe(), cases_run=runs, diagnosis=d)
    path = getattr(module, "__file__", "") or ""
    if exc is None:  # the kit failed on something that is not the student's
        return _Verdict(VariantResult(status="error", message=f"the grader failed: {d.error}",
                                      **base))
    if isinstance(exc, ReturnMistake):
        return _Verdict(VariantResult(status="failed", message=str(exc), **base))
    where = innermost_student_function(exc, path)
    if isinstance(exc, NotImplementedError):
        if where in (None, exercise.name):
            return _Verdict(VariantResult(status="not written", message="not written yet",
                                          **base))
        return _Verdict(VariantResult(status="not written", message=f"cannot run yet: it "
                                      f"calls {where}, which is not written yet", **base),
                        [where])
    message = f"raised {exception_line(exc)}"
    if where and where != exercise.name:
        message += f" (in {where}, which it calls)"
    return _Verdict(VariantResult(status="error", message=message,
                                  traceback=student_traceback(exc, path), **base))


def grade_variant(exercise: Exercise, module: ModuleType, variant: str, *,
                  cases: int | None = None, examples: int = 0, seed: int = 0,
                  watch: CallWatch | None = None) -> _Verdict:
    """Grade ``exercise`` of ``module`` on the kit cell ``variant`` (``watch`` notes a call
    into scratchrnn, parity or torch made by the student's code)."""
    rec = Recorder(watch=watch or CallWatch())
    sequence = exercise.level == "sequence"
    if sequence:
        forward, backward, seen = sequence_adapter(getattr(module, exercise.name),
                                                   exercise.name, variant, rec, module)
    else:
        forward, backward = adapters.build(exercise, variant, module, rec)
    names = (exercise.name, None)

    def run(spec):
        rec.reset()
        if sequence:
            return check_sequence(forward, backward, spec)
        return check_cell(forward, backward, spec, names=names)

    specs = fixed_sequence_specs(variant)[:cases] if sequence else fixed_specs(variant)[:cases]
    d, spec, runs = None, None, 0
    for spec in specs:
        runs += 1
        d = run(spec)
        if not d.passed:
            break
    if d is not None and d.passed and examples and sequence:
        found = find_sequence_failure(forward, backward, variant, examples=examples, seed=seed,
                                      dtypes=_dtypes(variant), **HYPOTHESIS_SWITCHES)
        runs += examples
        if found is not None:
            spec = SeqSpec(variant, **found.case)
            d = run(spec)
    elif d is not None and d.passed and examples:
        found = find_cell_failure(forward, backward, variant, examples=examples, seed=seed,
                                  dtypes=_dtypes(variant), max_batch=4, max_size=5,
                                  names=names)
        runs += examples
        if found is not None:
            c = found.case
            spec = CellSpec(variant, c["B"], c["I"], c["H"], c["bias"], c["dtype"], c["seed"])
            d = run(spec)
    if d.passed:
        return _Verdict(VariantResult(variant=variant, status="passed", case=spec.describe(),
                                      cases_run=runs, diagnosis=d,
                                      quantities=graded_quantities(exercise, d)))
    if d.error is not None:
        return _from_exception(exercise, module, variant, rec, d, spec, runs)
    quantities = graded_quantities(exercise, d)
    forward_state = ""
    if exercise.kind == "backward":
        outputs_ok = all(q.passed for q in quantities if q.kind == "output")
        forward_state = "correct (the reference's)" if exercise.level in ("step", "sequence") \
            else ("correct" if outputs_ok else "wrong")
    summary = _summary(exercise, variant, quantities, forward_state, spec.describe())
    # what the numbers say happened
    if sequence:
        tol = max(q.tolerance for q in d.quantities) if d.quantities else 1e-9
        mistakes = name_sequence_mistakes(variant, seen, tol)
    else:
        mistakes = name_mistakes(exercise, variant, d)
    if mistakes:
        summary = "; ".join(mistakes) + "; " + summary
    return _Verdict(VariantResult(
        variant=variant, status="failed", case=spec.describe(), cases_run=runs,
        quantities=quantities, diagnosis=d, forward=forward_state, summary=summary,
        hints=_hints(exercise, variant, quantities)))


# ---------------------------------------------------------------------------
# One function, one directory
# ---------------------------------------------------------------------------
def _status(variants: list[VariantResult]) -> str:
    for s in ("error", "not written", "failed"):
        if any(v.status == s for v in variants):
            return s
    return "passed"


def grade_function(module: ModuleType, name: str, *, cases: int | None = None,
                   examples: int = 0, seed: int = 0) -> FunctionResult:
    """Grade the function ``name`` of an imported exercise ``module`` on every variant.

    ``cases``: how many of :func:`fixed_specs` (default all); ``examples``: hypothesis
    cases after them (default none). Dependencies are not graded here (see :func:`grade`).
    """
    exercise_set, exercise = find_exercise(name)
    if exercise is None:
        raise ValueError(f"{name!r} is an exercise file, not a function: grade it with grade()")
    result = FunctionResult(set=exercise_set.stem, file=exercise_set.file, name=name,
                            kind=exercise.kind, level=exercise.level, status="passed")
    fn = getattr(module, name, None)
    if fn is None or not callable(fn):
        result.status, result.message = "not written", \
            f"not written yet ({exercise_set.file} has no function {name})"
        return result
    if is_todo(fn):
        result.status = "not written"
        result.message = "not written yet (its body still raises NotImplementedError)"
        return result
    if exercise.level == "cell" and exercise.forward and \
            not callable(getattr(module, exercise.forward, None)):
        result.status = "not written"
        result.message = f"cannot run yet: {exercise.forward} is missing"
        return result
    refusal = function_refusal(fn, name, module.__file__)
    if refusal:
        result.status, result.message = "refused", refusal
        return result
    sink, watch = CappedText(), CallWatch.for_module(module)
    with quiet_student(sink):
        for variant in exercise.variants:
            verdict = grade_variant(exercise, module, variant, cases=cases,
                                    examples=examples, seed=seed, watch=watch)
            result.variants.append(verdict.variant)
            for dep in verdict.depends_on:
                if dep not in result.depends_on:
                    result.depends_on.append(dep)
            if verdict.variant.status == "not written":
                break  # the other variants would say the same
    result.printed = sink.text()
    refusal = runtime_refusal(watch, name)
    if refusal:
        result.status, result.message, result.hints = "refused", refusal, []
        return result
    result.status = _status(result.variants)
    bad = [v for v in result.variants if not v.passed]
    for v in bad:
        for h in v.hints:
            if h not in result.hints:
                result.hints.append(h)
    if bad:
        first = next(v for v in bad if v.status == result.status)
        result.message = first.summary or first.message
        result.traceback = first.traceback
    return result


def _depends_message(dep: str, status: str) -> str:
    if status == "not written":
        return f"depends on {dep}, which is not written yet: write it first"
    return f"depends on {dep}, which {'fails' if status == 'failed' else 'raises'}: fix it first"


def _blank(s: ExerciseSet, e: Exercise, status: str, message: str) -> FunctionResult:
    return FunctionResult(set=s.stem, file=s.file, name=e.name, kind=e.kind, level=e.level,
                          status=status, message=message)


def _selection(only: str | None) -> list[tuple[ExerciseSet, list[Exercise]]]:
    if only is None:
        return [(s, list(s.exercises)) for s in EXERCISE_SETS]
    try:
        s, e = find_exercise(only)
    except ValueError as exc:
        raise GradeUsageError(str(exc)) from None
    return [(s, list(s.exercises) if e is None else [e])]


def grade(directory: str, only: str | None = None, *, cases: int | None = None,
          examples: int = 0, seed: int = 0) -> GradeReport:
    """Grade the exercise files in ``directory`` (``only``: one function or file stem).

    Raises :class:`GradeUsageError` when ``directory`` does not exist or holds none of the
    exercise files, or ``only`` names no exercise.
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise GradeUsageError(f"no such directory: {directory} (write the exercises with "
                              f"python -m scratchrnn exercises init {directory})")
    selection = _selection(only)
    if not any(os.path.exists(os.path.join(directory, s.file)) for s in EXERCISE_SETS):
        raise GradeUsageError(
            f"{directory} holds no exercise file (" + ", ".join(s.file for s in EXERCISE_SETS)
            + f"); write them with python -m scratchrnn exercises init {directory}")
    sets, results = [], []
    for exercise_set, exercises in selection:
        path = os.path.join(directory, exercise_set.file)
        status = SetStatus(exercise_set.stem, exercise_set.file, exercise_set.title, "graded",
                           path)
        sets.append(status)

        if not os.path.exists(path):
            status.status = "missing"
            results += [_blank(exercise_set, e, "missing", f"{exercise_set.file} is missing")
                        for e in exercises]
            continue
        refusal = file_refusal(path)
        if refusal:  # refused before its code runs
            status.status, status.error = "refused", refusal
            results += [_blank(exercise_set, e, "refused", refusal) for e in exercises]
            continue
        module, error = load_exercise_file(path)
        if module is None:
            status.status, status.error = "import error", error
            results += [_blank(exercise_set, e, "error", f"{exercise_set.file} cannot be imported")
                        for e in exercises]
            continue
        graded: dict[str, FunctionResult] = {}
        for e in exercises:
            graded[e.name] = grade_function(module, e.name, cases=cases, examples=examples,
                                            seed=seed)
        for e in exercises:
            r = graded[e.name]
            if r.passed or not r.variants:  # passed, or itself not written yet
                continue
            for dep in dependencies(e, exercise_set):
                if dep not in graded:  # --only: grade what it calls, quietly
                    graded[dep] = grade_function(module, dep, cases=cases, seed=seed)
                if not graded[dep].passed and dep not in r.depends_on:
                    r.depends_on.append(dep)
            failing = [dep for dep in r.depends_on if dep in graded and not graded[dep].passed]
            if failing:
                r.message = "; ".join(_depends_message(dep, graded[dep].status)
                                      for dep in failing)
                r.hints = []  # the dependency's own hints come first
        results += [graded[e.name] for e in exercises]
    return GradeReport(directory=directory, sets=sets, results=results)
