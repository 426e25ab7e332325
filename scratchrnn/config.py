"""One frozen dataclass per job: the settings of each lab and study, defaults written once.

One name per setting, from the command line to the checkpoint and the JSON output:
a field is named as its flag with ``-`` → ``_`` (``--batch-size`` → ``batch_size``);
a ``--no-X`` flag sets the field ``X`` to False (``--no-class-weights`` →
``class_weights``, ``--no-radius`` → ``radius``). :mod:`scratchrnn.cli` builds a
config from its arguments (:func:`from_namespace`: a flag not given keeps the
field's default), the labs store it in the checkpoint's meta (``hyperparameters
["config"]``) and in ``metrics.json`` / ``--json``.

Fields without a flag (``JacobianConfig.batch``, ``AddingConfig.eval_every`` …) are
settings a caller of the library may change; the command line keeps their defaults.

Checkpoints written before these configs existed stored flat hyperparameters under
other names (``hidden_size``, ``embedding_size``, ``num_layers``);
:func:`checkpoint_hyperparameters` maps them.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import asdict, dataclass, fields
from typing import Any, TypeVar

from . import limits
from .limits import RANGES

BACKENDS = ("numpy", "torch")

C = TypeVar("C")


def _normalise(config: Any) -> None:
    """Paths become strings, lists tuples: a config is JSON-ready and hashable. Every
    numeric field with a documented range (:mod:`scratchrnn.limits`) is checked."""
    _check_ranges(config)
    for f in fields(config):
        value = getattr(config, f.name)
        if isinstance(value, os.PathLike):
            object.__setattr__(config, f.name, os.fspath(value))
        elif isinstance(value, list):
            object.__setattr__(config, f.name, tuple(os.fspath(v) if isinstance(v, os.PathLike)
                                                     else v for v in value))


def _check_ranges(config: Any) -> None:
    """ValueError naming the flag and its range for a numeric field outside it."""
    for f in fields(config):
        value = getattr(config, f.name)
        if f.name not in RANGES or value is None:
            continue
        for item in value if isinstance(value, (list, tuple)) else (value,):
            limits.check(f.name, item)


def _check_choice(name: str, value: object, choices: tuple) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(str, choices))}, got {value!r}")


@dataclass(frozen=True)
class LabRunConfig:
    """What both labs share: the training schedule, the backend and where things go.

    A lab's config adds its model's fields; ``batch_size`` and ``out`` it sets again
    where its default differs. ``reference``: run the step functions of ``cells.py``
    instead of the fast path.
    """

    epochs: int = 100
    batch_size: int = 64
    lr: float = 1e-3
    seed: int = 1337
    early_stopping: int = 5
    clip: float | None = None
    backend: str = "numpy"
    device: str = "cpu"
    reference: bool = False
    data: str | None = None
    out: str = "runs/lab"
    resume: bool = False

    def __post_init__(self) -> None:
        _normalise(self)
        _check_choice("backend", self.backend, BACKENDS)


@dataclass(frozen=True)
class ClassifierConfig(LabRunConfig):
    """Lab 1, ``classify train``: the model, with the schedule of :class:`LabRunConfig`.

    ``forget_bias`` (LSTM): added to the forget gate's bias at initialisation; None
    means 1 for an LSTM (the usual remedy for early forgetting, Jozefowicz et al. 2015)
    and 0 otherwise (torch's initialisation exactly); the stored config holds the number.
    """

    cell: str = "elman"
    hidden: int = 64
    embedding: int = 100
    layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.5
    class_weights: bool = True
    forget_bias: float | None = None
    out: str = "runs/classify"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_choice("cell", self.cell, ("elman", "lstm", "gru"))
        if self.forget_bias is None:
            object.__setattr__(self, "forget_bias", 1.0 if self.cell == "lstm" else 0.0)


@dataclass(frozen=True)
class GeneratorConfig(LabRunConfig):
    """Lab 2, ``generate train``: a character language model, conditioned or not."""

    cell: str = "gru"
    conditioned: bool = False
    hidden: int = 32
    embedding: int = 32
    layers: int = 1
    dropout: float = 0.5
    batch_size: int = 128
    out: str = "runs/generate"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_choice("cell", self.cell, ("gru", "lstm", "elman"))


@dataclass(frozen=True)
class JacobianConfig:
    """``study jacobian``: ‖∂h_T/∂h_t‖ at initialisation, across ρ, for trained models.

    ``cells`` None: every cell of the study. ``steps``: the sequence length T;
    ``seeds`` models × ``batch`` sequences per curve; inputs of size ``input_size``
    (None: the hidden size). ``radius`` False skips the sweep over ``rhos``.
    ``model``: directories of trained classifiers, studied on real surnames.
    """

    cells: tuple[str, ...] | None = None
    steps: int = 100
    hidden: int = 64
    seeds: int = 5
    radius: bool = True
    model: tuple[str, ...] = ()
    seed: int = 0
    reference: bool = False
    data: str | None = None
    out: str = "runs/study-jacobian"
    batch: int = 4
    input_size: int | None = None
    rhos: tuple[float, ...] = (0.5, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5)
    plot: bool = True

    def __post_init__(self) -> None:
        _normalise(self)


@dataclass(frozen=True)
class GradflowConfig:
    """``study gradflow``: ‖∂L/∂h_t‖ per step while lab 1 trains, on ``monitor`` surnames."""

    cells: tuple[str, ...] = ("elman", "lstm", "gru")
    epochs: int = 10
    hidden: int = 64
    batch_size: int = 64
    seed: int = 1337
    reference: bool = False
    data: str | None = None
    out: str = "runs/study-gradflow"
    monitor: int = 256

    def __post_init__(self) -> None:
        _normalise(self)
        for cell in self.cells:
            _check_choice("cell", cell, ("elman", "lstm", "gru"))


@dataclass(frozen=True)
class AddingConfig:
    """``study adding``: every cell on every length under one budget of ``updates``.

    Defaults and their cost: see :mod:`scratchrnn.studies.adding`. ``cells`` None:
    every cell the backend has. Each run: Adam (``lr``), gradients clipped to ``clip``,
    fresh batches of ``batch_size``, the held-out MSE on ``eval_size`` sequences every
    ``eval_every`` updates; "solved" below ``threshold``.
    """

    # each config declares its own fields and defaults (written once): alike only in shape
    cells: tuple[str, ...] | None = None
    lengths: tuple[int, ...] = (10, 25, 50, 100)
    updates: int = 1500
    lr: float = 1e-2
    hidden: int = 32
    workers: int = 1
    backend: str = "numpy"
    device: str = "cpu"
    seed: int = 0
    reference: bool = False
    out: str = "runs/study-adding"
    batch_size: int = 32
    clip: float = 1.0
    eval_every: int = 50
    eval_size: int = 500
    threshold: float = 0.01
    dtype: str = "float32"

    def __post_init__(self) -> None:
        _normalise(self)
        _check_choice("backend", self.backend, BACKENDS)


@dataclass(frozen=True)
class GatesConfig:
    """``study gates``: gate values of a trained LSTM/GRU model on a few surnames.

    No ``reference`` field: this study always runs the reference step functions
    (their caches hold the gate values).
    """

    model: str = ""
    surname: tuple[str, ...] = ("Nakamura", "O'Neill", "Schmidt")
    nationality: str | None = None
    data: str | None = None
    out: str = "runs/study-gates"

    def __post_init__(self) -> None:
        _normalise(self)


def default(cls: type, name: str) -> Any:
    """The default of field ``name`` of config class ``cls`` (for help texts)."""
    for f in fields(cls):
        if f.name == name:
            return f.default
    raise KeyError(f"{cls.__name__} has no field {name!r}")


def from_namespace(cls: type[C], ns: argparse.Namespace) -> C:
    """``cls`` from parsed arguments: a field whose argument is missing or None keeps its
    default; lists become tuples (the configs are frozen and hashable)."""
    kw = {}
    for f in fields(cls):
        value = getattr(ns, f.name, None)
        if value is not None:
            kw[f.name] = tuple(value) if isinstance(value, list) else value
    return cls(**kw)


def to_dict(config: Any) -> dict[str, Any]:
    """The config as a JSON-ready dict (tuples become lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(config).items()}


#: names in checkpoints written before the configs → the config's names
LEGACY_NAMES = {"hidden_size": "hidden", "embedding_size": "embedding", "num_layers": "layers"}


def checkpoint_hyperparameters(cls: type, hp: dict) -> dict:
    """A checkpoint's ``hyperparameters`` in today's layout: ``{"config": {...}, ...}``.

    Today's layout passes through (its config checked by building ``cls``). The old flat
    layout (``hidden_size``, ``embedding_size``, ``num_layers`` …) is mapped: its names
    renamed, its config fields gathered under ``config`` (settings it did not store keep
    their defaults), the sizes taken from the data (``num_embeddings``, ``prior`` …) kept
    beside it. An old classifier without ``forget_bias`` was built with none (0).
    """
    names = {f.name for f in fields(cls)}
    if "config" in hp:
        return {**hp, "config": to_dict(cls(**_as_tuples(hp["config"], names)))}
    renamed = {LEGACY_NAMES.get(k, k): v for k, v in hp.items()}
    config = {k: v for k, v in renamed.items() if k in names}
    if cls is ClassifierConfig:
        config.setdefault("forget_bias", 0.0)
    rest = {k: v for k, v in renamed.items() if k not in names}
    return {"config": to_dict(cls(**_as_tuples(config, names))), **rest}


def flat_hyperparameters(hp: dict) -> dict:
    """Today's ``{"config": {...}, sizes …}`` as one flat dict (the config's fields beside the
    sizes); a flat (old) layout passes through."""
    if "config" not in hp:
        return dict(hp)
    return {**hp["config"], **{k: v for k, v in hp.items() if k != "config"}}


def _as_tuples(kw: dict, names: set[str]) -> dict:
    unknown = sorted(set(kw) - names)
    if unknown:
        raise ValueError(f"unknown settings in the checkpoint's config: {', '.join(unknown)}")
    return {k: tuple(v) if isinstance(v, list) else v for k, v in kw.items()}


__all__ = ["AddingConfig", "ClassifierConfig", "GatesConfig", "GeneratorConfig",
           "GradflowConfig", "JacobianConfig", "checkpoint_hyperparameters", "default",
           "flat_hyperparameters",
           "from_namespace", "to_dict"]
