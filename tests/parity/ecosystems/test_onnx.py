"""``python -m parity check --onnx``: ONNX graphs built by hand with ``onnx.helper``, each
carrying one fault of the kind that has shipped (pytorch#189225 and onnxscript#2852: GRU
written with linear_before_reset=0; blocks in the wrong order; missing biases; a transposed
R; the wrong direction or activation), and the check must name it. Correct graphs pass, a
real ``torch.onnx.export`` passes, the golden vectors load, and what torch has no
counterpart for (peepholes, clip, input_forget, other activations) is refused in one line.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="onnx is not installed (pip install '.[onnx]')")
pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (pip install '.[onnx]')")
torch = pytest.importorskip("torch", reason="torch is not installed")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from parity.__main__ import main  # noqa: E402
from parity.ecosystems import onnx as ox  # noqa: E402
from parity.ecosystems.check import check_foreign  # noqa: E402
from parity.kit.cli import UserMistake  # noqa: E402

from .twin import each_loadable_vector, golden_vector_errors  # noqa: E402

I, H = 3, 4
OP = {"rnn_tanh": "RNN", "rnn_relu": "RNN", "lstm": "LSTM", "gru": "GRU"}
#: ONNX block j holds torch block TORCH_OF[op][j] (LSTM i,o,f,c ← torch i,f,g,o; GRU z,r,h)
TORCH_OF = {"RNN": [0], "LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2]}


def torch_layer(cell: str, bidirectional: bool = False, seed: int = 0):
    torch.manual_seed(seed)
    cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}.get(cell, torch.nn.RNN)
    kw = {"nonlinearity": cell[4:]} if cell.startswith("rnn_") else {}
    m = cls(I, H, bidirectional=bidirectional, **kw)
    with torch.no_grad():  # biases away from zero so that a missing one shows
        for name, p in m.named_parameters():
            if name.startswith("bias"):
                p.uniform_(-1, 1)
    return m


def onnx_weights(m, op: str, order=None):
    """W, R, B of torch module ``m`` in ONNX's layout; ``order`` overrides which torch block
    goes into each ONNX block (the planted faults)."""
    sd = {k: v.detach().numpy().astype(np.float64) for k, v in m.state_dict().items()}
    order = TORCH_OF[op] if order is None else order
    rows = np.concatenate([np.arange(k * H, (k + 1) * H) for k in order])
    sfxs = ["_l0", "_l0_reverse"][: 2 if m.bidirectional else 1]
    W = np.stack([sd["weight_ih" + s][rows] for s in sfxs])
    R = np.stack([sd["weight_hh" + s][rows] for s in sfxs])
    B = np.stack([np.concatenate([sd["bias_ih" + s][rows], sd["bias_hh" + s][rows]])
                  for s in sfxs])
    return W, R, B


def model(op: str, W, R, B=None, peepholes=None, **attrs):
    """A one-node ONNX model, built with onnx.helper as a user or an exporter would."""
    inits = [numpy_helper.from_array(W.astype(np.float32), "W"),
             numpy_helper.from_array(R.astype(np.float32), "R")]
    ins = ["X", "W", "R", ""]
    if B is not None:
        inits.append(numpy_helper.from_array(B.astype(np.float32), "B"))
        ins[3] = "B"
    if peepholes is not None:
        inits.append(numpy_helper.from_array(peepholes.astype(np.float32), "P"))
        ins += ["", "", "", "P"]
    node = helper.make_node(op, ins, ["Y", "Y_h"], hidden_size=H, **attrs)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info(
        "X", TensorProto.FLOAT, [None, None, I])], [helper.make_tensor_value_info(
            "Y", TensorProto.FLOAT, None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])


def check(tmp_path, m_onnx, reference, examples=3):
    path = tmp_path / "m.onnx"
    onnx.save(m_onnx, str(path))
    return check_foreign(ox.load(str(path), reference=reference), examples=examples)


@pytest.mark.parametrize("cell,bidirectional,attrs", [
    ("rnn_tanh", False, {}), ("rnn_relu", False, {"activations": ["Relu"]}),
    ("lstm", False, {}), ("gru", False, {"linear_before_reset": 1}),
    ("lstm", True, {"direction": "bidirectional"}),
    ("gru", True, {"direction": "bidirectional", "linear_before_reset": 1}),
    ("gru", False, {"linear_before_reset": 1, "layout": 1}),
])
def test_a_correct_graph_passes(tmp_path, cell, bidirectional, attrs):
    m = torch_layer(cell, bidirectional)
    if attrs.get("activations") and bidirectional:
        attrs["activations"] = attrs["activations"] * 2
    report = check(tmp_path, model(OP[cell], *onnx_weights(m, OP[cell]), **attrs), m)
    assert report.passed, report.text()
    assert all(r.max_rel < 1e-5 for r in report.rows)


def test_reverse_direction_runs_against_a_forward_twin(tmp_path):
    m = torch_layer("gru")
    report = check(tmp_path, model("GRU", *onnx_weights(m, "GRU"), direction="reverse",
                                   linear_before_reset=1), m)
    assert report.passed, report.text()
    assert any("time-reversed" in c for c in report.layer.conventions)


# -- planted faults: each named ---------------------------------------------------------
def test_linear_before_reset_0_is_named(tmp_path):
    """pytorch#189225 / onnxscript#2852: the exporter left linear_before_reset at 0."""
    m = torch_layer("gru")
    report = check(tmp_path, model("GRU", *onnx_weights(m, "GRU")), m)  # the default: 0
    assert not report.passed
    assert report.diagnosis == ["GRU: reset applied before the hidden projection "
                                "(linear_before_reset=0 / Cho v3); torch applies it after"]
    assert "GRU linear_before_reset=0" in report.text()
    # without a reference too: the node's own weights, its attribute still differs
    assert check(tmp_path, model("GRU", *onnx_weights(m, "GRU")), None).diagnosis == \
        report.diagnosis


