"""Assertions that explain: run hypothesis over cases, report what is wrong and where.

The user's code follows one protocol (layouts adapt the arrays, not the calls):

cell step (one time step)::

    forward(x, state, params) -> (new_state, cache)
    backward(d_new_state, cache) -> (d_x, d_state, grads)

``state`` is ``h`` or ``(h, c)`` for the LSTM; ``params`` and ``grads`` are dicts in your
:class:`~parity.kit.layouts.Layout` (same keys); arrays in your layout (``x`` (B, I),
``h`` (B, H), or (I, B), (H, B) with ``columns``). ``d_new_state`` is the gradient of the
loss with respect to the new state; ``backward`` returns the gradients of that loss.

sequence module (torch's layout and names, as torch.nn.RNN/LSTM/GRU)::

    forward(x, hx, params, lengths, spec) -> ((output, hx_n), cache)
    backward(d_output, cache, d_hx_n) -> (d_input, d_hx0, grads)

``hx`` is ``None``, ``h0`` or ``(h0, c0)``; ``params``/``grads`` keyed ``weight_ih_l0`` …;
``lengths`` None or (B,) int; ``spec`` the :class:`~parity.kit.cases.SeqSpec` (options such
as ``batch_first``, ``bidirectional``, ``num_layers``; fix the ones your code lacks with
the strategy's switches).

:func:`check_cell` / :func:`check_sequence` judge one case and return a
:class:`~parity.kit.diagnose.Diagnosis`; :func:`find_cell_failure` /
:func:`find_sequence_failure` let hypothesis search (and shrink) and return the smallest
failing case's diagnosis or None; :func:`assert_cell_parity` /
:func:`assert_sequence_parity` raise :class:`ParityError` with the diagnosis' message.
"""

from __future__ import annotations

import itertools
import os
import random
import traceback
from collections.abc import Callable
from dataclasses import replace

import numpy as np
from hypothesis import HealthCheck, find, settings
from hypothesis.errors import NoSuchExample

from .cases import (
    SEQ_CELLS,
    CellSpec,
    SeqSpec,
    cell_specs,
    make_cell_case,
    make_seq_case,
    seq_specs,
)
from .cells import cell_kind
from .diagnose import Diagnosis, diagnose
from .layouts import Layout, parse_layout
from .references import REFERENCE_NAMES, cell_reference, gradient_tolerance, sequence_reference

DEFAULT_EXAMPLES = 100


class ParityError(AssertionError):
    """A parity failure; ``.diagnosis`` holds the structured result."""

    def __init__(self, diagnosis: Diagnosis) -> None:
        super().__init__()
        self.diagnosis = diagnosis

    def __str__(self) -> str:  # built when shown, not on every shrinking step
        return self.diagnosis.message()


def describe_exception(exc: BaseException) -> str:
    """One line: the exception and the innermost frame (file:line) that raised it."""
    here = os.path.dirname(os.path.abspath(__file__))
    tb = [f for f in traceback.extract_tb(exc.__traceback__)
          if not os.path.abspath(f.filename).startswith(here)]
    where = f" at {tb[-1].filename}:{tb[-1].lineno} ({tb[-1].name})" if tb else ""
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return text.splitlines()[-1] + where


def _fill_missing(user: dict, template: dict, dtype, notes: list[str]) -> dict:
    """Your gradients with missing / mis-shaped entries replaced by NaN (reported)."""
    out = {}
    for k, p in template.items():
        g = user.get(k) if isinstance(user, dict) else None
        if g is None:
            notes.append(f"your backward returned no gradient {k!r}")
            g = np.full(np.shape(p), np.nan, dtype=dtype)
        elif np.shape(g) != np.shape(p):
            notes.append(f"gradient {k!r} has shape {np.shape(g)}, its parameter {np.shape(p)}")
            g = np.full(np.shape(p), np.nan, dtype=dtype)
        out[k] = np.asarray(g)
    if isinstance(user, dict):
        extra = sorted(set(user) - set(template))
        if extra:
            notes.append(f"gradients for unknown keys {extra} (parameters: {sorted(template)})")
    return out


def _state_parts(cell: str, state, prefix: str, suffix: str = "") -> dict:
    if cell_kind(cell).lstm_state:
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            raise TypeError(f"an LSTM state is the pair (h, c); got {type(state).__name__}")
        return {f"{prefix}h{suffix}": state[0], f"{prefix}c{suffix}": state[1]}
    if isinstance(state, (tuple, list)):
        raise TypeError(f"a {cell} state is one array h; got a {type(state).__name__}")
    return {f"{prefix}h{suffix}": state}


