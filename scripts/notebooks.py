"""The examples as executed notebooks: examples/NAME.py (percent format) -> notebooks/NAME.ipynb.

    python scripts/notebooks.py                 # all of them, executed  (make notebooks)
    python scripts/notebooks.py 01_elman_rnn    # only these (a name, a path, or NAME.py)
    python scripts/notebooks.py --check         # execute nothing: is every notebook current?

A notebook is its example as jupytext reads it, the module docstring turned into the
title cell, executed by nbclient with an IPython kernel in the notebook's own folder (as
Jupyter runs it), the training examples with a short epoch budget (SCRATCHRNN_EPOCHS,
``--epochs``), plots inline as PNG. Cell ids, kernel versions and timings are left out,
so a rerun changes only what the code printed or drew. ``--check`` (and
tests/test_notebooks.py) fail when a notebook's cells differ from its example's or an
example has no notebook; nothing else is compared, so outputs may come from any run.

Needs the ``notebooks`` extra: ``pip install -e '.[notebooks]'``.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "surnames" / "surnames_with_splits.csv"
EPOCHS = 10  # the training examples' budget for the committed notebooks
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
NEEDED = ("jupytext", "nbclient", "nbformat", "ipykernel")


@dataclass(frozen=True)
class Pair:
    """An example (percent-format source) and the notebook made from it."""

    source: Path
    notebook: Path

    @property
    def name(self) -> str:
        return self.source.stem


def pairs(root: Path = ROOT) -> list[Pair]:
    """Every examples/NAME.py with its notebooks/NAME.ipynb, in name order."""
    return [Pair(p, root / "notebooks" / f"{p.stem}.ipynb")
            for p in sorted((root / "examples").glob("*.py"))]


def missing_packages() -> list[str]:
    return [name for name in NEEDED if importlib.util.find_spec(name) is None]


def cannot_run(source: Path, root: Path = ROOT) -> str | None:
    """Why ``source`` cannot run here (surnames data or torch missing), or None."""
    text = source.read_text(encoding="utf-8")
    data = root / DATA.relative_to(ROOT)
    if "surnames_with_splits.csv" in text and not data.is_file():
        return f"needs {data.relative_to(root)} (make data; see data/README.md)"
    if re.search(r"^(import torch|from parity)", text, re.MULTILINE) and \
            importlib.util.find_spec("torch") is None:
        return "needs torch"
    return None


def _docstring(source: str) -> str | None:
    """The text of ``source`` if it is nothing but a string literal (a module docstring)."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return None
    if len(body) == 1 and isinstance(body[0], ast.Expr) and \
            isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
        return body[0].value.value
    return None


def notebook_from_source(pair: Pair):
    """The unexecuted notebook of ``pair.source``: jupytext's cells, the docstring as title.

    The module docstring (jupytext's first cell, code) becomes a markdown cell: its first
    line a heading, then the rest, then a line saying where the notebook comes from.
    Every other cell is jupytext's, source unchanged; cell metadata is dropped.
    """
    import jupytext
    import nbformat

    nb = jupytext.read(pair.source)
    link = os.path.relpath(pair.source, pair.notebook.parent).replace(os.sep, "/")
    where = (f"*This notebook is generated from [`{pair.source.name}`]({link}) by "
             "`make notebooks`: edit the script, then regenerate.*")
    cells = []
    for cell in nb.cells:
        doc = _docstring(cell.source) if cell.cell_type == "code" and not cells else None
        if doc is not None:
            title, _, rest = doc.strip().partition("\n")
            cells.append(nbformat.v4.new_markdown_cell(f"# {title}\n{rest}\n\n{where}"))
        elif cell.cell_type == "code":
            cells.append(nbformat.v4.new_code_cell(cell.source))
        else:
            cells.append(nbformat.v4.new_markdown_cell(cell.source))
    if not cells or cells[0].cell_type != "markdown":
        cells.insert(0, nbformat.v4.new_markdown_cell(where))
    out = nbformat.v4.new_notebook(cells=cells)
    return _settle(out)


def _settle(nb):
    """Fixed cell ids and metadata: nothing in the file changes between two runs but outputs."""
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i}"
        cell.metadata = {}
    return nb


def cells(nb) -> list[tuple[str, str]]:
    """(cell type, source) of every cell: what the drift check compares."""
    return [(c.cell_type, c.source) for c in nb.cells]


def drift(pair: Pair, root: Path = ROOT) -> str | None:
    """Why ``pair.notebook`` is not current with ``pair.source`` (one line), or None."""
    import nbformat

    where = pair.notebook.relative_to(root)
    if not pair.notebook.is_file():
        return f"{where}: missing (examples/{pair.source.name} has no notebook)"
    try:
        committed = cells(nbformat.read(pair.notebook, as_version=4))
    except Exception as exc:  # a damaged file: say so in one line
        return f"{where}: unreadable ({type(exc).__name__}: {exc})"
    fresh = cells(notebook_from_source(pair))
    for i, (old, new) in enumerate(zip(committed, fresh, strict=False)):  # lengths: below
        if old != new:
            first = (new[1].strip().splitlines() or [""])[0][:60]
            return (f"{where}: cell {i} ({new[0]}, {first!r}) differs from "
                    f"examples/{pair.source.name}")
    if len(committed) != len(fresh):
        return (f"{where}: {len(committed)} cells, examples/{pair.source.name} "
                f"has {len(fresh)}")
    return None


