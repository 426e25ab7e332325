"""The documented valid range of every numeric setting, checked before any work starts.

One table, used by the command line (each flag's ``type=``), by the configs and by
the checkpoint validator (a checkpoint's hyperparameters must lie in the same
ranges as the flags that made them). The bounds are generous for the labs (the
surnames have at most 17 characters, the models a few hundred units) and small
enough that no value in range can exhaust memory on its own.

=====================  ==========================  =======================================
setting                range                       why the bound
=====================  ==========================  =======================================
--hidden               1 … 4096                    4096² float32 weights per gate = 64 MiB
--embedding            1 … 4096
--layers               1 … 16
--epochs               1 … 1,000,000
--batch-size           1 … 65,536
--lr                   0 < lr, finite               a huge lr diverges: exit 1, not 2
--dropout              0 ≤ p < 1
--clip                 0 < clip ≤ 1e9
--early-stopping       1 … 1,000,000
--seed                 0 … 2⁶³ − 1                 NumPy seeds are non-negative
--device               cpu; with torch: what       checked against torch.cuda and
                       torch reports available     torch.backends.mps
--forget-bias          −100 … 100
--topk                 1 … 10,000
sample -n              1 … 10,000
sample --max-length    1 … 1,000 characters    with -n: at most 80 MB of indices
sample --temperature   0.01 … 100                  below 0.01 logits/T overflow float64
sample --top-k         1 … 10,000
study --steps          1 … 10,000
study --seeds          1 … 1,000
study --updates        1 … 10,000,000
study --lengths        1 … 10,000
study --workers        1 … 256
data fetch --timeout   0 < seconds ≤ 86,400
a CSV surname          at most 64 characters       :data:`MAX_SURNAME_LENGTH`
a vocabulary           at most 100,000 tokens      :data:`MAX_VOCABULARY`
=====================  ==========================  =======================================
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

__all__ = ["Range", "RANGES", "MAX_SURNAME_LENGTH", "MAX_VOCABULARY", "check", "parser"]

#: the longest surname a CSV may hold (the surnames data's longest is 17)
MAX_SURNAME_LENGTH = 64
#: the most tokens a saved vocabulary may hold
MAX_VOCABULARY = 100_000


@dataclass(frozen=True)
class Range:
    """A closed (or, with ``low_open``/``high_open``, open-ended) interval of ints or floats."""

    low: float
    high: float
    integer: bool = True
    low_open: bool = False
    high_open: bool = False

    def describe(self) -> str:
        if self.integer:
            return f"a whole number from {_num(self.low)} to {_num(self.high)}"
        left = ">" if self.low_open else ">="
        right = "<" if self.high_open else "<="
        return f"a number {left} {_num(self.low)} and {right} {_num(self.high)}"

    def contains(self, value: object) -> bool:
        if isinstance(value, bool):
            return False
        if self.integer:
            if not isinstance(value, int):
                return False
        elif not isinstance(value, (int, float)) or not math.isfinite(value):
            return False
        low_ok = value > self.low if self.low_open else value >= self.low
        high_ok = value < self.high if self.high_open else value <= self.high
        return low_ok and high_ok


def _num(x: float) -> str:
    if float(x).is_integer() and abs(x) < 1e7:
        return f"{int(x):,}"
    return f"{x:g}"


_HIDDEN = Range(1, 4096)
RANGES: dict[str, Range] = {
    "hidden": _HIDDEN,
    "embedding": Range(1, 4096),
    "layers": Range(1, 16),
    "epochs": Range(1, 1_000_000),
    "batch_size": Range(1, 65_536),
    "lr": Range(0.0, sys.float_info.max, integer=False, low_open=True),
    "dropout": Range(0.0, 1.0, integer=False, high_open=True),
    "clip": Range(0.0, 1e9, integer=False, low_open=True),
    "early_stopping": Range(1, 1_000_000),
    "seed": Range(0, 2**63 - 1),
    "forget_bias": Range(-100.0, 100.0, integer=False),
    "timeout": Range(0.0, 86_400.0, integer=False, low_open=True),
    "topk": Range(1, 10_000),
    "n": Range(1, 10_000),
    "max_length": Range(1, 1000),
    "temperature": Range(0.01, 100.0, integer=False),
    "top_k": Range(1, 10_000),
    "steps": Range(1, 10_000),
    "seeds": Range(1, 1000),
    "updates": Range(1, 10_000_000),
    "lengths": Range(1, 10_000),
    "workers": Range(1, 256),
}


def _flag(name: str) -> str:
    return "-n" if name == "n" else "--" + name.replace("_", "-")


def check(name: str, value: object) -> int | float:
    """``value`` if it lies in ``RANGES[name]``; otherwise ValueError naming the flag and range."""
    rng = RANGES[name]
    if not rng.contains(value):
        raise ValueError(f"{_flag(name)} must be {rng.describe()}, got {value!r}")
    return value  # type: ignore[return-value]


def parser(name: str):
    """An argparse ``type=`` for the flag ``name``: parses and range-checks its text.

    Raises ``argparse.ArgumentTypeError`` (a one-line usage error) out of range.
    """
    import argparse

    rng = RANGES[name]

    def parse(text: str) -> int | float:
        try:
            value: int | float = int(text) if rng.integer else float(text)
        except ValueError:
            kind = "a whole number" if rng.integer else "a number"
            raise argparse.ArgumentTypeError(f"expected {kind}, got {text!r}") from None
        if not rng.contains(value):
            raise argparse.ArgumentTypeError(f"must be {rng.describe()}, got {text}")
        return value

    parse.__name__ = name  # argparse names the type in its messages
    return parse
