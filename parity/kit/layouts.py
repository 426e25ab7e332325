r"""Layouts: how *your* code stores a cell's weights and states, mapped to torch's and back.

torch's layout (the kit's internal one): ``weight_ih`` (G·H, I), ``weight_hh`` (G·H, H),
``bias_ih``/``bias_hh`` (G·H,), gate blocks stacked row-wise in torch's order (LSTM
i f g o, GRU r z n); inputs (B, I), states (B, H); the cell computes
``x W_ih^T + b_ih + h W_hh^T + b_hh``.

A :class:`Layout` combines, in this order of application (torch → yours):

* ``order``: your gate order as a string, e.g. ``"ifog"``, ``"fiog"`` (LSTM; ``c`` may
  stand for ``g``), ``"zrn"`` (GRU; ``h`` for ``n``);
* ``weights``: ``"stacked"`` (torch's two matrices); ``"concat"``, the slide's
  ``W·[h_{t-1}, x_t] + b``: one matrix ``W = [W_hh | W_ih]`` (G·H, H+I) and one summed
  bias ``b = b_ih + b_hh`` (``concat_order="xh"`` for ``W·[x, h]``); ``"per_gate"``:
  separate matrices per gate in a dict, under any key names (see ``names``);
* ``transposed``: you apply ``x @ W``: every matrix is stored transposed;
* ``columns``: column-vector states and inputs, ``x`` (I, B), ``h`` (H, B), biases
  (G·H, 1), as in min-char-rnn (``h = tanh(W_xh @ x + W_hh @ h + b)``).

``names`` maps the roles to your keys. Roles: ``weight_ih``, ``weight_hh``,
``bias_ih``, ``bias_hh``, ``bias`` (one summed bias), ``W`` (concatenated matrix). With
``per_gate`` each name is a format string with ``{g}``, the gate's letter, or its word
from ``gate_names``: e.g. ``names={"W": "W_{g}", "bias": "b_{g}"}`` is the slide's
``f_t = σ(W_f·[h_{t-1}, x_t] + b_f)`` literally. Defaults: torch's names (stacked),
``W``/``b`` (concat), ``W_x{g}``/``W_h{g}``/``b_x{g}``/``b_h{g}`` (per gate; ``b_{g}``
for one summed bias, ``W_{g}`` for a concatenated matrix per gate).

Gradients map back the same way (:meth:`Layout.grads_to_torch`): a summed bias's
gradient is both ``bias_ih``'s and ``bias_hh``'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .cells import cell_kind

WEIGHTS = ("stacked", "concat", "per_gate")
_NAMES = {"bias": "b"}
_PER_GATE_NAMES = {"weight_ih": "W_x{g}", "weight_hh": "W_h{g}", "bias": "b_{g}",
                   "bias_ih": "b_x{g}", "bias_hh": "b_h{g}", "W": "W_{g}"}
PRESETS = ("torch", "concat", "slide", "per-gate", "transposed", "columns")


@dataclass(frozen=True)
class Layout:
    """Your layout of a cell's parameters and states (see the module docstring)."""

    weights: str = "stacked"
    order: str | None = None
    transposed: bool = False
    columns: bool = False
    summed_bias: bool | None = None  # default: True for concat, else False
    names: dict = field(default_factory=dict)
    gate_names: dict = field(default_factory=dict)
    concat_order: str = "hx"

    def __post_init__(self) -> None:
        if self.weights not in WEIGHTS:
            raise ValueError(f"weights must be one of {WEIGHTS}, got {self.weights!r}")
        if self.concat_order not in ("hx", "xh"):
            raise ValueError(f"concat_order must be 'hx' or 'xh', got {self.concat_order!r}")
        if self.transposed and self.columns:
            raise ValueError("columns (W @ x) and transposed (x @ W) exclude each other")

    def __repr__(self) -> str:
        default = Layout.__dataclass_fields__
        args = []
        for k, f in default.items():
            v = getattr(self, k)
            d = f.default_factory() if callable(f.default_factory) else f.default
            if v != d:
                args.append(f"{k}={v!r}")
        return f"Layout({', '.join(args)})"

    # ------------------------------------------------------------------ helpers
    @property
    def summed(self) -> bool:
        if self.summed_bias is not None:
            return self.summed_bias
        return self.weights == "concat" or "bias" in self.names or "W" in self.names

    @property
    def concatenated(self) -> bool:
        return self.weights == "concat" or (self.weights == "per_gate" and "W" in self.names)

    def describe(self) -> str:
        parts = {"stacked": "stacked W_ih, W_hh", "per_gate": "one matrix per gate",
                 "concat": "W·[h, x] + b"}[self.weights]
        if self.concatenated and self.weights == "per_gate":
            parts = "one W_g·[h, x] per gate"
        if self.concat_order == "xh" and self.concatenated:
            parts = parts.replace("[h, x]", "[x, h]")
        bits = [parts]
        if self.summed:
            bits.append("one summed bias")
        if self.order:
            bits.append(f"gate order {self.order}")
        if self.transposed:
            bits.append("x @ W (transposed)")
        if self.columns:
            bits.append("column vectors (H, B)")
        return ", ".join(bits)

    def check_cell(self, cell: str) -> None:
        """ValueError where this layout cannot express ``cell``."""
        kind = cell_kind(cell)
        self._perm(kind)
        if cell == "gru" and (self.summed or self.concatenated):
            raise ValueError(
                "torch's GRU cannot use a concatenated W·[h, x] or one summed bias: b_hn sits "
                "inside r ⊙ (W_hn h + b_hn); use cell 'gru-slide' (the slide's form) or "
                "separate weights and biases")

    def _perm(self, kind) -> list[int]:
        """perm[j] = torch block index of your j-th block."""
        if not self.order:
            return list(range(kind.gates))
        alias = dict(kind.aliases)
        letters = [alias.get(ch, ch) for ch in self.order]
        if sorted(letters) != sorted(kind.letters):
            raise ValueError(f"gate order {self.order!r} is not a permutation of "
                             f"{kind.letters!r} ({kind.name})")
        return [kind.letters.index(ch) for ch in letters]

    def _name(self, role: str) -> str:
        default = _PER_GATE_NAMES if self.weights == "per_gate" else _NAMES
        return self.names.get(role, default.get(role, role))

    def _gate_key(self, role: str, letter: str) -> str:
        return self._name(role).format(g=self.gate_names.get(letter, letter))

    # ------------------------------------------------------------------ params
    def _matrix(self, a: np.ndarray) -> np.ndarray:
        return a.T if self.transposed else a

    def _vector(self, a: np.ndarray) -> np.ndarray:
        return a.reshape(-1, 1) if self.columns else a

    def params_from_torch(self, cell: str, p: dict, grads: bool = False) -> dict:
        """Your parameters from torch's ``weight_ih``, ``weight_hh`` [, ``bias_*``].

        With ``grads=True`` the arrays are gradients: a summed bias's gradient is
        ``bias_ih``'s (equal to ``bias_hh``'s), not their sum.
        """
        self.check_cell(cell)
        kind = cell_kind(cell)
        perm = self._perm(kind)
        H = p["weight_hh"].shape[1]
        bias = p.get("bias_ih") is not None

        def reorder(a):
            return np.concatenate([a[k * H:(k + 1) * H] for k in perm], axis=0)

        W_ih, W_hh = reorder(p["weight_ih"]), reorder(p["weight_hh"])
        mats = {}
        if self.concatenated:
            pair = (W_hh, W_ih) if self.concat_order == "hx" else (W_ih, W_hh)
            mats["W"] = np.concatenate(pair, axis=1)
        else:
            mats["weight_ih"], mats["weight_hh"] = W_ih, W_hh
        vecs = {}
        if bias:
            if self.summed:
                vecs["bias"] = reorder(p["bias_ih"]) + (0 if grads else reorder(p["bias_hh"]))
            else:
                vecs["bias_ih"], vecs["bias_hh"] = reorder(p["bias_ih"]), reorder(p["bias_hh"])
        out = {}
        if self.weights == "per_gate":
            letters = [kind.letters[k] for k in perm]
            for j, g in enumerate(letters):
                for role, a in mats.items():
                    out[self._gate_key(role, g)] = self._matrix(a[j * H:(j + 1) * H])
                for role, a in vecs.items():
                    out[self._gate_key(role, g)] = self._vector(a[j * H:(j + 1) * H])
            return out
        for role, a in mats.items():
            out[self._name(role)] = self._matrix(a)
        for role, a in vecs.items():
            out[self._name(role)] = self._vector(a)
        return out

    def _to_torch(self, cell: str, u: dict, hidden_size: int, input_size: int, bias: bool,
                  grads: bool) -> dict:
        self.check_cell(cell)
        kind = cell_kind(cell)
        perm = self._perm(kind)
        H, I = hidden_size, input_size
        G = kind.gates
        mat_roles = ["W"] if self.concatenated else ["weight_ih", "weight_hh"]
        vec_roles = ([] if not bias else ["bias"] if self.summed else ["bias_ih", "bias_hh"])

        def unmatrix(a):
            a = np.asarray(a)
            return a.T if self.transposed else a

        def unvector(a):
            return np.asarray(a).reshape(-1)

        stacked = {}
        if self.weights == "per_gate":
            letters = [kind.letters[k] for k in perm]
            for role in mat_roles:
                stacked[role] = np.concatenate(
                    [unmatrix(u[self._gate_key(role, g)]) for g in letters], axis=0)
            for role in vec_roles:
                stacked[role] = np.concatenate(
                    [unvector(u[self._gate_key(role, g)]) for g in letters], axis=0)
        else:
            for role in mat_roles:
                stacked[role] = unmatrix(u[self._name(role)])
            for role in vec_roles:
                stacked[role] = unvector(u[self._name(role)])
        if self.concatenated:
            W = stacked.pop("W")
            if W.shape != (G * H, H + I):
                raise ValueError(f"concatenated W has shape {W.shape}, expected "
                                 f"{(G * H, H + I)} (or its transpose)")
            first, second = W[:, :H], W[:, H:]
            if self.concat_order == "xh":
                first, second = W[:, :I], W[:, I:]
                stacked["weight_ih"], stacked["weight_hh"] = first, second
            else:
                stacked["weight_hh"], stacked["weight_ih"] = first, second
        if bias and self.summed:
            b = stacked.pop("bias")
            stacked["bias_ih"] = b
            stacked["bias_hh"] = b.copy() if grads else np.zeros_like(b)
        inv = np.argsort(perm)
        out = {}
        for role, a in stacked.items():
            if a.shape[0] != G * H:
                raise ValueError(f"{role} has {a.shape[0]} rows, expected {G * H}")
            out[role] = np.concatenate([a[j * H:(j + 1) * H] for j in inv], axis=0)
        return out

    def params_to_torch(self, cell: str, u: dict, hidden_size: int, input_size: int,
                        bias: bool = True) -> dict:
        """torch's parameters from yours (a summed bias goes to ``bias_ih``; ``bias_hh`` = 0)."""
        return self._to_torch(cell, u, hidden_size, input_size, bias, grads=False)

    def grads_to_torch(self, cell: str, u: dict, hidden_size: int, input_size: int,
                       bias: bool = True) -> dict:
        """torch-named gradients from yours (a summed bias's gradient is both biases')."""
        return self._to_torch(cell, u, hidden_size, input_size, bias, grads=True)

    def user_names(self, cell: str) -> dict[str, str]:
        """torch gradient name → what your layout calls it (for messages)."""
        kind = cell_kind(cell)
        letters = "".join(kind.letters[k] for k in self._perm(kind))
        t = ".T" if self.transposed else ""

        def each(role):
            if self.weights == "per_gate":
                return "/".join(self._gate_key(role, g) for g in letters) + t
            return self._name(role) + t

        if self.concatenated:
            W = each("W")
            h_first = self.concat_order == "hx"
            hh, ih = ("[:, :H]", "[:, H:]") if h_first else ("[:, I:]", "[:, :I]")
            if self.transposed:
                hh, ih = ("[:H]", "[H:]") if h_first else ("[I:]", "[:I]")
            names = {"d_weight_hh": f"d {W}{hh}", "d_weight_ih": f"d {W}{ih}"}
        else:
            names = {"d_weight_ih": f"d {each('weight_ih')}", "d_weight_hh":
                     f"d {each('weight_hh')}"}
        if self.summed:
            names["d_bias_ih"] = names["d_bias_hh"] = f"d {each('bias').removesuffix(t)}"
        else:
            names["d_bias_ih"] = f"d {each('bias_ih').removesuffix(t)}"
            names["d_bias_hh"] = f"d {each('bias_hh').removesuffix(t)}"
        return names

    # ------------------------------------------------------------------ arrays
    def array_to_user(self, a: np.ndarray) -> np.ndarray:
        """An input or state (B, n) as you hold it: (n, B) with ``columns``."""
        return np.ascontiguousarray(a.T) if self.columns else a

    def array_from_user(self, a):
        """Your input or state back to torch's (B, n)."""
        if self.columns and isinstance(a, np.ndarray):
            return a.T
        return a

    def state_to_user(self, s):
        if isinstance(s, tuple):
            return tuple(self.array_to_user(a) for a in s)
        return self.array_to_user(s)

    def state_from_user(self, s):
        if isinstance(s, (tuple, list)):
            return tuple(self.array_from_user(a) for a in s)
        return self.array_from_user(s)


def parse_layout(spec: str | Layout | None, order: str | None = None) -> Layout:
    """A :class:`Layout` from a preset name or a comma list of them.

    Presets: ``torch`` (default), ``concat`` / ``slide`` (``W·[h, x] + b``), ``per-gate``,
    ``transposed`` (``x @ W``), ``columns`` ((H, B) states); e.g. ``"concat,transposed"``.
    ``order`` sets the gate order.
    """
    if isinstance(spec, Layout):
        return spec if order is None else Layout(**{**spec.__dict__, "order": order})
    kw: dict = {"order": order}
    for part in (spec or "torch").split(","):
        part = part.strip()
        if part == "torch":
            continue
        if part in ("concat", "slide"):
            kw["weights"] = "concat"
        elif part in ("per-gate", "per_gate"):
            kw["weights"] = "per_gate"
        elif part == "transposed":
            kw["transposed"] = True
        elif part == "columns":
            kw["columns"] = True
        else:
            raise ValueError(f"unknown layout {part!r}; choose from {', '.join(PRESETS)} "
                             "(comma-separated)")
    return Layout(**kw)
