"""``python -m parity check`` and ``python -m parity vectors``.

check --onnx FILE | --keras/--flax MODULE:CALLABLE   a layer of another ecosystem
                       (parity.ecosystems: one table, the differing convention named)
check MODULE:CALLABLE  a step function (its backward found as ``--backward NAME``, or
                       ``NAME_backward``, or ``…_forward`` → ``…_backward`` in the same
                       module) or a cell class (the stateful protocol); exit 0 when equal
                       to the reference, 1 with the report otherwise, 2 for a user mistake
                       (cannot import, wrong signature, unknown layout: one stderr line).
vectors --out DIR      golden vectors for other languages (see parity.kit.vectors).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import inspect
import json
import os
import sys
import time

from .cells import CELLS


class UserMistake(Exception):
    """Something the user can fix: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse prints usage too)
        raise UserMistake(f"{self.prog}: {message}")


def _import(target: str):
    if ":" not in target:
        raise UserMistake(f"expected MODULE:CALLABLE (e.g. mycell:lstm_step), got {target!r}")
    mod_name, _, attr = target.rpartition(":")
    try:
        if mod_name.endswith(".py") or os.sep in mod_name:
            path = os.path.abspath(mod_name)
            if not os.path.exists(path):
                raise UserMistake(f"cannot import {mod_name}: no such file")
            spec = importlib.util.spec_from_file_location(
                os.path.splitext(os.path.basename(path))[0], path)
            module = importlib.util.module_from_spec(spec)
            sys.path.insert(0, os.path.dirname(path))
            spec.loader.exec_module(module)
        else:
            sys.path.insert(0, os.getcwd())
            module = importlib.import_module(mod_name)
    except UserMistake:
        raise
    except Exception as exc:
        first = (str(exc).splitlines() or [""])[0]
        raise UserMistake(f"cannot import {mod_name}: {type(exc).__name__}: {first}") from exc
    if not hasattr(module, attr):
        raise UserMistake(f"{mod_name} has no attribute {attr!r}")
    return module, attr, getattr(module, attr)


def _check_signature(fn, n: int, what: str, target: str) -> None:
    try:
        inspect.signature(fn).bind(*range(n))
    except TypeError:
        raise UserMistake(
            f"{target} cannot be called as {what}; see docs/test-your-own-rnn.md "
            f"(its signature is {inspect.signature(fn)})") from None
    except ValueError:  # builtins without a signature: let the call decide
        pass


def _find_backward(module, attr: str, name: str | None):
    candidates = [name] if name else [attr + "_backward"]
    if not name and attr.endswith("_forward"):
        candidates.insert(0, attr[: -len("_forward")] + "_backward")
    for c in candidates:
        if hasattr(module, c):
            return c, getattr(module, c)
    if name:
        raise UserMistake(f"{module.__name__} has no attribute {name!r} (--backward)")
    return None, None


