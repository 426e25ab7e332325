r"""Vanishing gradients, measured exactly: ‖∂h_T/∂h_t‖ against the distance k = T − t.

BPTT multiplies one step Jacobian per time step::

    ∂h_T/∂h_t = ∂h_T/∂h_{T-1} · ∂h_{T-1}/∂h_{T-2} ⋯ ∂h_{t+1}/∂h_t          (H × H)

and for the Elman RNN each factor is diag(1 − h_s²) W_hh (tanh) or diag([a_s > 0]) W_hh
(ReLU), so the product shrinks (or grows) roughly geometrically with k: the slides'
"vanishing gradient". The gated cells add a path through the identity (residual) or a
gated identity (μ ⊙ h, LSTM's f ⊙ C, GRU's z ⊙ h) that can keep it from vanishing.

**How it is computed.** Exactly, with the hand-written backward, never by autograd:
the batch is replicated H times (copy j of sequence b in row b·H + j) and the backward
sweep starts from the identity, d h_T = e_j in row b·H + j, with no gradient on the
outputs. Every backward step maps the rows of ∂h_T/∂h_s to the rows of ∂h_T/∂h_{s-1},
so one forward and one backward sweep give the Jacobian at every distance k = 1 … T
(:func:`jacobian_sweep`). :func:`jacobian` computes one distance as the public API
would (forward over the first T − k inputs, then the module's ``backward`` from that
state over the last k inputs with ``d_h_n`` = identity rows: ``d_h0`` *is* the
Jacobian); the tests check both against each other and against finite differences.

**LSTM.** Its state is the pair (h, C). Its Jacobian here is the H × 2H matrix
[∂h_T/∂h_t | ∂h_T/∂C_t]: how the output state at T depends on the whole state at t.
Its norms are those of this matrix (so at k = 0 its spectral norm would be 1, as for
the other cells, and its Frobenius norm √H).

Norms: ``spectral`` = largest singular value ‖J‖₂ (the worst-case gain of a gradient
flowing back k steps), ``frobenius`` = √Σ J_ij² (≥ spectral, ≤ √rank · spectral).

Studies (each returns :class:`JacobianCurve` objects; :func:`write_csv` and
:func:`plot_curves` export them; :func:`run` does everything into a directory):

* :func:`at_initialisation` — every cell at torch's default initialisation, inputs
  x ~ N(0, 1), averaged over seeds (a fresh model and fresh inputs per seed);
* :func:`radius_sweep` — Elman with W_hh rescaled to spectral radius ρ (max |eigenvalue|);
* :func:`trained_model` — the recurrent layer of a trained surname classifier, on
  embedded real surnames (distance counted back from each surname's last step).

The decay rate (:meth:`JacobianCurve.fit`) is the least-squares slope s of
log₁₀(mean norm) against k, over the distances where the mean norm exceeds 1e-30:
the norm changes by a factor 10^s per step, i.e. ×0.1 every −1/s steps.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..checks import check_array
from ..fileio import atomic_text, save_figure
from ..gating import GatedRNN
from ..recurrent import GRU, LSTM, RNN, Recurrent
from . import make_recurrent, pyplot

JACOBIAN_CELLS = ("elman-tanh", "elman-relu", "residual", "input-gating", "hidden-gating",
                  "lstm", "gru")
NORMS = ("spectral", "frobenius")
FIT_FLOOR = 1e-30


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


# ---------------------------------------------------------------------------
# Curves, fits
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class DecayFit:
    """log₁₀ ‖J_k‖ ≈ intercept + slope · k, fitted by least squares over ``points`` distances."""

    slope: float  # log10 change per step
    intercept: float
    points: int

    @property
    def factor_per_step(self) -> float:
        """The norm's ratio from one distance to the next: 10^slope."""
        return 10.0 ** self.slope if math.isfinite(self.slope) else math.nan

    @property
    def steps_per_decade(self) -> float:
        """Steps for a factor of 10: 1/|slope| (decay if slope < 0, growth if > 0)."""
        return 1.0 / abs(self.slope) if math.isfinite(self.slope) and self.slope else math.inf

    def describe(self) -> str:
        if not math.isfinite(self.slope):
            return "no fit (fewer than 2 distances with norm > 1e-30)"
        way = "÷10" if self.slope < 0 else "×10"
        return (f"×{self.factor_per_step:.3g} per step "
                f"({way} every {self.steps_per_decade:.3g} steps)")


