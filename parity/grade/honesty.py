"""Graded functions must be the student's own: three checks, each a one-line refusal.

1. **The file** (before it is imported): an ``import`` of scratchrnn, parity or torch, an
   ``importlib.import_module`` / ``__import__`` of one of them by name, or ``exec`` /
   ``eval`` / ``compile`` (which could hide such an import) — :func:`file_refusal`.
2. **The function object**: unwrapped (``functools.wraps``' ``__wrapped__``, a
   ``functools.partial``), its code must come from the exercise file — a function
   imported, assigned or wrapped from elsewhere is refused naming its module
   (:func:`function_refusal`): "graded functions must be your own: lstm_step_backward
   comes from scratchrnn.cells".
3. **At grading time**: while the student's function runs (every call goes through
   :class:`parity.grade.adapters.Recorder`), a profile hook (``sys.setprofile``) watches for
   a call into code that lives in scratchrnn, parity or torch — a lookup through
   ``sys.modules`` or ``gc`` gets past 1 and 2, not past this (:class:`CallWatch`).

What the grader cannot know: code copied by hand out of scratchrnn's source into the
student's file is the student's file as far as Python can tell (the three checks see where
code *lives*, not who wrote it); and a student can read the reference solutions
(``exercises init --solutions``). The checks keep the grade honest against a shortcut
taken by accident or in a hurry, not against someone determined to copy.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import os
import sys

FORBIDDEN = ("scratchrnn", "parity", "torch")
PREFIX = "graded functions must be your own"


def _package_dir(name: str) -> str | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return os.path.realpath(list(spec.submodule_search_locations)[0]) + os.sep


FORBIDDEN_DIRS = tuple(d for d in (_package_dir(n) for n in FORBIDDEN) if d)


def _root(module: str | None) -> str:
    return (module or "").split(".")[0]


def file_refusal(path: str) -> str | None:
    """Why the exercise file at ``path`` is refused before import, or None."""
    name = os.path.basename(path)
    try:
        tree = ast.parse(open(path, encoding="utf-8").read(), filename=path)
    except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
        return None  # the import reports it, with a traceback into the file
    for node in ast.walk(tree):
        found = None
        if isinstance(node, ast.Import):
            found = next((a.name for a in node.names if _root(a.name) in FORBIDDEN), None)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and \
                _root(node.module) in FORBIDDEN:
            found = node.module
        elif isinstance(node, ast.Call):
            func = node.func
            fname = func.id if isinstance(func, ast.Name) else \
                func.attr if isinstance(func, ast.Attribute) else None
            if fname in ("exec", "eval", "compile"):
                return (f"{PREFIX}: {name} calls {fname}() (line {node.lineno}), which could "
                        "import the reference; write the code itself")
            if fname in ("import_module", "__import__") and node.args and \
                    isinstance(node.args[0], ast.Constant) and \
                    _root(str(node.args[0].value)) in FORBIDDEN:
                found = str(node.args[0].value)
        if found:
            return f"{PREFIX}: {name} imports {found} (line {node.lineno})"
    return None


def _unwrapped(fn):
    while True:
        if isinstance(fn, functools.partial):
            fn = fn.func
            continue
        inner = getattr(fn, "__wrapped__", None)
        if inner is not None and inner is not fn:
            fn = inner
            continue
        func = getattr(fn, "__func__", None)  # a bound method
        if func is not None:
            fn = func
            continue
        return fn


def function_refusal(fn, name: str, path: str) -> str | None:
    """Why the graded function ``fn`` is not the student's own, or None."""
    inner = _unwrapped(fn)
    code = getattr(inner, "__code__", None)
    where = getattr(inner, "__module__", None) or type(inner).__module__
    if code is None:
        return f"{PREFIX}: {name} comes from {where}"
    try:
        same = os.path.samefile(code.co_filename, path)
    except OSError:
        same = os.path.abspath(code.co_filename) == os.path.abspath(path)
    if not same:
        shown = where if where and not where.startswith("_parity_grade_") else \
            os.path.basename(code.co_filename)
        return f"{PREFIX}: {name} comes from {shown}"
    return None


#: the grader's own stream for what the student prints (loader.CappedText): not a shortcut
_GRADER_FILES = (os.path.realpath(os.path.join(os.path.dirname(__file__), "loader.py")),)


def _forbidden_code(filename: str) -> bool:
    real = os.path.realpath(filename)
    return real.startswith(FORBIDDEN_DIRS) and real not in _GRADER_FILES


class CallWatch:
    """While active, notes the calls into scratchrnn, parity or torch code (``calls``:
    their qualified names, the first :data:`KEPT`; ``found``: the first). Restores any
    profile hook it found. Grading the library's own module (``grade_function(
    scratchrnn.cells, ...)``: ``enabled=False``) watches nothing."""

    KEPT = 10_000  # distinct names: a gc walk can touch hundreds of torch functions first

    def __init__(self, enabled: bool = True) -> None:
        self.calls: list[str] = []
        self.enabled = enabled
        self._cache: dict[str, bool] = {}

    @property
    def found(self) -> str | None:
        return self.calls[0] if self.calls else None

    def named(self, name: str) -> str | None:
        """The call to name in a refusal of ``name``: one of a function called ``name``
        (the reference's), else the first into scratchrnn or parity, else the first (a
        walk through ``gc`` can touch torch's internals before it reaches the reference)."""
        for keep in (lambda c: c.rsplit(".", 1)[-1] == name,
                     lambda c: _root(c) in ("scratchrnn", "parity"), lambda c: True):
            hit = next((c for c in self.calls if keep(c)), None)
            if hit is not None:
                return hit
        return None

    def _note(self, call: str) -> None:
        if call not in self.calls:
            self.calls.append(call)

    def _hook(self, frame, event, arg):
        if len(self.calls) >= self.KEPT:
            return
        if event == "call":
            if _protocol(frame.f_code.co_name):
                return
            f = frame.f_code.co_filename
            bad = self._cache.get(f)
            if bad is None:
                bad = self._cache[f] = _forbidden_code(f)
            if bad:
                self._note(f"{frame.f_globals.get('__name__', '?')}.{frame.f_code.co_name}")
        elif event == "c_call" and not _protocol(getattr(arg, "__name__", "")):
            module = getattr(arg, "__module__", None) or \
                type(getattr(arg, "__self__", None)).__module__
            if _root(module) in FORBIDDEN:
                self._note(f"{module}.{getattr(arg, '__name__', '?')}")

    @classmethod
    def for_module(cls, module) -> CallWatch:
        """A watch for grading ``module``: off when the module is scratchrnn's or parity's."""
        return cls(enabled=not _forbidden_code(getattr(module, "__file__", "") or ""))

    def run(self, fn, *args):
        if not self.enabled:
            return fn(*args)
        previous = sys.getprofile()
        sys.setprofile(self._hook)
        try:
            return fn(*args)
        finally:
            sys.setprofile(previous)


def _protocol(name: str) -> bool:
    """A dunder other than ``__call__``: Python's own protocol (``getattr`` reaching a torch
    object's ``__getattribute__`` while a student walks ``gc.get_objects()``), not a call the
    student wrote; the call that follows it is the one to name."""
    return name.startswith("__") and name.endswith("__") and name != "__call__"


def runtime_refusal(watch: CallWatch, name: str) -> str | None:
    if watch.found is None:
        return None
    return f"{PREFIX}: {name} calls {watch.named(name)} while it is graded"
