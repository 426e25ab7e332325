"""What glibc's returning of freed memory costs: one module, forward + backward, timed
with the default-like thresholds (freed blocks go back to the kernel) and with
:func:`scratchrnn.fastpath.retain_freed_memory`'s (they stay), interleaved round by round.

    python bench/pagefaults.py [--rounds 40]

Prints, per cell, the median ms (CPU time of the thread) and minor page faults per call
under each setting. glibc only (it calls ``mallopt`` through ctypes).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import resource
import statistics
import sys
import time
from pathlib import Path

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=40)
    args = ap.parse_args()
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import numpy as np

    from bench.timing import _module

    libc = ctypes.CDLL(None)
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((19, 64, 100)).astype(np.float32)
    d = rng.standard_normal((19, 64, 64)).astype(np.float32)
    for cell in ("elman", "lstm", "gru"):
        m = _module(cell, 100, 64, False)

        def run(m=m):
            _, cache = m.forward(x)
            m.backward(d, cache)

        times = {"return": [], "keep": []}
        faults = {"return": [], "keep": []}
        for _ in range(args.rounds):
            for mode in times:
                if mode == "return":  # glibc's initial thresholds, fixed
                    libc.mallopt(M_TRIM_THRESHOLD, 128 << 10)
                    libc.mallopt(M_MMAP_THRESHOLD, 128 << 10)
                    libc.malloc_trim(0)
                else:  # what retain_freed_memory sets
                    libc.mallopt(M_MMAP_THRESHOLD, 32 << 20)
                    libc.mallopt(M_TRIM_THRESHOLD, 1 << 30)
                run()
                f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
                t = time.thread_time()
                run()
                times[mode].append(time.thread_time() - t)
                faults[mode].append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
        print(cell, "  ".join(f"{mode}: {1e3 * statistics.median(ts):.2f} ms, "
                              f"{statistics.median(faults[mode]):.0f} faults"
                              for mode, ts in times.items()))


if __name__ == "__main__":
    main()
