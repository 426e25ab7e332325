r"""Fast paths: one direction of one layer, whole sequence, with preallocated buffers.

The same mathematics as the step functions of :mod:`scratchrnn.cells` (which stay
the reference: ``tests/test_fastpath.py`` checks every path against them and torch),
arranged for speed. At the labs' sizes (B = 64, H = 64) a NumPy call on one
(B, H) block costs about as much in call overhead as in arithmetic, and ``tanh``
costs about twice ``exp`` per element (on the ``Haswell`` machine these rules were tuned
on; on the ``SkylakeX`` one of docs/performance.md's latest table ``tanh`` takes ~0.85×
``exp``, and the gates were not re-tuned for it), so the rules are: few calls per step, no
allocation in the loop, ``exp`` for every gate, and all the work that does not
depend on the previous step done once per call, on whole-sequence arrays:

* every activation of the sequence lives in one preallocated array, written with
  ``out=``; the backward reads those arrays;
* the hidden bias is folded into the input projections once (b_ih + b_hh), except
  the GRU's b_hn which sits inside r ⊙ (W_hn h + b_hn);
* sigmoids are σ(a) = 1 / (1 + e^{−a}): the sign is folded into the weights and the
  projections once per call, so a step is ``matmul, +, exp, +1, reciprocal`` on its
  gate blocks; the LSTM's candidate joins that block as tanh(a) = 2σ(2a) − 1
  (its rows scaled by 2), so one ``exp`` serves all four gates. e^{−a} overflows to
  +inf for a < −88 (float32) and 1/(1 + inf) = 0 is then σ's value to within
  1e-38: the loops run under ``np.errstate(over="ignore")`` for that saturation
  alone (no other overflow is possible with finite inputs, and invalid/divide
  warnings stay on), so pre-activations of ±1e4 give exact 0/1 gates and no warning
  (inside ``errstate`` each NumPy call costs ~0.5 µs more: only these loops use it);
* constants are 0-d arrays of the dtype (``_constants``), not Python numbers, which
  a ufunc converts on every call;
* the backward's factors that do not depend on the incoming gradient (1 − h², the
  gates' σ(1 − σ) times what they multiply, …) are computed for all steps at once
  before the loop, so a step is a handful of multiplications and one matrix product;
  where several gate blocks take the same factor (the LSTM's dC_t reaches i, f and g)
  one broadcast call writes them all;
* ∂L/∂h_t accumulates in place: each step's ``dA_t W_hh`` is written straight into
  the next step's gradient buffer;
* the Elman's per-step products are ``np.dot(·, W, out=·)`` with a C-contiguous W
  (W_hh^T copied once per call): OpenBLAS multiplies by the transposed view W_hh.T
  ~1.5× slower at (64, 64), and ``np.dot`` calls BLAS ~0.4 µs sooner than the
  ``matmul`` ufunc (``bench/run.py``'s per-call table).

Elementwise work per step at batch B, hidden H (the matrix products aside; the
forward's ``+ gx_t`` is counted with the gates):

    Elman   forward 2 calls, 2·BH elements;  backward 2 calls, 2·BH
    LSTM    forward 11 calls, 4·4BH + 7·BH;  backward 6 calls, 3BH + 5·BH
    GRU     forward 11 calls, 4·2BH + 7·BH;  backward 4 calls, 3BH + 3·BH

Memory: a call allocates a few MiB of whole-sequence arrays and frees them at the end.
glibc's malloc returns such blocks to the kernel (``munmap``, or trimming the heap top)
and the next call takes them back one page fault per 4 KiB; on a virtual machine a
fault costs microseconds, and on this project's machine the faults took 40–50 % of an
LSTM's forward + backward. :func:`retain_freed_memory` (run once, at the first fast
forward) raises glibc's mmap and trim thresholds so that freed blocks stay in the
process for the next call, as torch's allocator keeps its own; memory then stays at
its peak. It is a process-wide setting, a no-op off glibc, and
``SCRATCHRNN_KEEP_FREED_MEMORY=0`` turns it off.

Each forward computes its own input projections, one matrix product per gate block
over all T·B rows with the gate scales folded into a copy of W_ih (a power of two:
exact), written gate-outer, Y (G, T, B, H), so that each product fills one contiguous
slab and one contiguous pass adds the folded biases b_ih + b_hh. The steps then turn Y
into the gates in place: each step's recurrent product goes to a small (G, B, H)
buffer that stays in cache and is added to the step's blocks Y[:, t]; and in the
backward each gate over all steps, Y[k], is one contiguous (T, B, H) array.

Arrays are time-major: x (T, B, In) is the layer's input; ``mask``
(T, B, 1) bool or None (None whenever every sequence has all T steps); processing
runs t = 0 … T−1, or backwards if ``reverse``. Each ``*_forward`` returns
(out (T, B, H), h_n, c_n or None, cache); each ``*_backward`` returns
(dGX, dGH, H_prev, dh0, dc0 or None, G) with dGX, dGH (T, B, G·H) in torch's gate
order, H_prev (T, B, H) — the state each step's W_hh multiplied — and G (T, B, H) =
∂L/∂h_t, the total gradient reaching each step's state; all in time order.
"""

