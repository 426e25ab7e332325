"""Where a module's time over its kernels goes, forward and backward apart, at the lab shape.

    python bench/overhead.py [--rounds 400] [--cells elman,lstm,gru]

Three layers of the same forward (and of the same backward), interleaved round by round
in one process, one thread, float32 (``bench/timing.py``'s ``interleave``):

    module   ``RNN/LSTM/GRU.forward`` / ``.backward`` (its finiteness checks off, as in a
             lab model): checks, zero states, the layer × direction loop, h_n and d_h0,
             renaming and accumulating the gradients
    unroll   ``unroll_forward`` / ``unroll_backward`` of ``recurrent/unroll.py`` alone
    kernels  the fast path's functions (and, backward, the gradient products) alone

Prints, per cell and pass, the medians in µs and what each layer adds (µs, and as a ratio
within the round: median (q1–q3)).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before NumPy is imported: OpenBLAS reads these once
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from bench import timing  # noqa: E402
from scratchrnn.checks import library_arrays  # noqa: E402
from scratchrnn.recurrent.unroll import unroll_backward, unroll_forward, weight_grads  # noqa: E402

T, B, I, H = 19, 64, 100, 64  # the lab shape of bench/run.py


def passes(cell: str) -> dict:
    """{"forward": {layer: fn}, "backward": {layer: fn}} on one module and one input."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((T, B, I)).astype(np.float32)
    d_out = rng.standard_normal((T, B, H)).astype(np.float32)
    m = timing._module(cell, I, H, False)
    W = m.direction_weights("_l0")
    h0 = np.zeros((B, H), np.float32)
    c0 = h0 if m.has_cell_state else None
    forward, backward, extra = m.fast_path()
    with library_arrays():
        _, cache = m.forward(x)
    dcache = cache.layers[0][0]

    def module_forward():
        with library_arrays():
            m.forward(x)

    def module_backward():
        with library_arrays():
            m.backward(d_out, cache)

    def kernels_backward():
        dGX, dGH, H_prev, *_ = backward(d_out, h0, c0, dcache.steps, W.W_hh)
        weight_grads(m, x, dGX, dGH, H_prev.reshape(T * B, -1), W, {}, True)

    state = (h0,) if c0 is None else (h0, c0)
    return {
        "forward": {
            "module": module_forward,
            "unroll": lambda: unroll_forward(m, x, W, h0, c0, False, None),
            "kernels": lambda: forward(x, *state, W.W_ih, W.W_hh, W.b_ih, W.b_hh, *extra,
                                       None, False),
        },
        "backward": {
            "module": module_backward,
            "unroll": lambda: unroll_backward(m, d_out, h0, c0, dcache, W, False, None),
            "kernels": kernels_backward,
        },
    }


def _ratio(times: dict, a: str, b: str) -> str:
    q = timing.quartiles([p / r for p, r in zip(times[a], times[b], strict=True)])
    return f"{q['median']:.3f} ({q['q1']:.3f}–{q['q3']:.3f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=400)
    ap.add_argument("--cells", default="elman,lstm,gru")
    args = ap.parse_args()
    if args.rounds < 4:
        ap.error("--rounds must be at least 4 (quartiles)")
    print("| cell | pass | kernels µs | unroll adds µs | module adds µs | unroll ÷ kernels "
          "| module ÷ unroll | module ÷ kernels |")
    print("|---|---|---|---|---|---|---|---|")
    for cell in args.cells.split(","):
        for name, fns in passes(cell).items():
            t = timing.interleave(fns, args.rounds)
            med = {k: 1e6 * timing.quartiles(v)["median"] for k, v in t.items()}

            print(f"| {cell} | {name} | {med['kernels']:.0f} "
                  f"| {med['unroll'] - med['kernels']:.1f} | {med['module'] - med['unroll']:.1f} "
                  f"| {_ratio(t, 'unroll', 'kernels')} | {_ratio(t, 'module', 'unroll')} "
                  f"| {_ratio(t, 'module', 'kernels')} |")


if __name__ == "__main__":
    main()
