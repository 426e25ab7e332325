"""scripts/ablation.py: parallel seeds (--jobs), the backend recorded per row, resume."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import write_synthetic_csv

ROOT = Path(__file__).resolve().parents[1]


def ablation(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "scripts/results.py", "ablation", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def test_generate_stage_in_parallel_then_resumes(tmp_path):
    data = write_synthetic_csv(tmp_path / "s.csv", sizes=(("train", 140), ("val", 20),
                                                          ("test", 20)))
    out = tmp_path / "abl"
    common = ["--out", str(out), "--seeds", "1", "2", "--epochs", "1", "--data", str(data),
              "--stages", "generate"]
    res = ablation(*common, "--jobs", "4")
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert sorted((r["name"], r["seed"]) for r in rows) == [
        ("gen-gru-E32-H32", 1), ("gen-gru-E32-H32", 2),
        ("gen-lstm-E64-H128", 1), ("gen-lstm-E64-H128", 2)]
    assert {r["backend"] for r in rows} == {"numpy"}
    assert all(0 <= r["gen_uniform_prior_balanced_acc"] <= 100 for r in rows)
    assert "| gen-lstm-E64-H128 | numpy | 2 |" in res.stdout
    # everything is there: a second run trains nothing and prints the same table
    again = ablation(*common, "--jobs", "4")
    assert again.returncode == 0, again.stderr
    assert "scratchrnn generate train" not in again.stderr
    assert again.stdout == res.stdout


def test_bad_jobs_is_one_line(tmp_path):
    res = ablation("--out", str(tmp_path / "x"), "--jobs", "0")
    assert res.returncode == 2
    assert res.stderr.strip().splitlines()[-1].endswith("--jobs must be at least 1")


def test_a_failing_training_is_one_line(tmp_path):
    res = ablation("--out", str(tmp_path / "x"), "--seeds", "1", "--epochs", "1",
                   "--data", str(tmp_path / "missing.csv"), "--stages", "generate")
    assert res.returncode == 1
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("ablation: gen-gru-E32-H32 seed 1 failed (exit 2): ")
    assert "missing.csv" in last and "Traceback" not in res.stderr
