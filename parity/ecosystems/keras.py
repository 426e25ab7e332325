r"""Keras 3 adapter: a ``keras.layers.SimpleRNN | LSTM | GRU`` (or ``RNN`` over one of their
cells, possibly in ``Bidirectional``) run on Keras' torch backend, as a :class:`ForeignLayer`.

``load("mylayers.py:make_gru")`` imports the callable and calls it; it returns the layer, or
``(layer, input_size)`` for a layer that is not built yet (or pass ``input_size=``). Keras is
imported with ``KERAS_BACKEND=torch`` (set here, before the import); a Keras already imported
with another backend is refused with one line. The layer is created under
``keras.config.floatx() == "float64"`` so that it computes in float64 unless the callable
gives it a dtype of its own.

Keras' conventions, read in keras 3.15.1 (``keras/src/layers/rnn/``), mapped to torch's names::

    kernel            (I, k·H)  = W_ih^T  (transposed)         gru.py:148, lstm.py:150
    recurrent_kernel  (H, k·H)  = W_hh^T  (transposed)         gru.py:155, lstm.py:157
    LSTM gate blocks  i, f, c, o = torch i, f, g, o            lstm.py:224-227
    LSTM / SimpleRNN  one bias (k·H,) = b_ih + b_hh            lstm.py:185, simple_rnn.py:144
    GRU gate blocks   z, r, h   ≠ torch r, z, n                gru.py:266, 279-284
    GRU reset_after=True   bias (2, 3H) = [b_ih; b_hh], r·(W_hn h + b_hn): torch's form
                                                               gru.py:171, 268-287
    GRU reset_after=False  bias (3H,) on the input side only, W_hn (r ⊙ h): Cho v3, no twin
                                                               gru.py:165, 288-291
    GRU update        h = z ⊙ h_prev + (1 − z) ⊙ n, as torch   gru.py:296
    LSTM / SimpleRNN biases enter one pre-activation, so only b_ih + b_hh is identifiable: the
    Keras bias is loaded as b_ih with b_hh = 0, and d b_hh = d b_ih (torch's two gradients are
    equal for that reason).

Gradients come from torch autograd through the layer's own variables
(``cell.kernel.value`` is a ``torch.nn.Parameter``) for loss = Σ output ⊙ d_output.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np

from parity.kit.cli import UserMistake, _import

_GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}
_GRU_TO_TORCH = (1, 0, 2)  # keras blocks z, r, h → torch r, z, n (the same swap both ways)


def _keras():
    """Import keras on the torch backend (refuse one already imported on another)."""
    if "keras" in sys.modules:
        keras = sys.modules["keras"]
        backend = keras.backend.backend()
        if backend != "torch":
            raise UserMistake(f"keras was already imported with backend {backend!r}; the "
                              "check needs KERAS_BACKEND=torch set before keras is imported")
        return keras
    os.environ["KERAS_BACKEND"] = "torch"
    import keras
    return keras


def _blocks(a: np.ndarray, gates: int, order, axis: int = 0) -> np.ndarray:
    """Reorder the ``gates`` equal blocks of ``a`` along ``axis`` (``order``: source blocks)."""
    if order is None:
        return a
    parts = np.split(a, gates, axis=axis)
    return np.concatenate([parts[k] for k in order], axis=axis)


def _cell_kind(rnn: Any) -> str:
    """``rnn_tanh`` / ``rnn_relu`` / ``lstm`` / ``gru`` for a Keras RNN layer, or refuse."""
    keras = _keras()
    cell = getattr(rnn, "cell", None)
    act = getattr(getattr(cell, "activation", None), "__name__", None)
    rec = getattr(getattr(cell, "recurrent_activation", None), "__name__", None)
    if isinstance(cell, keras.layers.SimpleRNNCell):
        if act not in ("tanh", "relu"):
            raise UserMistake(f"keras SimpleRNN activation {act!r} has no torch counterpart "
                              "(torch.nn.RNN: tanh or relu)")
        return "rnn_" + act
    if isinstance(cell, (keras.layers.LSTMCell, keras.layers.GRUCell)):
        if (act, rec) != ("tanh", "sigmoid"):
            raise UserMistake(f"keras {type(rnn).__name__} activation={act!r}, recurrent_"
                              f"activation={rec!r} have no torch counterpart (tanh, sigmoid)")
        return "lstm" if isinstance(cell, keras.layers.LSTMCell) else "gru"
    raise UserMistake(f"expected a keras SimpleRNN, LSTM or GRU layer (or Bidirectional of "
                      f"one), got {type(rnn).__name__}"
                      + (f" with cell {type(cell).__name__}" if cell is not None else ""))


def _directions(layer: Any) -> list[Any]:
    """The RNN layers of ``layer``: [layer] or [forward, backward] for ``Bidirectional``."""
    keras = _keras()
    if isinstance(layer, keras.layers.Bidirectional):
        if layer.merge_mode != "concat":
            raise UserMistake(f"keras Bidirectional merge_mode={layer.merge_mode!r}: torch "
                              "concatenates the two directions (merge_mode='concat')")
        fwd, bwd = layer.forward_layer, layer.backward_layer
        if fwd.go_backwards or not bwd.go_backwards:
            raise UserMistake("keras Bidirectional whose forward layer reads backwards has "
                              "no torch counterpart")
        if (_cell_kind(fwd), fwd.cell.units, fwd.cell.use_bias,
                getattr(fwd.cell, "reset_after", None)) != (
                _cell_kind(bwd), bwd.cell.units, bwd.cell.use_bias,
                getattr(bwd.cell, "reset_after", None)):
            raise UserMistake("keras Bidirectional with different forward and backward layers "
                              "has no torch counterpart (torch's directions share one cell type)")
        return [fwd, bwd]
    if not isinstance(layer, keras.layers.RNN):
        raise UserMistake(f"expected a keras SimpleRNN, LSTM or GRU layer, got "
                          f"{type(layer).__name__}")
    return [layer]


def _conventions(kind: str, rnns: list[Any], dtype: str) -> list[str]:
    cell = rnns[0].cell
    k = _GATES[kind]
    lines = [f"keras {type(rnns[0]).__name__} on the torch backend ({dtype}); layout "
             "(batch, time, features): run with time first",
             f"kernel (I, {k}H) and recurrent_kernel (H, {k}H) are W_ih, W_hh transposed"]
    if kind == "lstm":
        lines.append("LSTM gate order i,f,c,o (torch: i,f,g,o: the same)")
        if cell.use_bias:
            lines.append("LSTM: one bias (4H,) = torch b_ih + b_hh: loaded as b_ih, b_hh = 0")
            if cell.unit_forget_bias:
                lines.append("unit_forget_bias=True: the forget block of the bias started "
                             "at 1 (an initializer: the weights as they are are checked)")
    elif kind == "gru":
        lines.append("GRU gate order z,r,h (torch: r,z,n): blocks reordered")
        lines.append("GRU update h = z*h_prev + (1-z)*n (torch: the same)")
        if cell.reset_after:
            lines.append("GRU reset_after=True: bias (2, 3H) = [b_ih, b_hh], reset applied "
                         "after the hidden projection: torch's form")
        else:
            lines.append("GRU reset_after=False: reset applied before the hidden projection "
                         "(Cho v3); torch applies it after: no torch twin"
                         + (", one bias (3H,) on the input side, b_hh = 0"
                            if cell.use_bias else ""))
    else:
        lines.append(f"SimpleRNN activation {kind[4:]} (torch nonlinearity={kind[4:]!r})")
        if cell.use_bias:
            lines.append("SimpleRNN: one bias (H,) = torch b_ih + b_hh: loaded as b_ih, "
                         "b_hh = 0")
    if not cell.use_bias:
        lines.append("use_bias=False: biases missing, zero on the torch side")
    if len(rnns) == 2:
        lines.append("Bidirectional(merge_mode='concat'): backward layer = torch _reverse")
    elif rnns[0].go_backwards:
        lines.append("go_backwards=True: no torch twin for a reverse-only layer; Keras is run "
                     "on the time-flipped input (its outputs in reading order) and compared "
                     "with torch on the input as given")
    if cell.dropout or cell.recurrent_dropout:
        lines.append(f"dropout={cell.dropout}, recurrent_dropout={cell.recurrent_dropout}: "
                     "off (training=False)")
    return lines


def _state_dict(kind: str, rnns: list[Any]) -> tuple[dict, dict, list[str]]:
    """torch names ← Keras weights; also the Keras-native arrays and what is missing."""
    k = _GATES[kind]
    order = _GRU_TO_TORCH if kind == "gru" else None
    sd: dict[str, np.ndarray] = {}
    native: dict[str, np.ndarray] = {}
    missing: list[str] = []
    for d, rnn in enumerate(rnns):
        cell, sfx = rnn.cell, "_reverse" if d else ""
        kernel = _numpy(cell.kernel)
        recurrent = _numpy(cell.recurrent_kernel)
        native["kernel" + sfx], native["recurrent_kernel" + sfx] = kernel, recurrent
        sd["weight_ih_l0" + sfx] = _blocks(kernel.T, k, order).copy()
        sd["weight_hh_l0" + sfx] = _blocks(recurrent.T, k, order).copy()
        H = cell.units
        if cell.use_bias:
            bias = _numpy(cell.bias)
            native["bias" + sfx] = bias
            if bias.ndim == 2:  # GRU reset_after=True: [input bias, recurrent bias]
                sd["bias_ih_l0" + sfx] = _blocks(bias[0], k, order).copy()
                sd["bias_hh_l0" + sfx] = _blocks(bias[1], k, order).copy()
            else:
                sd["bias_ih_l0" + sfx] = _blocks(bias, k, order).copy()
                sd["bias_hh_l0" + sfx] = np.zeros(k * H, bias.dtype)
        else:
            sd["bias_ih_l0" + sfx] = np.zeros(k * H, kernel.dtype)
            sd["bias_hh_l0" + sfx] = np.zeros(k * H, kernel.dtype)
    if not rnns[0].cell.use_bias:
        missing = ["biases b_ih", "biases b_hh"]
    return sd, native, missing


def _numpy(variable) -> np.ndarray:
    return variable.value.detach().cpu().numpy().copy()


def _runner(layer: Any, kind: str, rnns: list[Any], torch_dtype):
    """(run, gradients) for the ForeignLayer: time-first NumPy in and out."""
    import torch
    flip = len(rnns) == 1 and rnns[0].go_backwards
    # every output and every state: set on the wrapper and on each direction
    for obj in [layer, *rnns]:
        obj.return_sequences, obj.return_state = True, True
    n_states = 2 if kind == "lstm" else 1
    D = len(rnns)

    def call(x, h0, c0):
        xt = x.permute(1, 0, 2)  # (T, B, I) → Keras' (B, T, I)
        if flip:
            xt = torch.flip(xt, dims=(1,))
        init = None
        if h0 is not None:
            init = []
            for d in range(D):
                init.append(h0[d])
                if kind == "lstm":
                    init.append(c0[d] if c0 is not None else torch.zeros_like(h0[d]))
        out = layer(xt, initial_state=init, training=False)
        output, states = out[0], list(out[1:])
        h_n = torch.stack([states[d * n_states] for d in range(D)])
        res = {"output": output.permute(1, 0, 2), "h_n": h_n}
        if kind == "lstm":
            res["c_n"] = torch.stack([states[d * n_states + 1] for d in range(D)])
        return res

    def tensor(a, grad=False):
        if a is None:
            return None
        return torch.tensor(np.asarray(a), dtype=torch_dtype, requires_grad=grad)

    def run(x, h0=None, c0=None):
        with torch.no_grad():
            res = call(tensor(x), tensor(h0), tensor(c0))
        return {key: v.detach().cpu().numpy().astype(np.float64) for key, v in res.items()}

    def gradients(x, h0, c0, d_output):
        xt, h0t = tensor(x, True), tensor(h0, h0 is not None)
        c0t = tensor(c0, c0 is not None) if kind == "lstm" else None
        res = call(xt, h0t, c0t)
        loss = (res["output"] * tensor(d_output)).sum()
        params, names = [], []
        for d, rnn in enumerate(rnns):
            sfx = "_reverse" if d else ""
            for var, name in ((rnn.cell.kernel, "weight_ih"), (rnn.cell.recurrent_kernel,
                                                                "weight_hh"),
                              (rnn.cell.bias, "bias")):
                if var is not None:
                    params.append(var.value)
                    names.append(name + "_l0" + sfx)
        inputs = [t for t in (xt, h0t, c0t) if t is not None]
        grads = torch.autograd.grad(loss, inputs + params, allow_unused=True)
        # a variable the loss does not reach has gradient zero (as in torch)
        as_np = [np.zeros(tuple(t.shape)) if g is None
                 else g.detach().cpu().numpy().astype(np.float64)
                 for g, t in zip(grads, inputs + params, strict=True)]
        out = {"d_input": as_np[0]}
        i = 1
        if h0t is not None:
            out["d_h0"], i = as_np[1], 2
        if c0t is not None:
            out["d_c0"], i = as_np[i], i + 1
        out.update(_torch_gradients(kind, dict(zip(names, as_np[i:], strict=True))))
        return out

    return run, gradients


def _torch_gradients(kind: str, g: dict) -> dict:
    """Keras-native gradients (keys weight_ih_l0 = d kernel, bias_l0, …) → d_<torch name>."""
    k = _GATES[kind]
    order = _GRU_TO_TORCH if kind == "gru" else None
    out = {}
    for name, a in g.items():
        base, sfx = (name[:-8], "_reverse") if name.endswith("_reverse") else (name, "")
        if base.startswith("weight"):
            out["d_" + name] = _blocks(a.T, k, order)
        elif a.ndim == 2:  # GRU reset_after=True
            out["d_bias_ih_l0" + sfx] = _blocks(a[0], k, order)
            out["d_bias_hh_l0" + sfx] = _blocks(a[1], k, order)
        else:
            out["d_bias_ih_l0" + sfx] = _blocks(a, k, order)
            if kind != "gru":  # one bias = b_ih + b_hh: torch's two gradients are equal
                out["d_bias_hh_l0" + sfx] = out["d_bias_ih_l0" + sfx]
    return out


def _torch_native_loop(rnn: Any) -> bool:
    """Whether Keras runs this layer with torch ops in the kernel's dtype.

    ``LSTM`` and ``GRU(reset_after=True)`` hand their loop to ``backend.lstm`` / ``backend.gru``
    (keras/src/layers/rnn/lstm.py:550, gru.py:534; the torch fallbacks in
    keras/src/backend/torch/rnn.py:541, 735 compute in ``kernel.dtype``); everything else runs
    the generic cell loop, whose ``ops.matmul`` maps float64 to float32 on non-TF backends
    (keras/src/backend/common/dtypes.py:237-241, ``BIT64_TO_BIT32_DTYPE``).
    """
    keras = _keras()
    if getattr(rnn, "use_cudnn", False) not in ("auto", True) or rnn.cell.recurrent_dropout:
        return False
    if isinstance(rnn, keras.layers.LSTM):
        return True
    return isinstance(rnn, keras.layers.GRU) and bool(rnn.cell.reset_after)


def reference_state_dict(reference: Any, mapped: dict) -> dict:
    """torch weights the foreign layer is meant to hold (a torch module or a state_dict),
    checked against the names and shapes of the layer's own mapped ``state_dict``."""
    if hasattr(reference, "state_dict"):
        reference = reference.state_dict()
    if not isinstance(reference, dict):
        raise UserMistake(f"the reference must be a torch module or a state_dict, got "
                          f"{type(reference).__name__}")
    sd = {k: np.asarray(v.detach().cpu().numpy() if hasattr(v, "detach") else v,
                        dtype=np.float64) for k, v in reference.items()}
    if not any(k.startswith("bias") for k in sd):  # a bias=False torch module: zeros
        sd.update({k: np.zeros_like(v) for k, v in mapped.items() if k.startswith("bias")})
    lacking = [k for k in mapped if k not in sd]
    extra = [k for k in sd if k not in mapped]
    shapes = [f"{k} {tuple(sd[k].shape)} (the layer's: {tuple(v.shape)})"
              for k, v in mapped.items() if k in sd and sd[k].shape != v.shape]
    why = "; ".join(f"{what} {', '.join(keys)}" for what, keys in (
        ("it lacks", lacking), ("it has, beyond the layer's,", extra), ("shapes", shapes))
        if keys)
    if why:
        raise UserMistake(f"the reference's torch weights do not fit the layer: {why}")
    return sd


