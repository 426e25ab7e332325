"""How far the labs go: one factor at a time from the book's settings, then the best combination.

    python scripts/results.py ablation [--out runs/ablation] [--seeds 1337 1 2] [--early-stopping N]
    python scripts/results.py ablation --table [--out runs/ablation]     # the README table only
    python scripts/results.py ablation --backend torch --device cuda --jobs 12 --stages extra

Every run is ``python -m scratchrnn <lab> train ... --json --no-progress`` on the NumPy
backend (or ``--backend torch --device DEV``), with its model kept under
OUT/models/NAME-SEED. Each finished run is appended as one JSON line to OUT/results.jsonl;
a run already there is not repeated, so an interrupted sweep resumes where it stopped and
a partial sweep still gives a table. ``--jobs N`` runs up to N trainings at once (the
seeds of a configuration, and every configuration of the ``extra`` stage); the default,
1, keeps a shared machine's other core free.

Stages (in this order, 3 seeds each):
  1. lab 1, the cell: elman, lstm, gru at the book's settings (E=100, H=64, 1 layer,
     one direction, class-weighted loss, dropout 0.5, Adam 1e-3, early stopping 5).
  2. lab 1, one factor at a time from the book's settings with the best cell of stage 1
     (highest mean balanced accuracy): hidden 128; no class weights; embedding 32;
     2 layers; bidirectional.
  3. lab 1, the combination of every factor level of stage 2 that raised the mean
     balanced accuracy over the base (per factor, the best such level).
  4. lab 2, conditioned generators: GRU E=32 H=32 (the book), then (lab 1 again) the
     combination of the two largest gains of stage 2 alone, then LSTM E=64 H=128; for each
     generator, lab 2's model used as a generative classifier through Bayes' rule on the
     test split (accuracy and balanced accuracy, prior uniform or the train split's).
  5. extra, when time is left: lab 1 hidden 256, embedding 200; lab 2 LSTM E=64 H=256,
     LSTM E=64 H=128 2 layers dropout 0.3.
  6. further (after 5): lab 1 hidden 256 with what helped beside it (bidirectional; then
     2 layers, embedding 32, the LSTM, dropout 0.3 and 0.1), and hidden 512 bidirectional;
     lab 2 larger LSTMs toward 1.85 nats/char (H=512; E=128 H=256 2 layers dropout 0.3;
     E=64 H=256 dropout 0.3).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

SEEDS = (1337, 1, 2)
BOOK = {"cell": "gru", "hidden": 64, "embedding": 100, "layers": 1,
        "bidirectional": False, "class_weights": True, "dropout": 0.5}
# factor -> the levels tried besides the book's (these decide the combination)
FACTORS = {
    "hidden": [128],
    "class_weights": [False],
    "embedding": [32],
    "layers": [2],
    "bidirectional": [True],
}
# tried last, when time is left (the slowest lab-1 runs, or the least promising)
EXTRA_FACTORS = {
    "hidden": [256],
    "embedding": [200],
}
# lab 2, conditioned: name -> settings (the book's first)
GENERATORS = {
    "gen-gru-E32-H32": {"cell": "gru", "embedding": 32, "hidden": 32, "layers": 1, "dropout": 0.5},
    "gen-lstm-E64-H128": {"cell": "lstm", "embedding": 64, "hidden": 128, "layers": 1,
                          "dropout": 0.5},
}
EXTRA_GENERATORS = {
    "gen-lstm-E64-H256": {"cell": "lstm", "embedding": 64, "hidden": 256, "layers": 1,
                          "dropout": 0.5},
    "gen-lstm-E64-H128-L2": {"cell": "lstm", "embedding": 64, "hidden": 128, "layers": 2,
                             "dropout": 0.3},
}

# stage "further": the next step from what stages 2-5 found (hidden 256 the largest single
# gain, bidirectional the second; the LSTM generators still improving with size)
FURTHER_CONFIGS = ({"hidden": 256, "bidirectional": True},
                   {"hidden": 256, "bidirectional": True, "layers": 2},
                   {"hidden": 512, "bidirectional": True},
                   {"hidden": 256, "bidirectional": True, "embedding": 32},
                   {"cell": "lstm", "hidden": 256, "bidirectional": True},
                   {"hidden": 256, "bidirectional": True, "dropout": 0.3},
                   {"hidden": 256, "bidirectional": True, "dropout": 0.1})
FURTHER_GENERATORS = {
    "gen-lstm-E64-H512": {"cell": "lstm", "embedding": 64, "hidden": 512, "layers": 1,
                          "dropout": 0.5},
    "gen-lstm-E128-H256-L2": {"cell": "lstm", "embedding": 128, "hidden": 256, "layers": 2,
                              "dropout": 0.3},
    "gen-lstm-E64-H256-d0.3": {"cell": "lstm", "embedding": 64, "hidden": 256, "layers": 1,
                               "dropout": 0.3},
}


def classify_args(cfg: dict) -> list[str]:
    args = ["--cell", cfg["cell"], "--hidden", str(cfg["hidden"]),
            "--embedding", str(cfg["embedding"]), "--layers", str(cfg["layers"]),
            "--dropout", str(cfg["dropout"])]
    if cfg["bidirectional"]:
        args.append("--bidirectional")
    if not cfg["class_weights"]:
        args.append("--no-class-weights")
    return args


def generate_args(cfg: dict) -> list[str]:
    return ["--conditioned", "--cell", cfg["cell"], "--hidden", str(cfg["hidden"]),
            "--embedding", str(cfg["embedding"]), "--layers", str(cfg["layers"]),
            "--dropout", str(cfg["dropout"])]


def label(cfg: dict) -> str:
    """Short name of a lab-1 configuration: what differs from the book's settings."""
    diff = [f"{k}={v}" for k, v in cfg.items() if k != "cell" and v != BOOK[k]]
    return cfg["cell"] + ("" if not diff else " " + " ".join(diff))


