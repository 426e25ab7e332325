r"""One time step of the Elman RNN, the LSTM and the GRU: forward and backward by hand.

Every cell is written as a pair, CS231n-style:

* ``*_step_forward(gx_t, h_prev, …, W_hh, b_hh)`` takes the *input projection*
  ``gx_t = x_t W_ih^T + b_ih`` (computed for all time steps at once by the
  sequence modules) and returns the new state and a cache;
* ``*_step_backward(dh_t, …, cache, W_hh)`` takes the gradient arriving at the
  new state and returns ``(dgx_t, dgh_t, dh_prev, …)``: the gradients of the input
  projection ``gx_t``, of the hidden projection ``gh_t = h_{t-1} W_hh^T + b_hh``
  and of the previous state. The weight gradients are then one matrix product each
  (``dW_ih = Σ_t dgx_t^T x_t``, ``dW_hh = Σ_t dgh_t^T h_{t-1}``), done by the caller.

``*_cell_forward`` / ``*_cell_backward`` wrap a step with its input projection:
they are torch's ``RNNCell`` / ``LSTMCell`` / ``GRUCell`` as functions, and their
backward returns a dict with the gradient of the input, the previous state and
every parameter (keys as torch's parameter names).

Shapes: B batch, I input size, H hidden size. Weights use torch's layout:
``W_ih`` (G·H, I), ``W_hh`` (G·H, H), ``b_ih``/``b_hh`` (G·H,) where G is the number
of gate blocks: 1 (Elman), 4 (LSTM: i, f, g, o), 3 (GRU: r, z, n). ``b_hh`` may be
``None`` (``bias=False``); then ``b_ih`` is ``None`` too.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .functional import sigmoid

NONLINEARITIES = ("tanh", "relu")
GRU_FORMS = ("torch", "slide")


def hidden_projection(
    h_prev: np.ndarray, W_hh: np.ndarray, b_hh: np.ndarray | None
) -> np.ndarray:
    """gh_t = h_{t-1} W_hh^T + b_hh, the hidden projection every cell adds to its gates.

    h_prev (B, H);  W_hh (G·H, H);  b_hh (G·H,) or None. Returns gh_t (B, G·H).
    """
    gh = h_prev @ W_hh.T
    if b_hh is not None:
        gh += b_hh
    return gh


# ---------------------------------------------------------------------------
# Elman RNN
# ---------------------------------------------------------------------------
class ElmanCache(NamedTuple):
    h_prev: np.ndarray
    h_t: np.ndarray
    nonlinearity: str


def elman_step_forward(
    gx_t: np.ndarray,
    h_prev: np.ndarray,
    W_hh: np.ndarray,
    b_hh: np.ndarray | None,
    nonlinearity: str = "tanh",
) -> tuple[np.ndarray, ElmanCache]:
    r"""Elman step: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)   (or ReLU).

    gx_t (B, H) = x_t W_ih^T + b_ih;  h_prev (B, H);  W_hh (H, H);  b_hh (H,) or None.
    Returns h_t (B, H) and the cache.
    """
    a_t = gx_t + hidden_projection(h_prev, W_hh, b_hh)
    h_t = np.tanh(a_t) if nonlinearity == "tanh" else np.maximum(a_t, 0)
    return h_t, ElmanCache(h_prev, h_t, nonlinearity)


def elman_step_backward(
    dh_t: np.ndarray, cache: ElmanCache, W_hh: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Backward of :func:`elman_step_forward`.

    da_t = dh_t ⊙ (1 − h_t²)  (tanh)  or  dh_t ⊙ [h_t > 0]  (ReLU);
    dgx_t = dgh_t = da_t;  dh_{t-1} = da_t W_hh.
    Returns (dgx_t, dgh_t, dh_prev), each (B, H).
    """
    if cache.nonlinearity == "tanh":
        da_t = dh_t * (1 - cache.h_t * cache.h_t)
    else:
        da_t = dh_t * (cache.h_t > 0)
    return da_t, da_t, da_t @ W_hh


