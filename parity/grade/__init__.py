"""``python -m parity grade DIR``: grade a student's exercise files with the parity kit.

The files are those ``python -m scratchrnn exercises init DIR`` writes (the manifest:
:mod:`scratchrnn.exercises.manifest`): ``ex1_elman.py``, ``ex2_gating.py``, ``ex3_lstm.py``,
``ex4_gru.py``, each function with the reference's name and signature. Every function is
graded on each of its variants (kit cells) against torch (or the slide GRU, or finite
differences for the gating cells): forward ✓/✗, each gradient ✓/✗ under the exercise's
own names, the gate block of a failure, the smallest failing case and a hint tied to the
slide equation of that block. A step backward is graded on the reference forward's cache,
a cell function calls the student's own steps (``depends on X, which fails: fix it first``).

The Python API (what the notebooks call)::

    from parity.grade import grade, grade_function

    report = grade("my_exercises", only=None)   # GradeReport; only: a function or file stem
    report.passed                               # True when every function graded passes
    print(report.text())                        # the report, in the lecture's order
    report.to_dict()                            # the same as JSON-ready data
    for r in report.results:                    # FunctionResult, one per function
        r.set, r.name, r.status                 # "ex3_lstm", "lstm_step_backward", "failed"
        r.variants                              # VariantResult: .diagnosis (the kit's), .case,
                                                #   .quantities (dgx_t, dgh_t, …), .summary
        r.message, r.hints, r.traceback         # one line, slide equations, your frames only

    result = grade_function(module, "lstm_step_backward")   # one function of an imported module

Statuses: ``passed``, ``failed``, ``not written`` (the body still raises
NotImplementedError), ``error`` (the student's code raised: a traceback into their file
only), ``missing`` (no such file). ``grade`` takes ``cases`` (how many of the fixed small
cases, default all), ``examples`` (hypothesis cases after them, default 0; the command
uses 20) and ``seed``.
"""

from .grader import GradeUsageError, fixed_specs, grade, grade_function
from .report import FunctionResult, GradedQuantity, GradeReport, VariantResult

__all__ = ["FunctionResult", "GradeReport", "GradeUsageError", "GradedQuantity",
           "VariantResult", "fixed_specs", "grade", "grade_function"]
