"""Adapters: an exercise function (the lecture's signature) as the kit's cell protocol.

The kit checks ``forward(x, state, params) -> (new_state, cache)`` and
``backward(d_new_state, cache) -> (d_x, d_state, grads)`` (torch's layout, ``params``
keyed ``weight_ih`` …). An exercise is one of four shapes:

* a **step forward** ``*_step_forward(gx_t, h_prev, [c_prev,] W_hh, b_hh[, variant])``:
  wrapped with the reference input projection ``gx_t = x W_ihᵀ + b_ih``; graded on its
  outputs only;
* a **step backward** ``*_step_backward(dh_t, [dc_t,] cache, W_hh)``: the *reference*
  step forward makes the cache (converted to the student file's cache class, which has the
  reference's fields) and the reference parameter-gradient code (``d_x = dgx_t W_ih``,
  ``dW_ih = dgx_tᵀ x``, ``dW_hh = dgh_tᵀ h_{t−1}``, biases summed over the batch) wraps
  the student's ``(dgx_t, dgh_t, dh_prev[, dc_prev])``: a wrong result is the step's;
* a **cell forward / backward** (torch's RNNCell/LSTMCell/GRUCell as functions): called
  as they are; they call the student's own steps.

Every call into the student's code goes through :meth:`Recorder.call`, which keeps the
exception it raised (the kit only keeps a one-line description) so that the grader can
show a traceback into the student's file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from scratchrnn import cells as ref_cells
from scratchrnn import gating as ref_gating
from scratchrnn.exercises.manifest import Exercise

from ..kit.cells import cell_kind
from .honesty import CallWatch

#: the extra argument each kit cell passes (last, positionally) to a forward: its variant
VARIANT_ARGUMENT: dict[str, tuple[str, str] | None] = {
    "elman": ("nonlinearity", "tanh"), "elman-relu": ("nonlinearity", "relu"),
    "lstm": None,
    "gru": ("form", "torch"), "gru-slide": ("form", "slide"),
    "gated-none": ("gating", "none"), "gated-input": ("gating", "input"),
    "gated-hidden": ("gating", "hidden"),
}
#: what each step backward returns, in order
STEP_GRADIENTS = {True: ("dgx_t", "dgh_t", "dh_prev", "dc_prev"),
                  False: ("dgx_t", "dgh_t", "dh_prev")}


class ReturnMistake(Exception):
    """The student's function returned the wrong kind of thing (arity, shape, key)."""


@dataclass
class Recorder:
    """The last exception the student's code raised (or a :class:`ReturnMistake`)."""

    exc: BaseException | None = None
    calls: int = field(default=0)
    #: watches each call for code of scratchrnn, parity or torch (parity.grade.honesty)
    watch: CallWatch = field(default_factory=CallWatch)

    def reset(self) -> None:
        self.exc = None

    def call(self, fn: Callable, *args):
        self.calls += 1
        try:
            return self.watch.run(fn, *args)
        except Exception as exc:
            self.exc = exc
            raise

    def mistake(self, text: str) -> ReturnMistake:
        self.exc = ReturnMistake(text)
        return self.exc


def family(variant: str) -> str:
    """The hint family of a kit cell: elman, lstm, gru, gru-slide or gated."""
    if variant.startswith("elman"):
        return "elman"
    if variant.startswith("gated"):
        return "gated"
    return variant


def _variant_args(variant: str) -> tuple:
    arg = VARIANT_ARGUMENT[variant]
    return () if arg is None else (arg[1],)


def _projection(x, W, b):
    g = x @ W.T
    return g if b is None else g + b


def _tuple(value, n: int, name: str, what: str, rec: Recorder) -> tuple:
    if not isinstance(value, tuple) or len(value) != n:
        got = f"{len(value)} values" if isinstance(value, tuple) else type(value).__name__
        raise rec.mistake(f"{name} returned {got}; expected {n}: {what}")
    return value


