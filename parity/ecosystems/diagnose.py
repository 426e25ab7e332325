"""Name the convention in which a foreign recurrent layer differs from torch.

When a layer's outputs differ from its torch twin's, "mismatch" is not an answer: the
known ways recurrent layers silently differ are tried as *variant twins*, computed here in
NumPy from the same mapped weights, and each one that reproduces the foreign outputs is
named. The variants (one fault at a time):

    gate blocks in another order     any permutation of i,f,g,o (LSTM) or r,z,n (GRU) rows:
                                     "gate blocks f and o swapped" (weights written in one
                                     order, read in another: keras#8720, ONNX's i,o,f,c)
    GRU reset before the projection  n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn): Cho v3,
                                     ONNX linear_before_reset=0 (pytorch#189225,
                                     onnxscript#2852), Keras reset_after=False
    GRU z on the other side          h = z ⊙ n + (1 − z) ⊙ h_prev
    biases not applied               b_ih, b_hh or both ignored by the runtime
    recurrent weights transposed     each W_hh block used as its transpose
    the other nonlinearity           relu where torch has tanh, or the reverse
    direction reversed               the sequence run from t = T−1 down to 0

The forward here is the slide equations with torch's gate layout (``weight_ih_l0`` rows
stacked i,f,g,o / r,z,n); with no variant it equals torch.nn to ~1e-15
(``tests/parity/ecosystems/test_diagnose.py``).
"""

from __future__ import annotations

from itertools import permutations

import numpy as np

from . import ForeignLayer

BLOCKS = {"lstm": "ifgo", "gru": "rzn", "rnn_tanh": "h", "rnn_relu": "h"}
#: how each ecosystem spells the GRU's reset-before-projection form
CHO_NAMES = {"onnx": "linear_before_reset=0", "keras": "reset_after=False"}


