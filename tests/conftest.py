"""Shared test settings: hypothesis profiles (a quick default for development, a fuller
one for CI), the ``needs_torch`` marker, the float64 parity tolerance, the ``seeds`` strategy and
the synthetic surname CSVs the lab, CLI and reliability tests train on
(``from tests.conftest import …``).

Select with HYPOTHESIS_PROFILE=ci (``.ci/run`` does).
"""

import contextlib
import csv
import importlib.util
import io
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

#: skip a test when torch is not installed (``from tests.conftest import needs_torch``)
needs_torch = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None, reason="torch is not installed"
)
#: float64 parity with torch: relative to max(1, |torch value|), as parity.report's TOLERANCE
PARITY_TOL = 1e-9
#: any seed numpy.random.default_rng accepts as a 32-bit value
seeds = st.integers(0, 2**32 - 1)

#: three nationalities, each spelling its surnames from its own letters (learnable)
LETTERS = {"English": "bcdhklmnrstw", "Japanese": "kmnstuaio", "Russian": "vkoshnv"}
#: the nationalities of :func:`synthetic_rows` (letters drawn from one alphabet for all)
NATIONS = ["Czech", "German", "Polish", "Korean"]


def write_synthetic_csv(path: Path, seed: int = 0, sizes=(("train", 30), ("val", 10),
                                                          ("test", 10))) -> Path:
    """nationality,split,surname rows: the nationalities of :data:`LETTERS`, each from its
    own letters, ``sizes`` rows per split (30 train / 10 val / 10 test)."""
    rng = np.random.default_rng(seed)
    nats = list(LETTERS)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["nationality", "split", "surname"])
        for split, n in sizes:
            for i in range(n):
                nat = nats[i % len(nats)]
                k = int(rng.integers(3, 8))
                name = "".join(rng.choice(list(LETTERS[nat]), size=k)).capitalize()
                w.writerow([nat, split, name])
    return path


def synthetic_rows(n_train: int = 24, seed: int = 0) -> list[tuple[str, str, str]]:
    """(nationality, split, surname) rows of invented surnames (never the third-party data)."""
    rng = np.random.default_rng(seed)
    letters = list("abcdefghijklmnopqrstuvwxyzáéöüł")
    rows = []
    for split, n in (("train", n_train), ("val", 8), ("test", 8)):
        for i in range(n):
            name = "".join(rng.choice(letters, size=rng.integers(2, 9))).capitalize()
            rows.append((NATIONS[i % len(NATIONS)], split, name))
    return rows


def write_csv(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    """``rows`` under the header nationality,split,surname (no quoting: plain names)."""
    lines = ["nationality,split,surname"] + [",".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def synthetic_csv(directory: Path, n_train: int = 24, seed: int = 0) -> Path:
    """``directory``/surnames_with_splits.csv of :func:`synthetic_rows`."""
    return write_csv(directory / "surnames_with_splits.csv", synthetic_rows(n_train, seed))


#: the smallest lab settings the CLI tests train with
TINY = ["--hidden", "4", "--embedding", "4", "--batch-size", "8", "--no-progress"]


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``python -m scratchrnn ARGV`` run in this process
    (``main(argv)``, argparse's SystemExit included)."""
    from scratchrnn.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    return code, out.getvalue(), err.getvalue()


settings.register_profile(
    "default",
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "ci",
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# Tiny tensors: one torch thread is fastest and does not fight the BLAS threads.
try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # torch is optional; its tests skip
    pass
