r"""Flax linen adapter: a ``flax.linen`` ``SimpleCell | LSTMCell | OptimizedLSTMCell | GRUCell``
unrolled over time with ``nn.RNN`` on JAX for CPU, as a :class:`ForeignLayer`.

``load("mycells.py:make_cell")`` calls the callable; it returns ``(cell, input_size)`` or
``(cell, input_size, params)`` (the cell's own ``params`` dict, as ``cell.init(...)["params"]``;
without it the parameters are initialised with ``jax.random.key(seed)``), optionally followed
by the torch module (or state_dict) the params are meant to hold. JAX runs on the CPU
(``JAX_PLATFORMS=cpu``) with ``jax_enable_x64``, and the parameters are cast to float64, so a
cell whose ``dtype`` is None computes in float64.

Flax's conventions, read in flax 0.12.8 (``flax/linen/recurrent.py``), mapped to torch's names::

    Dense kernels (in, out) = W^T (transposed), one Dense per gate         linear.py (Dense)
    LSTMCell  ii, if, ig, io: input, NO bias; hi, hf, hg, ho: hidden, with bias    :150-170
              gates i, f, g, o as torch; carry (c, h): c first                     :147, 173
    GRUCell   ir, iz, in: input, with bias; hr, hz: hidden, no bias; hn: with bias :570-593
              n = tanh(in(x) + r ⊙ hn(h)): reset after the hidden projection (torch's form)
              h = (1 − z) ⊙ n + z ⊙ h_prev, as torch                               :594
    SimpleCell  i: input, with bias; h: hidden, no bias; residual adds h_prev before the
              activation (= W_hh + I)                                              :460-480

Torch's b_ih and b_hh enter one pre-activation (except GRU's b_hn), so a cell that holds
only one of them can still compute torch's function: what it lacks is reported missing
(zero on the torch side), and :func:`from_torch_state_dict` folds torch's pair into the one
bias it has. Gradients come from ``jax.grad`` of loss = Σ output ⊙ d_output.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from parity.kit.cli import UserMistake, _import

from .keras import reference_state_dict

_GATES = {"rnn_tanh": ("",), "rnn_relu": ("",), "lstm": ("i", "f", "g", "o"),
          "gru": ("r", "z", "n")}


def _jax():
    """jax on the CPU with float64 enabled, and flax.linen."""
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax
    jax.config.update("jax_enable_x64", True)
    import flax.linen as nn
    return jax, nn


def _cell_kind(cell: Any) -> str:
    """``rnn_tanh`` / ``rnn_relu`` / ``lstm`` / ``gru`` for a flax cell, or refuse."""
    jax, nn = _jax()
    import jax.numpy as jnp
    tanh = {jnp.tanh, nn.tanh, jax.nn.tanh} if hasattr(jax.nn, "tanh") else {jnp.tanh, nn.tanh}
    name = type(cell).__name__
    act = getattr(cell, "activation_fn", None)
    gate = getattr(cell, "gate_fn", None)
    act_name = getattr(act, "__name__", repr(act))
    if isinstance(cell, nn.SimpleCell):
        if act in tanh:
            return "rnn_tanh"
        if act in (nn.relu, jax.nn.relu):
            return "rnn_relu"
        raise UserMistake(f"flax SimpleCell activation_fn {act_name!r} has no torch "
                          "counterpart (torch.nn.RNN: tanh or relu)")
    if isinstance(cell, (nn.LSTMCell, nn.OptimizedLSTMCell, nn.GRUCell)):
        if act not in tanh or gate not in (nn.sigmoid, jax.nn.sigmoid):
            raise UserMistake(f"flax {name} activation_fn={act_name!r}, gate_fn="
                              f"{getattr(gate, '__name__', repr(gate))!r} have no torch "
                              "counterpart (tanh, sigmoid)")
        return "gru" if isinstance(cell, nn.GRUCell) else "lstm"
    raise UserMistake(f"expected a flax.linen SimpleCell, LSTMCell, OptimizedLSTMCell or "
                      f"GRUCell, got {name}")


def _prefixes(kind: str) -> tuple[list[str], list[str]]:
    """The flax Dense names of the input and hidden projections, in torch's gate order."""
    if kind.startswith("rnn_"):
        return ["i"], ["h"]
    return ["i" + g for g in _GATES[kind]], ["h" + g for g in _GATES[kind]]


