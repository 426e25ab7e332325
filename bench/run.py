"""Benchmark: scratchrnn's BPTT against torch (cell loop and fused) and the matmul floor.

    python bench/run.py [--threads 1|2] [--json] [--quick] [--plot PNG] [--labs]

Everything runs in ONE process with the BLAS and torch thread counts pinned to the
same number. Each row times forward + backward (median of repeated runs after
warm-up) on the same float32 data, the input needing no gradient (as torch skips
it), for:

    numpy_ms        scratchrnn's sequence module (RNN / LSTM / GRU, fast path)
    torch_cells_ms  the slide's loop over torch.nn.RNNCell / LSTMCell / GRUCell + autograd
    torch_fused_ms  torch.nn.RNN / LSTM / GRU
    floor_ms        the same matrix products alone, in NumPy

at the lab shape (batch 64, 19 steps, input 100, hidden 64) and in sweeps over the
sequence length, the hidden size and the batch. ``--labs`` adds one training epoch
of each lab on each backend; the memory rows compare the peak of BPTT's saved
activations (tracemalloc) with T·B·H·(gates) predicted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path


def _pin_threads(n: int) -> None:
    """Must run before NumPy is imported: OpenBLAS reads these once."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1, choices=(1, 2))
    ap.add_argument("--json", action="store_true", help="last line: one JSON object")
    ap.add_argument("--quick", action="store_true", help="lab shape and short sweeps only")
    ap.add_argument("--labs", action="store_true", help="also time one epoch of each lab")
    ap.add_argument("--plot", default=None, help="write the scaling curves to this PNG")
    ap.add_argument("--budget", type=float, default=0.4, help="seconds per measurement")
    args = ap.parse_args()
    _pin_threads(args.threads)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench import timing

    report = timing.run_all(args.threads, quick=args.quick, labs=args.labs,
                            budget=args.budget, plot=args.plot)
    report["machine"] = {"cpu": platform.processor() or platform.machine(),
                         "python": platform.python_version(), "threads": args.threads}
    print(timing.format_report(report))
    if args.json:
        print(json.dumps(report))


if __name__ == "__main__":
    main()
