"""``python -m parity check --onnx FILE | --keras MODULE:CALLABLE | --flax MODULE:CALLABLE``.

Loads the foreign layer through its adapter (:data:`parity.ecosystems.ADAPTERS`), checks it
against its torch twin (:func:`parity.ecosystems.check.check_foreign`) and prints one table:
exit 0 when every output, state and gradient is equal within the policy's tolerance, 1 with
the named convention otherwise, 2 with one stderr line for a user mistake (a missing file,
a damaged model, a missing extra, a convention torch has no counterpart for).
"""

from __future__ import annotations

import argparse
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
    return _adapter(ecosystem, "check --" + ecosystem).load(spec, **options)


def _adapter(ecosystem: str, command: str):
    from . import MissingExtra, load_adapter

    try:
        return load_adapter(ecosystem)
    except MissingExtra as exc:
        raise UserMistake(f"python -m parity {command}: {exc}") from None


def foreign_main(argv: list[str]) -> int:
    ap = _Parser(prog="python -m parity check",
                 description="check a recurrent layer of another ecosystem against torch.nn")
    which = ap.add_mutually_exclusive_group(required=True)
    which.add_argument("--onnx", metavar="FILE",
                       help="an .onnx model with an RNN/LSTM/GRU node, or one per layer")
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



def vectors_main(argv: list[str]) -> int:
    """``python -m parity vectors --out DIR --check-in onnx keras flax``: write the golden
    vectors, then load each into every runtime named (its ``from_torch_state_dict``) and print
    one table per runtime: exit 0 when every vector a runtime can hold matches, 1 otherwise."""
    from ..kit.cli import vectors_parser, write_vectors_for
    from . import ADAPTERS
    from .check import load_vectors_into

    ap = vectors_parser()
    ap.add_argument("--check-in", nargs="+", choices=list(ADAPTERS), required=True,
                    metavar="RUNTIME", help=f"check the vectors in: {', '.join(ADAPTERS)}")
    args = ap.parse_args(argv)
    for ecosystem in args.check_in:  # every extra present before anything is written
        _adapter(ecosystem, "vectors --check-in")
    write_vectors_for(args)
    failed = []
    for ecosystem in args.check_in:
        rows = load_vectors_into(ecosystem, args.out)
        print(f"\n{ecosystem}: {sum('ok' in r for r in rows)} of {len(rows)} vectors held")
        print(f"{'vector':44s} {'runtime':8s} {'max rel diff':>12s} {'tolerance':>9s}  ok")
        for r in rows:
            if "skipped" in r:
                print(f"{r['name']:44s} skipped: {r['skipped']}")
            else:
                print(f"{r['name']:44s} {r['runtime_dtype']:8s} {r['max_rel']:12.2e} "
                      f"{r['tol']:9.0e}  {'yes' if r['ok'] else 'NO'}")
        failed += [f"{ecosystem}:{r['name']}" for r in rows if r.get("ok") is False]
    print("\nPASS: every vector each runtime holds matches torch's" if not failed else
          f"\nFAIL: {', '.join(failed)}")
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    """:func:`foreign_main`; a :class:`UserMistake` is one stderr line and exit status 2."""
    return guarded(foreign_main, argv, "python -m parity check")


def main_vectors(argv: list[str]) -> int:
    """:func:`vectors_main`, guarded as every subcommand is."""
    return guarded(vectors_main, argv, "python -m parity vectors")