from __future__ import annotations

import ctypes
import os
from typing import NamedTuple

import numpy as np


class FastCache(NamedTuple):
    S: np.ndarray  # (T+1, B, H) states in processing order: S[0] = h0
    act: tuple  # per-cell activations (time order)
    mask: np.ndarray | None
    reverse: bool


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
_retained = False


def retain_freed_memory() -> bool:
    """Keep freed blocks below 32 MiB in the process (glibc): see the module docstring.

    Returns whether the setting is in force. Runs its ``mallopt`` calls once.
    """
    global _retained
    if _retained or os.environ.get("SCRATCHRNN_KEEP_FREED_MEMORY", "1") == "0":
        return _retained
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS, Windows): nothing to do
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    _retained = bool(mallopt(_M_MMAP_THRESHOLD, 32 << 20)) and bool(
        mallopt(_M_TRIM_THRESHOLD, 1 << 30))
    return _retained


def _order(T: int, reverse: bool) -> list[int]:
    """Time indices in processing order."""
    return list(range(T - 1, -1, -1)) if reverse else list(range(T))


def _time_ordered(S_prev: np.ndarray, reverse: bool) -> np.ndarray:
    """States before each step, from processing order to time order."""
    return S_prev[::-1] if reverse else S_prev


def _outputs(S: np.ndarray, mask, reverse: bool) -> np.ndarray:
    """The outputs in time order: zero at padded steps (a new array), else a read-only
    view of the states (the backward reads them: writing into them would corrupt it)."""
    out = _time_ordered(S[1:], reverse)
    if mask is not None:
        return out * mask
    out = out.view()
    out.flags.writeable = False
    return out


def _gate_scale(blocks, H: int, dtype) -> np.ndarray:
    """Per-row factors of a stacked gate projection: block k scaled by blocks[k]."""
    return np.repeat(np.asarray(blocks, dtype=dtype), H)


def _projections(x, W_ih, bias, scale, G: int) -> np.ndarray:
    """scale ⊙ (x_t W_ih^T + bias) for every t, gate-outer: A (G, T, B, H).

    One matrix product per gate block over all T·B rows, each written straight into its
    contiguous (T·B, H) slab (the scale folded into W_ih's rows), then one contiguous pass
    adds the scaled bias. ``scale`` (G·H,) or None; ``bias`` (G·H,) or None.
    """
    T, B, In = x.shape
    H = W_ih.shape[0] // G
    W = W_ih if scale is None else W_ih * scale[:, None]
    A = np.empty((G, T, B, H), dtype=x.dtype)
    np.matmul(x.reshape(T * B, In), W.reshape(G, H, In).transpose(0, 2, 1),
              out=A.reshape(G, T * B, H))
    if bias is not None:
        A += (bias if scale is None else bias * scale).reshape(G, 1, 1, H)
    return A


