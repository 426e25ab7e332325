"""The lecture's exercises: the cells' functions to write again, graded by ``python -m parity
grade`` (see :mod:`scratchrnn.exercises.manifest`)."""

from .manifest import EXERCISE_SETS, Exercise, ExerciseSet, find_exercise

__all__ = ["EXERCISE_SETS", "Exercise", "ExerciseSet", "find_exercise"]
