r"""Gate inspection: what the LSTM's and GRU's gates do on real surnames.

For a trained surname model (lab 1 classifier or lab 2 generator) with an LSTM or
GRU layer, :func:`gate_activations` runs one surname through the reference step
functions and returns, at every character, the gate values of the first layer::

    LSTM:  i_t, f_t, o_t (input, forget, output gates), C̃_t = g_t, and the cell state C_t
    GRU:   r_t (reset), z_t (update), n_t (candidate)

:func:`saturation` measures, over a whole split, the share of gate values below 0.1
("closed") and above 0.9 ("open") per gate — saturated gates are the ones acting
as the switches the gating slides describe.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..config import GatesConfig
from ..data import encode_surname
from ..fileio import atomic_write_text, save_figure
from ..models import SurnameClassifier, SurnameGenerator
from ..recurrent import GRU, LSTM
from . import pyplot

GATES = {"lstm": ("i", "f", "o", "g", "c"), "gru": ("r", "z", "n")}


def _parts(model):
    if isinstance(model, SurnameClassifier):
        return model.emb, model.rnn
    if isinstance(model, SurnameGenerator):
        return model.char_emb, model.rnn
    raise ValueError(f"expected a surname classifier or generator, got {type(model).__name__}")


def _indices(model, vec, surname: str) -> tuple[np.ndarray, list[str]]:
    x = encode_surname(vec, surname)  # <BEGIN> + chars + <END>
    if isinstance(model, SurnameGenerator):
        x = x[:-1]  # a generator reads <BEGIN> + chars
    return x, [vec.char_vocab.lookup_index(int(i)) for i in x]


def _run_gates(rnn, x_emb: np.ndarray, lengths: np.ndarray, hx=None) -> dict[str, np.ndarray]:
    """Gate values (T, B, H) of layer 0, forward direction, from the step caches."""
    if not isinstance(rnn, (LSTM, GRU)):
        raise ValueError("gate inspection needs an LSTM or GRU model (an Elman RNN has no gates)")
    reference, rnn.reference = rnn.reference, True  # the reference path keeps every step's cache
    try:
        _, cache = rnn.forward(x_emb, hx, lengths=lengths)
    finally:
        rnn.reference = reference
    steps = cache.layers[0][0].steps
    if isinstance(rnn, LSTM):
        out = {k: np.stack([getattr(s, f"{k}_t") for s in steps]) for k in ("i", "f", "o", "g")}
        out["c"] = out["f"] * np.stack([s.c_prev for s in steps]) + out["i"] * out["g"]
        return out
    return {k: np.stack([getattr(s, f"{k}_t") for s in steps]) for k in ("r", "z", "n")}


def gate_activations(model, vec, surname: str, nationality: str | None = None) -> dict:
    """Gate values at every character of ``surname``: {"tokens": [...], gate: (T, H)}."""
    emb, rnn = _parts(model)
    x, tokens = _indices(model, vec, surname)
    x_emb, _ = emb.forward(x[None])
    hx = None
    if isinstance(model, SurnameGenerator) and model.conditioned:
        if nationality is None:
            raise ValueError("this generator is conditioned: give a nationality")
        hx, _ = model.initial_state(np.array([vec.lookup_nationality(nationality)]), 1)
    gates = _run_gates(rnn, x_emb, np.array([len(x)]), hx)
    return {"tokens": tokens, **{k: v[:, 0] for k, v in gates.items()}}


def saturation(model, dataset, split: str = "test", low: float = 0.1,
               high: float = 0.9) -> dict[str, dict[str, float]]:
    """Per gate: share (%) of values < ``low`` and > ``high`` over every valid step and unit."""
    emb, rnn = _parts(model)
    arrays = dataset.split(split)
    if isinstance(model, SurnameClassifier):
        x, lengths = arrays.x, arrays.lengths
    else:
        x, lengths = arrays.x_gen, arrays.lengths - 1
    x_emb, _ = emb.forward(x)
    hx = None
    if isinstance(model, SurnameGenerator) and model.conditioned:
        hx, _ = model.initial_state(arrays.y_nationality, len(x))
    gates = _run_gates(rnn, x_emb, lengths, hx)
    T = next(iter(gates.values())).shape[0]
    valid = (np.arange(T)[:, None] < lengths[None, :])[:, :, None]
    result = {}
    for name, v in gates.items():
        if name in ("g", "c", "n"):  # tanh-valued or unbounded: not gates
            continue
        sel = np.broadcast_to(valid, v.shape)
        vals = v[sel]
        result[name] = {"below": 100.0 * float(np.mean(vals < low)),
                        "above": 100.0 * float(np.mean(vals > high)),
                        "mean": float(np.mean(vals))}
    return result


def format_table(acts: dict, units: int = 0) -> str:
    """Per character: the mean of each gate over the hidden units (and unit ``units``)."""
    names = [k for k in acts if k != "tokens"]
    head = f"{'char':<8}" + "".join(f"{'mean ' + k:>9}" for k in names)
    lines = [head, "-" * len(head)]
    for t, tok in enumerate(acts["tokens"]):
        lines.append(f"{tok:<8}" + "".join(f"{acts[k][t].mean():9.3f}" for k in names))
    return "\n".join(lines)


def heatmap_png(acts: dict, path: str | Path, title: str = "") -> Path | None:
    """One heatmap per gate (units × characters) in one PNG; None if matplotlib is missing."""
    plt = pyplot(str(path))
    if plt is None:
        return None
    names = [k for k in acts if k != "tokens"]
    fig, axes = plt.subplots(len(names), 1, figsize=(max(6, 0.5 * len(acts["tokens"])),
                                                     2.2 * len(names)), squeeze=False)
    for ax, k in zip(axes[:, 0], names, strict=True):
        v = acts[k].T
        if k in ("g", "n"):  # tanh-valued
            style = {"cmap": "coolwarm", "vmin": -1, "vmax": 1}
        elif k == "c":  # the cell state is unbounded
            lim = float(np.abs(v).max()) or 1.0
            style = {"cmap": "coolwarm", "vmin": -lim, "vmax": lim}
        else:  # gates in (0, 1)
            style = {"cmap": "viridis", "vmin": 0, "vmax": 1}
        im = ax.imshow(v, aspect="auto", interpolation="nearest", **style)
        ax.set_ylabel(f"{k}\nunit")
        ax.set_xticks(range(len(acts["tokens"])))
        ax.set_xticklabels(acts["tokens"], fontsize=8)
        fig.colorbar(im, ax=ax, fraction=0.02)
    if title:
        axes[0, 0].set_title(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_figure(fig, path, dpi=90)
    plt.close(fig)
    return path


def run(config: GatesConfig) -> dict:
    """Heatmap PNG and table per surname, and the test split's saturation (CSV), into
    ``config.out``, for the model in ``config.model``."""
    from ..checkpoint import load_checkpoint
    from ..data import SurnameDataset

    path = Path(config.model)
    kind = load_checkpoint(path / "model.npz" if path.is_dir() else path).kind
    if kind == "classifier":
        from ..classify import load_model
    else:
        from ..generate import load_model
    model, vec, _ = load_model(config.model)
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    tables, files = {}, []
    for surname in config.surname:
        acts = gate_activations(model, vec, surname, config.nationality)
        tables[surname] = format_table(acts)
        safe = "".join(ch if ch.isalnum() else "_" for ch in surname)
        png = heatmap_png(acts, out / f"gates_{safe}.png", f"{model.cell}: {surname}")
        if png is not None:
            files.append(str(png))
    sat = saturation(model, SurnameDataset.load(config.data))
    csv_path = out / "gate_saturation.csv"
    lines = ["gate,below_0.1_percent,above_0.9_percent,mean"]
    lines += [f"{g},{s['below']:.3f},{s['above']:.3f},{s['mean']:.4f}" for g, s in sat.items()]
    atomic_write_text(csv_path, "\n".join(lines) + "\n")
    files.append(str(csv_path))
    return {"cell": model.cell, "kind": kind, "saturation": sat, "tables": tables,
            "files": files}