def foreign_layer(layer: Any, input_size: int | None = None, reference: Any = None):
    """The :class:`ForeignLayer` of a Keras layer (built here with ``input_size`` if needed).

    ``reference``: the torch module (or state_dict) whose weights the layer is meant to hold;
    then the torch side is that, not the mapping of the Keras weights, and a mistake made in
    loading them (keras#8720: torch's r, z blocks copied into Keras' z, r) shows as a mismatch.
    """
    import torch

    from . import ForeignLayer
    rnns = _directions(layer)
    kind = _cell_kind(rnns[0])
    if any(r.stateful for r in rnns):
        raise UserMistake("keras stateful=True carries state between calls; torch.nn has no "
                          "counterpart: make the layer with stateful=False")
    if not layer.built or getattr(rnns[0].cell, "kernel", None) is None:
        if input_size is None:
            raise UserMistake("the keras layer is not built: return (layer, input_size) from "
                              "the callable, or build it (layer.build((None, None, I)))")
        layer.build((None, None, int(input_size)))
    dtype = str(rnns[0].cell.compute_dtype)
    if dtype not in ("float32", "float64"):
        raise UserMistake(f"keras layer dtype {dtype!r}: the check runs float64 or float32")
    sd, native, missing = _state_dict(kind, rnns)
    run, gradients = _runner(layer, kind, rnns, getattr(torch, dtype))
    generic = dtype == "float64" and not _torch_native_loop(rnns[0])
    conventions = _conventions(kind, rnns, "float32" if generic else dtype)
    if reference is not None:
        sd = reference_state_dict(reference, sd)
        conventions.append("torch side: the reference torch weights the callable returned "
                           "(not the mapping of the Keras weights)")
    if generic:
        dtype = "float32"
        conventions.append("this layer runs Keras' generic cell loop, whose ops.matmul "
                           "computes float64 in float32 on the torch backend "
                           "(keras/src/backend/common/dtypes.py:240): checked as float32")
    cell = rnns[0].cell
    return ForeignLayer(
        ecosystem="keras", cell=kind, input_size=int(native["kernel"].shape[0]),
        hidden_size=int(cell.units), bidirectional=len(rnns) == 2, batch_first=True,
        state_dict=sd, conventions=conventions, missing=missing,
        run=run, gradients=gradients, dtype=dtype, native=native)


