"""A torch twin of a ForeignLayer, built straight from its ``state_dict``: the adapters'
mapping tests compare against it without the shared checker (parity.ecosystems.check)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from parity.kit.vectors import vector_arrays, vector_specs

CELL_OF_VECTOR = {"elman": "rnn_tanh", "elman-relu": "rnn_relu", "lstm": "lstm", "gru": "gru"}


def twin(layer) -> torch.nn.Module:
    """torch.nn.RNN / LSTM / GRU in float64 holding ``layer.state_dict``."""
    cls = {"rnn_tanh": torch.nn.RNN, "rnn_relu": torch.nn.RNN, "lstm": torch.nn.LSTM,
           "gru": torch.nn.GRU}[layer.cell]
    kw = {"nonlinearity": layer.cell[4:]} if layer.cell.startswith("rnn_") else {}
    m = cls(layer.input_size, layer.hidden_size, bidirectional=layer.bidirectional,
            **kw).double()
    m.load_state_dict({k: torch.tensor(v) for k, v in layer.state_dict.items()})
    return m


def compare(layer, T: int = 5, B: int = 2, seed: int = 0, h0: bool = True) -> dict:
    """Largest |foreign − torch| of output, h_n, c_n and every gradient the layer gives,
    relative to max(1, |torch|); keys are the ForeignLayer's names."""
    rng = np.random.default_rng(seed)
    D = 2 if layer.bidirectional else 1
    lstm = layer.cell == "lstm"
    x = rng.standard_normal((T, B, layer.input_size))
    h = rng.standard_normal((D, B, layer.hidden_size)) if h0 else None
    c = rng.standard_normal((D, B, layer.hidden_size)) if (h0 and lstm) else None
    m = twin(layer)
    xt = torch.tensor(x, requires_grad=True)
    ht = torch.tensor(h, requires_grad=True) if h0 else None
    ct = torch.tensor(c, requires_grad=True) if c is not None else None
    out, state = m(xt, (ht, ct) if (lstm and h0) else ht)
    ref = {"output": out, "h_n": state[0] if lstm else state}
    if lstm:
        ref["c_n"] = state[1]
    got = layer.run(x, h, c)
    err = {}
    for k, v in ref.items():
        err[k] = _rel(got[k], v.detach().numpy())
    if layer.gradients is not None:
        d = rng.standard_normal(out.shape)
        (out * torch.tensor(d)).sum().backward()
        g = layer.gradients(x, h, c, d)
        want = {"d_input": xt.grad, "d_h0": ht.grad if h0 else None,
                "d_c0": ct.grad if ct is not None else None}
        want.update({"d_" + n: p.grad for n, p in m.named_parameters()})
        for k, v in g.items():
            err[k] = _rel(v, want[k].numpy())
    return err


def _rel(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b)))) if a.size else 0.0


def loadable_vectors(cells=("elman", "elman-relu", "lstm", "gru")):
    """(name, arrays) of the golden vectors that one single-direction, full-length torch
    layer describes: the ones a foreign layer can hold."""
    for name, spec in vector_specs():
        if (spec.cell in cells and spec.num_layers == 1 and not spec.lengths
                and not spec.bidirectional and not spec.proj_size):
            yield name, spec, vector_arrays(spec)


#: parametrises a test over :func:`loadable_vectors` as (name, spec, arrays)
each_loadable_vector = pytest.mark.parametrize(
    "name,spec,arrays", list(loadable_vectors()), ids=lambda v: v if isinstance(v, str) else "")


def golden_vector_errors(adapter, spec, arrays) -> tuple[dict[str, float], float]:
    """One golden vector through ``adapter.from_torch_state_dict`` and the layer's ``run``:
    the relative error of output, h_n and c_n against torch's (keys as the vector's), and
    the tolerance (1e-9 where the vector and the runtime are float64, else 1e-4)."""
    sd = {k[len("param."):]: v.astype(np.float64) for k, v in arrays.items()
          if k.startswith("param.")}
    layer = adapter.from_torch_state_dict(CELL_OF_VECTOR[spec.cell], sd)
    x, h0, c0 = (None if arrays.get(k) is None else arrays[k].astype(np.float64)
                 for k in ("input", "h0", "c0"))
    to_time_major = (1, 0, 2) if spec.batch_first else (0, 1, 2)
    got = layer.run(x.transpose(to_time_major), h0, c0)
    errors = {key: _rel(got[key], arrays[key].transpose(to_time_major) if key == "output"
                        else arrays[key])
              for key in ("output", "h_n", "c_n") if key in arrays}
    tol = 1e-9 if spec.dtype == "float64" and layer.dtype == "float64" else 1e-4
    return errors, tol


def checked_vector_rows(ecosystem: str, vector_dir) -> list[dict]:
    """The rows of ``load_vectors_into(ecosystem, …)`` that were checked (not skipped), on
    golden vectors freshly written to ``vector_dir`` for the three cells."""
    from parity.ecosystems.check import load_vectors_into
    from parity.kit.vectors import write_vectors

    write_vectors(str(vector_dir), cells=["elman", "lstm", "gru"])
    return [r for r in load_vectors_into(ecosystem, str(vector_dir)) if "skipped" not in r]
