"""One training epoch of each lab on each backend, the backends interleaved epoch by epoch.

Book settings: lab 1 (classify) embedding 100, hidden 64, batch 64, dropout 0.5,
class weights; lab 2 (generate, conditioned) embedding 32, hidden 32, batch 128,
dropout 0.5. Both backends start from the same weights and see the same batches
(the same shuffling seed). After one warm-up epoch each, the two run alternately,
``rounds`` epochs each (the order swapped every round); a figure is the median epoch
with its interquartile range, the ratio is taken within a round. The clock is the
process's CPU time (all threads; one BLAS and one torch thread).
"""

from __future__ import annotations

import importlib
import statistics
import time

from scratchrnn.data import SurnameDataset

CELLS = ("elman", "lstm", "gru")


def _trainer(lab: str, cell: str, backend: str, dataset: SurnameDataset,
             reference: bool = False, package: str = "scratchrnn"):
    """A Trainer of ``package`` (``scratchrnn``, or another revision imported under
    another name: ``bench/versus.py --labs``) for one lab and cell."""
    def mod(name):
        return importlib.import_module(f"{package}.{name}")

    classify, generate, config = mod("classify"), mod("generate"), mod("config")
    ClassifierConfig, GeneratorConfig, to_dict = (
        config.ClassifierConfig, config.GeneratorConfig, config.to_dict)
    TrainConfig, Trainer = mod("train").TrainConfig, mod("train").Trainer
    if package != "scratchrnn":
        dataset = mod("data").SurnameDataset.load(None)
    vec = dataset.vectorizer
    if lab == "classify":
        hp = {"config": to_dict(ClassifierConfig(cell=cell, seed=0, reference=reference)),
              "num_embeddings": len(vec.char_vocab), "num_classes": len(vec.nationality_vocab)}
        task = classify.ClassificationTask(vec, dataset.class_weights(), hp)
        model, batch_size = classify.build_model(hp), 64
    else:
        hp = {"config": to_dict(GeneratorConfig(cell=cell, conditioned=True, seed=0,
                                                reference=reference)),
              "num_embeddings": len(vec.char_vocab),
              "num_nationalities": len(vec.nationality_vocab)}
        task = generate.GenerationTask(vec, True, hp)
        model, batch_size = generate.build_model(hp), 128
    cfg = TrainConfig(batch_size=batch_size, progress=False, seed=0)
    be = mod("cli").backend_factory(backend)(model, task, lr=1e-3, clip=None)
    return Trainer(be, dataset, task, cfg, "/tmp/scratchrnn-bench", log=lambda _: None)


def _quartiles(values) -> dict:
    q1, med, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return {"median": med, "q1": q1, "q3": q3}


#: what each comparison puts side by side: name -> (backend, reference path?, package)
CONTENDERS = {
    "backends": {"numpy": ("numpy", False, "scratchrnn"), "torch": ("torch", False, "scratchrnn")},
    "paths": {"fast": ("numpy", False, "scratchrnn"), "reference": ("numpy", True, "scratchrnn")},
    "revisions": {"new": ("numpy", False, "scratchrnn"), "old": ("numpy", False, "scratchrnn_rev")},
}


def _pair(lab: str, cell: str, dataset: SurnameDataset, compare: str) -> dict:
    """The two Trainers of ``compare`` for one lab and cell, in CONTENDERS' order."""
    return {name: _trainer(lab, cell, backend, dataset, reference, package=package)
            for name, (backend, reference, package) in CONTENDERS[compare].items()}


def lab_epochs(rounds: int = 3, labs=("classify", "generate"), cells=CELLS,
               compare: str = "backends") -> list[dict]:
    """Median epoch (CPU s) of each contender of ``compare`` and the within-round ratio
    first ÷ second: ``backends`` numpy ÷ torch, ``paths`` fast ÷ reference (NumPy),
    ``revisions`` this tree ÷ another revision (imported as ``scratchrnn_rev`` first)."""
    dataset = SurnameDataset.load(None)
    name_a, name_b = CONTENDERS[compare]
    rows = []
    for lab in labs:
        for cell in cells:
            trainers = _pair(lab, cell, dataset, compare)
            for tr in trainers.values():
                tr.train_epoch()  # warm-up
            times = {b: [] for b in trainers}
            for r in range(rounds):
                for b in ((name_a, name_b) if r % 2 == 0 else (name_b, name_a)):
                    t = time.process_time()
                    trainers[b].train_epoch()
                    times[b].append(time.process_time() - t)
            ratios = [a / b for a, b in zip(times[name_a], times[name_b], strict=True)]
            rows.append({"lab": lab, "cell": cell, "rounds": rounds,
                         f"{name_a}_s": _quartiles(times[name_a]),
                         f"{name_b}_s": _quartiles(times[name_b]),
                         "ratio": _quartiles(ratios)})
            print(f"{lab} {cell}: {name_a} {rows[-1][name_a + '_s']['median']:.2f} s  "
                  f"{name_b} {rows[-1][name_b + '_s']['median']:.2f} s  ratio "
                  f"{rows[-1]['ratio']['median']:.2f}", flush=True,
                  file=__import__("sys").stderr)
    return rows


def lab_steps(rounds: int = 200, labs=("classify", "generate"), cells=CELLS,
              compare: str = "revisions", warmup: int = 5) -> list[dict]:
    """Median CPU time of one training step (``backend.train_step``: forward, loss,
    backward, clipping, Adam) of each contender of ``compare``, and the ratio first ÷
    second within a round. Finer than :func:`lab_epochs` (a step is a few ms; the
    ratios need hundreds of rounds, not an epoch each): both contenders take the same
    batch in a round, in an order drawn at random, after ``warmup`` steps each."""
    import random

    import numpy as np

    dataset = SurnameDataset.load(None)
    name_a, name_b = CONTENDERS[compare]
    order = random.Random(0)
    rows = []
    for lab in labs:
        for cell in cells:
            trainers = _pair(lab, cell, dataset, compare)
            size = trainers[name_a].cfg.batch_size
            batches = list(dataset.batches("train", size, shuffle=True,
                                           rng=np.random.default_rng(0), drop_last=True))
            for tr in trainers.values():
                tr.backend.train()
                for batch in batches[:warmup]:
                    tr.backend.train_step(batch)
            times: dict[str, list[float]] = {name_a: [], name_b: []}
            for r in range(rounds):
                batch = batches[r % len(batches)]
                for name in order.sample(list(trainers), 2):
                    t = time.process_time()
                    trainers[name].backend.train_step(batch)
                    times[name].append(time.process_time() - t)
            ratios = [a / b for a, b in zip(times[name_a], times[name_b], strict=True)]
            rows.append({"lab": lab, "cell": cell, "rounds": rounds,
                         f"{name_a}_ms": _quartiles([1e3 * t for t in times[name_a]]),
                         f"{name_b}_ms": _quartiles([1e3 * t for t in times[name_b]]),
                         "ratio": _quartiles(ratios)})
    return rows


if __name__ == "__main__":
    import argparse
    import json

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--compare", choices=tuple(CONTENDERS), default="backends")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--labs", nargs="+", choices=("classify", "generate"),
                    default=["classify", "generate"])
    ap.add_argument("--cells", nargs="+", choices=CELLS, default=list(CELLS))
    args = ap.parse_args()
    if args.rounds < 2:
        ap.error("--rounds must be at least 2 (quartiles)")
    print(json.dumps(lab_epochs(args.rounds, args.labs, args.cells, args.compare)))
