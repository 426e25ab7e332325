"""Hypothesis strategies for recurrent configurations and inputs, public for users.

Use them to check your own recurrent code against the reference::

    from hypothesis import given
    from parity.strategies import cell_cases
    from parity.compare import torch_cell_reference

    @given(cell_cases("gru"))
    def test_my_gru(case):
        ref = torch_cell_reference("gru", case)
        mine = my_gru_step(case["x"], case["h"], case["weight_ih"], ...)
        assert np.allclose(mine, ref["h_next"], rtol=0, atol=1e-12)

Sizes of 1 (batch, time, input, hidden) are always possible.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from .compare import SeqConfig

GATES = {"elman": 1, "lstm": 4, "gru": 3}


@st.composite
def seq_configs(
    draw,
    cells: tuple[str, ...] = ("elman", "lstm", "gru"),
    dtypes: tuple[str, ...] = ("float64",),
    max_layers: int = 3,
    max_batch: int = 4,
    max_steps: int = 6,
    max_size: int = 6,
    proj: bool = True,
    dropout: bool = True,
    nonlinearities: tuple[str, ...] = ("tanh", "relu"),
) -> SeqConfig:
    """A random :class:`~parity.compare.SeqConfig`: every option, sizes from 1.

    (In float32 a ReLU pre-activation within rounding of 0 can land on either side of
    the kink in two implementations, flipping a whole gradient entry; float32 checks
    may pass ``nonlinearities=("tanh",)`` and leave ReLU to float64.)
    """
    cell = draw(st.sampled_from(cells))
    hidden = draw(st.integers(1, max_size))
    num_layers = draw(st.integers(1, max_layers))
    proj_size = 0
    if proj and cell == "lstm" and hidden > 1 and draw(st.booleans()):
        proj_size = draw(st.integers(1, hidden - 1))
    p = 0.0
    if dropout and num_layers > 1 and draw(st.booleans()):
        p = draw(st.sampled_from([0.25, 0.5]))
    return SeqConfig(
        cell=cell,
        nonlinearity=draw(st.sampled_from(nonlinearities)) if cell == "elman" else "tanh",
        bias=draw(st.booleans()),
        num_layers=num_layers,
        bidirectional=draw(st.booleans()),
        batch_first=draw(st.booleans()),
        lengths=draw(st.booleans()),
        proj_size=proj_size,
        dropout=p,
        dtype=draw(st.sampled_from(dtypes)),
        batch=draw(st.integers(1, max_batch)),
        steps=draw(st.integers(1, max_steps)),
        input_size=draw(st.integers(1, max_size)),
        hidden_size=hidden,
    )


@st.composite
def cell_cases(
    draw,
    cell: str = "lstm",
    dtype: str = "float64",
    bias: bool | None = None,
    max_batch: int = 4,
    max_size: int = 6,
    scale: float = 1.0,
) -> dict:
    """Inputs, weights (torch layout) and upstream gradients for one step of ``cell``.

    Keys: x (B, I), h (B, H), [c (B, H)], weight_ih (G·H, I), weight_hh (G·H, H),
    bias_ih, bias_hh (G·H,) or None, d_h (B, H), [d_c (B, H)]. Values are drawn from a
    seeded normal generator (so shrinking acts on the sizes and the seed).
    """
    if cell not in GATES:
        raise ValueError(f"cell must be one of {sorted(GATES)}, got {cell!r}")
    B = draw(st.integers(1, max_batch))
    I = draw(st.integers(1, max_size))
    H = draw(st.integers(1, max_size))
    use_bias = draw(st.booleans()) if bias is None else bias
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    dt = np.dtype(dtype)
    G = GATES[cell]

    def r(*shape, s=1.0):
        return (s * rng.standard_normal(shape)).astype(dt)

    case = {
        "x": r(B, I),
        "h": r(B, H),
        "weight_ih": r(G * H, I, s=scale / np.sqrt(H)),
        "weight_hh": r(G * H, H, s=scale / np.sqrt(H)),
        "bias_ih": r(G * H, s=scale) if use_bias else None,
        "bias_hh": r(G * H, s=scale) if use_bias else None,
        "d_h": r(B, H),
    }
    if cell == "lstm":
        case["c"] = r(B, H)
        case["d_c"] = r(B, H)
    return case


def nonlinearities() -> st.SearchStrategy[str]:
    return st.sampled_from(["tanh", "relu"])