def orphans(root: Path = ROOT) -> list[Path]:
    """Notebooks in notebooks/ whose example is gone."""
    made = {p.notebook for p in pairs(root)}
    return sorted(p for p in (root / "notebooks").glob("*.ipynb") if p not in made)


class ExecutionFailed(Exception):
    """A cell raised: ``str()`` is one line, ``detail`` the whole traceback."""

    def __init__(self, line: str, detail: str):
        super().__init__(line)
        self.detail = detail


def kernel_env(epochs: int, root: Path = ROOT) -> dict[str, str]:
    """The kernel's environment: this checkout importable, the epoch budget, inline plots."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    env["SCRATCHRNN_EPOCHS"] = str(epochs)
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"  # debugpy's frozen-modules warning
    return env


def execute(pair: Pair, epochs: int, timeout: int = 600, root: Path = ROOT):
    """The notebook of ``pair`` executed in its own folder; ExecutionFailed if a cell raises."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = notebook_from_source(pair)
    pair.notebook.parent.mkdir(parents=True, exist_ok=True)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            coalesce_streams=True,
                            extra_arguments=["--log-level=ERROR"],  # not its TCP warning
                            resources={"metadata": {"path": str(pair.notebook.parent)}})
    try:
        client.execute(env=kernel_env(epochs, root))
    except CellExecutionError as exc:
        failed = next((i for i, c in enumerate(nb.cells) if any(
            o.get("output_type") == "error" for o in c.get("outputs", []))), "?")
        line = f"examples/{pair.source.name}, cell {failed}: {exc.ename}: {exc.evalue}"
        raise ExecutionFailed(line, str(exc)) from None
    return _settle(nb)


def write(nb, path: Path) -> None:
    import nbformat

    from scratchrnn.fileio import atomic_write_text

    nbformat.validate(nb)
    text = nbformat.writes(nb)
    atomic_write_text(path, text if text.endswith("\n") else text + "\n")


def _select(names: list[str], root: Path) -> list[Pair]:
    every = pairs(root)
    if not names:
        return every
    by_name = {p.name: p for p in every}
    chosen = []
    for name in names:
        stem = Path(name).stem
        if stem not in by_name:
            raise SystemExit(f"notebooks: no example {name!r} (examples: "
                             f"{', '.join(by_name)})")
        chosen.append(by_name[stem])
    return chosen


def main(argv: list[str] | None = None, root: Path = ROOT) -> int:
    parser = argparse.ArgumentParser(
        prog="python scripts/notebooks.py",
        description="Execute each examples/NAME.py as notebooks/NAME.ipynb (outputs, plots).")
    parser.add_argument("examples", nargs="*", metavar="EXAMPLE",
                        help="only these examples (NAME, NAME.py or a path); default all")
    parser.add_argument("--check", action="store_true",
                        help="execute nothing; exit 1 if a notebook is missing or its cells "
                             "differ from its example's")
    parser.add_argument("--epochs", type=int, default=EPOCHS,
                        help=f"SCRATCHRNN_EPOCHS for the training examples (default {EPOCHS})")
    parser.add_argument("--timeout", type=int, default=600,
                        help="seconds one cell may run (default 600)")
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.timeout < 1:
        parser.error("--epochs and --timeout must be >= 1")
    if missing := missing_packages():
        print(f"notebooks: {', '.join(missing)} not installed: "
              "pip install -e '.[notebooks]' (make notebooks installs it)", file=sys.stderr)
        return 1
    try:
        chosen = _select(args.examples, root)
    except SystemExit as exc:
        print(exc, file=sys.stderr)
        return 1

    if args.check:
        problems = [d for p in chosen if (d := drift(p, root))]
        if not args.examples:
            problems += [f"{p.relative_to(root)}: no examples/{p.stem}.py (remove it)"
                         for p in orphans(root)]
        for line in problems:
            print(f"notebooks: {line}", file=sys.stderr)
        if problems:
            print("notebooks: run `make notebooks` and commit the notebooks", file=sys.stderr)
            return 1
        print(f"notebooks: {len(chosen)} notebooks current with their examples")
        return 0

    blocked = [(p, why) for p in chosen if (why := cannot_run(p.source, root))]
    if blocked:
        for p, why in blocked:
            print(f"notebooks: examples/{p.source.name} {why}", file=sys.stderr)
        return 1
    for pair in chosen:
        print(f"executing examples/{pair.source.name} -> {pair.notebook.relative_to(root)}",
              flush=True)
        try:
            nb = execute(pair, args.epochs, args.timeout, root)
        except ExecutionFailed as exc:
            print(f"notebooks: {exc} ({pair.notebook.relative_to(root)} left as it was)",
                  file=sys.stderr)
            return 1
        write(nb, pair.notebook)
        print(f"  wrote {pair.notebook.relative_to(root)} "
              f"({pair.notebook.stat().st_size / 1024:.0f} KB)")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))  # scratchrnn.fileio, from this checkout
    sys.exit(main())
