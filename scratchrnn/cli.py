"""``python -m scratchrnn``: the labs from the command line.

    python -m scratchrnn classify train [--cell elman|lstm|gru] [--backend numpy|torch] ...
    python -m scratchrnn classify predict --model DIR SURNAME ... [--topk 3]
    python -m scratchrnn generate train [--conditioned] [--cell gru|lstm|elman] ...
    python -m scratchrnn generate sample --model DIR [--nationality NAME] [-n 10] ...
    python -m scratchrnn generate score --model DIR SURNAME ... [--nationality NAME]
    python -m scratchrnn study jacobian|gradflow|adding|gates [options] --out DIR [--json]
    python -m scratchrnn data fetch [--from URL|PATH ...] [--out DIR] [--timeout S]
    python -m scratchrnn exercises init DIR [--solutions | --hard] [--force]

A user's mistake (bad option, missing file, unknown nationality …) gives one line
on stderr and exit status 2, never a traceback.

This module is the composition root: the one module of ``scratchrnn`` that imports
``parity`` (lazily, only when a user asks for ``--backend torch``). It builds the
torch implementation and hands it in — a backend factory to the labs'
training loop, a ``train_fn`` to the adding study — so the library below never
reaches up to it.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from dataclasses import fields, replace
from functools import partial
from pathlib import Path

from . import interrupt, limits
from .config import (
    BACKENDS,
    AddingConfig,
    ClassifierConfig,
    GatesConfig,
    GeneratorConfig,
    GradflowConfig,
    JacobianConfig,
    default,
    from_namespace,
)
from .train import TrainingError, TrainingInterrupted

#: argparse ``type=`` that parses a flag and checks its documented range (scratchrnn.limits)
_ranged = limits.parser


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2 (argparse prints usage too)
        self.exit(2, f"{self.prog}: error: {message}\n")


def _help(cls, name: str, text: str = "") -> str:
    """``text (default: X)`` with X the config's default: defaults are written once."""
    return f"{text} (default: {default(cls, name)})".strip()


def _common_train(p: argparse.ArgumentParser, cls, cells: tuple[str, ...]) -> None:
    """The flags of ``classify train`` and ``generate train``; their defaults live in ``cls``."""
    p.add_argument("--cell", choices=cells, help=_help(cls, "cell"))
    p.add_argument("--backend", choices=BACKENDS, help=_help(cls, "backend"))
    p.add_argument("--device", help=_help(cls, "device", "torch backend: cpu or cuda"))
    p.add_argument("--reference", action="store_true", default=None,
                   help="run the step functions of cells.py (the readable path) instead of "
                        "the fast path")
    p.add_argument("--hidden", type=_ranged("hidden"), help=_help(cls, "hidden"))
    p.add_argument("--embedding", type=_ranged("embedding"), help=_help(cls, "embedding"))
    p.add_argument("--layers", type=_ranged("layers"), help=_help(cls, "layers"))
    p.add_argument("--epochs", type=_ranged("epochs"), help=_help(cls, "epochs"))
    p.add_argument("--batch-size", type=_ranged("batch_size"), help=_help(cls, "batch_size"))
    p.add_argument("--lr", type=_ranged("lr"), help=_help(cls, "lr"))
    p.add_argument("--dropout", type=_ranged("dropout"), help=_help(cls, "dropout"))
    p.add_argument("--clip", type=_ranged("clip"), help=_help(cls, "clip", "max gradient norm"))
    p.add_argument("--early-stopping", type=_ranged("early_stopping"),
                   help=_help(cls, "early_stopping"))
    p.add_argument("--seed", type=_ranged("seed"), help=_help(cls, "seed"))
    p.add_argument("--data", help="surnames_with_splits.csv or its directory")
    p.add_argument("--out", help=_help(cls, "out", "directory for model.npz, last.npz, "
                                                   "metrics.json"))
    p.add_argument("--resume", action="store_true", default=None,
                   help="continue from OUT/last.npz")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the run in OUT even if it is of another kind or config")
    bars = p.add_mutually_exclusive_group()
    bars.add_argument("--progress", dest="progress", action="store_const", const=True,
                      default=None, help="progress bars even when stderr is not a terminal "
                                         "(default: only on a terminal)")
    bars.add_argument("--no-progress", dest="progress", action="store_const", const=False,
                      help="no progress bar")
    p.add_argument("--json", action="store_true", help="last line: the metrics as JSON")


