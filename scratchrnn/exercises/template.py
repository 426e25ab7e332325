"""The exercise files, generated from the reference source so they can never drift from it.

``render_set(exercise_set, solutions)`` writes one file of the manifest: a module docstring
(what to do, the set's slide equations, how to grade), the given code (a stable
``sigmoid``, then the set's ``given`` names) copied verbatim from the reference modules
with :mod:`ast`, then each exercise with its signature, type hints and docstring kept and
its body replaced by a ``# TODO`` block and ``raise NotImplementedError(NAME)``. With
``solutions=True`` the bodies are the reference bodies, and every private helper they call
(``_input_projection``, ``_param_grads``, ``_check_gating`` …) is copied in as well, found
by following the names the bodies use: the solution files import with NumPy alone.
With ``hard=True`` (``exercises init --hard``) the same functions are written with no TODO
and, for a backward, a docstring of its shapes and its forward's slide equations only
(:data:`~.texts.HARD_DOCS`; a forward's docstring is already that): the same grader grades
them.

:func:`write_exercises` writes the files and a README into a folder, refusing to replace
a file that differs from what it would write unless ``force`` (then the old file is kept
as ``NAME.bak``): a student's work is never lost.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..fileio import atomic_write, atomic_write_text
from .manifest import EXERCISE_SETS, Exercise, ExerciseSet
from .texts import EQUATIONS, HARD_DOCS, TODOS

__all__ = ["EQUATIONS", "HARD_DOCS", "README", "TODOS", "ExerciseFolderError", "render_set",
           "render_readme", "write_exercises"]

#: the stable sigmoid every file is given (where the reference cells take theirs from)
SIGMOID = ("scratchrnn.functional", "sigmoid")
#: given to the student too where a set has cell-level exercises: the cache they return
CELL_HELPERS = ("_cell_cache",)
#: the longest line of a written file (the project's ruff setting)
LINE_LENGTH = 100
#: the README written beside the exercise files
README = "README.md"
#: how a student grades (``{folder}`` is the exercises folder)
GRADE = "python -m parity grade {folder}"


class ExerciseFolderError(ValueError):
    """The exercise folder cannot be written (one line, for the command line)."""


# -- reading the reference ----------------------------------------------------------------


@dataclass(frozen=True)
class _Definition:
    """A top-level definition of a reference module: its node and its verbatim source."""

    name: str
    module: str
    node: ast.stmt
    text: str


@cache
def _parsed(module: str) -> tuple[list[str], ast.Module]:
    source = inspect.getsource(importlib.import_module(module))
    return source.splitlines(), ast.parse(source)


def _binds(node: ast.stmt, name: str) -> bool:
    if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
        return node.name == name
    if isinstance(node, ast.Assign):
        return any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
    if isinstance(node, ast.AnnAssign):
        return isinstance(node.target, ast.Name) and node.target.id == name
    return False


@cache
def _definition(module: str, name: str) -> _Definition | None:
    """Where ``name``, used in ``module``, is defined in scratchrnn, following relative
    imports; None for a name from elsewhere (numpy, typing, a builtin, a local)."""
    lines, tree = _parsed(module)
    for node in tree.body:
        if _binds(node, name):
            decorators = getattr(node, "decorator_list", [])
            start = min([node.lineno] + [d.lineno for d in decorators])
            text = "\n".join(lines[start - 1 : node.end_lineno])
            return _Definition(name, module, node, text)
        if isinstance(node, ast.ImportFrom) and node.level:
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    package = importlib.import_module(module).__package__
                    target = importlib.util.resolve_name(
                        "." * node.level + (node.module or ""), package)
                    return _definition(target, alias.name)
    return None


def _external_import(module: str, name: str) -> str | None:
    """The import statement that binds ``name`` in ``module`` from outside scratchrnn."""
    _, tree = _parsed(module)
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    suffix = f" as {alias.asname}" if alias.asname else ""
                    return f"import {alias.name}{suffix}"
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module != "__future__":
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    suffix = f" as {alias.asname}" if alias.asname else ""
                    return f"from {node.module} import {alias.name}{suffix}"
    return None


def _names_used(node: ast.AST) -> list[str]:
    seen: dict[str, None] = {}
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            seen.setdefault(n.id, None)
    return list(seen)


def _lookup(module: str, name: str) -> _Definition:
    d = _definition(module, name)
    if d is None:
        raise LookupError(f"{name!r} is not defined in {module} (exercise manifest)")
    return d


def _closure(roots: Iterable[_Definition], exclude: set[str]) -> list[_Definition]:
    """``roots`` and every scratchrnn definition they use, transitively, minus ``exclude``
    (the exercises); roots first, in order, then dependencies as found."""
    out: dict[str, _Definition] = {}
    todo = list(roots)
    while todo:
        d = todo.pop(0)
        if d.name in out or d.name in exclude:
            continue
        out[d.name] = d
        for used in _names_used(d.node):
            dep = _definition(d.module, used)
            if dep is not None and dep.name not in out and dep.name not in exclude:
                todo.append(dep)
    return list(out.values())


def _imports(defs: Iterable[_Definition]) -> str:
    """``from __future__``, the standard library, then NumPy, as isort orders them."""
    stdlib: set[str] = set()
    third: set[str] = {"import numpy as np"}
    for d in defs:
        for used in _names_used(d.node):
            stmt = _external_import(d.module, used)
            if stmt is not None:
                (third if stmt.split()[1].split(".")[0] == "numpy" else stdlib).add(stmt)
    blocks = [["from __future__ import annotations"], sorted(stdlib), sorted(third)]
    return "\n\n".join("\n".join(b) for b in blocks if b)


# -- rendering -------------------------------------------------------------------------
def _hard_docstring(name: str, pad: str) -> list[str]:
    lines = HARD_DOCS[name].splitlines()
    return [f'{pad}"""{lines[0]}'] + [pad + ln if ln else "" for ln in lines[1:]] + \
        [f'{pad}"""']


def _stub(d: _Definition, todo: str | None) -> str:
    """The function's signature and docstring, verbatim, then the TODO and the raise
    (``todo`` None: hard mode, no TODO, a backward's docstring from HARD_DOCS)."""
    node = d.node
    assert isinstance(node, ast.FunctionDef), d.name
    doc = node.body[0]
    if not (isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant)
            and isinstance(doc.value.value, str)):
        raise LookupError(f"{d.module}.{d.name} has no docstring to keep")
    lines, _ = _parsed(d.module)
    start = min([node.lineno] + [x.lineno for x in node.decorator_list])
    head = lines[start - 1 : doc.end_lineno]
    pad = " " * doc.col_offset
    if todo is None:
        if d.name in HARD_DOCS:
            head = lines[start - 1 : doc.lineno - 1] + _hard_docstring(d.name, pad)
        return "\n".join(head + [f'{pad}raise NotImplementedError("{d.name}")'])
    width = LINE_LENGTH - len(pad) - len("# TODO: ")
    todo_lines = [part for line in todo.splitlines()
                  for part in textwrap.wrap(line, width, break_on_hyphens=False)]
    comment = [f"{pad}# TODO: {todo_lines[0]}"] + [f"{pad}#       {t}" for t in todo_lines[1:]]
    return "\n".join(head + comment + [f'{pad}raise NotImplementedError("{d.name}")'])