def _constants(dtype) -> tuple[np.ndarray, np.ndarray]:
    """1 and 2 as 0-d arrays of ``dtype``: a ufunc takes them faster than Python numbers
    (no scalar conversion per call: ~1 µs of a ~3 µs call on a (64, 64) block)."""
    return np.ones((), dtype), np.full((), 2, dtype)


def _bias_sum(b_ih, b_hh):
    """b_ih + b_hh, or None without biases."""
    return None if b_ih is None else b_ih + b_hh


def _first_gradient(d_out, dh_n, mask, order, G):
    """G[t_last] = dh_n + d_out[t_last] (d_out zeroed at padded steps); returns d_out."""
    if mask is not None:
        d_out = d_out * mask
    np.add(dh_n, d_out[order[0]], out=G[order[0]])
    return d_out


def _steps_back(order, G, d_out, dh0):
    """Per step of the backward, in its order: (t, the buffer holding ∂L/∂h_t, the buffer
    that receives dA_t W_hh — the next step's G, or dh0 after the last — and the d_out
    to add there, None after the last step)."""
    later = order[1:]
    return zip(order, [G[t] for t in order], [G[t] for t in later] + [dh0],
               [d_out[t] for t in later] + [None], strict=True)


# ---------------------------------------------------------------------------
# Elman
# ---------------------------------------------------------------------------
def elman_forward(x, h0, W_ih, W_hh, b_ih, b_hh, nonlinearity, mask, reverse):
    """h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)  (or ReLU), all steps."""
    retain_freed_memory()
    A = _projections(x, W_ih, _bias_sum(b_ih, b_hh), None, 1)[0]  # (T, B, H)
    T, B, H = A.shape
    padded = None if mask is None else ~mask  # steps where a sequence has ended
    W = np.ascontiguousarray(W_hh.T)  # see the module docstring: not the transposed view
    S = np.empty((T + 1, B, H), dtype=A.dtype)
    S[0] = h0
    for k, t in enumerate(_order(T, reverse)):
        h = S[k + 1]
        np.dot(S[k], W, out=h)
        h += A[t]
        if nonlinearity == "tanh":
            np.tanh(h, out=h)
        else:
            np.maximum(h, 0, out=h)
        if mask is not None:
            np.copyto(h, S[k], where=padded[t])
    return _outputs(S, mask, reverse), S[T], None, FastCache(S, (nonlinearity,), mask, reverse)


def elman_backward(d_out, dh_n, dc_n, cache: FastCache, W_hh):
    S, mask, reverse = cache.S, cache.mask, cache.reverse
    T, B, H = S.shape[0] - 1, S.shape[1], S.shape[2]
    H_new = _time_ordered(S[1:], reverse)
    # da_t = dh_t ⊙ D_t:  D = 1 − h_t² (tanh)  or  [h_t > 0] (ReLU);  0 at padded steps.
    # dA holds D until each step multiplies its block by dh_t in place (one array, not two)
    dA = np.empty((T, B, H), dtype=S.dtype)
    if cache.act[0] == "tanh":
        np.multiply(H_new, H_new, out=dA)
        np.subtract(1, dA, out=dA)
    else:
        np.greater(H_new, 0, out=dA)
    padded = None if mask is None else (~mask).astype(S.dtype)
    if mask is not None:
        dA *= mask
    order = _order(T, not reverse)  # the backward runs against the processing order
    G = np.empty((T, B, H), dtype=S.dtype)  # ∂L/∂h_t, the total gradient at each state
    d_out = _first_gradient(d_out, dh_n, mask, order, G)
    dh0 = np.empty((B, H), dtype=S.dtype)
    for t, g, dh_prev, d_out_prev in _steps_back(order, G, d_out, dh0):
        np.multiply(g, dA[t], out=dA[t])
        np.dot(dA[t], W_hh, out=dh_prev)
        if mask is not None:
            dh_prev += g * padded[t]  # padded step: the state passed straight through
        if d_out_prev is not None:
            dh_prev += d_out_prev
    return dA, dA, _time_ordered(S[:-1], reverse), dh0, None, G