def fit_decay(distances: np.ndarray, norms: np.ndarray, floor: float = FIT_FLOOR) -> DecayFit:
    """Least-squares line through (k, log₁₀ norm) over the distances where floor < norm < ∞."""
    d = np.asarray(distances, dtype=np.float64)
    n = np.asarray(norms, dtype=np.float64)
    ok = np.isfinite(n) & (n > floor)
    if ok.sum() < 2:
        return DecayFit(math.nan, math.nan, int(ok.sum()))
    slope, intercept = np.polyfit(d[ok], np.log10(n[ok]), 1)
    return DecayFit(float(slope), float(intercept), int(ok.sum()))


@dataclass
class JacobianCurve:
    """Norms of ∂h_T/∂h_{T−k} for one configuration, per sample (seed × sequence).

    ``spectral`` and ``frobenius`` are (N, K) for N samples and K distances
    (``distances``, usually 1 … K); NaN marks a distance a sample does not reach
    (a surname shorter than k).
    """

    label: str
    cell: str
    distances: np.ndarray
    spectral: np.ndarray
    frobenius: np.ndarray
    study: str = "init"
    rho: float | None = None
    meta: dict = field(default_factory=dict)

    def _norms(self, norm: str) -> np.ndarray:
        if norm not in NORMS:
            raise ValueError(f"norm must be 'spectral' or 'frobenius', got {norm!r}")
        return self.spectral if norm == "spectral" else self.frobenius

    def counts(self) -> np.ndarray:
        """(K,) samples that reach each distance."""
        return np.sum(np.isfinite(self.spectral), axis=0)

    def mean(self, norm: str = "spectral") -> np.ndarray:
        """(K,) arithmetic mean over samples."""
        a = self._norms(norm)
        return np.nansum(a, axis=0) / np.maximum(self.counts(), 1)

    def gmean(self, norm: str = "spectral") -> np.ndarray:
        """(K,) geometric mean over samples (0 if any sample's norm is exactly 0)."""
        a = self._norms(norm)
        with np.errstate(divide="ignore"):
            logs = np.where(np.isfinite(a), np.log10(np.where(np.isfinite(a), a, 1.0)), 0.0)
        return 10.0 ** (logs.sum(axis=0) / np.maximum(self.counts(), 1))

    def fit(self, norm: str = "spectral") -> DecayFit:
        """The decay rate of the mean norm (see :func:`fit_decay`)."""
        return fit_decay(self.distances, self.mean(norm))

    def at(self, k: int, norm: str = "spectral") -> float:
        """Mean norm at distance k (NaN if not measured)."""
        idx = np.flatnonzero(self.distances == k)
        return float(self.mean(norm)[idx[0]]) if idx.size else math.nan


def _curve_from_samples(label, cell, spectral, frobenius, study, rho=None, meta=None):
    K = spectral.shape[1]
    return JacobianCurve(label, cell, np.arange(1, K + 1), spectral, frobenius, study, rho,
                         meta or {})


def _seed_rngs(seed: int, s: int) -> tuple[np.random.Generator, np.random.Generator]:
    """(model rng, input rng) for seed index s: the same inputs for every cell."""
    return np.random.default_rng([seed, s, 0]), np.random.default_rng([seed, s, 1])


def _resolve_sizes(hidden_size: int, input_size: int | None) -> tuple[int, int]:
    return hidden_size, hidden_size if input_size is None else input_size