def _section(title: str) -> str:
    rule = "# " + "-" * 90
    return f"{rule}\n# {title}\n{rule}"


def _docstring(s: ExerciseSet, solutions: bool, folder: str, hard: bool = False) -> str:
    number = EXERCISE_SETS.index(s) + 1
    names = ", ".join(e.name for e in s.exercises)
    # a long folder name would push the commands past the line length: call it DIR then
    short = folder if len(folder) <= 24 else "DIR"
    grade = GRADE.format(folder=short)
    if solutions:
        what = textwrap.fill(
            f"The reference solutions of exercise {number} (written by ``python -m scratchrnn "
            "exercises init DIR --solutions``): the bodies of scratchrnn's own functions, "
            f"{names}, with the private helpers they call.", 88, break_on_hyphens=False)
    else:
        what = textwrap.fill(
            f"Write the {len(s.exercises)} functions under \"Your code\", in order: {names}. "
            "Replace each ``raise NotImplementedError`` by what its TODO says; keep the names, "
            "the signatures and what they return (the grader calls them). The code under "
            "\"Given\" is copied from the reference; use it, do not change it (a backward is "
            "graded on the reference forward's cache, so your forward and backward are graded "
            "apart).", 88, break_on_hyphens=False)
    if hard:
        what = textwrap.fill(
            f"Hard mode: write the {len(s.exercises)} functions under \"Your code\", in "
            f"order: {names}. Each docstring has the shapes and the slide equations, nothing "
            "more: no TODO says how. Keep the names, the signatures and what they return (the "
            "grader calls them); use the code under \"Given\" (copied from the reference) as "
            "it is.", 88, break_on_hyphens=False)
    commands = [(grade, "every function of every file"),
                (f"{grade} --only {s.stem}", "this file"),
                (f"{grade} --only {s.exercises[0].name}", "one function")]
    width = max(len(c) for c, _ in commands) + 4
    if short != folder:
        where = " (DIR: the folder that holds this file)"
    elif Path(folder).is_absolute():
        where = ""
    else:
        where = " (from where you ran exercises init)"
    grading = f"Grade it{where}:\n\n" + "\n".join(
        f"    {c.ljust(width)}{note}" for c, note in commands)
    if not solutions:
        grading += ("\n\nA reference solution, when you are stuck: "
                    "``python -m scratchrnn exercises init\nSOLUTIONS_DIR --solutions``.")
    shapes = ("Shapes: B batch, I input size, H hidden size; weights in torch's layout "
              "(x W^T, W_ih (G·H, I),\nW_hh (G·H, H), the gates' G blocks stacked row-wise); "
              "b_ih and b_hh may be None (no bias).")
    return (f'"""Exercise {number} of {len(EXERCISE_SETS)}: {s.title}.\n\n{what}\n\n'
            f"The slide equations:\n\n{EQUATIONS[s.stem]}\n\n{shapes}\n\n{grading}\n" '"""')


