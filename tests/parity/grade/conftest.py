"""Shared by the grader's tests: the reference solutions, as a student gets them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli


@pytest.fixture(scope="module")
def solutions(tmp_path_factory) -> Path:
    """``python -m scratchrnn exercises init DIR --solutions``, once per test module."""
    d = tmp_path_factory.mktemp("solutions")
    code, out, err = run_cli(["exercises", "init", str(d), "--solutions"])
    assert code == 0, out + err
    return d