# ---------------------------------------------------------------------------
# LSTM (no projection), torch's gate order i, f, g, o
# ---------------------------------------------------------------------------
def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh, mask, reverse):
    """C_t = f ⊙ C_{t-1} + i ⊙ g,  h_t = o ⊙ tanh(C_t), all steps (gates i, f, g, o)."""
    T, B, _ = x.shape
    H = W_hh.shape[1]
    dt = x.dtype
    one, two = _constants(dt)
    padded = None if mask is None else ~mask
    # one exp for all four gates: e = exp(−a) on i, f, o and exp(−2a) on g, so that
    # 1 / (1 + e) is σ(a) on i, f, o and σ(2a) on g, and g = tanh(a) = 2σ(2a) − 1
    scale = _gate_scale((-1, -1, -2, -1), H, dt)
    retain_freed_memory()
    # Y (4, T, B, H) starts as scale ⊙ (x_t W_ih^T + b_ih + b_hh); each step adds its
    # scale ⊙ h_{t-1} W_hh^T and turns its four blocks into the gates i, f, g, o in place
    Y = _projections(x, W_ih, _bias_sum(b_ih, b_hh), scale, 4)
    W4 = np.ascontiguousarray((W_hh * scale[:, None]).reshape(4, H, H).transpose(0, 2, 1))
    S = np.empty((T + 1, B, H), dtype=dt)
    C = np.empty((T + 1, B, H), dtype=dt)
    S[0], C[0] = h0, c0
    gh = np.empty((4, B, H), dtype=dt)  # the step's product, in a buffer that stays in cache
    TC = np.empty((T, B, H), dtype=dt)  # tanh(C_t)
    with np.errstate(over="ignore"):  # exp(−a) = inf: σ(a) = 0, its limit
        for k, t in enumerate(_order(T, reverse)):
            y = Y[:, t]
            np.matmul(S[k], W4, out=gh)
            np.add(y, gh, out=y)
            np.exp(y, out=y)
            np.add(y, one, out=y)
            np.reciprocal(y, out=y)
            i_t, f_t, g_t, o_t = y
            np.multiply(g_t, two, out=g_t)
            np.subtract(g_t, one, out=g_t)
            c, tc = C[k + 1], TC[t]
            np.multiply(f_t, C[k], out=c)
            np.multiply(i_t, g_t, out=tc)
            np.add(c, tc, out=c)
            np.tanh(c, out=tc)
            np.multiply(o_t, tc, out=S[k + 1])
            if mask is not None:
                np.copyto(S[k + 1], S[k], where=padded[t])
                np.copyto(c, C[k], where=padded[t])
    cache = FastCache(S, (C, Y, TC), mask, reverse)
    return _outputs(S, mask, reverse), S[T], C[T], cache


