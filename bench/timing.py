"""The measurements behind ``bench/run.py`` (imported after the thread count is pinned).

Contenders are timed **interleaved round by round in one process**: each round runs
every contender once (forward + backward), in an order shuffled from round to round
(seeded), so that a slow spell of the shared machine hits all of them alike and no
contender always runs right after the same one. A call runs faster after one that left
its weights and buffers in the cache, and a rotation (A B C, B C A, …) keeps every
contender behind the same neighbour: under rotation two identical Elman modules came out
1.18× and 1.39× the kernels (which always ran right after the module) depending on which
contender each followed. A ratio is taken
within each round (contender A's time ÷ contender B's time of the same round) and
reported as the median over the rounds with its interquartile range (q1–q3).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import random
import statistics
import time
import tracemalloc

import numpy as np
import torch

from bench import minimal
from scratchrnn import fastpath
from scratchrnn.checks import library_arrays
from scratchrnn.recurrent import GRU, LSTM, RNN

CELLS = ("elman", "lstm", "gru")
GATES = {"elman": 1, "lstm": 4, "gru": 3}
NUMPY = {"elman": RNN, "lstm": LSTM, "gru": GRU}
TORCH = {"elman": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
TORCH_CELL = {"elman": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}
LAB = dict(batch=64, steps=19, input=100, hidden=64)

#: contender -> (what it is, whether it computes the gradient of its input)
CONTENDERS = {
    "fast": ("scratchrnn sequence module, fast path (scratchrnn/fastpath.py)", True),
    "unchecked": ("the same module with its finiteness checks off (checks.library_arrays)",
                  True),
    "kernels": ("the fast path's functions and the products alone, no module (no checks)",
                True),
    "reference": ("scratchrnn sequence module, reference path (cells.py step functions)", True),
    "minimal": ("minimal NumPy BPTT, ~40 lines per cell (bench/minimal.py)", True),
    "floor": ("the same matrix products alone, NumPy", True),
    "torch_fused": ("torch.nn.RNN/LSTM/GRU, input requires grad (as in the labs)", True),
    "torch_fused_nox": ("torch.nn.RNN/LSTM/GRU, input needs no grad", False),
    "torch_cells": ("loop over torch.nn.RNNCell/LSTMCell/GRUCell + autograd", True),
}
#: the ratios reported (numerator, denominator), each taken within a round
RATIOS = [("fast", "torch_fused"), ("fast", "torch_fused_nox"), ("fast", "minimal"),
          ("fast", "floor"), ("fast", "torch_cells"), ("fast", "reference"),
          ("fast", "unchecked"), ("unchecked", "kernels"),
          ("kernels", "minimal"), ("kernels", "torch_fused"), ("floor", "torch_fused"),
          ("minimal", "torch_fused")]


def blas_info() -> dict:
    """The OpenBLAS kernel NumPy runs (its core name) and its thread count, via ctypes."""
    info = {"corename": None, "config": None}
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
        for path in paths:
            lib = ctypes.CDLL(path)
            for prefix in ("scipy_openblas", "openblas"):
                for suffix in ("64_", ""):
                    fn = getattr(lib, f"{prefix}_get_corename{suffix}", None)
                    if fn is None:
                        continue
                    fn.restype = ctypes.c_char_p
                    info["corename"] = fn().decode()
                    cfg = getattr(lib, f"{prefix}_get_config{suffix}")
                    cfg.restype = ctypes.c_char_p
                    info["config"] = cfg().decode()
                    return info
    except OSError:
        pass
    return info


# -- contenders ---------------------------------------------------------------------
def _module(cell, input_size, hidden, reference: bool):
    """A scratchrnn sequence module on the reference or the fast path."""
    try:
        return NUMPY[cell](input_size, hidden, rng=0, reference=reference)
    except TypeError:  # before the `reference=` argument: the `fast` attribute
        m = NUMPY[cell](input_size, hidden, rng=0)
        m.fast = not reference
        return m


def _scratch_fn(m, x, d_out, checked: bool = True):
    """The module's forward + backward; ``checked=False`` as inside a lab model: its
    finiteness checks skipped (the model made the arrays), shapes and dtypes still
    checked."""
    context = contextlib.nullcontext if checked else library_arrays

    def run():
        with context():
            _, cache = m.forward(x)
            m.backward(d_out, cache, input_grad=True)

    return run


def _kernels_fn(cell, m, x, d_out):
    """What the module runs, without its checks and bookkeeping: the fast path's forward
    (input projections included) and backward, the gradient products."""
    p = {k[:-3]: v for k, v in m.params.items()}
    W_ih, W_hh, b_ih, b_hh = p["weight_ih"], p["weight_hh"], p["bias_ih"], p["bias_hh"]
    T, B, In = x.shape
    N = T * B
    h0 = np.zeros((B, d_out.shape[2]), x.dtype)
    state = (h0, h0) if cell == "lstm" else (h0,)
    forward, backward, extra = m.fast_path()

    ones = np.ones(N, x.dtype)

    def run():
        *_, cache = forward(x, *state, W_ih, W_hh, b_ih, b_hh, *extra, None, False)
        dGX, dGH, H_prev, *_ = backward(d_out, h0, h0, cache, W_hh)
        dGX2, dGH2 = dGX.reshape(N, -1), dGH.reshape(N, -1)
        _ = (dGX2.T @ x.reshape(N, In), dGH2.T @ H_prev.reshape(N, -1), ones @ dGX2,
             ones @ dGH2 if dGH is not dGX else None, (dGX2 @ W_ih).reshape(x.shape))

    return run


def _minimal_fn(cell, m, x, d_out):
    p = m.params
    W = [p[k + "_l0"] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    h0 = np.zeros((x.shape[1], d_out.shape[2]), x.dtype)
    fn = minimal.CELLS[cell]

    def run():
        return fn(x, h0, *W, d_out)

    return run


def _torch_fused_fn(cell, x, d_out, input_grad):
    torch.manual_seed(0)
    net = TORCH[cell](x.shape[2], d_out.shape[2])
    xt, dt = torch.from_numpy(x).requires_grad_(input_grad), torch.from_numpy(d_out)

    def run():
        net.zero_grad(set_to_none=True)
        xt.grad = None
        out, _ = net(xt)
        out.backward(dt)

    return run


def _torch_cells_fn(cell, x, d_out):
    """The slide's loop: h_t = cell(x_t, h_{t-1}), autograd through the loop."""
    torch.manual_seed(0)
    net = TORCH_CELL[cell](x.shape[2], d_out.shape[2])
    xt, dt = torch.from_numpy(x).requires_grad_(True), torch.from_numpy(d_out)
    T, B, H = d_out.shape

    def run():
        net.zero_grad(set_to_none=True)
        xt.grad = None
        h = torch.zeros(B, H)
        state = (h, torch.zeros(B, H)) if cell == "lstm" else h
        outs = []
        for t in range(T):
            state = net(xt[t], state)
            outs.append(state[0] if cell == "lstm" else state)
        torch.stack(outs).backward(dt)

    return run


