"""Run a lab over cells × seeds × backends and print a results table (mean ± spread).

    python scripts/results.py classify --cells elman lstm gru --seeds 1337 1 2 \
        --backends numpy torch --out runs/results
    python scripts/results.py ablation [--table] ...   # scripts/ablation.py: how far the labs go

Each run is ``python -m scratchrnn <lab> train ... --json``; its JSON line is kept
in OUT/<lab>-<backend>-<cell>-<seed>.json so the table can be rebuilt without
re-running (runs already there are not repeated).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np


def run(lab: str, backend: str, cell: str, seed: int, out: Path, extra: list[str]) -> dict:
    path = out / f"{lab}-{backend}-{cell}-{seed}{'-cond' if '--conditioned' in extra else ''}.json"
    if path.exists():
        return json.loads(path.read_text())
    cmd = [sys.executable, "-m", "scratchrnn", lab, "train", "--cell", cell, "--backend",
           backend, "--seed", str(seed), "--out", str(path.with_suffix("")), "--json",
           "--no-progress", *extra]
    print(" ".join(cmd[1:]), file=sys.stderr, flush=True)
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    metrics = json.loads(res.stdout.strip().splitlines()[-1])
    metrics["command"] = "python " + " ".join(cmd[1:])
    path.write_text(json.dumps(metrics))
    return metrics


def main() -> None:
    if sys.argv[1:2] == ["ablation"]:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from ablation import main as ablation

        ablation(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("lab", choices=("classify", "generate"))
    ap.add_argument("--cells", nargs="+", default=["elman", "lstm", "gru"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[1337, 1, 2])
    ap.add_argument("--backends", nargs="+", default=["numpy", "torch"])
    ap.add_argument("--out", default="runs/results")
    args, extra = ap.parse_known_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    keys = (["test_acc", "test_balanced_acc", "test_loss"] if args.lab == "classify"
            else ["test_loss", "test_acc", "test_perplexity"])
    print(f"| backend | cell | {' | '.join(keys)} | epochs | s/epoch |")
    print("|---" * (len(keys) + 4) + "|")
    for backend in args.backends:
        for cell in args.cells:
            rows = [run(args.lab, backend, cell, s, out, extra) for s in args.seeds]
            cols = []
            for k in keys:
                v = np.array([r[k] for r in rows])
                cols.append(f"{v.mean():.3f} ± {v.std():.3f}" if "loss" in k or "perp" in k
                            else f"{v.mean():.1f} ± {v.std():.1f}")
            ep = np.mean([r["epochs"] for r in rows])
            sec = np.mean([r["seconds_per_epoch"] for r in rows])
            print(f"| {backend} | {cell} | {' | '.join(cols)} | {ep:.0f} | {sec:.1f} |",
                  flush=True)


if __name__ == "__main__":
    main()