# ---------------------------------------------------------------------------
# LSTM (torch gate order in the stacked weights: i, f, g, o)
# ---------------------------------------------------------------------------
class LSTMCache(NamedTuple):
    h_prev: np.ndarray
    c_prev: np.ndarray
    i_t: np.ndarray
    f_t: np.ndarray
    g_t: np.ndarray
    o_t: np.ndarray
    tanh_c_t: np.ndarray
    m_t: np.ndarray  # o_t ⊙ tanh(C_t): h_t before the optional projection


def lstm_step_forward(
    gx_t: np.ndarray,
    h_prev: np.ndarray,
    c_prev: np.ndarray,
    W_hh: np.ndarray,
    b_hh: np.ndarray | None,
    W_hr: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, LSTMCache]:
    r"""LSTM step, the slide's equations with torch's stacked weights (i, f, g, o)::

        f_t = σ(W_f·[h_{t-1}, x_t] + b_f)        forget gate
        i_t = σ(W_i·[h_{t-1}, x_t] + b_i)        input gate
        C̃_t = g_t = tanh(W_C·[h_{t-1}, x_t] + b_C)  candidate
        C_t = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t          cell state
        o_t = σ(W_o·[h_{t-1}, x_t] + b_o)        output gate
        h_t = o_t ⊙ tanh(C_t)                    (× W_hr^T with proj_size > 0)

    gx_t (B, 4H);  h_prev (B, P);  c_prev (B, H);  W_hh (4H, P);  b_hh (4H,) or None;
    W_hr (P, H) or None, where P = proj_size if given else H.
    Returns h_t (B, P), C_t (B, H) and the cache.
    """
    H = c_prev.shape[1]
    a_t = gx_t + hidden_projection(h_prev, W_hh, b_hh)
    i_t = sigmoid(a_t[:, :H])
    f_t = sigmoid(a_t[:, H : 2 * H])
    g_t = np.tanh(a_t[:, 2 * H : 3 * H])
    o_t = sigmoid(a_t[:, 3 * H :])
    c_t = f_t * c_prev + i_t * g_t
    tanh_c_t = np.tanh(c_t)
    m_t = o_t * tanh_c_t
    h_t = m_t if W_hr is None else m_t @ W_hr.T
    return h_t, c_t, LSTMCache(h_prev, c_prev, i_t, f_t, g_t, o_t, tanh_c_t, m_t)


