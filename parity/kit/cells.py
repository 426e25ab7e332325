"""The cells the kit knows: their gate blocks, their state, and what proves them.

=============  ========  =======  ======================================================
cell           blocks    state    reference
=============  ========  =======  ======================================================
elman          h         h        torch.nn.RNNCell (tanh)
elman-relu     h         h        torch.nn.RNNCell (relu)
lstm           i f g o   (h, c)   torch.nn.LSTMCell
gru            r z n     h        torch.nn.GRUCell (reset after W_hn)
gru-slide      r z n     h        scratchrnn's NumPy slide/Cho form (torch has none)
gated-none     F         h        scratchrnn.gating forward + finite differences
gated-input    F λ       h        idem (no torch module computes these cells)
gated-hidden   F λ μ     h        idem
=============  ========  =======  ======================================================

Stacked tensors (``weight_ih`` (G·H, I), ``weight_hh`` (G·H, H), ``bias_*`` (G·H,)) hold
the blocks row-wise in the order above (torch's order for the torch cells).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CellKind:
    """What the kit needs to know about one kind of cell."""

    name: str
    letters: str  # gate blocks in torch's stacking order, one character each
    gate_names: tuple[str, ...]  # long names, same order
    lstm_state: bool  # state is (h, c) rather than h
    aliases: tuple[tuple[str, str], ...] = ()  # extra letters accepted in order strings

    @property
    def gates(self) -> int:
        return len(self.letters)

    def block_label(self, k: int, H: int) -> str:
        """``"f (forget gate, rows H:2H)"`` for block k of a stacked tensor."""
        rows = _rows(k)
        if self.gates == 1:
            return f"{self.letters[k]} (the one {self.gate_names[k]} block, rows {rows})"
        return f"{self.letters[k]} ({self.gate_names[k]}, rows {rows})"


def _rows(k: int) -> str:
    def m(j):
        return "0" if j == 0 else ("H" if j == 1 else f"{j}H")

    return f"{m(k)}:{m(k + 1)}"


_LSTM = ("input gate", "forget gate", "candidate C̃ (g)", "output gate")
_GRU = ("reset gate", "update gate", "candidate n")
_GATED = ("candidate F", "input gate λ", "hidden-state gate μ")
CELLS: dict[str, CellKind] = {
    "elman": CellKind("elman", "h", ("Elman",), False),
    "elman-relu": CellKind("elman-relu", "h", ("Elman",), False),
    "lstm": CellKind("lstm", "ifgo", _LSTM, True, (("c", "g"),)),
    "gru": CellKind("gru", "rzn", _GRU, False, (("h", "n"),)),
    "gru-slide": CellKind("gru-slide", "rzn", ("reset gate", "update gate", "candidate h̃"),
                          False, (("h", "n"),)),
    "gated-none": CellKind("gated-none", "F", _GATED[:1], False),
    "gated-input": CellKind("gated-input", "Fλ", _GATED[:2], False, (("l", "λ"),)),
    "gated-hidden": CellKind("gated-hidden", "Fλμ", _GATED, False, (("l", "λ"), ("m", "μ"))),
}
TORCH_CELLS = ("elman", "elman-relu", "lstm", "gru")


def cell_kind(cell: str) -> CellKind:
    """The :class:`CellKind` named ``cell`` (ValueError naming the choices otherwise)."""
    try:
        return CELLS[cell]
    except KeyError:
        raise ValueError(f"cell must be one of {', '.join(CELLS)}; got {cell!r}") from None
