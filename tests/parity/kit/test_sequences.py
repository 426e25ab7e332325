"""Sequence parity: torch's fused modules from weights alone, every option switchable."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

from hypothesis import given, settings  # noqa: E402

from parity.kit import (  # noqa: E402
    SeqSpec,
    assert_sequence_parity,
    check_sequence,
    find_sequence_failure,
    seq_specs,
)
from parity.kit.references import scratchrnn_sequence_protocol  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported")
SCRATCH = scratchrnn_sequence_protocol()


@pytest.mark.parametrize("cell", ["elman", "elman-relu", "lstm", "gru"])
def test_scratchrnn_sequence_modules_pass(cell):
    assert_sequence_parity(*SCRATCH, cell, examples=10, seed=0)


def test_switches_fix_options():
    @settings(max_examples=30, deadline=None)
    @given(seq_specs(cells=("lstm",), bidirectional=False, lengths=True, batch_first=True,
                     num_layers=2, bias=False, proj_size=True, h0=False, dtypes=("float32",)))
    def run(spec):
        assert (spec.bidirectional, spec.lengths, spec.batch_first, spec.num_layers,
                spec.bias, spec.h0, spec.dtype) == (False, True, True, 2, False, False,
                                                   "float32")
        assert 0 < spec.proj_size < spec.hidden_size

    run()


def test_ignoring_lengths_fails_on_h_n():
    def forward(x, hx, params, lengths, spec):
        return SCRATCH[0](x, hx, params, None, spec)  # the mistake: lengths dropped

    d = find_sequence_failure(forward, SCRATCH[1], "gru", examples=30, seed=0, lengths=True)
    assert d is not None
    assert "h_n" in {q.name for q in d.failed}
    assert d.case["steps"] >= 2 and d.case["lengths"] is True


def test_slide_gru_reference_says_torch_has_none():
    spec = SeqSpec(cell="gru-slide", num_layers=2, bidirectional=True, lengths=True)
    d = check_sequence(*SCRATCH, spec)
    assert d.passed, d.message()
    assert "torch has no slide-form GRU" in d.reference


def test_assert_sequence_parity_raises_with_the_rebuild():
    def forward(x, hx, params, lengths, spec):
        raise ValueError("not yet")

    with pytest.raises(AssertionError, match="SeqSpec"):
        assert_sequence_parity(forward, None, "elman", examples=5, seed=0)
