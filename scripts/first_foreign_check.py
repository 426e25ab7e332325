"""Time the first check of a Keras or Flax layer after a fresh install (docs/test-your-own-rnn.md,
"Keras and Flax: figures"): load ``MODULE:CALLABLE`` with the adapter and compare it with its
torch twin in outputs and gradients (tests/parity/ecosystems/twin.py).

    python scripts/first_foreign_check.py keras my_gru.py:make_layer
    python scripts/first_foreign_check.py flax my_lstm.py:make_cell
"""

import importlib
import os
import sys
import time

start = time.time()
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tests.parity.ecosystems.twin import compare  # noqa: E402

if len(sys.argv) != 3 or sys.argv[1] not in ("keras", "flax"):
    sys.exit("usage: first_foreign_check.py keras|flax MODULE:CALLABLE")
layer = importlib.import_module("parity.ecosystems." + sys.argv[1]).load(sys.argv[2])
err = compare(layer)
print(sys.argv[1], layer.cell, layer.dtype, f"max rel err {max(err.values()):.1e}",
      "missing", layer.missing, f"{time.time() - start:.1f} s")
