r"""The labs' models, built from scratchrnn layers: forward and backward by hand.

* :class:`SurnameClassifier` (lab 1, the book's ch. 6 model)::

      x (B, T) ─ Embedding(E, padding 0) ─ RNN/LSTM/GRU ─ h at each surname's last step
        ─ dropout ─ Linear(H, H) ─ ReLU ─ dropout ─ Linear(H, C) ─ logits (B, C)

* :class:`SurnameGenerator` (lab 2, the book's ch. 7 model)::

      x (B, T) ─ Embedding(E) ─ RNN/LSTM/GRU (h0 = nationality embedding if conditioned)
        ─ dropout ─ Linear(H, V) at every step ─ logits (B, T, V)

Parameter names follow torch's ``state_dict`` of the same modules (``emb.weight``,
``rnn.weight_ih_l0``, ``fc1.bias`` …) so the torch twins in ``parity.runtime.models`` load
them unchanged. Dropout acts only in training mode (the book's notebooks keep it on
at evaluation: they call ``F.dropout`` without ``training=``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .checks import check_float_dtype, check_float_input, library_arrays
from .layers import Dropout, Embedding, Linear, bernoulli_mask, gather_last, gather_last_backward
from .module import Module
from .recurrent import GRU, LSTM, RNN
from .rng import as_generator

CELLS = ("elman", "lstm", "gru")


def make_rnn(
    cell: str,
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    bidirectional: bool = False,
    batch_first: bool = True,
    dtype: object = np.float32,
    rng: np.random.Generator | None = None,
    nonlinearity: str = "tanh",
    forget_bias: float = 0.0,
    reference: bool = False,
) -> RNN | LSTM | GRU:
    """The sequence module for ``cell`` in {elman, lstm, gru}.

    ``reference`` True runs the step functions of :mod:`scratchrnn.cells` (the readable
    path), False the fast path (same numbers to float rounding).

    ``forget_bias`` (LSTM only) is added to the forget gate's rows of every
    ``bias_hh``: b_f = 1 makes f_t ≈ σ(1) ≈ 0.73 at the start, so the cell state is
    kept rather than forgotten early in training (Gers et al. 2000; Jozefowicz et al.
    2015). 0 keeps torch's initialisation.
    """
    kw = dict(num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first,
              dtype=dtype, rng=rng, reference=reference)
    if cell == "elman":
        return RNN(input_size, hidden_size, nonlinearity=nonlinearity, **kw)
    if cell == "lstm":
        lstm = LSTM(input_size, hidden_size, **kw)
        if forget_bias:
            for name, b in lstm.params.items():
                if name.startswith("bias_hh"):
                    b[hidden_size : 2 * hidden_size] += forget_bias
        return lstm
    if cell == "gru":
        return GRU(input_size, hidden_size, **kw)
    raise ValueError(f"cell must be one of {', '.join(CELLS)}, got {cell!r}")


class LabModel(Module):
    """What both lab models share: the cell by name (``cell``) and the recurrent layer's
    hidden size (``hidden_size``), kept for the backends, the checkpoints and the masks."""

    def __init__(self, cell: str, hidden_size: int) -> None:
        super().__init__()
        self.cell = cell
        self.hidden_size = hidden_size


class ClassifierCache(NamedTuple):
    emb: tuple
    rnn: object
    gather: tuple
    rev_shape: tuple | None
    drop1: object
    fc1: tuple
    relu_mask: np.ndarray
    drop2: object
    fc2: tuple


class SurnameClassifier(LabModel):
    """The book's SurnameClassifier, with a choice of cell, layers and directions.

    forward(x_in (B, T) int, lengths (B,)) → (logits (B, num_classes), cache)
    backward(d_logits (B, num_classes), cache) accumulates every parameter's gradient.

    The feature is the last layer's hidden state at each surname's last valid step
    (the lecture's ``column_gather``); with ``bidirectional`` it is concatenated with
    the reverse direction's final state (its output at t = 0), so ``fc1`` takes D·H.
    """

    # the book's SurnameClassifier arguments; the generator's below are alike because both are lab
    # models, not by a shared idea
    def __init__(
        self,
        embedding_size: int,
        num_embeddings: int,
        num_classes: int,
        rnn_hidden_size: int,
        cell: str = "elman",
        num_layers: int = 1,
        bidirectional: bool = False,
        padding_idx: int = 0,
        dropout_p: float = 0.5,
        forget_bias: float = 0.0,
        dtype: object = np.float32,
        rng: int | np.random.Generator | None = None,
        reference: bool = False,
    ) -> None:
        super().__init__(cell, rnn_hidden_size)
        gen, dt = as_generator(rng), check_float_dtype(dtype)  # one of each for every layer
        self.num_directions = 2 if bidirectional else 1
        self.emb = self.add_module(
            "emb", Embedding(num_embeddings, embedding_size, padding_idx, dt, rng=gen))
        self.rnn = self.add_module("rnn", make_rnn(cell, embedding_size, rnn_hidden_size,
                                                   num_layers, bidirectional, True, dt, gen,
                                                   forget_bias=forget_bias,
                                                   reference=reference))
        feat = rnn_hidden_size * self.num_directions
        self.fc1 = self.add_module("fc1", Linear(feat, rnn_hidden_size, dtype=dt, rng=gen))
        self.fc2 = self.add_module("fc2", Linear(rnn_hidden_size, num_classes, dtype=dt, rng=gen))
        self.drop1 = self.add_module("drop1", Dropout(dropout_p, rng=gen))
        self.drop2 = self.add_module("drop2", Dropout(dropout_p, rng=gen))

    def forward(self, x_in: np.ndarray, lengths: np.ndarray):
        # the layers after the embedding take arrays made here: no finiteness passes
        with library_arrays():
            x_emb, c_emb = self.emb.forward(x_in)
            # One direction: the feature at each surname's last step does not depend on
            # the padding after it (the recurrence is causal), and no gradient flows into
            # padded steps (no loss there), so the RNN runs over whole rows unmasked, as
            # the book's model does: the same numbers, bit for bit, without the masked
            # path's per-step work. The reverse direction must start at the last step.
            (out, _), c_rnn = self.rnn.forward(
                x_emb, lengths=lengths if self.num_directions == 2 else None)
            H = self.hidden_size
            feat, c_gather = gather_last(out[:, :, :H], lengths, batch_first=True)
            rev_shape = None
            if self.num_directions == 2:
                feat = np.concatenate([feat, out[:, 0, H:]], axis=1)
                rev_shape = out.shape
            y, c_d1 = self.drop1.forward(feat)
            y, c_fc1 = self.fc1.forward(y)
            relu_mask = y > 0
            y = y * relu_mask
            y, c_d2 = self.drop2.forward(y)
            logits, c_fc2 = self.fc2.forward(y)
        return logits, ClassifierCache(c_emb, c_rnn, c_gather, rev_shape, c_d1, c_fc1,
                                       relu_mask, c_d2, c_fc2)

    def dropout_masks(self, x_in: np.ndarray) -> tuple[np.ndarray | None, ...]:
        """The keep-masks a training forward on ``x_in`` (B, T) draws, in its order, from the
        model's Generator: drop1's (B, D·H) and drop2's (B, H); None where p = 0.

        A twin fed these masks (the torch backend) follows this model's trajectory.
        """
        B = np.shape(x_in)[0]
        shapes = ((self.drop1, (B, self.num_directions * self.hidden_size)),
                  (self.drop2, (B, self.hidden_size)))
        return tuple(None if d.p == 0.0 else bernoulli_mask(s, d.p, d.rng, self.dtype)
                     for d, s in shapes)

    def backward(self, d_logits: np.ndarray, cache: ClassifierCache) -> None:
        d_logits = check_float_input("d_logits", d_logits, self.dtype)
        with library_arrays():  # from here on, arrays made from the checked d_logits
            d = self.fc2.backward(d_logits, cache.fc2)
            d = self.drop2.backward(d, cache.drop2)
            d = d * cache.relu_mask
            d = self.fc1.backward(d, cache.fc1)
            d = self.drop1.backward(d, cache.drop1)
            H = self.hidden_size
            d_out = gather_last_backward(np.ascontiguousarray(d[:, :H]), cache.gather)
            if cache.rev_shape is not None:
                d_full = np.zeros(cache.rev_shape, dtype=d.dtype)
                d_full[:, :, :H] = d_out
                d_full[:, 0, H:] = d[:, H:]
                d_out = d_full
            d_x, _, _ = self.rnn.backward(d_out, cache.rnn)
            self.emb.backward(d_x, cache.emb)


class GeneratorCache(NamedTuple):
    emb: tuple
    nation: tuple | None
    rnn: object
    drop: object
    fc: tuple


class SurnameGenerator(LabModel):
    """The book's SurnameGenerationModel: a character language model.

    forward(x_in (B, T) int, nationality_index (B,) int or None) → (logits (B, T, V), cache)
    backward(d_logits (B, T, V), cache) accumulates every parameter's gradient.

    Conditioned (``num_nationalities`` given): the nationality embedding (size H) is
    h0 of every layer (for an LSTM h0, with c0 = 0), so its gradient trains it.
    Padding comes after each surname and the loss ignores it; the recurrence is
    causal, so running over the padding changes no counted output.
    """

    # the book's SurnameGenerator arguments (see SurnameClassifier's)
    def __init__(
        self,
        char_embedding_size: int,
        char_vocab_size: int,
        rnn_hidden_size: int,
        cell: str = "gru",
        num_nationalities: int | None = None,
        num_layers: int = 1,
        padding_idx: int = 0,
        dropout_p: float = 0.5,
        dtype: object = np.float32,
        rng: int | np.random.Generator | None = None,
        reference: bool = False,
    ) -> None:
        super().__init__(cell, rnn_hidden_size)
        gen, dt = as_generator(rng), check_float_dtype(dtype)  # one of each for every layer
        self.num_layers = num_layers
        self.conditioned = num_nationalities is not None
        self.char_emb = self.add_module(
            "char_emb", Embedding(char_vocab_size, char_embedding_size, padding_idx, dt, rng=gen))
        if self.conditioned:
            self.nation_emb = self.add_module(
                "nation_emb", Embedding(num_nationalities, rnn_hidden_size, dtype=dt, rng=gen))
        self.rnn = self.add_module("rnn", make_rnn(cell, char_embedding_size, rnn_hidden_size,
                                                   num_layers, False, True, dt, gen,
                                                   reference=reference))
        self.fc = self.add_module("fc", Linear(rnn_hidden_size, char_vocab_size, dtype=dt,
                                               rng=gen))
        self.drop = self.add_module("drop", Dropout(dropout_p, rng=gen))

    def initial_state(self, nationality_index: np.ndarray | None, batch: int):
        """The recurrent module's hx from the nationality embedding, and its cache.

        hx is h0 (L, B, H), every layer the embedding of nationality_index (B,), or for
        an LSTM the pair (h0, c0 = 0); (None, None) for an unconditioned model (zeros).
        """
        if not self.conditioned:
            if nationality_index is not None:
                raise ValueError("this generator is unconditioned: nationality_index must be None")
            return None, None
        if nationality_index is None:
            raise ValueError("this generator is conditioned: give nationality_index (B,)")
        h, cache = self.nation_emb.forward(np.asarray(nationality_index))
        if h.shape[0] != batch:
            raise ValueError(f"nationality_index must have shape ({batch},), got {h.shape[:1]}")
        h0 = np.broadcast_to(h, (self.num_layers, *h.shape)).copy()
        return ((h0, np.zeros_like(h0)) if self.rnn.has_cell_state else h0), cache

    def forward(self, x_in: np.ndarray, nationality_index: np.ndarray | None = None):
        # the layers after the embeddings take arrays made here: no finiteness passes
        with library_arrays():
            x_emb, c_emb = self.char_emb.forward(x_in)
            hx, c_nat = self.initial_state(nationality_index, x_emb.shape[0])
            (out, _), c_rnn = self.rnn.forward(x_emb, hx)
            y, c_drop = self.drop.forward(out)
            logits, c_fc = self.fc.forward(y)
        return logits, GeneratorCache(c_emb, c_nat, c_rnn, c_drop, c_fc)

    def dropout_masks(self, x_in: np.ndarray) -> tuple[np.ndarray | None, ...]:
        """The keep-mask a training forward on ``x_in`` (B, T) draws from the model's
        Generator: drop's (B, T, H), or None where p = 0 (see SurnameClassifier's)."""
        B, T = np.shape(x_in)
        d = self.drop
        return (None if d.p == 0.0 else
                bernoulli_mask((B, T, self.hidden_size), d.p, d.rng, self.dtype),)

    def backward(self, d_logits: np.ndarray, cache: GeneratorCache) -> None:
        d_logits = check_float_input("d_logits", d_logits, self.dtype)
        with library_arrays():  # from here on, arrays made from the checked d_logits
            d = self.fc.backward(d_logits, cache.fc)
            d = self.drop.backward(d, cache.drop)
            d_x, d_hx0, _ = self.rnn.backward(d, cache.rnn)
            self.char_emb.backward(d_x, cache.emb)
            if cache.nation is not None:
                d_h0 = d_hx0[0] if self.rnn.has_cell_state else d_hx0
                self.nation_emb.backward(d_h0.sum(axis=0), cache.nation)

    def step(self, x_t: np.ndarray, hx):
        """One step for sampling: x_t (B,) int and hx, the recurrent module's state after
        the previous step (at t = 0 :meth:`initial_state`'s, None meaning zeros).
        Returns (logits (B, V), hx after this step).
        """
        x_emb, _ = self.char_emb.forward(x_t[:, None])
        (out, hx), _ = self.rnn.forward(x_emb, hx)
        logits, _ = self.fc.forward(out[:, 0])
        return logits, hx