def cell_curve(
    cell: str,
    T: int = 100,
    hidden_size: int = 64,
    input_size: int | None = None,
    seeds: int = 5,
    batch: int = 4,
    seed: int = 0,
    rho: float | None = None,
    label: str | None = None,
) -> JacobianCurve:
    """Norms for one cell at initialisation: ``seeds`` models × ``batch`` sequences of length T.

    Inputs x ~ N(0, 1) of size ``input_size`` (default H); float64. With ``rho`` the
    model's W_hh is first rescaled to spectral radius ρ (max |eigenvalue| of each
    G·H × H block's square part — meaningful for the Elman cells, where W_hh is H × H).
    """
    H, I = _resolve_sizes(hidden_size, input_size)
    spectral, frobenius = [], []
    for s in range(seeds):
        model_rng, input_rng = _seed_rngs(seed, s)
        module = make_recurrent(cell, I, H, np.float64, model_rng)
        if rho is not None:
            set_spectral_radius(module, rho)
        x = input_rng.standard_normal((T, batch, I))
        sp, fr = jacobian_norms(module, x)
        spectral.append(sp.T)
        frobenius.append(fr.T)
    study = "init" if rho is None else "radius"
    name = label or (cell if rho is None else f"{cell} rho={rho:g}")
    return _curve_from_samples(name, cell, np.concatenate(spectral), np.concatenate(frobenius),
                               study, rho, {"T": T, "hidden_size": H, "input_size": I,
                                            "seeds": seeds, "batch": batch, "seed": seed})


def set_spectral_radius(module: Recurrent, rho: float) -> None:
    """Rescale ``weight_hh_l0`` in place so that its spectral radius max |λ| equals ρ.

    Defined for square W_hh (the Elman cells); other cells raise ``ValueError``.
    """
    W = module.params["weight_hh_l0"]
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"spectral radius needs a square W_hh (Elman), got shape {W.shape}")
    radius = np.max(np.abs(np.linalg.eigvals(W)))
    W *= rho / radius


def at_initialisation(
    cells: Sequence[str] = JACOBIAN_CELLS,
    T: int = 100,
    hidden_size: int = 64,
    input_size: int | None = None,
    seeds: int = 5,
    batch: int = 4,
    seed: int = 0,
) -> list[JacobianCurve]:
    """One :func:`cell_curve` per cell, all on the same inputs (seed by seed)."""
    return [cell_curve(c, T, hidden_size, input_size, seeds, batch, seed) for c in cells]


def radius_sweep(
    rhos: Iterable[float] = (0.5, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5),
    nonlinearity: str = "tanh",
    T: int = 100,
    hidden_size: int = 64,
    input_size: int | None = None,
    seeds: int = 5,
    batch: int = 4,
    seed: int = 0,
) -> list[JacobianCurve]:
    """Elman (tanh or relu) with W_hh rescaled to spectral radius ρ, for each ρ."""
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    cell = f"elman-{nonlinearity}"
    return [cell_curve(cell, T, hidden_size, input_size, seeds, batch, seed, rho=float(r))
            for r in rhos]


# ---------------------------------------------------------------------------
# A trained surname model
# ---------------------------------------------------------------------------
def first_layer(rnn: Recurrent, dtype: object = np.float64) -> Recurrent:
    """A one-layer, forward-direction, time-major copy of ``rnn``'s layer 0 (cast to dtype)."""
    I, H = rnn.input_size, rnn.hidden_size
    if rnn.proj_size:
        raise ValueError("the Jacobian study does not support LSTM with proj_size")
    if isinstance(rnn, GatedRNN):
        copy: Recurrent = GatedRNN(I, H, gating=rnn.gating, bias=rnn.bias, dtype=dtype)
    elif isinstance(rnn, RNN):
        copy = RNN(I, H, nonlinearity=rnn.nonlinearity, bias=rnn.bias, dtype=dtype)
    elif isinstance(rnn, GRU):
        copy = GRU(I, H, bias=rnn.bias, form=rnn.form, dtype=dtype)
    elif isinstance(rnn, LSTM):
        copy = LSTM(I, H, bias=rnn.bias, dtype=dtype)
    else:
        raise ValueError(f"unsupported module {type(rnn).__name__}")
    for name in copy.params:
        copy.params[name][...] = rnn.params[name]
    return copy