def _shaped(value, shape: tuple, name: str, what: str, rec: Recorder, sizes: str):
    if not hasattr(value, "shape"):
        raise rec.mistake(f"{name} returned {what} as {type(value).__name__}; expected an "
                          f"array of shape {sizes} = {shape}")
    if tuple(value.shape) != tuple(shape):
        raise rec.mistake(f"{name} returned {what} of shape {tuple(value.shape)}; expected "
                          f"{sizes} = {tuple(shape)}")
    return value


def _reference_step(variant: str):
    """The reference step forward and backward for a kit cell (scratchrnn's own)."""
    if variant.startswith("elman"):
        return ref_cells.elman_step_forward
    if variant == "lstm":
        return ref_cells.lstm_step_forward
    if variant.startswith("gru"):
        return ref_cells.gru_step_forward
    return ref_gating.gated_step_forward


def _student_cache(module, reference_cache):
    """The reference cache as an instance of the student file's class of that name."""
    cls = getattr(module, type(reference_cache).__name__, None)
    if cls is None or cls is type(reference_cache):
        return reference_cache
    try:
        return cls(*reference_cache)
    except Exception:
        return reference_cache


def step_forward_adapter(fn: Callable, name: str, variant: str, rec: Recorder):
    """``fn`` a step forward → the kit's forward (backward None)."""
    lstm = cell_kind(variant).lstm_state
    extra = _variant_args(variant)

    def forward(x, state, params):
        gx = _projection(x, params["weight_ih"], params.get("bias_ih"))
        W_hh, b_hh = params["weight_hh"], params.get("bias_hh")
        if lstm:
            h_prev, c_prev = state
            out = _tuple(rec.call(fn, gx, h_prev, c_prev, W_hh, b_hh), 3, name,
                         "(h_t, c_t, cache)", rec)
            return (out[0], out[1]), out[2]
        out = _tuple(rec.call(fn, gx, state, W_hh, b_hh, *extra), 2, name, "(h_t, cache)",
                     rec)
        return out[0], out[1]

    return forward, None


def step_backward_adapter(fn: Callable, name: str, variant: str, rec: Recorder, module):
    """``fn`` a step backward → the kit's (forward, backward) around the reference forward."""
    kind = cell_kind(variant)
    lstm = kind.lstm_state
    G = kind.gates
    extra = _variant_args(variant)
    step_forward = _reference_step(variant)
    names = STEP_GRADIENTS[lstm]

    def forward(x, state, params):
        gx = _projection(x, params["weight_ih"], params.get("bias_ih"))
        W_hh, b_hh = params["weight_hh"], params.get("bias_hh")
        if lstm:
            h_t, c_t, cache = step_forward(gx, state[0], state[1], W_hh, b_hh)
            new_state = (h_t, c_t)
        else:
            h_t, cache = step_forward(gx, state, W_hh, b_hh, *extra)
            new_state = h_t
        return new_state, (cache, x, params)

    def backward(d_state, packed):
        cache, x, params = packed
        W_ih, W_hh = params["weight_ih"], params["weight_hh"]
        B, H = cache.h_prev.shape
        args = (d_state[0], d_state[1]) if lstm else (d_state,)
        out = _tuple(rec.call(fn, *args, _student_cache(module, cache), W_hh), len(names),
                     name, "(" + ", ".join(names) + ")", rec)
        wanted = {"dgx_t": ((B, G * H), f"(B, {G}H)" if G > 1 else "(B, H)"),
                  "dgh_t": ((B, G * H), f"(B, {G}H)" if G > 1 else "(B, H)"),
                  "dh_prev": ((B, H), "(B, H)"), "dc_prev": ((B, H), "(B, H)")}
        for n, v in zip(names, out, strict=True):
            _shaped(v, wanted[n][0], name, n, rec, wanted[n][1])
        dgx, dgh, dh_prev = out[:3]
        grads = {"weight_ih": dgx.T @ x}
        if variant.startswith("gru"):
            h_in, rh_in = ref_cells.gru_hidden_inputs(cache)
            grads["weight_hh"] = ref_cells.gru_weight_hh_grad(dgh, h_in, rh_in)
        else:
            grads["weight_hh"] = dgh.T @ cache.h_prev
        if "bias_ih" in params:
            grads["bias_ih"] = dgx.sum(axis=0)
            grads["bias_hh"] = dgh.sum(axis=0)
        d_state_prev = (dh_prev, out[3]) if lstm else dh_prev
        return dgx @ W_ih, d_state_prev, grads

    return forward, backward


