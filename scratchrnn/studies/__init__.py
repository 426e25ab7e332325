r"""Studies of the lecture's "Issues in ElmanRNN" and gating slides, made exact by hand BPTT.

* :mod:`scratchrnn.studies.jacobian` — vanishing gradients: ‖∂h_T/∂h_t‖ against the
  distance T − t for every cell, at initialisation, across the spectral radius of
  Elman's W_hh, and for a trained surname model;
* :mod:`scratchrnn.studies.adding` — long-term dependency: the adding problem
  (Hochreiter & Schmidhuber 1997; Le, Jaitly & Hinton 2015).
* :mod:`scratchrnn.studies.wordlm` — the language-model slide, word by word:
  log P(sentence) = Σ_t log P(w_t | w_<t) on a corpus written in code;
* :mod:`scratchrnn.studies.sentiment` — the sentiment slide: a many-to-one RNN against a
  bag of words on templated phrases with negation;
* :mod:`scratchrnn.studies.lecture` — what the ``examples/`` scripts share (settings,
  folders, the optional plot).

The cells compared, by name (:data:`CELLS`)::

    elman-tanh     h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
    elman-relu     the same with ReLU
    irnn           ReLU Elman with W_hh = I and zero biases at initialisation (Le et al.)
    residual       h_t = h_{t-1} + F_t                      (scratchrnn.gating, "none")
    input-gating   h_t = h_{t-1} + λ_t ⊙ F_t                (gating "input")
    hidden-gating  h_t = μ_t ⊙ h_{t-1} + λ_t ⊙ F_t          (gating "hidden")
    lstm           torch.nn.LSTM's equations
    gru            torch.nn.GRU's equations

:func:`make_recurrent` builds any of them as a one-layer, time-major sequence module.
"""

from __future__ import annotations

import sys

import numpy as np

from ..gating import GatedRNN
from ..recurrent import GRU, LSTM, RNN, Recurrent

CELLS = ("elman-tanh", "elman-relu", "irnn", "residual", "input-gating", "hidden-gating",
         "lstm", "gru")
GATING_OF = {"residual": "none", "input-gating": "input", "hidden-gating": "hidden"}


def make_recurrent(
    cell: str,
    input_size: int,
    hidden_size: int,
    dtype: object = np.float64,
    rng: int | np.random.Generator | None = None,
    reference: bool = False,
) -> Recurrent:
    """A one-layer, unidirectional, time-major sequence module for ``cell`` (see :data:`CELLS`).

    ``reference`` True runs the step functions of :mod:`scratchrnn.cells` (the readable
    path), False the fast path where the cell has one.

    Every cell gets torch's default initialisation U(−1/√H, 1/√H); ``irnn`` then sets
    W_hh = I and both biases to 0 (its input weights keep the default).
    """
    if cell in ("elman-tanh", "elman-relu", "irnn"):
        nonlinearity = "tanh" if cell == "elman-tanh" else "relu"
        module: Recurrent = RNN(input_size, hidden_size, nonlinearity=nonlinearity,
                                dtype=dtype, rng=rng, reference=reference)
        if cell == "irnn":
            module.params["weight_hh_l0"][...] = np.eye(hidden_size)
            module.params["bias_ih_l0"][...] = 0
            module.params["bias_hh_l0"][...] = 0
        return module
    if cell in GATING_OF:
        return GatedRNN(input_size, hidden_size, gating=GATING_OF[cell], dtype=dtype, rng=rng,
                        reference=reference)
    if cell == "lstm":
        return LSTM(input_size, hidden_size, dtype=dtype, rng=rng, reference=reference)
    if cell == "gru":
        return GRU(input_size, hidden_size, dtype=dtype, rng=rng, reference=reference)
    raise ValueError(f"cell must be one of {', '.join(CELLS)}, got {cell!r}")


__all__ = ["CELLS", "GATING_OF", "make_recurrent"]


def pyplot(what: str):
    """matplotlib.pyplot with the Agg backend, or None (and a message) if not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"matplotlib is not installed (pip install 'scratchrnn[plot]'); skipping {what}",
              file=sys.stderr)
        return None
    return plt