def surname_curve(
    rnn: Recurrent,
    embed,
    surnames: Sequence[str],
    vectorizer,
    label: str = "trained",
    min_count: int = 20,
) -> JacobianCurve:
    r"""Norms of ∂h_n/∂h_{n−k} of ``rnn``'s first layer on real surnames.

    Each surname is vectorised as the classifier sees it (<BEGIN> chars <END>, n tokens),
    embedded with ``embed(indices (B, n)) → (B, n, E)``, and swept from its last step n
    back to h_0 (the zero initial state): distances 1 … n. Surnames are grouped by
    length (no padding enters the recurrence). Distances reached by fewer than
    ``min_count`` surnames are dropped.
    """
    module = first_layer(rnn)
    by_length: dict[int, list[np.ndarray]] = {}
    for s in surnames:
        idx, n = vectorizer.vectorize_classification(s)
        by_length.setdefault(n, []).append(idx[:n])
    if not by_length:
        raise ValueError("no surnames given")
    K = max(by_length)
    spectral, frobenius = [], []
    for n, rows in sorted(by_length.items()):
        x = np.asarray(embed(np.stack(rows)), dtype=np.float64).transpose(1, 0, 2)
        sp, fr = jacobian_norms(module, x)  # (n, B)
        pad = np.full((K - n, sp.shape[1]), np.nan)
        spectral.append(np.concatenate([sp, pad]).T)
        frobenius.append(np.concatenate([fr, pad]).T)
    spectral_all, frobenius_all = np.concatenate(spectral), np.concatenate(frobenius)
    keep = np.sum(np.isfinite(spectral_all), axis=0) >= min_count
    K_keep = int(np.flatnonzero(keep)[-1]) + 1 if keep.any() else 1
    cell = _cell_name(rnn)
    return _curve_from_samples(label, cell, spectral_all[:, :K_keep], frobenius_all[:, :K_keep],
                               "trained", meta={"surnames": len(surnames)})


def _cell_name(rnn: Recurrent) -> str:
    if isinstance(rnn, GatedRNN):
        return {"none": "residual", "input": "input-gating", "hidden": "hidden-gating"}[rnn.gating]
    if isinstance(rnn, RNN):
        return f"elman-{rnn.nonlinearity}"
    return "lstm" if isinstance(rnn, LSTM) else "gru"


def trained_model(
    model_dir: str | Path,
    surnames: Sequence[str] | None = None,
    data: str | Path | None = None,
    max_surnames: int = 500,
    seed: int = 0,
    min_count: int = 20,
) -> JacobianCurve:
    """:func:`surname_curve` for the classifier saved in ``model_dir`` (lab 1's ``train``).

    ``surnames`` default: up to ``max_surnames`` surnames drawn (seeded) from the test
    split of the surnames CSV (``data``: see :func:`scratchrnn.data.find_data_file`).
    """
    from ..classify import load_model
    from ..data import load_surnames, split_records

    model, vectorizer, hp = load_model(model_dir)
    if surnames is None:
        test = [r.surname.strip() for r in split_records(load_surnames(data))["test"]]
        rng = np.random.default_rng(seed)
        pick = rng.permutation(len(test))[:max_surnames]
        surnames = [test[i] for i in sorted(pick)]

    def embed(idx: np.ndarray) -> np.ndarray:
        return model.emb.forward(idx)[0]

    label = f"trained {_cell_name(model.rnn)} ({Path(model_dir).name})"
    curve = surname_curve(model.rnn, embed, surnames, vectorizer, label, min_count)
    curve.meta.update({"model_dir": str(model_dir), "hyperparameters": hp})
    return curve


# ---------------------------------------------------------------------------
# Export: CSV, summary, plot
# ---------------------------------------------------------------------------
CSV_COLUMNS = ("study", "label", "cell", "rho", "distance", "samples", "spectral_mean",
               "spectral_gmean", "frobenius_mean", "frobenius_gmean")


