"""The labs on a GPU: parity, both labs, the adding problem and the benchmark in one run.

    scripts/gpu_check.sh OUTDIR [--dry-run] [--device cuda] [--jobs N] [--data CSV]
                         [--only GROUP ...] [--wait-pid PID]
    scripts/gpu_check.sh OUTDIR --merge RUN1/gpu_check.json RUN2/gpu_check.json
    python scripts/gpu_check.py OUTDIR [--dry-run] ...        # the same, without the wrapper

Runs (on ``--device``, default cuda), within 8 minutes on one GPU:

  parity     ``python -m parity --device cuda --json`` (all rows), the same with TF32 off
             (``NVIDIA_TF32_OVERRIDE=0``, core rows), and ``python -m parity --json`` on the
             CPU: which float32 rows change on the device and by how much (with
             ``--device cpu`` the device run is its own reference);
  labs       lab 1 for elman, lstm, gru and lab 2 conditioned GRU, seed 1337, each on
             ``--backend torch --device cuda`` and on the NumPy backend;
  adding     ``python -m scratchrnn study adding --backend torch --device cuda`` at
             T = 200, 400, 750 (one process per cell);
  bench      ``python -m bench.gpu --device cuda``: torch fused vs cell loop at the lab
             shape and at B = 256, H = 1024 (run alone, after everything else).

Everything but the benchmark runs concurrently (``--jobs``, default 16 processes: all of
them at once; the lab runs' seconds per epoch are therefore not a benchmark). Each step
has a time limit (at most 330 s, the benchmark 100 s: under 8 minutes in all); one that
fails or runs out is recorded as such and the rest go on. Writes
OUTDIR/gpu_check.json and OUTDIR/gpu_check.md (the raw outputs under OUTDIR/raw/).

``--dry-run``: the same steps on the CPU with a tiny budget (quick parity, core rows;
one epoch of tiny models on a small synthetic data set, lab 1 for the GRU only; the
adding problem for two cells in one process at T = 5, 10, 20 with 20 updates; a small
benchmark), so that CI catches rot. The TF32 pass runs only on cuda, the CPU reference
only off the CPU. Every step runs with the interpreter running this script
($PYTHON in gpu_check.sh).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
LAB1_CELLS = ("elman", "lstm", "gru")
SEED = 1337


class Job:
    def __init__(self, name: str, argv: list[str], timeout: float, env: dict | None = None,
                 parse: str = "last-line", group: str = "") -> None:
        self.name, self.argv, self.timeout, self.env = name, argv, timeout, env or {}
        self.parse, self.group = parse, group
        self.proc = None
        self.start = 0.0
        self.result: dict = {}


def plan(out: Path, device: str, dry: bool, data: str | None) -> tuple[list[Job], Job]:
    raw = out / "raw"
    if dry:
        lab_budget = ["--epochs", "1", "--hidden", "8", "--embedding", "8", "--batch-size", "16"]
        lengths, adding_extra = ["5", "10", "20"], ["--updates", "20", "--hidden", "8"]
        adding_cells = ["elman-tanh", "gru"]
        parity_extra, t_lab, t_parity, t_adding = ["--quick", "--core-only"], 120, 120, 120
        bench = Job("bench", ["-m", "bench.gpu", "--device", device, "--large", "8", "32",
                              "--budget", "0.02", "--json"], 120, group="bench")
    else:
        lab_budget, lengths, adding_extra = [], ["200", "400", "750"], []
        adding_cells = ["elman-tanh", "irnn", "lstm", "gru"]
        parity_extra, t_lab, t_parity, t_adding = [], 330, 300, 330
        bench = Job("bench", ["-m", "bench.gpu", "--device", device, "--json"], 100,
                    group="bench")
    data_args = ["--data", data] if data else []
    jobs = [
        Job("parity-device", ["-m", "parity", "--device", device, "--json", *parity_extra],
            t_parity, parse="stdout", group="parity"),
    ]
    if device.startswith("cuda"):  # TF32 exists only there
        jobs.append(Job("parity-device-tf32-off", ["-m", "parity", "--device", device, "--json",
                                                   "--core-only", *parity_extra[:1]],
                        t_parity, env={"NVIDIA_TF32_OVERRIDE": "0"}, parse="stdout",
                        group="parity"))
    if device != "cpu":  # on the CPU the device run is its own reference
        jobs.append(Job("parity-cpu", ["-m", "parity", "--device", "cpu", "--json",
                                       *parity_extra], t_parity, parse="stdout", group="parity"))
    # one process per cell on the device (they set the wall time); one in all for the dry run
    for cells in [adding_cells] if dry else [[c] for c in adding_cells]:
        name = "adding" if dry else f"adding-{cells[0]}"
        jobs.append(Job(name, [
            "-m", "scratchrnn", "study", "adding", "--backend", "torch", "--device", device,
            "--cells", *cells, "--lengths", *lengths, *adding_extra, "--out", str(raw / name),
            "--json"], t_adding, group="adding"))
    lab1_cells = ("gru",) if dry else LAB1_CELLS  # the dry run: one cell of lab 1
    labs = [("classify", cell, []) for cell in lab1_cells] + [("generate", "gru",
                                                               ["--conditioned"])]
    for lab, cell, extra in labs:
        for backend in ("torch", "numpy"):
            dev = ["--device", device] if backend == "torch" else []
            name = f"{lab}-{cell}{'-cond' if extra else ''}-{backend}"
            jobs.append(Job(name, [
                "-m", "scratchrnn", lab, "train", "--cell", cell, *extra, "--backend", backend,
                *dev, "--seed", str(SEED), *lab_budget, *data_args, "--out", str(raw / name),
                "--json", "--no-progress"], t_lab, group="labs"))
    return jobs, bench


def launch(job: Job, python: str, raw: Path) -> None:
    env = dict(os.environ, **job.env)
    env.setdefault("OMP_NUM_THREADS", "1")  # many processes at once: one thread each
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    job.out_path, job.err_path = raw / f"{job.name}.out", raw / f"{job.name}.err"
    job.start = time.perf_counter()
    job.proc = subprocess.Popen([python, *job.argv], cwd=ROOT, env=env,
                                stdout=job.out_path.open("w"), stderr=job.err_path.open("w"))


def finish(job: Job, timed_out: bool) -> None:
    rc = job.proc.returncode
    job.result = {"command": "python " + " ".join(job.argv),
                  "env": job.env or None, "returncode": rc, "timed_out": timed_out,
                  "seconds": round(time.perf_counter() - job.start, 1)}
    text = job.out_path.read_text()
    try:
        if job.parse == "stdout":
            job.result["data"] = json.loads(text)
        else:
            job.result["data"] = json.loads(text.strip().splitlines()[-1])
    except (ValueError, IndexError):
        job.result["data"] = None
        err = job.err_path.read_text().strip().splitlines()
        job.result["error"] = err[-1] if err else "no JSON output"


def run_jobs(jobs: list[Job], python: str, raw: Path, max_jobs: int) -> None:
    waiting, running = list(jobs), []
    while waiting or running:
        while waiting and len(running) < max_jobs:
            job = waiting.pop(0)
            launch(job, python, raw)
            print(f"[{time.strftime('%H:%M:%S')}] start {job.name}", file=sys.stderr, flush=True)
            running.append(job)
        time.sleep(0.2)
        for job in list(running):
            timed_out = False
            if job.proc.poll() is None:
                if time.perf_counter() - job.start < job.timeout:
                    continue
                job.proc.kill()
                job.proc.wait()
                timed_out = True
            finish(job, timed_out)
            running.remove(job)
            r = job.result
            state = "timed out" if timed_out else f"rc {r['returncode']}"
            print(f"[{time.strftime('%H:%M:%S')}] done  {job.name} ({state}, {r['seconds']} s)",
                  file=sys.stderr, flush=True)


def wait_for(pid: int, limit: float) -> bool:
    """Wait until process ``pid`` has ended (True) or ``limit`` seconds have passed (False)."""
    deadline = time.perf_counter() + limit
    print(f"[{time.strftime('%H:%M:%S')}] waiting for process {pid}", file=sys.stderr,
          flush=True)
    while time.perf_counter() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.5)
    return False


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs (an ended child not yet reaped, a zombie, has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        return True


def write_synthetic_data(path: Path, seed: int = 0) -> Path:
    """A small surnames CSV (three nationalities, own letters) for the dry run: CI has no
    third-party data."""
    letters = {"English": "bcdhklmnrstw", "Japanese": "kmnstuaio", "Russian": "vkoshnv"}
    rng = np.random.default_rng(seed)
    nats = list(letters)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["nationality", "split", "surname"])
        for split, n in (("train", 60), ("val", 15), ("test", 15)):
            for i in range(n):
                nat = nats[i % len(nats)]
                k = int(rng.integers(3, 8))
                w.writerow([nat, split, "".join(rng.choice(list(letters[nat]), size=k))
                            .capitalize()])
    return path


# ---------------------------------------------------------------------------
# the summary

def worst(row: dict) -> float:
    keys = ("max_rel_diff_output", "max_rel_diff_grad", "max_rel_diff_loss")
    return max(float(row[k]) for k in keys if row.get(k) is not None)


def row_key(row: dict) -> tuple:
    return (row["group"], row["cell"], row.get("config", ""), row["dtype"])


def compare_parity(device_rows: list | None, cpu_rows: list | None,
                   tf32_off_rows: list | None) -> dict:
    """Float32 rows whose worst difference changes on the device, against the CPU run."""
    if not device_rows or not cpu_rows:
        return {"available": False}
    tol = {"float64": 1e-9, "float32": 1e-4}
    off = {}
    for r in tf32_off_rows or []:
        off.setdefault(row_key(r), []).append(worst(r))
    cpu = {}
    for r in cpu_rows:
        cpu.setdefault(row_key(r), []).append(worst(r))
    seen: dict[tuple, int] = {}
    changed = []
    for r in device_rows:
        key = row_key(r)
        i = seen.get(key, 0)
        seen[key] = i + 1
        if r["dtype"] != "float32" or key not in cpu or i >= len(cpu[key]):
            continue
        d, c = worst(r), cpu[key][i]
        if d != c:
            changed.append({"group": r["group"], "cell": r["cell"], "config": r.get("config", ""),
                            "cpu": c, "device": d,
                            "device_tf32_off": off[key][i] if key in off and i < len(off[key])
                            else None,
                            "ratio": d / c if c > 0 else None})
    changed.sort(key=lambda x: -x["device"])
    f32 = [r for r in device_rows if r["dtype"] == "float32"]
    return {
        "available": True, "rows_device": len(device_rows), "rows_cpu": len(cpu_rows),
        "float32_rows": len(f32), "float32_changed": len(changed),
        "worst_float32_device": max((worst(r) for r in f32), default=None),
        "worst_float32_cpu": max((worst(r) for r in cpu_rows if r["dtype"] == "float32"),
                                 default=None),
        "worst_float64_device": max((worst(r) for r in device_rows if r["dtype"] == "float64"),
                                    default=None),
        "failures_device": [row_key(r) for r in device_rows if not worst(r) <= tol[r["dtype"]]],
        "failures_device_tf32_off": [row_key(r) for r in tf32_off_rows or []
                                     if not worst(r) <= tol[r["dtype"]]],
        "changed": changed,
    }


def summarize(results: dict, info: dict, args, seconds: float) -> dict:
    data = {k: v.get("data") for k, v in results.items()}
    labs = []
    for lab, cell, cond in [("classify", c, "") for c in LAB1_CELLS] + [("generate", "gru",
                                                                          "-cond")]:
        if not any(f"{lab}-{cell}{cond}-{b}" in results for b in ("numpy", "torch")):
            continue  # not run (the dry run runs one cell of lab 1)
        row = {"lab": lab, "cell": cell, "conditioned": bool(cond)}
        for backend in ("numpy", "torch"):
            m = data.get(f"{lab}-{cell}{cond}-{backend}") or {}
            keep = ("test_acc", "test_balanced_acc", "test_loss", "test_perplexity",
                    "generative_classifier_test_acc", "epochs", "best_epoch",
                    "seconds_per_epoch")
            row[backend] = {k: m[k] for k in keep if k in m} or None
            if row[backend] is not None:  # the run's settings are under "config"
                row[backend]["device"] = (m.get("config") or {}).get("device") or "cpu"
        labs.append(row)
    adding = {}
    for name, v in data.items():
        if (name == "adding" or name.startswith("adding-")) and v:
            adding.update(v)
    # a step is ok when it finished and gave its JSON (parity exits 1 when a row is over
    # tolerance: a finding, reported under "parity", not a broken step)
    steps_ok = {k: (v.get("data") is not None and not v["timed_out"]) for k, v in results.items()}
    return {
        "dry_run": args.dry_run, "device": args.device, "info": info,
        "wall_seconds": round(seconds, 1), "steps_ok": steps_ok,
        "parity": compare_parity(data.get("parity-device"),
                                 data.get("parity-cpu", data.get("parity-device")),
                                 data.get("parity-device-tf32-off")),
        "labs": labs, "adding": adding,
        "bench": (data.get("bench") or {}).get("rows"),
        "steps": results,
    }


def _f(v, fmt):
    return "" if v is None else format(v, fmt)


def markdown(s: dict) -> str:
    info = s["info"] or {}
    lines = [f"# GPU check{' (dry run on the CPU)' if s['dry_run'] else ''}", "",
             f"Device: {info.get('name', '?')} ({s['device']}); torch {info.get('torch', '?')}, "
             f"CUDA {info.get('cuda')}, cuDNN {info.get('cudnn')}; cuDNN TF32 allowed: "
             f"{info.get('cudnn_allow_tf32')}. Wall time {s['wall_seconds']} s.", "",
             "Steps: " + ", ".join(f"{k} {'ok' if ok else 'FAILED'}"
                                   for k, ok in s["steps_ok"].items()), ""]
    p = s["parity"]
    lines.append("## Parity (`python -m parity --device DEVICE` against the CPU run)")
    lines.append("")
    if p.get("available"):
        lines += [
            f"{p['rows_device']} rows on the device ({p['rows_cpu']} on the CPU); worst float64 "
            f"row {_f(p['worst_float64_device'], '.1e')}; worst float32 row "
            f"{_f(p['worst_float32_device'], '.1e')} on the device, "
            f"{_f(p['worst_float32_cpu'], '.1e')} on the CPU; {p['float32_changed']} of "
            f"{p['float32_rows']} float32 rows change; rows over tolerance: "
            f"{len(p['failures_device'])} (TF32 off: {len(p['failures_device_tf32_off'])}).", "",
            "| group | cell | config | CPU | device | device, TF32 off | device ÷ CPU |",
            "| --- | --- | --- | --- | --- | --- | --- |"]
        for c in p["changed"][:15]:
            lines.append(f"| {c['group']} | {c['cell']} | {c['config']} | {c['cpu']:.1e} "
                         f"| {c['device']:.1e} | {_f(c['device_tf32_off'], '.1e')} "
                         f"| {_f(c['ratio'], '.1f')} |")
    else:
        lines.append("not available (a parity step failed; see the JSON)")
    lines += ["", f"## Labs (seed {SEED}; NumPy backend on the CPU, torch backend on the device)",
              "", "| lab | cell | backend (device) | accuracy % | balanced accuracy % | test loss "
              "| generative classifier % | epochs | s/epoch |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in s["labs"]:
        name = "lab 2 conditioned" if row["lab"] == "generate" else "lab 1"
        for backend in ("numpy", "torch"):
            m = row[backend]
            if m is None:
                lines.append(f"| {name} | {row['cell']} | {backend} | failed | | | | | |")
                continue
            lines.append(
                f"| {name} | {row['cell']} | {backend} ({m.get('device')}) "
                f"| {_f(m.get('test_acc'), '.2f')} "
                f"| {_f(m.get('test_balanced_acc'), '.2f')} | {_f(m.get('test_loss'), '.4f')} "
                f"| {_f(m.get('generative_classifier_test_acc'), '.2f')} | {m.get('epochs')} "
                f"| {_f(m.get('seconds_per_epoch'), '.2f')} |")
    lines += ["", "## Adding problem (torch backend on the device)", "",
              "| cell@T | final MSE | first below threshold (updates) | seconds |",
              "| --- | --- | --- | --- |"]
    for k, v in s["adding"].items():
        mse = "diverged" if v.get("diverged") else _f(v.get("final_mse"), ".4f")
        lines.append(f"| {k} | {mse} | {v.get('first_below') or 'never'} | {v.get('seconds')} |")
    lines += ["", "## Benchmark (`python -m bench.gpu`, forward + backward, median ms)", ""]
    if s["bench"]:
        sys.path.insert(0, str(ROOT))
        from bench.gpu import format_rows

        lines.append(format_rows(s["bench"]))
    else:
        lines.append("not available (the benchmark step failed; see the JSON)")
    return "\n".join(lines) + "\n"


GROUPS = ("parity", "labs", "adding", "bench")


def merge(paths: list[str], out: Path) -> dict:
    """One summary from several runs' gpu_check.json (a step of a later file replaces the
    same step of an earlier one): e.g. a first run, then ``--only parity`` after a fix."""
    results: dict = {}
    info, seconds, kinds = None, 0.0, set()
    for path in paths:
        try:
            s = json.loads(Path(path).read_text())
            results.update(s["steps"])
            info = s.get("info") or info
            seconds += float(s["wall_seconds"])
            kinds.add((bool(s["dry_run"]), s["device"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SystemExit(f"gpu_check: --merge: {path} is not a gpu_check.json ({exc})") \
                from None
    if len(kinds) != 1:
        raise SystemExit("gpu_check: --merge: the files come from different devices or modes: "
                         + ", ".join(f"{d} (dry run {r})" for r, d in sorted(kinds)))
    (dry, device), = kinds
    args = argparse.Namespace(dry_run=dry, device=device)
    summary = summarize(results, info, args, seconds)
    summary["merged_from"] = [str(p) for p in paths]
    return summary


def write(out: Path, summary: dict) -> int:
    (out / "gpu_check.json").write_text(json.dumps(summary, indent=1) + "\n")
    (out / "gpu_check.md").write_text(markdown(summary))
    print(markdown(summary))
    return 0 if all(summary["steps_ok"].values()) else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="scripts/gpu_check.sh", description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--dry-run", action="store_true",
                    help="the same steps on the CPU with a tiny budget (CI)")
    ap.add_argument("--device", default=None, help="default: cuda (cpu with --dry-run)")
    ap.add_argument("--jobs", type=int, default=None,
                    help="processes at once (default 16; 2 with --dry-run)")
    ap.add_argument("--data", default=None, help="the surnames CSV (dry run: a synthetic one)")
    ap.add_argument("--only", nargs="+", choices=GROUPS, default=None, metavar="GROUP",
                    help=f"run only these groups of steps ({', '.join(GROUPS)})")
    ap.add_argument("--merge", nargs="+", default=None, metavar="JSON",
                    help="run nothing: summarize these runs' gpu_check.json into OUTDIR (a "
                         "later file's step replaces an earlier one's)")
    ap.add_argument("--wait-pid", type=int, default=None, metavar="PID",
                    help="before the benchmark, wait until process PID has ended (another "
                         "job sharing the machine; at most --wait-limit seconds)")
    ap.add_argument("--wait-limit", type=float, default=300.0, metavar="S")
    args = ap.parse_args(argv)
    out = Path(args.outdir).resolve()
    if args.merge:
        out.mkdir(parents=True, exist_ok=True)
        return write(out, merge(args.merge, out))
    args.device = args.device or ("cpu" if args.dry_run else "cuda")
    raw = out / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    if args.dry_run and args.data is None:
        args.data = str(write_synthetic_data(raw / "surnames.csv"))
    python = sys.executable
    start = time.perf_counter()
    jobs, bench = plan(out, args.device, args.dry_run, args.data)
    groups = set(args.only or GROUPS)
    jobs = [j for j in jobs if j.group in groups]
    benches = [bench] if "bench" in groups else []
    # the device and versions: from the benchmark, and on a GPU first of all (in case it fails)
    info_job = Job("info", ["-m", "bench.gpu", "--info", "--device", args.device, "--json"], 60)
    first = [info_job] if args.device != "cpu" or not benches else []
    run_jobs([*first, *jobs], python, raw, args.jobs or (2 if args.dry_run else 16))
    if args.wait_pid is not None:
        wait_for(args.wait_pid, args.wait_limit)
    run_jobs(benches, python, raw, 1)  # alone: its timings are not shared with anything
    results = {j.name: j.result for j in [*jobs, *benches]}
    info = next((j.result["data"]["info"] for j in [*first, *benches] if j.result.get("data")),
                None)
    return write(out, summarize(results, info, args, time.perf_counter() - start))


if __name__ == "__main__":
    sys.exit(main())
