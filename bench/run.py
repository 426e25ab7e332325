"""Benchmark: scratchrnn's BPTT against torch, a minimal NumPy BPTT and the matmul floor.

    python bench/run.py [--threads 1|2] [--rounds 40] [--json] [--sweeps] [--plot PNG]
                        [--labs] [--lab-rounds 3] [--cells elman,lstm,gru]
                        [--contenders fast,unchecked,kernels,minimal]

Everything runs in ONE process with the BLAS and torch thread counts pinned to the
same number, float32, forward + backward. The contenders (see ``bench/timing.py``)
run **interleaved round by round** (every contender once a round, in an order
shuffled each round: no contender always follows the same one, whose cache it would
inherit); each figure is a median over the rounds with its interquartile range, each
ratio is taken within a round. The clock is this thread's CPU time by default (all
the work runs in the calling thread at one thread; preemption by other processes
then does not count), ``--clock wall`` for elapsed time. The report states which
contenders compute the gradient of their input (the labs need it: the embedding's
gradient flows through it). ``--labs`` adds one training epoch of each lab on each backend, the two
backends alternating epoch by epoch. ``--contenders`` times only those at the lab shape
(fewer contenders a round: less of the others' memory traffic between two of them).

On a shared machine run it at a higher priority (``nice -n -5``). Where the
environment sets ``OPENBLAS_CORETYPE``/``OPENBLAS_L2_SIZE`` (work-arounds for old
OpenBLAS builds that slow a current NumPy), unset both in the benchmark command
only; the report prints the BLAS kernel that ran.
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
    ap.add_argument("--rounds", type=int, default=40, help="interleaved rounds per shape")
    ap.add_argument("--json", action="store_true", help="last line: one JSON object")
    ap.add_argument("--sweeps", action="store_true", help="also sweep T, H and B")
    ap.add_argument("--labs", action="store_true", help="also time one epoch of each lab")
    ap.add_argument("--lab-rounds", type=int, default=3, help="epochs per backend (--labs)")
    ap.add_argument("--plot", default=None, help="write the sweeps' curves to this PNG")
    ap.add_argument("--cells", default="elman,lstm,gru")
    ap.add_argument("--clock", default="cpu", choices=("cpu", "wall"),
                    help="cpu: this thread's CPU time (robust to preemption); wall: elapsed")
    ap.add_argument("--contenders", default=None,
                    help="comma-separated: time only these at the lab shape (default: all)")
    args = ap.parse_args()
    if args.rounds < 4:
        ap.error("--rounds must be at least 4 (quartiles)")
    _pin_threads(args.threads)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench import timing

    which = None
    if args.contenders is not None:
        which = tuple(args.contenders.split(","))
        unknown = [c for c in which if c not in timing.CONTENDERS]
        if unknown or len(which) < 2:
            ap.error(f"--contenders takes two or more of {', '.join(timing.CONTENDERS)}"
                     + (f"; unknown: {', '.join(unknown)}" if unknown else ""))
        if args.sweeps or args.plot:
            ap.error("--contenders times the lab shape only; the sweeps need their own set")

    timing.CLOCK = args.clock
    report = timing.run_all(args.threads, rounds=args.rounds, sweep=args.sweeps or bool(args.plot),
                            labs=args.labs, lab_rounds=args.lab_rounds, plot=args.plot,
                            cells=tuple(args.cells.split(",")), which=which)
    report["machine"] = {"cpu": platform.processor() or platform.machine(),
                         "python": platform.python_version(), "threads": args.threads,
                         "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE")}
    print(timing.format_report(report))
    if args.json:
        print(json.dumps(report))


if __name__ == "__main__":
    main()
