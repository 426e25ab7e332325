"""A pytest plugin: parity in your own test suite in three lines.

    # conftest.py
    pytest_plugins = ["parity.kit.plugin"]

    # test_my_rnn.py
    def test_my_lstm(rnn_parity):
        rnn_parity.cell(my_lstm_forward, my_lstm_backward, cell="lstm", layout="concat")

The fixture ``rnn_parity`` offers ``.cell(...)`` (:func:`~parity.kit.assert_cell_parity`),
``.sequence(...)`` (:func:`~parity.kit.assert_sequence_parity`) and ``.object(...)``
(:func:`~parity.kit.stateful.assert_object_parity`); each fails the test with the kit's
explanation. ``pytest --parity-examples N`` sets the number of hypothesis cases (default:
the kit's), ``--parity-seed S`` the seed.
"""

from __future__ import annotations

import pytest


class RNNParity:
    """What the ``rnn_parity`` fixture returns."""

    def __init__(self, examples: int | None, seed: int) -> None:
        self.examples, self.seed = examples, seed

    def _kw(self, kw: dict) -> dict:
        if self.examples is not None:
            kw.setdefault("examples", self.examples)
        kw.setdefault("seed", self.seed)
        return kw

    def cell(self, forward, backward=None, cell: str = "lstm", layout=None, **kw) -> None:
        from . import assert_cell_parity

        __tracebackhide__ = True
        assert_cell_parity(forward, backward, cell, layout, **self._kw(kw))

    def sequence(self, forward, backward=None, cell: str = "lstm", **kw) -> None:
        from . import assert_sequence_parity

        __tracebackhide__ = True
        assert_sequence_parity(forward, backward, cell, **self._kw(kw))

    def object(self, factory, cell: str = "lstm", layout=None, **kw) -> None:
        from .stateful import assert_object_parity

        __tracebackhide__ = True
        assert_object_parity(factory, cell, layout, **self._kw(kw))


def pytest_addoption(parser) -> None:
    group = parser.getgroup("parity", "the scratchrnn parity kit")
    group.addoption("--parity-examples", type=int, default=None,
                    help="hypothesis cases per parity check (default: the kit's)")
    group.addoption("--parity-seed", type=int, default=0, help="seed of the parity checks")


@pytest.fixture
def rnn_parity(request) -> RNNParity:
    """Parity checks against torch that fail the test with an explanation."""
    pytest.importorskip("torch")
    return RNNParity(request.config.getoption("--parity-examples"),
                     request.config.getoption("--parity-seed"))