def relative(a, b) -> float:
    """Largest ``|a − b| / max(1, |b|)`` (inf for different shapes; 0 for empty arrays)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b)))) if a.size else 0.0


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


def _direction(cell, W_ih, W_hh, b_ih, b_hh, x, h, c, reverse, cho, z_swap, nonlinearity):
    """One direction over x (T, B, I) from h (B, H) [, c]: (outputs (T, B, H), h_T, c_T)."""
    T, H = x.shape[0], W_hh.shape[1]
    out = np.empty((T, x.shape[1], H))
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        gx = x[t] @ W_ih.T + b_ih
        gh = h @ W_hh.T + b_hh
        if cell == "lstm":
            a = gx + gh
            i_t, f_t, o_t = _sigmoid(a[:, :H]), _sigmoid(a[:, H:2 * H]), _sigmoid(a[:, 3 * H:])
            c = f_t * c + i_t * np.tanh(a[:, 2 * H:3 * H])
            h = o_t * np.tanh(c)
        elif cell == "gru":
            r_t = _sigmoid(gx[:, :H] + gh[:, :H])
            z_t = _sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
            if cho:  # reset before the hidden projection
                n_t = np.tanh(gx[:, 2 * H:] + (r_t * h) @ W_hh[2 * H:].T + b_hh[2 * H:])
            else:
                n_t = np.tanh(gx[:, 2 * H:] + r_t * gh[:, 2 * H:])
            h = z_t * n_t + (1 - z_t) * h if z_swap else (1 - z_t) * n_t + z_t * h
        else:
            a = gx + gh
            h = np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0.0)
        out[t] = h
    return out, h, c


def forward(layer: ForeignLayer, sd: dict, x, h0, c0, *, cho=False, z_swap=False,
            nonlinearity=None, reverse=False) -> dict:
    """torch.nn's forward of ``layer``'s cell with weights ``sd``, or a variant of it (the
    same variant in every layer: a convention is the runtime's, not one layer's)."""
    D, B, H = (2 if layer.bidirectional else 1), x.shape[1], layer.hidden_size
    nl = nonlinearity or (layer.cell[4:] if layer.cell.startswith("rnn_") else None)
    layer_in = np.asarray(x, dtype=np.float64)
    hs, cs = [], []
    for k in range(layer.num_layers):
        outs = []
        for d, sfx in enumerate([f"_l{k}", f"_l{k}_reverse"][:D]):
            h = np.zeros((B, H)) if h0 is None else np.asarray(h0[k * D + d], dtype=np.float64)
            c = np.zeros((B, H)) if c0 is None else np.asarray(c0[k * D + d], dtype=np.float64)
            o, h, c = _direction(layer.cell, sd["weight_ih" + sfx], sd["weight_hh" + sfx],
                                 sd.get("bias_ih" + sfx, 0.0), sd.get("bias_hh" + sfx, 0.0),
                                 layer_in, h, c, (d == 1) != reverse, cho, z_swap, nl)
            outs.append(o)
            hs.append(h)
            cs.append(c)
        layer_in = np.concatenate(outs, axis=2)
    got = {"output": layer_in, "h_n": np.stack(hs)}
    if layer.cell == "lstm":
        got["c_n"] = np.stack(cs)
    return got


def _permuted(sd: dict, order: tuple[int, ...], H: int) -> dict:
    """Every stacked weight and bias with its gate blocks taken in ``order``."""
    rows = np.concatenate([np.arange(k * H, (k + 1) * H) for k in order])
    return {k: v[rows] for k, v in sd.items()}


def _block_name(cell: str, order: tuple[int, ...]) -> str:
    letters = BLOCKS[cell]
    moved = [k for k in range(len(order)) if order[k] != k]
    if len(moved) == 2:
        a, b = moved
        return f"gate blocks {letters[a]} and {letters[b]} swapped"
    return (f"gate blocks in the order {','.join(letters[k] for k in order)} "
            f"(torch: {','.join(letters)})")


def variants(layer: ForeignLayer):
    """(name, state_dict, forward options) of every single-fault variant of ``layer``."""
    sd = {k: np.asarray(v, dtype=np.float64) for k, v in layer.state_dict.items()}
    H, G = layer.hidden_size, len(BLOCKS[layer.cell])
    for order in permutations(range(G)):
        if order != tuple(range(G)):
            yield _block_name(layer.cell, order), _permuted(sd, order, H), {}
    if layer.cell == "gru":
        cho = CHO_NAMES.get(layer.ecosystem, "Cho v3")
        yield (f"GRU: reset applied before the hidden projection ({cho} / Cho v3); torch "
               "applies it after"), sd, {"cho": True}
        yield ("GRU: z weighs the candidate (h = z·n + (1 − z)·h_prev); torch: "
               "h = (1 − z)·n + z·h_prev"), sd, {"z_swap": True}
    for which, names in (("input biases", ("bias_ih",)), ("recurrent biases", ("bias_hh",)),
                         ("all biases", ("bias_ih", "bias_hh"))):
        if any(k.startswith(names) and np.any(v) for k, v in sd.items()):
            yield (f"{which} missing: the layer does not add them"), \
                {k: (np.zeros_like(v) if k.startswith(names) else v) for k, v in sd.items()}, {}
    blocks_T = {k: (np.concatenate([v[g * H:(g + 1) * H].T for g in range(G)])
                    if k.startswith("weight_hh") else v) for k, v in sd.items()}
    yield "recurrent weights transposed (each W_hh block used as W_hh^T)", blocks_T, {}
    if layer.cell.startswith("rnn_"):
        other = "relu" if layer.cell == "rnn_tanh" else "tanh"
        yield (f"activation {other} where torch has {layer.cell[4:]}"), sd, \
            {"nonlinearity": other}
    yield "direction reversed: the layer runs the sequence from its last step back", sd, \
        {"reverse": True}


def name_convention(layer: ForeignLayer, x, h0, c0, got: dict, tol: float) -> list[str]:
    """The variants whose outputs reproduce the foreign ``got`` (output, h_n, c_n);
    a plain sentence when the outputs equal torch's and only gradients differ."""
    match = max(10 * tol, 1e-7)
    plain = forward(layer, {k: np.asarray(v, dtype=np.float64)
                            for k, v in layer.state_dict.items()}, x, h0, c0)
    keys = [k for k in plain if k in got]
    if all(relative(got[k], plain[k]) <= match for k in keys):
        return ["outputs and states equal torch's; only gradients differ (the runtime's "
                "backward, not a forward convention)"]
    found = []
    for name, sd, options in variants(layer):
        v = forward(layer, sd, x, h0, c0, **options)
        if all(relative(got[k], v[k]) <= match for k in keys):
            found.append(name)
    return found