def _floatx(keras, dtype: str):
    """Context: keras.config.floatx() = dtype while the layer is made and built."""
    class _Ctx:
        def __enter__(self):
            self.old = keras.config.floatx()
            keras.config.set_floatx(dtype)

        def __exit__(self, *exc):
            keras.config.set_floatx(self.old)
    return _Ctx()


def load(spec: str, *, input_size: int | None = None, dtype: str = "float64", **options):
    """``module:callable`` (a .py path or an importable module) → :class:`ForeignLayer`.

    The callable takes no arguments and returns a Keras layer, or ``(layer, input_size)``,
    or either with the torch module (or state_dict) it is meant to equal appended.
    """
    keras = _keras()
    _, _, make = _import(spec)
    if not callable(make):
        raise UserMistake(f"{spec} is not callable")
    with _floatx(keras, dtype):
        try:
            made = make()
        except Exception as exc:  # the user's code: one line
            first = (str(exc).splitlines() or [""])[0]
            raise UserMistake(f"{spec}() failed: {type(exc).__name__}: {first}") from exc
        reference = None
        if isinstance(made, tuple):  # (layer, [input_size], [torch reference])
            parts = list(made)
            made = parts.pop(0)
            if parts and isinstance(parts[0], int):
                input_size = parts.pop(0)
            if parts:
                reference = parts.pop(0)
            if parts:
                raise UserMistake(f"{spec}() must return layer, (layer, input_size) or "
                                  "(layer, input_size, torch_reference)")
        return foreign_layer(made, input_size, reference)


def _torch_to_keras(kind: str, sd: dict, sfx: str, reset_after: bool) -> list[np.ndarray]:
    k = _GATES[kind]
    order = _GRU_TO_TORCH if kind == "gru" else None
    W_ih, W_hh = sd["weight_ih_l0" + sfx], sd["weight_hh_l0" + sfx]
    weights = [_blocks(W_ih, k, order).T, _blocks(W_hh, k, order).T]
    if "bias_ih_l0" + sfx in sd:
        b_ih, b_hh = sd["bias_ih_l0" + sfx], sd["bias_hh_l0" + sfx]
        if kind == "gru" and reset_after:
            weights.append(np.stack([_blocks(b_ih, k, order), _blocks(b_hh, k, order)]))
        elif kind == "gru":  # Cho v3 holds no b_hn: only the r, z sums and b_in fit
            b = b_ih.copy()
            b[: 2 * (b.size // 3)] += b_hh[: 2 * (b.size // 3)]
            weights.append(_blocks(b, k, order))
        else:
            weights.append(b_ih + b_hh)
    return [np.ascontiguousarray(w) for w in weights]


def from_torch_state_dict(cell: str, state_dict: dict, *, reset_after: bool = True,
                          dtype: str = "float64", **_):
    """A Keras layer holding torch's ``state_dict`` (one layer, one or two directions).

    ``cell``: ``rnn_tanh`` | ``rnn_relu`` | ``lstm`` | ``gru``. LSTM / SimpleRNN biases go in
    as one b_ih + b_hh; GRU (``reset_after=True``) as [b_ih, b_hh] with the blocks reordered.
    """
    keras = _keras()
    cell = {"elman": "rnn_tanh", "elman-relu": "rnn_relu"}.get(cell, cell)  # vector names
    if cell not in _GATES:
        raise UserMistake(f"unknown cell {cell!r}: one of {', '.join(_GATES)}")
    extra = sorted(n for n in state_dict if "_l0" not in n or n.startswith("weight_hr"))
    if extra:
        raise UserMistake(f"keras: one layer without projections only, got {extra[0]}")
    k = _GATES[cell]
    H = state_dict["weight_hh_l0"].shape[1]
    I_ = state_dict["weight_ih_l0"].shape[1]
    if state_dict["weight_ih_l0"].shape[0] != k * H:
        raise UserMistake(f"{cell}: weight_ih_l0 has {state_dict['weight_ih_l0'].shape[0]} "
                          f"rows, expected {k * H}")
    use_bias = "bias_ih_l0" in state_dict
    bidirectional = "weight_ih_l0_reverse" in state_dict
    with _floatx(keras, dtype):
        if cell.startswith("rnn_"):
            rnn = keras.layers.SimpleRNN(H, activation=cell[4:], use_bias=use_bias)
        elif cell == "lstm":
            rnn = keras.layers.LSTM(H, use_bias=use_bias)
        else:
            rnn = keras.layers.GRU(H, use_bias=use_bias, reset_after=reset_after)
        layer = keras.layers.Bidirectional(rnn) if bidirectional else rnn
        layer.build((None, None, I_))
    rnns = _directions(layer)
    for d, r in enumerate(rnns):
        r.cell.set_weights(_torch_to_keras(cell, state_dict, "_reverse" if d else "",
                                           reset_after))
    return foreign_layer(layer)
