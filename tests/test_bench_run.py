"""bench/run.py --contenders: only those are timed and reported (what they measure is not
asserted: timing belongs in the benchmark, not in a pass/fail test)."""

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="torch is not installed (bench/run.py times it)")

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), *args],
                          capture_output=True, text=True, timeout=300)


def test_only_the_named_contenders_are_timed_and_their_ratios_reported():
    out = _run("--rounds", "4", "--cells", "elman", "--contenders", "fast,unchecked,minimal")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    contenders = [ln.split("|")[1].strip() for ln in lines[3:] if ln.startswith("| ")
                  and ln.count("|") == 4][:3]
    assert contenders == ["fast", "unchecked", "minimal"]
    ratio_head = lines[lines.index("Lab shape, ratios within a round: median (q1–q3)") + 2]
    assert [c.strip() for c in ratio_head.split("|")[1:-1]] == [
        "cell", "fast/minimal", "fast/unchecked"]


@pytest.mark.parametrize("flags,words", [
    (["--contenders", "fast,bogus"], "unknown: bogus"),
    (["--contenders", "fast"], "--contenders takes two or more of"),
    (["--contenders", "fast,minimal", "--sweeps"], "the lab shape only"),
])
def test_a_wrong_contender_list_is_one_line_exit_2(flags, words):
    out = _run(*flags)
    assert out.returncode == 2 and out.stdout == ""
    assert words in out.stderr.strip().splitlines()[-1], out.stderr
