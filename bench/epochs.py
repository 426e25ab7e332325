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

import statistics
import time

from scratchrnn import classify, generate
from scratchrnn.cli import backend_factory
from scratchrnn.config import ClassifierConfig, GeneratorConfig, to_dict
from scratchrnn.data import SurnameDataset
from scratchrnn.train import TrainConfig, Trainer

CELLS = ("elman", "lstm", "gru")


def _trainer(lab: str, cell: str, backend: str, dataset: SurnameDataset) -> Trainer:
    vec = dataset.vectorizer
    if lab == "classify":
        hp = {"config": to_dict(ClassifierConfig(cell=cell, seed=0)),
              "num_embeddings": len(vec.char_vocab), "num_classes": len(vec.nationality_vocab)}
        task = classify.ClassificationTask(vec, dataset.class_weights(), hp)
        model, batch_size = classify.build_model(hp), 64
    else:
        hp = {"config": to_dict(GeneratorConfig(cell=cell, conditioned=True, seed=0)),
              "num_embeddings": len(vec.char_vocab),
              "num_nationalities": len(vec.nationality_vocab)}
        task = generate.GenerationTask(vec, True, hp)
        model, batch_size = generate.build_model(hp), 128
    cfg = TrainConfig(batch_size=batch_size, progress=False, seed=0)
    be = backend_factory(backend)(model, task, lr=1e-3, clip=None)
    return Trainer(be, dataset, task, cfg, "/tmp/scratchrnn-bench", log=lambda _: None)


def _quartiles(values) -> dict:
    q1, med, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return {"median": med, "q1": q1, "q3": q3}


def lab_epochs(rounds: int = 3, labs=("classify", "generate"), cells=CELLS) -> list[dict]:
    dataset = SurnameDataset.load(None)
    rows = []
    for lab in labs:
        for cell in cells:
            trainers = {b: _trainer(lab, cell, b, dataset) for b in ("numpy", "torch")}
            for tr in trainers.values():
                tr.train_epoch()  # warm-up
            times = {b: [] for b in trainers}
            for r in range(rounds):
                for b in (("numpy", "torch") if r % 2 == 0 else ("torch", "numpy")):
                    t = time.process_time()
                    trainers[b].train_epoch()
                    times[b].append(time.process_time() - t)
            ratios = [a / b for a, b in zip(times["numpy"], times["torch"], strict=True)]
            rows.append({"lab": lab, "cell": cell, "rounds": rounds,
                         "numpy_s": _quartiles(times["numpy"]),
                         "torch_s": _quartiles(times["torch"]), "ratio": _quartiles(ratios)})
            print(f"{lab} {cell}: numpy {rows[-1]['numpy_s']['median']:.2f} s  torch "
                  f"{rows[-1]['torch_s']['median']:.2f} s  ratio "
                  f"{rows[-1]['ratio']['median']:.2f}", flush=True,
                  file=__import__("sys").stderr)
    return rows
