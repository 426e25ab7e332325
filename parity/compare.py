"""Run a scratchrnn module and its torch twin on identical weights and inputs.

Each ``compare_*`` returns a report row: a dict with the configuration and
``max_rel_diff_output`` / ``max_rel_diff_grad``, the largest of
``|ours − torch| / max(1, |torch|)`` over every output and over every gradient
(input, initial state, each parameter).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from scratchrnn.cell_modules import GRUCell, LSTMCell, RNNCell
from scratchrnn.gradcheck import max_relative_error
from scratchrnn.recurrent import GRU, LSTM, RNN

from ._torch import import_torch
from .convert import to_torch


@dataclass(frozen=True)
class SeqConfig:
    """One configuration of a sequence module and its input."""

    cell: str = "lstm"  # elman | lstm | gru
    nonlinearity: str = "tanh"  # elman only
    bias: bool = True
    num_layers: int = 1
    bidirectional: bool = False
    batch_first: bool = False
    lengths: bool = False  # variable lengths (packed sequence in torch)
    proj_size: int = 0  # lstm only
    dropout: float = 0.0  # between layers, training mode; torch twin gets the same masks
    dtype: str = "float64"
    reference: bool = False  # True: the step functions of scratchrnn.cells, not the fast path
    batch: int = 3
    steps: int = 5
    input_size: int = 4
    hidden_size: int = 6

    @property
    def path(self) -> str:
        """Which scratchrnn code ran: "reference" (cells.py's steps) or "fast" (fastpath.py)."""
        return "reference" if self.reference else "fast"

    @property
    def name(self) -> str:
        if self.cell == "elman":
            return f"elman-{self.nonlinearity}"
        if self.cell == "lstm" and self.proj_size:
            return "lstm-proj"
        return self.cell

    def describe(self) -> str:
        parts = [
            f"L={self.num_layers}",
            "bi" if self.bidirectional else "uni",
            "lengths" if self.lengths else "full",
            "batch_first" if self.batch_first else "T-first",
        ]
        if not self.bias:
            parts.append("no-bias")
        if self.proj_size:
            parts.append(f"proj={self.proj_size}")
        if self.dropout:
            parts.append(f"dropout={self.dropout:g}")
        parts.append(f"B={self.batch},T={self.steps},I={self.input_size},H={self.hidden_size}")
        return " ".join(parts)


def build_module(cfg: SeqConfig, seed: int = 0):
    """The scratchrnn sequence module described by ``cfg``."""
    common = dict(num_layers=cfg.num_layers, bias=cfg.bias, batch_first=cfg.batch_first,
                  dropout=cfg.dropout, bidirectional=cfg.bidirectional, dtype=cfg.dtype, rng=seed,
                  reference=cfg.reference)
    if cfg.cell == "elman":
        return RNN(cfg.input_size, cfg.hidden_size, nonlinearity=cfg.nonlinearity, **common)
    if cfg.cell == "lstm":
        return LSTM(cfg.input_size, cfg.hidden_size, proj_size=cfg.proj_size, **common)
    if cfg.cell == "gru":
        return GRU(cfg.input_size, cfg.hidden_size, **common)
    raise ValueError(f"cell must be elman, lstm or gru, got {cfg.cell!r}")


def random_inputs(cfg: SeqConfig, rng: np.random.Generator) -> dict:
    """Input, initial states, lengths and upstream gradients for ``cfg`` (all random)."""
    dt = np.dtype(cfg.dtype)
    B, T = cfg.batch, cfg.steps
    D = 2 if cfg.bidirectional else 1
    P = cfg.proj_size or cfg.hidden_size
    LD = cfg.num_layers * D

    def r(*shape):
        return rng.standard_normal(shape).astype(dt)

    x = r(B, T, cfg.input_size) if cfg.batch_first else r(T, B, cfg.input_size)
    out_shape = (B, T, D * P) if cfg.batch_first else (T, B, D * P)
    inputs = {"x": x, "h0": r(LD, B, P), "d_output": r(*out_shape), "d_h_n": r(LD, B, P)}
    if cfg.cell == "lstm":
        inputs.update(c0=r(LD, B, cfg.hidden_size), d_c_n=r(LD, B, cfg.hidden_size))
    inputs["lengths"] = rng.integers(1, T + 1, size=B) if cfg.lengths else None
    if cfg.dropout and cfg.num_layers > 1:
        shape = (B, T, D * P) if cfg.batch_first else (T, B, D * P)
        keep = [rng.random(shape) >= cfg.dropout for _ in range(cfg.num_layers - 1)]
        inputs["dropout_masks"] = [k.astype(dt) / (1 - cfg.dropout) for k in keep]
    else:
        inputs["dropout_masks"] = None
    return inputs


def run_ours(module, cfg: SeqConfig, inp: dict) -> tuple[dict, dict]:
    """Forward and backward in scratchrnn: (outputs, gradients) as dicts of arrays."""
    module.zero_grad()
    kw = {"lengths": inp["lengths"], "dropout_masks": inp["dropout_masks"]}
    lstm = cfg.cell == "lstm"
    hx = (inp["h0"], inp["c0"]) if lstm else inp["h0"]
    d_hx_n = (inp["d_h_n"], inp["d_c_n"]) if lstm else inp["d_h_n"]
    (out, hx_n), cache = module.forward(inp["x"], hx, **kw)
    d_x, d_hx0, d_params = module.backward(inp["d_output"], cache, d_hx_n)
    if lstm:
        outs = {"output": out, "h_n": hx_n[0], "c_n": hx_n[1]}
        grads = {"input": d_x, "h0": d_hx0[0], "c0": d_hx0[1]}
    else:
        outs = {"output": out, "h_n": hx_n}
        grads = {"input": d_x, "h0": d_hx0}
    grads.update(d_params)
    return outs, grads


def _torch_layers(module, cfg: SeqConfig, device: str):
    """One single-layer torch module per layer, so given dropout masks go in between."""
    twins = []
    upper_input = (2 if cfg.bidirectional else 1) * (cfg.proj_size or cfg.hidden_size)
    for layer in range(cfg.num_layers):
        single = build_module(replace(cfg, num_layers=1, dropout=0.0,
                                      input_size=cfg.input_size if layer == 0 else upper_input))
        suffix = f"_l{layer}"
        single.load_state_dict({k.replace(suffix, "_l0"): v
                                for k, v in module.state_dict().items()
                                if k.endswith(suffix) or k.endswith(suffix + "_reverse")})
        twins.append(to_torch(single, device))
    return twins


def run_torch(module, cfg: SeqConfig, inp: dict, device: str = "cpu") -> tuple[dict, dict]:
    """The same forward and backward in torch (packed sequences for ``lengths``)."""
    torch = import_torch()
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    def t(a, grad=False):
        return torch.tensor(a, device=device, requires_grad=grad)

    x = t(inp["x"], True)
    h0 = t(inp["h0"], True)
    c0 = t(inp["c0"], True) if cfg.cell == "lstm" else None
    T = cfg.steps
    lengths = inp["lengths"]
    masks = inp["dropout_masks"]
    twins = _torch_layers(module, cfg, device) if masks is not None else [to_torch(module, device)]
    D = 2 if cfg.bidirectional else 1
    layer_in, h_parts, c_parts = x, [], []
    for layer, twin in enumerate(twins):
        if layer > 0:
            m = t(masks[layer - 1])
            layer_in = layer_in * m
        rows = slice(0, None) if len(twins) == 1 else slice(layer * D, (layer + 1) * D)
        state = h0[rows] if c0 is None else (h0[rows], c0[rows])
        if lengths is not None:
            packed = pack_padded_sequence(layer_in, torch.as_tensor(lengths),
                                          batch_first=cfg.batch_first, enforce_sorted=False)
            out_p, hn = twin(packed, state)
            out, _ = pad_packed_sequence(out_p, batch_first=cfg.batch_first, total_length=T)
        else:
            out, hn = twin(layer_in, state)
        if c0 is None:
            h_parts.append(hn)
        else:
            h_parts.append(hn[0])
            c_parts.append(hn[1])
        layer_in = out
    h_n = torch.cat(h_parts)
    loss = (layer_in * t(inp["d_output"])).sum() + (h_n * t(inp["d_h_n"])).sum()
    outs = {"output": layer_in, "h_n": h_n}
    if c0 is not None:
        c_n = torch.cat(c_parts)
        loss = loss + (c_n * t(inp["d_c_n"])).sum()
        outs["c_n"] = c_n
    loss.backward()
    grads = {"input": x.grad, "h0": h0.grad}
    if c0 is not None:
        grads["c0"] = c0.grad
    if len(twins) == 1:
        grads.update({k: p.grad for k, p in twins[0].named_parameters()})
    else:
        for layer, twin in enumerate(twins):
            named = twin.named_parameters()
            grads.update({k.replace("_l0", f"_l{layer}"): p.grad for k, p in named})

    def np_(v):
        return v.detach().cpu().numpy()

    return {k: np_(v) for k, v in outs.items()}, {k: np_(v) for k, v in grads.items()}


def max_diffs(ours: dict, theirs: dict) -> float:
    """Largest relative difference over the arrays of two dicts with the same keys."""
    if set(ours) != set(theirs):
        raise ValueError(f"keys differ: {sorted(ours)} vs {sorted(theirs)}")
    return max(max_relative_error(ours[k], theirs[k]) for k in ours)


def compare_sequence(cfg: SeqConfig, seed: int = 0, device: str = "cpu") -> dict:
    """Parity row for a sequence module (outputs and every gradient against torch)."""
    module = build_module(cfg, seed)
    module.train()
    inp = random_inputs(cfg, np.random.default_rng(seed + 1))
    o_ours, g_ours = run_ours(module, cfg, inp)
    o_torch, g_torch = run_torch(module, cfg, inp, device)
    return {
        "group": "sequence",
        "cell": cfg.name,
        "path": cfg.path,
        "config": cfg.describe(),
        "dtype": cfg.dtype,
        "nonlinearity": cfg.nonlinearity if cfg.cell == "elman" else None,
        "bias": cfg.bias,
        "num_layers": cfg.num_layers,
        "bidirectional": cfg.bidirectional,
        "lengths": cfg.lengths,
        "batch_first": cfg.batch_first,
        "max_rel_diff_output": max_diffs(o_ours, o_torch),
        "max_rel_diff_grad": max_diffs(g_ours, g_torch),
    }


CELLS = {"elman": RNNCell, "lstm": LSTMCell, "gru": GRUCell}


def compare_cell(cell: str, nonlinearity: str = "tanh", bias: bool = True,
                 dtype: str = "float64", batch: int = 3, input_size: int = 4,
                 hidden_size: int = 5, seed: int = 0, device: str = "cpu") -> dict:
    """Parity row for one step of RNNCell / LSTMCell / GRUCell."""
    torch = import_torch()
    kw = {"nonlinearity": nonlinearity} if cell == "elman" else {}
    ours = CELLS[cell](input_size, hidden_size, bias=bias, dtype=dtype, rng=seed, **kw)
    twin = to_torch(ours, device)
    rng = np.random.default_rng(seed + 1)
    dt = np.dtype(dtype)

    def r(*shape):
        return rng.standard_normal(shape).astype(dt)

    x, h, dh = r(batch, input_size), r(batch, hidden_size), r(batch, hidden_size)
    xt = torch.tensor(x, device=device, requires_grad=True)
    ht = torch.tensor(h, device=device, requires_grad=True)
    if cell == "lstm":
        c, dc = r(batch, hidden_size), r(batch, hidden_size)
        ct = torch.tensor(c, device=device, requires_grad=True)
        (h1, c1), cache = ours.forward(x, (h, c))
        dx, (dh0, dc0), dp = ours.backward((dh, dc), cache)
        th1, tc1 = twin(xt, (ht, ct))
        ((th1 * torch.tensor(dh, device=device)).sum()
         + (tc1 * torch.tensor(dc, device=device)).sum()).backward()
        outs = ({"h": h1, "c": c1}, {"h": th1, "c": tc1})
        g_ours = {"x": dx, "h": dh0, "c": dc0, **dp}
        g_torch = {"x": xt.grad, "h": ht.grad, "c": ct.grad}
    else:
        h1, cache = ours.forward(x, h)
        dx, dh0, dp = ours.backward(dh, cache)
        th1 = twin(xt, ht)
        (th1 * torch.tensor(dh, device=device)).sum().backward()
        outs = ({"h": h1}, {"h": th1})
        g_ours = {"x": dx, "h": dh0, **dp}
        g_torch = {"x": xt.grad, "h": ht.grad}
    g_torch.update({k: p.grad for k, p in twin.named_parameters()})

    def np_(d):
        return {k: v.detach().cpu().numpy() for k, v in d.items()}

    name = {"elman": f"RNNCell({nonlinearity})", "lstm": "LSTMCell", "gru": "GRUCell"}[cell]
    return {
        "group": "cell",
        "cell": name,
        "path": "reference",
        "config": f"{'bias' if bias else 'no-bias'} B={batch},I={input_size},H={hidden_size}",
        "dtype": dtype,
        "nonlinearity": nonlinearity if cell == "elman" else None,
        "bias": bias,
        "num_layers": 1,
        "bidirectional": False,
        "lengths": False,
        "batch_first": False,
        "max_rel_diff_output": max_diffs(outs[0], np_(outs[1])),
        "max_rel_diff_grad": max_diffs(g_ours, np_(g_torch)),
    }


def torch_cell_reference(cell: str, case: dict, nonlinearity: str = "tanh",
                         device: str = "cpu") -> dict:
    """torch's RNNCell / LSTMCell / GRUCell on a :func:`parity.strategies.cell_cases` case.

    Returns NumPy arrays: ``h_next`` (and ``c_next``), and the gradients of
    ``Σ h_next ⊙ d_h (+ Σ c_next ⊙ d_c)`` with respect to x, h, (c) and each
    parameter, under the keys ``d_x``, ``d_h_prev``, ``d_c_prev``, ``d_weight_ih`` ….
    """
    torch = import_torch()
    B, I = case["x"].shape
    H = case["h"].shape[1]
    bias = case["bias_ih"] is not None
    dt = torch.float64 if case["x"].dtype == np.float64 else torch.float32
    kw = dict(bias=bias, dtype=dt, device=device)
    if cell == "elman":
        twin = torch.nn.RNNCell(I, H, nonlinearity=nonlinearity, **kw)
    elif cell == "lstm":
        twin = torch.nn.LSTMCell(I, H, **kw)
    elif cell == "gru":
        twin = torch.nn.GRUCell(I, H, **kw)
    else:
        raise ValueError(f"cell must be elman, lstm or gru, got {cell!r}")
    names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if bias else [])
    with torch.no_grad():
        twin.load_state_dict({k: torch.tensor(case[k]) for k in names})

    def t(a, grad=True):
        return torch.tensor(a, device=device, requires_grad=grad)

    x, h = t(case["x"]), t(case["h"])
    out = {}
    if cell == "lstm":
        c = t(case["c"])
        h1, c1 = twin(x, (h, c))
        loss = (h1 * t(case["d_h"], False)).sum() + (c1 * t(case["d_c"], False)).sum()
        out["c_next"] = c1
    else:
        h1 = twin(x, h)
        loss = (h1 * t(case["d_h"], False)).sum()
    out["h_next"] = h1
    loss.backward()
    out.update(d_x=x.grad, d_h_prev=h.grad)
    if cell == "lstm":
        out["d_c_prev"] = c.grad
    out.update({"d_" + k: p.grad for k, p in twin.named_parameters()})
    return {k: v.detach().cpu().numpy() for k, v in out.items()}