def check_main(argv: list[str]) -> int:
    from .assertions import DEFAULT_EXAMPLES, find_cell_failure
    from .layouts import parse_layout
    from .stateful import find_object_failure

    ap = _Parser(prog="python -m parity check",
                 description="check your step function or cell class against torch",
                 epilog="a layer of another ecosystem: python -m parity check --onnx FILE | "
                        "--keras MODULE:CALLABLE | --flax MODULE:CALLABLE")
    ap.add_argument("target", help="MODULE:CALLABLE (module name or path/to/file.py)")
    ap.add_argument("--cell", required=True, choices=list(CELLS))
    ap.add_argument("--layout", default="torch",
                    help="torch, concat (W·[h, x] + b), per-gate, transposed (x @ W), "
                         "columns ((H, B) states); comma-separated to combine")
    ap.add_argument("--order", help="your gate order, e.g. ifog, fiog, zrn")
    ap.add_argument("--backward", help="name of the backward (default: NAME_backward)")
    ap.add_argument("--examples", type=int, help=f"hypothesis cases (default "
                    f"{DEFAULT_EXAMPLES} for a step function, 30 runs for a class)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--bias", choices=["both", "yes", "no"], default="both")
    ap.add_argument("--dtype", choices=["both", "float64", "float32"], default="both")
    ap.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = ap.parse_args(argv)
    try:
        layout = parse_layout(args.layout, args.order)
        layout.check_cell(args.cell)
    except ValueError as exc:
        raise UserMistake(f"python -m parity check: {exc}") from None
    module, attr, obj = _import(args.target)
    bias = {"both": None, "yes": True, "no": False}[args.bias]
    dtypes = None if args.dtype == "both" else (args.dtype,)
    start = time.perf_counter()
    if inspect.isclass(obj):
        _check_signature(obj, 3, "factory(input_size, hidden_size, bias)", args.target)
        missing = [m for m in ("forward", "backward", "zero_grad") if not hasattr(obj, m)]
        if missing:
            raise UserMistake(f"{args.target} lacks {', '.join(missing)} (the cell-object "
                              "protocol: docs/test-your-own-rnn.md)")
        kind, examples = "cell class", args.examples or 30
        d = find_object_failure(obj, args.cell, layout, examples=examples, seed=args.seed,
                                bias=bias, dtypes=dtypes or ("float64",))
    else:
        if not callable(obj):
            raise UserMistake(f"{args.target} is not callable")
        _check_signature(obj, 3, "forward(x, state, params)", args.target)
        bname, backward = _find_backward(module, attr, args.backward)
        if backward is not None:
            _check_signature(backward, 2, "backward(d_new_state, cache)",
                             f"{module.__name__}:{bname}")
        kind, examples = "step function", args.examples or DEFAULT_EXAMPLES
        d = find_cell_failure(obj, backward, args.cell, layout, examples=examples,
                              seed=args.seed, bias=bias, dtypes=dtypes, names=(attr, bname))
    seconds = time.perf_counter() - start
    from .references import REFERENCE_NAMES

    if args.json:
        print(json.dumps({"target": args.target, "kind": kind, "cell": args.cell,
                          "layout": layout.describe(), "examples": examples,
                          "seed": args.seed, "passed": d is None, "seconds": round(seconds, 2),
                          "reference": REFERENCE_NAMES[args.cell],
                          "diagnosis": None if d is None else d.to_dict()}))
    elif d is None:
        what = "forward and backward" if inspect.isclass(obj) or backward is not None else \
            "forward only (no backward found)"
        print(f"{args.target} ({kind}, {what}) equals {REFERENCE_NAMES[args.cell]} on "
              f"{examples} hypothesis {'runs' if inspect.isclass(obj) else 'cases'}; "
              f"layout: {layout.describe()}; {seconds:.1f} s")
    else:
        print(d.message())
    return 0 if d is None else 1


def vectors_parser() -> argparse.ArgumentParser:
    """The ``vectors`` command line (``parity.ecosystems.cli`` adds ``--check-in`` to it)."""
    ap = _Parser(prog="python -m parity vectors",
                 description="golden vectors (npz + manifest.json) for other languages")
    ap.add_argument("--out", required=True, help="directory to write")
    ap.add_argument("--cells", nargs="+", choices=["elman", "elman-relu", "lstm", "gru",
                                                    "gru-slide"])
    ap.add_argument("--seed", type=int, default=0)
    return ap


def write_vectors_for(args) -> dict:
    """Write the vectors ``args`` (of :func:`vectors_parser`) ask for and say so."""
    from .vectors import write_vectors

    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise UserMistake(f"python -m parity vectors: --out {args.out} is a file, not a folder")
    try:
        manifest = write_vectors(args.out, cells=args.cells, seed=args.seed)
    except OSError as exc:  # a folder that cannot be made or written: one line
        raise UserMistake(f"python -m parity vectors: cannot write {args.out}: "
                          f"{exc.strerror or exc}") from None
    print(f"wrote {len(manifest['configs'])} configurations to {args.out} "
          f"(manifest.json + one .npz each)")
    return manifest


def vectors_main(argv: list[str]) -> int:
    write_vectors_for(vectors_parser().parse_args(argv))
    return 0


COMMANDS = {"check": check_main, "vectors": vectors_main}


def main(command: str, argv: list[str]) -> int:
    """Run a subcommand; a :class:`UserMistake` is one stderr line and exit status 2."""
    return guarded(COMMANDS[command], argv, f"python -m parity {command}")


def guarded(run, argv: list[str], prog: str) -> int:
    """``run(argv)`` with torch on one thread; a :class:`UserMistake` or a missing import
    is one stderr line and exit status 2."""
    import warnings

    warnings.filterwarnings("ignore", message="LSTM with projections is not supported")
    from .._torch import import_torch

    try:
        import_torch().set_num_threads(1)  # tiny tensors: one thread is fastest
        return run(argv)
    except UserMistake as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except ImportError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
