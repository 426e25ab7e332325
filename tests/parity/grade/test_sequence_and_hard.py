"""Exercise set 5 (the loop over t) and the hard mode, graded by the same grader (issue 24,
item 3): the solutions grade 100 %, a hard file filled with the reference bodies grades
100 %, the hard templates grade "not written", and a piece of the loop left out is named
only where the case can show it."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parity.grade import grade
from parity.grade.sequence import (
    LEFT_OUT,
    Seen,
    fixed_sequence_specs,
    name_sequence_mistakes,
    reference_loop,
)
from parity.kit.cases import make_seq_case
from scratchrnn import cells
from scratchrnn.exercises import EXERCISE_SETS
from scratchrnn.exercises import sequence as ref_sequence
from tests.conftest import needs_torch, run_cli, seeds

SEQUENCE = "ex5_sequence_bptt"
N_FUNCTIONS = sum(len(s.exercises) for s in EXERCISE_SETS)


def test_the_sequence_solutions_grade_100_percent_with_hypothesis_cases(solutions):
    pytest.importorskip("torch")
    report = grade(str(solutions), only=SEQUENCE, examples=5)
    assert report.passed, report.text()
    assert {r.name for r in report.results} == {"elman_sequence_backward",
                                                 "lstm_sequence_backward"}
    for r in report.results:  # every fixed case and the drawn ones ran, on every variant
        assert all(v.cases_run == len(fixed_sequence_specs(v.variant)) + 5
                   for v in r.variants), r.name


def test_grade_function_on_the_reference_loop():
    pytest.importorskip("torch")
    from parity.grade import grade_function

    r = grade_function(ref_sequence, "lstm_sequence_backward", cases=2)
    assert r.passed and [v.variant for v in r.variants] == ["lstm"]
    assert [q.name for q in r.variants[0].quantities] == ["dGX", "dGH", "dh0", "dc0"]


def test_fixed_sequence_cases_start_smallest_and_pad_where_lengths_vary():
    for variant in ("elman", "elman-relu", "lstm"):
        specs = fixed_sequence_specs(variant)
        assert (specs[0].steps, specs[0].batch) == (1, 1) and not specs[0].lengths
        sizes = [s.batch * s.steps for s in specs]
        assert sizes == sorted(sizes)
        for s in specs:
            if s.lengths:  # a padded step exists, or the mask could not be graded
                assert make_seq_case(s).lengths.min() < s.steps
    assert {s.dtype for s in fixed_sequence_specs("elman-relu")} == {"float64"}


def _arrays(lstm: bool, T: int, B: int, H: int, seed: int, lengths: bool):
    rng = np.random.default_rng(seed)
    G = 4 if lstm else 1
    GX, W_hh = rng.standard_normal((T, B, G * H)), rng.uniform(-1, 1, (G * H, H))
    h0, c0 = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    mask = None
    if lengths:
        mask = np.arange(T)[:, None, None] < rng.integers(1, T + 1, B)[None, :, None]
    if lstm:
        *_, steps = ref_sequence.lstm_sequence_forward(GX, h0, c0, W_hh, None, mask)
    else:
        *_, steps = ref_sequence.elman_sequence_forward(GX, h0, W_hh, None, mask)
    d_out, dh_n, dc_n = (rng.standard_normal(s) for s in ((T, B, H), (B, H), (B, H)))
    return d_out, dh_n, dc_n if lstm else None, steps, W_hh, mask


@settings(max_examples=25, deadline=None)
@given(lstm=st.booleans(), T=st.integers(1, 4), B=st.integers(1, 3), H=st.integers(1, 3),
       lengths=st.booleans(), seed=seeds)
def test_the_loop_with_nothing_left_out_is_the_reference_and_claims_nothing(lstm, T, B, H,
                                                                           lengths, seed):
    d_out, dh_n, dc_n, steps, W_hh, mask = _arrays(lstm, T, B, H, seed, lengths)
    step = cells.lstm_step_backward if lstm else cells.elman_step_backward
    ours = reference_loop(step, d_out, dh_n, dc_n, steps, W_hh, mask)
    if lstm:
        ref = ref_sequence.lstm_sequence_backward(d_out, dh_n, dc_n, steps, W_hh, mask)
        args = (d_out, dh_n, dc_n, steps, W_hh, mask)
    else:
        ref = ref_sequence.elman_sequence_backward(d_out, dh_n, steps, W_hh, mask)
        args = (d_out, dh_n, steps, W_hh, mask)
    for a, b in zip(ours, ref, strict=True):
        np.testing.assert_array_equal(a, b)
    variant = "lstm" if lstm else "elman"
    assert name_sequence_mistakes(variant, Seen(ref, args), 1e-9) == []
    # each piece left out is named when the case shows it, and only then
    for piece, words in LEFT_OUT.items():
        if piece == "dc carry" and not lstm:
            continue
        other = reference_loop(step, d_out, dh_n, dc_n, steps, W_hh, mask, piece)
        named = name_sequence_mistakes(variant, Seen(other, args), 1e-9)
        changed = any(not np.allclose(a, b, rtol=0, atol=1e-12)
                      for a, b in zip(other, ref, strict=True))
        assert (words in named) == (changed and (mask is not None or
                                                 piece not in ("mask", "padded carry"))), piece


# ---------------------------------------------------------------------------
# Hard mode: the same grader
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def hard(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("hard")
    code, out, err = run_cli(["exercises", "init", str(d), "--hard"])
    assert code == 0 and "hard mode" in out, out + err
    return d


def _fill(hard_text: str, solution_text: str, names: set[str]) -> str:
    """The hard file with each function of ``names`` replaced by the solution's whole
    definition (the hard docstring goes with it), and the private helpers the solutions
    call (``_input_projection`` …, a student's own to write) added at the end."""
    sol = {n.name: ast.get_source_segment(solution_text, n) for n in ast.parse(solution_text)
           .body if isinstance(n, ast.FunctionDef)}
    tree = ast.parse(hard_text)
    lines = hard_text.splitlines()
    for node in sorted((n for n in tree.body
                        if isinstance(n, ast.FunctionDef) and n.name in names),
                       key=lambda n: -n.lineno):
        lines[node.lineno - 1:node.end_lineno] = sol[node.name].splitlines()
    present = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    helpers = [text for name, text in sol.items() if name not in present]
    return "\n".join(lines + [""] + ["\n\n".join(helpers)]) + "\n"


@needs_torch
def test_hard_templates_grade_not_written_and_filled_they_grade_100_percent(hard, solutions,
                                                                           tmp_path):
    report = grade(str(hard))
    assert {r.status for r in report.results} == {"not written"}
    assert len(report.results) == N_FUNCTIONS
    filled = Path(shutil.copytree(hard, tmp_path / "filled"))
    for s in EXERCISE_SETS:
        path = filled / s.file
        text = _fill(path.read_text(encoding="utf-8"),
                     (solutions / s.file).read_text(encoding="utf-8"),
                     {e.name for e in s.exercises})
        path.write_text(text, encoding="utf-8")
    report = grade(str(filled), cases=3)
    assert report.passed, report.text()
    assert report.text().rstrip().splitlines()[-1] == \
        f"{N_FUNCTIONS} of {N_FUNCTIONS} functions pass"