def cell_forward_adapter(fn: Callable, name: str, variant: str, rec: Recorder):
    """``fn`` a cell forward (x, h_prev, [c_prev,] W_ih, W_hh, b_ih, b_hh[, variant])."""
    lstm = cell_kind(variant).lstm_state
    extra = _variant_args(variant)

    def forward(x, state, params):
        p = (params["weight_ih"], params["weight_hh"], params.get("bias_ih"),
             params.get("bias_hh"))
        if lstm:
            out = _tuple(rec.call(fn, x, state[0], state[1], *p), 2, name,
                         "((h_t, c_t), cache)", rec)
            _tuple(out[0], 2, name, "(h_t, c_t) as its first value", rec)
            return tuple(out[0]), out[1]
        out = _tuple(rec.call(fn, x, state, *p, *extra), 2, name, "(h_t, cache)", rec)
        return out[0], out[1]

    return forward


def cell_backward_adapter(fn: Callable, name: str, variant: str, rec: Recorder,
                          forward: Callable):
    """``fn`` a cell backward (dh_t, [dc_t,] cache) -> dict, after the student's forward."""
    lstm = cell_kind(variant).lstm_state

    def backward(d_state, cache):
        args = (d_state[0], d_state[1]) if lstm else (d_state,)
        g = rec.call(fn, *args, cache)
        if not isinstance(g, dict):
            raise rec.mistake(f"{name} returned {type(g).__name__}; expected a dict of "
                              "gradients keyed x, h_prev, " + ("c_prev, " if lstm else "")
                              + "weight_ih, weight_hh[, bias_ih, bias_hh]")
        need = ["x", "h_prev"] + (["c_prev"] if lstm else [])
        missing = [k for k in need if k not in g]
        if missing:
            raise rec.mistake(f"{name}'s dict has no key {', '.join(map(repr, missing))} "
                              f"(its keys: {', '.join(map(repr, g)) or 'none'})")
        grads = {k: v for k, v in g.items() if k not in need}
        d_state_prev = (g["h_prev"], g["c_prev"]) if lstm else g["h_prev"]
        return g["x"], d_state_prev, grads

    return forward, backward


def build(exercise: Exercise, variant: str, module, rec: Recorder):
    """The kit's ``(forward, backward)`` grading ``exercise`` of ``module`` on ``variant``.

    A cell backward is paired with the module's own cell forward (``exercise.forward``).
    """
    fn = getattr(module, exercise.name)
    if exercise.level == "step":
        if exercise.kind == "forward":
            return step_forward_adapter(fn, exercise.name, variant, rec)
        return step_backward_adapter(fn, exercise.name, variant, rec, module)
    if exercise.kind == "forward":
        return cell_forward_adapter(fn, exercise.name, variant, rec), None
    fwd = cell_forward_adapter(getattr(module, exercise.forward), exercise.forward, variant,
                               rec)
    return cell_backward_adapter(fn, exercise.name, variant, rec, fwd)


#: kit quantity → the name the exercise gives it, per (level, kind)
STEP_BACKWARD_SOURCES = {
    "dgx_t": ("d_weight_ih", "d_bias_ih", "d_x"),
    "dgh_t": ("d_weight_hh", "d_bias_hh"),
    "dh_prev": ("d_h_prev",),
    "dc_prev": ("d_c_prev",),
}
FORWARD_NAMES = {"h_next": "h_t", "c_next": "c_t"}