class Sweep:
    def __init__(self, out: Path, seeds, early_stopping: int | None, epochs: int | None,
                 data: str | None, python: str = sys.executable, backend: str = "numpy",
                 device: str | None = None, jobs: int = 1) -> None:
        self.out, self.seeds, self.data, self.python = out, list(seeds), data, python
        self.early_stopping, self.epochs = early_stopping, epochs
        self.backend_args = ["--backend", backend] + (["--device", device] if device else [])
        self.jobs = jobs
        self.path = out / "results.jsonl"
        self.done = load(self.path)
        self._lock = threading.Lock()  # results.jsonl and self.done, from the worker threads

    def run(self, stage: str, name: str, lab: str, args: list[str], cfg: dict) -> list[dict]:
        """Every seed of one configuration (up to ``jobs`` at once); its rows, seed order."""
        return self.run_many([(stage, name, lab, args, cfg)])[0]

    def run_many(self, specs: list[tuple]) -> list[list[dict]]:
        """Every seed of every (stage, name, lab, args, cfg), up to ``jobs`` at once."""
        tasks = [(spec, seed) for spec in specs for seed in self.seeds]
        with ThreadPoolExecutor(max_workers=max(1, self.jobs)) as pool:
            rows = list(pool.map(lambda t: self._one(*t[0], t[1]), tasks))
        n = len(self.seeds)
        return [rows[i * n:(i + 1) * n] for i in range(len(specs))]

    def _one(self, stage: str, name: str, lab: str, args: list[str], cfg: dict,
             seed: int) -> dict:
        key = (name, seed)
        with self._lock:
            if key in self.done:
                return self.done[key]
        model_dir = self.out / "models" / f"{name.replace(' ', '_')}-{seed}"
        cmd = ["-m", "scratchrnn", lab, "train", *args, *self.backend_args, "--seed", str(seed),
               "--out", str(model_dir), "--json", "--no-progress", "--overwrite"]
        if self.early_stopping is not None:
            cmd += ["--early-stopping", str(self.early_stopping)]
        if self.epochs is not None:
            cmd += ["--epochs", str(self.epochs)]
        if self.data is not None:
            cmd += ["--data", self.data]
        start = time.perf_counter()
        if (model_dir / "metrics.json").is_file():  # finished after its driver stopped
            row = json.loads((model_dir / "metrics.json").read_text())
            start = None
        else:  # a run cut off earlier restarts (--overwrite: its folder is this sweep's)
            print(f"[{time.strftime('%H:%M:%S')}] python " + " ".join(cmd), file=sys.stderr,
                  flush=True)
            res = subprocess.run([self.python, *cmd], capture_output=True, text=True)
            if res.returncode != 0:
                why = (res.stderr.strip().splitlines() or ["no message"])[-1]
                raise SystemExit(f"ablation: {name} seed {seed} failed (exit {res.returncode}): "
                                 f"{why} [python {' '.join(cmd)}]")
            row = json.loads(res.stdout.strip().splitlines()[-1])
        if lab == "generate":
            row.update(generative_classifier(model_dir, self.data))
        row.update(stage=stage, name=name, config=cfg, seed=seed,
                   backend=" ".join(self.backend_args[1::2]),
                   command="python " + " ".join(cmd),
                   wall_seconds=None if start is None else time.perf_counter() - start)
        row.pop("per_class_recall", None)
        row.pop("confusion_matrix", None)
        with self._lock:
            with self.path.open("a") as f:
                f.write(json.dumps(row) + "\n")
            self.done[key] = row
        return row


