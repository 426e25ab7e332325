r"""Golden vectors: torch's (or, for the slide GRU, scratchrnn's) numbers on disk, for
engines in other languages to check their RNNs against without torch.

``python -m parity vectors --out DIR [--cells ...] [--seed S]`` writes ``DIR/manifest.json``
and one ``DIR/<name>.npz`` per configuration. :data:`CONFIGS` covers every option: the
cells (Elman tanh/ReLU, LSTM, GRU in torch's form and the slide's), bias or not, 1–3
layers, one or two directions, full or variable lengths, time- or batch-first, given or
absent h0/c0, LSTM projections; each in float64 and float32.

Keys of each ``.npz`` (torch's layouts and names; T steps, B batch, L layers, D
directions, H hidden, P = proj_size or H)::

    param.<name>      weights, e.g. param.weight_ih_l0 (G·H, I), param.bias_hh_l1_reverse
    input             (T, B, I), or (B, T, I) when batch_first
    h0, c0            (L·D, B, P), (L·D, B, H)           only when the config gives them
    lengths           (B,) int64                          only with variable lengths
    d_output, d_h_n, d_c_n   the upstream gradients (shapes of output, h_n, c_n)
    output, h_n, c_n  the forward's results
    grad.input, grad.h0, grad.c0, grad.<param name>   the gradients of
                      loss = Σ output ⊙ d_output + Σ h_n ⊙ d_h_n (+ Σ c_n ⊙ d_c_n)

The same seed writes the same arrays, bit for bit (inputs from NumPy's PCG64, outputs
from torch on one CPU thread).
"""

from __future__ import annotations

import json
import os
from dataclasses import replace

import numpy as np

from scratchrnn.fileio import atomic_write, atomic_write_text

from .cases import SeqSpec, make_seq_case
from .diagnose import TOLERANCE
from .references import sequence_reference

SCHEMA_VERSION = 1
_BASE = dict(batch=3, steps=4, input_size=3, hidden_size=4)
# (name, options): each in float64 and float32; the list is the documented coverage
CONFIGS: list[tuple[str, dict]] = [
    ("elman-tanh", dict(cell="elman")),
    ("elman-relu-2layer-bi-nobias", dict(cell="elman-relu", num_layers=2, bidirectional=True,
                                         bias=False)),
    ("elman-tanh-lengths-batchfirst-noh0", dict(cell="elman", lengths=True, batch_first=True,
                                                h0=False)),
    ("lstm", dict(cell="lstm")),
    ("lstm-2layer-bi-lengths", dict(cell="lstm", num_layers=2, bidirectional=True,
                                    lengths=True)),
    ("lstm-proj-batchfirst", dict(cell="lstm", proj_size=2, batch_first=True)),
    ("lstm-3layer-noh0-nobias", dict(cell="lstm", num_layers=3, h0=False, bias=False)),
    ("gru", dict(cell="gru")),
    ("gru-bi-lengths-batchfirst", dict(cell="gru", bidirectional=True, lengths=True,
                                       batch_first=True)),
    ("gru-2layer-noh0-nobias", dict(cell="gru", num_layers=2, h0=False, bias=False)),
    ("gru-slide", dict(cell="gru-slide")),
    ("gru-slide-2layer-bi-lengths", dict(cell="gru-slide", num_layers=2, bidirectional=True,
                                         lengths=True)),
]
DTYPES = ("float64", "float32")


def vector_specs(cells: list[str] | None = None, seed: int = 0) -> list[tuple[str, SeqSpec]]:
    """(file stem, spec) for every configuration × dtype, seeds derived from ``seed``."""
    out = []
    for i, (name, opts) in enumerate(CONFIGS):
        if cells and opts["cell"] not in cells:
            continue
        for j, dtype in enumerate(DTYPES):
            spec = SeqSpec(**{**_BASE, **opts}, dtype=dtype, seed=seed * 1000 + 2 * i + j)
            out.append((f"{name}-{dtype}", spec))
    return out