def _study_common(p: argparse.ArgumentParser, cls) -> None:
    """--out, --json, and --seed, --data, --reference where the study's config has them."""
    names = {f.name for f in fields(cls)}
    p.add_argument("--out", required=True, help="directory for CSV and PNG files")
    if "seed" in names:
        p.add_argument("--seed", type=_ranged("seed"), help=_help(cls, "seed"))
    if "data" in names:
        p.add_argument("--data", help="surnames_with_splits.csv or its directory")
    if "reference" in names:
        p.add_argument("--reference", action="store_true", default=None,
                       help="build the recurrent modules on the reference path (cells.py's "
                            "step functions)")
    p.add_argument("--json", action="store_true", help="last line: the summary as one JSON object")


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; every default shown in a help text comes from a config."""
    # the installed console script is `scratchrnn`; otherwise `python -m scratchrnn`
    prog = "scratchrnn" if Path(sys.argv[0]).name == "scratchrnn" else "python -m scratchrnn"
    ap = _Parser(prog=prog, description=__doc__.splitlines()[0])
    labs = ap.add_subparsers(dest="lab", required=True, parser_class=_Parser)

    clf = labs.add_parser("classify", help="lab 1: surname classification")
    clf_cmds = clf.add_subparsers(dest="command", required=True, parser_class=_Parser)
    t = clf_cmds.add_parser("train", help="train, keep the best model, report the test split")
    _common_train(t, ClassifierConfig, ("elman", "lstm", "gru"))
    t.add_argument("--bidirectional", action="store_true", default=None)
    t.add_argument("--no-class-weights", dest="class_weights", action="store_false",
                   default=None, help="plain cross-entropy instead of 1/count class weights")
    t.add_argument("--forget-bias", type=_ranged("forget_bias"),
                   help="LSTM: add this to the forget gate's bias at initialisation "
                        "(default 1 for an LSTM; 0 keeps torch's initialisation)")
    pr = clf_cmds.add_parser("predict", help="nationalities of surnames, with probabilities")
    pr.add_argument("--model", required=True, help="directory written by classify train")
    pr.add_argument("surnames", nargs="+")
    pr.add_argument("--topk", type=_ranged("topk"), default=3)
    pr.add_argument("--json", action="store_true")

    gen = labs.add_parser("generate", help="lab 2: surname generation")
    gen_cmds = gen.add_subparsers(dest="command", required=True, parser_class=_Parser)
    t = gen_cmds.add_parser("train", help="train a character language model")
    _common_train(t, GeneratorConfig, ("gru", "lstm", "elman"))
    t.add_argument("--conditioned", action="store_true", default=None,
                   help="condition on the nationality (its embedding is h0)")
    s = gen_cmds.add_parser("sample", help="draw surnames from a trained model")
    s.add_argument("--model", required=True)
    s.add_argument("--nationality", default=None)
    s.add_argument("-n", type=_ranged("n"), default=10)
    s.add_argument("--temperature", type=_ranged("temperature"), default=0.7)
    s.add_argument("--top-k", type=_ranged("top_k"), default=None)
    s.add_argument("--max-length", type=_ranged("max_length"), default=None)
    s.add_argument("--seed", type=_ranged("seed"), default=None)
    s.add_argument("--json", action="store_true")
    sc = gen_cmds.add_parser("score", help="log P(surname) (and P(nationality | surname))")
    sc.add_argument("--model", required=True)
    sc.add_argument("surnames", nargs="+")
    sc.add_argument("--nationality", default=None)
    sc.add_argument("--json", action="store_true")

    st = labs.add_parser("study", help="vanishing gradients, the adding problem, gates")
    st_cmds = st.add_subparsers(dest="command", required=True, parser_class=_Parser)
    J = JacobianConfig
    j = st_cmds.add_parser("jacobian", help="‖∂h_T/∂h_t‖ against the distance T − t")
    j.add_argument("--cells", nargs="+", help="default: every cell")
    j.add_argument("--steps", type=_ranged("steps"), help=_help(J, "steps", "sequence length T"))
    j.add_argument("--hidden", type=_ranged("hidden"), help=_help(J, "hidden"))
    j.add_argument("--seeds", type=_ranged("seeds"), help=_help(J, "seeds"))
    j.add_argument("--no-radius", dest="radius", action="store_false", default=None,
                   help="skip the spectral-radius sweep")
    j.add_argument("--model", nargs="*", help="trained classifier directories")
    _study_common(j, J)
    G = GradflowConfig
    g = st_cmds.add_parser("gradflow", help="‖∂L/∂h_t‖ per step while training lab 1")
    g.add_argument("--cells", nargs="+", choices=("elman", "lstm", "gru"),
                   help=_help(G, "cells"))
    g.add_argument("--epochs", type=_ranged("epochs"), help=_help(G, "epochs"))
    g.add_argument("--hidden", type=_ranged("hidden"), help=_help(G, "hidden"))
    g.add_argument("--batch-size", type=_ranged("batch_size"), help=_help(G, "batch_size"))
    _study_common(g, G)
    A = AddingConfig
    a = st_cmds.add_parser("adding", help="the adding problem under one budget of updates")
    a.add_argument("--cells", nargs="+", help="default: every cell")
    a.add_argument("--lengths", nargs="+", type=_ranged("lengths"), help=_help(A, "lengths"))
    a.add_argument("--updates", type=_ranged("updates"),
                   help=_help(A, "updates", "the fixed budget"))
    a.add_argument("--lr", type=_ranged("lr"), help=_help(A, "lr"))
    a.add_argument("--hidden", type=_ranged("hidden"), help=_help(A, "hidden"))
    a.add_argument("--workers", type=_ranged("workers"),
                   help=_help(A, "workers", "processes in parallel"))
    a.add_argument("--backend", choices=BACKENDS,
                   help=_help(A, "backend", "torch: elman-tanh, elman-relu, irnn, lstm, gru "
                                            "only (the gating cells are NumPy)"))
    a.add_argument("--device", help=_help(A, "device", "torch backend: cpu or cuda"))
    _study_common(a, A)
    ga = st_cmds.add_parser("gates", help="gate activations of a trained LSTM/GRU model "
                                          "(always on the reference path)")
    ga.add_argument("--model", required=True, help="a classify or generate output directory")
    ga.add_argument("--surname", nargs="+", help=_help(GatesConfig, "surname"))
    ga.add_argument("--nationality", help="conditioned generators")
    _study_common(ga, GatesConfig)
    _add_data_parser(labs)
    _add_exercises_parser(labs)
    return ap


def check_device(backend: str, device: str) -> str:
    """``device`` if ``backend`` can run on it; else ValueError naming what is available.

    The NumPy backend runs on the CPU only; torch's devices are those torch reports
    (``parity._torch.available_devices``: cpu, cuda and cuda:N for each GPU, mps).
    """
    if backend == "numpy":
        if device != "cpu":
            raise ValueError(f"--device {device!r}: the numpy backend runs on the CPU only "
                             "(--device cpu); for a GPU use --backend torch")
        return device
    try:
        from parity._torch import check_device as check_torch_device
    except ImportError as exc:
        raise ValueError(f"--backend torch needs torch installed ({exc})") from exc
    return check_torch_device(device)


def backend_factory(name: str, device: str = "cpu", seed: int = 0):
    """The labs' backend factory for ``--backend NAME`` (see :mod:`scratchrnn.backend`).

    numpy: :class:`scratchrnn.backend.NumpyBackend`; torch:
    ``parity.runtime.backend.TorchBackend`` on ``device``, its torch RNG seeded.
    """
    if name == "numpy":
        from .backend import NumpyBackend

        check_device(name, device)
        return NumpyBackend
    if name != "torch":
        raise ValueError(f"backend must be numpy or torch, got {name!r}")
    check_device(name, device)
    try:
        from parity.runtime.backend import TorchBackend
    except ImportError as exc:
        raise ValueError(f"--backend torch needs torch installed ({exc})") from exc
    return partial(TorchBackend, device=device, seed=seed)


def adding_train_fn(config: AddingConfig):
    """(config with its cells filled in, ``train_fn``) for the adding study's ``--backend``.

    numpy: :func:`scratchrnn.studies.adding.train_adding`, every cell by default; torch:
    the torch runtime's trainer, the cells with a torch twin by default.
    """
    from .studies.adding import ADDING_CELLS, train_adding

    check_device(config.backend, config.device)
    if config.backend == "numpy":
        return replace(config, cells=config.cells or ADDING_CELLS), train_adding
    try:
        from parity.runtime.adding import DEFAULT_CELLS, torch_train_fn
    except ImportError as exc:
        raise ValueError(f"--backend torch needs torch installed ({exc})") from exc
    cells = config.cells or DEFAULT_CELLS
    return replace(config, cells=cells), torch_train_fn(cells, config.device)


def _add_data_parser(labs) -> None:
    """``data fetch``: download the surnames CSV and verify its sha256."""
    from .fetch import DEFAULT_OUT, DEFAULT_TIMEOUT

    d = labs.add_parser("data", help="get the surnames dataset")
    d_cmds = d.add_subparsers(dest="command", required=True, parser_class=_Parser)
    f = d_cmds.add_parser("fetch", help="download surnames_with_splits.csv, check its sha256, "
                                        "rename it into place")
    f.add_argument("--from", dest="sources", action="append", metavar="URL|PATH",
                   help="a mirror or a local copy (file or folder); repeat to try several "
                        "in order (default: the pinned sources in scratchrnn.fetch.SOURCES)")
    f.add_argument("--out", default=str(DEFAULT_OUT), help="folder for the CSV")
    f.add_argument("--timeout", type=_ranged("timeout"), default=DEFAULT_TIMEOUT,
                   help="seconds for the connection and for each read")


def _add_exercises_parser(labs) -> None:
    """``exercises init``: the lecture's exercise files (or their reference solutions)."""
    e = labs.add_parser("exercises", help="the lecture's cells to write again, graded by "
                                          "python -m parity grade")
    e_cmds = e.add_subparsers(dest="command", required=True, parser_class=_Parser)
    i = e_cmds.add_parser("init", help="write the exercise files and their README into DIR")
    i.add_argument("dir", metavar="DIR", help="the folder to write into (made if missing)")
    i.add_argument("--solutions", action="store_true",
                   help="write the reference solutions instead (into another folder)")
    i.add_argument("--hard", action="store_true",
                   help="hard mode: the same functions with the slide equations and shapes "
                        "only, no TODOs")
    i.add_argument("--force", action="store_true",
                   help="replace files that differ (each old file is kept as FILE.bak)")


