"""Examples that cannot rot: every ``examples/*.py`` and every Python block of the README runs.

The examples train for one epoch (``SCRATCHRNN_EPOCHS=1``, which every training example
honours). Where jupytext, nbclient and ipykernel are installed (CI: the ``notebooks``
extra), tests/test_notebooks.py executes every example as a notebook instead, so the
script run here is skipped rather than doubled. Those that read the surnames data skip,
saying so, when it is not here (see data/README.md); the ones that need torch skip
without it. A README block is run as written, in a fresh interpreter, from a temporary
directory.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
DATA = ROOT / "data" / "surnames" / "surnames_with_splits.csv"
AS_NOTEBOOKS = all(importlib.util.find_spec(m) is not None
                   for m in ("jupytext", "nbclient", "nbformat", "ipykernel"))
FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["SCRATCHRNN_EPOCHS"] = "1"
    env["MPLBACKEND"] = "Agg"
    return env


def _run(args: list[str], cwd: Path, timeout: float = 600) -> None:
    proc = subprocess.run([sys.executable, *args], cwd=cwd, env=_env(), capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, (
        f"{' '.join(args)} exited {proc.returncode}\n--- stdout\n{proc.stdout[-4000:]}"
        f"\n--- stderr\n{proc.stderr[-4000:]}")


def test_there_are_examples_and_readme_blocks():
    assert len(EXAMPLES) >= 6
    assert len(FENCE.findall((ROOT / "README.md").read_text(encoding="utf-8"))) >= 1


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script: Path):
    source = script.read_text(encoding="utf-8")
    if "surnames_with_splits.csv" in source and not DATA.is_file():
        pytest.skip(f"{script.name} needs {DATA.relative_to(ROOT)} (see data/README.md)")
    if re.search(r"^(import torch|from parity)", source, re.MULTILINE) and \
            importlib.util.find_spec("torch") is None:
        pytest.skip(f"{script.name} needs torch")
    if re.search(r"^\s*for .* range\(EPOCHS\)|epochs=\d", source, re.MULTILINE):
        pytest.fail(f"{script.name} trains for a fixed number of epochs: use SCRATCHRNN_EPOCHS")
    if AS_NOTEBOOKS:
        pytest.skip(f"{script.name} is executed as a notebook by tests/test_notebooks.py")
    _run([str(script)], cwd=ROOT)


def _readme_blocks() -> list[tuple[str, str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = []
    for match in FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        blocks.append((f"README.md:{line}", match.group(1)))
    return blocks


@pytest.mark.parametrize("where, code", _readme_blocks(), ids=[w for w, _ in _readme_blocks()])
def test_readme_python_block_runs(where: str, code: str, tmp_path: Path):
    script = tmp_path / "block.py"
    script.write_text(code, encoding="utf-8")
    _run([str(script)], cwd=tmp_path)
