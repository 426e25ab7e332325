"""Check a :class:`ForeignLayer` against its torch twin: outputs, states and gradients.

The twin is ``torch.nn.RNN/LSTM/GRU`` in float64 holding ``layer.state_dict`` (the foreign
weights mapped into torch's names under the ecosystem's documented conventions). Both run on
the same random inputs, several shapes (T, B), with and without an initial state; the table
has one row per quantity with the largest relative difference ``|foreign − torch| / max(1,
|torch|)`` over all examples, against the parity policy's tolerance (float64 1e-9; a runtime
computing in float32: 1e-4). On a mismatch :func:`parity.ecosystems.diagnose.name_convention`
tries variant twins and names the convention that differs.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np

from ..kit.diagnose import TOLERANCE
from . import ForeignLayer, load_adapter
from .diagnose import name_convention, relative

TWINS = {"rnn_tanh": "RNN", "rnn_relu": "RNN", "lstm": "LSTM", "gru": "GRU"}


@dataclass
class Row:
    """One quantity: the largest relative difference over the examples."""

    quantity: str
    max_rel: float
    tol: float

    @property
    def passed(self) -> bool:
        return bool(self.max_rel <= self.tol)


@dataclass
class ForeignReport:
    """The table and verdict of one check (``text()`` for a person, ``to_dict()``)."""

    layer: ForeignLayer
    rows: list[Row]
    examples: int
    diagnosis: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.rows)

    def text(self) -> str:
        lay = self.layer
        directions = "bidirectional" if lay.bidirectional else "one direction"
        layers = "" if lay.num_layers == 1 else f"{lay.num_layers} layers, "
        head = (f"{lay.ecosystem} {TWINS[lay.cell]} ({lay.cell}), input {lay.input_size}, "
                f"hidden {lay.hidden_size}, {layers}{directions}, computed in {lay.dtype}; against "
                f"torch.nn.{TWINS[lay.cell]} (float64) on {self.examples} examples")
        lines = [head, "conventions:"] + [f"  {c}" for c in lay.conventions]
        for m in lay.missing:
            lines.append(f"  {m} missing: zero on the torch side, the subset that can match "
                         "is checked")
        if self.layer.gradients is None:
            lines.append(f"  {lay.ecosystem} gives no gradients here: outputs and states only")
        width = max(len(r.quantity) for r in self.rows)
        lines.append(f"{'quantity':<{width}}  max rel diff  tolerance  ok")
        for r in self.rows:
            lines.append(f"{r.quantity:<{width}}  {r.max_rel:12.2e}  {r.tol:9.0e}  "
                         f"{'yes' if r.passed else 'NO'}")
        if self.passed:
            lines.append(f"PASS: the {lay.ecosystem} layer equals torch.nn.{TWINS[lay.cell]}")
        else:
            bad = ", ".join(r.quantity for r in self.rows if not r.passed)
            lines.append(f"FAIL ({bad}): " + ("; ".join(self.diagnosis) if self.diagnosis
                                                else "no single convention explains it"))
        return "\n".join(lines)

    def to_dict(self) -> dict:
        lay = self.layer
        return {"ecosystem": lay.ecosystem, "cell": lay.cell, "input_size": lay.input_size,
                "hidden_size": lay.hidden_size, "num_layers": lay.num_layers,
                "bidirectional": lay.bidirectional,
                "dtype": lay.dtype, "conventions": lay.conventions, "missing": lay.missing,
                "examples": self.examples, "passed": self.passed, "diagnosis": self.diagnosis,
                "rows": [{"quantity": r.quantity, "max_rel": r.max_rel, "tol": r.tol,
                          "passed": r.passed} for r in self.rows]}


def twin(layer: ForeignLayer, state_dict: dict | None = None):
    """torch.nn.RNN / LSTM / GRU in float64 holding ``state_dict`` (default the layer's)."""
    import torch

    cls = getattr(torch.nn, TWINS[layer.cell])
    kw = {"nonlinearity": layer.cell[4:]} if layer.cell.startswith("rnn_") else {}
    m = cls(layer.input_size, layer.hidden_size, num_layers=layer.num_layers,
            bidirectional=layer.bidirectional, **kw)
    m = m.double()
    sd = layer.state_dict if state_dict is None else state_dict
    m.load_state_dict({k: torch.tensor(np.asarray(v, dtype=np.float64)) for k, v in sd.items()})
    return m


def _inputs(layer: ForeignLayer, rng: np.random.Generator, with_state: bool):
    T, B = int(rng.integers(1, 7)), int(rng.integers(1, 4))
    LD, H = (2 if layer.bidirectional else 1) * layer.num_layers, layer.hidden_size
    x = rng.standard_normal((T, B, layer.input_size))
    h0 = rng.standard_normal((LD, B, H)) if with_state else None
    c0 = rng.standard_normal((LD, B, H)) if with_state and layer.cell == "lstm" else None
    return x, h0, c0


def torch_reference(m, layer: ForeignLayer, x, h0, c0, d_output=None) -> dict:
    """The twin's output, h_n (c_n) and, with ``d_output``, the gradients of Σ out ⊙ d."""
    import torch

    xt = torch.tensor(x, requires_grad=True)
    ht = None if h0 is None else torch.tensor(h0, requires_grad=True)
    ct = None if c0 is None else torch.tensor(c0, requires_grad=True)
    state = (ht, ct) if layer.cell == "lstm" and ht is not None else ht
    out, s = m(xt, state)
    ref = {"output": out, "h_n": s[0] if layer.cell == "lstm" else s}
    if layer.cell == "lstm":
        ref["c_n"] = s[1]
    got = {k: v.detach().numpy() for k, v in ref.items()}
    if d_output is not None:
        m.zero_grad()
        (out * torch.tensor(d_output)).sum().backward()
        got["d_input"] = xt.grad.numpy()
        if ht is not None:
            got["d_h0"] = ht.grad.numpy()
        if ct is not None:
            got["d_c0"] = ct.grad.numpy()
        for name, p in m.named_parameters():
            got["d_" + name] = p.grad.numpy()
    return got


def check_foreign(layer: ForeignLayer, *, examples: int = 4, seed: int = 0,
                  tol: float | None = None) -> ForeignReport:
    """Run ``layer`` and its torch twin on ``examples`` random cases (every other one with
    an initial state) and compare every output, state and gradient the layer gives."""
    tol = TOLERANCE[layer.dtype] if tol is None else float(tol)
    rng = np.random.default_rng(seed)
    m = twin(layer)
    worst: dict[str, float] = {}
    first = None
    for k in range(max(1, int(examples))):
        x, h0, c0 = _inputs(layer, rng, with_state=k % 2 == 0)
        got = layer.run(x, h0, c0)
        d = None
        if layer.gradients is not None:
            d = rng.standard_normal(np.shape(got["output"]))
            got = {**got, **layer.gradients(x, h0, c0, d)}
        ref = torch_reference(m, layer, x, h0, c0, d)
        if first is None and h0 is not None:
            first = (x, h0, c0, got)
        for name, value in ref.items():
            if name in got:
                worst[name] = max(worst.get(name, 0.0), relative(got[name], value))
    rows = [Row(name, err, tol) for name, err in worst.items()]
    report = ForeignReport(layer, rows, max(1, int(examples)))
    if not report.passed:
        x, h0, c0, got = first if first is not None else (*_inputs(layer, rng, True), None)
        if got is None:
            got = layer.run(x, h0, c0)
        report.diagnosis = name_convention(layer, x, h0, c0, got, tol)
    return report


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
    module = load_adapter(ecosystem)
    holds = getattr(module, "HOLDS", ())  # ONNX: variable lengths, several layers
    with open(os.path.join(vector_dir, "manifest.json")) as fh:
        manifest = json.load(fh)
    rows = []
    for entry in manifest["configs"]:
        name = entry.get("name") or entry.get("file", "?")
        path = os.path.join(vector_dir, entry.get("file", name + ".npz"))
        opts = entry.get("options", entry)
        cell = VECTOR_CELLS.get(opts.get("cell", ""))
        if cell is None:
            why = f"cell {opts.get('cell')!r} has no foreign counterpart"
        else:
            why = "; ".join(w for w, held in (
                (f"{opts.get('num_layers')} layers",
                 opts.get("num_layers", 1) != 1 and "layers" not in holds),
                ("an LSTM projection", bool(opts.get("proj_size"))),
                ("variable lengths", bool(opts.get("lengths")) and "lengths" not in holds))
                if held) or None
            why = why and why + (" (not held by this runtime's check)" if holds else
                                 " (this check loads one layer over full sequences)")
        row = {"name": name, "cell": cell, "dtype": opts.get("dtype", "float64")}
        if why:
            rows.append({**row, "skipped": why})
            continue
        a = dict(np.load(path))
        sd = {k[len("param."):]: v for k, v in a.items() if k.startswith("param.")}
        lengths = a.get("lengths")  # (B,) where the vector's lengths vary
        try:
            layer = module.from_torch_state_dict(
                cell, sd, bidirectional=bool(opts.get("bidirectional")),
                lengths=lengths is not None, **options)
        except Exception as exc:  # the runtime cannot hold it: say so in the row
            rows.append({**row, "skipped": f"{type(exc).__name__}: {exc}"})
            continue
        x = a["input"].astype(np.float64)
        first = bool(opts.get("batch_first"))  # the vectors' arrays are as torch's module saw
        got = layer.run(x.transpose(1, 0, 2) if first else x, a.get("h0"), a.get("c0"),
                        **({} if lengths is None else {"seq_lengths": lengths}))
        if first:
            got = {**got, "output": got["output"].transpose(1, 0, 2)}
        errs = [relative(got[k], a[k]) for k in ("output", "h_n", "c_n") if k in a and k in got]
        both64 = row["dtype"] == "float64" and layer.dtype == "float64"
        tol = TOLERANCE["float64" if both64 else "float32"]
        rows.append({**row, "runtime_dtype": layer.dtype, "max_rel": max(errs), "tol": tol,
                     "ok": max(errs) <= tol})
    return rows
