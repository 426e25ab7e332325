"""The diagnosis' NumPy forward equals torch.nn with no variant (so a variant that matches
is the named convention, not an artefact), and each variant really differs from torch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

torch = pytest.importorskip("torch", reason="torch is not installed")

from parity.ecosystems import ForeignLayer  # noqa: E402
from parity.ecosystems.check import relative, torch_reference, twin  # noqa: E402
from parity.ecosystems.diagnose import forward, variants  # noqa: E402


def layer_of(cell: str, bidirectional: bool, seed: int, I: int = 3, H: int = 4,
             num_layers: int = 1):
    torch.manual_seed(seed)
    cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}.get(cell, torch.nn.RNN)
    kw = {"nonlinearity": cell[4:]} if cell.startswith("rnn_") else {}
    m = cls(I, H, num_layers, bidirectional=bidirectional, **kw).double()
    sd = {k: v.detach().numpy() for k, v in m.state_dict().items()}
    return ForeignLayer("onnx", cell, I, H, bidirectional, False, sd, [], [], None, None,
                        num_layers=num_layers)


@given(cell=st.sampled_from(["rnn_tanh", "rnn_relu", "lstm", "gru"]), bi=st.booleans(),
       seed=st.integers(0, 2**16), T=st.integers(1, 5), B=st.integers(1, 3),
       L=st.integers(1, 3))
def test_the_plain_forward_equals_torch(cell, bi, seed, T, B, L):
    layer = layer_of(cell, bi, seed, num_layers=L)
    rng = np.random.default_rng(seed)
    D = (2 if bi else 1) * L
    x = rng.standard_normal((T, B, 3))
    h0 = rng.standard_normal((D, B, 4))
    c0 = rng.standard_normal((D, B, 4)) if cell == "lstm" else None
    ref = torch_reference(twin(layer), layer, x, h0, c0)
    got = forward(layer, layer.state_dict, x, h0, c0)
    for k in ref:
        assert relative(got[k], ref[k]) < 1e-12, k


@pytest.mark.parametrize("cell", ["rnn_tanh", "lstm", "gru"])
def test_every_variant_differs_from_torch(cell):
    layer = layer_of(cell, False, 1)
    rng = np.random.default_rng(0)
    x, h0 = rng.standard_normal((4, 2, 3)), rng.standard_normal((1, 2, 4))
    c0 = rng.standard_normal((1, 2, 4)) if cell == "lstm" else None
    ref = torch_reference(twin(layer), layer, x, h0, c0)
    names = []
    for name, sd, options in variants(layer):
        names.append(name)
        assert relative(forward(layer, sd, x, h0, c0, **options)["output"],
                        ref["output"]) > 1e-3, name
    assert len(names) == len(set(names))