def lstm_step_backward(
    dh_t: np.ndarray,
    dc_t: np.ndarray,
    cache: LSTMCache,
    W_hh: np.ndarray,
    W_hr: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""Backward of :func:`lstm_step_forward`.

    dm_t = dh_t (or dh_t W_hr with a projection);
    do_t = dm_t ⊙ tanh(C_t);   dC_t += dm_t ⊙ o_t ⊙ (1 − tanh²(C_t));
    di_t = dC_t ⊙ g_t;   dg_t = dC_t ⊙ i_t;   df_t = dC_t ⊙ C_{t-1};   dC_{t-1} = dC_t ⊙ f_t;
    pre-activation gradients: σ' = s(1 − s) for i, f, o and 1 − g² for g;
    dh_{t-1} = da_t W_hh.
    Returns (dgx_t, dgh_t, dh_prev, dc_prev); dgx_t = dgh_t = da_t (B, 4H).
    (The projection's weight gradient, Σ_t dh_t^T m_t, is the caller's one product.)
    """
    i_t, f_t, g_t, o_t, tanh_c_t = cache.i_t, cache.f_t, cache.g_t, cache.o_t, cache.tanh_c_t
    dm_t = dh_t if W_hr is None else dh_t @ W_hr
    do_t = dm_t * tanh_c_t
    dc = dc_t + dm_t * o_t * (1 - tanh_c_t * tanh_c_t)
    di_t = dc * g_t
    df_t = dc * cache.c_prev
    dg_t = dc * i_t
    dc_prev = dc * f_t
    da_t = np.concatenate(
        [
            di_t * i_t * (1 - i_t),
            df_t * f_t * (1 - f_t),
            dg_t * (1 - g_t * g_t),
            do_t * o_t * (1 - o_t),
        ],
        axis=1,
    )
    return da_t, da_t, da_t @ W_hh, dc_prev


# ---------------------------------------------------------------------------
# GRU (torch gate order in the stacked weights: r, z, n)
# ---------------------------------------------------------------------------
class GRUCache(NamedTuple):
    h_prev: np.ndarray
    r_t: np.ndarray
    z_t: np.ndarray
    n_t: np.ndarray
    gh_n: np.ndarray | None  # torch form: W_hn h_{t-1} + b_hn (what r_t multiplies)
    rh_prev: np.ndarray | None  # slide form: r_t ⊙ h_{t-1} (what W_hn multiplies)
    form: str


def gru_step_forward(
    gx_t: np.ndarray,
    h_prev: np.ndarray,
    W_hh: np.ndarray,
    b_hh: np.ndarray | None,
    form: str = "torch",
) -> tuple[np.ndarray, GRUCache]:
    r"""GRU step, in torch's form (default) or the slide's (Cho et al. 2014).

    Both share the gates (stacked rows r, z, n of W_ih, W_hh, b_ih, b_hh)::

        r_t = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)       reset gate
        z_t = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)       update gate

    ``form="torch"`` (torch.nn.GRUCell; reset applied *after* the hidden projection)::

        n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t-1} + b_hn))
        h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}

    ``form="slide"`` (reset applied *before* the projection; z_t weighs the candidate)::

        h̃_t = tanh(W_in x_t + b_in + W_hn (r_t ⊙ h_{t-1}) + b_hn)
        h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t

    (``n_t`` in the cache holds h̃_t for the slide form.)
    gx_t (B, 3H);  h_prev (B, H);  W_hh (3H, H);  b_hh (3H,) or None.
    Returns h_t (B, H) and the cache.
    """
    H = h_prev.shape[1]
    gh_rz = h_prev @ W_hh[: 2 * H].T
    if b_hh is not None:
        gh_rz += b_hh[: 2 * H]
    r_t = sigmoid(gx_t[:, :H] + gh_rz[:, :H])
    z_t = sigmoid(gx_t[:, H : 2 * H] + gh_rz[:, H:])
    b_hn = None if b_hh is None else b_hh[2 * H :]
    if form == "torch":
        gh_n = hidden_projection(h_prev, W_hh[2 * H :], b_hn)
        n_t = np.tanh(gx_t[:, 2 * H :] + r_t * gh_n)
        h_t = (1 - z_t) * n_t + z_t * h_prev
        return h_t, GRUCache(h_prev, r_t, z_t, n_t, gh_n, None, form)
    rh_prev = r_t * h_prev
    n_t = np.tanh(gx_t[:, 2 * H :] + hidden_projection(rh_prev, W_hh[2 * H :], b_hn))
    h_t = (1 - z_t) * h_prev + z_t * n_t
    return h_t, GRUCache(h_prev, r_t, z_t, n_t, None, rh_prev, form)


def gru_step_backward(
    dh_t: np.ndarray, cache: GRUCache, W_hh: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Backward of :func:`gru_step_forward`.

    torch form:  dn = dh ⊙ (1 − z);  dz = dh ⊙ (h_{t-1} − n);  da_n = dn ⊙ (1 − n²);
                 dgx_n = da_n;  dgh_n = da_n ⊙ r;  dr = da_n ⊙ (W_hn h_{t-1} + b_hn);
                 dh_{t-1} = dh ⊙ z + dgh W_hh.
    slide form:  dh̃ = dh ⊙ z;  dz = dh ⊙ (h̃ − h_{t-1});  da_n = dh̃ ⊙ (1 − h̃²);
                 d(r ⊙ h_{t-1}) = da_n W_hn;  dr = d(r⊙h) ⊙ h_{t-1};
                 dh_{t-1} = dh ⊙ (1 − z) + d(r⊙h) ⊙ r + dgh_rz W_hrz.
    Gates: da_r = dr ⊙ r(1 − r), da_z = dz ⊙ z(1 − z).

    Returns (dgx_t, dgh_t, dh_prev). ``dgh_t`` is the gradient of the hidden
    projection's *output*; its input is h_{t-1} for every block in the torch form,
    but r_t ⊙ h_{t-1} for the n block in the slide form (``cache.rh_prev``).
    """
    H = cache.h_prev.shape[1]
    r_t, z_t, n_t, h_prev = cache.r_t, cache.z_t, cache.n_t, cache.h_prev
    if cache.form == "torch":
        da_n = dh_t * (1 - z_t) * (1 - n_t * n_t)
        dz_t = dh_t * (h_prev - n_t)
        dr_t = da_n * cache.gh_n
        dgh_n = da_n * r_t
        dh_prev = dh_t * z_t
    else:
        da_n = dh_t * z_t * (1 - n_t * n_t)
        dz_t = dh_t * (n_t - h_prev)
        drh = da_n @ W_hh[2 * H :]
        dr_t = drh * h_prev
        dh_prev = dh_t * (1 - z_t) + drh * r_t
    da_r = dr_t * r_t * (1 - r_t)
    da_z = dz_t * z_t * (1 - z_t)
    dgx_t = np.concatenate([da_r, da_z, da_n], axis=1)
    if cache.form == "torch":
        dgh_t = np.concatenate([da_r, da_z, dgh_n], axis=1)
        dh_prev = dh_prev + dgh_t @ W_hh
    else:
        dgh_t = dgx_t
        dh_prev = dh_prev + dgh_t[:, : 2 * H] @ W_hh[: 2 * H]
    return dgx_t, dgh_t, dh_prev


