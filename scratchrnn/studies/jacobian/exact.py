"""The Jacobian ∂h_T/∂h_{T−k}, exactly, through the hand-written backward.

See :mod:`scratchrnn.studies.jacobian` for the method: :func:`jacobian` computes one
distance through the module's public ``backward``; :func:`jacobian_sweep` and
:func:`jacobian_norms` every distance from one forward and one backward sweep.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ...checks import check_array
from ...recurrent import LSTM, Recurrent


# ---------------------------------------------------------------------------
# The Jacobian, exactly
# ---------------------------------------------------------------------------
def _check_module(module: Recurrent) -> int:
    if not isinstance(module, Recurrent):
        raise ValueError(f"module must be a scratchrnn sequence module, got {type(module)!r}")
    if module.num_layers != 1 or module.bidirectional or module.proj_size or module.batch_first:
        raise ValueError(
            "the Jacobian study needs a one-layer, unidirectional, time-major module without "
            f"projection; got num_layers={module.num_layers}, bidirectional="
            f"{module.bidirectional}, proj_size={module.proj_size}, batch_first="
            f"{module.batch_first} (see first_layer())"
        )
    return module.hidden_size


def _state0(module, B: int, h0, c0):
    H, dt = module.hidden_size, module.dtype
    h0 = np.zeros((1, B, H), dt) if h0 is None else np.asarray(h0, dt).reshape(1, B, H)
    if isinstance(module, LSTM):
        c0 = np.zeros((1, B, H), dt) if c0 is None else np.asarray(c0, dt).reshape(1, B, H)
    else:
        c0 = None
    return h0, c0


def _check_x(module: Recurrent, x: np.ndarray) -> np.ndarray:
    x = check_array("x", x, (None, None, module.input_size), module.dtype)
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"x must have at least one step and one sequence, got {x.shape}")
    return x


def _repeat_rows(hx, H: int):
    """State (1, B, ·), or the LSTM's pair of them, → (1, B·H, ·): copy j of sequence b in
    row b·H + j."""
    if isinstance(hx, tuple):
        return tuple(np.repeat(a, H, axis=1) for a in hx)
    return np.repeat(hx, H, axis=1)


def _identity_rows(B: int, H: int, dtype) -> np.ndarray:
    """(B·H, H): row b·H + j is e_j."""
    return np.tile(np.eye(H, dtype=dtype), (B, 1))


def jacobian(
    module: Recurrent,
    x: np.ndarray,
    k: int,
    h0: np.ndarray | None = None,
    c0: np.ndarray | None = None,
) -> np.ndarray:
    r"""∂h_T/∂(state at t = T − k) for each sequence, through the module's public backward.

    Forward over the first T − k inputs gives the state (h_t, and C_t for LSTM); then the
    module runs from that state over the last k inputs with each sequence replicated H
    times, and ``backward(d_output=0, d_h_n = identity rows)`` returns d_h0 = the rows
    of the Jacobian.

    x (T, B, I);  h0, c0 (B, H) or None (zeros);  1 ≤ k ≤ T.
    Returns J (B, H, H), or (B, H, 2H) = [∂h_T/∂h_t | ∂h_T/∂C_t] for LSTM.
    """
    H = _check_module(module)
    T, B, _ = _check_x(module, x).shape
    if not 1 <= k <= T:
        raise ValueError(f"distance k must lie in [1, {T}] (the number of steps), got {k}")
    h, c = _state0(module, B, h0, c0)
    hx = h if c is None else (h, c)
    if k < T:
        (_, hx), _ = module.forward(x[: T - k], hx)
    _, cache = module.forward(np.repeat(x[T - k :], H, axis=1), _repeat_rows(hx, H))
    eye = _identity_rows(B, H, module.dtype)[None]
    saved = {name: g.copy() for name, g in module.grads.items()}
    _, d_hx0, _ = module.backward(None, cache, eye if c is None else (eye, np.zeros_like(eye)))
    for name, g in saved.items():  # leave the module's gradients as they were
        module.grads[name][...] = g
    J = d_hx0[0] if c is None else np.concatenate([d_hx0[0][0], d_hx0[1][0]], axis=1)
    return J.reshape(B, H, -1)


def _replicate_cache(step_cache: tuple, H: int) -> tuple:
    """A step cache (NamedTuple) with every batch-leading array repeated H times per row."""
    return type(step_cache)(*(np.repeat(f, H, axis=0) if isinstance(f, np.ndarray) else f
                              for f in step_cache))


def _sweep(module, x, h0, c0) -> Iterator[np.ndarray]:
    """Yield J at distances k = 1, 2, …, T, each (B, H, S), from one forward and one backward."""
    H = _check_module(module)
    T, B, _ = _check_x(module, x).shape
    h, c = _state0(module, B, h0, c0)
    # The step functions' caches are what the sweep walks back through: switch off any
    # whole-sequence fast path for this forward (it keeps no per-step caches).
    reference, module.reference = module.reference, True
    try:
        _, cache = module.forward(x, h if c is None else (h, c))
    finally:
        module.reference = reference
    # Replicating the batch H times (row b·H + j = copy j of sequence b) is the same as
    # replicating every step's cache: the forward does not depend on the copy.
    steps = [_replicate_cache(s, H) for s in cache.layers[0][0].steps]
    W_hh = module.params["weight_hh_l0"]
    dh = _identity_rows(B, H, module.dtype)
    dc = None if c is None else np.zeros_like(dh)
    for t in reversed(range(T)):
        # step t maps the state after t inputs to the state after t + 1 inputs
        _, _, dh, dc = module.step_backward(dh, dc, steps[t], W_hh, None)
        J = dh if dc is None else np.concatenate([dh, dc], axis=1)
        yield J.reshape(B, H, -1)


def jacobian_sweep(
    module: Recurrent,
    x: np.ndarray,
    h0: np.ndarray | None = None,
    c0: np.ndarray | None = None,
) -> np.ndarray:
    r"""∂h_T/∂(state at T − k) for every distance k = 1 … T, from one backward sweep.

    x (T, B, I);  h0, c0 (B, H) or None. Returns J (T, B, H, S) with J[k − 1] the
    Jacobian at distance k; S = H, or 2H for LSTM ([∂h_T/∂h_t | ∂h_T/∂C_t]).
    Equal to :func:`jacobian` at each k (tested).
    """
    return np.stack(list(_sweep(module, x, h0, c0)))


def matrix_norms(J: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(spectral, frobenius) norms of a stack of matrices J (..., m, n), each of shape (...)."""
    spectral = np.linalg.svd(J, compute_uv=False)[..., 0]
    frobenius = np.sqrt(np.sum(J * J, axis=(-2, -1)))
    return spectral, frobenius


def jacobian_norms(
    module: Recurrent,
    x: np.ndarray,
    h0: np.ndarray | None = None,
    c0: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Spectral and Frobenius norms of ∂h_T/∂h_{T−k}, k = 1 … T: two arrays (T, B)."""
    spectral, frobenius = [], []
    for J in _sweep(module, x, h0, c0):
        s, f = matrix_norms(J)
        spectral.append(s)
        frobenius.append(f)
    return np.stack(spectral), np.stack(frobenius)