def _classify(args) -> int:
    from . import classify

    if args.command == "train":
        cfg = from_namespace(ClassifierConfig, args)
        metrics = classify.train(cfg, progress=args.progress, overwrite=args.overwrite,
                                 make_backend=backend_factory(cfg.backend, cfg.device, cfg.seed))
        print(f"test loss {metrics['test_loss']:.4f}  accuracy {metrics['test_acc']:.2f}%  "
              f"balanced accuracy {metrics['test_balanced_acc']:.2f}%  "
              f"({metrics['epochs']} epochs, best {metrics['best_epoch']}, "
              f"{metrics['seconds_per_epoch']:.1f} s/epoch)")
        print("per-class recall: " + ", ".join(
            f"{k} {v:.0f}%" for k, v in metrics["per_class_recall"].items()))
        if args.json:
            print(json.dumps(metrics))
        return 0
    results = classify.predict(args.model, args.surnames, args.topk)
    for r in results:
        preds = ", ".join(f"{p['nationality']} {100 * p['probability']:.1f}%"
                          for p in r["predictions"])
        print(f"{r['surname']}: {preds}")
    if args.json:
        print(json.dumps(results))
    return 0


def _generate(args) -> int:
    from . import generate

    if args.command == "train":
        cfg = from_namespace(GeneratorConfig, args)
        m = generate.train(cfg, progress=args.progress, overwrite=args.overwrite,
                           make_backend=backend_factory(cfg.backend, cfg.device, cfg.seed))
        line = (f"test loss {m['test_loss']:.4f} nats/char  perplexity "
                f"{m['test_perplexity']:.2f}  accuracy {m['test_acc']:.2f}%  "
                f"({m['epochs']} epochs, best {m['best_epoch']}, "
                f"{m['seconds_per_epoch']:.1f} s/epoch)")
        if "generative_classifier_test_acc" in m:
            acc = m["generative_classifier_test_acc"]
            line += f"\ngenerative classifier: test accuracy {acc:.2f}%"
        print(line)
        if args.json:
            print(json.dumps(m))
        return 0
    if args.command == "sample":
        model, vec, _ = generate.load_model(args.model)
        names = generate.sample(model, vec, n=args.n, nationality=args.nationality,
                                temperature=args.temperature, top_k=args.top_k,
                                max_length=args.max_length, rng=args.seed)
        print("\n".join(names))
        if args.json:
            print(json.dumps(names))
        return 0
    results = generate.score(args.model, args.surnames, args.nationality)
    for r in results:
        line = (f"{r['surname']}: log P = {r['log_prob']:.3f} nats "
                f"({r['log_prob_per_char']:.3f} per character)")
        if "posterior" in r:
            top = sorted(r["posterior"].items(), key=lambda kv: -kv[1])[:3]
            line += "  P(nationality | surname): " + ", ".join(
                f"{k} {100 * v:.1f}%" for k, v in top)
        print(line)
    if args.json:
        print(json.dumps(results))
    return 0


