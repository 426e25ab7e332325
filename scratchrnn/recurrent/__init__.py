r"""Sequence modules with torch.nn's API: :class:`RNN`, :class:`LSTM`, :class:`GRU`.

The time unroll, variable lengths, stacked layers and both directions, and the
backward pass through time (BPTT), written with the step functions of
:mod:`scratchrnn.cells` (or the fast paths of :mod:`scratchrnn.fastpath`):

* :mod:`~scratchrnn.recurrent.base` — :class:`Recurrent`, the one contract every
  sequence module shares (layers, directions, dropout, input checks);
* :mod:`~scratchrnn.recurrent.unroll` — one layer in one direction: the loop over
  time and its backward;
* :mod:`~scratchrnn.recurrent.modules` — the cells of torch's RNN, LSTM and GRU.

Shapes (as torch): T steps, B batch, I input, H hidden, D = 2 if bidirectional
else 1, L layers, P = proj_size (LSTM) or H::

    input      (T, B, I)         or (B, T, I) with batch_first
    hx, hx_n   (L·D, B, P)       row l·D + d: layer l, direction d (1 = reverse);
               LSTM: the pair (h (L·D, B, P), c (L·D, B, H))
    output     (T, B, D·P)       or (B, T, D·P); last layer, both directions concatenated

    (output, hx_n), cache = module.forward(x, hx=None, lengths=None, dropout_masks=None)
    d_input, d_hx0, d_params = module.backward(d_output, cache, d_hx_n=None)

Variable lengths (``lengths``, shape (B,), 1 ≤ lengths[b] ≤ T, any order) follow
torch's packed sequences (``pack_padded_sequence(..., enforce_sorted=False)``, then
``pad_packed_sequence(..., total_length=T)``): sequence b is updated only at steps
t < lengths[b]; its outputs beyond are zero; hx_n holds its state at its own last
step; the reverse direction starts at its own last step.
"""

from .base import Recurrent, RecurrentCache, State
from .modules import GRU, LSTM, RNN
from .unroll import DirectionCache, lengths_mask

__all__ = ["GRU", "LSTM", "RNN", "DirectionCache", "Recurrent", "RecurrentCache", "State",
           "lengths_mask"]
