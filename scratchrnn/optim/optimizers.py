"""Optimizers SGD, Adam and AdamW, matching ``torch.optim``.

Every optimizer here holds *references* to a model's parameter and gradient
arrays and updates the parameters **in place**, exactly as ``torch.optim`` does
with ``.data`` and ``.grad``. It is built from a :class:`~scratchrnn.module.Module`
(its ``named_parameters()``) or from any iterable of ``(name, param, grad)``
triples::

    opt = Adam(model, lr=1e-3)
    for batch in batches:
        model.zero_grad()              # or opt.zero_grad()
        loss = ...; model.backward(...)
        clip_grad_norm(model, 1.0)
        opt.step()

The update equations follow torch's implementation (CPU, single-tensor path)
operation by operation, so that float64 results agree with torch to rounding.
There is one parameter group; its learning rate is the attribute ``opt.lr``,
which may be changed between steps (:class:`ReduceLROnPlateau` does).

State dicts are plain data, designed for a checkpoint that keeps arrays in an
``.npz`` and everything else in JSON::

    sd = opt.state_dict()
    arrays = sd["buffers"]                                  # {"exp_avg/fc.weight": ndarray, ...}
    meta = {k: v for k, v in sd.items() if k != "buffers"}  # JSON-serialisable

and ``opt.load_state_dict({**meta, "buffers": dict(np.load(path))})`` restores it.

Flat buffers (a flattened Module's, updated in one pass, bit for bit as per parameter,
with the same ``state`` and state-dict formats): see :mod:`scratchrnn.optim.flat`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import numpy as np

from ..checks import check_bool, check_nonnegative, check_nonnegative_int, check_real
from ..module import Module
from .flat import FlatState, flat_buffers

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "NamedParams"]

NamedParams = Iterable[tuple[str, np.ndarray, np.ndarray]]


def _collect(
    params: Module | NamedParams,
) -> tuple[list[str], list[np.ndarray], list[np.ndarray], tuple[np.ndarray, np.ndarray] | None]:
    """Names, parameters and gradients from a Module or ``(name, param, grad)`` triples,
    and ``(P, G)``, the (N,) buffers they are the consecutive views of, or None.

    A Module is asked (:meth:`Module.flat_parameters
    <scratchrnn.module.Module.flat_parameters>` checks its own views); triples can
    come from anywhere, with no owner to ask, so their arrays' memory is read
    (:func:`.flat.flat_buffers`).
    """
    module = params if isinstance(params, Module) else None
    if module is not None:
        triples = list(module.named_parameters())
    elif isinstance(params, (np.ndarray, str, bytes, Mapping)) or not isinstance(params, Iterable):
        raise ValueError(
            "params must be a scratchrnn Module or an iterable of (name, param, grad) "
            f"triples, got {type(params).__name__}"
        )
    else:
        triples = list(params)
    if not triples:
        raise ValueError("optimizer got an empty parameter list")
    names: list[str] = []
    ps: list[np.ndarray] = []
    gs: list[np.ndarray] = []
    for item in triples:
        if not isinstance(item, tuple) or len(item) != 3:
            raise ValueError(
                f"each entry of params must be a (name, param, grad) triple, got {item!r}"
            )
        name, p, g = item
        if not isinstance(name, str):
            raise ValueError(f"parameter name must be a str, got {name!r}")
        if "/" in name:
            raise ValueError(f"parameter name {name!r} must not contain '/'")
        if name in names:
            raise ValueError(f"duplicate parameter name {name!r}")
        for what, arr in (("parameter", p), ("gradient", g)):
            if not isinstance(arr, np.ndarray):
                raise ValueError(
                    f"{what} {name!r} must be a numpy.ndarray, got {type(arr).__name__}"
                )
            if arr.dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
                raise ValueError(f"{what} {name!r} must be float32 or float64, got {arr.dtype}")
        if g.shape != p.shape or g.dtype != p.dtype:
            raise ValueError(
                f"gradient of {name!r} has shape {g.shape} and dtype {g.dtype}, "
                f"expected the parameter's {p.shape} and {p.dtype}"
            )
        if not p.flags.writeable:
            raise ValueError(f"parameter {name!r} is read-only; optimizers update it in place")
        names.append(name)
        ps.append(p)
        gs.append(g)
    flat = module.flat_parameters() if module is not None else flat_buffers(ps, gs)
    return names, ps, gs, flat


def _lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """``start <- start + weight (end - start)`` in place, with torch.lerp's two-branch formula."""
    if abs(weight) < 0.5:
        start += weight * (end - start)
    else:
        start[...] = end - (end - start) * (1.0 - weight)


