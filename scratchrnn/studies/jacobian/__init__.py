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

The package holds three modules: :mod:`.exact` (the Jacobian), :mod:`.curves` (the
studies, each driven by one :class:`scratchrnn.config.JacobianConfig`, and the decay
fits) and :mod:`.plots` (CSV, summary, table, PNG). Everything is importable from here.

Studies (each returns :class:`JacobianCurve` objects; :func:`write_csv` and
:func:`plot_curves` export them; :func:`run` does everything into ``config.out``):

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

from dataclasses import replace
from pathlib import Path

from ...config import JacobianConfig
from .curves import (
    FIT_FLOOR,
    JACOBIAN_CELLS,
    NORMS,
    DecayFit,
    JacobianCurve,
    at_initialisation,
    cell_curve,
    first_layer,
    fit_decay,
    radius_sweep,
    set_spectral_radius,
    surname_curve,
    trained_model,
)
from .exact import jacobian, jacobian_norms, jacobian_sweep, matrix_norms
from .plots import CSV_COLUMNS, format_table, plot_curves, summarize, write_csv


def run(config: JacobianConfig | None = None, **overrides) -> dict:
    """All Jacobian studies of ``config`` into ``config.out``: jacobian.csv and PNGs (init,
    radius unless ``radius`` is False, trained for each of ``model``).

    Returns ``{"curves": [...], "summary": summarize(...), "files": [...]}``.
    """
    cfg = replace(config or JacobianConfig(), **overrides)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    groups = [("init", at_initialisation(cfg))]
    if cfg.radius and cfg.rhos:
        groups.append(("radius", radius_sweep(cfg)))
    if cfg.model:
        groups.append(("trained", [trained_model(d, cfg) for d in cfg.model]))
    everything = [c for _, g in groups for c in g]
    files: list[Path | None] = [write_csv(everything, out / "jacobian.csv")]
    if cfg.plot:
        titles = {"init": f"At initialisation (H={cfg.hidden}, T={cfg.steps})",
                  "radius": f"Elman-tanh, W_hh rescaled to spectral radius ρ (H={cfg.hidden})",
                  "trained": "Trained surname classifiers, real surnames"}
        for name, group in groups:
            files.append(plot_curves(group, out / f"jacobian_{name}.png", titles[name]))
    return {"curves": everything, "summary": summarize(everything),
            "files": [str(f) for f in files if f is not None]}


__all__ = ["CSV_COLUMNS", "FIT_FLOOR", "JACOBIAN_CELLS", "NORMS", "DecayFit", "JacobianCurve",
           "at_initialisation", "cell_curve", "first_layer", "fit_decay", "format_table",
           "jacobian", "jacobian_norms", "jacobian_sweep", "matrix_norms", "plot_curves",
           "radius_sweep", "run", "set_spectral_radius", "summarize", "surname_curve",
           "trained_model", "write_csv"]