def _study(args) -> int:
    from .studies import CELLS

    for cell in getattr(args, "cells", None) or []:
        if args.command in ("jacobian", "adding") and cell not in CELLS:
            raise ValueError(f"unknown cell {cell!r}; valid: {', '.join(CELLS)}")
    if args.command == "jacobian":
        from .studies import jacobian

        res = jacobian.run(from_namespace(JacobianConfig, args))
        print(jacobian.format_table(res["curves"]))
        summary = res["summary"]
    elif args.command == "gradflow":
        from .studies import gradflow

        summary = gradflow.run(from_namespace(GradflowConfig, args))
        print(gradflow.format_table(summary))
    elif args.command == "adding":
        from .studies import adding

        cfg, train_fn = adding_train_fn(from_namespace(AddingConfig, args))
        res = adding.run(cfg, train_fn=train_fn,
                         progress=lambda r: print(adding.format_result(r), file=sys.stderr))
        print(adding.format_table(res["results"]))
        summary = res["summary"]
    else:
        from .studies import gates

        summary = gates.run(from_namespace(GatesConfig, args))
        for name, table in summary.pop("tables").items():
            print(f"{name}\n{table}\n")
        print("saturation on the test split (% of gate values < 0.1 / > 0.9):")
        for gate, s in summary["saturation"].items():
            print(f"  {gate}: {s['below']:.1f}% / {s['above']:.1f}%  (mean {s['mean']:.3f})")
    if args.json:
        print(json.dumps(summary))
    return 0


