"""References: what a user's cell or sequence is compared with.

* torch's cells (``RNNCell``, ``LSTMCell``, ``GRUCell``) and fused modules (``RNN``,
  ``LSTM``, ``GRU``, packed sequences for variable lengths), built from the weights alone:
  no scratchrnn module is needed (:func:`cell_reference`, :func:`sequence_reference`);
* the slide/Cho GRU (``gru-slide``): torch has none, so the reference is scratchrnn's
  NumPy slide form (itself tested against torch's form and finite differences);
* the gating-progression cells (``gated-*``): no torch module computes them; the
  forward is :mod:`scratchrnn.gating`'s and the gradients are central finite differences
  of it (:mod:`scratchrnn.gradcheck`), good to ~1e-7, hence
  :data:`~parity.kit.diagnose.FD_TOLERANCE` for their gradients.

Every reference returns one dict: outputs first (``h_next``, ``c_next`` / ``output``,
``h_n``, ``c_n``), then gradients under ``d_`` + the name (``d_x``, ``d_h_prev``,
``d_weight_ih`` … / ``d_input``, ``d_h0``, ``d_weight_ih_l0`` …), all NumPy.
"""

from __future__ import annotations

import numpy as np

from scratchrnn import cells as sc
from scratchrnn.gating import gated_step_forward
from scratchrnn.gradcheck import numerical_gradient

from .._torch import import_torch
from ..compare import torch_cell_reference
from .cases import CellCase, SeqCase, SeqSpec
from .diagnose import FD_TOLERANCE

REFERENCE_NAMES = {
    "elman": "torch.nn.RNNCell(nonlinearity='tanh')",
    "elman-relu": "torch.nn.RNNCell(nonlinearity='relu')",
    "lstm": "torch.nn.LSTMCell",
    "gru": "torch.nn.GRUCell",
    "gru-slide": "scratchrnn's NumPy slide/Cho GRU (torch has no slide-form GRU)",
    "gated-none": "scratchrnn.gating forward + finite differences (no torch module exists)",
    "gated-input": "scratchrnn.gating forward + finite differences (no torch module exists)",
    "gated-hidden": "scratchrnn.gating forward + finite differences (no torch module exists)",
}


def gradient_tolerance(cell: str) -> float | None:
    """Extra floor for gradient tolerances: FD references are good to ~1e-7 only."""
    return FD_TOLERANCE if cell.startswith("gated-") else None


def cell_reference(case: CellCase, device: str = "cpu") -> dict[str, np.ndarray]:
    """Outputs and gradients of one step for ``case`` (loss Σ new_state ⊙ d_state)."""
    cell = case.spec.cell
    if cell == "gru-slide":
        return _slide_gru(case)
    if cell.startswith("gated-"):
        return _gated_fd(case)
    return _torch_cell(case, device)


def _torch_cell(case: CellCase, device: str) -> dict:
    """torch's RNNCell / LSTMCell / GRUCell, through the harness's
    :func:`parity.compare.torch_cell_reference` (the kit's case in its dict form)."""
    cell, p = case.spec.cell, case.params
    h, c = case.state if cell == "lstm" else (case.state, None)
    d_h, d_c = case.d_state if cell == "lstm" else (case.d_state, None)
    harness_case = {"x": case.x, "h": h, "c": c, "d_h": d_h, "d_c": d_c,
                    "weight_ih": p["weight_ih"], "weight_hh": p["weight_hh"],
                    "bias_ih": p.get("bias_ih"), "bias_hh": p.get("bias_hh")}
    nonlinearity = "relu" if cell == "elman-relu" else "tanh"
    return torch_cell_reference("elman" if cell.startswith("elman") else cell, harness_case,
                                nonlinearity, device)


def _slide_gru(case: CellCase) -> dict:
    p = case.params
    h1, cache = sc.gru_cell_forward(case.x, case.state, p["weight_ih"], p["weight_hh"],
                                    p.get("bias_ih"), p.get("bias_hh"), form="slide")
    g = sc.gru_cell_backward(case.d_state, cache)
    out = {"h_next": h1, "d_x": g["x"], "d_h_prev": g["h_prev"]}
    out.update({"d_" + k: g[k] for k in p})
    return out


def gated_forward(cell: str, x, h, p: dict) -> np.ndarray:
    """The gating-progression step on torch-layout weights (blocks F, λ, μ)."""
    gx = x @ p["weight_ih"].T
    if p.get("bias_ih") is not None:
        gx = gx + p["bias_ih"]
    return gated_step_forward(gx, h, p["weight_hh"], p.get("bias_hh"), cell[len("gated-"):])[0]


def _gated_fd(case: CellCase) -> dict:
    cell = case.spec.cell
    x = case.x.astype(np.float64)
    h = case.state.astype(np.float64)
    dh = case.d_state.astype(np.float64)
    p = {k: v.astype(np.float64) for k, v in case.params.items()}

    def loss():
        return float(np.sum(gated_forward(cell, x, h, p) * dh))

    out = {"h_next": gated_forward(cell, case.x, case.state, case.params),
           "d_x": numerical_gradient(loss, x), "d_h_prev": numerical_gradient(loss, h)}
    out.update({"d_" + k: numerical_gradient(loss, v) for k, v in p.items()})
    return out