def cell_rebuild(spec: CellSpec, layout: Layout, names: tuple[str, str | None],
                 module: str | None = None) -> str:
    fwd, bwd = names
    lines = ["from parity.kit import CellSpec, Layout, check_cell, make_cell_case"]
    if module and module != "__main__":
        lines.append(f"from {module} import {', '.join(n for n in names if n)}")
    return "\n".join([
        *lines,
        f"spec = {spec!r}",
        "case = make_cell_case(spec)   # x, state, params (torch layout), d_state",
        f"d = check_cell({fwd}, {bwd}, spec, layout={layout!r})",
        "print(d.message())",
    ])


def check_cell(forward: Callable, backward: Callable | None, spec: CellSpec,
               layout: Layout | str | None = None, *, tol: float | None = None,
               names: tuple[str, str] | None = None) -> Diagnosis:
    """Run your step (and its backward, unless None) on ``spec`` and judge every quantity.

    Returns a :class:`Diagnosis`: outputs ``h_next`` (``c_next``), gradients ``d_x``,
    ``d_h_prev`` (``d_c_prev``), ``d_weight_ih``, ``d_weight_hh`` (``d_bias_ih``,
    ``d_bias_hh``), each in torch's naming with your layout's name alongside.
    """
    L = parse_layout(layout)
    cell = spec.cell
    L.check_cell(cell)
    if names is None:
        names = (getattr(forward, "__name__", "forward"),
                 None if backward is None else getattr(backward, "__name__", "backward"))
    case = make_cell_case(spec)
    ref = cell_reference(case)
    if backward is None:
        ref = {k: v for k, v in ref.items() if not k.startswith("d_")}
    dtype = np.dtype(spec.dtype)
    H, I = spec.hidden_size, spec.input_size
    notes: list[str] = []
    d = diagnose({}, ref, cell=cell, dtype=dtype, tol=tol, grad_tol=gradient_tolerance(cell),
                 user_names=L.user_names(cell), case=spec.describe(),
                 reference=REFERENCE_NAMES[cell], layout=L.describe(),
                 rebuild=cell_rebuild(spec, L, names, getattr(forward, "__module__", None)))
    params = L.params_from_torch(cell, {k: v.copy() for k, v in case.params.items()})
    ours: dict = {}
    try:
        result = forward(L.array_to_user(case.x.copy()), L.state_to_user(_copy(case.state)),
                         params)
        if not isinstance(result, tuple) or len(result) != 2:
            raise TypeError("forward must return (new_state, cache)")
        new_state, cache = result
        parts = _state_parts(cell, L.state_from_user(new_state), "", "_next")
        ours.update(parts)
        if backward is not None:
            result = backward(L.state_to_user(_copy(case.d_state)), cache)
            if not isinstance(result, tuple) or len(result) != 3:
                raise TypeError("backward must return (d_x, d_state, grads)")
            d_x, d_state, grads = result
            ours["d_x"] = L.array_from_user(d_x)
            ours.update(_state_parts(cell, L.state_from_user(d_state), "d_", "_prev"))
            if not isinstance(grads, dict):
                raise TypeError(f"backward's grads must be a dict, got {type(grads).__name__}")
            grads = _fill_missing(grads, params, dtype, notes)
            mapped = L.grads_to_torch(cell, grads, H, I, spec.bias)
            ours.update({"d_" + k: v for k, v in mapped.items()})
    except Exception as exc:  # the user's code failed: that is a result, not a crash
        d.error = describe_exception(exc)
    full = diagnose(ours, ref, cell=cell, dtype=dtype, tol=tol,
                    grad_tol=gradient_tolerance(cell), user_names=L.user_names(cell))
    d.quantities, d.arrays = full.quantities, full.arrays
    d.notes = notes
    if d.error is None and any(q.kind == "output" and not q.passed for q in d.quantities):
        _probe_swapped_blocks(forward, case, L, d, tol)
        if any(q.kind == "gradient" and not q.passed for q in d.quantities):
            d.notes.append("the forward is wrong, so wrong gradients may only follow from it: "
                           "fix the forward first")
    return d


