"""The Jacobian study's outputs: CSV, a JSON-ready summary, a text table, PNG plots."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from ...fileio import save_figure, write_csv_rows
from .. import pyplot
from .curves import NORMS, JacobianCurve

CSV_COLUMNS = ("study", "label", "cell", "rho", "distance", "samples", "spectral_mean",
               "spectral_gmean", "frobenius_mean", "frobenius_gmean")


def write_csv(curves: Sequence[JacobianCurve], path: str | Path) -> Path:
    """One row per (curve, distance) with the columns :data:`CSV_COLUMNS`."""
    def rows(c: JacobianCurve):
        cols = (c.counts(), c.mean("spectral"), c.gmean("spectral"), c.mean("frobenius"),
                c.gmean("frobenius"))
        for i, k in enumerate(c.distances):
            yield [c.study, c.label, c.cell, "" if c.rho is None else c.rho, int(k),
                   int(cols[0][i]), *(f"{a[i]:.6e}" for a in cols[1:])]

    return write_csv_rows(path, CSV_COLUMNS, (row for c in curves for row in rows(c)))


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
