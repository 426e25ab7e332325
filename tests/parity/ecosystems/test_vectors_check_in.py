"""``python -m parity vectors --out DIR --check-in RUNTIME...``: the golden vectors, loaded into
each runtime through its adapter's ``from_torch_state_dict``, match torch's outputs; a vector
that a runtime disagrees with fails naming it; a missing extra is one line before anything is
written."""

import importlib.util

import numpy as np
import pytest

pytest.importorskip("torch", reason="torch is not installed")

import parity.ecosystems as E  # noqa: E402
from parity.__main__ import main  # noqa: E402

RUNTIMES = {"onnx": "onnxruntime", "keras": "keras", "flax": "flax"}
CELLS = ["--cells", "elman", "lstm", "gru"]


@pytest.fixture(params=sorted(RUNTIMES))
def runtime(request):
    if importlib.util.find_spec(RUNTIMES[request.param]) is None:  # keras: no import here,
        pytest.skip(f"{RUNTIMES[request.param]} is not installed "  # its backend is chosen
                    f"(pip install -e '.[{request.param}]')")        # by the adapter
    return request.param


@pytest.mark.filterwarnings("ignore:LSTM with projections")  # torch writing the vectors
def test_every_vector_a_runtime_holds_matches_and_a_tampered_one_fails(runtime, tmp_path,
                                                                       capsys, monkeypatch):
    assert main(["vectors", "--out", str(tmp_path), *CELLS, "--check-in", runtime]) == 0
    out = capsys.readouterr().out
    held = [ln.split() for ln in out.splitlines() if ln.endswith(("yes", "NO"))]
    assert {row[0] for row in held} >= {"elman-tanh-float64", "lstm-float64", "gru-float64"}
    assert all(row[-1] == "yes" and float(row[2]) <= float(row[3]) for row in held), out
    assert "skipped: " in out and out.rstrip().endswith("matches torch's")

    real = np.load

    def tampered(path, *a, **k):  # the vector's expected output, moved by 1 %
        arrays = dict(real(path, *a, **k))
        if str(path).endswith("gru-float64.npz"):
            arrays["output"] = arrays["output"] * 1.01
        return arrays

    monkeypatch.setattr(E.np, "load", tampered)
    assert main(["vectors", "--out", str(tmp_path), *CELLS, "--check-in", runtime]) == 1
    assert capsys.readouterr().out.rstrip().splitlines()[-1] == f"FAIL: {runtime}:gru-float64"


def test_a_missing_extra_is_one_line_and_writes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(E.REQUIRES, "flax", ("no_such_module_for_this_test",))
    out = tmp_path / "vectors"
    assert main(["vectors", "--out", str(out), "--check-in", "flax"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install '.[flax]'" in err
    assert not out.exists()


@pytest.mark.parametrize("argv", [["--check-in", "tf"], ["--check-in"], ["--check-in", "onnx"]])
def test_a_wrong_command_line_is_one_line(argv, tmp_path, capsys):
    out = [] if argv == ["--check-in", "onnx"] else ["--out", str(tmp_path)]
    assert main(["vectors", *out, *argv]) == 2
    assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.filterwarnings("ignore:LSTM with projections")
def test_onnx_checks_the_variable_length_vectors_through_sequence_lens(tmp_path, monkeypatch):
    """ONNX's sequence_lens holds torch's packed sequences: the vectors with lengths (one
    and two layers, one and two directions, time- and batch-first) are checked, not
    skipped; a runtime fed full lengths instead fails exactly those."""
    if importlib.util.find_spec("onnxruntime") is None:
        pytest.skip("onnxruntime is not installed (pip install -e '.[onnx]')")
    from parity.ecosystems import onnx as adapter
    from parity.ecosystems.check import load_vectors_into
    from parity.kit.vectors import write_vectors

    write_vectors(str(tmp_path), cells=["elman", "lstm", "gru"])
    rows = {r["name"]: r for r in load_vectors_into("onnx", str(tmp_path))}
    with_lengths = {n for n, r in rows.items() if "lengths" in n and "skipped" not in r}
    assert with_lengths == {f"{n}-{d}" for n in ("elman-tanh-lengths-batchfirst-noh0",
                                                 "lstm-2layer-bi-lengths",
                                                 "gru-bi-lengths-batchfirst")
                            for d in ("float64", "float32")}
    assert all(rows[n]["ok"] for n in with_lengths)

    real = adapter.from_torch_state_dict

    def full_lengths(cell, state_dict, **kw):
        layer = real(cell, state_dict, **kw)
        run = layer.run
        layer.run = lambda x, h0=None, c0=None, seq_lengths=None: run(x, h0, c0)
        return layer

    monkeypatch.setattr(adapter, "from_torch_state_dict", full_lengths)
    planted = {r["name"]: r for r in load_vectors_into("onnx", str(tmp_path))}
    assert {n for n, r in planted.items() if r.get("ok") is False} == with_lengths


@pytest.mark.filterwarnings("ignore:LSTM with projections")
def test_onnx_checks_the_multi_layer_vectors_as_a_chain_of_nodes(tmp_path, monkeypatch):
    """Several layers run as an exported torch module does in ONNX, one node a layer: every
    vector of the three cells is checked but the projection's; a stack whose every layer
    multiplies by layer 0's W_hh fails exactly the multi-layer ones."""
    if importlib.util.find_spec("onnxruntime") is None:
        pytest.skip("onnxruntime is not installed (pip install -e '.[onnx]')")
    from parity.ecosystems import onnx as adapter
    from parity.ecosystems.check import load_vectors_into
    from parity.kit.vectors import write_vectors

    write_vectors(str(tmp_path), cells=["elman", "lstm", "gru"])
    rows = {r["name"]: r for r in load_vectors_into("onnx", str(tmp_path))}
    layered = {n for n, r in rows.items() if "layer-" in n and "skipped" not in r}
    assert len(layered) == 6 and all(rows[n]["ok"] for n in layered)
    assert {r["skipped"].split(" (")[0] for r in rows.values() if "skipped" in r} == {
        "an LSTM projection"}  # (the slide's GRU and elman-relu are not written here)

    real = adapter._onnx_weights

    def first_layers_recurrence(op, state_dict, layer, sfxs):  # R of layer 0 everywhere
        W, _, B = real(op, state_dict, layer, sfxs)
        return W, real(op, state_dict, 0, sfxs)[1], B

    monkeypatch.setattr(adapter, "_onnx_weights", first_layers_recurrence)
    planted = {r["name"]: r for r in load_vectors_into("onnx", str(tmp_path))}
    assert {n for n, r in planted.items() if r.get("ok") is False} == layered
