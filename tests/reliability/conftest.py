"""Shared by the fault-injection tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from scratchrnn import classify, generate

from .kit import synthetic_csv


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """A tiny classifier and a tiny conditioned generator, one epoch each (copy before
    damaging them): ``{"csv", "clf", "gen"}``."""
    root = tmp_path_factory.mktemp("runs")
    csv = synthetic_csv(root)
    quiet = dict(progress=False, log=lambda msg: None)
    classify.train(data=str(csv), out=root / "clf", hidden=4, embedding=4, epochs=1,
                   batch_size=8, **quiet)
    generate.train(data=str(csv), out=root / "gen", hidden=4, embedding=4, epochs=1,
                   batch_size=8, conditioned=True, **quiet)
    return {"csv": csv, "clf": root / "clf", "gen": root / "gen"}