@pytest.mark.parametrize("op,order,named", [
    ("LSTM", [0, 1, 3, 2], "gate blocks f and o swapped"),  # i,f,o,c written for i,o,f,c
    ("GRU", [0, 1, 2], "gate blocks r and z swapped"),        # torch's r,z,n copied as is
    ("LSTM", [0, 1, 2, 3], "gate blocks in the order i,g,o,f (torch: i,f,g,o)"),
    ("LSTM", [0, 3, 2, 1], "gate blocks f and g swapped"),
])
def test_blocks_in_the_wrong_place_are_named(tmp_path, op, order, named):
    cell = op.lower()
    m = torch_layer(cell)
    attrs = {"linear_before_reset": 1} if op == "GRU" else {}
    report = check(tmp_path, model(op, *onnx_weights(m, op, order), **attrs), m)
    assert not report.passed
    assert named in report.diagnosis, report.text()
    assert named in report.text().splitlines()[-1]


def test_missing_biases_are_named(tmp_path):
    m = torch_layer("lstm")
    W, R, _ = onnx_weights(m, "LSTM")
    report = check(tmp_path, model("LSTM", W, R), m)
    assert report.diagnosis == ["all biases missing: the layer does not add them"]


def test_input_biases_missing_in_one_direction_only_is_not_misnamed(tmp_path):
    m = torch_layer("gru")
    W, R, B = onnx_weights(m, "GRU")
    B[0, : 3 * H] = 0.0  # only Wb dropped
    report = check(tmp_path, model("GRU", W, R, B, linear_before_reset=1), m)
    assert report.diagnosis == ["input biases missing: the layer does not add them"]


def test_a_transposed_recurrent_weight_is_named(tmp_path):
    m = torch_layer("rnn_tanh")
    W, R, B = onnx_weights(m, "RNN")
    report = check(tmp_path, model("RNN", W, R.transpose(0, 2, 1).copy(), B), m)
    assert report.diagnosis == ["recurrent weights transposed (each W_hh block used as W_hh^T)"]


