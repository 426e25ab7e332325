r"""Long-term dependency: the adding problem (Hochreiter & Schmidhuber 1997; Le et al. 2015).

Each example is a sequence of T pairs (value, marker)::

    x_t = (v_t, m_t),   v_t ~ U(0, 1),   m_t ∈ {0, 1}
    exactly two markers: one at a step drawn uniformly from the first half [0, ⌊T/2⌋),
    one from the second half [⌊T/2⌋, T)  (as Le, Jaitly & Hinton 2015)
    target y = Σ_t m_t v_t            (the sum of the two marked values, in [0, 2])

A model must carry the first marked value across at least T/2 steps. Always predicting
1 (the mean of y) gives MSE = Var(v_a + v_b) = 2/12 ≈ 0.167: the baseline to beat.
The usual bar for "solved" is MSE < 0.01.

The model (:class:`AddingModel`) is one recurrent layer (any of
:data:`ADDING_CELLS`) whose last state h_T feeds a Linear(H, 1)::

    ŷ = h_T w^T + b,      L = (1/B) Σ_b (ŷ_b − y_b)²      (MSE, :func:`mse_loss`)

trained with Adam (lr 1e-2), gradients clipped to norm 1, on fresh batches for a fixed
budget of updates; the MSE on a held-out batch is measured every ``eval_every`` updates.
Everything is seeded: for a given seed and T every cell sees the same training batches
and is evaluated on the same held-out batch.

**Defaults and cost.** H = 32, batch 32, 1500 updates, Adam lr 1e-2, clip 1, held-out
batch of 500 every 50 updates, float32. The learning rate is 1e-2, not Adam's usual
1e-3: measured here (seed 0), at lr 1e-3 the LSTM sits on the 0.167 plateau for ~2300
updates at T = 50 and has not solved T = 25 after 2000, so no affordable budget
separates the cells; at lr 1e-2 GRU solves every T ≤ 100 within 300 updates, LSTM and
hidden-state gating within 1250, while Elman-tanh solves T = 10 only. The whole default
:func:`compare` (7 cells × 4 lengths, 185 time steps per cell and update) took 281 s with
``workers=2`` on 2 cores shared with other jobs (the runs' own times sum to 550 s, about
what one process takes); the gating cells, which have no fast path, cost the most
(hidden-state gating at T = 100: 62 s). Set ``OPENBLAS_NUM_THREADS=1``: these matrices are
small, and BLAS threads fighting over two busy cores made matrix products 20× slower here.
"""

from __future__ import annotations

import math
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .. import interrupt
from ..checks import check_array, check_float_dtype, check_positive_int
from ..config import AddingConfig, to_dict
from ..fileio import save_figure, sigint_deferred, write_csv_rows
from ..layers import Linear
from ..module import Module
from ..optim import Adam, clip_grad_norm
from ..rng import as_generator
from ..train import TrainingError
from . import make_recurrent, pyplot

ADDING_CELLS = ("elman-tanh", "irnn", "residual", "input-gating", "hidden-gating", "lstm", "gru")
ADDING_LENGTHS = AddingConfig().lengths
BASELINE_MSE = 1.0 / 6.0  # E[(v_a + v_b − 1)²] = Var(v_a + v_b) = 2 · 1/12


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------
def adding_batch(
    T: int, batch: int, rng: int | np.random.Generator | None = None, dtype: object = np.float32
) -> tuple[np.ndarray, np.ndarray]:
    """A batch of the adding problem: x (T, B, 2) time-major [value, marker], y (B,).

    One marker at a step uniform in [0, ⌊T/2⌋), one uniform in [⌊T/2⌋, T); y = the sum
    of the two marked values. T ≥ 2.
    """
    T = check_positive_int("T", T, minimum=2)
    batch = check_positive_int("batch", batch)
    dt = check_float_dtype(dtype)
    rng = as_generator(rng)
    half = T // 2
    values = rng.uniform(0.0, 1.0, size=(T, batch))
    first = rng.integers(0, half, size=batch)
    second = rng.integers(half, T, size=batch)
    markers = np.zeros((T, batch))
    cols = np.arange(batch)
    markers[first, cols] = 1.0
    markers[second, cols] = 1.0
    x = np.stack([values, markers], axis=2).astype(dt)
    y = (values[first, cols] + values[second, cols]).astype(dt)
    return x, y


# ---------------------------------------------------------------------------
# Loss
# ---------------------------------------------------------------------------
def mse_loss(pred: np.ndarray, target: np.ndarray) -> tuple[float, tuple]:
    """L = (1/B) Σ_b (ŷ_b − y_b)².  pred, target (B,) of one float dtype. Returns (L, cache)."""
    pred = check_array("pred", pred, (None,))
    target = check_array("target", target, (pred.shape[0],), pred.dtype)
    diff = pred - target
    return float(np.mean(diff * diff)), (diff,)