def render_set(exercise_set: ExerciseSet, solutions: bool = False, folder: str = "DIR",
               hard: bool = False) -> str:
    """The text of one exercise file (``solutions``: with the reference bodies; ``hard``:
    the stubs without TODOs, see the module docstring).

    ``folder`` is the exercises folder as the grading commands in the docstring name it.
    """
    s = exercise_set
    exercises = {e.name: _lookup(e.source, e.name) for e in s.exercises}
    home = s.exercises[0].source
    given_roots = [_lookup(*SIGMOID)] + [_lookup(home, name) for name in s.given]
    if any(e.level == "cell" for e in s.exercises):
        given_roots += [_lookup(home, name) for name in CELL_HELPERS]
    given = _closure(given_roots, set(exercises))
    helpers: list[_Definition] = []
    if solutions:
        known = {d.name for d in given}
        helpers = [d for d in _closure(list(exercises.values()), set())
                   if d.name not in known and d.name not in exercises]
    head = "\n\n".join([_docstring(s, solutions, folder, hard),
                         _imports(given + helpers + list(exercises.values())),
                         _section("Given: copied from the reference (scratchrnn), do not change")])
    parts = [head, _join(given)]
    if helpers:
        parts += [_section("The reference's private helpers that the solutions call"),
                  _join(helpers)]
    parts.append(_section("Reference solutions" if solutions else "Your code"))
    for e in s.exercises:
        d = exercises[e.name]
        parts.append(d.text if solutions else _stub(d, None if hard else TODOS[e.name]))
    return "\n\n\n".join(parts) + "\n"


def _join(defs: list[_Definition]) -> str:
    """Definitions two blank lines apart, constants next to each other."""
    out = ""
    for i, d in enumerate(defs):
        if i:
            both_constants = all(isinstance(x.node, (ast.Assign, ast.AnnAssign))
                                 for x in (defs[i - 1], d))
            out += "\n" if both_constants else "\n\n\n"
        out += d.text
    return out


def _variants(e: Exercise) -> str:
    return ", ".join(e.variants)


_SOLUTIONS_SECTION = """
## Reference solutions

```bash
python -m scratchrnn exercises init SOLUTIONS_DIR --solutions
```

writes the reference solutions into another folder. Your files are never overwritten
without `--force`, and even then each old file is kept as `FILE.bak`.
"""


