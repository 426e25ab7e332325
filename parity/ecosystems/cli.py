"""``python -m parity check --onnx FILE | --keras MODULE:CALLABLE | --flax MODULE:CALLABLE``.

Loads the foreign layer through its adapter (:data:`parity.ecosystems.ADAPTERS`), checks it
against its torch twin (:func:`parity.ecosystems.check.check_foreign`) and prints one table:
exit 0 when every output, state and gradient is equal within the policy's tolerance, 1 with
the named convention otherwise, 2 with one stderr line for a user mistake (a missing file,
a damaged model, a missing extra, a convention torch has no counterpart for).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import time

from ..kit.cli import UserMistake, guarded

FLAGS = ("--onnx", "--keras", "--flax")


def wants_foreign(argv: list[str]) -> bool:
    """Whether a ``check`` command line names a foreign layer (one of :data:`FLAGS`)."""
    return any(a in FLAGS or a.startswith(tuple(f + "=" for f in FLAGS)) for a in argv)


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2
        raise UserMistake(f"{self.prog}: {message}")


def _reference(spec: str):
    """What ``--torch MODULE:CALLABLE`` returns: a torch module or a state_dict."""
    from ..kit.cli import _import

    _, _, make = _import(spec)
    try:
        return make() if callable(make) else make
    except Exception as exc:  # the user's code: one line
        first = (str(exc).splitlines() or [""])[0]
        raise UserMistake(f"{spec}() failed: {type(exc).__name__}: {first}") from exc


def load_layer(ecosystem: str, spec: str, **options):
    """The adapter's ForeignLayer for ``spec``; a missing extra is one line."""
    from . import ADAPTERS

    module = ADAPTERS[ecosystem]
    for name in ("onnx", "onnxruntime") if ecosystem == "onnx" else (
            ("keras",) if ecosystem == "keras" else ("jax", "flax")):
        if importlib.util.find_spec(name) is None:
            raise UserMistake(f"python -m parity check --{ecosystem}: {name} is not installed; "
                              f"install the extra: pip install '.[{ecosystem}]'")
    return importlib.import_module(module).load(spec, **options)


def foreign_main(argv: list[str]) -> int:
    ap = _Parser(prog="python -m parity check",
                 description="check a recurrent layer of another ecosystem against torch.nn")
    which = ap.add_mutually_exclusive_group(required=True)
    which.add_argument("--onnx", metavar="FILE", help="an .onnx model with an RNN/LSTM/GRU node")
    which.add_argument("--keras", metavar="MODULE:CALLABLE",
                       help="returns a Keras 3 SimpleRNN/LSTM/GRU layer [, input_size]")
    which.add_argument("--flax", metavar="MODULE:CALLABLE",
                       help="returns (flax.linen cell, input_size)")
    ap.add_argument("--torch", metavar="MODULE:CALLABLE", dest="reference",
                    help="with --onnx: returns the torch module (or state_dict) the model was "
                         "exported from, so weights written in the wrong layout show")
    ap.add_argument("--examples", type=int, default=4, help="random cases (default 4)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = ap.parse_args(argv)
    if args.examples < 1:
        raise UserMistake(f"python -m parity check: --examples must be at least 1, got "
                          f"{args.examples}")
    ecosystem = next(e for e in ("onnx", "keras", "flax") if getattr(args, e))
    from .check import check_foreign

    if args.reference and ecosystem != "onnx":
        raise UserMistake("python -m parity check: --torch goes with --onnx; a --keras or "
                          "--flax callable returns its torch reference itself")
    start = time.perf_counter()
    options = {"reference": _reference(args.reference)} if args.reference else {}
    layer = load_layer(ecosystem, getattr(args, ecosystem), **options)
    report = check_foreign(layer, examples=args.examples, seed=args.seed)
    seconds = time.perf_counter() - start
    if args.json:
        print(json.dumps({**report.to_dict(), "target": getattr(args, ecosystem),
                          "seconds": round(seconds, 2)}))
    else:
        print(report.text())
    return 0 if report.passed else 1



def main(argv: list[str]) -> int:
    """:func:`foreign_main`; a :class:`UserMistake` is one stderr line and exit status 2."""
    return guarded(foreign_main, argv, "python -m parity check")