# -- optimizers ----------------------------------------------------------------
class Optimizer:
    """Base class: one parameter group, per-parameter buffers, plain-data state dicts.

    Attributes: ``names``, ``params``, ``grads`` (parallel lists; the arrays are the
    model's own), ``lr``, ``step_count`` (number of :meth:`step` calls so far) and
    ``state`` (``{param name: {buffer kind: ndarray}}``).
    """

    #: hyperparameter names, in the order the constructor takes them
    HYPER: ClassVar[tuple[str, ...]] = ("lr",)
    #: buffer kinds this optimizer may keep per parameter
    BUFFERS: ClassVar[tuple[str, ...]] = ()
    #: whether this class's own ``_update`` is elementwise, so that it may run on the
    #: whole flat buffers at once (a subclass that overrides ``_update`` says so again)
    elementwise_update: ClassVar[bool] = False

    def __init__(self, params: Module | NamedParams, lr: float, **hyper: Any) -> None:
        """``hyper``: the subclass's other hyperparameters (names from ``HYPER``), checked
        by :meth:`_validate` once all are set."""
        unknown = sorted(set(hyper) - set(self.HYPER))
        if unknown:  # pragma: no cover - a programming error in a subclass
            raise TypeError(f"{type(self).__name__} has no hyperparameters {unknown}")
        self.names, self.params, self.grads, flat = _collect(params)
        self.lr = lr
        for key, value in hyper.items():
            setattr(self, key, value)
        self.step_count = 0
        self.state: dict[str, dict[str, np.ndarray]] = {name: {} for name in self.names}
        owner = next(c for c in type(self).__mro__ if "_update" in vars(c))
        #: the flat buffers (see :mod:`.flat`) when the parameters and gradients are flat
        #: and this class's ``_update`` is elementwise; None: per parameter, for good
        self._flat = (FlatState(self.names, self.params, *flat)
                      if flat is not None and vars(owner).get("elementwise_update", False)
                      else None)
        self._validate()

    def flat_parameters(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``(P, G)`` when this optimizer updates flat buffers (see :mod:`.flat`), else None."""
        flat = self._flat
        return (flat.P, flat.G) if flat is not None and flat.active else None

    # -- learning rate, hyperparameters ----------------------------------------
    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = check_nonnegative("lr", value)

    def hyperparameters(self) -> dict[str, Any]:
        """The current hyperparameters as JSON-serialisable values."""
        out: dict[str, Any] = {}
        for key in self.HYPER:
            value = getattr(self, key)
            out[key] = list(value) if isinstance(value, tuple) else value
        return out

    def _validate(self) -> None:
        """Re-check hyperparameters (they are plain attributes a user may reassign)."""
        self.lr = self.lr

    # -- the update --------------------------------------------------------------
    def step(self) -> None:
        """Apply one update to every parameter, in place, from the current gradients."""
        self._validate()
        self.step_count += 1
        flat = self._flat
        if flat is not None and flat.active and flat.update(self._update, self.state):
            return  # else a state entry was replaced: per parameter from now on
        for name, p, g in zip(self.names, self.params, self.grads, strict=True):
            self._update(p, g, self.state[name])

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        raise NotImplementedError  # pragma: no cover - abstract

    def zero_grad(self) -> None:
        """Fill every gradient with 0 (in place: the model sees it)."""
        if self._flat is not None:
            self._flat.G.fill(0)
            return
        for g in self.grads:
            g.fill(0)

    # -- state -------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Plain-data state: ``type``, ``hyper``, ``step``, ``param_names``, ``buffers``.

        Everything but ``buffers`` is JSON-serialisable; ``buffers`` maps
        ``"<kind>/<param name>"`` to a *copy* of that buffer (ready for ``np.savez``).
        """
        return {
            "type": type(self).__name__,
            "hyper": self.hyperparameters(),
            "step": self.step_count,
            "param_names": list(self.names),
            "buffers": {
                f"{kind}/{name}": buf.copy()
                for name in self.names
                for kind, buf in self.state[name].items()
            },
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore hyperparameters (``lr`` included, as torch does), step count and buffers.

        Everything is checked before anything changes: the optimizer type, the
        hyperparameter names and values, the parameter names, each buffer's kind
        and shape. Buffers are copied and cast to their parameter's dtype.
        """
        if not isinstance(state, Mapping):
            raise ValueError(f"state must be a mapping, got {type(state).__name__}")
        expected_keys = {"type", "hyper", "step", "param_names", "buffers"}
        if set(state) != expected_keys:
            raise ValueError(
                f"optimizer state_dict must have keys {sorted(expected_keys)}, got {sorted(state)}"
            )
        if state["type"] != type(self).__name__:
            raise ValueError(
                f"state_dict is for a {state['type']!r} optimizer, not {type(self).__name__!r}"
            )
        hyper = state["hyper"]
        if not isinstance(hyper, Mapping) or set(hyper) != set(self.HYPER):
            got = sorted(hyper) if isinstance(hyper, Mapping) else hyper
            raise ValueError(f"state_dict['hyper'] must have keys {sorted(self.HYPER)}, got {got}")
        step = check_nonnegative_int("state_dict['step']", state["step"])
        names = state["param_names"]
        if not isinstance(names, (list, tuple)) or sorted(names) != sorted(self.names):
            raise ValueError(
                f"state_dict parameter names {names!r} do not match the optimizer's {self.names!r}"
            )
        buffers = state["buffers"]
        if not isinstance(buffers, Mapping):
            raise ValueError("state_dict['buffers'] must be a mapping")
        own = dict(zip(self.names, self.params, strict=True))
        new_state: dict[str, dict[str, np.ndarray]] = {name: {} for name in self.names}
        for key, value in buffers.items():
            kind, sep, name = str(key).partition("/")
            if not sep or kind not in self.BUFFERS or name not in own:
                raise ValueError(
                    f"unexpected buffer {key!r}: expected '<kind>/<param name>' with kind in "
                    f"{list(self.BUFFERS)} and a known parameter name"
                )
            arr = np.asarray(value)
            if arr.shape != own[name].shape:
                raise ValueError(
                    f"buffer {key!r} has shape {arr.shape}, expected {own[name].shape}"
                )
            new_state[name][kind] = arr.astype(own[name].dtype, copy=True)

        # Validate on a scratch copy of the hyperparameters, then commit.
        saved = {key: getattr(self, key) for key in self.HYPER}
        try:
            for key in self.HYPER:
                value = hyper[key]
                setattr(self, key, tuple(value) if isinstance(value, list) else value)
            self._validate()
            self._check_buffers(new_state, step)
        except Exception:
            for key, value in saved.items():
                setattr(self, key, value)
            raise
        self.step_count = step
        flat = self._flat
        if flat is not None and flat.active and not flat.load(new_state):
            flat.release()  # a kind only some parameters have: per parameter from now on
        self.state = new_state

    def _check_buffers(self, state: dict[str, dict[str, np.ndarray]], step: int) -> None:
        """Subclasses check that a loaded set of buffers is one they could have made."""

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({len(self.params)} parameters, {hyper})"


class SGD(Optimizer):
    r"""Stochastic gradient descent with momentum, as ``torch.optim.SGD``.

    For each parameter θ with gradient ∇ (γ = lr, λ = weight_decay, μ = momentum,
    τ = dampening)::

        g_t = -∇ if maximize else ∇
        g_t = g_t + λ θ_{t-1}                              if λ ≠ 0
        b_t = g_t                                          if μ ≠ 0 and t = 1  (not dampened)
        b_t = μ b_{t-1} + (1 - τ) g_t                      if μ ≠ 0 and t > 1
        g_t = g_t + μ b_t  if nesterov  else  b_t          if μ ≠ 0
        θ_t = θ_{t-1} - γ g_t

    Nesterov momentum needs μ > 0 and τ = 0. Buffer kind: ``momentum_buffer``
    (created on the first step with μ ≠ 0).
    """

    HYPER = ("lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize")
    BUFFERS = ("momentum_buffer",)
    elementwise_update = True

    def __init__(
        self,
        params: Module | NamedParams,
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params, lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
            nesterov=nesterov, maximize=maximize,
        )

    def _validate(self) -> None:
        super()._validate()
        self.momentum = check_nonnegative("momentum", self.momentum)
        self.dampening = check_real("dampening", self.dampening)
        self.weight_decay = check_nonnegative("weight_decay", self.weight_decay)
        self.nesterov = check_bool("nesterov", self.nesterov)
        self.maximize = check_bool("maximize", self.maximize)
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum > 0 and zero dampening")

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        d_p = -g if self.maximize else g
        if self.weight_decay != 0:
            d_p = d_p + self.weight_decay * p
        if self.momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                # np.array, not .copy(): arithmetic on a 0-d array yields a scalar
                buf = np.array(d_p, dtype=p.dtype, copy=True)
                state["momentum_buffer"] = buf
            else:
                buf *= self.momentum
                buf += (1.0 - self.dampening) * d_p
            d_p = d_p + self.momentum * buf if self.nesterov else buf
        p -= self.lr * d_p

    def _check_buffers(self, state: dict[str, dict[str, np.ndarray]], step: int) -> None:
        have = [bool(state[name]) for name in self.names]
        if any(have) and not all(have):
            missing = [name for name, h in zip(self.names, have, strict=True) if not h]
            raise ValueError(f"momentum_buffer missing for parameters {missing}")


class Adam(Optimizer):
    r"""Adam (Kingma & Ba), as ``torch.optim.Adam`` (L2 weight decay added to the gradient).

    For each parameter θ with gradient ∇, at step t = 1, 2, … (γ = lr,
    λ = weight_decay, β₁, β₂ = betas, ε = eps)::

        g_t = -∇ if maximize else ∇
        g_t = g_t + λ θ_{t-1}                          if λ ≠ 0   (Adam: L2 penalty)
        m_t = β₁ m_{t-1} + (1 - β₁) g_t                 (computed as torch.lerp)
        v_t = β₂ v_{t-1} + (1 - β₂) g_t²
        v̂_t = max(v̂_{t-1}, v_t)  if amsgrad  else  v_t
        denom = sqrt(v̂_t) / sqrt(1 - β₂ᵗ) + ε
        θ_t = θ_{t-1} - (γ / (1 - β₁ᵗ)) m_t / denom

    with m_0 = v_0 = v̂_0 = 0. Buffer kinds: ``exp_avg`` (m), ``exp_avg_sq`` (v)
    and, with amsgrad, ``max_exp_avg_sq`` (v̂). ``weight_decay=None`` means the
    class's ``default_weight_decay`` (0 here, 1e-2 for :class:`AdamW`).
    """

    HYPER = ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize")
    BUFFERS = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    elementwise_update = True
    #: AdamW decays the weights directly instead of adding λθ to the gradient.
    decoupled_weight_decay: ClassVar[bool] = False
    #: the weight_decay when none is given: 0 for Adam, 1e-2 for AdamW (torch's defaults)
    default_weight_decay: ClassVar[float] = 0.0

    def __init__(
        self,
        params: Module | NamedParams,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float | None = None,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        if weight_decay is None:
            weight_decay = self.default_weight_decay
        super().__init__(
            params, lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
            maximize=maximize,
        )

    def _validate(self) -> None:
        super()._validate()
        betas = self.betas
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        b1, b2 = check_real("betas[0]", betas[0]), check_real("betas[1]", betas[1])
        for i, b in enumerate((b1, b2)):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"betas[{i}] must be in [0, 1), got {b!r}")
        self.betas = (b1, b2)
        self.eps = check_nonnegative("eps", self.eps)
        self.weight_decay = check_nonnegative("weight_decay", self.weight_decay)
        self.amsgrad = check_bool("amsgrad", self.amsgrad)
        self.maximize = check_bool("maximize", self.maximize)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        if not state:
            state["exp_avg"] = np.zeros_like(p)
            state["exp_avg_sq"] = np.zeros_like(p)
        if self.amsgrad and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = np.zeros_like(p)
        lr, (beta1, beta2), t = self.lr, self.betas, float(self.step_count)
        m, v = state["exp_avg"], state["exp_avg_sq"]

        grad = -g if self.maximize else g
        if self.weight_decay != 0:
            if self.decoupled_weight_decay:
                p *= 1.0 - lr * self.weight_decay
            else:
                grad = grad + self.weight_decay * p

        _lerp_(m, grad, 1.0 - beta1)
        v *= beta2
        v += (1.0 - beta2) * grad * grad

        bias_correction1 = 1.0 - beta1**t
        bias_correction2 = 1.0 - beta2**t
        step_size = lr / bias_correction1
        bias_correction2_sqrt = bias_correction2**0.5
        if self.amsgrad:
            v_hat = state["max_exp_avg_sq"]
            np.maximum(v_hat, v, out=v_hat)
        else:
            v_hat = v
        denom = np.sqrt(v_hat) / bias_correction2_sqrt + self.eps
        p += -step_size * m / denom

    def _check_buffers(self, state: dict[str, dict[str, np.ndarray]], step: int) -> None:
        if step == 0:
            if any(state[name] for name in self.names):
                raise ValueError("state_dict has buffers but step is 0")
            return
        needed = {"exp_avg", "exp_avg_sq"} | ({"max_exp_avg_sq"} if self.amsgrad else set())
        for name in self.names:
            missing = needed - set(state[name])
            if missing:
                raise ValueError(f"buffers {sorted(missing)} missing for parameter {name!r}")
            for kind in ("exp_avg_sq", "max_exp_avg_sq"):
                # v and v̂ are running means of g²: NaN or < 0 only in a damaged file (and
                # would turn the next update's sqrt(v̂) into NaN)
                v = state[name].get(kind)
                if v is not None and not (v >= 0).all():
                    raise ValueError(f"buffer '{kind}/{name}' has negative or NaN entries "
                                     "(a second-moment estimate is ≥ 0)")


class AdamW(Adam):
    r"""AdamW (Loshchilov & Hutter), as ``torch.optim.AdamW``: decoupled weight decay.

    Identical to :class:`Adam` except that weight decay shrinks the parameter
    before the moment updates instead of entering the gradient::

        θ ← θ (1 - γ λ)          (then the Adam update with g_t = ∇, or -∇ if maximize)

    The constructor is Adam's; the default ``weight_decay`` is 1e-2, as in torch.
    """

    decoupled_weight_decay = True
    default_weight_decay = 1e-2
