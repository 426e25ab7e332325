"""Recurrent layers from other ecosystems (ONNX Runtime, Keras 3, Flax), seen as torch sees
them.

Each adapter module in :data:`ADAPTERS` exposes ``load(spec, **options) -> ForeignLayer``,
``from_torch_state_dict(cell, state_dict, **options) -> ForeignLayer`` (a layer of that
runtime holding torch's weights: the golden vectors load through it) and ``REQUIRES`` (the
import names its extra installs). :func:`load_adapter` imports one, turning a missing extra
into one line: ``install the extra: pip install '.[onnx]'``. The checker is
:func:`parity.ecosystems.check.check_foreign`; the diagnosis of a mismatch
:mod:`parity.ecosystems.conventions`.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType

import numpy as np

ADAPTERS = {"onnx": "parity.ecosystems.onnx", "keras": "parity.ecosystems.keras",
            "flax": "parity.ecosystems.flax"}
_REQUIRES = {"onnx": ("onnx", "onnxruntime", "torch"), "keras": ("keras", "torch"),
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
    run: Callable                  # run(x: (T,B,I), h0: (D,B,H)|None, c0=None) -> dict with
                                   #   "output" (T,B,D*H), "h_n" (D,B,H), "c_n" for LSTM
    gradients: Callable | None     # gradients(x, h0, c0, d_output) -> dict "d_input", "d_h0",
                                   #   ("d_c0"), "d_" + torch parameter name; None: no autodiff
    dtype: str = "float64"         # what the runtime computes in
    native: dict = field(default_factory=dict)   # foreign-native parameters, for diagnosis;
                                   #   "accepts_h0": False when run() takes no initial state


class MissingExtra(ImportError):
    """An adapter's extra is not installed: its message is the one line to print."""


def load_adapter(ecosystem: str) -> ModuleType:
    """The adapter module of ``ecosystem``; :class:`MissingExtra` (one line) without its
    extra, ``KeyError`` for an unknown name."""
    if ecosystem not in ADAPTERS:
        raise KeyError(f"unknown ecosystem {ecosystem!r}: one of {', '.join(ADAPTERS)}")
    lacking = [m for m in _REQUIRES[ecosystem] if importlib.util.find_spec(m) is None]
    if lacking:
        raise MissingExtra(f"{ecosystem} needs {', '.join(lacking)}: install the extra: "
                           f"pip install '.[{ecosystem}]'")
    return importlib.import_module(ADAPTERS[ecosystem])


VECTOR_CELLS = {"elman": "rnn_tanh", "elman-relu": "rnn_relu", "lstm": "lstm", "gru": "gru"}


def load_vectors_into(ecosystem: str, vector_dir: str, **options) -> list[dict]:
    """Load every golden vector of ``vector_dir`` (``python -m parity vectors --out DIR``) that
    one torch layer describes into ``ecosystem``'s runtime (its ``from_torch_state_dict``), run
    it on the vector's input and compare with the vector's outputs (torch's).

    Returns one row per vector: ``name``, ``cell``, ``dtype``, ``max_rel`` (largest
    |runtime − vector| / max(1, |vector|) over output, h_n, c_n), ``tol`` and ``ok``; vectors
    the runtime cannot hold (several layers, projections, variable lengths, the slide's GRU)
    are rows with ``skipped`` saying why.
    """
    import json

    module = load_adapter(ecosystem)
    with open(os.path.join(vector_dir, "manifest.json")) as fh:
        manifest = json.load(fh)
    rows = []
    for entry in manifest["configs"]:
        name = entry.get("name") or entry.get("file", "?")
        path = os.path.join(vector_dir, entry.get("file", name + ".npz"))
        opts = entry.get("options", entry)
        cell = VECTOR_CELLS.get(opts.get("cell", ""))
        why = None
        if cell is None:
            why = f"cell {opts.get('cell')!r} has no foreign counterpart"
        else:
            why = "; ".join(w for w, held in (
                (f"{opts.get('num_layers')} layers", opts.get("num_layers", 1) != 1),
                ("an LSTM projection", bool(opts.get("proj_size"))),
                ("variable lengths", bool(opts.get("lengths")))) if held) or None
            why = why and why + " (this check loads one layer over full sequences)"
        row = {"name": name, "cell": cell, "dtype": opts.get("dtype", "float64")}
        if why:
            rows.append({**row, "skipped": why})
            continue
        a = dict(np.load(path))
        sd = {k[len("param."):]: v for k, v in a.items() if k.startswith("param.")}
        try:
            layer = module.from_torch_state_dict(cell, sd, **options)
        except Exception as exc:  # the runtime cannot hold it: say so in the row
            rows.append({**row, "skipped": f"{type(exc).__name__}: {exc}"})
            continue
        got = layer.run(a["input"].astype(np.float64), a.get("h0"), a.get("c0"))
        errs = [_rel(got[k], a[k]) for k in ("output", "h_n", "c_n") if k in a and k in got]
        tol = 1e-9 if (row["dtype"] == "float64" and layer.dtype == "float64") else 1e-4
        rows.append({**row, "runtime_dtype": layer.dtype, "max_rel": max(errs), "tol": tol,
                     "ok": max(errs) <= tol})
    return rows


def _rel(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b)))) if a.size else 0.0
