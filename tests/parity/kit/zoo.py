"""Hand-written cells, correct and deliberately wrong, in the layouts people use.

Every function follows the kit's step protocol::

    forward(x, state, params) -> (new_state, cache)
    backward(d_new_state, cache) -> (d_x, d_state, grads)

The wrong ones are the mistakes of issue 12 (and of students): each is one flag of a
correct cell, so the rest of the cell is known good.
"""

from __future__ import annotations

import numpy as np

from parity.kit import Layout


def sig(a):
    return 1 / (1 + np.exp(-a))


# ---------------------------------------------------------------------------
# LSTM, torch layout, with switchable mistakes
# ---------------------------------------------------------------------------
def make_lstm(swap_if=False, sigma_pre=False, drop_carry=False, bias_mean=False,
              accumulate=False, upcast=False):
    """torch-layout LSTM step (i, f, g, o); each flag plants one mistake."""
    buffer: dict = {}

    def forward(x, state, p):
        h, c = state
        H = h.shape[1]
        a = x @ p["weight_ih"].T + h @ p["weight_hh"].T
        if "bias_ih" in p:
            a = a + p["bias_ih"] + p["bias_hh"]
        blocks = [a[:, k * H:(k + 1) * H] for k in range(4)]
        if swap_if:  # reads the input gate from the forget rows and vice versa
            blocks[0], blocks[1] = blocks[1], blocks[0]
        i, f, o = sig(blocks[0]), sig(blocks[1]), sig(blocks[3])
        g = np.tanh(blocks[2])
        c2 = f * c + i * g
        h2 = o * np.tanh(c2)
        return (h2, c2), (x, h, c, i, f, g, o, c2, blocks, p)

    def backward(d_state, cache):
        dh, dc = d_state
        x, h, c, i, f, g, o, c2, blocks, p = cache
        t = np.tanh(c2)
        dc = dc + dh * o * (1 - t * t)
        if sigma_pre:  # σ' = s(1 − s) evaluated at the pre-activation instead of σ's output
            si, sf, so = blocks[0], blocks[1], blocks[3]
        else:
            si, sf, so = i, f, o
        da = [dc * g * si * (1 - si), dc * c * sf * (1 - sf), dc * i * (1 - g * g),
              dh * t * so * (1 - so)]
        if swap_if:
            da[0], da[1] = da[1], da[0]
        da = np.concatenate(da, axis=1)
        grads = {"weight_ih": da.T @ x, "weight_hh": da.T @ h}
        if "bias_ih" in p:
            db = da.mean(axis=0) if bias_mean else da.sum(axis=0)
            grads.update(bias_ih=db, bias_hh=db.copy())
        if accumulate:  # a module-level buffer that nobody resets between iterations
            for k, v in grads.items():
                if k in buffer and buffer[k].shape == v.shape:
                    buffer[k] = buffer[k] + v
                else:
                    buffer[k] = v
            grads = dict(buffer)
        dc_prev = dc if drop_carry else dc * f
        out = da @ p["weight_ih"], (da @ p["weight_hh"], dc_prev), grads
        if upcast:
            return (out[0].astype(np.float64), out[1],
                    {k: v.astype(np.float64) for k, v in grads.items()})
        return out

    return forward, backward


# ---------------------------------------------------------------------------
# GRU, torch layout (r, z, n), with (1 − z) and z exchanged on request
# ---------------------------------------------------------------------------
def make_gru(swap_z=False):
    def forward(x, h, p):
        H = h.shape[1]
        gx = x @ p["weight_ih"].T + p.get("bias_ih", 0)
        gh = h @ p["weight_hh"].T + p.get("bias_hh", 0)
        r = sig(gx[:, :H] + gh[:, :H])
        z = sig(gx[:, H:2 * H] + gh[:, H:2 * H])
        n = np.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])
        h2 = z * n + (1 - z) * h if swap_z else (1 - z) * n + z * h
        return h2, (x, h, r, z, n, gh, p)

    def backward(dh, cache):
        x, h, r, z, n, gh, p = cache
        H = h.shape[1]
        wz = z if swap_z else 1 - z
        da_n = dh * wz * (1 - n * n)
        dz = dh * (n - h) if swap_z else dh * (h - n)
        da_r = da_n * gh[:, 2 * H:] * r * (1 - r)
        da_z = dz * z * (1 - z)
        dgx = np.concatenate([da_r, da_z, da_n], axis=1)
        dgh = np.concatenate([da_r, da_z, da_n * r], axis=1)
        grads = {"weight_ih": dgx.T @ x, "weight_hh": dgh.T @ h}
        if "bias_ih" in p:
            grads.update(bias_ih=dgx.sum(0), bias_hh=dgh.sum(0))
        dh_prev = dh * ((1 - z) if swap_z else z) + dgh @ p["weight_hh"]
        return dgx @ p["weight_ih"], dh_prev, grads

    return forward, backward


