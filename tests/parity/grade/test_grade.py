"""``python -m parity grade``: the reference solutions grade 100 %, the templates "not
written", and every mistake of the corpus (issue 15, "How it is measured") is pinned to its
function, quantity and gate block.

The student folders are what a student gets: ``python -m scratchrnn exercises init DIR
--solutions`` (the reference bodies) and ``exercises init DIR`` (the templates); a mistake
is a one-place edit of a copy of the solutions.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import shutil
from pathlib import Path

import pytest

from parity.grade import fixed_specs, grade, grade_function
from parity.grade.hints import HINTS, hint_for, hints_for_blocks
from parity.kit.cells import CELLS
from scratchrnn.exercises.manifest import EXERCISE_SETS
from tests.conftest import needs_torch, run_cli

pytestmark = needs_torch

CASES = 4  # of the fixed small cases: B=I=H=1 with and without bias, B=2, B=3 (bias off)
N_FUNCTIONS = sum(len(s.exercises) for s in EXERCISE_SETS)


def exercises_init(directory: Path, solutions: bool) -> Path:
    code, out, err = run_cli(["exercises", "init", str(directory)]
                             + (["--solutions"] if solutions else []))
    assert code == 0, out + err
    return directory


def templatize(source: str, names: set[str]) -> str:
    """Each function in ``names``: docstring kept, body replaced by a TODO raise."""
    lines = source.splitlines()
    tree = ast.parse(source)
    for node in sorted((n for n in tree.body if isinstance(n, ast.FunctionDef) and
                        n.name in names), key=lambda n: -n.lineno):
        body = node.body
        first = body[1] if isinstance(body[0], ast.Expr) and len(body) > 1 else body[0]
        indent = " " * first.col_offset
        lines[first.lineno - 1:node.end_lineno] = [
            f"{indent}# TODO: your code here",
            f'{indent}raise NotImplementedError("{node.name}: not written yet")']
    return "\n".join(lines) + "\n"


def mutate(directory: Path, file: str, old: str, new: str) -> None:
    path = directory / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {file}"
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    return exercises_init(tmp_path_factory.mktemp("reference"), solutions=True)


@pytest.fixture
def student(reference, tmp_path) -> Path:
    """A fresh copy of the reference to break."""
    return Path(shutil.copytree(reference, tmp_path / "student"))


def run(argv: list[str]) -> tuple[int, str, str]:
    from parity.__main__ import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["grade", *argv])
        except SystemExit as exc:
            code = exc.code
    return code, out.getvalue(), err.getvalue()


# ---------------------------------------------------------------------------
# The reference and the templates
# ---------------------------------------------------------------------------
def test_the_reference_grades_100_percent(reference):
    code, out, err = run([str(reference), "--examples", "0"])
    assert code == 0, out + err
    n = N_FUNCTIONS
    assert out.rstrip().splitlines()[-1] == f"{n} of {n} functions pass"
    assert "✗" not in out and err == ""
    # lecture order: the files and, within them, the functions as the manifest lists them
    names = [e.name for s in EXERCISE_SETS for e in s.exercises]
    assert sorted(names, key=out.index) == names


def test_grade_function_on_an_imported_module():
    from scratchrnn import cells, gating

    r = grade_function(cells, "lstm_step_backward", cases=2)
    assert r.passed and [v.variant for v in r.variants] == ["lstm"]
    assert {q.name for q in r.variants[0].quantities} == {"dgx_t", "dgh_t", "dh_prev", "dc_prev"}
    r = grade_function(gating, "gated_step_backward", cases=1)
    assert r.passed and len(r.variants) == 3


def test_the_templates_grade_as_not_written(tmp_path):
    exercises_init(tmp_path, solutions=False)
    code, out, err = run([str(tmp_path)])
    assert code == 1
    report = grade(tmp_path)
    assert {r.status for r in report.results} == {"not written"}
    assert all(r.traceback is None and not r.variants for r in report.results)
    assert "Traceback" not in out and "NotImplementedError" in out
    assert out.rstrip().splitlines()[-1] == \
        f"0 of {N_FUNCTIONS} functions pass ({N_FUNCTIONS} not written)"


def test_a_written_cell_waits_for_its_unwritten_step(student):
    (student / "ex1_elman.py").write_text(templatize(
        (student / "ex1_elman.py").read_text(encoding="utf-8"), {"elman_step_forward"}))
    r = {x.name: x for x in grade(student, "ex1_elman", cases=1).results}
    assert r["elman_step_forward"].status == "not written"
    assert r["elman_cell_forward"].status == "not written"
    assert "elman_step_forward, which is not written yet" in r["elman_cell_forward"].message
    assert r["elman_step_backward"].passed  # graded on the reference forward


# ---------------------------------------------------------------------------
# The mistake corpus (issue 15)
# ---------------------------------------------------------------------------
LSTM, GRU, ELMAN, GATING = "ex3_lstm.py", "ex4_gru.py", "ex1_elman.py", "ex2_gating.py"
MISTAKES = [
    # (id, file, old, new, function, failing variants, wrong quantities, gate blocks, hint)
    pytest.param(LSTM, "df_t * f_t * (1 - f_t),", "df_t * sigmoid(f_t) * (1 - sigmoid(f_t)),",
                 "lstm_step_backward", ["lstm"], ["dgx_t", "dgh_t", "dh_prev"], ["f (forget gate"],
                 "uses the gate's output, not its pre-activation",
                 id="sigma-prime-of-the-pre-activation"),
    pytest.param(GATING, "dh_t * F_t * lam_t * (1 - lam_t)",
                 "dh_t * F_t * sigmoid(lam_t) * (1 - sigmoid(lam_t))", "gated_step_backward",
                 ["gated-input", "gated-hidden"], ["dgx_t", "dgh_t", "dh_prev"],
                 ["λ (input gate λ"],
                 "σ′ from the gate's output", id="sigma-prime-of-the-pre-activation-gating"),
    pytest.param(LSTM, "    dc = dc_t + dm_t * o_t * (1 - tanh_c_t * tanh_c_t)",
                 "    c_t = f_t * cache.c_prev + i_t * g_t\n"
                 "    dc = dc_t + dm_t * o_t * (1 - c_t * c_t)",
                 "lstm_step_backward", ["lstm"], ["dgx_t", "dgh_t", "dh_prev", "dc_prev"],
                 ["i (input gate", "f (forget gate", "g (candidate"], "not of C_t",
                 id="one-minus-tanh-squared-of-C_t"),
    pytest.param(ELMAN, "da_t = dh_t * (1 - cache.h_t * cache.h_t)",
                 "da_t = dh_t * (1 - cache.h_prev * cache.h_prev)", "elman_step_backward",
                 ["elman"], ["dgx_t", "dgh_t", "dh_prev"], [], "not from h_{t−1}",
                 id="one-minus-tanh-squared-of-h_prev"),
    pytest.param(LSTM, "dc = dc_t + dm_t", "dc = dm_t", "lstm_step_backward", ["lstm"],
                 ["dgx_t", "dgh_t", "dh_prev", "dc_prev"],
                 ["i (input gate", "f (forget gate", "g (candidate"], "carry",
                 id="cell-state-carry-dc_t-missing"),
    pytest.param(LSTM, "dc_prev = dc * f_t", "dc_prev = dc", "lstm_step_backward", ["lstm"],
                 ["dc_prev"], [], "dC_{t−1} = dC_t ⊙ f_t", id="cell-state-carry-times-f-missing"),
    pytest.param(LSTM, "    i_t = sigmoid(a_t[:, :H])\n    f_t = sigmoid(a_t[:, H : 2 * H])",
                 "    i_t = sigmoid(a_t[:, H : 2 * H])\n    f_t = sigmoid(a_t[:, :H])",
                 "lstm_step_forward", ["lstm"], ["h_t", "c_t"],
                 ["i (input gate", "f (forget gate"], "input gate first, forget gate second",
                 id="i-and-f-blocks-swapped"),
    pytest.param(LSTM, "    i_t = sigmoid(a_t[:, :H])", "    i_t = sigmoid(a_t[:, H : 2 * H])",
                 "lstm_step_forward", ["lstm"], ["h_t", "c_t"], ["g (candidate"],
                 "times the input gate i_t", id="input-gate-reads-the-forget-block"),
    pytest.param(GRU, "h_t = (1 - z_t) * n_t + z_t * h_prev",
                 "h_t = z_t * n_t + (1 - z_t) * h_prev", "gru_step_forward", ["gru"], ["h_t"],
                 ["z (update gate"], "z_t keeps the OLD state", id="z-exchanged-torch-form"),
    pytest.param(GRU, "h_t = (1 - z_t) * h_prev + z_t * n_t",
                 "h_t = z_t * h_prev + (1 - z_t) * n_t", "gru_step_forward", ["gru-slide"],
                 ["h_t"], ["z (update gate"], "z_t weighs the NEW candidate",
                 id="z-exchanged-slide-form"),
    pytest.param(GRU, "n_t = np.tanh(gx_t[:, 2 * H :] + r_t * gh_n)",
                 "n_t = np.tanh(gx_t[:, 2 * H :] + hidden_projection(r_t * h_prev, "
                 "W_hh[2 * H :], b_hn))", "gru_step_forward", ["gru"], ["h_t"],
                 ["n (candidate n"], "AFTER W_hn", id="reset-before-W_hn-torch-form"),
    pytest.param(GRU, "n_t = np.tanh(gx_t[:, 2 * H :] + hidden_projection(rh_prev, "
                 "W_hh[2 * H :], b_hn))", "n_t = np.tanh(gx_t[:, 2 * H :] + r_t * "
                 "hidden_projection(h_prev, W_hh[2 * H :], b_hn))", "gru_step_forward",
                 ["gru-slide"], ["h_t"], ["n (candidate h̃"], "BEFORE W_hn",
                 id="reset-after-W_hn-slide-form"),
    pytest.param(LSTM, 'grads["bias_ih"] = dgx.sum(axis=0)',
                 'grads["bias_ih"] = dgx.mean(axis=0)', "lstm_cell_backward", ["lstm"],
                 ["d_bias_ih"], ["i (input gate", "f (forget gate", "g (candidate", "o (output"],
                 "Σ_batch", id="bias-gradient-averaged-not-summed"),
    pytest.param(GRU, 'grads["bias_hh"] = dgh.sum(axis=0)', 'grads["bias_hh"] = dgh',
                 "gru_cell_backward", ["gru", "gru-slide"], ["d_bias_hh"], ["shape (1, 3)"],
                 "sum over axis 0 (the batch)", id="bias-gradient-not-summed"),
    pytest.param(ELMAN, "return da_t, da_t, da_t @ W_hh\n", "return da_t, da_t, da_t\n",
                 "elman_step_backward", ["elman", "elman-relu"], ["dh_prev"], [],
                 "times W_hh", id="dh_prev-without-W_hh-elman"),
    pytest.param(GRU, "dh_prev = dh_prev + dgh_t @ W_hh", "dh_prev = dh_prev",
                 "gru_step_backward", ["gru"], ["dh_prev"], [], "dgh_t W_hh",
                 id="dh_prev-without-W_hh-gru"),
]


@pytest.mark.parametrize("file, old, new, function, variants, wrong, blocks, hint", MISTAKES)
def test_each_mistake_is_pinned_to_its_function_quantity_and_block(
        student, file, old, new, function, variants, wrong, blocks, hint):
    mutate(student, file, old, new)
    report = grade(student, file.removesuffix(".py"), cases=CASES)
    by = {r.name: r for r in report.results}
    r = by[function]
    assert r.status == "failed", r.message
    assert [v.variant for v in r.variants if not v.passed] == variants
    v = next(v for v in r.variants if not v.passed)
    assert sorted(q.name for q in v.quantities if not q.passed) == sorted(wrong), v.summary
    for label in blocks:
        assert label in v.summary, v.summary
    assert any(hint in h for h in r.hints), r.hints
    # the report a student reads says the same, in the function's own block
    text = report.text()
    block = text[text.index(f" {function} "):]
    assert all(q in block for q in wrong) and hint in block
    # attribution: the step's mistake is the step's; the cell that calls it says so
    for other in report.results:
        if other.name == function:
            continue
        if other.status != "passed":
            assert other.depends_on and "fix it first" in other.message, other.message
    if function.endswith("_step_backward"):
        assert by[function.replace("backward", "forward")].passed
        assert "forward correct" in v.summary
    elif function.endswith("_step_forward"):
        assert by[function.replace("forward", "backward")].passed


# ---------------------------------------------------------------------------
# Broken files, exceptions, the command line
# ---------------------------------------------------------------------------
def test_a_syntax_error_costs_only_its_file(student):
    mutate(student, LSTM, "    H = c_prev.shape[1]\n", "    H = c_prev.shape[1\n")
    code, out, _ = run([str(student), "--examples", "0"])
    assert code == 1
    report = grade(student, cases=1)
    lstm = [r for r in report.results if r.set == "ex3_lstm"]
    assert {r.status for r in lstm} == {"error"}
    assert all(r.passed for r in report.results if r.set != "ex3_lstm")
    section = out[out.index("ex3_lstm.py"):out.index("ex4_gru.py")]
    assert "cannot be imported" in section and 'File "ex3_lstm.py", line' in section
    assert "SyntaxError" in section and "importlib" not in section
    assert len(section.strip().splitlines()) <= 6


def test_an_exception_shows_a_traceback_into_the_students_file_only(student):
    mutate(student, ELMAN, "da_t = dh_t * (1 - cache.h_t * cache.h_t)",
           "da_t = dh_t * (1 - cache.h_t * cache.ht)")
    report = grade(student, "ex1_elman", cases=1)
    by = {r.name: r for r in report.results}
    r = by["elman_step_backward"]
    assert r.status == "error"
    assert 'File "ex1_elman.py"' in r.traceback and "in elman_step_backward" in r.traceback
    assert r.traceback.splitlines()[-1].startswith("AttributeError")
    assert "parity" not in r.traceback and "assertions.py" not in r.traceback
    cell = by["elman_cell_backward"]
    assert cell.status == "error" and "in elman_step_backward, which it calls" in \
        cell.variants[0].message
    assert "depends on elman_step_backward" in cell.message
    text = report.text()
    assert "Traceback (your file only):" in text and "site-packages" not in text


def test_wrong_return_values_are_named(student):
    mutate(student, LSTM, "return da_t, da_t, da_t @ W_hh, dc_prev",
           "return da_t, da_t @ W_hh, dc_prev")
    mutate(student, ELMAN, "return da_t, da_t, da_t @ W_hh\n",
           "return da_t, da_t[:, :0], da_t @ W_hh\n")
    r = grade(student, "lstm_step_backward", cases=1).results[0]
    assert r.status == "failed"
    assert "returned 3 values; expected 4: (dgx_t, dgh_t, dh_prev, dc_prev)" in r.message
    r = grade(student, "elman_step_backward", cases=1).results[0]
    assert "dgh_t of shape (1, 0); expected (B, H) = (1, 1)" in r.message


def test_what_the_student_prints_is_kept_not_shown(student, capsys):
    mutate(student, ELMAN, "    return h_t, ElmanCache(h_prev, h_t, nonlinearity)\n",
           "    print('x' * 100000)\n    return h_t, ElmanCache(h_prev, h_t, nonlinearity)\n")
    r = grade(student, "elman_step_forward", cases=2).results[0]
    assert r.passed and r.printed.startswith("xxx") and len(r.printed) < 3000
    assert capsys.readouterr().out == ""


def test_only_selects_a_function_or_a_file(reference):
    code, out, _ = run([str(reference), "--only", "lstm_step_forward", "--examples", "0"])
    assert code == 0 and "lstm_step_forward" in out and "elman" not in out
    assert out.rstrip().endswith("1 of 1 functions pass")
    report = grade(reference, "ex2_gating", cases=1)
    assert [r.name for r in report.results] == ["gated_step_forward", "gated_step_backward"]
    code, out, err = run([str(reference), "--only", "lstm_step_fwd"])
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "lstm_step_forward" in err and "ex1_elman" in err


def test_json_is_one_object_with_every_result(student):
    mutate(student, LSTM, "df_t * f_t * (1 - f_t),", "df_t * sigmoid(f_t) * (1 - sigmoid(f_t)),")
    code, out, _ = run([str(student), "--only", "ex3_lstm", "--json", "--examples", "0"])
    assert code == 1
    d = json.loads(out)
    assert d["passed"] is False and d["functions"] == 4 and d["functions_passed"] == 2
    assert d["summary"] == "2 of 4 functions pass (2 failed)"
    assert [s["stem"] for s in d["sets"]] == ["ex3_lstm"]
    r = {x["name"]: x for x in d["results"]}["lstm_step_backward"]
    assert r["status"] == "failed" and r["set"] == "ex3_lstm" and r["hints"]
    v = r["variants"][0]
    assert v["variant"] == "lstm" and v["case"]["B"] == 1 and v["diagnosis"]["cell"] == "lstm"
    dgx = {q["name"]: q for q in v["quantities"]}["dgx_t"]
    assert dgx["passed"] is False and dgx["gate_blocks"][0].startswith("f (forget gate")
    assert dgx["sources"] == ["d_weight_ih", "d_bias_ih", "d_x"]


def test_hypothesis_finds_what_the_fixed_cases_miss_and_shrinks_it(student):
    # wrong only for an input size of 4, which no fixed case has
    mutate(student, ELMAN, "    return h_t, _cell_cache(x, step, weight_ih, weight_hh, bias_ih)",
           "    if x.shape[1] == 4:\n        h_t = h_t + 1\n"
           "    return h_t, _cell_cache(x, step, weight_ih, weight_hh, bias_ih)")
    assert grade(student, "elman_cell_forward").passed
    r = grade(student, "elman_cell_forward", examples=20).results[0]
    assert r.status == "failed"
    case = r.variants[0].case
    assert (case["B"], case["I"], case["H"]) == (1, 4, 1), case
    assert r.variants[0].cases_run > len(fixed_specs("elman"))


def test_only_a_cell_function_still_names_its_failing_step(student):
    mutate(student, LSTM, "df_t * f_t * (1 - f_t),", "df_t * sigmoid(f_t) * (1 - sigmoid(f_t)),")
    r = grade(student, "lstm_cell_backward", cases=1).results
    assert [x.name for x in r] == ["lstm_cell_backward"]
    assert r[0].depends_on == ["lstm_step_backward"]
    assert r[0].message == "depends on lstm_step_backward, which fails: fix it first"


def test_usage_mistakes_are_one_line_exit_2(tmp_path):
    for argv in ([str(tmp_path / "nope")], [str(tmp_path)], []):
        code, out, err = run(argv)
        assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, (argv, err)


def test_a_missing_file_is_reported_and_the_rest_graded(reference, tmp_path):
    shutil.copy(reference / ELMAN, tmp_path / ELMAN)
    code, out, _ = run([str(tmp_path), "--examples", "0"])
    assert code == 1
    assert "ex2_gating.py — " in out and "missing" in out
    report = grade(tmp_path, cases=1)
    assert {r.status for r in report.results if r.set != "ex1_elman"} == {"missing"}
    assert all(r.passed for r in report.results if r.set == "ex1_elman")


# ---------------------------------------------------------------------------
# The hint table and the cases
# ---------------------------------------------------------------------------
def test_every_gate_block_has_a_forward_and_a_backward_hint():
    from parity.grade.adapters import family

    for cell, kind in CELLS.items():
        for letter in kind.letters:
            for quantity in ("forward", "da"):
                assert hint_for(family(cell), quantity, letter), (cell, quantity, letter)
    assert hints_for_blocks("lstm", "da", "ifg") == [HINTS["lstm", "da", "ifg"]]
    assert hints_for_blocks("lstm", "da", "fo") == [HINTS["lstm", "da", "f"],
                                                    HINTS["lstm", "da", "o"]]
    assert hint_for("elman", "d_bias") == HINTS["*", "d_bias", None]


def test_fixed_cases_start_smallest_and_keep_relu_in_float64():
    specs = fixed_specs("lstm")
    assert (specs[0].batch, specs[0].input_size, specs[0].hidden_size) == (1, 1, 1)
    assert {s.bias for s in specs[:2]} == {True, False}
    sizes = [s.batch + s.input_size + s.hidden_size for s in specs]
    assert sizes == sorted(sizes)
    assert {s.dtype for s in fixed_specs("elman-relu")} == {"float64"}