def _state_dict(kind: str, cell: Any, params: dict) -> tuple[dict, list[str]]:
    """torch names ← flax params (zeros where the cell holds no parameter) and what's missing."""
    ins, hids = _prefixes(kind)
    p = {k: {n: np.asarray(a, dtype=np.float64) for n, a in v.items()} for k, v in
         params.items()}
    H = int(cell.features)
    zero = np.zeros(H)
    sd = {
        "weight_ih_l0": np.concatenate([p[n]["kernel"].T for n in ins]),
        "weight_hh_l0": np.concatenate([p[n]["kernel"].T for n in hids]),
        "bias_ih_l0": np.concatenate([p[n].get("bias", zero) for n in ins]),
        "bias_hh_l0": np.concatenate([p[n].get("bias", zero) for n in hids]),
    }
    if kind.startswith("rnn_") and getattr(cell, "residual", False):
        sd["weight_hh_l0"] = sd["weight_hh_l0"] + np.eye(H)
    missing = {"lstm": ["input biases b_ih"], "gru": ["recurrent biases b_hr, b_hz"],
               }.get(kind, ["recurrent biases b_hh"])
    return sd, missing


def _conventions(kind: str, cell: Any, dtype: str) -> list[str]:
    name = type(cell).__name__
    lines = [f"flax.linen {name} unrolled with nn.RNN on JAX for CPU ({dtype})",
             "Dense kernels are (in, out): W_ih, W_hh transposed, one Dense per gate"]
    if kind == "lstm":
        lines += ["LSTM params ii/if/ig/io (input, no bias) and hi/hf/hg/ho (hidden, with "
                  "bias): gate order i,f,g,o as torch",
                  "input biases missing (google/flax#3746): b_ih zero on the torch side; "
                  "b_hh = flax's hidden biases (torch's b_ih + b_hh act as their sum)",
                  "LSTM carry is (c, h): c first (torch: (h, c))"]
    elif kind == "gru":
        lines += ["GRU params ir/iz/in (input, with bias), hr/hz (hidden, no bias), hn "
                  "(hidden, with bias): gate order r,z,n as torch",
                  "recurrent biases b_hr, b_hz missing: zero on the torch side; b_ir, b_iz = "
                  "flax's input biases (torch's pairs act as their sums)",
                  "GRU n = tanh(in(x) + r*hn(h)): reset applied after the hidden projection "
                  "(torch's form, linear_before_reset=1)",
                  "GRU update h = (1-z)*n + z*h_prev (torch: the same)"]
    else:
        lines += [f"SimpleCell activation {kind[4:]} (torch nonlinearity={kind[4:]!r})",
                  "SimpleCell params i (input, with bias), h (hidden, no bias): recurrent "
                  "biases b_hh missing, zero on the torch side"]
        if getattr(cell, "residual", False):
            lines.append("SimpleCell residual=True: h_prev added before the activation: "
                         "torch twin with W_hh + I")
    return lines


