"""The lecture's exercises, in the lecture's order: which functions a student writes.

Each exercise is one function of the reference implementation (``scratchrnn.cells``,
``scratchrnn.gating`` or, for the loop over t, ``scratchrnn.exercises.sequence``), written
again by the student with the same name and signature.
``python -m scratchrnn exercises init DIR`` writes one file per :class:`ExerciseSet`
(docstring, shapes and slide equation kept, body replaced by a TODO); ``python -m parity
grade DIR`` grades every function of the manifest with the parity kit, on each of its
``variants`` (the kit's cell names: ``parity.kit.cells.CELLS``).

A step backward is graded on the *reference* forward's cache (the cache classes in the
exercise files have the reference's fields), so a wrong forward cannot hide a right
backward, nor the other way round. A cell function calls the student's own steps. A
sequence backward (set 5) is graded on the caches of the forward given in its file and
calls the step backward given there (the reference's), so that this set grades the loop
over t alone: a step mistake of set 1 or 3 cannot show up as a carry mistake here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Exercise:
    """One function to write.

    ``name``: the function (same name and signature as in ``source``); ``kind``:
    ``"forward"`` or ``"backward"``; ``level``: ``"step"`` (takes the input projection
    gx_t, returns the new state and a cache; its backward returns (dgx_t, dgh_t, dh_prev
    [, dc_prev])), ``"cell"`` (torch's RNNCell/LSTMCell/GRUCell as a function: the
    input projection and the parameter gradients around the step) or ``"sequence"`` (the
    backward of a whole sequence, the loop over t: graded on the *given* forward's caches,
    calling the *given* step backward); ``forward``: the forward this one is the backward
    of (None for a forward); ``variants``: the kit cells it is graded on.
    """

    name: str
    source: str
    kind: str
    level: str
    variants: tuple[str, ...]
    forward: str | None = None


@dataclass(frozen=True)
class ExerciseSet:
    """One exercise file: ``file`` (``ex1_elman.py`` …), its title, the functions to write
    (easiest first) and the names copied into the file as given code (helpers, cache
    classes, constants)."""

    file: str
    title: str
    exercises: tuple[Exercise, ...]
    given: tuple[str, ...]

    @property
    def stem(self) -> str:
        return self.file.removesuffix(".py")


_CELLS = "scratchrnn.cells"
_GATING = "scratchrnn.gating"
_ELMAN = ("elman", "elman-relu")
_GRU = ("gru", "gru-slide")
_GATED = ("gated-none", "gated-input", "gated-hidden")
_SEQUENCE = "scratchrnn.exercises.sequence"

EXERCISE_SETS: tuple[ExerciseSet, ...] = (
    ExerciseSet("ex1_elman.py", "The Elman RNN: one step, forward and backward", (
        Exercise("elman_step_forward", _CELLS, "forward", "step", _ELMAN),
        Exercise("elman_step_backward", _CELLS, "backward", "step", _ELMAN,
                 "elman_step_forward"),
        Exercise("elman_cell_forward", _CELLS, "forward", "cell", _ELMAN),
        Exercise("elman_cell_backward", _CELLS, "backward", "cell", _ELMAN,
                 "elman_cell_forward"),
    ), ("hidden_projection", "ElmanCache", "CellCache")),
    ExerciseSet("ex2_gating.py", "Gating, step by step: residual → input-gated → "
                "hidden-state-gated", (
        Exercise("gated_step_forward", _GATING, "forward", "step", _GATED),
        Exercise("gated_step_backward", _GATING, "backward", "step", _GATED,
                 "gated_step_forward"),
    ), ("GATINGS", "GATE_BLOCKS", "hidden_projection", "GatedCache")),
    ExerciseSet("ex3_lstm.py", "The LSTM: gates and the cell state", (
        Exercise("lstm_step_forward", _CELLS, "forward", "step", ("lstm",)),
        Exercise("lstm_step_backward", _CELLS, "backward", "step", ("lstm",),
                 "lstm_step_forward"),
        Exercise("lstm_cell_forward", _CELLS, "forward", "cell", ("lstm",)),
        Exercise("lstm_cell_backward", _CELLS, "backward", "cell", ("lstm",),
                 "lstm_cell_forward"),
    ), ("hidden_projection", "LSTMCache", "CellCache")),
    ExerciseSet("ex4_gru.py", "The GRU: torch's form and the slide's (Cho et al. 2014)", (
        Exercise("gru_step_forward", _CELLS, "forward", "step", _GRU),
        Exercise("gru_step_backward", _CELLS, "backward", "step", _GRU, "gru_step_forward"),
        Exercise("gru_cell_forward", _CELLS, "forward", "cell", _GRU),
        Exercise("gru_cell_backward", _CELLS, "backward", "cell", _GRU, "gru_cell_forward"),
    ), ("hidden_projection", "GRUCache", "CellCache", "gru_hidden_inputs",
        "gru_weight_hh_grad")),
    ExerciseSet("ex5_sequence_bptt.py", "Backpropagation through time: the loop over t, "
                "with the carry and the mask", (
        Exercise("elman_sequence_backward", _SEQUENCE, "backward", "sequence", _ELMAN,
                 "elman_sequence_forward"),
        Exercise("lstm_sequence_backward", _SEQUENCE, "backward", "sequence", ("lstm",),
                 "lstm_sequence_forward"),
    ), ("ElmanCache", "LSTMCache", "elman_sequence_forward", "lstm_sequence_forward",
        "elman_step_backward", "lstm_step_backward")),
)


def find_exercise(name: str) -> tuple[ExerciseSet, Exercise | None]:
    """The set and exercise named ``name`` (a function name, or a set's file or stem, which
    gives ``(set, None)``); ValueError listing the names otherwise."""
    for s in EXERCISE_SETS:
        if name in (s.file, s.stem):
            return s, None
        for e in s.exercises:
            if e.name == name:
                return s, e
    names = [s.stem for s in EXERCISE_SETS] + [e.name for s in EXERCISE_SETS for e in s.exercises]
    raise ValueError(f"no exercise {name!r}; choose from: {', '.join(names)}")
