"""The model container: named parameters and gradients, train/eval mode, state_dict.

A :class:`Module` holds its own parameters in ``self.params`` and the matching
gradients in ``self.grads`` (same keys, same shapes), keyed by torch's
``state_dict`` names. Child modules are registered with :meth:`add_module`; the
names of their parameters are prefixed with the child's name and a dot, exactly
as ``torch.nn.Module.state_dict`` does (``rnn.weight_ih_l0``, ``fc1.bias``), so a
whole model moves between NumPy and torch in one call.

Backward passes *accumulate* into ``grads`` (as torch's ``.grad`` does); call
:meth:`zero_grad` between steps.

:meth:`Module.flatten_parameters` moves every parameter into one contiguous buffer
and every gradient into another, so that the per-step bookkeeping of training
(zeroing, the gradient norm, the optimizer's update, the finiteness check) is a few
whole-buffer calls instead of a few per parameter.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np

from .checks import all_finite


class Module:
    """Base class of every scratchrnn layer and model."""

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.children: dict[str, Module] = {}
        self.training: bool = True
        #: set by flatten_parameters: (P, G, [(module, name, param view, grad view), ...])
        self._flat: tuple[np.ndarray, np.ndarray, list[tuple[Module, str, np.ndarray,
                                                            np.ndarray]]] | None = None

    # -- registration -------------------------------------------------------
    def add_param(self, name: str, value: np.ndarray) -> np.ndarray:
        """Register a parameter (and a zero gradient of the same shape and dtype)."""
        if "." in name:
            raise ValueError(f"parameter name {name!r} must not contain '.'")
        self.params[name] = value
        self.grads[name] = np.zeros_like(value)
        return value

    def add_module(self, name: str, module: Module) -> Module:
        """Register a child module; its parameters appear as ``name.<param>``."""
        if "." in name:
            raise ValueError(f"module name {name!r} must not contain '.'")
        self.children[name] = module
        return module

    # -- traversal ----------------------------------------------------------
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        yield prefix, self
        for name, child in self.children.items():
            yield from child.named_modules(f"{prefix}{name}.")

    def named_parameters(self) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
        """Yield ``(full_name, param, grad)`` in registration order, as torch does."""
        for prefix, module in self.named_modules():
            for name, value in module.params.items():
                yield prefix + name, value, module.grads[name]

    def parameters(self) -> list[np.ndarray]:
        return [p for _, p, _ in self.named_parameters()]

    def gradients(self) -> list[np.ndarray]:
        return [g for _, _, g in self.named_parameters()]

    # -- state --------------------------------------------------------------
    def zero_grad(self) -> None:
        flat = self.flat_parameters()
        if flat is not None:
            flat[1].fill(0)
            return
        for _, _, g in self.named_parameters():
            g.fill(0)

    # -- flat buffers -------------------------------------------------------
    def flatten_parameters(self) -> bool:
        """Move all parameters into one contiguous buffer P, all gradients into another, G.

        With N the total number of parameter elements, ``P`` and ``G`` are 1-D arrays
        of shape (N,) in the parameters' dtype. In ``named_parameters()`` order, the
        parameter θ_k of n_k elements and shape s_k becomes the C-contiguous view
        ``P[o_k : o_k + n_k].reshape(s_k)`` (o_k = n_1 + … + n_{k-1}), and its gradient
        the same view of G; each submodule's ``params[name]`` / ``grads[name]`` is
        rebound to its view, with the values it had. Names, shapes, dtype and values do
        not change; only the arrays do, so flatten *before* building an optimizer (an
        optimizer built earlier keeps the old arrays), as with torch's
        ``RNNBase.flatten_parameters``.

        An optimizer built on a flat module (:mod:`scratchrnn.optim`) then updates P
        in one set of whole-buffer calls, bit for bit as parameter by parameter, and
        :meth:`zero_grad` fills G once: on the labs' small arrays the per-call
        overhead, not the arithmetic, was what these steps cost.

        Returns True when the parameters are flat (already, or now); False, changing
        nothing, when there are no parameters, when the parameters and gradients do
        not all share one float dtype and their shapes, or when a submodule appears
        twice in the tree.
        """
        if self.flat_parameters() is not None:
            return True
        modules = [m for _, m in self.named_modules()]
        if len({id(m) for m in modules}) != len(modules):
            return False
        slots = [(m, name) for m in modules for name in m.params]
        if not slots:
            return False
        dtypes = {a.dtype for m, name in slots for a in (m.params[name], m.grads[name])}
        dtype = next(iter(dtypes))
        if len(dtypes) != 1 or dtype.kind != "f" or any(
                m.grads[name].shape != m.params[name].shape for m, name in slots):
            return False
        sizes = [m.params[name].size for m, name in slots]
        P = np.empty(sum(sizes), dtype=dtype)
        G = np.empty_like(P)
        views = []
        o = 0
        for (m, name), n in zip(slots, sizes, strict=True):
            shape = m.params[name].shape
            p_view, g_view = P[o:o + n].reshape(shape), G[o:o + n].reshape(shape)
            p_view[...] = m.params[name]
            g_view[...] = m.grads[name]
            m.params[name], m.grads[name] = p_view, g_view
            views.append((m, name, p_view, g_view))
            o += n
        self._flat = (P, G, views)
        return True

    def flat_parameters(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``(P, G)``, the (N,) buffers of :meth:`flatten_parameters`, while they hold the
        whole tree's parameters and gradients; None when never flattened or when any
        ``params``/``grads`` entry is no longer the view it set up (replaced, added,
        removed, or the model copied or unpickled)."""
        flat = getattr(self, "_flat", None)  # a subclass may skip Module.__init__
        if flat is None:
            return None
        P, G, views = flat
        slots = iter(views)
        for _, m in self.named_modules():
            for name, p in m.params.items():
                slot = next(slots, None)
                if (slot is None or slot[0] is not m or slot[1] != name or slot[2] is not p
                        or slot[3] is not m.grads.get(name) or p.base is not P
                        or slot[3].base is not G):
                    return None
        if next(slots, None) is not None:
            return None
        return P, G

    def train(self, mode: bool = True) -> Module:
        for _, module in self.named_modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter under torch's ``state_dict`` names."""
        return {name: p.copy() for name, p, _ in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, object], strict: bool = True) -> None:
        """Copy values into the parameters, in place, checking names and shapes.

        ``state`` may hold NumPy arrays or anything ``np.asarray`` accepts (a torch
        CPU tensor, after ``.detach()``). Values are cast to each parameter's dtype. A
        value that is not finite (NaN, ±inf, also after the cast: 1e39 in float32) is
        refused with ``ValueError`` naming the parameter, and nothing is copied.
        """
        own = {name: p for name, p, _ in self.named_parameters()}
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        if strict and (missing or unexpected):
            raise ValueError(
                f"state_dict mismatch: missing keys {missing}, unexpected keys {unexpected}"
            )
        # every value checked before any is copied: a refused state leaves the weights as
        # they were
        values = {}
        for name, p in own.items():
            if name not in state:
                continue
            value = np.asarray(state[name])
            if value.shape != p.shape:
                raise ValueError(
                    f"state_dict[{name!r}] has shape {value.shape}, expected {p.shape}"
                )
            value = value.astype(p.dtype, copy=False)
            if not all_finite(value):
                bad = int(value.size - np.isfinite(value).sum())
                raise ValueError(f"state_dict[{name!r}] holds NaN or inf in {bad} of "
                                 f"{value.size} entries: refusing to load it")
            values[name] = value
        for name, value in values.items():
            own[name][...] = value

    @property
    def dtype(self) -> np.dtype:
        for _, p, _ in self.named_parameters():
            return p.dtype
        return np.dtype(np.float64)

    def __call__(self, *args, **kwargs):
        """Forward without keeping the cache: ``module(x)`` returns only the outputs."""
        out, _cache = self.forward(*args, **kwargs)
        return out

    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError
