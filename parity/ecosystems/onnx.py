r"""ONNX adapter: the ``RNN``, ``LSTM`` or ``GRU`` node of an ``.onnx`` file, run in
onnxruntime, as a :class:`ForeignLayer`.

``load("model.onnx")`` finds the file's recurrent node (a model holding just that node,
or a whole exported ``torch.nn`` RNN module with Transpose/Squeeze around it), reads its
weights (initializers or Constant nodes) and attributes, and runs *that node* in
onnxruntime, on its own: the ops around it are not part of the check. A multi-layer
module is exported as one node per layer, each fed by the one before: those nodes are
checked as one stack (``num_layers``), chained as torch stacks its layers (a layer's
Y [T, D, B, H] is the next layer's X [T, B, D·H]), against an L-layer torch twin.
onnxruntime's CPU kernels for these ops compute in float32 only ("GRU operator does not
support double yet"), so the check is float32 (tolerance 1e-4) and gives no gradients.

ONNX's conventions (onnx/defs/rnn/defs.cc, operator docs), mapped to torch's names::

    W  [D, G·H, I] = weight_ih (per direction)   R  [D, G·H, H] = weight_hh
    B  [D, 2·G·H]  = [Wb, Rb] = [bias_ih, bias_hh]; absent: zeros
    LSTM gate blocks i, o, f, c       torch i, f, g, o
    GRU  gate blocks z, r, h          torch r, z, n
    GRU linear_before_reset = 1       torch's r ⊙ (W_hn h + b_hn); the default 0 is
                                      W_hn (r ⊙ h) + b_hn (Cho v3): no torch twin
    direction forward | bidirectional (Y [T, D, B, H]) | reverse (run here on the
                                      time-reversed sequence against a forward twin)
    layout 0 (X [T, B, I]) | 1 (X [B, T, I]: batch_first)
    activations RNN Tanh | Relu; LSTM Sigmoid, Tanh, Tanh; GRU Sigmoid, Tanh (others refused)

Refused with one line, having no torch counterpart: peepholes (input P), ``input_forget=1``,
``clip``, non-default activations or ``activation_alpha/beta``; several recurrent nodes
that are not one stack (other ops or attributes, a node not fed by the one before,
direction=reverse or layout=1 in a stack).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..kit.cli import UserMistake

OPS = {"RNN": 1, "LSTM": 4, "GRU": 3}
#: torch's block k is ONNX's block ORDER[op][k]
ORDER = {"RNN": (0,), "LSTM": (0, 2, 3, 1), "GRU": (1, 0, 2)}
DEFAULT_ACTIVATIONS = {"RNN": ["Tanh"], "LSTM": ["Sigmoid", "Tanh", "Tanh"],
                       "GRU": ["Sigmoid", "Tanh"]}
OPSET = 14


def _attrs(node) -> dict:
    from onnx import helper

    out = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        out[a.name] = [s.decode() if isinstance(s, bytes) else s for s in v] \
            if isinstance(v, list) else (v.decode() if isinstance(v, bytes) else v)
    return out


def _constants(graph) -> dict[str, np.ndarray]:
    """Every tensor the graph stores: initializers and Constant nodes' values."""
    from onnx import numpy_helper

    values = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for n in graph.node:
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value":
                    values[n.output[0]] = numpy_helper.to_array(a.t)
    return values


def recurrent_nodes(model) -> list:
    """The model's RNN, LSTM and GRU nodes, in graph order (a stack: one per layer)."""
    return [n for n in model.graph.node if n.op_type in OPS]


def _read(path: str):
    import onnx

    p = Path(path)
    if not p.is_file():
        what = "a folder, not an .onnx file" if p.is_dir() else "no such file"
        raise UserMistake(f"python -m parity check --onnx: {path}: {what}")
    try:
        model = onnx.load(str(p))
    except Exception as exc:  # a damaged or foreign file: one line
        raise UserMistake(f"python -m parity check --onnx: {path}: not an ONNX model "
                          f"({type(exc).__name__})") from None
    nodes = recurrent_nodes(model)
    if not nodes:
        ops = sorted({n.op_type for n in model.graph.node}) or ["none"]
        raise UserMistake(f"python -m parity check --onnx: {path} holds no RNN, LSTM or GRU "
                          f"node (its ops: {', '.join(ops[:8])})")
    return model, nodes


def _refuse(op: str, attrs: dict, inputs: list[str], path: str) -> None:
    where = f"python -m parity check --onnx: {path}: {op}"
    if op == "LSTM" and len(inputs) > 7 and inputs[7]:
        raise UserMistake(f"{where} has peepholes (input P), which torch.nn.LSTM has not")
    if attrs.get("input_forget", 0):
        raise UserMistake(f"{where} input_forget=1 couples the input and forget gates; "
                          "torch.nn.LSTM has no such option")
    if "clip" in attrs:
        raise UserMistake(f"{where} clip={attrs['clip']:g} bounds the pre-activations; "
                          "torch.nn has no counterpart")
    if "activation_alpha" in attrs or "activation_beta" in attrs:
        raise UserMistake(f"{where} has activation_alpha/beta; torch's activations take none")
    acts = attrs.get("activations")
    if acts is not None:
        D = 2 if attrs.get("direction", "forward") == "bidirectional" else 1
        per = len(DEFAULT_ACTIVATIONS[op])
        first = acts[:per]
        if acts != first * (len(acts) // per) or len(acts) not in (per, per * D):
            raise UserMistake(f"{where} activations {acts}: different per direction")
        ok = DEFAULT_ACTIVATIONS[op] if op != "RNN" else [["Tanh"], ["Relu"]]
        if (op == "RNN" and first not in ok) or (op != "RNN" and first != ok):
            raise UserMistake(f"{where} activations {first}: torch.nn.{op} computes "
                              f"{', '.join(DEFAULT_ACTIVATIONS[op])}"
                              + (" (or Relu)" if op == "RNN" else ""))


def _state_dict(op: str, W, R, B, H: int, D: int, layer: int = 0) -> dict[str, np.ndarray]:
    """torch's names for one node's W, R, B, as layer ``layer`` of a torch module."""
    G = OPS[op]
    rows = np.concatenate([np.arange(k * H, (k + 1) * H) for k in ORDER[op]])
    sd = {}
    for d in range(D):
        sfx = f"_l{layer}" + ("_reverse" if d == 1 else "")
        sd["weight_ih" + sfx] = np.asarray(W[d], np.float64)[rows]
        sd["weight_hh" + sfx] = np.asarray(R[d], np.float64)[rows]
        b = np.zeros(2 * G * H) if B is None else np.asarray(B[d], np.float64)
        sd["bias_ih" + sfx], sd["bias_hh" + sfx] = b[:G * H][rows], b[G * H:][rows]
    return sd


def _conventions(op: str, attrs: dict, has_B: bool, graph_nodes: int,
                 layers: int = 1) -> list[str]:
    what = ("the recurrent node run on its own" if layers == 1 else
            f"the {layers} recurrent nodes run on their own, one per layer, chained as torch "
            "stacks layers (Y [T, D, B, H] → the next X [T, B, D·H])")
    lines = ["onnxruntime CPU, float32 (its RNN/LSTM/GRU kernels have no float64); "
             f"{what}, outputs only (no gradients)"]
    if graph_nodes > layers:
        lines.append(f"the model's other {graph_nodes - layers} node(s) (Transpose, Squeeze, "
                     "...) are not part of the check")
    lines.append(f"W [D, {OPS[op]}H, I], R [D, {OPS[op]}H, H] = weight_ih, weight_hh; "
                 "B = [Wb, Rb] = [bias_ih, bias_hh]" + ("" if has_B else " (absent: zeros)"))
    if op == "LSTM":
        lines.append("LSTM gate order i,o,f,c (torch: i,f,g,o): blocks reordered")
    if op == "GRU":
        lines.append("GRU gate order z,r,h (torch: r,z,n): blocks reordered")
        lbr = attrs.get("linear_before_reset", 0)
        lines.append(f"GRU linear_before_reset={lbr}" + (": torch's form, r ⊙ (W_hn h + b_hn)"
                     if lbr else ": reset before the hidden projection, W_hn (r ⊙ h) (Cho v3); "
                     "torch applies it after: no torch twin"))
    direction = attrs.get("direction", "forward")
    lines.append(f"direction={direction}" + (
        ": no single-direction torch twin; run on the time-reversed sequence, outputs "
        "reversed back, against a forward torch layer" if direction == "reverse" else ""))
    lines.append(f"layout={attrs.get('layout', 0)}" + (
        " (batch first): onnxruntime has no kernel for it; run as layout=0 on the "
        "transposed X, Y and states, which is all the spec's layout=1 changes"
        if attrs.get("layout", 0) else " (time first)"))
    acts = attrs.get("activations", DEFAULT_ACTIVATIONS[op])
    lines.append(f"activations {', '.join(acts[:len(DEFAULT_ACTIVATIONS[op])])}")
    return lines


def _one_node_model(op: str, attrs: dict, W, R, B, lengths: bool = False):
    """The recurrent node alone, its weights as float32 initializers, X/h0/c0 as inputs
    (and, with ``lengths``, ``sequence_lens`` (B,) int32: ONNX's variable lengths)."""
    from onnx import TensorProto, helper, numpy_helper

    f = np.float32
    inits = [numpy_helper.from_array(np.asarray(W, f), "W"),
             numpy_helper.from_array(np.asarray(R, f), "R")]
    if B is not None:
        inits.append(numpy_helper.from_array(np.asarray(B, f), "B"))
    ins = ["X", "W", "R", "B" if B is not None else "", "sequence_lens" if lengths else "",
           "initial_h"]
    if op == "LSTM":
        ins.append("initial_c")
    node = helper.make_node(op, ins, ["Y", "Y_h"] + (["Y_c"] if op == "LSTM" else []),
                            **attrs)
    vi = helper.make_tensor_value_info
    dims = [None, None, None]  # any (T, B, ·): ranks only
    inputs = [vi(n, TensorProto.FLOAT, dims) for n in
              ["X", "initial_h"] + (["initial_c"] if op == "LSTM" else [])]
    if lengths:
        inputs.append(vi("sequence_lens", TensorProto.INT32, [None]))
    graph = helper.make_graph(
        [node], "recurrent", inputs,
        [vi(n, TensorProto.FLOAT, [None] * (4 if n == "Y" else 3)) for n in node.output],
        inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])


def _runner(model, op: str, D: int, H: int, reverse: bool, batch_first: bool,
            lengths: bool = False, num_layers: int = 1):
    import onnxruntime as ort

    session = ort.InferenceSession(model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])

    def run(x, h0=None, c0=None, seq_lengths=None):
        """x (T, B, I); ``seq_lengths`` (B,) only where the model has sequence_lens
        (torch's packed sequences: steps past a sequence's end output 0)."""
        T, B, _ = x.shape
        if seq_lengths is not None and (reverse or not lengths):  # (reverse: x is flipped whole)
            raise ValueError("this ONNX layer runs full sequences only")
        xs = x[::-1] if reverse else x
        feed = {"X": np.ascontiguousarray(xs.transpose(1, 0, 2) if batch_first else xs,
                                          np.float32),
                "initial_h": np.zeros((num_layers * D, B, H), np.float32) if h0 is None
                else np.asarray(h0, np.float32)}
        if op == "LSTM":
            feed["initial_c"] = np.zeros((num_layers * D, B, H), np.float32) if c0 is None \
                else np.asarray(c0, np.float32)
        if lengths:
            feed["sequence_lens"] = np.asarray(
                np.full(B, T) if seq_lengths is None else seq_lengths, np.int32)
        if batch_first:
            feed["initial_h"] = feed["initial_h"].transpose(1, 0, 2).copy()
            if op == "LSTM":
                feed["initial_c"] = feed["initial_c"].transpose(1, 0, 2).copy()
        outs = session.run(None, feed)
        Y = outs[0] if not batch_first else outs[0].transpose(1, 2, 0, 3)  # → [T, D, B, H]
        Y = Y[::-1] if reverse else Y
        got = {"output": np.ascontiguousarray(Y.transpose(0, 2, 1, 3)).reshape(T, B, D * H)}
        states = [o.transpose(1, 0, 2) if batch_first else o for o in outs[1:]]
        got["h_n"] = states[0]
        if op == "LSTM":
            got["c_n"] = states[1]
        return {k: np.asarray(v, np.float64) for k, v in got.items()}

    return run


def _weights(node, values: dict, path: str):
    """W, R, B (None when absent) of a recurrent ``node``, from the graph's stored tensors."""
    op, inputs = node.op_type, list(node.input)
    missing = [n for n in inputs[1:3] if n not in values]
    if missing:
        raise UserMistake(f"python -m parity check --onnx: {path}: {op} weight {missing[0]} is "
                          "computed in the graph, not stored; the check needs W and R stored")
    W, R = values[inputs[1]], values[inputs[2]]
    B = values.get(inputs[3]) if len(inputs) > 3 and inputs[3] else None
    return W, R, B


def _fed_by(producer: dict, node, earlier) -> bool:
    """Whether ``node``'s input X is computed from ``earlier``'s output Y (``producer``:
    each tensor name → the graph node that outputs it)."""
    seen, todo = set(), [node.input[0]]
    while todo:
        name = todo.pop()
        if name == earlier.output[0]:
            return True
        if name in seen or name not in producer:
            continue
        seen.add(name)
        todo.extend(producer[name].input)
    return False


def _check_stack(graph, nodes: list, attrs: dict, path: str) -> None:
    """Several recurrent nodes are checked only as torch's stacked layers: one op, the same
    attributes, each node fed by the one before, forward or bidirectional, layout 0."""
    where = f"python -m parity check --onnx: {path} holds {len(nodes)} recurrent nodes"
    ops = [n.op_type for n in nodes]
    producer = {out: n for n in graph.node for out in n.output}
    if len(set(ops)) > 1:
        raise UserMistake(f"{where} of different ops ({', '.join(ops)}): no one torch module")
    for k, n in enumerate(nodes[1:], start=1):
        other = _attrs(n)
        if other != attrs:
            differ = ", ".join(f"{a}={other.get(a)} (node 0: {attrs.get(a)})"
                               for a in sorted(set(other) | set(attrs))
                               if other.get(a) != attrs.get(a))
            raise UserMistake(f"{where}: node {k} differs from node 0 in {differ}; torch's "
                              "layers share one cell")
        if not _fed_by(producer, n, nodes[k - 1]):
            raise UserMistake(f"{where}: node {k}'s input X is not computed from node "
                              f"{k - 1}'s output Y: not one stack of layers")
    if attrs.get("direction", "forward") == "reverse" or attrs.get("layout", 0):
        what = "direction=reverse" if attrs.get("layout", 0) == 0 else "layout=1"
        raise UserMistake(f"{where} with {what}: torch's exporter writes neither in a stack; "
                          "the check takes such a node alone")


def foreign_layer(model, nodes, path: str = "the model", lengths: bool = False):
    """The :class:`ForeignLayer` of ``nodes`` (the RNN/LSTM/GRU NodeProtos of ``model``, in
    graph order: one, or one per layer of a stack); ``lengths``: its ``run`` takes
    ``seq_lengths`` (fed as the nodes' sequence_lens)."""
    from . import ForeignLayer

    op, attrs = nodes[0].op_type, _attrs(nodes[0])
    for node in nodes:
        _refuse(node.op_type, _attrs(node), list(node.input), path)
    if len(nodes) > 1:
        _check_stack(model.graph, nodes, attrs, path)
    values = _constants(model.graph)
    layers = [_weights(node, values, path) for node in nodes]
    W, R, B = layers[0]
    D, H = W.shape[0], int(attrs.get("hidden_size", R.shape[-1]))
    G = OPS[op]
    for k, (W_k, R_k, B_k) in enumerate(layers):
        I_k = W.shape[2] if k == 0 else D * H  # a layer above the first reads D·H features
        if (W_k.ndim != 3 or R_k.shape != (D, G * H, H) or W_k.shape != (D, G * H, I_k)
                or (B_k is not None and B_k.shape != (D, 2 * G * H))):
            at = "" if len(nodes) == 1 else f" (layer {k})"
            raise UserMistake(f"python -m parity check --onnx: {path}: {op}{at} W {W_k.shape} "
                              f"/ R {R_k.shape} do not fit hidden_size {H}")
    direction = attrs.get("direction", "forward")
    acts = attrs.get("activations", DEFAULT_ACTIVATIONS[op])
    cell = {"LSTM": "lstm", "GRU": "gru"}.get(op, "rnn_relu" if acts[0] == "Relu" else "rnn_tanh")
    # layout=1 only transposes X, Y and the states (the spec), and onnxruntime's CPU
    # kernels refuse it ("Batchwise recurrent operations (layout == 1) are not supported"):
    # the node is run with layout=0 on the transposed arrays
    run_attrs = {k: v for k, v in attrs.items()
                 if (k != "activations" or op == "RNN") and k != "layout"}
    if len(nodes) == 1:
        runnable = _one_node_model(op, run_attrs, W, R, B, lengths)
    else:
        zeros = np.zeros((D, 2 * G * H))
        runnable = _stacked_model(op, run_attrs, [(W_k, R_k, zeros if B_k is None else B_k)
                                                  for W_k, R_k, B_k in layers], lengths)
    state_dict = {}
    for k, (W_k, R_k, B_k) in enumerate(layers):
        state_dict.update(_state_dict(op, W_k, R_k, B_k, H, D, k))
    return ForeignLayer(
        ecosystem="onnx", cell=cell, input_size=int(W.shape[2]), hidden_size=H,
        bidirectional=direction == "bidirectional", batch_first=bool(attrs.get("layout", 0)),
        state_dict=state_dict, num_layers=len(nodes),
        conventions=_conventions(op, attrs, B is not None, len(model.graph.node), len(nodes)),
        missing=[], run=_runner(runnable, op, D, H, direction == "reverse", False, lengths,
                                len(nodes)),
        gradients=None, dtype="float32",
        native={"W": W, "R": R, "B": B, "attributes": attrs})


def load(spec: str, *, reference=None, **options):
    """An ``.onnx`` file's recurrent node (or stack of them, one per layer) →
    :class:`ForeignLayer`.

    ``reference``: the torch module (or state_dict) the model was exported from or is meant
    to equal. Without it the torch side holds the node's own weights read under ONNX's
    conventions, which checks the node's attributes (linear_before_reset, direction, ...)
    but cannot see weights written in the wrong layout; with it, the torch side is the
    reference's weights, so a block written in the wrong place shows and is named.
    """
    from .keras import reference_state_dict

    model, nodes = _read(spec)
    layer = foreign_layer(model, nodes, spec)
    if reference is not None:
        layer.state_dict = reference_state_dict(reference, layer.state_dict)
        nonlinearity = getattr(reference, "nonlinearity", None)  # torch.nn.RNN's
        if layer.cell.startswith("rnn_") and nonlinearity in ("tanh", "relu"):
            layer.cell = "rnn_" + nonlinearity  # the twin computes what the reference does
        layer.conventions.append("torch side: the reference torch weights (--torch), not the "
                                 "node's weights read under ONNX's conventions")
    return layer


#: what from_torch_state_dict holds beyond one layer over full sequences: torch's variable
#: lengths (``lengths=True``: the node's sequence_lens) and several layers (a chain of nodes)
HOLDS = ("lengths", "layers")


def _onnx_weights(op: str, state_dict: dict, layer: int, sfxs: list[str]):
    """W, R, B of torch's ``layer`` (both directions' suffixes) in ONNX's block order."""
    H = state_dict[f"weight_hh_l{layer}"].shape[1]
    rows = np.concatenate([np.arange(k * H, (k + 1) * H) for k in np.argsort(ORDER[op])])
    sd = {k: np.asarray(v) for k, v in state_dict.items()}
    zeros = np.zeros(len(rows))
    tag = [f"_l{layer}{s}" for s in sfxs]
    W = np.stack([sd["weight_ih" + t][rows] for t in tag])
    R = np.stack([sd["weight_hh" + t][rows] for t in tag])
    B = np.stack([np.concatenate([sd.get("bias_ih" + t, zeros), sd.get("bias_hh" + t, zeros)])
                  [np.concatenate([rows, rows + len(rows)])] for t in tag])
    return W, R, B


def _stacked_model(op: str, attrs: dict, layers: list, lengths: bool):
    """torch's L-layer module as ONNX runs an exported one: a node per layer, its Y
    [T, D, B, H] made the next layer's X [T, B, D·H] (Transpose, Reshape), each layer's
    slice of initial_h/initial_c (L·D, B, H) its own, and Y_h/Y_c the layers' concatenated."""
    from onnx import helper, numpy_helper

    first = _one_node_model(op, attrs, *layers[0], lengths)  # its inputs and outputs
    D, f = len(layers[0][0]), np.float32
    states = ["initial_h"] + (["initial_c"] if op == "LSTM" else [])
    outs = ["Y_h"] + (["Y_c"] if op == "LSTM" else [])
    nodes, inits = [], [numpy_helper.from_array(np.array([0, 0, -1], np.int64), "flat")]
    x = "X"
    for k, (W, R, B) in enumerate(layers):
        inits += [numpy_helper.from_array(np.asarray(a, f), f"{n}{k}")
                  for n, a in (("W", W), ("R", R), ("B", B))]
        inits += [numpy_helper.from_array(np.array([v], np.int64), f"{n}{k}")
                  for n, v in (("lo", k * D), ("hi", (k + 1) * D), ("axis", 0))]
        for st in states:
            nodes.append(helper.make_node("Slice", [st, f"lo{k}", f"hi{k}", f"axis{k}"],
                                          [f"{st}{k}"]))
        ins = [x, f"W{k}", f"R{k}", f"B{k}", "sequence_lens" if lengths else "",
               *[f"{st}{k}" for st in states]]
        nodes.append(helper.make_node(op, ins, [f"Y{k}", *[f"{o}{k}" for o in outs]], **attrs))
        if k + 1 < len(layers):
            nodes += [helper.make_node("Transpose", [f"Y{k}"], [f"YT{k}"], perm=[0, 2, 1, 3]),
                      helper.make_node("Reshape", [f"YT{k}", "flat"], [f"X{k + 1}"])]
            x = f"X{k + 1}"
    nodes.append(helper.make_node("Identity", [f"Y{len(layers) - 1}"], ["Y"]))
    for o in outs:
        nodes.append(helper.make_node("Concat", [f"{o}{k}" for k in range(len(layers))], [o],
                                      axis=0))
    graph = helper.make_graph(nodes, "stacked", list(first.graph.input),
                              list(first.graph.output), inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])


def from_torch_state_dict(cell: str, state_dict: dict, *, bidirectional: bool = False,
                          lengths: bool = False, **_):
    """An ONNX model holding torch's weights in ONNX's conventions (the golden vectors load
    through it): blocks reordered, linear_before_reset=1 for the GRU; one node, or one per
    layer when ``state_dict`` has several (``_stacked_model``); ``lengths``: with a
    sequence_lens input, its ``run`` taking ``seq_lengths``."""
    import onnx

    op = {"lstm": "LSTM", "gru": "GRU"}.get(cell, "RNN")
    sfxs = ["", "_reverse"][: 2 if bidirectional else 1]
    L = sum(1 for k in state_dict if k.startswith("weight_ih_l") and not k.endswith("reverse"))
    layers = [_onnx_weights(op, state_dict, k, sfxs) for k in range(L)]
    H = state_dict["weight_hh_l0"].shape[1]
    attrs = {"hidden_size": H, "direction": "bidirectional" if bidirectional else "forward"}
    if op == "GRU":
        attrs["linear_before_reset"] = 1
    if cell == "rnn_relu":
        attrs["activations"] = ["Relu"] * len(sfxs)
    model = (_one_node_model(op, attrs, *layers[0], lengths) if L == 1 else
             _stacked_model(op, attrs, layers, lengths))
    onnx.checker.check_model(model)
    return foreign_layer(model, recurrent_nodes(model), "vectors", lengths)
