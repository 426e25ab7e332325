"""bench/overhead.py runs and prints its table (what it measures is not asserted: timing
belongs in the benchmark, not in a pass/fail test)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "bench" / "overhead.py"), *args],
                          capture_output=True, text=True, timeout=120)


def test_overhead_prints_one_row_per_cell_and_pass():
    out = _run("--rounds", "4", "--cells", "elman,gru")
    assert out.returncode == 0, out.stderr
    rows = [ln.split("|")[1:-1] for ln in out.stdout.splitlines()[2:]]
    assert [(r[0].strip(), r[1].strip()) for r in rows] == [
        ("elman", "forward"), ("elman", "backward"), ("gru", "forward"), ("gru", "backward")]
    for r in rows:
        assert float(r[2]) > 0 and all("(" in c for c in r[5:])


def test_overhead_refuses_too_few_rounds_in_one_line():
    out = _run("--rounds", "3")
    assert out.returncode == 2
    assert out.stderr.strip().splitlines()[-1].endswith("--rounds must be at least 4 (quartiles)")
