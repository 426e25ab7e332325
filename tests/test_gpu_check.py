"""scripts/gpu_check.sh --dry-run: every step of the GPU check runs on the CPU, so it cannot rot."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import needs_torch

ROOT = Path(__file__).resolve().parents[1]


def load_script():
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "scripts" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpu_check")
    env = dict(os.environ, PYTHON=sys.executable)
    res = subprocess.run(["bash", str(ROOT / "scripts" / "gpu_check.sh"), str(out), "--dry-run"],
                         env=env, capture_output=True, text=True, timeout=600)
    return out, res


@needs_torch
def test_dry_run_every_step_ok(dry_run):
    out, res = dry_run
    assert res.returncode == 0, res.stderr[-3000:]
    s = json.loads((out / "gpu_check.json").read_text())
    assert s["dry_run"] is True and s["device"] == "cpu"
    expected = {"parity-device", "bench", "adding"}
    expected |= {f"{lab}-{b}" for lab in ("classify-gru", "generate-gru-cond")
                 for b in ("numpy", "torch")}
    assert set(s["steps_ok"]) == expected
    assert all(s["steps_ok"].values()), s["steps_ok"]
    for step in s["steps"].values():  # the commands go through the interpreter's -m entry points
        assert step["command"].startswith("python -m ")


@needs_torch
def test_dry_run_figures(dry_run):
    out, _ = dry_run
    s = json.loads((out / "gpu_check.json").read_text())
    p = s["parity"]
    assert p["available"] and p["rows_device"] > 50 and p["float32_rows"] > 0
    assert p["failures_device"] == [] and p["failures_device_tf32_off"] == []
    assert s["info"]["device"] == "cpu" and s["info"]["torch"]
    assert p["float32_changed"] == 0  # on the CPU the device run is its own reference
    assert [(r["lab"], r["cell"]) for r in s["labs"]] == [("classify", "gru"), ("generate", "gru")]
    for row in s["labs"]:  # both backends, same seed and batches: the same result
        assert row["numpy"] is not None and row["torch"] is not None
        assert row["torch"]["test_loss"] == pytest.approx(row["numpy"]["test_loss"], rel=1e-4)
        assert row["numpy"]["epochs"] == 1
        assert row["numpy"]["device"] == row["torch"]["device"] == "cpu"
    assert "generative_classifier_test_acc" in s["labs"][-1]["torch"]
    assert sorted(s["adding"]) == sorted(f"{c}@{T}" for c in ("elman-tanh", "gru")
                                         for T in (5, 10, 20))
    assert len(s["bench"]) == 6
    assert {(r["batch"], r["hidden"]) for r in s["bench"]} == {(64, 64), (8, 32)}
    assert all(r["torch_fused_ms"] > 0 and r["torch_cells_ms"] > 0 for r in s["bench"])
    md = (out / "gpu_check.md").read_text()
    for heading in ("# GPU check (dry run on the CPU)", "## Parity", "## Labs",
                    "## Adding problem", "## Benchmark"):
        assert heading in md
    assert "FAILED" not in md
    assert "| lab 1 | gru | torch (cpu) |" in md


def test_wait_for_a_process(tmp_path):
    script = load_script()
    alive, wait_for = script.alive, script.wait_for
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.3)"])
    assert alive(child.pid)
    assert wait_for(child.pid, 30)  # ended, though not yet reaped (a zombie) until .wait()
    child.wait()
    assert not alive(child.pid)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert not wait_for(sleeper.pid, 0.6)  # still running when the limit is reached
    finally:
        sleeper.kill()
        sleeper.wait()


def test_compare_parity_finds_changed_float32_rows():
    gc = load_script()

    def row(cell, dtype, out, grad, config="c"):
        return {"group": "sequence", "cell": cell, "config": config, "dtype": dtype,
                "max_rel_diff_output": out, "max_rel_diff_grad": grad}

    cpu = [row("gru", "float32", 1e-7, 2e-7), row("lstm", "float32", 1e-7, 1e-7),
           row("gru", "float64", 1e-16, 1e-16)]
    dev = [row("gru", "float32", 1e-7, 2e-7), row("lstm", "float32", 3e-4, 1e-7),
           row("gru", "float64", 5e-16, 1e-16)]
    off = [row("lstm", "float32", 2e-7, 1e-7)]
    p = gc.compare_parity(dev, cpu, off)
    assert p["float32_rows"] == 2 and p["float32_changed"] == 1
    (changed,) = p["changed"]
    assert changed["cell"] == "lstm" and changed["cpu"] == 1e-7 and changed["device"] == 3e-4
    assert changed["device_tf32_off"] == 2e-7 and changed["ratio"] == pytest.approx(3000)
    assert p["failures_device"] == [("sequence", "lstm", "c", "float32")]
    assert p["failures_device_tf32_off"] == []
    assert gc.compare_parity(None, cpu, off) == {"available": False}


def test_failed_step_is_reported_not_fatal(tmp_path):
    """A step that dies leaves its row empty and marks the step FAILED in the summary."""
    gc = load_script()
    job = gc.Job("classify-gru-torch", ["-c", "import sys; sys.exit('boom')"], 30)
    gc.run_jobs([job], sys.executable, tmp_path, 1)
    assert job.result["returncode"] == 1 and job.result["data"] is None
    assert job.result["error"] == "boom"

    class Args:
        dry_run, device = True, "cpu"

    s = gc.summarize({"classify-gru-torch": job.result}, None, Args, 1.0)
    assert s["steps_ok"] == {"classify-gru-torch": False}
    gru = [r for r in s["labs"] if r["cell"] == "gru" and r["lab"] == "classify"][0]
    assert gru["torch"] is None
    md = gc.markdown(s)
    assert "classify-gru-torch FAILED" in md and "| lab 1 | gru | torch | failed |" in md


def test_gpu_plan_runs_the_full_steps_on_cuda(tmp_path):
    """What the script runs on a GPU (it cannot run here): full parity on cuda, with TF32 off
    and on the CPU; the labs on both backends; T = 200, 400, 750; the large benchmark shape."""
    gc = load_script()
    jobs, bench = gc.plan(tmp_path, "cuda", dry=False, data=None)
    cmds = {j.name: " ".join(j.argv) for j in jobs}
    assert cmds["parity-device"] == "-m parity --device cuda --json"
    assert cmds["parity-cpu"] == "-m parity --device cpu --json"
    assert "--core-only" in cmds["parity-device-tf32-off"]
    assert [j.env for j in jobs if j.name == "parity-device-tf32-off"] == [
        {"NVIDIA_TF32_OVERRIDE": "0"}]
    for cell in ("elman-tanh", "irnn", "lstm", "gru"):
        assert (f"study adding --backend torch --device cuda --cells {cell} "
                f"--lengths 200 400 750 --out") in cmds[f"adding-{cell}"]
    for lab in ("classify-elman", "classify-lstm", "classify-gru", "generate-gru-cond"):
        assert "--backend torch --device cuda --seed 1337" in cmds[f"{lab}-torch"]
        assert "--backend numpy --seed 1337" in cmds[f"{lab}-numpy"]
        assert "--epochs" not in cmds[f"{lab}-torch"] and "--data" not in cmds[f"{lab}-torch"]
    assert "--conditioned" in cmds["generate-gru-cond-torch"]
    assert " ".join(bench.argv) == "-m bench.gpu --device cuda --json"  # B=256, H=1024: default
    assert len(jobs) <= 16 and max(j.timeout for j in jobs) + bench.timeout < 8 * 60


@needs_torch
def test_merge_a_rerun_over_a_first_run(dry_run, tmp_path):
    """--merge: a later run's step replaces the earlier one's (the fix-and-rerun path)."""
    out, _ = dry_run
    first = json.loads((out / "gpu_check.json").read_text())
    broken = dict(first, steps=dict(first["steps"]))
    broken["steps"]["bench"] = dict(first["steps"]["bench"], data=None, returncode=1)
    rerun = dict(first, steps={"bench": first["steps"]["bench"]}, wall_seconds=1.0)
    paths = []
    for i, s in enumerate((broken, rerun)):
        paths.append(tmp_path / f"run{i}.json")
        paths[-1].write_text(json.dumps(s))
    script = load_script()
    alone = script.merge([str(paths[0])], tmp_path)
    assert alone["steps_ok"]["bench"] is False and alone["bench"] is None
    merged = script.merge([str(p) for p in paths], tmp_path)
    assert all(merged["steps_ok"].values())
    assert merged["bench"] == first["bench"] and merged["parity"] == first["parity"]
    assert merged["wall_seconds"] == pytest.approx(first["wall_seconds"] + 1.0, abs=0.1)
    other = tmp_path / "other.json"
    other.write_text(json.dumps(dict(first, device="cuda", dry_run=False)))
    with pytest.raises(SystemExit, match="different devices"):
        script.merge([str(paths[0]), str(other)], tmp_path)
    with pytest.raises(SystemExit, match="is not a gpu_check.json"):
        script.merge([str(tmp_path / "missing.json")], tmp_path)


@needs_torch
def test_only_runs_the_named_groups(tmp_path):
    env = dict(os.environ, PYTHON=sys.executable)
    res = subprocess.run(["bash", str(ROOT / "scripts" / "gpu_check.sh"), str(tmp_path),
                          "--dry-run", "--only", "adding"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    s = json.loads((tmp_path / "gpu_check.json").read_text())
    assert set(s["steps_ok"]) == {"adding"} and s["adding"] and s["bench"] is None
    assert s["info"]["device"] == "cpu"  # without the benchmark, from its --info job
