"""Recurrent layers from other ecosystems (ONNX Runtime, Keras 3, Flax), seen as torch sees
them: each adapter module in :data:`ADAPTERS` exposes ``load(spec, **options) ->
ForeignLayer`` and ``REQUIRES`` (the import names its extra installs).

Written on branch ``keras`` as the minimum of the interface in the onnx brief (the ``onnx``
branch owns this file; on merge its version replaces this one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

ADAPTERS = {"onnx": "parity.ecosystems.onnx", "keras": "parity.ecosystems.keras",
            "flax": "parity.ecosystems.flax"}


@dataclass
class ForeignLayer:
    """A foreign recurrent layer, its weights in torch's names, and how to run it."""

    ecosystem: str                 # "onnx" | "keras" | "flax"
    cell: str                      # "rnn_tanh" | "rnn_relu" | "lstm" | "gru"
    input_size: int
    hidden_size: int
    bidirectional: bool
    batch_first: bool              # the foreign layout (for the report only; run() takes (T,B,I))
    state_dict: dict[str, np.ndarray]  # torch nn.RNN/LSTM/GRU names+shapes, mapped under the
                                   #   ecosystem's documented conventions
    conventions: list[str]         # report header lines
    missing: list[str]             # what the foreign cell cannot hold (zeros in state_dict)
    run: Callable                  # run(x: (T,B,I), h0: (D,B,H)|None, c0=None) -> dict with
                                   #   "output" (T,B,D*H), "h_n" (D,B,H), "c_n" for LSTM
    gradients: Callable | None     # gradients(x, h0, c0, d_output) -> dict "d_input", "d_h0",
                                   #   ("d_c0"), "d_" + torch parameter name; None: no autodiff
    dtype: str = "float64"         # what the runtime computes in
    native: dict = field(default_factory=dict)   # foreign-native parameters, for diagnosis
