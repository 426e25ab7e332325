"""Parity of scratchrnn.optim with torch.optim, torch.nn.utils.clip_grad_norm_ and
torch.optim.lr_scheduler.ReduceLROnPlateau.

Each ``compare_*`` function runs the same computation in NumPy and in torch, from
identical starting values, and returns one row::

    {"group": "optim", "cell": "Adam(amsgrad)", "config": "lr=0.01 amsgrad=True ...",
     "dtype": "float64", "max_rel_diff_output": ..., "max_rel_diff_grad": ...}

What the two numbers measure, per kind of row:

* optimizers: ``output`` = the updated parameters, ``grad`` = the optimizer's state
  buffers (momentum_buffer, exp_avg, exp_avg_sq, max_exp_avg_sq; 0.0 when there are
  none), each the maximum over every step of the run;
* clip_grad_norm: ``output`` = the returned total norm, ``grad`` = the clipped
  gradients;
* ReduceLROnPlateau: ``output`` = the lr trajectory and the scheduler's counters
  (best, num_bad_epochs, cooldown_counter) after every epoch, ``grad`` = 0.0.

A structural mismatch (a buffer one side has and the other lacks, a different step
count) is reported as ``inf``. Relative difference is
:func:`scratchrnn.gradcheck.max_relative_error`: max |a - b| / max(1, |b|).

torch is imported inside the functions only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from scratchrnn.gradcheck import max_relative_error
from scratchrnn.optim import SGD, Adam, AdamW, Optimizer, ReduceLROnPlateau, clip_grad_norm

from ._torch import import_torch

OPTIMIZERS: dict[str, type[Optimizer]] = {"SGD": SGD, "Adam": Adam, "AdamW": AdamW}

DEFAULT_SHAPES: tuple[tuple[int, ...], ...] = ((4, 3), (3,), (1,), (1, 1))

# Options that name a row's cell when they differ from the defaults.
_FLAG_DEFAULTS: dict[str, object] = {
    "momentum": 0.0,
    "dampening": 0.0,
    "nesterov": False,
    "weight_decay": None,  # always named when given
    "amsgrad": False,
    "maximize": False,
    "betas": (0.9, 0.999),
    "eps": 1e-8,
}


def _row(cell: str, config: str, dtype: str, output: float, grad: float) -> dict[str, Any]:
    return {
        "group": "optim",
        "cell": cell,
        "config": config,
        "dtype": dtype,
        "max_rel_diff_output": float(output),
        "max_rel_diff_grad": float(grad),
    }


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (tuple, list)):
        return "(" + ",".join(_fmt(v) for v in value) + ")"
    return str(value)


def _cell_name(name: str, options: Mapping[str, Any], lrs: Sequence[float] | None) -> str:
    flags = [
        key
        for key, default in _FLAG_DEFAULTS.items()
        if key in options and (default is None or options[key] != default)
    ]
    if lrs is not None:
        flags.append("lr schedule")
    return f"{name}({','.join(flags)})" if flags else name


def _shapes_str(shapes: Sequence[Sequence[int]]) -> str:
    return ",".join("(" + ",".join(str(s) for s in shape) + ")" for shape in shapes)


def compare_optimizer(
    name: str,
    options: Mapping[str, Any] | None = None,
    shapes: Sequence[Sequence[int]] = DEFAULT_SHAPES,
    steps: int = 5,
    dtype: str = "float64",
    seed: int = 0,
    lrs: Sequence[float] | None = None,
    grad_scale: float = 1.0,
    cell: str | None = None,
) -> dict[str, Any]:
    """Run ``steps`` updates of scratchrnn's and torch's ``name`` optimizer side by side.

    Parameters are standard normal; each step's gradients are fresh standard normal
    draws times ``grad_scale`` (the same for both). ``options`` are passed unchanged
    to both constructors (``lr`` included). ``lrs``, if given, sets the learning
    rate before each step (length ``steps``), as a scheduler would.
    """
    torch = import_torch()

    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; expected one of {sorted(OPTIMIZERS)}")
    if lrs is not None and len(lrs) != steps:
        raise ValueError(f"lrs must have one entry per step ({steps}), got {len(lrs)}")
    options = dict(options or {})
    if name == "SGD":
        options.setdefault("lr", 0.1)
    np_dtype = np.dtype(dtype)
    rng = np.random.default_rng(seed)
    # np.asarray: arithmetic on a 0-d array (shape ()) returns a NumPy scalar
    start = [np.asarray(rng.standard_normal(tuple(s)), dtype=np_dtype) for s in shapes]
    grads_per_step = [
        [np.asarray(grad_scale * rng.standard_normal(tuple(s)), dtype=np_dtype) for s in shapes]
        for _ in range(steps)
    ]

    names = [f"p{i}" for i in range(len(shapes))]
    ours_p = [p.copy() for p in start]
    ours_g = [np.zeros_like(p) for p in start]
    ours = OPTIMIZERS[name](list(zip(names, ours_p, ours_g, strict=True)), **options)

    theirs_p = [torch.tensor(p.copy(), requires_grad=True) for p in start]
    theirs = getattr(torch.optim, name)(theirs_p, **options)

    diff_out = 0.0
    diff_buf = 0.0
    for t in range(steps):
        for g, tp, new in zip(ours_g, theirs_p, grads_per_step[t], strict=True):
            g[...] = new
            tp.grad = torch.tensor(new.copy())
        if lrs is not None:
            ours.lr = lrs[t]
            for group in theirs.param_groups:
                group["lr"] = lrs[t]
        ours.step()
        theirs.step()
        for pname, p, tp in zip(names, ours_p, theirs_p, strict=True):
            diff_out = max(diff_out, max_relative_error(p, tp.detach().numpy()))
            ts = theirs.state[tp]
            torch_kinds = {k for k in ts if k != "step"}
            if set(ours.state[pname]) != torch_kinds:
                diff_buf = math.inf
                continue
            if "step" in ts and int(float(ts["step"])) != ours.step_count:
                diff_buf = math.inf
            for kind, buf in ours.state[pname].items():
                diff_buf = max(diff_buf, max_relative_error(buf, ts[kind].numpy()))

    config_parts = [f"{k}={_fmt(v)}" for k, v in options.items()]
    config_parts += [f"shapes={_shapes_str(shapes)}", f"steps={steps}"]
    if lrs is not None:
        config_parts.append(f"lrs={_fmt(list(lrs))}")
    if grad_scale != 1.0:
        config_parts.append(f"grad_scale={grad_scale:g}")
    return _row(
        cell or _cell_name(name, options, lrs), " ".join(config_parts), dtype, diff_out, diff_buf
    )


def compare_clip_grad_norm(
    max_norm: float,
    norm_type: float = 2.0,
    shapes: Sequence[Sequence[int]] = DEFAULT_SHAPES,
    dtype: str = "float64",
    seed: int = 0,
    grad_scale: float = 1.0,
    cell: str | None = None,
) -> dict[str, Any]:
    """Clip the same random gradients with scratchrnn and with torch.nn.utils.clip_grad_norm_."""
    torch = import_torch()

    np_dtype = np.dtype(dtype)
    rng = np.random.default_rng(seed)
    grads = [np.asarray(grad_scale * rng.standard_normal(tuple(s)), dtype=np_dtype) for s in shapes]
    ours = [g.copy() for g in grads]
    total = clip_grad_norm(ours, max_norm, norm_type)

    params = []
    for g in grads:
        p = torch.zeros(g.shape, dtype=getattr(torch, dtype), requires_grad=True)
        p.grad = torch.tensor(g.copy())
        params.append(p)
    torch_total = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type)

    diff_norm = max_relative_error(np.array(total), np.array(float(torch_total)))
    diff_grads = max(
        max_relative_error(g, p.grad.numpy()) for g, p in zip(ours, params, strict=True)
    )
    config = (
        f"max_norm={max_norm:g} norm_type={norm_type:g} shapes={_shapes_str(shapes)} "
        f"grad_scale={grad_scale:g}"
    )
    return _row(cell or f"clip_grad_norm(p={norm_type:g})", config, dtype, diff_norm, diff_grads)


def compare_reduce_lr_on_plateau(
    metrics: Sequence[float],
    options: Mapping[str, Any] | None = None,
    lr: float = 0.1,
    cell: str | None = None,
) -> dict[str, Any]:
    """Feed the same metric sequence to both schedulers; compare lr and counters per epoch."""
    torch = import_torch()

    options = dict(options or {})
    ours_opt = SGD([("w", np.zeros(1), np.zeros(1))], lr=lr)
    ours = ReduceLROnPlateau(ours_opt, **options)
    theirs_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs_opt, **options)

    ours_traj, theirs_traj = [], []
    for m in metrics:
        ours.step(m)
        theirs.step(m)
        ours_traj.append(
            [ours_opt.lr, ours.best, ours.num_bad_epochs, ours.cooldown_counter, ours.last_epoch]
        )
        theirs_traj.append(
            [
                theirs_opt.param_groups[0]["lr"],
                theirs.best,
                theirs.num_bad_epochs,
                theirs.cooldown_counter,
                theirs.last_epoch,
            ]
        )
    a = np.array(ours_traj, dtype=np.float64).reshape(-1, 5)
    b = np.array(theirs_traj, dtype=np.float64).reshape(-1, 5)
    same_nonfinite = np.array_equal(np.isfinite(a), np.isfinite(b)) and np.array_equal(
        a[~np.isfinite(a)], b[~np.isfinite(b)], equal_nan=True
    )
    if same_nonfinite:
        diff = max_relative_error(
            np.where(np.isfinite(a), a, 0.0), np.where(np.isfinite(b), b, 0.0)
        )
    else:
        diff = math.inf
    config = " ".join(f"{k}={_fmt(v)}" for k, v in options.items())
    config = f"{config} lr={lr:g} epochs={len(metrics)}".strip()
    mode = f"{options.get('mode', 'min')},{options.get('threshold_mode', 'rel')}"
    return _row(cell or f"ReduceLROnPlateau({mode})", config, "float64", diff, 0.0)


def plateau_metrics(n: int, seed: int = 0) -> list[float]:
    """A loss-like curve that improves, then stalls with small noise and ties."""
    rng = np.random.default_rng(seed)
    base = np.maximum(1.0 - 0.1 * np.arange(n), 0.4)
    noise = rng.choice([0.0, 0.0, 1e-5, -1e-5, 0.01, -0.01], size=n)
    return [float(x) for x in base + noise]


# -- the table ---------------------------------------------------------------------
OPTIMIZER_CASES: list[tuple[str, dict[str, Any], bool]] = [
    # (optimizer, options, use an lr schedule)
    ("SGD", {"lr": 0.1}, False),
    ("SGD", {"lr": 0.1, "momentum": 0.9}, False),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3}, False),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}, False),
    ("SGD", {"lr": 0.1, "weight_decay": 0.01}, False),
    ("SGD", {"lr": 0.1, "maximize": True}, False),
    (
        "SGD",
        {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1, "maximize": True},
        True,
    ),
    ("Adam", {"lr": 0.01}, False),
    ("Adam", {"lr": 0.01, "amsgrad": True}, False),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}, False),
    ("Adam", {"lr": 0.01, "maximize": True}, False),
    ("Adam", {"lr": 0.01, "betas": (0.3, 0.6), "eps": 1e-3}, False),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1, "maximize": True}, True),
    ("AdamW", {"lr": 0.01}, False),
    ("AdamW", {"lr": 0.01, "amsgrad": True}, False),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.5, "maximize": True}, True),
]

CLIP_CASES: list[tuple[float, float, str]] = [
    # (max_norm, norm_type, cell)
    (1.0, 2.0, "clip_grad_norm(p=2)"),
    (1.0, 1.0, "clip_grad_norm(p=1)"),
    (1.0, 3.0, "clip_grad_norm(p=3)"),
    (0.5, math.inf, "clip_grad_norm(p=inf)"),
    (100.0, 2.0, "clip_grad_norm(under max_norm)"),
]

SCHEDULER_CASES: list[tuple[dict[str, Any], float, str]] = [
    # (options, initial lr, cell)
    ({"patience": 2}, 0.1, "ReduceLROnPlateau(min,rel)"),
    (
        {"patience": 1, "threshold": 0.005, "threshold_mode": "abs"},
        0.1,
        "ReduceLROnPlateau(min,abs)",
    ),
    ({"mode": "max", "patience": 2}, 0.1, "ReduceLROnPlateau(max,rel)"),
    ({"mode": "max", "patience": 0, "threshold_mode": "abs"}, 0.1, "ReduceLROnPlateau(max,abs)"),
    ({"patience": 0, "cooldown": 2, "factor": 0.5}, 0.1, "ReduceLROnPlateau(cooldown)"),
    ({"patience": 0, "min_lr": 0.03}, 0.1, "ReduceLROnPlateau(min_lr)"),
    ({"patience": 0, "eps": 1e-8}, 1e-6, "ReduceLROnPlateau(eps rule)"),
]


def optim_rows(seed: int = 0) -> list[dict[str, Any]]:
    """Every optimizer option, clip norm type and scheduler mode, against torch."""
    rows = []
    steps = 5
    schedule = [0.1 * 0.7**t for t in range(steps)]
    for dtype in ("float64", "float32"):
        for i, (name, options, scheduled) in enumerate(OPTIMIZER_CASES):
            rows.append(
                compare_optimizer(
                    name,
                    options,
                    steps=steps,
                    dtype=dtype,
                    seed=seed + i,
                    lrs=schedule if scheduled else None,
                )
            )
        for i, (max_norm, norm_type, cell) in enumerate(CLIP_CASES):
            rows.append(
                compare_clip_grad_norm(max_norm, norm_type, dtype=dtype, seed=seed + i, cell=cell)
            )
    for i, (options, lr, cell) in enumerate(SCHEDULER_CASES):
        sign = -1.0 if options.get("mode") == "max" else 1.0
        metrics = [sign * m for m in plateau_metrics(25, seed=seed + i)]
        rows.append(compare_reduce_lr_on_plateau(metrics, options, lr=lr, cell=cell))
    return rows
