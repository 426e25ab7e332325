"""Loading a student's exercise file, and showing what went wrong in it (and only in it).

* :func:`load_exercise_file` imports ``DIR/exN_*.py`` by path under a unique module name;
  a file that fails to import gives ``(None, text)`` with a short traceback into the file;
* :func:`student_traceback` formats an exception with only the frames of the student's
  file (``traceback.extract_tb`` filtered to its path) and the exception's line;
* :func:`is_todo` tells a function whose body still raises ``NotImplementedError``
  (a template not yet written) from one that is written;
* :class:`CappedText` collects what the student's code prints, up to a limit.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import inspect
import io
import itertools
import os
import sys
import textwrap
import traceback
import warnings
from types import ModuleType

MAX_LINE = 300  # characters of an exception line shown
MAX_FRAMES = 6  # frames of the student's file shown (the innermost)
MAX_PRINTED = 2000  # characters of the student's printing kept

_counter = itertools.count()


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def _clip(line: str, limit: int = MAX_LINE) -> str:
    return line if len(line) <= limit else line[:limit] + f" … ({len(line) - limit} more "\
        "characters)"


def exception_line(exc: BaseException) -> str:
    """The last line of the exception as Python prints it (clipped)."""
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return _clip(text.splitlines()[-1] if text else type(exc).__name__)


def student_frames(exc: BaseException, path: str) -> list[traceback.FrameSummary]:
    """The frames of ``exc``'s traceback that lie in the file ``path``, outermost first."""
    return [f for f in traceback.extract_tb(exc.__traceback__) if _same_file(f.filename, path)]


def student_traceback(exc: BaseException, path: str) -> str:
    """A short traceback: the frames in ``path`` (the innermost few), then the exception.

    A SyntaxError (raised while compiling, so without frames) shows its line and caret.
    """
    name = os.path.basename(path)
    if isinstance(exc, SyntaxError):
        lines = [f'  File "{name}", line {exc.lineno}']
        if exc.text:
            code = exc.text.rstrip("\n")
            lines.append("    " + _clip(code.strip()))
            if exc.offset:
                pad = max(0, exc.offset - 1 - (len(code) - len(code.lstrip())))
                lines.append("    " + " " * min(pad, MAX_LINE) + "^")
        lines.append(f"{type(exc).__name__}: {_clip(str(exc.msg))}")
        return "\n".join(lines)
    frames = student_frames(exc, path)
    lines = []
    if len(frames) > MAX_FRAMES:
        lines.append(f"  … {len(frames) - MAX_FRAMES} outer frames left out")
        frames = frames[-MAX_FRAMES:]
    for f in frames:
        lines.append(f'  File "{name}", line {f.lineno}, in {f.name}')
        if f.line:
            lines.append("    " + _clip(f.line.strip()))
    lines.append(exception_line(exc))
    return "\n".join(lines)


def innermost_student_function(exc: BaseException, path: str) -> str | None:
    """The name of the function of ``path`` that raised ``exc`` (or the last one on the way)."""
    frames = student_frames(exc, path)
    return frames[-1].name if frames else None


class CappedText(io.TextIOBase):
    """A text stream that keeps the first :data:`MAX_PRINTED` characters and counts all."""

    def __init__(self, limit: int = MAX_PRINTED) -> None:
        self.limit, self.kept, self.total = limit, [], 0

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        room = self.limit - sum(map(len, self.kept))
        if room > 0:
            self.kept.append(s[:room])
        self.total += len(s)
        return len(s)

    def text(self) -> str:
        out = "".join(self.kept)
        if self.total > len(out):
            out += f"\n… ({self.total - len(out)} more characters)"
        return out


@contextlib.contextmanager
def quiet_student(sink: CappedText):
    """Run student code: what it prints goes to ``sink``; NumPy's floating-point warnings
    and Python warnings are silenced (a wrong result is reported, not warned about)."""
    import numpy as np

    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), \
            np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def load_exercise_file(path: str, sink: CappedText | None = None
                       ) -> tuple[ModuleType | None, str | None]:
    """Import the file ``path`` as a fresh module: ``(module, None)`` or ``(None, text)``,
    ``text`` the short traceback of why it cannot be imported."""
    stem = os.path.splitext(os.path.basename(path))[0]
    name = f"_parity_grade_{stem}_{next(_counter)}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look classes up there
    directory = os.path.dirname(os.path.abspath(path))
    sys.path.insert(0, directory)  # the file may import a helper next to it
    try:
        with quiet_student(sink or CappedText()):
            spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        sys.modules.pop(name, None)
        return None, student_traceback(exc, path)
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(directory)
    return module, None


def is_todo(fn) -> bool:
    """True when ``fn``'s body reaches a top-level ``raise NotImplementedError`` (before
    any top-level ``return``): the template's TODO, not yet replaced."""
    try:
        source = textwrap.dedent(inspect.getsource(fn))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError):
        return False
    defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if not defs:
        return False
    for stmt in defs[0].body:
        if isinstance(stmt, ast.Return):
            return False
        if isinstance(stmt, ast.Raise) and stmt.exc is not None:
            target = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
            if isinstance(target, ast.Name) and target.id == "NotImplementedError":
                return True
    return False