def _runner(cell: Any, kind: str, params: dict, jdtype):
    """(run, gradients) for the ForeignLayer: time-first NumPy in and out."""
    jax, nn = _jax()
    import jax.numpy as jnp
    rnn = nn.RNN(cell, time_major=True, return_carry=True)

    def carry_of(x, h0, c0):
        if h0 is None:
            carry = cell.initialize_carry(jax.random.key(0), x[0].shape)
            return jax.tree_util.tree_map(lambda a: a.astype(jdtype), carry)
        h = jnp.asarray(h0[0], dtype=jdtype)
        if kind == "lstm":
            c = jnp.zeros_like(h) if c0 is None else jnp.asarray(c0[0], dtype=jdtype)
            return (c, h)  # flax's order: (c, h)
        return h

    @jax.jit  # one trace per shape: nn.RNN's scan is otherwise re-traced on every call
    def forward(p, x, carry):
        carry, y = rnn.apply({"params": {"cell": p}}, x, initial_carry=carry)
        return carry, y

    @jax.jit
    def grad(p, x, carry, d):
        return jax.grad(lambda p, x, carry: jnp.sum(forward(p, x, carry)[1] * d),
                        argnums=(0, 1, 2))(p, x, carry)

    def run(x, h0=None, c0=None):
        x = jnp.asarray(x, dtype=jdtype)
        carry, y = forward(params, x, carry_of(x, h0, c0))
        out = {"output": np.asarray(y, dtype=np.float64)}
        if kind == "lstm":
            out["h_n"] = np.asarray(carry[1], dtype=np.float64)[None]
            out["c_n"] = np.asarray(carry[0], dtype=np.float64)[None]
        else:
            out["h_n"] = np.asarray(carry, dtype=np.float64)[None]
        return out

    def gradients(x, h0, c0, d_output):
        x = jnp.asarray(x, dtype=jdtype)
        d = jnp.asarray(d_output, dtype=jdtype)
        g_p, g_x, g_c = grad(params, x, carry_of(x, h0, c0), d)
        out = {"d_input": np.asarray(g_x, dtype=np.float64)}
        if h0 is not None:
            h_c = g_c[1] if kind == "lstm" else g_c
            out["d_h0"] = np.asarray(h_c, dtype=np.float64)[None]
            if kind == "lstm" and c0 is not None:
                out["d_c0"] = np.asarray(g_c[0], dtype=np.float64)[None]
        ins, hids = _prefixes(kind)
        g = {k: {n: np.asarray(a, dtype=np.float64) for n, a in v.items()}
             for k, v in g_p.items()}
        out["d_weight_ih_l0"] = np.concatenate([g[n]["kernel"].T for n in ins])
        out["d_weight_hh_l0"] = np.concatenate([g[n]["kernel"].T for n in hids])
        # only the biases the cell holds have gradients; the missing ones are left out
        if kind != "lstm":
            out["d_bias_ih_l0"] = np.concatenate([g[n]["bias"] for n in ins])
        if kind == "lstm":
            out["d_bias_hh_l0"] = np.concatenate([g[n]["bias"] for n in hids])
        return out

    return run, gradients


def foreign_layer(cell: Any, input_size: int, params: dict | None = None, *, seed: int = 0,
                  reference: Any = None):
    """The :class:`ForeignLayer` of a flax cell with ``params`` (or freshly initialised ones).

    ``reference``: the torch module (or state_dict) whose weights ``params`` are meant to hold;
    then the torch side is that, not the mapping of the flax params.
    """
    jax, _ = _jax()
    import jax.numpy as jnp

    from . import ForeignLayer
    kind = _cell_kind(cell)
    try:
        input_size = int(input_size)
    except (TypeError, ValueError):
        raise UserMistake(f"flax: the input size must be an int, got {input_size!r}") from None
    if params is None:
        x0 = jnp.zeros((1, input_size))
        carry = cell.initialize_carry(jax.random.key(seed), x0.shape)
        params = cell.init(jax.random.key(seed), carry, x0)["params"]
    elif "params" in params and len(params) == 1:
        params = params["params"]
    dtype = "float32" if cell.dtype is not None and jnp.dtype(cell.dtype) == jnp.float32 \
        else "float64"
    jdtype = jnp.float64 if dtype == "float64" else jnp.float32
    params = jax.tree_util.tree_map(lambda a: jnp.asarray(a, dtype=jdtype), params)
    ins, hids = _prefixes(kind)
    absent = [n for n in ins + hids if n not in params]
    if absent:
        raise UserMistake(f"flax {type(cell).__name__} params lack {', '.join(absent)}")
    if params[ins[0]]["kernel"].shape[0] != input_size:
        raise UserMistake(f"flax params have input size {params[ins[0]]['kernel'].shape[0]}, "
                          f"the callable says {input_size}")
    sd, missing = _state_dict(kind, cell, params)
    conventions = _conventions(kind, cell, dtype)
    if reference is not None:
        sd = reference_state_dict(reference, sd)
        conventions.append("torch side: the reference torch weights the callable returned "
                           "(not the mapping of the flax params)")
    run, gradients = _runner(cell, kind, params, jdtype)
    native = {f"{k}.{n}": np.asarray(a) for k, v in params.items() for n, a in v.items()}
    return ForeignLayer(
        ecosystem="flax", cell=kind, input_size=input_size, hidden_size=int(cell.features),
        bidirectional=False, batch_first=False, state_dict=sd,
        conventions=conventions, missing=missing, run=run,
        gradients=gradients, dtype=dtype, native=native)