def render_readme(solutions: bool = False, folder: str = "DIR", hard: bool = False) -> str:
    """The README of an exercises folder: the order, what each file asks, how to grade."""
    grade = GRADE.format(folder=folder)
    rows = []
    for number, s in enumerate(EXERCISE_SETS, 1):
        funcs = "<br>".join(f"`{e.name}` ({_variants(e)})" for e in s.exercises)
        rows.append(f"| {number} | `{s.file}` | {s.title} | {funcs} |")
    table = "\n".join(["| # | file | what | functions (graded on) |",
                       "| --- | --- | --- | --- |", *rows])
    if solutions:
        intro = ("These are the **reference solutions**: the functions of `scratchrnn.cells` "
                 "and\n`scratchrnn.gating`, copied with the helpers they call, so each file "
                 "imports with\nNumPy alone. They grade 100 %.")
    else:
        intro = ("The lecture's cells, to write again: each function below has its signature, "
                 "its\ndocstring (shapes and the slide equation) and a `# TODO` saying what to "
                 "compute;\nreplace its `raise NotImplementedError` by the computation. Work "
                 "in the order of the\ntable, easiest first: each file's docstring has the "
                 "set's slide equations.")
    if hard:
        intro = ("**Hard mode** (`exercises init --hard`): the lecture's cells, to write "
                 "again from the\nslide equations alone. Each function below has its "
                 "signature and a docstring of its\nshapes and equations (a backward: its "
                 "forward's), and no TODO; replace its\n`raise NotImplementedError` by the "
                 "computation. The same grader grades it.")
    where = ("From anywhere" if Path(folder).is_absolute()
             else "From the folder you ran `python -m scratchrnn exercises init` in")
    solutions_section = "" if solutions else _SOLUTIONS_SECTION
    return f"""# Exercises: the Elman RNN, gating, the LSTM, the GRU and BPTT by hand

{intro}

{table}

Every file starts with **given** code copied from the reference (a stable `sigmoid`,
`hidden_projection`, the cache classes): keep it as it is. A backward is graded on the
reference forward's cache, so a wrong forward cannot hide a right backward; a cell
function calls your own steps. `ex5_sequence_bptt.py` gives the sequence forward and the
step backwards too (the reference's), so that it grades your loop over t alone.

Conventions: a *step* takes the input projection `gx_t = x_t W_ih^T + b_ih` and adds
`gh_t = h_{{t-1}} W_hh^T + b_hh`; its backward returns `(dgx_t, dgh_t, dh_prev[, dc_prev])`.
A *cell* is torch's `RNNCell` / `LSTMCell` / `GRUCell` as a function; its backward returns
a dict of the gradients of `x`, the previous state and every parameter, keyed by torch's
names (`weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`).

## Grading

{where}:

```bash
{grade}                           # every function of every file
{grade} --only ex1_elman          # one file
{grade} --only elman_step_forward # one function
```

`python -m parity grade` (it needs torch: `pip install '.[torch]'` in the scratchrnn
checkout) grades each function against torch, its forward and each gradient, and says
which are not written yet.
{solutions_section}"""


# -- writing ---------------------------------------------------------------------------
def _backup_name(path: Path) -> Path:
    bak = path.with_name(path.name + ".bak")
    n = 1
    while bak.exists():
        n += 1
        bak = path.with_name(f"{path.name}.bak{n}")
    return bak


def _read_existing(path: Path) -> str | None:
    """The text of an existing file at ``path`` (None if there is none)."""
    if not path.exists() and not path.is_symlink():
        return None
    if not path.is_file():
        raise ExerciseFolderError(f"{path} exists and is not a regular file")
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        raise ExerciseFolderError(f"cannot read {path}: {exc.strerror or exc}") from None


def write_exercises(
    directory: str | Path, solutions: bool = False, force: bool = False,
    log: Callable[[str], None] | None = None, hard: bool = False,
) -> list[Path]:
    """Write the exercise files (or, with ``solutions``, the reference solutions) and the
    README into ``directory``; returns the paths written (a file already holding exactly
    that text is left alone and not returned).

    A file that exists and differs is refused (:class:`ExerciseFolderError`, nothing
    written) unless ``force``; with ``force`` it is first copied to ``NAME.bak``
    (``NAME.bak2`` … when that exists). ``log`` hears each backup. ``hard``: the hard
    mode's stubs; with ``solutions`` it is refused (the solutions are the same in both).
    """
    if hard and solutions:
        raise ExerciseFolderError("--hard and --solutions do not go together: the reference "
                                  "solutions are the same for both modes (drop --hard)")
    if str(directory).strip() == "":
        raise ExerciseFolderError("the exercises folder is empty ('')")
    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        raise ExerciseFolderError(f"{folder} is a file, not a folder")
    shown = str(directory).rstrip("/") or "/"
    texts = {s.file: render_set(s, solutions, shown, hard) for s in EXERCISE_SETS}
    texts[README] = render_readme(solutions, shown, hard)
    existing = {name: _read_existing(folder / name) for name in texts}
    changed = [name for name, text in texts.items() if existing[name] not in (None, text)]
    if changed and not force:
        raise ExerciseFolderError(
            f"{folder} already holds {', '.join(changed)} (your work?); nothing written. "
            "Use another folder, or --force to replace them (the old files are kept as .bak)")
    written: list[Path] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in texts.items():
            path = folder / name
            old = existing[name]
            if old == text:
                continue
            if old is not None:
                bak = _backup_name(path)
                atomic_write(bak, path.read_bytes())  # the bytes as they are
                if log is not None:
                    log(f"kept the old {path} as {bak.name}")
            written.append(atomic_write_text(path, text))
    except OSError as exc:
        raise ExerciseFolderError(
            f"cannot write the exercises into {folder}: {exc.strerror or exc}") from None
    return written