def _floor_fn(cell, x, d_out):
    """The matrix products of forward + backward alone (input gradient included)."""
    T, B, I = x.shape
    H = d_out.shape[2]
    G = GATES[cell] * H
    rng = np.random.default_rng(0)
    W_ih = rng.standard_normal((G, I)).astype(x.dtype)
    W_hh = rng.standard_normal((G, H)).astype(x.dtype)
    X = x.reshape(T * B, I)
    h = np.zeros((B, H), x.dtype)
    gh = np.empty((B, G), x.dtype)
    dh = np.empty((B, H), x.dtype)
    dGX = rng.standard_normal((T * B, G)).astype(x.dtype)
    Hs = rng.standard_normal((T * B, H)).astype(x.dtype)
    W_hh_T = W_hh.T

    def run():
        X @ W_ih.T  # input projections, all steps
        for _ in range(T):
            np.matmul(h, W_hh_T, out=gh)  # recurrent product
        for t in range(T):
            np.matmul(dGX[t * B:(t + 1) * B], W_hh, out=dh)  # dh_{t-1}
        dGX.T @ X  # dW_ih
        dGX.T @ Hs  # dW_hh
        dGX @ W_ih  # d input

    return run


def contenders(cell: str, x: np.ndarray, d_out: np.ndarray, which=None) -> dict:
    I, H = x.shape[2], d_out.shape[2]
    fast, ref = _module(cell, I, H, False), _module(cell, I, H, True)
    fns = {
        "fast": _scratch_fn(fast, x, d_out),
        "unchecked": _scratch_fn(fast, x, d_out, checked=False),
        "kernels": _kernels_fn(cell, fast, x, d_out),
        "reference": _scratch_fn(ref, x, d_out),
        "minimal": _minimal_fn(cell, fast, x, d_out),
        "floor": _floor_fn(cell, x, d_out),
        "torch_fused": _torch_fused_fn(cell, x, d_out, True),
        "torch_fused_nox": _torch_fused_fn(cell, x, d_out, False),
        "torch_cells": _torch_cells_fn(cell, x, d_out),
    }
    check_minimal(cell, fast, x, d_out)
    return {k: v for k, v in fns.items() if which is None or k in which}


