"""The layers of scratchrnn run one way, parity sits on top, and nothing imports in a circle.

Every import statement of every module of ``scratchrnn/`` and ``parity/`` is read
from its syntax tree (``import`` and ``from … import`` anywhere in the file, so lazy
imports inside functions count too). The properties:

* each module of ``scratchrnn/`` belongs to one layer of :data:`LAYERS`, and imports
  only from its own layer or below;
* no module of ``scratchrnn/`` but the command line (``scratchrnn.cli``, the
  composition root) imports ``parity`` or ``torch``;
* the import graph of ``scratchrnn/`` and ``parity/`` (together) has no cycle.

The checker is a function of the parsed modules, so the tests below also feed it
synthetic bad modules and see it fail.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: scratchrnn's layers (docs/architecture.md), bottom first; a module's layer is that of its
#: first name below ``scratchrnn`` (``scratchrnn.optim.clipping`` → ``optim``).
LAYERS: dict[str, int] = {
    # 0 base
    "": 0, "checks": 0, "rng": 0, "functional": 0, "module": 0, "fileio": 0, "limits": 0,
    "interrupt": 0,
    # 1 cells
    "cells": 1, "fastpath": 1, "cell_modules": 1,
    # 2 recurrent
    "recurrent": 2, "gating": 2,
    # 3 toolkit
    "layers": 3, "activations": 3, "losses": 3, "optim": 3, "checkpoint": 3, "gradcheck": 3,
    # 4 labs
    "data": 4, "fetch": 4, "models": 4, "metrics": 4, "config": 4, "train": 4, "backend": 4,
    "classify": 4, "generate": 4, "rundir": 4, "schema": 4,
    # 5 studies
    "studies": 5, "exercises": 5,
    # 6 face
    "cli": 6, "__main__": 6,
}
COMPOSITION_ROOT = "scratchrnn.cli"
OUTSIDE = ("parity", "torch")  # what only the composition root may import


def module_name(path: Path, root: Path = ROOT) -> str:
    """``scratchrnn/optim/adam.py`` → ``scratchrnn.optim.adam``; an ``__init__`` → its package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(name: str, source: str, is_package: bool, known: set[str]) -> set[str]:
    """Every module ``name``'s source imports (absolute names), lazy imports included.

    ``from X import y`` counts as an import of ``X.y`` when that is a known module
    (a submodule), else of ``X``.
    """
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in known else base)
    return found


def read_tree(root: Path = ROOT, packages=("scratchrnn", "parity")) -> dict[str, set[str]]:
    """{module: the modules it imports} for every .py file of ``packages`` under ``root``."""
    files = {module_name(p, root): p for pkg in packages for p in (root / pkg).rglob("*.py")}
    known = set(files)
    return {name: imports_of(name, path.read_text(encoding="utf-8"),
                             path.name == "__init__.py", known)
            for name, path in files.items()}


def layer_of(module: str) -> int | None:
    """The layer of a ``scratchrnn`` module, None if :data:`LAYERS` does not place it."""
    first = module.split(".")[1] if "." in module else ""
    return LAYERS.get(first)


def top(module: str) -> str:
    return module.split(".")[0]


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (a list of modules, first == last), or None."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(graph, WHITE)
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = GREY
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in graph:
                continue
            if colour[nxt] == GREY:
                return stack[stack.index(nxt):] + [nxt]
            if colour[nxt] == WHITE and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        colour[node] = BLACK
        return None

    for node in sorted(graph):
        if colour[node] == WHITE and (cycle := visit(node)):
            return cycle
    return None


