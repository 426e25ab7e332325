"""Norm curves of ∂h_T/∂h_{T−k} and their decay: at initialisation, across the spectral
radius, and for a trained surname classifier — each driven by one
:class:`scratchrnn.config.JacobianConfig`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ... import interrupt
from ...cells import NONLINEARITIES
from ...checks import check_choice
from ...config import JacobianConfig
from ...gating import GatedRNN
from ...recurrent import GRU, LSTM, RNN, Recurrent
from .. import make_recurrent
from .exact import jacobian_norms

JACOBIAN_CELLS = ("elman-tanh", "elman-relu", "residual", "input-gating", "hidden-gating",
                  "lstm", "gru")
NORMS = ("spectral", "frobenius")
FIT_FLOOR = 1e-30


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


def cell_curve(cell: str, config: JacobianConfig | None = None, rho: float | None = None,
               label: str | None = None, **overrides) -> JacobianCurve:
    """Norms for one cell at initialisation: ``seeds`` models × ``batch`` sequences of length
    ``steps`` (fields of ``config``, which ``overrides`` replace).

    Inputs x ~ N(0, 1) of size ``input_size`` (default: ``hidden``); float64. With ``rho``
    the model's W_hh is first rescaled to spectral radius ρ (max |eigenvalue| of each
    G·H × H block's square part — meaningful for the Elman cells, where W_hh is H × H).
    """
    cfg = replace(config or JacobianConfig(), **overrides)
    H = cfg.hidden
    I = H if cfg.input_size is None else cfg.input_size  # noqa: E741 (the slides' name)
    spectral, frobenius = [], []
    for s in range(cfg.seeds):
        interrupt.check()
        model_rng, input_rng = _seed_rngs(cfg.seed, s)
        module = make_recurrent(cell, I, H, np.float64, model_rng, reference=cfg.reference)
        if rho is not None:
            set_spectral_radius(module, rho)
        x = input_rng.standard_normal((cfg.steps, cfg.batch, I))
        sp, fr = jacobian_norms(module, x)
        spectral.append(sp.T)
        frobenius.append(fr.T)
    study = "init" if rho is None else "radius"
    name = label or (cell if rho is None else f"{cell} rho={rho:g}")
    return _curve_from_samples(name, cell, np.concatenate(spectral), np.concatenate(frobenius),
                               study, rho, {"T": cfg.steps, "hidden_size": H, "input_size": I,
                                            "seeds": cfg.seeds, "batch": cfg.batch,
                                            "seed": cfg.seed})


def set_spectral_radius(module: Recurrent, rho: float) -> None:
    """Rescale ``weight_hh_l0`` in place so that its spectral radius max |λ| equals ρ.

    Defined for square W_hh (the Elman cells); other cells raise ``ValueError``.
    """
    W = module.params["weight_hh_l0"]
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"spectral radius needs a square W_hh (Elman), got shape {W.shape}")
    radius = np.max(np.abs(np.linalg.eigvals(W)))
    W *= rho / radius


def at_initialisation(config: JacobianConfig | None = None, **overrides) -> list[JacobianCurve]:
    """One :func:`cell_curve` per cell of ``config.cells`` (None: :data:`JACOBIAN_CELLS`), all
    on the same inputs (seed by seed)."""
    cfg = replace(config or JacobianConfig(), **overrides)
    return [cell_curve(c, cfg) for c in (cfg.cells or JACOBIAN_CELLS)]


def radius_sweep(config: JacobianConfig | None = None, nonlinearity: str = "tanh",
                 **overrides) -> list[JacobianCurve]:
    """Elman (tanh or relu) with W_hh rescaled to spectral radius ρ, for each ρ of
    ``config.rhos``."""
    check_choice("nonlinearity", nonlinearity, NONLINEARITIES)
    cfg = replace(config or JacobianConfig(), **overrides)
    return [cell_curve(f"elman-{nonlinearity}", cfg, rho=float(r)) for r in cfg.rhos]


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
    config: JacobianConfig | None = None,
    surnames: Sequence[str] | None = None,
    max_surnames: int = 500,
    min_count: int = 20,
) -> JacobianCurve:
    """:func:`surname_curve` for the classifier saved in ``model_dir`` (lab 1's ``train``).

    ``surnames`` default: up to ``max_surnames`` surnames drawn (``config.seed``) from the
    test split of the surnames CSV (``config.data``: see :func:`scratchrnn.data.find_data_file`).
    """
    from ...classify import load_model
    from ...data import load_surnames, split_records

    cfg = config or JacobianConfig()
    model, vectorizer, hp = load_model(model_dir)
    if surnames is None:
        test = [r.surname.strip() for r in split_records(load_surnames(cfg.data))["test"]]
        rng = np.random.default_rng(cfg.seed)
        pick = rng.permutation(len(test))[:max_surnames]
        surnames = [test[i] for i in sorted(pick)]

    def embed(idx: np.ndarray) -> np.ndarray:
        return model.emb.forward(idx)[0]

    label = f"trained {_cell_name(model.rnn)} ({Path(model_dir).name})"
    curve = surname_curve(model.rnn, embed, surnames, vectorizer, label, min_count)
    curve.meta.update({"model_dir": str(model_dir), "hyperparameters": hp})
    return curve