def lstm_backward(d_out, dh_n, dc_n, cache: FastCache, W_hh):
    S, mask, reverse = cache.S, cache.mask, cache.reverse
    C, Y, TC = cache.act
    _, T, B, H = Y.shape
    G4 = 4 * H
    dt = Y.dtype
    one, _ = _constants(dt)
    C_prev = _time_ordered(C[:-1], reverse)
    i, f, g, o = Y  # each (T, B, H), contiguous
    # dC_t = dc + dh_t ⊙ Q_t,  Q = o ⊙ (1 − tanh² C_t)
    Q = np.multiply(TC, TC)
    np.subtract(one, Q, out=Q)
    Q *= o
    # da_t = [dC_t ⊙ P_i, dC_t ⊙ P_f, dC_t ⊙ P_g, dh_t ⊙ P_o]:
    # P_i = g σ'(i), P_f = C_{t-1} σ'(f), P_g = i (1 − g²), P_o = tanh(C_t) σ'(o)
    P = np.subtract(one, Y)
    P *= Y
    P_g = P[2]
    np.multiply(g, g, out=P_g)
    np.subtract(one, P_g, out=P_g)
    P[0] *= g
    P[1] *= C_prev
    P_g *= i
    P[3] *= TC
    padded = None if mask is None else ~mask
    if mask is not None:
        P *= mask
        Q *= mask
    order = _order(T, not reverse)
    dA = np.empty((T, B, 4, H), dtype=dt)  # torch's layout (i, f, g, o) for the products
    dA4 = dA.transpose(0, 2, 1, 3)  # (T, 4, B, H) view
    G = np.empty((T, B, H), dtype=dt)  # ∂L/∂h_t
    d_out = _first_gradient(d_out, dh_n, mask, order, G)
    dC = np.empty((B, H), dtype=dt)
    dc = dc_n
    dh0 = np.empty((B, H), dtype=dt)
    for t, g_t, dh_prev, d_out_prev in _steps_back(order, G, d_out, dh0):
        np.multiply(g_t, Q[t], out=dC)
        np.add(dC, dc, out=dC)
        np.multiply(P[:3, t], dC, out=dA4[t, :3])  # di, df, dg
        np.multiply(g_t, P[3, t], out=dA4[t, 3])  # do
        np.matmul(dA[t].reshape(B, G4), W_hh, out=dh_prev)
        dc_prev = dC * f[t]
        if mask is not None:
            dh_prev += g_t * padded[t]
            np.copyto(dc_prev, dc, where=padded[t])
        if d_out_prev is not None:
            np.add(dh_prev, d_out_prev, out=dh_prev)
        dc = dc_prev
    dA = dA.reshape(T, B, G4)
    return dA, dA, _time_ordered(S[:-1], reverse), dh0, dc, G


# ---------------------------------------------------------------------------
# GRU (torch form), gate order r, z, n
# ---------------------------------------------------------------------------
def gru_forward(x, h0, W_ih, W_hh, b_ih, b_hh, mask, reverse):
    """r, z = σ(·);  n = tanh(gx_n + r ⊙ (W_hn h + b_hn));  h' = n + z ⊙ (h − n)."""
    T, B, _ = x.shape
    H = W_hh.shape[1]
    dt = x.dtype
    one, _ = _constants(dt)
    padded = None if mask is None else ~mask
    # r, z from e = exp(−a): the r, z rows of W_hh and the projections negated once
    scale = _gate_scale((-1, -1, 1), H, dt)
    retain_freed_memory()
    bias = None
    if b_hh is not None:  # b_ih + b_hh on r and z; b_hn stays inside r ⊙ (·)
        bias = b_ih.copy()
        bias[:2 * H] += b_hh[:2 * H]
        b_hn = b_hh[2 * H:]
    # Y (3, T, B, H) starts as −(gx_rz + b_hrz) and gx_n; each step turns its blocks
    # into r_t, z_t and n_t in place
    Y = _projections(x, W_ih, bias, scale, 3)
    RZ, N = Y[:2], Y[2]
    W3 = np.ascontiguousarray((W_hh * scale[:, None]).reshape(3, H, H).transpose(0, 2, 1))
    S = np.empty((T + 1, B, H), dtype=dt)
    S[0] = h0
    gh = np.empty((3, B, H), dtype=dt)  # −(h W_hr^T), −(h W_hz^T), h W_hn^T
    rg = np.empty((B, H), dtype=dt)  # r ⊙ (W_hn h + b_hn)
    GHn = np.empty((T, B, H), dtype=dt)  # W_hn h_{t-1} + b_hn: what r multiplies
    with np.errstate(over="ignore"):  # exp(−a) = inf: σ(a) = 0, its limit
        for k, t in enumerate(_order(T, reverse)):
            np.matmul(S[k], W3, out=gh)
            rz = RZ[:, t]
            np.add(rz, gh[:2], out=rz)
            np.exp(rz, out=rz)
            np.add(rz, one, out=rz)
            np.reciprocal(rz, out=rz)
            r_t, z_t = rz
            ghn = GHn[t]
            if b_hh is not None:
                np.add(gh[2], b_hn, out=ghn)
            else:
                ghn[...] = gh[2]
            n = N[t]
            np.multiply(r_t, ghn, out=rg)
            np.add(n, rg, out=n)
            np.tanh(n, out=n)
            h = S[k + 1]
            np.subtract(S[k], n, out=h)
            np.multiply(h, z_t, out=h)
            np.add(h, n, out=h)
            if mask is not None:
                np.copyto(h, S[k], where=padded[t])
    cache = FastCache(S, (RZ, N, GHn), mask, reverse)
    return _outputs(S, mask, reverse), S[T], None, cache


