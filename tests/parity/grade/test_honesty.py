"""A graded function must be the student's own (issue 24, item 1): every route to the
reference — an import in the file, aliased or by name, a function taken from scratchrnn
and wrapped, a call into it at grading time — is refused with one line, and an honest
solution still passes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from parity.grade import grade
from tests.conftest import needs_torch

pytestmark = needs_torch

NAME = "lstm_step_backward"
FILE = "ex3_lstm.py"
PREFIX = "graded functions must be your own"


@pytest.fixture
def student(solutions, tmp_path) -> Path:
    return Path(shutil.copytree(solutions, tmp_path / "student"))


def _append(student: Path, text: str) -> None:
    path = student / FILE
    path.write_text(path.read_text(encoding="utf-8") + "\n" + text + "\n", encoding="utf-8")


def _result(student: Path):
    report = grade(str(student), only=NAME, cases=2)
    [r] = [r for r in report.results if r.name == NAME]
    return report, r


def _refusal(student: Path, code: str):
    """Grade the student's file with ``code`` appended; the function must be refused."""
    _append(student, code)
    report, r = _result(student)
    assert r.status == "refused"
    return report, r


def test_an_honest_solution_passes(student):
    _, r = _result(student)
    assert r.status == "passed", r.message


@pytest.mark.parametrize("code,named", [
    ("from scratchrnn.cells import lstm_step_backward  # noqa", "imports scratchrnn.cells"),
    ("import scratchrnn.cells as c\nlstm_step_backward = c.lstm_step_backward",
     "imports scratchrnn.cells"),
    ("import importlib\nlstm_step_backward = importlib.import_module("
     "'scratchrnn.cells').lstm_step_backward", "imports scratchrnn.cells"),
    ("lstm_step_backward = __import__('scratchrnn.cells', fromlist=['x']).lstm_step_backward",
     "imports scratchrnn.cells"),
    ("import torch", "imports torch"),
    ("exec('from scratchrnn.cells import lstm_step_backward')", "calls exec()"),
])
def test_the_file_is_refused_before_it_runs(student, code, named):
    report, r = _refusal(student, code)
    assert r.message.startswith(PREFIX) and named in r.message and "\n" not in r.message
    assert named in report.text()
    assert not report.passed


@pytest.mark.parametrize("code", [
    # a module-level lookup the static check cannot see
    "import sys\nlstm_step_backward = sys.modules['scratchrnn.cells'].lstm_step_backward",
    # wrapped so that it looks defined here
    "import functools, sys\n_ref = sys.modules['scratchrnn.cells'].lstm_step_backward\n"
    "lstm_step_backward = functools.wraps(_ref)(lambda *a: _ref(*a))",
    "import functools, sys\nlstm_step_backward = functools.partial("
    "sys.modules['scratchrnn.cells'].lstm_step_backward)",
])
def test_a_function_from_elsewhere_is_refused_naming_its_module(student, code):
    _, r = _refusal(student, code)
    assert r.message == f"{PREFIX}: {NAME} comes from scratchrnn.cells"


@pytest.mark.parametrize("code", [
    "import sys\n\ndef lstm_step_backward(dh_t, dc_t, cache, W_hh):\n"
    "    return sys.modules['scratchrnn.cells'].lstm_step_backward(dh_t, dc_t, cache, W_hh)",
    # functions only: getattr(o, '__name__') on any object can run torch's code (its lazy
    # CUDA init raised on a machine without CUDA), which ends the walk before the reference
    "import gc, types\n\ndef lstm_step_backward(dh_t, dc_t, cache, W_hh):\n"
    "    ref = next(o for o in gc.get_objects() if isinstance(o, types.FunctionType) and "
    "o.__name__ == 'lstm_step_backward' and o.__module__ == 'scratchrnn.cells')\n"
    "    return ref(dh_t, dc_t, cache, W_hh)",
])
def test_a_call_into_the_reference_while_graded_is_refused(student, code):
    _, r = _refusal(student, code)
    assert r.message == (f"{PREFIX}: {NAME} calls scratchrnn.cells.lstm_step_backward "
                         "while it is graded")


def test_the_command_prints_the_refusal_and_fails(student):
    _append(student, "from scratchrnn.cells import lstm_step_backward  # noqa")
    import contextlib
    import io

    from parity.__main__ import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["grade", str(student), "--only", NAME])
    assert code == 1
    assert f"{FILE} — " in out.getvalue() and "imports scratchrnn.cells (line" in out.getvalue()


def test_the_watch_names_the_call_the_student_made_not_what_the_library_did_inside(
        tmp_path, monkeypatch):
    """A gc walk reaches library objects through Python's protocols (a property named
    ``__name__``) before it finds the reference; the reference is the call to name, the
    library's inner calls never are, and a walk that fails before it gets there is still
    named by the protocol it crossed."""
    import importlib.util

    from parity.grade import honesty

    lib = tmp_path / "fakelib.py"
    lib.write_text("def inner():\n    return 1\n\n"
                   "class Lazy:\n    @property\n    def __name__(self):\n        return inner()\n\n"
                   "def reference(x):\n    return inner() + x\n")
    spec = importlib.util.spec_from_file_location("fakelib", lib)
    fakelib = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fakelib)
    monkeypatch.setattr(honesty, "_forbidden_code", lambda f: f == str(lib))

    def cheat(x):
        _ = fakelib.Lazy().__name__  # a property of the library
        return fakelib.reference(x)

    def failing_cheat(x):
        _ = fakelib.Lazy().__name__  # a property of the library
        raise RuntimeError("the walk broke")

    watch = honesty.CallWatch()
    assert watch.run(cheat, 1) == 2
    assert honesty.runtime_refusal(watch, "f") == f"{PREFIX}: f calls fakelib.reference " \
                                                  "while it is graded"
    watch = honesty.CallWatch()
    with pytest.raises(RuntimeError):
        watch.run(failing_cheat, 1)
    assert honesty.runtime_refusal(watch, "f").endswith("calls fakelib.__name__ while it is "
                                                        "graded")
    watch = honesty.CallWatch()
    assert watch.run(lambda x: x + 1, 1) == 2 and honesty.runtime_refusal(watch, "f") is None
