"""The per-file table of a mutmut run (``make mutate``; docs/mutation.md).

Reads mutmut's results under ``mutants/`` (one ``.meta`` file per mutated module) and prints,
per file of the numerical code: mutants, killed, survived, timeout/suspicious, no tests, and how
many of the survivors ``scripts/mutation_equivalent.txt`` argues are equivalent (one line each:
``mutant-name  argument``) or changes only rounding (an argument that starts with
``rounding-only:``: not equivalent, but no test can tell without hard-coding bits). Then the
survivors that are neither, one a line, so that ``mutmut show NAME`` can be run on each.

    python scripts/mutation_table.py            # markdown table, then the unexplained survivors
    python scripts/mutation_table.py --strict   # exit 1 while an unexplained survivor remains
    python scripts/mutation_table.py --diffs    # and the diff of each unexplained survivor

Run it with the interpreter that has mutmut (``.venv-mutate/bin/python``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENT = ROOT / "scripts" / "mutation_equivalent.txt"
COLUMNS = ("mutants", "killed", "survived", "timeout/suspicious", "no tests", "not checked",
           "equivalent", "rounding-only", "unexplained")


def status_of(exit_code: int | None) -> str:
    """mutmut's own reading of a mutant's exit code (mutmut.stats.status_by_exit_code)."""
    from mutmut.stats import status_by_exit_code

    status = status_by_exit_code[exit_code]
    if status in ("timeout", "suspicious", "segfault"):
        return "timeout/suspicious"
    return status


def equivalent_names(path: Path = EQUIVALENT) -> dict[str, str]:
    """mutant name -> the argument that it is equivalent (blank lines and # comments skipped)."""
    if not path.exists():
        return {}
    names = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, why = line.partition(" ")
            names[name] = why.strip()
    return names


def diff_of(name: str, source: str) -> str:
    """The mutant's diff against the original function, as ``mutmut show`` prints it."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    return get_diff_for_mutant(name, path=source)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 while a survivor is neither killed nor argued equivalent")
    parser.add_argument("--diffs", action="store_true",
                        help="print the diff of each unexplained survivor (as `mutmut show`)")
    args = parser.parse_args(argv)
    metas = sorted((ROOT / "mutants").glob("scratchrnn/**/*.py.meta"))
    if not metas:
        print("mutation_table: no mutmut results under mutants/ (run `make mutate` first)",
              file=sys.stderr)
        return 2
    argued = equivalent_names()
    rows, unexplained, total = [], [], Counter()
    for meta in metas:
        codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        if not codes:
            continue
        count = Counter(status_of(code) for code in codes.values())
        survivors = [n for n, c in codes.items() if status_of(c) == "survived"]
        rounding = [n for n in survivors if argued.get(n, "").startswith("rounding-only:")]
        count["rounding-only"] = len(rounding)
        count["equivalent"] = sum(n in argued for n in survivors) - len(rounding)
        count["unexplained"] = sum(n not in argued for n in survivors)
        count["mutants"] = len(codes)
        source = str(meta.relative_to(ROOT / "mutants"))[: -len(".meta")]
        unexplained += [(n, source) for n in sorted(survivors) if n not in argued]
        rows.append((source, count))
        total.update(count)
    print("| file | " + " | ".join(COLUMNS) + " |")
    print("|---" * (len(COLUMNS) + 1) + "|")
    for name, count in rows + [("**all**", total)]:
        print(f"| `{name}` | " + " | ".join(str(count[c]) for c in COLUMNS) + " |")
    if unexplained:
        print(f"\n{len(unexplained)} survivors neither killed nor argued equivalent "
              "(`mutmut show NAME`):")
        for name, source in unexplained:
            print(name)
            if args.diffs:
                print(diff_of(name, source) + "\n")
    return 1 if args.strict and unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