def test_the_wrong_activation_and_direction_are_named(tmp_path):
    m = torch_layer("rnn_tanh")
    relu = check(tmp_path, model("RNN", *onnx_weights(m, "RNN"), activations=["Relu"]), m)
    assert relu.diagnosis == ["activation relu where torch has tanh"]
    m = torch_layer("lstm")
    path = tmp_path / "r.onnx"
    onnx.save(model("LSTM", *onnx_weights(m, "LSTM"), direction="reverse"), str(path))
    layer = ox.load(str(path), reference=m)
    layer.run = _forward_only(layer.run)  # as if the adapter ignored direction=reverse
    rev = check_foreign(layer, examples=3)
    assert "direction reversed: the layer runs the sequence from its last step back" in \
        rev.diagnosis


def _forward_only(run):
    def flipped(x, h0=None, c0=None):
        got = run(x[::-1].copy(), h0, c0)
        return {**got, "output": got["output"][::-1].copy()}
    return flipped


# -- what torch has no counterpart for: one line, exit 2 --------------------------------
@pytest.mark.parametrize("make,words", [
    (lambda W, R, B: model("LSTM", W, R, B, peepholes=np.ones((1, 3 * H))), "peepholes"),
    (lambda W, R, B: model("LSTM", W, R, B, clip=3.0), "clip=3"),
    (lambda W, R, B: model("LSTM", W, R, B, input_forget=1), "input_forget=1"),
    (lambda W, R, B: model("LSTM", W, R, B, activations=["Sigmoid", "Relu", "Tanh"]),
     "activations ['Sigmoid', 'Relu', 'Tanh']"),
])
def test_no_torch_counterpart_is_one_line_exit_2(tmp_path, capsys, make, words):
    path = tmp_path / "m.onnx"
    onnx.save(make(*onnx_weights(torch_layer("lstm"), "LSTM")), str(path))
    code = main(["check", "--onnx", str(path)])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and words in err, err


@pytest.mark.parametrize("content,words", [
    (None, "no such file"), (b"\x08\x07garbage" * 10, "not an ONNX model"),
    ("no-rnn", "holds no RNN, LSTM or GRU node"), ("folder", "a folder, not an .onnx file"),
    (b"", "holds no RNN, LSTM or GRU node"),
])
def test_a_bad_file_is_one_line_exit_2(tmp_path, capsys, content, words):
    path = tmp_path / "bad.onnx"
    if content == "no-rnn":
        g = helper.make_graph([helper.make_node("Relu", ["X"], ["Y"])], "g",
                              [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1])])
        onnx.save(helper.make_model(g), str(path))
    elif content == "folder":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    code = main(["check", "--onnx", str(path)])
    out, err = capsys.readouterr()
    assert code == 2 and len(err.strip().splitlines()) == 1 and words in err, err


# -- the command, a real export, the golden vectors -------------------------------------
def test_the_command_prints_one_table_and_exits_1_naming_the_fault(tmp_path, capsys):
    m = torch_layer("gru")
    path = tmp_path / "gru.onnx"
    onnx.save(model("GRU", *onnx_weights(m, "GRU")), str(path))
    code = main(["check", "--onnx", str(path), "--examples", "2"])
    out, _ = capsys.readouterr()
    assert code == 1
    assert "GRU gate order z,r,h (torch: r,z,n)" in out and "linear_before_reset=0" in out
    assert out.splitlines()[-1].startswith("FAIL (output, h_n): GRU: reset applied before")


