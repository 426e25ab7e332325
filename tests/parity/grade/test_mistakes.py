"""The grader names each planted mistake from the numbers (issue 24, item 2): every entry
of the corpus, planted in a copy of the reference solutions, makes the function fail with
the named mistake on its first line, and the reference itself names nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from parity.grade import grade
from parity.grade.mistakes import block_mistakes
from tests.conftest import needs_torch

from .planted import PLANTED

pytestmark = needs_torch


def first_line(report, name: str) -> str:
    """The line under the function's mark: what the grader says first."""
    lines = report.text().splitlines()
    at = next(i for i, ln in enumerate(lines) if ln.split()[1:2] == [name])
    return lines[at + 1].strip()


@pytest.mark.parametrize("what,file,name,old,new,named", PLANTED, ids=[p[0] for p in PLANTED])
def test_each_planted_mistake_is_named_first(solutions, tmp_path, what, file, name, old, new,
                                             named):
    student = Path(shutil.copytree(solutions, tmp_path / "s"))
    path = student / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, (what, old)
    path.write_text(text.replace(old, new), encoding="utf-8")
    report = grade(str(student), only=name)
    [r] = [r for r in report.results if r.name == name]
    assert r.status == "failed"
    assert named in first_line(report, name), report.text()


def test_the_reference_names_no_mistake(solutions):
    report = grade(str(solutions), only="lstm_step_backward")
    assert report.passed and "sign flipped" not in report.text()


def test_block_patterns_are_exact_and_not_claimed_by_accident():
    rng = np.random.default_rng(0)
    H, letters = 3, "ifgo"
    ref = rng.standard_normal((4 * H, 2))
    ours = ref.copy()
    ours[H:2 * H] *= -1
    assert block_mistakes(ours, ref, letters, H, 1e-9, "dgx_t") == [
        "sign flipped in df_t (block f of dgx_t is minus the reference's)"]
    ours = ref.copy()
    ours[H:2 * H] *= -1 + 1e-3  # not quite minus: no claim
    assert block_mistakes(ours, ref, letters, H, 1e-9, "dgx_t") == []
    zero_ref = ref.copy()
    zero_ref[:H] = 0  # a zero reference block: any factor fits, none is claimed
    ours = zero_ref.copy()
    ours[:H] = 1e-20
    assert block_mistakes(ours, zero_ref, letters, H, 1e-9, "dgx_t") == []
    ours = ref.copy()
    ours[2 * H:3 * H], ours[3 * H:] = ref[3 * H:], ref[2 * H:3 * H]
    assert block_mistakes(ours, ref, letters, H, 1e-9, "dgx_t") == [
        "blocks g and o swapped in dgx_t"]