def violations(tree: dict[str, set[str]]) -> list[str]:
    """Every breach of the three properties in the module docstring, one line each."""
    found = []
    for mod, targets in sorted(tree.items()):
        if top(mod) != "scratchrnn":
            continue
        mine = layer_of(mod)
        if mine is None:
            found.append(f"{mod}: not placed in a layer (add it to LAYERS)")
            continue
        for t in sorted(targets):
            if top(t) in OUTSIDE and mod != COMPOSITION_ROOT:
                found.append(f"{mod} imports {t}: only {COMPOSITION_ROOT} may import "
                             f"{' or '.join(OUTSIDE)}")
            elif top(t) == "scratchrnn":
                theirs = layer_of(t)
                if theirs is not None and theirs > mine:
                    found.append(f"{mod} (layer {mine}) imports {t} (layer {theirs}): "
                                 "against the order")
    graph = {m: {t for t in ts if t in tree and t != m} for m, ts in tree.items()}
    cycle = find_cycle(graph)  # one graph: a cycle across the two packages counts too
    if cycle:
        found.append("import cycle: " + " -> ".join(cycle))
    return found


# ---------------------------------------------------------------------------
# the real tree
# ---------------------------------------------------------------------------
def test_the_tree_keeps_the_layers_and_has_no_cycle():
    tree = read_tree()
    assert "scratchrnn.cli" in tree and "parity.runtime.backend" in tree  # it read the tree
    assert violations(tree) == []


def test_library_modules_import_neither_parity_nor_torch():
    """Spelled out on its own, as issue 11 measures it."""
    tree = read_tree()
    bad = {m: sorted(t for t in ts if top(t) in OUTSIDE) for m, ts in tree.items()
           if top(m) == "scratchrnn" and m != COMPOSITION_ROOT}
    assert {m: ts for m, ts in bad.items() if ts} == {}


# ---------------------------------------------------------------------------
# the checker fails where it must: synthetic modules written to a temporary tree
# ---------------------------------------------------------------------------
def write_tree(root: Path, files: dict[str, str]) -> dict[str, set[str]]:
    for rel, text in {"scratchrnn/__init__.py": "", "parity/__init__.py": "", **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return read_tree(root)


GOOD = {
    "scratchrnn/cells.py": "import numpy as np\n",
    "scratchrnn/recurrent.py": "from .cells import x\n",
    "scratchrnn/train.py": "from . import recurrent\n",
    "scratchrnn/cli.py": "def f():\n    from parity.runtime import backend\n",
    "parity/runtime/__init__.py": "",
    "parity/runtime/backend.py": "from scratchrnn.train import y\nfrom .. import harness\n",
    "parity/harness.py": "import scratchrnn.cells\n",
}


def test_checker_accepts_a_good_tree(tmp_path):
    tree = write_tree(tmp_path, GOOD)
    assert tree["scratchrnn.train"] == {"scratchrnn.recurrent"}
    assert tree["parity.runtime.backend"] == {"scratchrnn.train", "parity.harness"}
    assert violations(tree) == []


@pytest.mark.parametrize(("files", "expect"), [
    # an arrow against the order, even a lazy one inside a function
    ({"scratchrnn/cells.py": "def f():\n    from . import train\n"}, "against the order"),
    ({"scratchrnn/recurrent.py": "import scratchrnn.studies.jacobian\n"}, "against the order"),
    # parity or torch from a library module, lazily or not
    ({"scratchrnn/train.py": "def f():\n    from parity.runtime.backend import T\n"},
     "only scratchrnn.cli"),
    ({"scratchrnn/recurrent.py": "import torch.nn\n"}, "only scratchrnn.cli"),
    # a module no layer holds
    ({"scratchrnn/newthing.py": ""}, "not placed in a layer"),
    # cycles, inside one layer, in scratchrnn and in parity
    ({"scratchrnn/classify.py": "from .train import a\n",
      "scratchrnn/train.py": "def f():\n    from . import classify\n"}, "import cycle"),
    ({"parity/harness.py": "from .runtime.backend import b\n"}, "import cycle"),
    ({"scratchrnn/cli.py": "from parity.runtime.backend import c\n",
      "parity/harness.py": "from scratchrnn import cli\n"}, "import cycle"),
])
def test_checker_rejects_a_bad_module(tmp_path, files, expect):
    tree = write_tree(tmp_path, {**GOOD, **files})
    found = violations(tree)
    assert found and all(isinstance(v, str) for v in found)
    assert any(expect in v for v in found), found
