"""Golden vectors: deterministic from the seed, and scratchrnn reproduces every array."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("torch")

from parity.kit.references import scratchrnn_sequence  # noqa: E402
from parity.kit.vectors import CONFIGS, spec_from_manifest, write_vectors  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported")


@pytest.fixture(scope="module")
def vectors(tmp_path_factory):
    out = tmp_path_factory.mktemp("vectors")
    write_vectors(str(out), seed=5)
    return out


def test_every_option_is_covered(vectors):
    m = json.loads((vectors / "manifest.json").read_text())
    opts = [c["options"] for c in m["configs"]]
    assert {o["cell"] for o in opts} == {"elman", "elman-relu", "lstm", "gru", "gru-slide"}
    for key in ("bias", "bidirectional", "lengths", "batch_first", "h0"):
        assert {o[key] for o in opts} == {False, True}, key
    assert {o["num_layers"] for o in opts} == {1, 2, 3}
    assert any(o["proj_size"] for o in opts)
    assert {o["dtype"] for o in opts} == {"float32", "float64"}
    assert len(m["configs"]) == 2 * len(CONFIGS)
    assert m["tolerance"]["float64"] == 1e-9 and m["tolerance"]["float32"] == 1e-4


def test_same_seed_same_bytes_other_seed_other_bytes(vectors, tmp_path):
    write_vectors(str(tmp_path / "a"), cells=["lstm", "gru-slide"], seed=5)
    write_vectors(str(tmp_path / "b"), cells=["lstm"], seed=6)
    for f in (tmp_path / "a").glob("*.npz"):
        a, ref = np.load(f), np.load(vectors / f.name)
        assert a.files == ref.files
        for k in a.files:
            assert a[k].tobytes() == ref[k].tobytes(), (f.name, k)
    other = np.load(tmp_path / "b" / "lstm-float64.npz")
    assert other["input"].tobytes() != np.load(vectors / "lstm-float64.npz")["input"].tobytes()


def test_scratchrnn_reproduces_every_vector(vectors):
    """Re-read the files the way another engine would and check scratchrnn against them."""
    m = json.loads((vectors / "manifest.json").read_text())
    for entry in m["configs"]:
        a = np.load(vectors / entry["file"])
        spec = spec_from_manifest(entry)
        params = {k[len("param."):]: a[k] for k in a.files if k.startswith("param.")}
        lstm = spec.cell == "lstm"
        hx = None
        if "h0" in a.files:
            hx = (a["h0"], a["c0"]) if lstm else a["h0"]
        lengths = a["lengths"] if "lengths" in a.files else None
        forward, backward = scratchrnn_sequence(spec)
        (out, hx_n), cache = forward(a["input"], hx, params, lengths)
        d_hx_n = (a["d_h_n"], a["d_c_n"]) if lstm else a["d_h_n"]
        d_x, d_hx0, grads = backward(a["d_output"], cache, d_hx_n)
        ours = {"output": out, "grad.input": d_x,
                **{"grad." + k: v for k, v in grads.items()}}
        ours.update({"h_n": hx_n[0], "c_n": hx_n[1]} if lstm else {"h_n": hx_n})
        if hx is not None:
            ours.update({"grad.h0": d_hx0[0], "grad.c0": d_hx0[1]} if lstm else
                        {"grad.h0": d_hx0})
        tol = m["tolerance"][spec.dtype]
        expected = [k for k in a.files if k in ("output", "h_n", "c_n") or
                    k.startswith("grad.")]
        assert sorted(expected) == sorted(ours), entry["name"]
        for k in expected:
            rel = np.abs(ours[k] - a[k]) / np.maximum(1, np.abs(a[k]))
            assert rel.max(initial=0) <= tol, (entry["name"], k, rel.max())


@pytest.mark.parametrize("where", ["file", "under a file"])
def test_an_out_that_cannot_be_a_folder_is_one_line(tmp_path, capsys, where):
    from parity.__main__ import main

    (tmp_path / "f").write_text("x")
    out = tmp_path / "f" if where == "file" else tmp_path / "f" / "vectors"
    assert main(["vectors", "--out", str(out), "--cells", "lstm"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(out) in err and "Traceback" not in err


def test_the_files_are_written_whole_and_no_temporary_is_left(tmp_path):
    write_vectors(str(tmp_path), cells=["elman"])
    names = sorted(p.name for p in tmp_path.iterdir())
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert names == sorted([e["file"] for e in manifest["configs"]] + ["manifest.json"])