# ---------------------------------------------------------------------------
# Elman, min-char-rnn style: column vectors, Wxh / Whh / bh, one bias
# ---------------------------------------------------------------------------
ELMAN_COLUMNS = Layout(columns=True, names={"weight_ih": "Wxh", "weight_hh": "Whh",
                                            "bias": "bh"})


def make_elman_columns(tanh_pre=False):
    def forward(x, h, p):  # x (I, B), h (H, B)
        a = p["Wxh"] @ x + p["Whh"] @ h + p.get("bh", 0)
        h2 = np.tanh(a)
        return h2, (x, h, a, h2, p)

    def backward(dh, cache):
        x, h, a, h2, p = cache
        t = np.tanh(a) if not tanh_pre else a  # 1 − tanh² of the wrong tensor
        da = dh * (1 - t * t)
        grads = {"Wxh": da @ x.T, "Whh": da @ h.T}
        if "bh" in p:
            grads["bh"] = da.sum(axis=1, keepdims=True)
        return p["Wxh"].T @ da, p["Whh"].T @ da, grads

    return forward, backward


# ---------------------------------------------------------------------------
# LSTM, the slide literally: W_f·[h_{t-1}, x_t] + b_f per gate (a dict)
# ---------------------------------------------------------------------------
LSTM_SLIDE = Layout(weights="per_gate", names={"W": "W_{g}", "bias": "b_{g}"},
                    gate_names={"g": "C"})


def lstm_slide_forward(x, state, p):
    h, c = state
    hx = np.concatenate([h, x], axis=1)

    def gate(name):
        return hx @ p["W_" + name].T + p.get("b_" + name, 0)

    f, i, o = sig(gate("f")), sig(gate("i")), sig(gate("o"))
    C_tilde = np.tanh(gate("C"))
    C = f * c + i * C_tilde
    h2 = o * np.tanh(C)
    return (h2, C), (hx, c, f, i, C_tilde, o, C, p)


def lstm_slide_backward(d_state, cache):
    dh, dC = d_state
    hx, c, f, i, C_tilde, o, C, p = cache
    H = c.shape[1]
    t = np.tanh(C)
    dC = dC + dh * o * (1 - t * t)
    da = {"f": dC * c * f * (1 - f), "i": dC * C_tilde * i * (1 - i),
          "C": dC * i * (1 - C_tilde ** 2), "o": dh * t * o * (1 - o)}
    grads, dhx = {}, 0
    for g, d in da.items():
        grads["W_" + g] = d.T @ hx
        if "b_" + g in p:
            grads["b_" + g] = d.sum(axis=0)
        dhx = dhx + d @ p["W_" + g]
    return dhx[:, H:], (dhx[:, :H], dC * f), grads


# ---------------------------------------------------------------------------
# GRU with x @ W, gate order z, r, n, separate biases
# ---------------------------------------------------------------------------
GRU_XW = Layout(transposed=True, order="zrn",
                names={"weight_ih": "Wx", "weight_hh": "Wh", "bias_ih": "bx", "bias_hh": "bh"})


def gru_xw_forward(x, h, p):
    H = h.shape[1]
    gx = x @ p["Wx"] + p.get("bx", 0)  # columns z | r | n
    gh = h @ p["Wh"] + p.get("bh", 0)
    z = sig(gx[:, :H] + gh[:, :H])
    r = sig(gx[:, H:2 * H] + gh[:, H:2 * H])
    n = np.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])
    return (1 - z) * n + z * h, (x, h, z, r, n, gh, p)


def gru_xw_backward(dh, cache):
    x, h, z, r, n, gh, p = cache
    H = h.shape[1]
    da_n = dh * (1 - z) * (1 - n * n)
    da_z = dh * (h - n) * z * (1 - z)
    da_r = da_n * gh[:, 2 * H:] * r * (1 - r)
    dgx = np.concatenate([da_z, da_r, da_n], axis=1)
    dgh = np.concatenate([da_z, da_r, da_n * r], axis=1)
    grads = {"Wx": x.T @ dgx, "Wh": h.T @ dgh}
    if "bx" in p:
        grads.update(bx=dgx.sum(0), bh=dgh.sum(0))
    return dgx @ p["Wx"].T, dh * z + dgh @ p["Wh"].T, grads


# ---------------------------------------------------------------------------
# LSTM with x @ W, gate order i, f, o, g, one summed bias (a common NumPy layout)
# ---------------------------------------------------------------------------
LSTM_IFOG = Layout(transposed=True, order="ifog", summed_bias=True)


