"""Cases: small, printable specs (sizes, options, a seed) and the arrays they build.

A spec is a frozen dataclass whose ``repr`` rebuilds it, so a falsifying example shrunk
by hypothesis prints as one line. Arrays come from ``numpy.random.default_rng(seed)``:
the same spec gives the same bytes on every machine.

Strategies (:func:`cell_specs`, :func:`seq_specs`) take a switch per option: ``None``
draws it, a value fixes it (``bidirectional=False``, ``lengths=True``, ``dtypes=("float32",)``).
Sizes of 1 are always possible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from .cells import cell_kind


@dataclass(frozen=True)
class CellSpec:
    """One step of a cell: sizes B, I, H, bias, dtype and the seed of its arrays."""

    cell: str = "lstm"
    batch: int = 2
    input_size: int = 3
    hidden_size: int = 4
    bias: bool = True
    dtype: str = "float64"
    seed: int = 0

    def describe(self) -> dict:
        return {"B": self.batch, "I": self.input_size, "H": self.hidden_size,
                "bias": self.bias, "dtype": self.dtype, "seed": self.seed}


@dataclass
class CellCase:
    """Arrays of a :class:`CellSpec`, torch layout: x (B, I), state h or (h, c) (B, H),
    params ``weight_ih`` (G·H, I), ``weight_hh`` (G·H, H) [, ``bias_ih``, ``bias_hh`` (G·H,)],
    d_state: the upstream gradient of the new state (same structure as state)."""

    spec: CellSpec
    x: np.ndarray
    state: np.ndarray | tuple
    params: dict
    d_state: np.ndarray | tuple


def make_cell_case(spec: CellSpec) -> CellCase:
    """The arrays of ``spec`` (weights scaled 1/√H, biases and states standard normal)."""
    kind = cell_kind(spec.cell)
    rng = np.random.default_rng(spec.seed)
    dt = np.dtype(spec.dtype)
    B, I, H, G = spec.batch, spec.input_size, spec.hidden_size, kind.gates

    def r(*shape, s=1.0):
        return (s * rng.standard_normal(shape)).astype(dt)

    s = 1 / np.sqrt(H)
    params = {"weight_ih": r(G * H, I, s=s), "weight_hh": r(G * H, H, s=s)}
    if spec.bias:
        params.update(bias_ih=r(G * H), bias_hh=r(G * H))
    x, h, dh = r(B, I), r(B, H), r(B, H)
    if kind.lstm_state:
        c, dc = r(B, H), r(B, H)
        return CellCase(spec, x, (h, c), params, (dh, dc))
    return CellCase(spec, x, h, params, dh)


@st.composite
def cell_specs(draw, cell: str = "lstm", bias: bool | None = None,
               dtypes: tuple[str, ...] = ("float64",), max_batch: int = 4,
               max_size: int = 6) -> CellSpec:
    """A :class:`CellSpec` for ``cell``: B, I, H in 1..max, bias drawn unless fixed."""
    cell_kind(cell)
    return CellSpec(
        cell=cell,
        batch=draw(st.integers(1, max_batch)),
        input_size=draw(st.integers(1, max_size)),
        hidden_size=draw(st.integers(1, max_size)),
        bias=draw(st.booleans()) if bias is None else bias,
        dtype=draw(st.sampled_from(dtypes)),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


# ---------------------------------------------------------------------------
# Sequences
# ---------------------------------------------------------------------------
SEQ_CELLS = ("elman", "elman-relu", "lstm", "gru", "gru-slide")


@dataclass(frozen=True)
class SeqSpec:
    """A sequence module's options and sizes: every option torch.nn.RNN/LSTM/GRU has
    (dropout excepted), plus whether h0 (and c0) are given and lengths vary."""

    # declarations alike in shape to scratchrnn.config's dataclasses, nothing shared
    cell: str = "lstm"
    num_layers: int = 1
    bidirectional: bool = False
    batch_first: bool = False
    lengths: bool = False
    bias: bool = True
    proj_size: int = 0
    h0: bool = True
    dtype: str = "float64"
    batch: int = 2
    steps: int = 3
    input_size: int = 3
    hidden_size: int = 4
    seed: int = 0

    def __post_init__(self) -> None:
        if self.cell not in SEQ_CELLS:
            raise ValueError(f"cell must be one of {SEQ_CELLS}, got {self.cell!r}")
        if self.proj_size and (self.cell != "lstm" or self.proj_size >= self.hidden_size):
            raise ValueError("proj_size needs cell='lstm' and 0 < proj_size < hidden_size")

    @property
    def directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def out_size(self) -> int:
        return self.proj_size or self.hidden_size

    def describe(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "cell"}


@dataclass
class SeqCase:
    """Arrays of a :class:`SeqSpec`, torch's layout and names.

    params: ``weight_ih_l{k}[_reverse]`` (G·H, I or D·P), ``weight_hh_l{k}`` (G·H, P),
    biases (G·H,), ``weight_hr_l{k}`` (P, H) with proj_size; x (T, B, I) or (B, T, I);
    hx: None, h0 (L·D, B, P), or (h0, c0 (L·D, B, H)) for LSTM; lengths (B,) int64 or None;
    d_output like the output (T, B, D·P) / (B, T, D·P); d_hx_n like hx's states.
    """

    spec: SeqSpec
    params: dict
    x: np.ndarray
    hx: object
    lengths: np.ndarray | None
    d_output: np.ndarray
    d_hx_n: object


def seq_param_shapes(spec: SeqSpec) -> dict[str, tuple[int, ...]]:
    """torch's parameter names and shapes for ``spec``, in torch's order."""
    G = cell_kind(spec.cell).gates
    H, P, D = spec.hidden_size, spec.out_size, spec.directions
    shapes = {}
    for layer in range(spec.num_layers):
        for suffix in [f"_l{layer}"] + ([f"_l{layer}_reverse"] if D == 2 else []):
            In = spec.input_size if layer == 0 else D * P
            shapes["weight_ih" + suffix] = (G * H, In)
            shapes["weight_hh" + suffix] = (G * H, P)
            if spec.bias:
                shapes["bias_ih" + suffix] = (G * H,)
                shapes["bias_hh" + suffix] = (G * H,)
            if spec.proj_size:
                shapes["weight_hr" + suffix] = (P, H)
    return shapes


def make_seq_case(spec: SeqSpec) -> SeqCase:
    """The arrays of ``spec`` (weights U(−1/√H, 1/√H) as torch, the rest standard normal)."""
    rng = np.random.default_rng(spec.seed)
    dt = np.dtype(spec.dtype)
    B, T, H, P = spec.batch, spec.steps, spec.hidden_size, spec.out_size
    LD = spec.num_layers * spec.directions
    bound = 1 / np.sqrt(H)
    params = {k: rng.uniform(-bound, bound, size=s).astype(dt)
              for k, s in seq_param_shapes(spec).items()}

    def r(*shape):
        return rng.standard_normal(shape).astype(dt)

    x = r(B, T, spec.input_size) if spec.batch_first else r(T, B, spec.input_size)
    lstm = cell_kind(spec.cell).lstm_state
    hx = None
    if spec.h0:
        hx = (r(LD, B, P), r(LD, B, H)) if lstm else r(LD, B, P)
    lengths = rng.integers(1, T + 1, size=B).astype(np.int64) if spec.lengths else None
    out = (B, T, spec.directions * P) if spec.batch_first else (T, B, spec.directions * P)
    d_output = r(*out)
    d_hx_n = (r(LD, B, P), r(LD, B, H)) if lstm else r(LD, B, P)
    return SeqCase(spec, params, x, hx, lengths, d_output, d_hx_n)


@st.composite
def seq_specs(draw, cells: tuple[str, ...] = ("elman", "elman-relu", "lstm", "gru"),
              num_layers: int | None = None, max_layers: int = 3,
              bidirectional: bool | None = None, batch_first: bool | None = None,
              lengths: bool | None = None, bias: bool | None = None,
              proj_size: bool | None = None, h0: bool | None = None,
              dtypes: tuple[str, ...] = ("float64",), max_batch: int = 4, max_steps: int = 5,
              max_size: int = 5) -> SeqSpec:
    """A :class:`SeqSpec`. Each option: ``None`` draws it, a value fixes it.

    ``proj_size``: None draws whether an LSTM gets a projection, True forces one (LSTM
    with H ≥ 2), False never. ``num_layers`` fixes the layer count (else 1..max_layers).
    """
    cell = draw(st.sampled_from(cells))
    hidden = draw(st.integers(2 if proj_size and cell == "lstm" else 1, max_size))

    def opt(value, strategy=None):
        return draw(strategy or st.booleans()) if value is None else value

    proj = 0
    if cell == "lstm" and hidden > 1 and opt(proj_size):
        proj = draw(st.integers(1, hidden - 1))
    return SeqSpec(
        cell=cell,
        num_layers=num_layers or draw(st.integers(1, max_layers)),
        bidirectional=opt(bidirectional),
        batch_first=opt(batch_first),
        lengths=opt(lengths),
        bias=opt(bias),
        proj_size=proj,
        h0=opt(h0),
        dtype=draw(st.sampled_from(dtypes)),
        batch=draw(st.integers(1, max_batch)),
        steps=draw(st.integers(1, max_steps)),
        input_size=draw(st.integers(1, max_size)),
        hidden_size=hidden,
        seed=draw(st.integers(0, 2**32 - 1)),
    )