def check_minimal(cell, m, x, d_out) -> None:
    """The baseline does the library's work: same input and parameter gradients."""
    _, cache = m.forward(x)
    d_x, _, grads = m.backward(d_out, cache)
    d_x_min, grads_min = _minimal_fn(cell, m, x, d_out)()
    for name, g in [("input", d_x), *((k, grads[k + "_l0"]) for k in grads_min)]:
        ref = d_x_min if name == "input" else grads_min[name]
        err = np.max(np.abs(g - ref)) / max(1.0, np.max(np.abs(ref)))
        if not err < 1e-3:
            raise AssertionError(f"bench/minimal.py {cell}: {name} differs ({err:.2e})")


# -- interleaved timing ---------------------------------------------------------------
def quartiles(values) -> dict:
    q1, med, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return {"median": med, "q1": q1, "q3": q3}


#: "cpu": CPU time of this thread (one BLAS and one torch thread run in it), which a
#: shared machine's preemption does not inflate; "wall": elapsed time
CLOCKS = {"cpu": time.thread_time, "wall": time.perf_counter}
CLOCK = "cpu"


def interleave(fns: dict, rounds: int, warmup: int = 3) -> dict:
    """Time each contender once per round, in an order shuffled every round (seeded).

    Returns {name: [seconds per round]}, measured with ``CLOCKS[CLOCK]``.
    """
    clock = CLOCKS[CLOCK]
    names = list(fns)
    order = random.Random(0)
    for _ in range(warmup):
        for n in names:
            fns[n]()
    times = {n: [] for n in names}
    gc.collect()
    gc.disable()
    try:
        for _ in range(rounds):
            for n in order.sample(names, len(names)):
                t = clock()
                fns[n]()
                times[n].append(clock() - t)
    finally:
        gc.enable()
    return times


def summarise(times: dict, ratios=RATIOS) -> dict:
    ms = {n: {k: 1e3 * v for k, v in quartiles(ts).items()} for n, ts in times.items()}
    rs = {}
    for a, b in ratios:
        if a in times and b in times:
            rs[f"{a}/{b}"] = quartiles([x / y for x, y in zip(times[a], times[b], strict=True)])
    return {"ms": ms, "ratios": rs}


def time_shape(cell: str, batch: int, steps: int, input: int, hidden: int, rounds: int,
               which=None, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((steps, batch, input)).astype(np.float32)
    d_out = rng.standard_normal((steps, batch, hidden)).astype(np.float32)
    times = interleave(contenders(cell, x, d_out, which), rounds)
    return {"cell": cell, "batch": batch, "steps": steps, "input": input, "hidden": hidden,
            "rounds": rounds, **summarise(times)}


def _block_calls(shape, batch: int, hidden: int, reps: int) -> dict:
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape).astype(np.float32)
    b, out = a.copy(), np.empty_like(a)
    h = rng.standard_normal((batch, hidden)).astype(np.float32)
    W = rng.standard_normal((hidden, shape[1])).astype(np.float32)
    W_T = np.ascontiguousarray(W.T).T  # the same values, as the transposed view W_hh.T
    calls = {"multiply": lambda: np.multiply(a, b, out=out),
             "exp": lambda: np.exp(a, out=out),
             "tanh": lambda: np.tanh(a, out=out),
             "reciprocal": lambda: np.reciprocal(a, out=out),
             "matmul h W": lambda: np.matmul(h, W, out=out),
             "matmul h W (transposed view)": lambda: np.matmul(h, W_T, out=out),
             "dot h W": lambda: np.dot(h, W, out=out)}

    def repeated(f):
        def run():
            for _ in range(reps):
                f()
        return run

    return {k: repeated(f) for k, f in calls.items()}