@pytest.mark.parametrize("cell", ["rnn_tanh", "lstm", "gru"])
def test_a_torch_export_passes_against_its_module(tmp_path, capsys, cell):
    m = torch_layer(cell)
    path = tmp_path / f"{cell}.onnx"
    try:  # the TorchScript exporter: the dynamo one needs onnxscript, not installed here
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # its deprecation and tracer notes
            torch.onnx.export(m, (torch.randn(5, 2, I),), str(path), dynamo=False)
    except Exception as exc:  # pragma: no cover - an exporter missing offline
        pytest.skip(f"torch.onnx.export failed here: {type(exc).__name__}")
    ref = tmp_path / "ref.py"
    ref.write_text(f"from tests.parity.ecosystems.test_onnx import torch_layer\n\n"
                   f"def make():\n    return torch_layer({cell!r})\n")
    code = main(["check", "--onnx", str(path), "--torch", f"{ref}:make", "--examples", "2"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert "are not part of the check" in out and "torch side: the reference" in out


@each_loadable_vector
def test_golden_vectors_load(name, spec, arrays):
    errors, tol = golden_vector_errors(ox, spec, arrays)
    assert max(errors.values()) < tol, (name, errors)


def test_from_torch_state_dict_refuses_nothing_torch_can_hold():
    m = torch_layer("lstm", bidirectional=True)
    layer = ox.from_torch_state_dict("lstm", {k: v.detach().numpy() for k, v in
                                              m.state_dict().items()}, bidirectional=True)
    assert check_foreign(layer, examples=2).passed
    with pytest.raises(UserMistake):
        ox.load("/nonexistent/m.onnx")


# -- a stack: one node per layer, as torch exports a multi-layer module ------------------
def torch_stack(cell: str, num_layers: int, bidirectional: bool = False, seed: int = 0):
    torch.manual_seed(seed)
    cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}.get(cell, torch.nn.RNN)
    kw = {"nonlinearity": cell[4:]} if cell.startswith("rnn_") else {}
    return cls(I, H, num_layers, bidirectional=bidirectional, **kw)


def exported(m, path):
    """``m`` through the TorchScript exporter (the dynamo one needs onnxscript)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # its deprecation and tracer notes
            torch.onnx.export(m, (torch.randn(5, 2, I),), str(path), dynamo=False)
    except Exception as exc:  # pragma: no cover - an exporter missing offline
        pytest.skip(f"torch.onnx.export failed here: {type(exc).__name__}")
    return onnx.load(str(path))


def set_attribute(node, name, value):
    kept = [a for a in node.attribute if a.name != name]
    del node.attribute[:]
    node.attribute.extend(kept + [helper.make_attribute(name, value)])


@pytest.mark.parametrize("cell,num_layers,bidirectional", [
    ("lstm", 2, False), ("gru", 3, True), ("rnn_relu", 2, False)])
def test_a_torch_export_of_a_stack_passes_against_its_module(tmp_path, capsys, cell,
                                                              num_layers, bidirectional):
    path = tmp_path / f"{cell}.onnx"
    exported(torch_stack(cell, num_layers, bidirectional), path)
    ref = tmp_path / "ref.py"
    ref.write_text("from tests.parity.ecosystems.test_onnx import torch_stack\n\n"
                   f"def make():\n    return torch_stack({cell!r}, {num_layers}, "
                   f"{bidirectional})\n")
    code = main(["check", "--onnx", str(path), "--torch", f"{ref}:make", "--examples", "3"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert f"{num_layers} layers" in out.splitlines()[0]
    assert f"the {num_layers} recurrent nodes run on their own, one per layer" in out


def test_a_stack_alone_reads_every_layer_and_checks_its_attributes(tmp_path):
    m = torch_stack("gru", 2)
    path = tmp_path / "gru.onnx"
    exported(m, path)
    layer = ox.load(str(path))  # no reference: each node's own weights under ONNX's reading
    assert layer.num_layers == 2
    for k, v in m.state_dict().items():
        assert np.allclose(layer.state_dict[k], v.detach().numpy(), atol=1e-7), k
    assert check_foreign(layer, examples=3).passed


@pytest.mark.parametrize("cell,fault,named", [
    ("gru", "linear_before_reset=0", "GRU: reset applied before the hidden projection"),
    ("lstm", "blocks f and o swapped", "gate blocks f and o swapped"),
])
def test_a_fault_in_every_layer_is_named(tmp_path, cell, fault, named):
    m = torch_stack(cell, 2)
    path = tmp_path / "m.onnx"
    m_onnx = exported(m, path)
    stored = {t.name: t for t in m_onnx.graph.initializer}
    for node in ox.recurrent_nodes(m_onnx):
        if fault == "linear_before_reset=0":
            set_attribute(node, "linear_before_reset", 0)
            continue
        # ONNX's blocks i,o,f,c: o and f written in each other's place, in W, R and B
        swap = np.concatenate([np.arange(0, H), np.arange(2 * H, 3 * H), np.arange(H, 2 * H),
                               np.arange(3 * H, 4 * H)])
        for name, rows in ((node.input[1], swap), (node.input[2], swap),
                           (node.input[3], np.concatenate([swap, swap + 4 * H]))):
            a = numpy_helper.to_array(stored[name])
            stored[name].CopyFrom(numpy_helper.from_array(a[:, rows], name))
    onnx.save(m_onnx, str(path))
    report = check_foreign(ox.load(str(path), reference=m), examples=3)
    assert not report.passed
    assert any(d.startswith(named) for d in report.diagnosis), report.diagnosis


def test_a_fault_in_one_layer_fails(tmp_path):
    m = torch_stack("lstm", 2)
    path = tmp_path / "m.onnx"
    m_onnx = exported(m, path)
    R1 = next(t for t in m_onnx.graph.initializer
              if t.name == ox.recurrent_nodes(m_onnx)[1].input[2])
    R1.CopyFrom(numpy_helper.from_array(-numpy_helper.to_array(R1), R1.name))  # layer 1 only
    onnx.save(m_onnx, str(path))
    report = check_foreign(ox.load(str(path), reference=m), examples=3)
    assert {r.quantity for r in report.rows if not r.passed} >= {"output", "h_n"}


def two_nodes(ops=("RNN", "RNN"), chained=True, attrs=({}, {})):
    """Two recurrent nodes built by hand, the second fed by the first's Y (squeezed) when
    ``chained``, else by X itself."""
    rng = np.random.default_rng(0)
    nodes, inits = [], [numpy_helper.from_array(np.array([1], np.int64), "axis1")]
    x = "X"
    for k, op in enumerate(ops):
        G, In = ox.OPS[op], I if k == 0 or not chained else H
        for n, shape in (("W", (1, G * H, In)), ("R", (1, G * H, H))):
            inits.append(numpy_helper.from_array(rng.uniform(-1, 1, shape).astype(np.float32),
                                                 f"{n}{k}"))
        nodes.append(helper.make_node(op, [x, f"W{k}", f"R{k}"], [f"Y{k}"], hidden_size=H,
                                      **attrs[k]))
        if chained:
            nodes.append(helper.make_node("Squeeze", [f"Y{k}", "axis1"], [f"X{k + 1}"]))
            x = f"X{k + 1}"
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(
        "X", TensorProto.FLOAT, [None, None, I])], [helper.make_tensor_value_info(
            f"Y{len(ops) - 1}", TensorProto.FLOAT, None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])


@pytest.mark.parametrize("make,words", [
    (lambda: two_nodes(("LSTM", "GRU")), "of different ops (LSTM, GRU)"),
    (lambda: two_nodes(chained=False), "node 1's input X is not computed from node 0's"),
    (lambda: two_nodes(attrs=({}, {"activations": ["Relu"]})),
     "node 1 differs from node 0 in activations=['Relu'] (node 0: None)"),
    (lambda: two_nodes(attrs=({"direction": "reverse"},) * 2), "with direction=reverse"),
])
def test_nodes_that_are_not_one_stack_are_one_line_exit_2(tmp_path, capsys, make, words):
    path = tmp_path / "m.onnx"
    onnx.save(make(), str(path))
    code = main(["check", "--onnx", str(path)])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and words in err, err


def test_a_hand_built_chain_passes(tmp_path):
    path = tmp_path / "m.onnx"
    onnx.save(two_nodes(), str(path))
    report = check_foreign(ox.load(str(path)), examples=3)
    assert report.passed and report.layer.num_layers == 2


def test_a_reference_with_fewer_layers_is_one_line_naming_what_it_lacks(tmp_path, capsys):
    path = tmp_path / "lstm2.onnx"
    exported(torch_stack("lstm", 2), path)
    ref = tmp_path / "ref.py"
    ref.write_text("from tests.parity.ecosystems.test_onnx import torch_stack\n\n"
                   "def make():\n    return torch_stack('lstm', 1)\n")
    code = main(["check", "--onnx", str(path), "--torch", f"{ref}:make"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "it lacks weight_ih_l1, weight_hh_l1, bias_ih_l1, bias_hh_l1" in err, err