def load(spec: str, *, seed: int = 0, **options):
    """``module:callable`` → :class:`ForeignLayer`; the callable returns ``(cell, input_size)``
    or ``(cell, input_size, params)``."""
    _jax()
    _, _, make = _import(spec)
    if not callable(make):
        raise UserMistake(f"{spec} is not callable")
    try:
        made = make()
    except Exception as exc:  # the user's code: one line
        first = (str(exc).splitlines() or [""])[0]
        raise UserMistake(f"{spec}() failed: {type(exc).__name__}: {first}") from exc
    if not isinstance(made, tuple) or len(made) not in (2, 3, 4):
        raise UserMistake(f"{spec}() must return (cell, input_size), optionally followed by "
                          f"params and a torch reference, got {type(made).__name__}")
    cell, input_size, *rest = made
    params = reference = None
    for part in rest:  # a torch module / state_dict has torch's names; params flax's
        if hasattr(part, "state_dict") or (hasattr(part, "keys") and "weight_ih_l0" in part):
            reference = part
        else:
            params = part
    return foreign_layer(cell, input_size, params, seed=seed, reference=reference)


def from_torch_state_dict(cell: str, state_dict: dict, **_):
    """A flax cell holding torch's ``state_dict`` (one layer, one direction), biases folded:
    LSTM hi..ho bias = b_ih + b_hh, GRU ir/iz bias = b_i + b_h, SimpleCell i bias = b_ih + b_hh.
    """
    _, nn = _jax()
    cell = {"elman": "rnn_tanh", "elman-relu": "rnn_relu"}.get(cell, cell)  # vector names
    if cell not in _GATES:
        raise UserMistake(f"unknown cell {cell!r}: one of {', '.join(_GATES)}")
    extra = sorted(n for n in state_dict if not n.endswith("_l0"))
    if extra:
        raise UserMistake(f"flax: one layer, one direction, no projections only, got {extra[0]}")
    W_ih, W_hh = np.asarray(state_dict["weight_ih_l0"]), np.asarray(state_dict["weight_hh_l0"])
    H, I_ = W_hh.shape[1], W_ih.shape[1]
    k = len(_GATES[cell])
    b_ih = np.asarray(state_dict.get("bias_ih_l0", np.zeros(k * H)))
    b_hh = np.asarray(state_dict.get("bias_hh_l0", np.zeros(k * H)))
    ins, hids = _prefixes(cell)
    params: dict[str, dict[str, np.ndarray]] = {}
    for g, (i_name, h_name) in enumerate(zip(ins, hids, strict=True)):
        rows = slice(g * H, (g + 1) * H)
        params[i_name] = {"kernel": W_ih[rows].T.copy()}
        params[h_name] = {"kernel": W_hh[rows].T.copy()}
        if cell == "lstm":
            params[h_name]["bias"] = b_ih[rows] + b_hh[rows]
        elif cell == "gru" and g == 2:  # n: b_in input side, b_hn inside r ⊙ (…)
            params[i_name]["bias"], params[h_name]["bias"] = b_ih[rows], b_hh[rows]
        else:
            params[i_name]["bias"] = b_ih[rows] + b_hh[rows]
    if cell.startswith("rnn_"):
        made = nn.SimpleCell(features=H, activation_fn=nn.tanh if cell == "rnn_tanh"
                             else nn.relu)
    elif cell == "lstm":
        made = nn.LSTMCell(features=H)
    else:
        made = nn.GRUCell(features=H)
    return foreign_layer(made, I_, params)
