"""Recurrent layers from other ecosystems (ONNX Runtime, Keras 3, Flax), seen as torch sees
them.

Each adapter module in :data:`ADAPTERS` exposes ``load(spec, **options) -> ForeignLayer``,
``from_torch_state_dict(cell, state_dict, **options) -> ForeignLayer`` (a layer of that
runtime holding torch's weights: the golden vectors load through it); :data:`REQUIRES` names
the imports each adapter's extra installs. :func:`load_adapter` imports one, turning a
missing extra into one line: ``install the extra: pip install '.[onnx]'``. The checkers are
:func:`parity.ecosystems.check.check_foreign` and, for the golden vectors,
:func:`parity.ecosystems.check.load_vectors_into`; the diagnosis of a mismatch
:mod:`parity.ecosystems.diagnose`.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType

import numpy as np

ADAPTERS = {"onnx": "parity.ecosystems.onnx", "keras": "parity.ecosystems.keras",
            "flax": "parity.ecosystems.flax"}
#: the imports each adapter needs (its extra installs them), checked before it is imported
REQUIRES = {"onnx": ("onnx", "onnxruntime", "torch"), "keras": ("keras", "torch"),
             "flax": ("jax", "flax", "torch")}


@dataclass
class ForeignLayer:
    """A foreign recurrent layer, its weights in torch's names, and how to run it."""

    ecosystem: str                 # "onnx" | "keras" | "flax"
    cell: str                      # "rnn_tanh" | "rnn_relu" | "lstm" | "gru"
    input_size: int
    hidden_size: int
    bidirectional: bool
    batch_first: bool              # the foreign layout (for the report only; run() takes (T,B,I))
    state_dict: dict[str, np.ndarray]  # torch nn.RNN/LSTM/GRU names+shapes (weight_ih_l0,
                                   #   bias_hh_l0, ..._reverse), mapped under the ecosystem's
                                   #   DOCUMENTED conventions
    conventions: list[str]         # report header lines, e.g. "LSTM gate order i,o,f,c
                                   #   (torch: i,f,g,o)"
    missing: list[str]             # what the foreign cell cannot hold, e.g. ["input biases
                                   #   b_ih"]; those entries are zeros in state_dict
    run: Callable                  # run(x: (T,B,I), h0: (L·D,B,H)|None, c0=None) -> dict with
                                   #   "output" (T,B,D*H), "h_n" (L·D,B,H), "c_n" for LSTM
    gradients: Callable | None     # gradients(x, h0, c0, d_output) -> dict "d_input", "d_h0",
                                   #   ("d_c0"), "d_" + torch parameter name; None: no autodiff
    dtype: str = "float64"         # what the runtime computes in
    num_layers: int = 1            # stacked layers (state_dict has _l0 … _l{L-1}); h0 (L·D,B,H)
    native: dict = field(default_factory=dict)   # foreign-native parameters, for diagnosis;
                                   #   "accepts_h0": False when run() takes no initial state


class MissingExtra(ImportError):
    """An adapter's extra is not installed: its message is the one line to print."""


def load_adapter(ecosystem: str) -> ModuleType:
    """The adapter module of ``ecosystem``; :class:`MissingExtra` (one line) without its
    extra, ``KeyError`` for an unknown name."""
    if ecosystem not in ADAPTERS:
        raise KeyError(f"unknown ecosystem {ecosystem!r}: one of {', '.join(ADAPTERS)}")
    lacking = [m for m in REQUIRES[ecosystem] if importlib.util.find_spec(m) is None]
    if lacking:
        raise MissingExtra(f"{ecosystem} needs {', '.join(lacking)}: install the extra: "
                           f"pip install '.[{ecosystem}]'")
    return importlib.import_module(ADAPTERS[ecosystem])