def _user_outputs(forward: Callable, case, L: Layout, params: dict) -> dict | None:
    try:
        new_state, _ = forward(L.array_to_user(case.x.copy()), L.state_to_user(_copy(case.state)),
                               L.params_from_torch(case.spec.cell, params))
        return _state_parts(case.spec.cell, L.state_from_user(new_state), "", "_next")
    except Exception:
        return None


def _probe_swapped_blocks(forward: Callable, case, L: Layout, d: Diagnosis,
                          tol: float | None) -> None:
    """Pin a wrong forward to gate blocks with two probes of your forward.

    1. Permutations: feed your forward torch's weights with their blocks permuted (24 for
       the LSTM, 6 for the GRU); a match means your code reads gate j from the rows where
       torch keeps gate perm[j] (a swapped block, or a wrong ``order`` in the layout).
    2. Neutralisation: zero one block's rows (its pre-activation becomes 0: σ = ½,
       tanh = 0) in both; blocks whose neutralisation makes the outputs agree are where
       the forward goes wrong (e.g. ``z`` and ``1 − z`` exchanged agree at z = ½).
    """
    kind = cell_kind(case.spec.cell)
    if kind.gates == 1:
        return
    H = case.spec.hidden_size
    outputs = [q.name for q in d.quantities if q.kind == "output"]
    ref_out = {k: v for k, v in cell_reference(case).items() if k in outputs}

    def agrees(ours, ref):
        return ours is not None and diagnose(ours, ref, cell=case.spec.cell,
                                             dtype=case.x.dtype, tol=tol).passed

    def blame(ks, note):
        d.notes.append(note)
        labels = tuple(kind.block_label(k, H) for k in ks)
        d.quantities = [replace(q, gate_blocks=labels) if q.kind == "output" and
                        not q.passed else q for q in d.quantities]

    for perm in itertools.permutations(range(kind.gates)):
        if list(perm) == sorted(perm):
            continue
        p = {k: np.concatenate([v[j * H:(j + 1) * H] for j in perm], axis=0)
             for k, v in case.params.items()}
        if agrees(_user_outputs(forward, case, L, p), ref_out):
            moved = [k for k in range(kind.gates) if perm[k] != k]
            pairs = ", ".join(f"{kind.letters[k]} ← torch's {kind.letters[perm[k]]}"
                              for k in moved)
            blame(moved, "your forward matches torch once the gate blocks are exchanged ("
                  + pairs + "): a gate block is swapped, in your forward or in your layout's "
                  "order")
            return
    restoring = []
    for k in range(kind.gates):
        p = {n: v.copy() for n, v in case.params.items()}
        for v in p.values():
            v[k * H:(k + 1) * H] = 0
        ref_k = {n: v for n, v in cell_reference(replace(case, params=p)).items()
                 if n in outputs}
        if agrees(_user_outputs(forward, case, L, p), ref_k):
            restoring.append(k)
    if restoring and len(restoring) < kind.gates:
        names = ", ".join(kind.letters[k] for k in restoring)
        blame(restoring, f"your forward agrees with torch once gate block {names} is held at "
              "a zero pre-activation (σ = ½, tanh = 0): the error is in how that gate is "
              "computed or used")


def _copy(state):
    return tuple(a.copy() for a in state) if isinstance(state, tuple) else state.copy()


def _settings(examples: int) -> settings:
    return settings(max_examples=examples, database=None, deadline=None,
                    suppress_health_check=list(HealthCheck))


def find_cell_failure(forward: Callable, backward: Callable | None, cell: str = "lstm",
                      layout: Layout | str | None = None, *, examples: int = DEFAULT_EXAMPLES,
                      seed: int | None = None, bias: bool | None = None,
                      dtypes: tuple[str, ...] | None = None, max_batch: int = 4,
                      max_size: int = 6, tol: float | None = None,
                      names: tuple[str, str] | None = None) -> Diagnosis | None:
    """Search up to ``examples`` cases; the smallest failing case's diagnosis, or None.

    ``dtypes`` defaults to float64 and float32 (float64 only for ``elman-relu``, whose
    kink a float32 pre-activation can straddle in two correct implementations).
    """
    cell_kind(cell)
    L = parse_layout(layout)
    L.check_cell(cell)
    if dtypes is None:
        dtypes = ("float64",) if cell == "elman-relu" else ("float64", "float32")

    def fails(spec: CellSpec) -> bool:
        return not check_cell(forward, backward, spec, L, tol=tol, names=names).passed

    strategy = cell_specs(cell, bias=bias, dtypes=dtypes, max_batch=max_batch, max_size=max_size)
    try:
        spec = find(strategy, fails, settings=_settings(examples),
                    random=random.Random(seed) if seed is not None else None)
    except NoSuchExample:
        return None
    return check_cell(forward, backward, spec, L, tol=tol, names=names)