def ufunc_costs(rounds: int, batch: int = 64, hidden: int = 64) -> dict:
    """µs per call (median, interleaved) of the calls a step is made of, float32,
    on one (B, H) block and on the four gate blocks (B, 4H) of the LSTM."""
    reps, rows = 20, {}
    for name, shape in (("BH", (batch, hidden)), ("4BH", (batch, 4 * hidden))):
        times = interleave(_block_calls(shape, batch, hidden, reps), rounds)
        rows[name] = {k: {q: 1e6 * v / reps for q, v in quartiles(ts).items()}
                      for k, ts in times.items()}
    return rows


#: arrays of T·B·H floats the fast path keeps for the backward, per cell:
#: Elman: states h_t + output;  LSTM: h_t, C_t, 4 gates, tanh(C_t) + output;
#: GRU: h_t, r_t, z_t, n_t, W_hn h_{t-1} + b_hn + output
SAVED_PER_STEP = {"elman": 2, "lstm": 8, "gru": 6}


def memory_row(cell: str, batch: int, steps: int, input: int, hidden: int) -> dict:
    """Bytes a forward keeps alive for BPTT (and its peak) vs the count predicted."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((steps, batch, input)).astype(np.float32)
    m = _module(cell, input, hidden, False)
    m.forward(x)  # warm-up
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    result = m.forward(x)
    kept, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result
    predicted = 4 * steps * batch * hidden * SAVED_PER_STEP[cell]
    return {"cell": cell, "batch": batch, "steps": steps, "hidden": hidden,
            "kept_bytes": kept - before, "peak_bytes": peak - before,
            "predicted_bytes": predicted, "ratio": (kept - before) / predicted}


def sweeps():
    lab = LAB
    yield "steps", [{**lab, "steps": T} for T in (10, 50, 100, 200)]
    yield "hidden", [{**lab, "hidden": H} for H in (32, 128, 256, 512)]
    yield "batch", [{**lab, "batch": B} for B in (1, 8, 256)]


SWEEP_CONTENDERS = ("fast", "minimal", "floor", "torch_fused", "torch_cells")


def run_all(threads: int, rounds: int = 40, sweep: bool = False, labs: bool = False,
            lab_rounds: int = 3, plot: str | None = None, cells=CELLS, which=None) -> dict:
    torch.set_num_threads(threads)
    # what the first fast forward would do anyway; done first so that every contender
    # (torch included) runs under the same allocator policy
    retained = fastpath.retain_freed_memory()
    rows = []
    for cell in cells:
        rows.append({"sweep": "lab", **time_shape(cell, **LAB, rounds=rounds, which=which)})
        print(_row_line(rows[-1]), file=__import__("sys").stderr, flush=True)
    if sweep:
        for name, shapes in sweeps():
            for shape in shapes:
                for cell in cells:
                    rows.append({"sweep": name, **time_shape(
                        cell, **shape, rounds=max(5, rounds // 4), which=SWEEP_CONTENDERS)})
                    print(_row_line(rows[-1]), file=__import__("sys").stderr, flush=True)
    report = {"threads": threads, "torch": torch.__version__, "numpy": np.__version__,
              "blas": blas_info(), "rounds": rounds, "clock": CLOCK,
              "retain_freed_memory": retained,
              "contenders": {k: {"what": w, "input_grad": g} for k, (w, g) in CONTENDERS.items()
                             if which is None or k in which},
              "rows": rows, "memory": [memory_row(c, **LAB) for c in cells],
              "ufuncs": ufunc_costs(rounds)}
    if labs:
        from bench import epochs

        report["labs"] = epochs.lab_epochs(lab_rounds)
    if plot:
        plot_sweeps(rows, plot)
    return report


# -- report ---------------------------------------------------------------------------
def _q(d: dict, fmt: str = "{:.2f}") -> str:
    return f"{fmt.format(d['median'])} ({fmt.format(d['q1'])}–{fmt.format(d['q3'])})"


def _row_line(r: dict) -> str:
    ms = "  ".join(f"{k} {v['median']:.2f}" for k, v in r["ms"].items())
    rs = "  ".join(f"{k} {_q(v)}" for k, v in r["ratios"].items())
    return (f"{r['sweep']:<6} {r['cell']:<5} B={r['batch']} T={r['steps']} I={r['input']} "
            f"H={r['hidden']}  ms: {ms}\n       ratios: {rs}")


def format_report(report: dict) -> str:
    b = report["blas"]
    lines = [f"threads={report['threads']}  torch {report['torch']}  numpy {report['numpy']}  "
             f"BLAS kernel {b['corename']}  rounds {report['rounds']}  clock {report['clock']}  "
             f"freed memory kept (glibc) {report['retain_freed_memory']}", ""]
    lines += ["| contender | what | input gradient |", "|---|---|---|"]
    for k, v in report["contenders"].items():
        lines.append(f"| {k} | {v['what']} | {'yes' if v['input_grad'] else 'no'} |")
    lab = [r for r in report["rows"] if r["sweep"] == "lab"]
    lines += ["", "Lab shape, ms: median (q1–q3) over the rounds", "",
              "| cell | " + " | ".join(lab[0]["ms"]) + " |",
              "|---|" + "---|" * len(lab[0]["ms"])]
    for r in lab:
        lines.append(f"| {r['cell']} | " + " | ".join(_q(v) for v in r["ms"].values()) + " |")
    lines += ["", "Lab shape, ratios within a round: median (q1–q3)", "",
              "| cell | " + " | ".join(lab[0]["ratios"]) + " |",
              "|---|" + "---|" * len(lab[0]["ratios"])]
    for r in lab:
        lines.append(f"| {r['cell']} | " + " | ".join(_q(v) for v in r["ratios"].values())
                     + " |")
    other = [r for r in report["rows"] if r["sweep"] != "lab"]
    if other:
        lines += ["", "| sweep | cell | B | T | H | fast ms | fast/torch_fused | fast/minimal "
                  "| fast/floor |", "|---|---|---|---|---|---|---|---|---|"]
        for r in other:
            rr = r["ratios"]
            lines.append(f"| {r['sweep']} | {r['cell']} | {r['batch']} | {r['steps']} | "
                         f"{r['hidden']} | {r['ms']['fast']['median']:.2f} | "
                         f"{_q(rr['fast/torch_fused'])} | {_q(rr['fast/minimal'])} | "
                         f"{_q(rr['fast/floor'])} |")
    lines += ["", "| cell | kept for BPTT MiB | predicted MiB | kept/predicted | peak MiB |",
              "|---|---|---|---|---|"]
    for m in report["memory"]:
        lines.append(f"| {m['cell']} | {m['kept_bytes'] / 2**20:.3f} | "
                     f"{m['predicted_bytes'] / 2**20:.3f} | {m['ratio']:.2f} | "
                     f"{m['peak_bytes'] / 2**20:.3f} |")
    lines += ["", "Per call at the lab shape, µs: median (q1–q3)", "",
              "| block | " + " | ".join(report["ufuncs"]["BH"]) + " |",
              "|---|" + "---|" * len(report["ufuncs"]["BH"])]
    for blk, calls in report["ufuncs"].items():
        lines.append(f"| {blk} | " + " | ".join(_q(v, "{:.1f}") for v in calls.values()) + " |")
    if "labs" in report:
        lines += ["", "One training epoch, s: median (q1–q3) over interleaved rounds", "",
                  "| lab | cell | numpy s | torch s | numpy/torch |", "|---|---|---|---|---|"]
        for r in report["labs"]:
            lines.append(f"| {r['lab']} | {r['cell']} | {_q(r['numpy_s'])} | "
                         f"{_q(r['torch_s'])} | {_q(r['ratio'])} |")
    return "\n".join(lines)


def plot_sweeps(rows: list[dict], path: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (pip install 'scratchrnn[plot]')")
        return
    fig, axes = plt.subplots(3, 3, figsize=(13, 11))
    for i, key in enumerate(("steps", "hidden", "batch")):
        for j, cell in enumerate(CELLS):
            ax = axes[i, j]
            sel = sorted((r for r in rows if r["cell"] == cell
                          and all(r[k] == LAB[k] for k in LAB if k != key)),
                         key=lambda r: r[key])
            xs = [r[key] for r in sel]
            for col in SWEEP_CONTENDERS:
                ax.plot(xs, [r["ms"][col]["median"] for r in sel], marker="o", label=col)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel(key)
            ax.set_ylabel("ms (forward + backward)")
            ax.set_title(f"{cell}: sweep over {key}")
            ax.grid(True, which="both", alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