def gru_hidden_inputs(cache: GRUCache) -> tuple[np.ndarray, np.ndarray]:
    """What the r/z blocks and the n block of W_hh multiply at this step."""
    return cache.h_prev, (cache.h_prev if cache.form == "torch" else cache.rh_prev)


# ---------------------------------------------------------------------------
# Whole cells (input projection + step): torch's RNNCell / LSTMCell / GRUCell as functions
# ---------------------------------------------------------------------------
class CellCache(NamedTuple):
    x: np.ndarray
    step: tuple
    params: dict


def _input_projection(x: np.ndarray, W_ih: np.ndarray, b_ih: np.ndarray | None) -> np.ndarray:
    gx = x @ W_ih.T
    if b_ih is not None:
        gx += b_ih
    return gx


def _cell_cache(x: np.ndarray, step: tuple, weight_ih: np.ndarray, weight_hh: np.ndarray,
                bias_ih: np.ndarray | None) -> CellCache:
    """What a cell's backward needs: its input, the step's cache and the weights."""
    params = {"weight_ih": weight_ih, "weight_hh": weight_hh, "bias": bias_ih is not None}
    return CellCache(x, step, params)


def _param_grads(
    x: np.ndarray, hh_in: np.ndarray, dgx: np.ndarray, dgh: np.ndarray, bias: bool
) -> dict[str, np.ndarray]:
    grads = {"weight_ih": dgx.T @ x, "weight_hh": dgh.T @ hh_in}
    if bias:
        grads["bias_ih"] = dgx.sum(axis=0)
        grads["bias_hh"] = dgh.sum(axis=0)
    return grads


# The cells mirror torch's RNNCell / LSTMCell / GRUCell one by one: alike signatures, own steps.
def elman_cell_forward(
    x: np.ndarray,
    h_prev: np.ndarray,
    weight_ih: np.ndarray,
    weight_hh: np.ndarray,
    bias_ih: np.ndarray | None = None,
    bias_hh: np.ndarray | None = None,
    nonlinearity: str = "tanh",
) -> tuple[np.ndarray, CellCache]:
    """torch.nn.RNNCell: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh). x (B, I), h (B, H)."""
    h_t, step = elman_step_forward(
        _input_projection(x, weight_ih, bias_ih), h_prev, weight_hh, bias_hh, nonlinearity
    )
    return h_t, _cell_cache(x, step, weight_ih, weight_hh, bias_ih)