# ---------------------------------------------------------------------------
# Sequences
# ---------------------------------------------------------------------------
def sequence_reference(case: SeqCase, device: str = "cpu") -> dict[str, np.ndarray]:
    """Outputs and gradients of a sequence module for ``case``, from weights alone.

    torch.nn.RNN / LSTM / GRU (packed sequences when lengths vary); the slide GRU
    through scratchrnn. Loss: Σ output ⊙ d_output + Σ h_n ⊙ d_h_n (+ Σ c_n ⊙ d_c_n).
    Gradients of h0/c0 only when the case gives them.
    """
    if case.spec.cell == "gru-slide":
        fwd, bwd = scratchrnn_sequence(case.spec)
        (out, hx_n), cache = fwd(case.x, case.hx, case.params, case.lengths, case.spec)
        d_x, d_hx0, grads = bwd(case.d_output, cache, case.d_hx_n)
        res = {"output": out, "h_n": hx_n, "d_input": d_x}
        if case.hx is not None:
            res["d_h0"] = d_hx0
        res.update({"d_" + k: v for k, v in grads.items()})
        return res
    return _torch_sequence(case, device)


def torch_sequence_module(spec: SeqSpec, params: dict | None = None, device: str = "cpu"):
    """torch.nn.RNN / LSTM / GRU with ``spec``'s options, loaded with ``params`` if given."""
    torch = import_torch()
    dt = torch.float64 if spec.dtype == "float64" else torch.float32
    kw = dict(num_layers=spec.num_layers, bias=spec.bias, batch_first=spec.batch_first,
              bidirectional=spec.bidirectional, dtype=dt, device=device)
    if spec.cell in ("elman", "elman-relu"):
        m = torch.nn.RNN(spec.input_size, spec.hidden_size,
                         nonlinearity="relu" if spec.cell == "elman-relu" else "tanh", **kw)
    elif spec.cell == "lstm":
        m = torch.nn.LSTM(spec.input_size, spec.hidden_size, proj_size=spec.proj_size, **kw)
    elif spec.cell == "gru":
        m = torch.nn.GRU(spec.input_size, spec.hidden_size, **kw)
    else:
        raise ValueError(f"torch has no module for cell {spec.cell!r}")
    if params is not None:
        with torch.no_grad():
            m.load_state_dict({k: torch.tensor(v, device=device) for k, v in params.items()})
    return m


def _torch_sequence(case: SeqCase, device: str) -> dict:
    torch = import_torch()
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    spec = case.spec
    m = torch_sequence_module(spec, case.params, device)

    def t(a, grad=True):
        return torch.tensor(a, device=device, requires_grad=grad)

    lstm = spec.cell == "lstm"
    x = t(case.x)
    state = None
    if case.hx is not None:
        state = (t(case.hx[0]), t(case.hx[1])) if lstm else t(case.hx)
    if case.lengths is not None:
        packed = pack_padded_sequence(x, torch.as_tensor(case.lengths),
                                      batch_first=spec.batch_first, enforce_sorted=False)
        out_p, hn = m(packed, state)
        out, _ = pad_packed_sequence(out_p, batch_first=spec.batch_first,
                                     total_length=spec.steps)
    else:
        out, hn = m(x, state)
    res = {"output": out}
    if lstm:
        res.update(h_n=hn[0], c_n=hn[1])
        loss = ((out * t(case.d_output, False)).sum() + (hn[0] * t(case.d_hx_n[0], False)).sum()
                + (hn[1] * t(case.d_hx_n[1], False)).sum())
    else:
        res["h_n"] = hn
        loss = (out * t(case.d_output, False)).sum() + (hn * t(case.d_hx_n, False)).sum()
    loss.backward()
    res["d_input"] = x.grad
    if state is not None:
        if lstm:
            res.update(d_h0=state[0].grad, d_c0=state[1].grad)
        else:
            res["d_h0"] = state.grad
    res.update({"d_" + k: v.grad for k, v in m.named_parameters()})
    return {k: v.detach().cpu().numpy() for k, v in res.items()}


def scratchrnn_sequence(spec: SeqSpec):
    """scratchrnn's sequence module for ``spec`` in the kit's sequence protocol.

    Returns ``(forward, backward)``: ``forward(x, hx, params, lengths, spec=None) -> ((output,
    hx_n), cache)`` and ``backward(d_output, cache, d_hx_n) -> (d_input, d_hx0, grads)``,
    hx ``h0`` or ``(h0, c0)``. The one place where the kit calls scratchrnn's modules.
    """
    from scratchrnn.recurrent import GRU, LSTM, RNN

    common = dict(num_layers=spec.num_layers, bias=spec.bias, batch_first=spec.batch_first,
                  bidirectional=spec.bidirectional, dtype=spec.dtype)
    if spec.cell in ("elman", "elman-relu"):
        module = RNN(spec.input_size, spec.hidden_size,
                     nonlinearity="relu" if spec.cell == "elman-relu" else "tanh", **common)
    elif spec.cell == "lstm":
        module = LSTM(spec.input_size, spec.hidden_size, proj_size=spec.proj_size, **common)
    else:
        module = GRU(spec.input_size, spec.hidden_size,
                     form="slide" if spec.cell == "gru-slide" else "torch", **common)
    def forward(x, hx, params, lengths=None, spec=None):
        module.load_state_dict(params)
        return module.forward(x, hx, lengths=lengths)

    def backward(d_output, cache, d_hx_n=None):
        module.zero_grad()
        return module.backward(d_output, cache, d_hx_n)

    return forward, backward


def scratchrnn_sequence_protocol():
    """scratchrnn's sequence modules as one (forward, backward) pair for any spec.

    ``forward(x, hx, params, lengths, spec)`` builds the module ``spec`` describes; the
    cache carries its backward. What :func:`~parity.kit.assert_sequence_parity` takes.
    """

    def forward(x, hx, params, lengths, spec):
        fwd, bwd = scratchrnn_sequence(spec)
        out, cache = fwd(x, hx, params, lengths)
        return out, (cache, bwd)

    def backward(d_output, cache, d_hx_n):
        cache, bwd = cache
        return bwd(d_output, cache, d_hx_n)

    return forward, backward
