"""What every exercise notebook does the same way, in one place (examples/exercises/ex*.py).

A notebook (``examples/exercises/exN_NAME.py`` → ``notebooks/exercises/exN_NAME.ipynb``)
opens the student's folder (:func:`open_exercises`), grades one function per cell
(:func:`grade_cell`), runs the student's function on a surname next to the reference's
(:func:`surname_weights`, :func:`over_surname`, :func:`against_reference`) and draws both
(:func:`show`). What stays in each notebook is what differs: the function graded, the
equations said, the quantity drawn. The five notebooks stay alike in shape on purpose (the
duplicate finder pairs them): one cell per graded function, so that a student reruns the
cell of the function just edited; a loop over the names would make one cell of them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np

from scratchrnn.exercises.template import write_exercises

from ..exercise_plots import run_student, side_by_side
from .grader import grade

#: the folder a notebook grades, from the repository root, unless SCRATCHRNN_EXERCISES says
DEFAULT_FOLDER = "my_exercises"


def open_exercises(file: str, root: str | os.PathLike) -> tuple[str, Path]:
    """``(EXERCISES, FILE)``: the student's folder (SCRATCHRNN_EXERCISES, else
    ``my_exercises``, named from the repository ``root``, which becomes the working folder)
    and the exercise file ``file`` in it; when the file is not there yet, the exercises are
    written there first, as ``exercises init`` would."""
    os.chdir(root)
    folder = os.environ.get("SCRATCHRNN_EXERCISES", DEFAULT_FOLDER)
    path = Path(folder) / file
    if not path.exists():
        print(f"no {path} yet: python -m scratchrnn exercises init {folder}")
        write_exercises(folder, log=print)
    print(f"grading {path}")
    return folder, path


def grade_cell(folder: str, name: str) -> None:
    """Grade one function of ``folder`` and print the report (a notebook cell's work)."""
    print(grade(folder, only=name).text())


class SurnameWeights(NamedTuple):
    """A surname's characters (fixed random embedding) and fixed random weights."""

    surname: str
    x_seq: np.ndarray  # (T, B=1, E)
    W_ih: np.ndarray  # (G·H, E)
    W_hh: np.ndarray  # (G·H, H)
    b_ih: np.ndarray  # (G·H,)
    b_hh: np.ndarray  # (G·H,)


def surname_weights(gates: int, surname: str = "Nakamura", E: int = 8,
                    H: int = 8) -> SurnameWeights:
    """The characters of ``surname`` through an embedding of size E, and weights U(−1, 1)
    for ``gates`` blocks of H units (seed 0: every notebook the same numbers)."""
    rng = np.random.default_rng(0)
    embedding = rng.standard_normal((26, E))
    x_seq = embedding[[ord(c) - ord("a") for c in surname.lower()]][:, None, :]
    W_ih, W_hh = rng.uniform(-1, 1, (gates * H, E)), rng.uniform(-1, 1, (gates * H, H))
    b_ih, b_hh = rng.uniform(-1, 1, gates * H), rng.uniform(-1, 1, gates * H)
    return SurnameWeights(surname, x_seq, W_ih, W_hh, b_ih, b_hh)


def over_surname(w: SurnameWeights, step: Callable, state, fields: tuple[str, ...]
                 ) -> dict[str, np.ndarray]:
    """Run ``step(gx_t, state) -> (state, cache)`` over the characters of ``w`` (gx_t =
    x_t W_ih^T + b_ih) from ``state``; each of ``fields`` read from the step caches,
    (H, T): hidden unit × character."""
    seen: dict[str, list] = {f: [] for f in fields}
    for x_t in w.x_seq:
        state, cache = step(x_t @ w.W_ih.T + w.b_ih, state)
        for f in fields:
            seen[f].append(getattr(cache, f)[0])
    return {f: np.array(v).T for f, v in seen.items()}


def against_reference(file: str | os.PathLike, name: str, run: Callable[[Callable], dict],
                      reference_function: Callable) -> tuple[dict | None, dict, str | None]:
    """``run`` with the student's ``name`` of ``file`` and with the reference's function:
    ``(yours, reference, problem)``; prints the problem (an unwritten function, a
    traceback) or the largest |yours − reference| of each quantity."""
    reference = run(reference_function)
    yours, problem = run_student(file, name, run)
    if problem:
        print(problem)
    else:
        print("max |yours − reference|: " + ", ".join(
            f"{k} {np.abs(yours[k] - reference[k]).max():.1e}" for k in reference))
    return yours, reference, problem


def show(yours: dict[str, np.ndarray] | None, reference: dict[str, np.ndarray], labels: str,
         problem: str | None, **kw) -> None:
    """:func:`~parity.exercise_plots.side_by_side`, shown; a line instead when matplotlib
    is not installed."""
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (pip install -e '.[plot]')")
        return
    side_by_side(yours, reference, labels, problem=problem, **kw)
    plt.show()


def show_slip(run: Callable[[Callable], dict], reference: dict[str, np.ndarray],
              slip: Callable, labels: str, **kw) -> dict[str, np.ndarray]:
    """The panels of :func:`show` for ``run(slip)``, a planted mistake of
    :mod:`parity.grade.slips`: what the difference column shows when something is wrong.
    Prints the slip (its docstring's first line) and its largest difference; returns what
    ``run(slip)`` gave."""
    slipped = run(slip)
    print((slip.__doc__ or slip.__name__).splitlines()[0] + "\nmax |slip − reference|: "
          + ", ".join(f"{k} {np.abs(slipped[k] - reference[k]).max():.1e}" for k in reference))
    kw["title"] = "a slip: " + kw.get("title", "")
    show(slipped, reference, labels, None, who="a slip", **kw)
    return slipped
