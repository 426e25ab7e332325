"""The model container: named parameters and gradients, train/eval mode, state_dict.

A :class:`Module` holds its own parameters in ``self.params`` and the matching
gradients in ``self.grads`` (same keys, same shapes), keyed by torch's
``state_dict`` names. Child modules are registered with :meth:`add_module`; the
names of their parameters are prefixed with the child's name and a dot, exactly
as ``torch.nn.Module.state_dict`` does (``rnn.weight_ih_l0``, ``fc1.bias``), so a
whole model moves between NumPy and torch in one call.

Backward passes *accumulate* into ``grads`` (as torch's ``.grad`` does); call
:meth:`zero_grad` between steps.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np


class Module:
    """Base class of every scratchrnn layer and model."""

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.children: dict[str, Module] = {}
        self.training: bool = True

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
        for _, _, g in self.named_parameters():
            g.fill(0)

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
        CPU tensor, after ``.detach()``). Values are cast to each parameter's dtype.
        """
        own = {name: p for name, p, _ in self.named_parameters()}
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        if strict and (missing or unexpected):
            raise ValueError(
                f"state_dict mismatch: missing keys {missing}, unexpected keys {unexpected}"
            )
        for name, p in own.items():
            if name not in state:
                continue
            value = np.asarray(state[name])
            if value.shape != p.shape:
                raise ValueError(
                    f"state_dict[{name!r}] has shape {value.shape}, expected {p.shape}"
                )
            p[...] = value.astype(p.dtype, copy=False)

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
