"""The parity report: one row per configuration, the worst relative differences."""

from __future__ import annotations

import itertools
import json

from .compare import SeqConfig, compare_cell, compare_sequence

TOLERANCE = {"float64": 1e-9, "float32": 1e-4}
CORE_CELLS = [("elman", "tanh", 0), ("elman", "relu", 0), ("lstm", "tanh", 0),
              ("lstm", "tanh", 3), ("gru", "tanh", 0)]


def core_rows(dtypes=("float64", "float32"), quick: bool = False, device: str = "cpu") -> list:
    """Cells, then sequence modules over layers 1–3 × directions × lengths × batch_first,
    each on the fast path and on the reference path (row key ``path``)."""
    rows = []
    for dtype in dtypes:
        for cell, nl, _ in CORE_CELLS:
            if cell == "lstm" and _:
                continue
            for bias in (True, False):
                rows.append(compare_cell(cell, nl, bias, dtype, device=device))
        layers = (1, 2) if quick else (1, 2, 3)
        grid = itertools.product(CORE_CELLS, layers, (False, True), (False, True))
        for i, ((cell, nl, proj), L, bi, lengths) in enumerate(grid):
            for reference in (False, True):  # the fast path, then cells.py's step functions
                cfg = SeqConfig(cell=cell, nonlinearity=nl, proj_size=proj, num_layers=L,
                                bidirectional=bi, lengths=lengths, batch_first=bool(i % 2),
                                bias=(i % 5 != 3), dtype=dtype, reference=reference)
                rows.append(compare_sequence(cfg, seed=i, device=device))
                if L > 1 and not quick and i % 3 == 0:
                    rows.append(compare_sequence(SeqConfig(**{**cfg.__dict__, "dropout": 0.5}),
                                                 seed=i, device=device))
    return rows


def extra_rows(device: str = "cpu") -> list:
    """Rows of the training toolkit (layers, losses, optimizers, trajectories) if present."""
    rows = []
    try:
        from .layers import layer_rows
    except ImportError:
        layer_rows = None
    if layer_rows is not None:
        rows += layer_rows()
    try:
        from .optim import optim_rows
    except ImportError:
        optim_rows = None
    if optim_rows is not None:
        rows += optim_rows()
    try:
        from .trajectory import trajectory_rows
    except ImportError:
        trajectory_rows = None
    if trajectory_rows is not None:
        rows += trajectory_rows(device=device)
    return rows


def worst(row: dict) -> float:
    keys = ("max_rel_diff_output", "max_rel_diff_grad", "max_rel_diff_loss")
    return max(float(row[k]) for k in keys if row.get(k) is not None)


def failures(rows: list) -> list:
    return [r for r in rows if not worst(r) <= TOLERANCE[r["dtype"]]]


def format_table(rows: list) -> str:
    head = (f"{'group':<9} {'cell':<16} {'path':<9} {'dtype':<8} {'output':>9} {'grad':>9} "
            f"{'loss':>9}  config")
    lines = [head, "-" * len(head)]

    def f(v):
        return f"{v:9.1e}" if v is not None else f"{'':>9}"

    for r in rows:
        flag = "" if worst(r) <= TOLERANCE[r["dtype"]] else "  <-- FAIL"
        lines.append(
            f"{r['group']:<9} {r['cell']:<16} {r.get('path') or '':<9} {r['dtype']:<8} "
            f"{f(r['max_rel_diff_output'])} "
            f"{f(r['max_rel_diff_grad'])} {f(r.get('max_rel_diff_loss'))}  {r['config']}{flag}"
        )
    return "\n".join(lines)


def summary(rows: list) -> str:
    out = []
    for dtype in ("float64", "float32"):
        sel = [r for r in rows if r["dtype"] == dtype]
        if sel:
            w = max(sel, key=worst)
            out.append(
                f"{dtype}: {len(sel)} rows, worst {worst(w):.2e} "
                f"({w['cell']} {w['config']}), tolerance {TOLERANCE[dtype]:g}"
            )
    return "\n".join(out)


def to_json(rows: list) -> str:
    return json.dumps(rows)