def write_csv(curves: Sequence[JacobianCurve], path: str | Path) -> Path:
    """One row per (curve, distance) with the columns :data:`CSV_COLUMNS`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_text(path) as f:
        w = csv.writer(f)
        w.writerow(CSV_COLUMNS)
        for c in curves:
            cols = (c.counts(), c.mean("spectral"), c.gmean("spectral"), c.mean("frobenius"),
                    c.gmean("frobenius"))
            for i, k in enumerate(c.distances):
                w.writerow([c.study, c.label, c.cell, "" if c.rho is None else c.rho, int(k),
                            int(cols[0][i]), *(f"{a[i]:.6e}" for a in cols[1:])])
    return path


def summarize(curves: Sequence[JacobianCurve], distances: Sequence[int] = (1, 10, 50),
              norm: str = "spectral") -> dict[str, dict]:
    """Per curve label: mean norm at ``distances`` (``d1``, ``d10``, …) and the fitted decay.

    JSON-ready: a figure that is not finite (a distance not measured, no fit) is None.
    """
    def finite(v: float) -> float | None:
        return float(v) if math.isfinite(v) else None

    out = {}
    for c in curves:
        fit = c.fit(norm)
        row: dict = {f"d{k}": finite(c.at(k, norm)) for k in distances}
        row.update(slope_log10=finite(fit.slope), factor_per_step=finite(fit.factor_per_step),
                   steps_per_decade=finite(fit.steps_per_decade), fit_points=fit.points)
        out[c.label] = row
    return out


def format_table(curves: Sequence[JacobianCurve], distances: Sequence[int] = (1, 10, 50),
                 norm: str = "spectral") -> str:
    """A plain-text table: mean norm at a few distances and the fitted decay, per curve."""
    width = max([len(c.label) for c in curves] + [4])
    head = f"{'cell':<{width}}  " + "  ".join(f"{'k=' + str(k):>9}" for k in distances)
    lines = [f"{norm} norm of dh_T/dh_(T-k), mean over samples", head + "  decay (fit)"]
    for c in curves:
        vals = "  ".join(f"{c.at(k, norm):9.3g}" for k in distances)
        lines.append(f"{c.label:<{width}}  {vals}  {c.fit(norm).describe()}")
    return "\n".join(lines)


def plot_curves(curves: Sequence[JacobianCurve], path: str | Path, title: str = "") -> Path | None:
    """Mean spectral and Frobenius norm against distance, log scale, one line per curve (PNG).

    Returns the path, or None when matplotlib is missing (a message says so).
    """
    plt = pyplot(str(path))
    if plt is None:
        return None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharex=True)
    for ax, norm in zip(axes, NORMS, strict=True):
        for c in curves:
            m = c.mean(norm)
            ok = m > 0
            ax.semilogy(c.distances[ok], m[ok], label=c.label)
        ax.set_xlabel("distance k = T − t")
        ax.set_ylabel(f"mean {norm} norm of ∂h_T/∂h_t")
        ax.grid(True, which="both", alpha=0.3)
    axes[1].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path, dpi=120)
    plt.close(fig)
    return path


def run(
    out: str | Path,
    cells: Sequence[str] = JACOBIAN_CELLS,
    T: int = 100,
    hidden_size: int = 64,
    input_size: int | None = None,
    seeds: int = 5,
    batch: int = 4,
    seed: int = 0,
    rhos: Iterable[float] | None = (0.5, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5),
    model_dirs: Sequence[str | Path] = (),
    data: str | Path | None = None,
    plot: bool = True,
) -> dict:
    """All Jacobian studies into ``out``: jacobian.csv and PNGs (init, radius, trained).

    Returns ``{"curves": [...], "summary": summarize(...), "files": [...]}``.
    """
    out = Path(out)
    curves = at_initialisation(cells, T, hidden_size, input_size, seeds, batch, seed)
    files: list[Path | None] = []
    groups = [("init", curves)]
    if rhos:
        sweep = radius_sweep(rhos, "tanh", T, hidden_size, input_size, seeds, batch, seed)
        groups.append(("radius", sweep))
    if model_dirs:
        groups.append(("trained", [trained_model(d, data=data) for d in model_dirs]))
    everything = [c for _, g in groups for c in g]
    files.append(write_csv(everything, out / "jacobian.csv"))
    if plot:
        titles = {"init": f"At initialisation (H={hidden_size}, T={T})",
                  "radius": f"Elman-tanh, W_hh rescaled to spectral radius ρ (H={hidden_size})",
                  "trained": "Trained surname classifiers, real surnames"}
        for name, group in groups:
            files.append(plot_curves(group, out / f"jacobian_{name}.png", titles[name]))
    return {"curves": everything, "summary": summarize(everything),
            "files": [str(f) for f in files if f is not None]}