def load(path: Path) -> dict:
    done = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                done[(row["name"], row["seed"])] = row
    return done


def generative_classifier(model_dir: Path, data: str | None) -> dict:
    """Lab 2's conditioned model as a classifier: argmax_n log P(s | n) + log P(n) on the
    test split, with P(n) the train split's frequencies or uniform."""
    from scratchrnn.data import SurnameDataset
    from scratchrnn.generate import load_model, log_probability_by_nationality, posterior
    from scratchrnn.metrics import classification_report

    model, vec, hp = load_model(model_dir)
    test = SurnameDataset.load(data).split("test")
    loglik = log_probability_by_nationality(model, vec, list(test.surnames))
    C = loglik.shape[1]
    out = {}
    for prior_name, prior in (("train", np.asarray(hp["prior"])), ("uniform", np.full(C, 1 / C))):
        rep = classification_report(test.y_nationality, posterior(loglik, prior).argmax(1), C)
        out[f"gen_{prior_name}_prior_acc"] = rep["acc"]
        out[f"gen_{prior_name}_prior_balanced_acc"] = rep["balanced_acc"]
    return out


def mean(rows: list[dict], key: str) -> float:
    return float(np.mean([r[key] for r in rows]))


def sweep(sw: Sweep, stages: set[str]) -> None:
    base_rows = {}
    if "cell" in stages or "factors" in stages or "combo" in stages:
        for cell in ("elman", "lstm", "gru"):
            cfg = dict(BOOK, cell=cell)
            base_rows[cell] = sw.run("cell", label(cfg), "classify", classify_args(cfg), cfg)
    best_cell = max(base_rows, key=lambda c: mean(base_rows[c], "test_balanced_acc"),
                    default="gru")
    base = dict(BOOK, cell=best_cell)
    base_score = mean(base_rows[best_cell], "test_balanced_acc") if base_rows else None
    gains = {}
    if "factors" in stages or "combo" in stages:
        for factor, levels in FACTORS.items():
            for level in levels:
                cfg = dict(base, **{factor: level})
                rows = sw.run("factor", label(cfg), "classify", classify_args(cfg), cfg)
                score = mean(rows, "test_balanced_acc")
                if score > base_score and score > gains.get(factor, (None, -1.0))[1]:
                    gains[factor] = (level, score)
    if "combo" in stages and len(gains) > 1:
        cfg = dict(base, **{f: lv for f, (lv, _) in gains.items()})
        sw.run("combo", label(cfg), "classify", classify_args(cfg), cfg)
    if "generate" in stages:
        sw.run_many([("generate", name, "generate", generate_args(cfg), cfg)
                     for name, cfg in GENERATORS.items()])
    if "combo" in stages and len(gains) > 2:
        # the full combination may overfit: the two largest gains alone
        top = sorted(gains.items(), key=lambda kv: -kv[1][1])[:2]
        cfg2 = dict(base, **{f: lv for f, (lv, _) in top})
        sw.run("combo", label(cfg2), "classify", classify_args(cfg2), cfg2)
    if "extra" in stages:  # independent of each other: all at once with --jobs
        specs = []
        for factor, levels in EXTRA_FACTORS.items():
            for level in levels:
                cfg = dict(base, **{factor: level})
                specs.append(("factor", label(cfg), "classify", classify_args(cfg), cfg))
        for name, cfg in EXTRA_GENERATORS.items():
            specs.append(("generate", name, "generate", generate_args(cfg), cfg))
        sw.run_many(specs)
    if "further" in stages:
        specs = []
        for change in FURTHER_CONFIGS:
            cfg = dict(base, **change)
            specs.append(("combo", label(cfg), "classify", classify_args(cfg), cfg))
        for name, cfg in FURTHER_GENERATORS.items():
            specs.append(("generate", name, "generate", generate_args(cfg), cfg))
        sw.run_many(specs)


