"""The measurements behind ``bench/run.py`` (imported after the thread count is pinned)."""

from __future__ import annotations

import statistics
import time
import tracemalloc

import numpy as np
import torch

from scratchrnn.recurrent import GRU, LSTM, RNN

GATES = {"elman": 1, "lstm": 4, "gru": 3}
NUMPY = {"elman": RNN, "lstm": LSTM, "gru": GRU}
TORCH = {"elman": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
TORCH_CELL = {"elman": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}
LAB = dict(batch=64, steps=19, input=100, hidden=64)


def median_ms(fn, budget: float) -> float:
    """Median wall time of ``fn`` in ms: 3 warm-up calls, then repeats within ``budget``."""
    for _ in range(3):
        fn()
    times = []
    start = time.perf_counter()
    while len(times) < 5 or (time.perf_counter() - start < budget and len(times) < 200):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1e3 * statistics.median(times)


def _numpy_fn(cell, x, d_out):
    m = NUMPY[cell](x.shape[2], d_out.shape[2], rng=0)

    def run():
        out, cache = m.forward(x)
        m.backward(d_out, cache, input_grad=False)

    return run, m


def _torch_fused_fn(cell, x, d_out):
    net = TORCH[cell](x.shape[2], d_out.shape[2])
    xt, dt = torch.from_numpy(x), torch.from_numpy(d_out)

    def run():
        net.zero_grad(set_to_none=True)
        out, _ = net(xt)
        out.backward(dt)

    return run


def _torch_cells_fn(cell, x, d_out):
    """The slide's loop: h_t = cell(x_t, h_{t-1}), autograd through the loop."""
    net = TORCH_CELL[cell](x.shape[2], d_out.shape[2])
    xt, dt = torch.from_numpy(x), torch.from_numpy(d_out)
    T, B, H = d_out.shape

    def run():
        net.zero_grad(set_to_none=True)
        h = torch.zeros(B, H)
        state = (h, torch.zeros(B, H)) if cell == "lstm" else h
        outs = []
        for t in range(T):
            state = net(xt[t], state)
            outs.append(state[0] if cell == "lstm" else state)
        torch.stack(outs).backward(dt)

    return run


def _floor_fn(cell, x, d_out, input_grad=False):
    """The matrix products of forward + backward alone, same shapes, in NumPy."""
    T, B, I = x.shape
    H = d_out.shape[2]
    G = GATES[cell] * H
    rng = np.random.default_rng(0)
    W_ih = rng.standard_normal((G, I)).astype(np.float32)
    W_hh = rng.standard_normal((G, H)).astype(np.float32)
    X = x.reshape(T * B, I)
    h = np.zeros((B, H), np.float32)
    gh = np.empty((B, G), np.float32)
    dh = np.empty((B, H), np.float32)
    dGX = rng.standard_normal((T * B, G)).astype(np.float32)
    Hs = rng.standard_normal((T * B, H)).astype(np.float32)

    def run():
        X @ W_ih.T  # input projections, all steps
        for _ in range(T):
            np.matmul(h, W_hh.T, out=gh)  # recurrent product
        for t in range(T):
            np.matmul(dGX[t * B:(t + 1) * B], W_hh, out=dh)  # dh_{t-1}
        dGX.T @ X  # dW_ih
        dGX.T @ Hs  # dW_hh
        if input_grad:
            dGX @ W_ih  # d input

    return run


def time_row(cell: str, batch: int, steps: int, input: int, hidden: int, budget: float,
             seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((steps, batch, input)).astype(np.float32)
    d_out = rng.standard_normal((steps, batch, hidden)).astype(np.float32)
    np_run, _ = _numpy_fn(cell, x, d_out)
    return {
        "cell": cell, "batch": batch, "steps": steps, "input": input, "hidden": hidden,
        "numpy_ms": median_ms(np_run, budget),
        "torch_cells_ms": median_ms(_torch_cells_fn(cell, x, d_out), budget),
        "torch_fused_ms": median_ms(_torch_fused_fn(cell, x, d_out), budget),
        "floor_ms": median_ms(_floor_fn(cell, x, d_out), budget),
        "floor_with_input_grad_ms": median_ms(_floor_fn(cell, x, d_out, True), budget),
    }


#: arrays of T·B·H floats the fast path keeps for the backward, per cell:
#: Elman: states h_t + output;  LSTM: h_t, C_t, 4 gates, tanh(C_t) + output;
#: GRU: h_t, r_t, z_t, n_t, W_hn h_{t-1} + b_hn + output
SAVED_PER_STEP = {"elman": 2, "lstm": 8, "gru": 6}


def memory_row(cell: str, batch: int, steps: int, input: int, hidden: int) -> dict:
    """Bytes a forward keeps alive for BPTT (and its peak) vs the count predicted."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((steps, batch, input)).astype(np.float32)
    m = NUMPY[cell](input, hidden, rng=0)
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


def sweeps(quick: bool):
    lab = LAB
    yield "lab", [lab]
    Ts = [10, 50, 100] if quick else [10, 25, 50, 100, 200, 400]
    Hs = [32, 128, 256] if quick else [32, 64, 128, 256, 512, 1024]
    Bs = [1, 64, 256] if quick else [1, 8, 64, 256, 512]
    yield "steps", [{**lab, "steps": T} for T in Ts]
    yield "hidden", [{**lab, "hidden": H} for H in Hs]
    yield "batch", [{**lab, "batch": B} for B in Bs]


def lab_epochs(budget: float) -> list[dict]:
    """Seconds for one training epoch of each lab on each backend (book settings)."""
    from scratchrnn import classify, generate
    from scratchrnn.cli import backend_factory
    from scratchrnn.config import ClassifierConfig, GeneratorConfig, to_dict
    from scratchrnn.data import SurnameDataset
    from scratchrnn.train import TrainConfig, Trainer

    rows = []
    dataset = SurnameDataset.load(None)
    vec = dataset.vectorizer
    for lab in ("classify", "generate"):
        for cell in ("elman", "lstm", "gru"):
            for backend in ("numpy", "torch"):
                if lab == "classify":
                    hp = {"config": to_dict(ClassifierConfig(cell=cell, seed=0, forget_bias=0.0)),
                          "num_embeddings": len(vec.char_vocab),
                          "num_classes": len(vec.nationality_vocab)}
                    task = classify.ClassificationTask(vec, dataset.class_weights(), hp)
                    model, bs = classify.build_model(hp), 64
                else:
                    hp = {"config": to_dict(GeneratorConfig(cell=cell, conditioned=True, seed=0)),
                          "num_embeddings": len(vec.char_vocab),
                          "num_nationalities": len(vec.nationality_vocab)}
                    task = generate.GenerationTask(vec, True, hp)
                    model, bs = generate.build_model(hp), 128
                cfg = TrainConfig(batch_size=bs, progress=False)
                be = backend_factory(backend, "cpu", 0)(model, task, lr=1e-3, clip=None)
                trainer = Trainer(be, dataset, task, cfg, "/tmp/scratchrnn-bench",
                                  log=lambda _: None)
                trainer.train_epoch()  # warm-up
                t = time.perf_counter()
                trainer.train_epoch()
                rows.append({"lab": lab, "cell": cell, "backend": backend,
                             "epoch_s": time.perf_counter() - t})
    return rows


def run_all(threads: int, quick: bool = False, labs: bool = False, budget: float = 0.4,
            plot: str | None = None) -> dict:
    torch.set_num_threads(threads)
    rows = []
    for sweep, shapes in sweeps(quick):
        for shape in shapes:
            for cell in ("elman", "lstm", "gru"):
                rows.append({"sweep": sweep, **time_row(cell, **shape, budget=budget)})
                print(_row_line(rows[-1]), file=__import__("sys").stderr, flush=True)
    memory = [memory_row(c, **LAB) for c in ("elman", "lstm", "gru")]
    report = {"threads": threads, "torch": torch.__version__, "numpy": np.__version__,
              "rows": rows, "memory": memory}
    if labs:
        report["labs"] = lab_epochs(budget)
    if plot:
        plot_sweeps(rows, plot)
    return report


def _row_line(r: dict) -> str:
    return (f"{r['sweep']:<6} {r['cell']:<5} B={r['batch']:<4} T={r['steps']:<4} "
            f"I={r['input']:<4} H={r['hidden']:<5} numpy {r['numpy_ms']:8.2f}  "
            f"torch cells {r['torch_cells_ms']:8.2f}  fused {r['torch_fused_ms']:8.2f}  "
            f"floor {r['floor_ms']:8.2f} ms  numpy/fused {r['numpy_ms'] / r['torch_fused_ms']:.2f}"
            f"  numpy/floor {r['numpy_ms'] / r['floor_ms']:.2f}")


def format_report(report: dict) -> str:
    lines = [f"threads={report['threads']}  torch {report['torch']}  numpy {report['numpy']}",
             "", "| sweep | cell | B | T | I | H | numpy ms | torch cells ms | torch fused ms "
             "| floor ms | numpy/fused | numpy/cells | numpy/floor |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in report["rows"]:
        lines.append(
            f"| {r['sweep']} | {r['cell']} | {r['batch']} | {r['steps']} | {r['input']} | "
            f"{r['hidden']} | {r['numpy_ms']:.2f} | {r['torch_cells_ms']:.2f} | "
            f"{r['torch_fused_ms']:.2f} | {r['floor_ms']:.2f} | "
            f"{r['numpy_ms'] / r['torch_fused_ms']:.2f} | "
            f"{r['numpy_ms'] / r['torch_cells_ms']:.2f} | {r['numpy_ms'] / r['floor_ms']:.2f} |")
    lines += ["", "| cell | kept for BPTT MiB | predicted MiB | kept/predicted | peak MiB |",
              "|---|---|---|---|---|"]
    for m in report["memory"]:
        lines.append(f"| {m['cell']} | {m['kept_bytes'] / 2**20:.3f} | "
                     f"{m['predicted_bytes'] / 2**20:.3f} | {m['ratio']:.2f} | "
                     f"{m['peak_bytes'] / 2**20:.3f} |")
    if "labs" in report:
        lines += ["", "| lab | cell | backend | s/epoch |", "|---|---|---|---|"]
        for r in report["labs"]:
            lines.append(f"| {r['lab']} | {r['cell']} | {r['backend']} | {r['epoch_s']:.2f} |")
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
    for i, (sweep, key) in enumerate([("steps", "steps"), ("hidden", "hidden"),
                                      ("batch", "batch")]):
        for j, cell in enumerate(("elman", "lstm", "gru")):
            ax = axes[i, j]
            sel = sorted((r for r in rows if r["sweep"] == sweep and r["cell"] == cell),
                         key=lambda r: r[key])
            xs = [r[key] for r in sel]
            for col, label in [("numpy_ms", "scratchrnn (NumPy)"),
                               ("torch_cells_ms", "torch cell loop"),
                               ("torch_fused_ms", "torch fused"), ("floor_ms", "matmul floor")]:
                ax.plot(xs, [r[col] for r in sel], marker="o", label=label)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel(key)
            ax.set_ylabel("ms (forward + backward)")
            ax.set_title(f"{cell}: sweep over {key}")
            ax.grid(True, which="both", alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
