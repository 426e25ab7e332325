"""Before/after: the fast modules of a git revision against the working tree's, interleaved.

    python bench/versus.py REV [--rounds 60] [--cells elman,lstm,gru]
    python bench/versus.py REV --labs [--lab-rounds 5] [--cells ...]
    python bench/versus.py REV --steps [--rounds 200] [--cells ...]

``REV``'s ``scratchrnn/`` is extracted (``git archive``) into a temporary directory and
imported as ``scratchrnn_rev`` (the package imports itself only relatively), so both
versions run in ONE process, one thread, float32, at the lab shape, interleaved round by
round with torch's fused module, the minimal NumPy BPTT and the working tree's kernels
(``bench/timing.py``). Prints each median (ms) and the within-round ratios with their
interquartile range, after checking that both versions give the same numbers.
``--labs`` instead times one training epoch of each lab (``bench/epochs.py``) on the
NumPy backend, REV's and the working tree's alternating epoch by epoch; ``--steps`` one
training step of each lab (forward, loss, backward, Adam), the two versions taking the
same batch in each round in a random order: finer than epochs for changes of a few %.
"""

from __future__ import annotations

import argparse
import importlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAMES = {"elman": "RNN", "lstm": "LSTM", "gru": "GRU"}


def _import_revision(rev: str, into: str):
    run = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "scratchrnn"],
                         capture_output=True)
    if run.returncode:
        raise SystemExit(f"error: git archive {rev} scratchrnn failed: "
                         f"{run.stderr.decode(errors='replace').strip().splitlines()[-1]}")
    tar = run.stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as t:
        t.extractall(into, filter="data")
    os.rename(os.path.join(into, "scratchrnn"), os.path.join(into, "scratchrnn_rev"))
    sys.path.insert(0, into)
    return importlib.import_module("scratchrnn_rev.recurrent")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rev")
    ap.add_argument("--rounds", type=int, default=60)
    ap.add_argument("--cells", default="elman,lstm,gru")
    ap.add_argument("--labs", action="store_true", help="one lab epoch each instead")
    ap.add_argument("--lab-rounds", type=int, default=5, help="epochs per version (--labs)")
    ap.add_argument("--steps", action="store_true",
                    help="one lab training step each instead (--rounds steps per version)")
    args = ap.parse_args()
    if args.rounds < 4 or (args.labs and args.lab_rounds < 4):
        ap.error("--rounds and --lab-rounds must be at least 4 (quartiles)")
    cells = args.cells.split(",")
    if not set(cells) <= set(NAMES):
        ap.error(f"--cells must name some of {', '.join(NAMES)}, got {args.cells!r}")
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    sys.path.insert(0, str(ROOT))
    import numpy as np
    import torch

    from bench import timing
    from scratchrnn import fastpath
    from scratchrnn import recurrent as new

    torch.set_num_threads(1)
    fastpath.retain_freed_memory()
    with tempfile.TemporaryDirectory() as tmp:
        old = _import_revision(args.rev, tmp)
        if args.labs:
            from bench import epochs

            for row in epochs.lab_epochs(args.lab_rounds, cells=cells,
                                         compare="revisions"):
                r = row["ratio"]
                print(f"{row['lab']} {row['cell']}: new {row['new_s']['median']:.3f} s  old "
                      f"{row['old_s']['median']:.3f} s  new/old {r['median']:.3f} "
                      f"({r['q1']:.3f}–{r['q3']:.3f})")
            return
        if args.steps:
            from bench import epochs

            for row in epochs.lab_steps(args.rounds, cells=cells):
                r = row["ratio"]
                print(f"{row['lab']} {row['cell']}: new {row['new_ms']['median']:.2f} ms  old "
                      f"{row['old_ms']['median']:.2f} ms  new/old {r['median']:.3f} "
                      f"({r['q1']:.3f}–{r['q3']:.3f})", flush=True)
            return
        lab = timing.LAB
        T, B, In, H = lab["steps"], lab["batch"], lab["input"], lab["hidden"]
        rng = np.random.default_rng(0)
        x = rng.standard_normal((T, B, In)).astype(np.float32)
        d = rng.standard_normal((T, B, H)).astype(np.float32)
        ratios = [("new", "old"), ("old", "torch_fused"), ("new", "torch_fused"),
                  ("old", "minimal"), ("new", "minimal"), ("new", "kernels")]
        for cell in cells:
            m_old = getattr(old, NAMES[cell])(In, H, rng=0)
            m_new = getattr(new, NAMES[cell])(In, H, rng=0)
            (o_old, _), c_old = m_old.forward(x)
            (o_new, _), c_new = m_new.forward(x)
            g_old, g_new = m_old.backward(d, c_old)[2], m_new.backward(d, c_new)[2]
            diff = max([float(np.abs(o_old - o_new).max())] + [
                float(np.abs(g_old[k] - g_new[k]).max() / max(1.0, np.abs(g_old[k]).max()))
                for k in g_old])
            fns = {"old": timing._scratch_fn(m_old, x, d), "new": timing._scratch_fn(m_new, x, d),
                   "kernels": timing._kernels_fn(cell, m_new, x, d),
                   "torch_fused": timing._torch_fused_fn(cell, x, d, True),
                   "minimal": timing._minimal_fn(cell, m_new, x, d)}
            s = timing.summarise(timing.interleave(fns, args.rounds), ratios)
            print(f"{cell}: largest difference old vs new {diff:.1e}; ms "
                  + "  ".join(f"{k} {v['median']:.2f}" for k, v in s["ms"].items()))
            for k, v in s["ratios"].items():
                print(f"  {k:<20} {v['median']:.3f} ({v['q1']:.3f}–{v['q3']:.3f})")


if __name__ == "__main__":
    main()
