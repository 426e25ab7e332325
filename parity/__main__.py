"""``python -m parity``: compare scratchrnn with torch.nn and print the table.

Exits 1 if any float64 row differs by more than 1e-9 (relative to max(1, |torch|)),
or any float32 row by more than 1e-4.

Subcommands (the parity kit, ``docs/test-your-own-rnn.md``)::

    python -m parity check MODULE:CALLABLE --cell lstm --layout concat [--examples N]
    python -m parity check --onnx FILE [--torch M:F] | --keras M:F | --flax M:F
    python -m parity vectors --out DIR [--cells ...] [--seed S] [--check-in onnx keras flax]
    python -m parity grade DIR [--only NAME] [--json]   (the exercises, README "Grading")
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

from .report import core_rows, extra_rows, failures, format_table, summary, to_json

SUBCOMMANDS = ("check", "vectors", "grade")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "grade":
        from .grade.cli import main as grade_main

        return grade_main(argv[1:])
    if argv and argv[0] == "check":
        from .ecosystems.cli import main as foreign_main
        from .ecosystems.cli import wants_foreign

        if wants_foreign(argv[1:]):  # --onnx FILE, --keras / --flax MODULE:CALLABLE
            return foreign_main(argv[1:])
    if argv and argv[0] == "vectors" and any(a.startswith("--check-in") for a in argv):
        from .ecosystems.cli import main_vectors

        return main_vectors(argv[1:])
    if argv and argv[0] in SUBCOMMANDS:
        from .kit.cli import main as kit_main

        return kit_main(argv[0], argv[1:])
    ap = argparse.ArgumentParser(prog="python -m parity", description=__doc__.splitlines()[0],
                                 epilog="subcommands: check (your own cell against torch), "
                                        "vectors (golden vectors), grade (the exercises); "
                                        "python -m parity check -h")
    ap.add_argument("--json", action="store_true", help="print the rows as one JSON list")
    ap.add_argument("--quick", action="store_true", help="fewer configurations")
    ap.add_argument("--device", default="cpu", help="torch device for the twins (cpu, cuda)")
    ap.add_argument("--core-only", action="store_true", help="cells and sequence modules only")
    args = ap.parse_args(argv)
    from ._torch import check_device

    try:
        check_device(args.device)
    except (ValueError, ImportError) as exc:  # one line, as for any user mistake
        print(f"python -m parity: error: {exc}", file=sys.stderr)
        return 2
    # torch notes that oneDNN lacks LSTM projections and falls back; not our concern here
    warnings.filterwarnings("ignore", message="LSTM with projections is not supported")
    if args.device == "cpu":
        from ._torch import import_torch

        import_torch().set_num_threads(1)  # tiny tensors: one thread is fastest
    start = time.perf_counter()
    rows = core_rows(quick=args.quick, device=args.device)
    if not args.core_only:
        rows += extra_rows(device=args.device)
    bad = failures(rows)
    if args.json:
        print(to_json(rows))
    else:
        print(format_table(rows))
        print()
        print(summary(rows))
        print(f"{len(rows)} rows in {time.perf_counter() - start:.1f} s; "
              f"{'all within tolerance' if not bad else f'{len(bad)} FAILED'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
