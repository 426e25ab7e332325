"""The exercise notebooks' pictures: a student's activations next to the reference's.

The notebooks (examples/exercises/*.py -> notebooks/exercises/*.ipynb) run the student's
step forward over the characters of a surname and the reference step of
:mod:`scratchrnn.cells` / :mod:`scratchrnn.gating` on the same numbers, then call
:func:`side_by_side`. :func:`run_student` runs the student's function so that an
unwritten one (``NotImplementedError``) or one that raises becomes a message, not a
crash of the notebook. matplotlib is imported only when a figure is drawn.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from .grade.loader import load_exercise_file, student_traceback


def run_student(path: str | os.PathLike, name: str,
                run: Callable[[Callable], Any]) -> tuple[Any, str | None]:
    """``(run(f), None)`` for the function ``name`` of the file ``path`` (imported afresh,
    so an edit is seen), or ``(None, why)``: the file missing or not importable, the
    function missing, not written yet, or raising (its traceback, your frames only)."""
    path = os.fspath(path)
    file = os.path.basename(path)
    if not os.path.isfile(path):
        return None, f"{path} is missing (python -m scratchrnn exercises init DIR writes it)"
    module, error = load_exercise_file(path)
    if module is None:
        return None, f"{file} cannot be imported:\n{error}"
    function = getattr(module, name, None)
    if not callable(function):
        return None, f"{file} has no function {name}"
    try:
        return run(function), None
    except NotImplementedError:
        return None, f"{name} is not written yet: write it in {file}, then rerun this cell"
    except Exception as exc:
        return None, f"{name} raised:\n{student_traceback(exc, path)}"


def side_by_side(yours: dict[str, np.ndarray] | None, reference: dict[str, np.ndarray],
                 labels: str, *, title: str, vmin: float = 0.0, vmax: float = 1.0,
                 cmap: str = "viridis", problem: str | None = None, who: str = "yours"):
    """One row per quantity (``reference``'s keys, each (H, T): hidden unit × step), three
    columns: yours, the reference, |yours − reference|. ``yours`` None (with ``problem``,
    the reason) leaves the first and last columns as text; ``who`` names the first column
    (a planted slip's panels: "a slip"). Returns the figure."""
    import matplotlib.pyplot as plt

    names = list(reference)
    fig, axes = plt.subplots(len(names), 3, figsize=(9, 0.4 + 1.5 * len(names)),
                             squeeze=False, sharex=True, sharey=True)
    for row, name in zip(axes, names, strict=True):
        ref = reference[name]
        mine = None if yours is None else np.asarray(yours.get(name))
        ok = mine is not None and mine.shape == ref.shape
        image = row[1].imshow(ref, vmin=vmin, vmax=vmax, cmap=cmap, aspect="auto")
        row[1].set_title(f"{name}: reference", fontsize=9)
        if ok:
            row[0].imshow(mine, vmin=vmin, vmax=vmax, cmap=cmap, aspect="auto")
            diff = np.abs(mine - ref)
            row[2].imshow(diff, vmin=0, vmax=max(vmax - vmin, 1e-12), cmap="Reds",
                          aspect="auto")
            row[2].set_title(f"|difference|, max {diff.max():.1e}", fontsize=9)
        else:
            why = "not computed" if yours is None else f"shape {getattr(mine, 'shape', None)}"
            for ax in (row[0], row[2]):
                ax.text(0.5, 0.5, why, ha="center", va="center", transform=ax.transAxes)
            row[2].set_title("|difference|", fontsize=9)
        row[0].set_title(f"{name}: {who}", fontsize=9)
        row[0].set_ylabel("unit")
        fig.colorbar(image, ax=row[1], fraction=0.05)
    for ax in axes[-1]:
        ax.set_xticks(range(len(labels)), list(labels))
    for ax in axes.flat:
        ax.set_yticks([])
    fig.suptitle(title + ("" if problem is None else f" ({who}: see the message above)"),
                 fontsize=10)
    fig.tight_layout()
    return fig
