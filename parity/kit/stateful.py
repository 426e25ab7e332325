"""Stateful checks: drive *your cell object* like a training loop, compare every step.

The protocol a cell object offers (or :class:`StepCell` adapts a step-function pair)::

    obj = factory(input_size, hidden_size, bias)
    obj.params                  dict of arrays in your Layout (the kit assigns them once,
                                then updates them IN PLACE, as an optimizer does)
    obj.grads                   dict, same keys and shapes
    obj.forward(x, state)       -> new_state           (keeps what backward needs)
    obj.backward(d_new_state)   -> (d_x, d_state)      ADDS into obj.grads (torch's .grad)
    obj.zero_grad()             sets every obj.grads array to 0

:class:`CellMachine`, a hypothesis ``RuleBasedStateMachine``, draws sizes once, then a
sequence of ``forward`` (a new batch size each time), ``backward``, ``sgd_step``
(``p -= lr * grad`` on your params, in place; never between a forward and its backward,
which torch forbids too) and ``zero_grad``. After every rule it
compares with a reference that holds its own weights: outputs and input/state gradients
with the reference cell (torch's for the torch cells), the accumulated gradients and the
updated weights with the reference's. State carried wrongly between calls (a gradient
buffer not reset, gradients overwritten instead of added, a hidden state or a weight copy
kept from an earlier call) fails, and hypothesis shrinks the steps to the shortest run.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from .assertions import ParityError, _state_parts, describe_exception
from .cases import CellCase, CellSpec
from .cells import cell_kind
from .diagnose import Diagnosis, diagnose
from .layouts import Layout, parse_layout
from .references import REFERENCE_NAMES, cell_reference, gradient_tolerance

LR = 0.1


class StepCell:
    """A step-function pair as a cell object (the protocol above).

    ``forward(x, state, params) -> (new_state, cache)``, ``backward(d_new_state, cache)
    -> (d_x, d_state, grads)``; ``params`` in your layout.
    """

    def __init__(self, forward: Callable, backward: Callable, params: dict) -> None:
        self._forward, self._backward = forward, backward
        self.params = params
        self.grads = {k: np.zeros_like(v) for k, v in params.items()}
        self._cache = None

    def forward(self, x, state):
        new_state, self._cache = self._forward(x, state, self.params)
        return new_state

    def backward(self, d_new_state):
        d_x, d_state, grads = self._backward(d_new_state, self._cache)
        for k, g in grads.items():
            self.grads[k] += g
        return d_x, d_state

    def zero_grad(self) -> None:
        for g in self.grads.values():
            g[...] = 0


def step_cell_factory(forward: Callable, backward: Callable, cell: str,
                      layout: Layout | str | None = None, dtype: str = "float64"):
    """``factory(input_size, hidden_size, bias)`` making :class:`StepCell` objects."""
    L = parse_layout(layout)

    def factory(input_size: int, hidden_size: int, bias: bool) -> StepCell:
        G = cell_kind(cell).gates
        H = hidden_size
        p = {"weight_ih": np.zeros((G * H, input_size), dtype),
             "weight_hh": np.zeros((G * H, H), dtype)}
        if bias:
            p.update(bias_ih=np.zeros(G * H, dtype), bias_hh=np.zeros(G * H, dtype))
        return StepCell(forward, backward, L.params_from_torch(cell, p))

    return factory


def _machine(factory: Callable, cell: str, L: Layout, bias: bool | None, dtypes: tuple,
             max_batch: int, max_size: int, tol: float | None, seed: int):
    kind = cell_kind(cell)
    offset = seed

    class CellMachine(RuleBasedStateMachine):
        """Forward / backward / SGD step / zero_grad on your object and on the reference."""

        @initialize(I=st.integers(1, max_size), H=st.integers(1, max_size),
                    b=st.booleans() if bias is None else st.just(bias),
                    dtype=st.sampled_from(dtypes))
        def build(self, I, H, b, dtype):
            self.I, self.H, self.bias, self.dtype = I, H, b, np.dtype(dtype)
            seed = offset  # arrays from one seed: hypothesis shrinks steps and sizes only
            self.rng = np.random.default_rng(seed)
            self.history = [f"obj = factory({I}, {H}, {b})  # {dtype}"]
            spec = CellSpec(cell, 1, I, H, b, dtype, seed)
            from .cases import make_cell_case

            torch_params = make_cell_case(spec).params
            self.shadow = L.params_from_torch(cell, torch_params)  # reference, your layout
            self.ref_grads = {k: np.zeros_like(v) for k, v in torch_params.items()}
            try:
                self.obj = factory(I, H, b)
                for k, v in self.shadow.items():
                    self.obj.params[k] = v.copy()
            except Exception as exc:
                self._fail(error=describe_exception(exc))
            self.pending = None

        # -------------------------------------------------------------- helpers
        def _torch_params(self):
            return L.params_to_torch(cell, self.shadow, self.H, self.I, self.bias)

        def _fail(self, d: Diagnosis | None = None, error: str | None = None):
            if d is None:
                d = Diagnosis(cell=cell, case={}, quantities=[])
            d.error = d.error or error
            d.case = {"I": self.I, "H": self.H, "bias": self.bias, "dtype": self.dtype.name}
            d.reference = REFERENCE_NAMES[cell]
            d.layout = L.describe()
            d.notes.append("steps so far: " + " → ".join(self.history))
            raise ParityError(d)

        def _call(self, what: str, fn, *args):
            try:
                return fn(*args)
            except Exception as exc:
                self._fail(error=f"{what}: {describe_exception(exc)}")

        def _check(self, ours: dict, ref: dict):
            d = diagnose(ours, ref, cell=cell, dtype=self.dtype, tol=tol,
                         grad_tol=gradient_tolerance(cell), user_names=L.user_names(cell))
            if not d.passed:
                self._fail(d)

        def _r(self, *shape):
            return self.rng.standard_normal(shape).astype(self.dtype)

        def _state(self, B):
            return (self._r(B, self.H), self._r(B, self.H)) if kind.lstm_state else \
                self._r(B, self.H)

        # -------------------------------------------------------------- rules
        @rule(B=st.integers(1, max_batch))
        def forward(self, B):
            x, state = self._r(B, self.I), self._state(B)
            self.history.append(f"forward(B={B})")
            new = self._call("forward", self.obj.forward, L.array_to_user(x.copy()),
                             L.state_to_user(_copy(state)))
            ours = self._call("forward's state", _state_parts, cell, L.state_from_user(new), "",
                              "_next")
            spec_case = CellCase(CellSpec(cell, B, self.I, self.H, self.bias, self.dtype.name),
                                 x, state, self._torch_params(),
                                 _zeros_like_state(state))
            ref = {k: v for k, v in cell_reference(spec_case).items() if not k.startswith("d_")}
            self._check(ours, ref)
            self.pending = spec_case

        @precondition(lambda self: self.pending is not None)
        @rule()
        def backward(self):
            case = self.pending
            d_state = self._state(case.x.shape[0])
            case.d_state = d_state
            self.history.append("backward()")
            res = self._call("backward", self.obj.backward, L.state_to_user(_copy(d_state)))
            if not isinstance(res, tuple) or len(res) != 2:
                self._fail(error="backward must return (d_x, d_state)")
            ref = cell_reference(case)
            ours = {"d_x": L.array_from_user(res[0])}
            ours.update(self._call("backward's d_state", _state_parts, cell,
                                   L.state_from_user(res[1]), "d_", "_prev"))
            for k in self.ref_grads:
                self.ref_grads[k] = self.ref_grads[k] + ref["d_" + k]
            ours.update(self._user_grads())
            want = {k: ref[k] for k in ours if k in ref and not k.startswith("d_w") and
                    not k.startswith("d_b")}
            want.update({"d_" + k: v for k, v in self.ref_grads.items()})
            self._check(ours, want)
            self.pending = None  # one backward per forward, as with a torch graph

        def _user_grads(self) -> dict:
            g = self._call("reading obj.grads", lambda: {k: np.asarray(self.obj.grads[k])
                                                          for k in self.shadow})
            mapped = self._call("mapping obj.grads", L.grads_to_torch, cell, g, self.H,
                                self.I, self.bias)
            return {"d_" + k: v for k, v in mapped.items()}

        @precondition(lambda self: self.pending is None)  # torch forbids it, too
        @rule()
        def sgd_step(self):
            self.history.append(f"sgd_step(lr={LR})")
            ref_user = L.params_from_torch(cell, self.ref_grads, grads=True)
            for k in self.shadow:
                self.shadow[k] = self.shadow[k] - self.dtype.type(LR) * ref_user[k]

            def update():
                for k in self.shadow:
                    self.obj.params[k] -= self.dtype.type(LR) * self.obj.grads[k]

            self._call("sgd_step on obj.params", update)
            self._weights_match()

        @rule()
        def zero_grad(self):
            self.history.append("zero_grad()")
            self._call("zero_grad", self.obj.zero_grad)
            self.ref_grads = {k: np.zeros_like(v) for k, v in self.ref_grads.items()}
            self._check(self._user_grads(), {"d_" + k: v for k, v in self.ref_grads.items()})

        def _weights_match(self):
            mapped = L.params_to_torch(cell, {k: np.asarray(self.obj.params[k])
                                              for k in self.shadow}, self.H, self.I, self.bias)
            self._check({k: v for k, v in mapped.items()},
                        {k: v for k, v in self._torch_params().items()})

    return CellMachine


def _copy(state):
    return tuple(a.copy() for a in state) if isinstance(state, tuple) else state.copy()


def _zeros_like_state(state):
    return tuple(np.zeros_like(a) for a in state) if isinstance(state, tuple) else \
        np.zeros_like(state)


def find_object_failure(factory: Callable, cell: str = "lstm",
                        layout: Layout | str | None = None, *, examples: int = 30,
                        steps: int = 20, seed: int = 0, bias: bool | None = None,
                        dtypes: tuple[str, ...] = ("float64",), max_batch: int = 4,
                        max_size: int = 5, tol: float | None = None,
                        shrink: bool = True) -> Diagnosis | None:
    """Run the state machine on your factory; the shrunk failure's diagnosis, or None.

    Deterministic: ``seed`` offsets the seeds of the arrays; hypothesis' own choices are
    derandomized. ``examples`` runs of up to ``steps`` rules each; ``shrink=False`` reports
    the first failing run as found (faster, longer).
    """
    L = parse_layout(layout)
    L.check_cell(cell)
    machine = _machine(factory, cell, L, bias, dtypes, max_batch, max_size, tol, seed)
    s = settings(max_examples=examples, stateful_step_count=steps, deadline=None,
                 database=None, suppress_health_check=list(HealthCheck), derandomize=True,
                 print_blob=False,
                 phases=list(Phase) if shrink else [Phase.explicit, Phase.generate])
    try:
        run_state_machine_as_test(machine, settings=s)
    except ParityError as err:
        d = err.diagnosis
        lines = "\n".join(getattr(err, "__notes__", [])).splitlines()
        keep = [ln.strip() for ln in lines if ln.strip().startswith("state")
                and "teardown" not in ln]
        d.rebuild = "\n".join(["# the shortest failing run hypothesis found:", *keep])
        return d
    return None


def assert_object_parity(factory: Callable, cell: str = "lstm",
                         layout: Layout | str | None = None, **kw) -> None:
    """Raise :class:`~parity.kit.assertions.ParityError` if the state machine finds a failure."""
    d = find_object_failure(factory, cell, layout, **kw)
    if d is not None:
        raise ParityError(d)