def vector_arrays(spec: SeqSpec) -> dict[str, np.ndarray]:
    """Every array of one configuration under the ``.npz`` keys above."""
    case = make_seq_case(spec)
    ref = sequence_reference(case)
    lstm = spec.cell == "lstm"
    a = {f"param.{k}": v for k, v in case.params.items()}
    a["input"] = case.x
    if case.hx is not None:
        a.update({"h0": case.hx[0], "c0": case.hx[1]} if lstm else {"h0": case.hx})
    if case.lengths is not None:
        a["lengths"] = case.lengths
    a["d_output"] = case.d_output
    a.update({"d_h_n": case.d_hx_n[0], "d_c_n": case.d_hx_n[1]} if lstm else
             {"d_h_n": case.d_hx_n})
    for k, v in ref.items():  # output, h_n, c_n; d_input, d_h0, d_<param> → grad.<…>
        a["grad." + k[2:] if k.startswith("d_") else k] = v
    return {k: np.ascontiguousarray(v) for k, v in a.items()}


def write_vectors(out: str, cells: list[str] | None = None, seed: int = 0) -> dict:
    """Write ``out/manifest.json`` and one ``.npz`` per configuration; return the manifest."""
    from .._torch import import_torch

    torch = import_torch()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    os.makedirs(out, exist_ok=True)
    configs = []
    try:
        for stem, spec in vector_specs(cells, seed):
            arrays = vector_arrays(spec)
            # atomic: a crash or a second run writing the same folder leaves whole files
            atomic_write(os.path.join(out, stem + ".npz"),
                         lambda f, arrays=arrays: np.savez(f, **arrays))
            reference = ("scratchrnn's NumPy slide/Cho GRU (torch has none)"
                         if spec.cell == "gru-slide" else
                         {"lstm": "torch.nn.LSTM", "gru": "torch.nn.GRU"}.get(spec.cell,
                                                                              "torch.nn.RNN"))
            configs.append({
                "name": stem, "file": stem + ".npz", "reference": reference,
                "options": {k: v for k, v in spec.__dict__.items() if k != "seed"},
                "arrays": {k: {"shape": list(v.shape), "dtype": v.dtype.name}
                           for k, v in arrays.items()},
            })
    finally:
        torch.set_num_threads(threads)
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "generator": f"python -m parity vectors --seed {seed}",
        "torch_version": torch.__version__,
        "tolerance": {**TOLERANCE, "measure": "max |yours - ref| / max(1, |ref|) over every "
                                             "element, per array"},
        "schema": {
            "param.<name>": "torch state_dict name and shape, e.g. weight_ih_l0 (G*H, I); "
                            "gate blocks stacked row-wise: LSTM i,f,g,o; GRU r,z,n",
            "input": "(T, B, I), or (B, T, I) if options.batch_first",
            "h0 / c0": "(L*D, B, P) / (L*D, B, H); absent when options.h0 is false (zeros)",
            "lengths": "(B,) int64, only if options.lengths (packed-sequence semantics)",
            "d_output, d_h_n, d_c_n": "upstream gradients, shapes of output, h_n, c_n",
            "output, h_n, c_n": "forward results; output zero past each sequence's length",
            "grad.<x>": "gradient of sum(output*d_output) + sum(h_n*d_h_n) [+ sum(c_n*d_c_n)] "
                        "with respect to input, h0, c0 or a parameter",
            "options.cell": "elman (tanh), elman-relu, lstm, gru (torch's form), gru-slide "
                            "(reset before W_hn; h = (1-z) h_prev + z h~)",
        },
        "configs": configs,
    }
    atomic_write_text(os.path.join(out, "manifest.json"), json.dumps(manifest, indent=1))
    return manifest


def spec_from_manifest(entry: dict) -> SeqSpec:
    """The :class:`SeqSpec` of a manifest entry (seed 0: the arrays come from the file)."""
    return replace(SeqSpec(**entry["options"]), seed=0)