def _ms(rows, key, digits):
    v = np.array([r[key] for r in rows], dtype=float)
    return f"{v.mean():.{digits}f} ± {v.std(ddof=1) if len(v) > 1 else 0.0:.{digits}f}"


def _backends(rows: list[dict]) -> str:
    """Where the rows ran: "numpy", "torch cuda" … (rows from before the column: numpy)."""
    return ", ".join(sorted({r.get("backend", "numpy") for r in rows}))


def table(path: Path) -> str:
    """The markdown tables: lab 1 (means ± sample sd over the seeds run) and lab 2."""
    done = load(path)
    groups: dict[tuple, list[dict]] = {}
    for (name, _), row in done.items():
        groups.setdefault((row["stage"], name), []).append(row)
    lines = ["| stage | configuration | backend | seeds | accuracy % | balanced accuracy % "
             "| test loss | epochs | s/epoch |", "| --- " * 9 + "|"]
    order = {"cell": 0, "factor": 1, "combo": 2}
    for (stage, name), rows in sorted(((k, v) for k, v in groups.items() if k[0] in order),
                                      key=lambda kv: order[kv[0][0]]):
        lines.append(f"| {stage} | {name} | {_backends(rows)} | {len(rows)} "
                     f"| {_ms(rows, 'test_acc', 1)} "
                     f"| {_ms(rows, 'test_balanced_acc', 1)} | {_ms(rows, 'test_loss', 3)} "
                     f"| {mean(rows, 'epochs'):.0f} | {mean(rows, 'seconds_per_epoch'):.1f} |")
    gen = [(k[1], v) for k, v in groups.items() if k[0] == "generate"]
    if gen:
        lines += ["", "| conditioned generator | backend | seeds | test loss (nats/char) "
                  "| perplexity "
                  "| generative classifier acc % (train prior) | balanced acc % (train prior) "
                  "| acc % (uniform prior) | balanced acc % (uniform prior) | epochs | s/epoch |",
                  "| --- " * 11 + "|"]
        for name, rows in gen:
            lines.append(
                f"| {name} | {_backends(rows)} | {len(rows)} | {_ms(rows, 'test_loss', 3)} "
                f"| {_ms(rows, 'test_perplexity', 2)} "
                f"| {_ms(rows, 'gen_train_prior_acc', 1)} "
                f"| {_ms(rows, 'gen_train_prior_balanced_acc', 1)} "
                f"| {_ms(rows, 'gen_uniform_prior_acc', 1)} "
                f"| {_ms(rows, 'gen_uniform_prior_balanced_acc', 1)} "
                f"| {mean(rows, 'epochs'):.0f} | {mean(rows, 'seconds_per_epoch'):.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="scripts/results.py ablation",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="runs/ablation")
    ap.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    stages = ("cell", "factors", "combo", "generate", "extra", "further")
    ap.add_argument("--stages", nargs="+", default=list(stages[:-1]), choices=stages,
                    help="default: all but further")
    ap.add_argument("--early-stopping", type=int, default=None, help="default: the CLI's (5)")
    ap.add_argument("--epochs", type=int, default=None, help="default: the CLI's (100)")
    ap.add_argument("--data", default=None)
    ap.add_argument("--backend", default="numpy", choices=("numpy", "torch"))
    ap.add_argument("--device", default=None, help="torch backend: cpu, cuda, cuda:N")
    ap.add_argument("--jobs", type=int, default=1, help="trainings at once (default 1)")
    ap.add_argument("--table", action="store_true", help="print the tables, run nothing")
    args = ap.parse_args(argv)
    out = Path(args.out)
    if not args.table:
        out.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one core: the machine is shared
        if args.jobs < 1:
            ap.error("--jobs must be at least 1")
        sw = Sweep(out, args.seeds, args.early_stopping, args.epochs, args.data,
                   backend=args.backend, device=args.device, jobs=args.jobs)
        sweep(sw, set(args.stages))
    print(table(out / "results.jsonl"))


if __name__ == "__main__":
    main()
