#!/usr/bin/env bash
# The labs on a GPU in one run (issue 16): parity, both labs, the adding problem, the benchmark.
#   scripts/gpu_check.sh OUTDIR [--dry-run] [--device cuda] [--jobs N] [--data CSV]
# Writes OUTDIR/gpu_check.json and OUTDIR/gpu_check.md. --dry-run: the same steps on the CPU
# with a tiny budget (CI). Interpreter: $PYTHON, else the python in PATH. See scripts/gpu_check.py.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec "${PYTHON:-python}" "$here/gpu_check.py" "$@"
