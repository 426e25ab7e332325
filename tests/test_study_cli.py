"""`python -m scratchrnn study …`: each study runs end to end on small settings, writes its
CSV (and PNG when matplotlib is there) and prints a JSON summary with the promised keys."""

from __future__ import annotations

import json

import pytest

from scratchrnn import classify
from scratchrnn.cli import main
from tests.conftest import synthetic_csv


def run_json(argv, capsys):
    capsys.readouterr()
    code = main([*argv, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_study_jacobian(tmp_path, capsys):
    s = run_json(["study", "jacobian", "--cells", "elman-tanh", "lstm", "gru", "--steps", "12",
                  "--hidden", "6", "--seeds", "1", "--no-radius", "--out", str(tmp_path)], capsys)
    assert set(s) == {"elman-tanh", "lstm", "gru"}
    for row in s.values():
        assert {"d1", "d10", "d50", "factor_per_step"} <= set(row)
        assert row["d1"] > row["d10"] > 0  # decays with distance at initialisation
    assert (tmp_path / "jacobian.csv").read_text().count("\n") > 30


def test_study_adding(tmp_path, capsys):
    s = run_json(["study", "adding", "--cells", "elman-tanh", "gru", "--lengths", "5",
                  "--updates", "20", "--hidden", "4", "--out", str(tmp_path)], capsys)
    assert set(s) == {"elman-tanh@5", "gru@5"}
    assert all(v["final_mse"] is not None for v in s.values())
    assert (tmp_path / "adding.csv").exists()


def test_study_gradflow_and_gates(tmp_path, capsys):
    data = synthetic_csv(tmp_path, n_train=32)
    s = run_json(["study", "gradflow", "--cells", "gru", "--epochs", "1", "--hidden", "4",
                  "--batch-size", "8", "--data", str(data), "--out", str(tmp_path / "gf")], capsys)
    assert {"gru@epoch0", "gru@epoch1"} <= set(s)
    assert s["gru@epoch0"]["k0"] > 0
    classify.train(data=str(data), out=tmp_path / "lstm", cell="lstm", hidden=4, embedding=4,
                   epochs=1, batch_size=8, progress=False)
    s = run_json(["study", "gates", "--model", str(tmp_path / "lstm"), "--surname", "Abc",
                  "--data", str(data), "--out", str(tmp_path / "gates")], capsys)
    assert set(s["saturation"]) == {"i", "f", "o"}
    for gate in s["saturation"].values():
        assert 0 <= gate["below"] <= 100 and 0 <= gate["above"] <= 100
        assert gate["below"] + gate["above"] <= 100


@pytest.mark.parametrize("argv", [["study", "jacobian", "--cells", "nope", "--out", "X"],
                                  ["study", "adding", "--lengths", "0", "--out", "X"],
                                  ["study", "gates", "--out", "X"]])
def test_study_user_errors(argv, tmp_path, capsys):
    argv = [a if a != "X" else str(tmp_path) for a in argv]
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
