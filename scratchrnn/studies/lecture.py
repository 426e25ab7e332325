"""What the lecture's example scripts (``examples/0*.py``) share: where they read and
write, their training budget and cell, and the optional plot.

    DATA, OUT, EPOCHS, CELL = example_settings(ROOT, "04_surname_generation", cell="gru")
    plt = pyplot()  # matplotlib.pyplot, or None (said in one line) when not installed
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

CELL_CHOICES = ("elman", "lstm", "gru")


class ExampleSettings(NamedTuple):
    data: Path  # ROOT/data/surnames: the surnames CSVs (git-ignored)
    out: Path  # ROOT/runs/examples/NAME: the example's model and metrics
    epochs: int  # SCRATCHRNN_EPOCHS, default 100 (training stops early before that)
    cell: str  # SCRATCHRNN_CELL, default the example's own


def _fail(line: str) -> None:
    print(line, file=sys.stderr)
    raise SystemExit(2)


def example_settings(root: Path, name: str, cell: str = "gru") -> ExampleSettings:
    """The settings of example ``name`` run from the checkout ``root``.

    ``SCRATCHRNN_EPOCHS`` (a whole number ≥ 1, default 100) and ``SCRATCHRNN_CELL``
    (elman | lstm | gru, default ``cell``) come from the environment; a wrong value is
    one line on stderr and exit status 2.
    """
    raw = os.environ.get("SCRATCHRNN_EPOCHS", "100")
    if not raw.strip().isdigit() or int(raw) < 1:
        _fail(f"SCRATCHRNN_EPOCHS must be a whole number >= 1, got {raw!r}")
    chosen = os.environ.get("SCRATCHRNN_CELL", cell)
    if chosen not in CELL_CHOICES:
        _fail(f"SCRATCHRNN_CELL must be one of {', '.join(CELL_CHOICES)}, got {chosen!r}")
    root = Path(root)
    return ExampleSettings(root / "data" / "surnames", root / "runs" / "examples" / name,
                           int(raw), chosen)


def pyplot() -> ModuleType | None:
    """matplotlib.pyplot as the caller's backend has it (inline in a notebook), or None
    with one line saying the plot is skipped (``pip install -e '.[plot]'`` adds it)."""
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        print("\nmatplotlib is not installed: skipping the plot")
        return None
    return plt
