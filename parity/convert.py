"""Weight conversion between scratchrnn modules and torch.nn, both ways.

Parameters already carry torch's ``state_dict`` names and shapes, so conversion is
building the twin with the same constructor arguments and copying the arrays.
"""

from __future__ import annotations

import numpy as np

from scratchrnn.cell_modules import GRUCell, LSTMCell, RNNCell
from scratchrnn.module import Module
from scratchrnn.recurrent import GRU, LSTM, RNN

from ._torch import import_torch, torch_dtype


def state_dict_to_torch(module: Module) -> dict:
    """The module's parameters as torch tensors (same names, dtype kept)."""
    torch = import_torch()
    return {k: torch.from_numpy(v.copy()) for k, v in module.state_dict().items()}


def load_from_torch(module: Module, torch_module) -> Module:
    """Copy a torch module's state_dict into a scratchrnn module (names must match)."""
    state = torch_module.state_dict()
    module.load_state_dict({k: v.detach().cpu().numpy() for k, v in state.items()})
    return module


def to_torch(module: Module, device: str = "cpu"):
    """A torch.nn twin of a scratchrnn recurrent module or cell, with the same weights."""
    torch = import_torch()
    kw = {"dtype": torch_dtype(module.dtype), "device": device}
    if isinstance(module, (RNN, GRU, LSTM)):
        common = dict(
            num_layers=module.num_layers,
            bias=module.bias,
            batch_first=module.batch_first,
            dropout=module.dropout,
            bidirectional=module.bidirectional,
            **kw,
        )
        if isinstance(module, RNN):
            twin = torch.nn.RNN(module.input_size, module.hidden_size,
                                nonlinearity=module.nonlinearity, **common)
        elif isinstance(module, LSTM):
            twin = torch.nn.LSTM(module.input_size, module.hidden_size,
                                 proj_size=module.proj_size, **common)
        else:
            if module.form != "torch":
                raise ValueError("the slide-form GRU has no torch twin (torch uses form='torch')")
            twin = torch.nn.GRU(module.input_size, module.hidden_size, **common)
    elif isinstance(module, RNNCell):
        twin = torch.nn.RNNCell(module.input_size, module.hidden_size, bias=module.bias,
                                nonlinearity=module.nonlinearity, **kw)
    elif isinstance(module, LSTMCell):
        twin = torch.nn.LSTMCell(module.input_size, module.hidden_size, bias=module.bias, **kw)
    elif isinstance(module, GRUCell):
        if module.form != "torch":
            raise ValueError("the slide-form GRU has no torch twin (torch uses form='torch')")
        twin = torch.nn.GRUCell(module.input_size, module.hidden_size, bias=module.bias, **kw)
    else:
        raise TypeError(f"no torch twin for {type(module).__name__}")
    with torch.no_grad():
        twin.load_state_dict({k: v.to(device) for k, v in state_dict_to_torch(module).items()})
    return twin


def from_torch(torch_module, dtype: object | None = None) -> Module:
    """A scratchrnn module built from a torch.nn RNN/LSTM/GRU or cell, same weights."""
    torch = import_torch()
    m = torch_module
    if dtype is None:
        dtype = next(m.parameters()).detach().cpu().numpy().dtype
    dtype = np.dtype(dtype)
    if isinstance(m, (torch.nn.RNN, torch.nn.LSTM, torch.nn.GRU)):
        common = dict(num_layers=m.num_layers, bias=m.bias, batch_first=m.batch_first,
                      dropout=m.dropout, bidirectional=m.bidirectional, dtype=dtype)
        if isinstance(m, torch.nn.LSTM):
            ours = LSTM(m.input_size, m.hidden_size, proj_size=m.proj_size, **common)
        elif isinstance(m, torch.nn.GRU):
            ours = GRU(m.input_size, m.hidden_size, **common)
        else:
            ours = RNN(m.input_size, m.hidden_size, nonlinearity=m.nonlinearity, **common)
    elif isinstance(m, torch.nn.RNNCell):
        ours = RNNCell(m.input_size, m.hidden_size, bias=m.bias, nonlinearity=m.nonlinearity,
                       dtype=dtype)
    elif isinstance(m, torch.nn.LSTMCell):
        ours = LSTMCell(m.input_size, m.hidden_size, bias=m.bias, dtype=dtype)
    elif isinstance(m, torch.nn.GRUCell):
        ours = GRUCell(m.input_size, m.hidden_size, bias=m.bias, dtype=dtype)
    else:
        raise TypeError(f"no scratchrnn twin for {type(m).__name__}")
    return load_from_torch(ours, m)
