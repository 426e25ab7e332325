"""The parity kit: check *your own* recurrent code against torch (and friends).

Start with ``docs/test-your-own-rnn.md``. The public names::

    assert_cell_parity, find_cell_failure, check_cell          (one step, any layout)
    assert_sequence_parity, find_sequence_failure, check_sequence
    Layout, parse_layout                                        (your weight layout)
    CellSpec, SeqSpec, make_cell_case, make_seq_case, cell_specs, seq_specs
    cell_reference, sequence_reference                          (weights in, arrays out)
    Diagnosis, QuantityResult, TOLERANCE                        (structured results)
    check_cell_object, CellMachine                              (stateful, see stateful.py)
"""

from .assertions import (
    ParityError,
    assert_cell_parity,
    assert_sequence_parity,
    check_cell,
    check_sequence,
    find_cell_failure,
    find_sequence_failure,
)
from .cases import CellSpec, SeqSpec, cell_specs, make_cell_case, make_seq_case, seq_specs
from .cells import CELLS
from .diagnose import TOLERANCE, Diagnosis, QuantityResult, diagnose
from .layouts import Layout, parse_layout
from .references import cell_reference, sequence_reference

__all__ = [
    "CELLS", "TOLERANCE", "CellSpec", "Diagnosis", "Layout", "ParityError", "QuantityResult",
    "SeqSpec", "assert_cell_parity", "assert_sequence_parity", "cell_reference", "cell_specs",
    "check_cell", "check_sequence", "diagnose", "find_cell_failure", "find_sequence_failure",
    "make_cell_case", "make_seq_case", "parse_layout", "seq_specs", "sequence_reference",
]
