"""Parity of the core recurrent code with torch.nn: cells, sequence modules, conversion, report.

The parity policy (README, "Parity with torch"): every output and every gradient within 1e-9 of
torch in float64, relative to max(1, |torch value|); float32 within 1e-4.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import parity.__main__ as parity_main  # noqa: E402
from parity.compare import (  # noqa: E402
    SeqConfig,
    build_module,
    compare_cell,
    compare_sequence,
    torch_cell_reference,
)
from parity.convert import from_torch, to_torch  # noqa: E402
from parity.report import TOLERANCE, failures, to_json  # noqa: E402
from parity.strategies import cell_cases, seq_configs  # noqa: E402
from scratchrnn import cells  # noqa: E402
from scratchrnn.cell_modules import GRUCell, LSTMCell, RNNCell  # noqa: E402
from scratchrnn.gradcheck import max_relative_error  # noqa: E402
from scratchrnn.recurrent import GRU, LSTM, RNN  # noqa: E402

# torch notes that oneDNN lacks LSTM projections and falls back to its own kernel
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported")

F64_TOL = TOLERANCE["float64"]  # 1e-9
F32_TOL = TOLERANCE["float32"]  # 1e-4
seeds = st.integers(0, 2**31 - 1)


# ---------------------------------------------------------------------------
# Sequence modules: every cell and option, sizes from 1
# ---------------------------------------------------------------------------
@given(seq_configs(), seeds, st.booleans())
def test_sequence_parity_float64(cfg, seed, reference):
    """RNN/LSTM/GRU outputs, h_n, c_n and every gradient equal torch's to 1e-9, on the
    fast path and on the reference path (the step functions of cells.py)."""
    row = compare_sequence(replace(cfg, reference=reference), seed)
    assert row["path"] == ("reference" if reference else "fast")
    assert row["max_rel_diff_output"] <= F64_TOL, (cfg, row)
    assert row["max_rel_diff_grad"] <= F64_TOL, (cfg, row)


@given(seq_configs(dtypes=("float32",), nonlinearities=("tanh",)), seeds, st.booleans())
def test_sequence_parity_float32(cfg, seed, reference):
    """The same comparison in float32, to the loose float32 tolerance (1e-4)."""
    row = compare_sequence(replace(cfg, reference=reference), seed)
    assert row["dtype"] == "float32"
    assert row["max_rel_diff_output"] <= F32_TOL, (cfg, row)
    assert row["max_rel_diff_grad"] <= F32_TOL, (cfg, row)


@pytest.mark.parametrize("reference", [False, True])
@pytest.mark.parametrize("cell", ["elman", "lstm", "gru"])
def test_sequence_parity_every_option_at_once(cell, reference):
    """One large configuration per cell with all options on, sizes of 1 where legal."""
    cfg = SeqConfig(cell=cell, num_layers=3, bidirectional=True, batch_first=True, lengths=True,
                    proj_size=2 if cell == "lstm" else 0, dropout=0.5, batch=5, steps=7,
                    input_size=1, hidden_size=3, reference=reference)
    row = compare_sequence(cfg, seed=3)
    assert max(row["max_rel_diff_output"], row["max_rel_diff_grad"]) <= F64_TOL, row


# ---------------------------------------------------------------------------
# Cells as functions (scratchrnn.cells) against torch's RNNCell / LSTMCell / GRUCell
# ---------------------------------------------------------------------------
def _ours_cell(cell: str, case: dict, nonlinearity: str = "tanh") -> dict:
    """Our forward and backward on a cell_cases case, keyed like torch_cell_reference."""
    w = {k: case[k] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    out = {}
    if cell == "elman":
        h1, cache = cells.elman_cell_forward(case["x"], case["h"], **w, nonlinearity=nonlinearity)
        grads = cells.elman_cell_backward(case["d_h"], cache)
    elif cell == "gru":
        h1, cache = cells.gru_cell_forward(case["x"], case["h"], **w)
        grads = cells.gru_cell_backward(case["d_h"], cache)
    else:
        (h1, c1), cache = cells.lstm_cell_forward(case["x"], case["h"], case["c"], **w)
        grads = cells.lstm_cell_backward(case["d_h"], case["d_c"], cache)
        out["c_next"] = c1
    out["h_next"] = h1
    out.update({"d_" + k: v for k, v in grads.items()})
    return out


def _assert_cell_parity(cell, case, nonlinearity="tanh"):
    ours = _ours_cell(cell, case, nonlinearity)
    ref = torch_cell_reference(cell, case, nonlinearity)
    assert set(ours) == set(ref)
    errors = {k: max_relative_error(ours[k], ref[k]) for k in ref}
    assert max(errors.values()) <= F64_TOL, errors


@given(cell_cases("elman"), st.sampled_from(["tanh", "relu"]))
def test_elman_cell_parity(case, nonlinearity):
    _assert_cell_parity("elman", case, nonlinearity)


@given(cell_cases("lstm"))
def test_lstm_cell_parity(case):
    _assert_cell_parity("lstm", case)


@given(cell_cases("gru"))
def test_gru_cell_parity(case):
    _assert_cell_parity("gru", case)


@given(st.data(), st.sampled_from(["elman", "lstm", "gru"]))
def test_cell_parity_saturated_gates(data, cell):
    """Large weights (scale 4) push the gates into saturation; parity still holds there."""
    _assert_cell_parity(cell, data.draw(cell_cases(cell, scale=4.0)))


@pytest.mark.parametrize("cell,nl", [("elman", "tanh"), ("elman", "relu"), ("lstm", "tanh"),
                                     ("gru", "tanh")])
@pytest.mark.parametrize("dtype,tol", [("float64", F64_TOL), ("float32", F32_TOL)])
def test_cell_modules_parity(cell, nl, dtype, tol):
    """RNNCell / LSTMCell / GRUCell modules (compare_cell), with and without bias."""
    for bias in (True, False):
        row = compare_cell(cell, nl, bias, dtype, batch=1, input_size=1, hidden_size=1, seed=4)
        assert max(row["max_rel_diff_output"], row["max_rel_diff_grad"]) <= tol, row
        row = compare_cell(cell, nl, bias, dtype, seed=5)
        assert max(row["max_rel_diff_output"], row["max_rel_diff_grad"]) <= tol, row


# ---------------------------------------------------------------------------
# Weight conversion both ways
# ---------------------------------------------------------------------------
def _assert_same_state(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for k in sa:
        assert sa[k].dtype == sb[k].dtype, k
        assert sa[k].shape == sb[k].shape, k
        assert np.array_equal(sa[k], sb[k]), k


@given(seq_configs(dtypes=("float64", "float32")), seeds)
def test_convert_round_trip_sequence(cfg, seed):
    """to_torch then from_torch gives the same class, options and state_dict, bit for bit."""
    ours = build_module(cfg, seed)
    twin = to_torch(ours)
    assert list(twin.state_dict()) == list(ours.state_dict())
    back = from_torch(twin)
    assert type(back) is type(ours)
    for attr in ("input_size", "hidden_size", "num_layers", "bias", "batch_first",
                 "bidirectional", "proj_size", "dropout"):
        assert getattr(back, attr) == getattr(ours, attr), attr
    if isinstance(ours, RNN):
        assert back.nonlinearity == ours.nonlinearity
    _assert_same_state(ours, back)


@pytest.mark.parametrize("make", [
    lambda dt: RNNCell(3, 2, nonlinearity="relu", dtype=dt, rng=1),
    lambda dt: RNNCell(1, 1, bias=False, dtype=dt, rng=2),
    lambda dt: LSTMCell(2, 3, dtype=dt, rng=3),
    lambda dt: GRUCell(4, 1, bias=False, dtype=dt, rng=4),
])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_convert_round_trip_cells(make, dtype):
    ours = make(dtype)
    back = from_torch(to_torch(ours))
    assert type(back) is type(ours)
    assert back.bias == ours.bias
    assert getattr(back, "nonlinearity", None) == getattr(ours, "nonlinearity", None)
    _assert_same_state(ours, back)


def test_slide_form_gru_has_no_torch_twin():
    with pytest.raises(ValueError, match="slide"):
        to_torch(GRU(2, 3, form="slide", dtype="float64"))
    with pytest.raises(ValueError, match="slide"):
        to_torch(GRUCell(2, 3, form="slide", dtype="float64"))


@pytest.mark.parametrize("proj_size,batch_first", [(0, False), (2, True)])
def test_from_torch_fresh_lstm_matches_torch_forward(proj_size, batch_first):
    """A torch-initialised 2-layer bidirectional LSTM, converted, computes what torch does."""
    torch.manual_seed(0)
    twin = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=proj_size,
                         batch_first=batch_first, dtype=torch.float64)
    ours = from_torch(twin)
    assert isinstance(ours, LSTM) and ours.dtype == np.float64
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 3) if batch_first else (5, 2, 3))
    P = proj_size or 4
    h0, c0 = rng.standard_normal((4, 2, P)), rng.standard_normal((4, 2, 4))
    (out, (h_n, c_n)), _ = ours.forward(x, (h0, c0))
    with torch.no_grad():
        t_out, (t_h, t_c) = twin(torch.tensor(x), (torch.tensor(h0), torch.tensor(c0)))
    assert max_relative_error(out, t_out.numpy()) <= F64_TOL
    assert max_relative_error(h_n, t_h.numpy()) <= F64_TOL
    assert max_relative_error(c_n, t_c.numpy()) <= F64_TOL


def test_from_torch_keeps_float32():
    torch.manual_seed(1)
    twin = torch.nn.GRU(2, 3, num_layers=2)
    ours = from_torch(twin)
    assert isinstance(ours, GRU) and ours.dtype == np.float32
    x = np.random.default_rng(1).standard_normal((4, 2, 2)).astype(np.float32)
    (out, h_n), _ = ours.forward(x)
    with torch.no_grad():
        t_out, t_h = twin(torch.tensor(x))
    assert out.dtype == np.float32
    assert max_relative_error(out, t_out.numpy()) <= F32_TOL
    assert max_relative_error(h_n, t_h.numpy()) <= F32_TOL


# ---------------------------------------------------------------------------
# The report and `python -m parity`
# ---------------------------------------------------------------------------
def test_parity_cli_core_quick_json(capsys):
    """`python -m parity --core-only --quick --json`: a JSON list of rows, exit status 0."""
    status = parity_main.main(["--core-only", "--quick", "--json"])
    rows = json.loads(capsys.readouterr().out)
    assert status == 0
    assert isinstance(rows, list) and rows
    for row in rows:
        for key in ("cell", "dtype", "max_rel_diff_output", "max_rel_diff_grad"):
            assert key in row, (key, row)
        assert row["dtype"] in TOLERANCE
        assert row["max_rel_diff_output"] <= TOLERANCE[row["dtype"]], row
        assert row["max_rel_diff_grad"] <= TOLERANCE[row["dtype"]], row
    assert {r["dtype"] for r in rows} == {"float64", "float32"}
    assert {"RNNCell(tanh)", "RNNCell(relu)", "LSTMCell", "GRUCell", "elman-tanh",
            "elman-relu", "lstm", "lstm-proj", "gru"} <= {r["cell"] for r in rows}
    sequence = [r for r in rows if r["group"] == "sequence"]
    for path in ("fast", "reference"):  # every sequence row on both paths
        assert ({(r["cell"], r["config"], r["dtype"]) for r in sequence if r["path"] == path}
                == {(r["cell"], r["config"], r["dtype"]) for r in sequence})
    assert failures(rows) == []


def _row(dtype, out, grad):
    return {"group": "cell", "cell": "x", "config": "", "dtype": dtype,
            "max_rel_diff_output": out, "max_rel_diff_grad": grad}


@pytest.mark.parametrize("row,bad", [
    (_row("float64", 1e-8, 0.0), True),
    (_row("float64", 0.0, 1e-8), True),
    (_row("float64", 1e-10, 1e-10), False),
    (_row("float64", float("nan"), 0.0), True),
    (_row("float32", 1e-5, 1e-5), False),
    (_row("float32", 1e-3, 0.0), True),
])
def test_report_failures_flag_rows_over_tolerance(row, bad):
    assert (failures([row]) == [row]) is bad


def test_parity_cli_exit_status_fails_on_a_bad_row(monkeypatch, capsys):
    """A float64 row off by 1e-8 makes `python -m parity` exit with status 1."""
    good = _row("float64", 1e-15, 1e-15)
    monkeypatch.setattr(parity_main, "core_rows", lambda **kw: [good])
    assert parity_main.main(["--core-only", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [good]
    bad = _row("float64", 1e-8, 1e-15)
    monkeypatch.setattr(parity_main, "core_rows", lambda **kw: [good, bad])
    assert parity_main.main(["--core-only"]) == 1
    assert "FAIL" in capsys.readouterr().out
    assert json.loads(to_json([bad])) == [bad]