def mse_loss_backward(d_loss: float, cache: tuple) -> np.ndarray:
    """∂L/∂ŷ_b = d_loss · 2 (ŷ_b − y_b) / B, shape (B,)."""
    (diff,) = cache
    return (d_loss * 2.0 / diff.shape[0]) * diff


# ---------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------
class AddingModel(Module):
    r"""Recurrent layer → last state h_T → Linear(H, 1):  ŷ = h_T w^T + b.

    forward(x (T, B, 2)) → (ŷ (B,), cache);  backward(dŷ (B,), cache) accumulates the
    gradients of every parameter (``rnn.*``, ``fc.*``). ``cell`` is one of
    :data:`scratchrnn.studies.CELLS` (``irnn``: ReLU Elman with W_hh = I, zero biases).
    """

    # the adding problem's model: a cell and torch-style sizes (alike in shape to Recurrent's)
    def __init__(
        self,
        cell: str,
        hidden_size: int = 32,
        dtype: object = np.float32,
        rng: int | np.random.Generator | None = None,
        reference: bool = False,
    ) -> None:
        super().__init__()
        gen = as_generator(rng)
        self.cell = cell
        self.rnn = self.add_module("rnn", make_recurrent(cell, 2, hidden_size, dtype, gen,
                                                         reference=reference))
        self.fc = self.add_module("fc", Linear(hidden_size, 1, dtype=dtype, rng=gen))

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, tuple]:
        (_, hx_n), c_rnn = self.rnn.forward(x)
        h_n = hx_n[0] if self.rnn.has_cell_state else hx_n
        y, c_fc = self.fc.forward(h_n[-1])
        return y[:, 0], (c_rnn, c_fc)

    def backward(self, d_pred: np.ndarray, cache: tuple) -> None:
        c_rnn, c_fc = cache
        d_h = self.fc.backward(d_pred[:, None], c_fc)
        d_h_n = d_h[None]
        self.rnn.backward(None, c_rnn, (d_h_n, None) if self.rnn.has_cell_state else d_h_n)


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------
@dataclass
class AddingResult:
    """Outcome of one run. ``first_below``: updates done when the held-out MSE first fell
    below the threshold (a multiple of ``eval_every``), or None."""

    cell: str
    T: int
    final_mse: float
    first_below: int | None
    baseline_mse: float  # held-out MSE of always predicting 1
    diverged: bool
    seconds: float
    history: list[tuple[int, float]] = field(default_factory=list)  # (updates, held-out MSE)
    config: dict = field(default_factory=dict)

    @property
    def solved(self) -> bool:
        return self.first_below is not None


def run_rng(seed: int, T: int, stream: int) -> np.random.Generator:
    """The Generator of one run's ``stream``: 0 the model, 1 the held-out batch, 2 the
    training batches. Any backend that draws from these trains the same run."""
    return np.random.default_rng([seed, T, stream])


def run_schedule(
    cfg: AddingConfig, T: int, dt: np.dtype,
    update: Callable[[np.ndarray, np.ndarray], bool], evaluate: Callable[[], float],
) -> tuple[float, int | None, bool, list[tuple[int, float]]]:
    """The schedule of one run, the same for every backend: ``cfg.updates`` fresh batches
    from :func:`run_rng` stream 2, each handed to ``update(x, y)`` (one step; False when
    the loss or the gradient norm is not finite: the run diverged and stops), the held-out
    ``evaluate()`` at 0 and every ``eval_every`` updates.

    Returns (final MSE, first update below ``threshold`` or None, diverged, history).
    """
    data_rng = run_rng(cfg.seed, T, 2)
    history = [(0, evaluate())]
    first_below = 0 if history[0][1] < cfg.threshold else None
    for step in range(1, cfg.updates + 1):
        interrupt.check()
        x, y = adding_batch(T, cfg.batch_size, data_rng, dt)
        if not update(x, y):
            return math.inf, first_below, True, history
        if step % cfg.eval_every == 0 or step == cfg.updates:
            mse = evaluate()
            history.append((step, mse))
            if first_below is None and mse < cfg.threshold:
                first_below = step
    return history[-1][1], first_below, False, history