def gru_backward(d_out, dh_n, dc_n, cache: FastCache, W_hh):
    S, mask, reverse = cache.S, cache.mask, cache.reverse
    RZ, N, GHn = cache.act
    T, B, H = N.shape
    dt = N.dtype
    one, _ = _constants(dt)
    H_prev = _time_ordered(S[:-1], reverse)
    r, z = RZ  # each (T, B, H), contiguous
    # dGH_t = dh_t ⊙ [Dr, Dz, Dn ⊙ r] (one broadcast call per step) with
    # Dn = (1 − z)(1 − n²)  (da_n = dh ⊙ Dn),  Dz = (h_{t-1} − n) z (1 − z),
    # Dr = Dn ⊙ (W_hn h + b_hn) ⊙ r (1 − r);  dGX = dGH but for da_n = dh ⊙ Dn
    one_minus_z = np.subtract(one, z)
    Dn = np.multiply(N, N)
    np.subtract(one, Dn, out=Dn)
    Dn *= one_minus_z
    D = np.empty((T, 3, B, H), dtype=dt)
    Dr, Dz, Dnr = D[:, 0], D[:, 1], D[:, 2]
    np.subtract(one, r, out=Dr)
    Dr *= r
    Dr *= GHn
    Dr *= Dn
    np.subtract(H_prev, N, out=Dz)
    Dz *= z
    Dz *= one_minus_z
    np.multiply(Dn, r, out=Dnr)
    Zc = z  # the direct path dh_{t-1} += dh ⊙ z_t; a padded step passes dh through whole
    if mask is not None:
        D *= mask[:, None]
        Dn *= mask
        Zc = np.where(mask, z, 1)
    order = _order(T, not reverse)
    dGH = np.empty((T, B, 3, H), dtype=dt)  # torch's layout (r, z, n) for the products
    dGH3 = dGH.transpose(0, 2, 1, 3)  # (T, 3, B, H) view
    G = np.empty((T, B, H), dtype=dt)  # ∂L/∂h_t
    d_out = _first_gradient(d_out, dh_n, mask, order, G)
    carry = np.empty((B, H), dtype=dt)
    dh0 = np.empty((B, H), dtype=dt)
    for t, g_t, dh_prev, d_out_prev in _steps_back(order, G, d_out, dh0):
        np.multiply(D[t], g_t, out=dGH3[t])
        np.matmul(dGH[t].reshape(B, 3 * H), W_hh, out=dh_prev)
        np.multiply(g_t, Zc[t], out=carry)
        np.add(dh_prev, carry, out=dh_prev)
        if d_out_prev is not None:
            np.add(dh_prev, d_out_prev, out=dh_prev)
    dGH = dGH.reshape(T, B, 3 * H)
    dGX = np.empty_like(dGH)
    dGX[:, :, :2 * H] = dGH[:, :, :2 * H]
    np.multiply(G, Dn, out=dGX[:, :, 2 * H:])
    return dGX, dGH, H_prev, dh0, None, G