def lstm_ifog_forward(x, state, p):
    h, c = state
    H = h.shape[1]
    a = x @ p["weight_ih"] + h @ p["weight_hh"] + p.get("b", 0)
    i, f, o = sig(a[:, :H]), sig(a[:, H:2 * H]), sig(a[:, 2 * H:3 * H])
    g = np.tanh(a[:, 3 * H:])
    c2 = f * c + i * g
    return (o * np.tanh(c2), c2), (x, h, c, i, f, o, g, c2, p)


def lstm_ifog_backward(d_state, cache):
    dh, dc = d_state
    x, h, c, i, f, o, g, c2, p = cache
    t = np.tanh(c2)
    dc = dc + dh * o * (1 - t * t)
    da = np.concatenate([dc * g * i * (1 - i), dc * c * f * (1 - f), dh * t * o * (1 - o),
                         dc * i * (1 - g * g)], axis=1)
    grads = {"weight_ih": x.T @ da, "weight_hh": h.T @ da}
    if "b" in p:
        grads["b"] = da.sum(axis=0)
    return da @ p["weight_ih"].T, (da @ p["weight_hh"].T, dc * f), grads


# ---------------------------------------------------------------------------
# LSTM, the slide's concatenation with one stacked W = [W_hh | W_ih] and one bias
# ---------------------------------------------------------------------------
def lstm_concat_forward(x, state, p):
    h, c = state
    H = h.shape[1]
    hx = np.concatenate([h, x], axis=1)
    a = hx @ p["W"].T + p.get("b", 0)
    i, f, g, o = sig(a[:, :H]), sig(a[:, H:2 * H]), np.tanh(a[:, 2 * H:3 * H]), sig(a[:, 3 * H:])
    c2 = f * c + i * g
    return (o * np.tanh(c2), c2), (hx, c, i, f, g, o, c2, p)


# Alike in shape to lstm_slide_backward on purpose: each zoo cell is written whole, its own way.
def lstm_concat_backward(d_state, cache):
    dh, dc = d_state
    hx, c, i, f, g, o, c2, p = cache
    H = c.shape[1]
    t = np.tanh(c2)
    dc = dc + dh * o * (1 - t * t)
    da = np.concatenate([dc * g * i * (1 - i), dc * c * f * (1 - f), dc * i * (1 - g * g),
                         dh * t * o * (1 - o)], axis=1)
    grads = {"W": da.T @ hx}
    if "b" in p:
        grads["b"] = da.sum(axis=0)
    dhx = da @ p["W"]
    return dhx[:, H:], (dhx[:, :H], dc * f), grads


# ---------------------------------------------------------------------------
# scratchrnn's own cells in the kit's protocol (torch layout)
# ---------------------------------------------------------------------------
def scratchrnn_cell(cell: str):
    """(forward, backward) from scratchrnn.cells / scratchrnn.gating for ``cell``."""
    from scratchrnn import cells as sc
    from scratchrnn.gating import gated_step_backward, gated_step_forward

    if cell.startswith("gated-"):
        gating = cell[len("gated-"):]

        def fwd(x, h, p):
            gx = x @ p["weight_ih"].T + p.get("bias_ih", 0)
            h2, cache = gated_step_forward(gx, h, p["weight_hh"], p.get("bias_hh"), gating)
            return h2, (x, h, cache, p)

        def bwd(dh, cache):
            x, h, step, p = cache
            dgx, dgh, dh_prev = gated_step_backward(dh, step, p["weight_hh"])
            grads = {"weight_ih": dgx.T @ x, "weight_hh": dgh.T @ h}
            if "bias_ih" in p:
                grads.update(bias_ih=dgx.sum(0), bias_hh=dgh.sum(0))
            return dgx @ p["weight_ih"], dh_prev, grads

        return fwd, bwd
    if cell == "lstm":
        def fwd(x, state, p):
            return sc.lstm_cell_forward(x, *state, **p)

        def bwd(d_state, cache):
            g = sc.lstm_cell_backward(*d_state, cache)
            return g.pop("x"), (g.pop("h_prev"), g.pop("c_prev")), g

        return fwd, bwd
    kw = {"nonlinearity": "relu" if cell == "elman-relu" else "tanh"} if \
        cell.startswith("elman") else {"form": "slide" if cell == "gru-slide" else "torch"}
    forward = sc.elman_cell_forward if cell.startswith("elman") else sc.gru_cell_forward
    backward = sc.elman_cell_backward if cell.startswith("elman") else sc.gru_cell_backward

    def fwd(x, h, p):
        return forward(x, h, **p, **kw)

    def bwd(dh, cache):
        g = backward(dh, cache)
        return g.pop("x"), g.pop("h_prev"), g

    return fwd, bwd