def train_adding(
    cell: str, T: int, config: AddingConfig | None = None, **overrides
) -> AddingResult:
    """Train one cell on the adding problem of length T for ``config.updates`` updates.

    ``overrides`` replace fields of ``config`` (e.g. ``updates=200``). A non-finite loss
    stops the run (``diverged=True``, final MSE = inf).
    """
    cfg = replace(config or AddingConfig(), **overrides)
    dt = check_float_dtype(cfg.dtype)
    check_positive_int("updates", cfg.updates, minimum=0)
    check_positive_int("eval_every", cfg.eval_every)
    start = time.perf_counter()
    model = AddingModel(cell, cfg.hidden, dt, run_rng(cfg.seed, T, 0), cfg.reference)
    opt = Adam(model, lr=cfg.lr)
    x_eval, y_eval = adding_batch(T, cfg.eval_size, run_rng(cfg.seed, T, 1), dt)
    baseline = float(np.mean((y_eval.astype(np.float64) - 1.0) ** 2))

    def evaluate() -> float:
        pred, _ = model.forward(x_eval)
        mse = mse_loss(pred, y_eval)[0] if np.isfinite(pred).all() else math.inf
        return mse if math.isfinite(mse) else math.inf

    def update(x: np.ndarray, y: np.ndarray) -> bool:
        model.zero_grad()
        pred, cache = model.forward(x)
        if not np.isfinite(pred).all():
            return False
        loss, lcache = mse_loss(pred, y)
        model.backward(mse_loss_backward(1.0, lcache), cache)
        norm = clip_grad_norm(model, cfg.clip)
        if not (math.isfinite(loss) and math.isfinite(norm)):
            return False
        opt.step()
        return True

    final, first_below, diverged, history = run_schedule(cfg, T, dt, update, evaluate)
    return AddingResult(cell, T, final, first_below, baseline, diverged,
                        time.perf_counter() - start, history, to_dict(cfg))


def compare(
    config: AddingConfig | None = None,
    progress: Callable[[AddingResult], None] | None = None,
    train_fn: Callable[..., AddingResult] = train_adding,
    **overrides,
) -> list[AddingResult]:
    """``train_fn(cell, T, config)`` for every (T, cell) of the config (``cells`` None: every
    cell of :data:`ADDING_CELLS`), under one budget, ordered by T then cell.

    ``train_fn`` is :func:`train_adding` (NumPy) unless the caller hands in another with
    its signature: the command line hands in the torch runtime's for ``--backend torch``.
    ``config.workers`` > 1 runs that many processes at once (each run is seeded on its
    own, so the results do not depend on it; ``train_fn`` must then be picklable);
    ``progress`` sees each result as it finishes. ``overrides`` replace config fields.
    """
    cfg = replace(config or AddingConfig(), **overrides)
    workers = check_positive_int("workers", cfg.workers)
    jobs = [(cell, T) for T in cfg.lengths for cell in (cfg.cells or ADDING_CELLS)]
    if workers == 1:
        results = []
        for cell, T in jobs:
            results.append(train_fn(cell, T, cfg))
            if progress is not None:
                progress(results[-1])
        return results
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    done: dict[tuple[str, int], AddingResult] = {}
    # spawned, not forked: a fork of a process with threads (torch's, JAX's) can deadlock.
    # The workers leave Ctrl-C to this process, which terminates them: an interrupt stops
    # the study at once (the pool's exit alone waited for the running trainings: 64 s
    # here) and prints no worker's traceback. A worker that dies (killed, out of memory)
    # breaks the pool: one line, where multiprocessing.Pool would wait for it forever.
    spawn = multiprocessing.get_context("spawn")
    others = set(multiprocessing.active_children())  # a caller's own processes: not ours
    with ProcessPoolExecutor(workers, mp_context=spawn,
                             initializer=_leave_sigint_to_parent) as pool:
        try:
            futures = [pool.submit(train_fn, cell, T, cfg) for cell, T in jobs]
            for fut in as_completed(futures):
                r = fut.result()
                done[(r.cell, r.T)] = r
                if progress is not None:
                    progress(r)
        except BrokenProcessPool:
            raise TrainingError(
                "a worker process of the study died while training (killed, or out of "
                f"memory?); {len(done)} of {len(jobs)} runs had finished, nothing was "
                "written: try fewer --workers") from None
        except BaseException:  # Ctrl-C, or a run's error: stop the other runs now
            with sigint_deferred():  # a second Ctrl-C waits until they are stopped
                for worker in set(multiprocessing.active_children()) - others:
                    worker.terminate()
                pool.shutdown(wait=False, cancel_futures=True)
            raise
    return [done[job] for job in jobs]


def _leave_sigint_to_parent() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


# ---------------------------------------------------------------------------
# Export: tables, CSV, plot
# ---------------------------------------------------------------------------
def format_result(r: AddingResult) -> str:
    below = "never" if r.first_below is None else str(r.first_below)
    mse = "diverged" if r.diverged else f"{r.final_mse:.4f}"
    return (f"T={r.T:<4d} {r.cell:<14s} final MSE {mse:>9s}  "
            f"MSE<thr at {below:>6s}  ({r.seconds:.1f}s)")