def assert_cell_parity(forward: Callable, backward: Callable | None = None, cell: str = "lstm",
                       layout: Layout | str | None = None, **kw) -> None:
    """Raise :class:`ParityError` (an AssertionError) explaining the smallest failing case.

    Keyword arguments as :func:`find_cell_failure` (examples, seed, bias, dtypes, tol …).
    """
    d = find_cell_failure(forward, backward, cell, layout, **kw)
    if d is not None:
        raise ParityError(d)


# ---------------------------------------------------------------------------
# Sequences
# ---------------------------------------------------------------------------
def check_sequence(forward: Callable, backward: Callable | None, spec: SeqSpec, *,
                   tol: float | None = None) -> Diagnosis:
    """Run your sequence forward (and backward) on ``spec``; judge every quantity."""
    case = make_seq_case(spec)
    ref = sequence_reference(case)
    if backward is None:
        ref = {k: v for k, v in ref.items() if not k.startswith("d_")}
    lstm = cell_kind(spec.cell).lstm_state
    dtype = np.dtype(spec.dtype)
    notes: list[str] = []
    ours: dict = {}
    error = None
    name = {"lstm": "torch.nn.LSTM", "gru": "torch.nn.GRU"}.get(spec.cell, "torch.nn.RNN")
    if spec.cell == "gru-slide":
        name = REFERENCE_NAMES["gru-slide"]
    elif case.lengths is not None:
        name += " on a packed sequence"
    params = {k: v.copy() for k, v in case.params.items()}
    try:
        (output, hx_n), cache = forward(case.x.copy(), _copy_opt(case.hx), params,
                                        None if case.lengths is None else case.lengths.copy(),
                                        spec)
        ours["output"] = output
        ours.update(_state_parts(spec.cell, hx_n, "", "_n"))
        if backward is not None:
            d_x, d_hx0, grads = backward(case.d_output.copy(), cache, _copy_opt(case.d_hx_n))
            ours["d_input"] = d_x
            if case.hx is not None:
                ours.update(_state_parts(spec.cell, d_hx0, "d_", "0"))
            grads = _fill_missing(grads, params, dtype, notes)
            ours.update({"d_" + k: v for k, v in grads.items()})
    except Exception as exc:
        error = describe_exception(exc)
    if not lstm:
        ref.pop("c_n", None)
    d = diagnose(ours, ref, cell=spec.cell, dtype=dtype, tol=tol, case=spec.describe(),
                 reference=name, rebuild="\n".join([
                     "from parity.kit import SeqSpec, check_sequence, make_seq_case",
                     f"spec = {spec!r}",
                     "case = make_seq_case(spec)   # params, x, hx, lengths, d_output, d_hx_n",
                     "print(check_sequence(forward, backward, spec).message())"]))
    d.error, d.notes = error, notes
    return d


def _copy_opt(s):
    if s is None:
        return None
    return _copy(tuple(s)) if isinstance(s, (tuple, list)) else s.copy()


def find_sequence_failure(forward: Callable, backward: Callable | None, cell: str = "lstm", *,
                          examples: int = 50, seed: int | None = None,
                          tol: float | None = None, **switches) -> Diagnosis | None:
    """Search sequence cases (switches as :func:`~parity.kit.cases.seq_specs`: bidirectional,
    lengths, batch_first, num_layers, bias, proj_size, h0, dtypes …); smallest failure or None."""
    if cell not in SEQ_CELLS:
        raise ValueError(f"cell must be one of {SEQ_CELLS}, got {cell!r}")

    def fails(spec: SeqSpec) -> bool:
        return not check_sequence(forward, backward, spec, tol=tol).passed

    try:
        spec = find(seq_specs(cells=(cell,), **switches), fails, settings=_settings(examples),
                    random=random.Random(seed) if seed is not None else None)
    except NoSuchExample:
        return None
    return check_sequence(forward, backward, spec, tol=tol)


def assert_sequence_parity(forward: Callable, backward: Callable | None = None,
                           cell: str = "lstm", **kw) -> None:
    """Raise :class:`ParityError` explaining the smallest failing sequence case."""
    d = find_sequence_failure(forward, backward, cell, **kw)
    if d is not None:
        raise ParityError(d)