def elman_cell_backward(dh_t: np.ndarray, cache: CellCache) -> dict[str, np.ndarray]:
    """Gradients of :func:`elman_cell_forward`: keys x, h_prev, weight_ih, weight_hh[, bias_*]."""
    p = cache.params
    dgx, dgh, dh_prev = elman_step_backward(dh_t, cache.step, p["weight_hh"])
    grads = _param_grads(cache.x, cache.step.h_prev, dgx, dgh, p["bias"])
    return {"x": dgx @ p["weight_ih"], "h_prev": dh_prev, **grads}


def lstm_cell_forward(
    x: np.ndarray,
    h_prev: np.ndarray,
    c_prev: np.ndarray,
    weight_ih: np.ndarray,
    weight_hh: np.ndarray,
    bias_ih: np.ndarray | None = None,
    bias_hh: np.ndarray | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], CellCache]:
    """torch.nn.LSTMCell: returns (h', c'). x (B, I), h (B, H), c (B, H)."""
    h_t, c_t, step = lstm_step_forward(
        _input_projection(x, weight_ih, bias_ih), h_prev, c_prev, weight_hh, bias_hh
    )
    return (h_t, c_t), _cell_cache(x, step, weight_ih, weight_hh, bias_ih)


def lstm_cell_backward(
    dh_t: np.ndarray, dc_t: np.ndarray, cache: CellCache
) -> dict[str, np.ndarray]:
    """Gradients of :func:`lstm_cell_forward`: keys x, h_prev, c_prev, weight_*[, bias_*]."""
    p = cache.params
    dgx, dgh, dh_prev, dc_prev = lstm_step_backward(dh_t, dc_t, cache.step, p["weight_hh"])
    grads = _param_grads(cache.x, cache.step.h_prev, dgx, dgh, p["bias"])
    return {"x": dgx @ p["weight_ih"], "h_prev": dh_prev, "c_prev": dc_prev, **grads}


def gru_cell_forward(
    x: np.ndarray,
    h_prev: np.ndarray,
    weight_ih: np.ndarray,
    weight_hh: np.ndarray,
    bias_ih: np.ndarray | None = None,
    bias_hh: np.ndarray | None = None,
    form: str = "torch",
) -> tuple[np.ndarray, CellCache]:
    """torch.nn.GRUCell (``form="torch"``) or the slide's GRU (``form="slide"``)."""
    h_t, step = gru_step_forward(
        _input_projection(x, weight_ih, bias_ih), h_prev, weight_hh, bias_hh, form
    )
    return h_t, _cell_cache(x, step, weight_ih, weight_hh, bias_ih)


def gru_weight_hh_grad(dgh: np.ndarray, h_in: np.ndarray, rh_in: np.ndarray) -> np.ndarray:
    """dW_hh for the GRU: r/z rows from h_{t-1}, n rows from what W_hn multiplied.

    dgh (N, 3H), h_in and rh_in (N, H) with N = all (step, batch) rows together.
    """
    H = h_in.shape[1]
    if rh_in is h_in:
        return dgh.T @ h_in
    return np.concatenate([dgh[:, : 2 * H].T @ h_in, dgh[:, 2 * H :].T @ rh_in], axis=0)


def gru_cell_backward(dh_t: np.ndarray, cache: CellCache) -> dict[str, np.ndarray]:
    """Gradients of :func:`gru_cell_forward`: keys x, h_prev, weight_ih, weight_hh[, bias_*]."""
    p = cache.params
    dgx, dgh, dh_prev = gru_step_backward(dh_t, cache.step, p["weight_hh"])
    h_in, rh_in = gru_hidden_inputs(cache.step)
    grads = _param_grads(cache.x, h_in, dgx, dgh, p["bias"])
    grads["weight_hh"] = gru_weight_hh_grad(dgh, h_in, rh_in)
    return {"x": dgx @ p["weight_ih"], "h_prev": dh_prev, **grads}