def format_table(results: Sequence[AddingResult]) -> str:
    """Final MSE (and, in brackets, the update at which it first fell below the threshold)
    per cell (rows) and T (columns)."""
    cells = list(dict.fromkeys(r.cell for r in results))
    lengths = list(dict.fromkeys(r.T for r in results))
    by = {(r.cell, r.T): r for r in results}
    head = f"{'cell':<14s}" + "".join(f"{'T=' + str(T):>20s}" for T in lengths)
    lines = ["adding problem: final held-out MSE [first update with MSE < threshold]", head]
    for cell in cells:
        row = f"{cell:<14s}"
        for T in lengths:
            r = by.get((cell, T))
            if r is None:
                row += f"{'':>20s}"
                continue
            mse = "diverged" if r.diverged else f"{r.final_mse:.4f}"
            below = "-" if r.first_below is None else str(r.first_below)
            row += f"{mse + ' [' + below + ']':>20s}"
        lines.append(row)
    if results:
        lines.append(f"baseline (always predict 1): MSE ≈ {BASELINE_MSE:.3f}")
    return "\n".join(lines)


def summarize(results: Sequence[AddingResult]) -> dict[str, dict]:
    """{"cell@T": {final_mse, first_below, diverged, seconds}} (JSON-ready: inf → None)."""
    return {f"{r.cell}@{r.T}": {"final_mse": r.final_mse if math.isfinite(r.final_mse) else None,
                                "first_below": r.first_below, "diverged": r.diverged,
                                "seconds": round(r.seconds, 2)} for r in results}


SUMMARY_COLUMNS = ("cell", "T", "final_mse", "first_below", "baseline_mse", "diverged",
                   "seconds", "updates", "hidden", "batch_size", "lr", "clip", "seed")


def write_csv(results: Sequence[AddingResult], path: str | Path) -> Path:
    """One row per run with :data:`SUMMARY_COLUMNS`."""
    def row(r: AddingResult) -> list:
        c = r.config
        return [r.cell, r.T, f"{r.final_mse:.6g}",
                "" if r.first_below is None else r.first_below,
                f"{r.baseline_mse:.6g}", int(r.diverged), f"{r.seconds:.2f}",
                c.get("updates"), c.get("hidden"), c.get("batch_size"), c.get("lr"),
                c.get("clip"), c.get("seed")]

    return write_csv_rows(path, SUMMARY_COLUMNS, map(row, results))


def write_history_csv(results: Sequence[AddingResult], path: str | Path) -> Path:
    """The learning curves: rows (cell, T, updates, held-out MSE)."""
    return write_csv_rows(path, ("cell", "T", "updates", "mse"),
                          ([r.cell, r.T, step, f"{mse:.6g}"]
                           for r in results for step, mse in r.history))


def plot_results(results: Sequence[AddingResult], path: str | Path) -> Path | None:
    """Held-out MSE against updates, one panel per T, log scale (PNG); None without matplotlib."""
    plt = pyplot(str(path))
    if plt is None:
        return None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lengths = list(dict.fromkeys(r.T for r in results))
    fig, axes = plt.subplots(1, len(lengths), figsize=(4.2 * len(lengths), 4), squeeze=False,
                             sharey=True)
    for ax, T in zip(axes[0], lengths, strict=True):
        for r in results:
            if r.T != T:
                continue
            steps = [s for s, m in r.history if math.isfinite(m)]
            mses = [m for s, m in r.history if math.isfinite(m)]
            ax.semilogy(steps, mses, label=r.cell)
        ax.axhline(BASELINE_MSE, color="grey", ls="--", lw=1)
        ax.axhline(results[0].config.get("threshold", 0.01), color="grey", ls=":", lw=1)
        ax.set_title(f"T = {T}")
        ax.set_xlabel("updates")
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("held-out MSE")
    axes[0][-1].legend(fontsize=8)
    fig.suptitle("Adding problem (dashed: predict-1 baseline 0.167; dotted: threshold)")
    fig.tight_layout()
    save_figure(fig, path, dpi=120)
    plt.close(fig)
    return path


def run(
    config: AddingConfig | None = None,
    progress: Callable[[AddingResult], None] | None = None,
    train_fn: Callable[..., AddingResult] = train_adding,
    plot: bool = True,
    **overrides,
) -> dict:
    """:func:`compare`, then adding.csv, adding_history.csv and adding.png into ``config.out``.

    Returns ``{"results": [...], "summary": summarize(...), "files": [...]}``.
    """
    cfg = replace(config or AddingConfig(), **overrides)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    results = compare(cfg, progress, train_fn)
    files = [write_csv(results, out / "adding.csv"),
             write_history_csv(results, out / "adding_history.csv")]
    if plot:
        files.append(plot_results(results, out / "adding.png"))
    return {"results": results, "summary": summarize(results),
            "files": [str(f) for f in files if f is not None]}
