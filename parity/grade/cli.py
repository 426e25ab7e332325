"""``python -m parity grade DIR [--only NAME] [--json]``: the grade as a report.

Exit status: 0 when every function graded passes, 1 when one fails, raises, is not
written or its file is missing, 2 for a usage mistake (no such directory, no exercise
file in it, an unknown ``--only`` name: one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def main(argv: list[str]) -> int:
    from .grader import DEFAULT_EXAMPLES

    ap = _Parser(prog="python -m parity grade",
                 description="grade your exercise files (python -m scratchrnn exercises init "
                             "DIR) against torch, function by function")
    ap.add_argument("directory", metavar="DIR", help="the folder with ex1_elman.py …")
    ap.add_argument("--only", metavar="NAME",
                    help="one function (lstm_step_backward) or file (ex3_lstm)")
    ap.add_argument("--json", action="store_true", help="the report as one JSON object")
    ap.add_argument("--examples", type=int, default=DEFAULT_EXAMPLES,
                    help=f"hypothesis cases per variant after the fixed small ones "
                         f"(default {DEFAULT_EXAMPLES}; 0: the fixed cases only)")
    ap.add_argument("--seed", type=int, default=0, help="hypothesis' seed (default 0)")
    args = ap.parse_args(argv)
    if args.examples < 0:
        ap.error("--examples must be 0 or more")
    import warnings

    warnings.filterwarnings("ignore", message="LSTM with projections is not supported")
    try:
        from .._torch import import_torch

        import_torch().set_num_threads(1)  # tiny tensors: one thread is fastest
        from .grader import GradeUsageError, grade

        try:
            report = grade(args.directory, args.only, examples=args.examples, seed=args.seed)
        except GradeUsageError as exc:
            print(f"python -m parity grade: {exc}", file=sys.stderr)
            return 2
    except ImportError as exc:
        print(f"python -m parity grade: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        print(report.text())
    return 0 if report.passed else 1