def _exercises(args) -> int:
    from .exercises.template import write_exercises

    written = write_exercises(args.dir, solutions=args.solutions, force=args.force, log=print,
                              hard=args.hard)
    what = "reference solutions" if args.solutions else \
        ("exercises (hard mode)" if args.hard else "exercises")
    if not written:
        print(f"{args.dir} already holds these {what}, unchanged")
    else:
        print(f"wrote {', '.join(p.name for p in written)} into {args.dir}"
              + (" (hard mode: the slide equations only, no TODOs)" if args.hard else ""))
    if not args.solutions:
        print(f"start with {Path(args.dir) / 'ex1_elman.py'}; grade with: "
              f"python -m parity grade {args.dir}")
    return 0


def _data(args) -> int:
    from . import fetch

    try:
        fetch.fetch(args.out, args.sources or fetch.SOURCES, sha256=fetch.SURNAMES_SHA256,
                    timeout=args.timeout, log=print)
    except fetch.FetchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A warning as one line on stderr (``warning: …``), not Python's two with a path."""
    print(f"warning: {message}", file=sys.stderr if file is None else file)


def main(argv: list[str] | None = None) -> int:
    """The command line: exit status 0, 1 (divergence), 2 (a user mistake), 130 (Ctrl-C)."""
    # called in-process (tests, a notebook), the caller gets its SIGINT handler back
    with warnings.catch_warnings(), interrupt.installed():
        warnings.showwarning = _one_line_warning
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    try:
        args = build_parser().parse_args(argv)
        labs = {"classify": _classify, "generate": _generate, "study": _study,
                "data": _data, "exercises": _exercises}
        code = labs[args.lab](args)
        if interrupt.pending():  # a Ctrl-C Python swallowed (see interrupt) after the last check
            print("interrupted: the command had finished, its results are complete",
                  file=sys.stderr)
            return 130
        return code
    except (KeyboardInterrupt, TrainingInterrupted) as exc:
        interrupt.ignore_further()  # one line, even when Ctrl-C is pressed twice
        print(str(exc) or "interrupted", file=sys.stderr)
        return 130
    except TrainingError as exc:  # non-finite loss or gradient
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (ValueError, OSError) as exc:  # user mistakes (bad paths too): one line, exit 2
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
