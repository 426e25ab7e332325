"""Benchmark on a torch device (a GPU): torch's fused RNN/LSTM/GRU against the slide's cell loop.

    python -m bench.gpu [--device cuda] [--large B H] [--budget S] [--json] [--info]

Forward + backward of one float32 batch, the input needing no gradient, median of
repeated runs after warm-up, the device synchronised before each clock reading, at
the lab shape (batch 64, 19 steps, input 100, hidden 64) and at a large shape
(default batch 256, hidden 1024, same steps and input). ``--info`` prints only the
device, torch and cuDNN versions (and TF32 settings). Kept apart from ``bench/run.py``
(the CPU benchmark against scratchrnn), which it does not import.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

LAB = dict(batch=64, steps=19, input=100, hidden=64)
CELLS = ("elman", "lstm", "gru")


def device_info(torch, device: str) -> dict:
    cudnn = torch.backends.cudnn
    info = {"device": device, "torch": torch.__version__,
            "cudnn": cudnn.version() if cudnn.is_available() else None}
    if device.startswith("cuda"):
        info.update(name=torch.cuda.get_device_name(device),
                    capability=".".join(map(str, torch.cuda.get_device_capability(device))),
                    cuda=torch.version.cuda,
                    cudnn_allow_tf32=torch.backends.cudnn.allow_tf32,
                    matmul_allow_tf32=torch.backends.cuda.matmul.allow_tf32)
    else:
        import platform

        info.update(name=platform.processor() or platform.machine(),
                    threads=torch.get_num_threads())
    return info


def median_ms(fn, sync, budget: float) -> tuple[float, int]:
    """(median wall time of ``fn`` in ms, repeats): 3 warm-up calls, then repeats within
    ``budget`` seconds (at least 5)."""
    for _ in range(3):
        fn()
    sync()
    times = []
    start = time.perf_counter()
    while len(times) < 5 or (time.perf_counter() - start < budget and len(times) < 500):
        t = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t)
    return 1e3 * statistics.median(times), len(times)


def time_row(torch, cell: str, device: str, batch: int, steps: int, input: int, hidden: int,
             budget: float) -> dict:
    fused_cls = {"elman": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    cell_cls = {"elman": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell,
                "gru": torch.nn.GRUCell}[cell]
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(steps, batch, input, generator=gen).to(device)
    d_out = torch.randn(steps, batch, hidden, generator=gen).to(device)
    fused = fused_cls(input, hidden).to(device)
    loop = cell_cls(input, hidden).to(device)

    def run_fused():
        fused.zero_grad(set_to_none=True)
        out, _ = fused(x)
        out.backward(d_out)

    def run_loop():  # the slide's loop: h_t = cell(x_t, h_{t-1}), autograd through it
        loop.zero_grad(set_to_none=True)
        h = torch.zeros(batch, hidden, device=device)
        state = (h, torch.zeros(batch, hidden, device=device)) if cell == "lstm" else h
        outs = []
        for t in range(steps):
            state = loop(x[t], state)
            outs.append(state[0] if cell == "lstm" else state)
        torch.stack(outs).backward(d_out)

    def sync():
        if device.startswith("cuda"):
            torch.cuda.synchronize(device)

    fused_ms, n_fused = median_ms(run_fused, sync, budget)
    loop_ms, n_loop = median_ms(run_loop, sync, budget)
    return dict(cell=cell, batch=batch, steps=steps, input=input, hidden=hidden,
                torch_fused_ms=fused_ms, torch_cells_ms=loop_ms,
                fused_speedup=loop_ms / fused_ms, repeats=[n_fused, n_loop])


def run(device: str = "cuda", large: tuple[int, int] = (256, 1024), budget: float = 0.5) -> dict:
    import torch

    rows = []
    shapes = [dict(LAB), dict(LAB, batch=large[0], hidden=large[1])]
    for shape in shapes:
        for cell in CELLS:
            rows.append(time_row(torch, cell, device, budget=budget, **shape))
    return {"info": device_info(torch, device), "budget_s": budget, "rows": rows}


def format_rows(rows: list[dict]) -> str:
    lines = ["| cell | B | T | I | H | torch fused ms | torch cell loop ms | loop ÷ fused |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {r['cell']} | {r['batch']} | {r['steps']} | {r['input']} | {r['hidden']} "
                     f"| {r['torch_fused_ms']:.3f} | {r['torch_cells_ms']:.3f} "
                     f"| {r['fused_speedup']:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.gpu", description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--large", nargs=2, type=int, default=[256, 1024], metavar=("B", "H"),
                    help="batch and hidden size of the large shape")
    ap.add_argument("--budget", type=float, default=0.5, help="seconds per measurement")
    ap.add_argument("--info", action="store_true", help="device and versions only")
    ap.add_argument("--json", action="store_true", help="last line: one JSON object")
    args = ap.parse_args(argv)
    if args.info:
        import torch

        report = {"info": device_info(torch, args.device)}
        print(json.dumps(report["info"]))
    else:
        report = run(args.device, tuple(args.large), args.budget)
        print(json.dumps(report["info"]))
        print(format_rows(report["rows"]))
    if args.json:
        print(json.dumps(report))


if __name__ == "__main__":
    main()
