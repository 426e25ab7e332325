"""Flat buffers: an optimizer's update on one (N,) parameter buffer instead of per parameter.

When the parameters θ_1 … θ_K are, in order, the consecutive views of one 1-D buffer P
of N elements and the gradients those of another, G (what
:meth:`Module.flatten_parameters <scratchrnn.module.Module.flatten_parameters>` makes),
an optimizer whose update is elementwise (SGD, Adam, AdamW) runs it once on the whole
buffers: ``_update(P, G, flat state)``, whose state buffers are (N,) arrays, one per
kind (``exp_avg``, ``momentum_buffer``, …). Each parameter's ``state`` entries are
views into them: with θ_k of n_k elements and shape s_k starting at offset o_k, its
``exp_avg`` is ``exp_avg[o_k : o_k + n_k].reshape(s_k)``.

The updates are elementwise, so every element goes through the same operations in
the same order as on the per-parameter path: the results are the same bit for bit,
and ``state``, ``state_dict()`` and ``load_state_dict()`` keep their formats (loading
copies into the views).

Where (P, G) come from:

* an optimizer built from a :class:`~scratchrnn.module.Module` asks the module
  (:meth:`Module.flat_parameters <scratchrnn.module.Module.flat_parameters>`, which
  checks that every ``params``/``grads`` entry is still the view it made): the module
  knows, so its answer is not re-derived;
* one built from ``(name, param, grad)`` triples has no owner to ask (the triples can
  come from anywhere: a module's list, a subset of it, arrays of the caller's own), so
  :func:`flat_buffers` reads the arrays' memory: the same base, consecutive addresses,
  covering it whole.

The two can differ: a module entry rebound to another view of the same place of P is,
for the Module, no longer its view (it updates per parameter), while the same arrays as
triples are still consecutive views of P (they update flat). Either way the results
are the same bit for bit.

:class:`FlatState` holds the rest: P, G, each parameter's slice, the flat state
buffers and their per-parameter views. Once ``state`` stops being exactly those views
(an entry replaced, or loaded buffers that only some parameters have: no flat buffer
can hold that), the optimizer updates per parameter from then on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["FlatState", "flat_base", "flat_buffers"]

#: the per-parameter state of an optimizer: {param name: {buffer kind: array}}
State = dict[str, dict[str, np.ndarray]]


def flat_base(arrays: Sequence[np.ndarray]) -> np.ndarray | None:
    """The (N,) buffer that ``arrays`` are the consecutive, C-contiguous views of, in
    order and covering it whole (N = the sum of their sizes); None when they are not."""
    buf = arrays[0].base
    if (not isinstance(buf, np.ndarray) or buf.ndim != 1 or not buf.flags.c_contiguous
            or not buf.flags.writeable or buf.dtype != arrays[0].dtype):
        return None
    start, o = buf.ctypes.data, 0
    for a in arrays:
        if a.base is not buf or not a.flags.c_contiguous or (
                a.size and a.ctypes.data != start + o * buf.itemsize):  # empty: any address
            return None
        o += a.size
    return buf if o == buf.size else None


def flat_buffers(params: Sequence[np.ndarray],
                 grads: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray] | None:
    """``(P, G)``, the two (N,) buffers that ``params`` and ``grads`` are the consecutive
    views of (see :func:`flat_base`), found from the arrays' memory alone; None when
    either list is not, or when P and G overlap."""
    P, G = flat_base(params), flat_base(grads)
    if P is None or G is None or np.may_share_memory(P, G):
        return None
    return P, G


class FlatState:
    """An optimizer's flat buffers: P and G (N,), and the flat state buffers (N,) per kind.

    Attributes:

    * ``P``, ``G``: the (N,) parameter and gradient buffers; the optimizer's k-th
      parameter and gradient are their views ``[o_k : o_k + n_k].reshape(s_k)``;
    * ``names``: the parameter names, in the buffers' order;
    * ``slices``: ``(o_k, n_k, s_k)`` per parameter;
    * ``buffers``: the flat state buffers ``{kind: (N,) array}``, handed to the
      optimizer's ``_update`` which creates them on its first step; None once the
      optimizer updates per parameter (:meth:`release`), for good;
    * ``views``: ``{kind: (its flat buffer, [each parameter's view of it])}``.
    """

    def __init__(self, names: Sequence[str], params: Sequence[np.ndarray], P: np.ndarray,
                 G: np.ndarray) -> None:
        """``params``: the parameters θ_k, in order, the views of P (their sizes sum to N)."""
        self.P, self.G = P, G
        self.names = list(names)
        self.slices: list[tuple[int, int, tuple[int, ...]]] = []
        o = 0
        for p in params:
            self.slices.append((o, p.size, p.shape))
            o += p.size
        self.buffers: dict[str, np.ndarray] | None = {}
        self.views: dict[str, tuple[np.ndarray, list[np.ndarray]]] = {}

    @property
    def active(self) -> bool:
        """Whether the optimizer still updates the flat buffers (not per parameter)."""
        return self.buffers is not None

    def release(self) -> None:
        """Update per parameter from now on (P and G stay, for ``zero_grad``)."""
        self.buffers = None
        self.views = {}

    def update(self, update: Callable[[np.ndarray, np.ndarray, dict[str, np.ndarray]], None],
               state: State) -> bool:
        """One step on the flat buffers: ``update(P, G, buffers)``, then the views of any
        buffer it made put into ``state``. False, and :meth:`release`, changing nothing
        else, when ``state`` no longer holds exactly the views (a replaced entry): the
        caller then updates per parameter."""
        if not self.intact(state):
            self.release()
            return False
        assert self.buffers is not None
        update(self.P, self.G, self.buffers)
        self.sync(state)
        return True

    def intact(self, state: State) -> bool:
        """Whether ``state`` still holds exactly the flat views (nobody replaced one)."""
        kinds = self.views
        for i, name in enumerate(self.names):
            st = state[name]
            if len(st) != len(kinds):
                return False
            for kind, (_, views) in kinds.items():
                if st.get(kind) is not views[i]:
                    return False
        return True

    def sync(self, state: State) -> None:
        """Put into ``state`` the per-parameter views of the flat state buffers that the
        update has just made (on the first step)."""
        for kind in self._make_views():
            for name, view in zip(self.names, self.views[kind][1], strict=True):
                state[name][kind] = view

    def _make_views(self) -> list[str]:
        """Make each parameter's views of the flat state buffers that have none yet;
        returns their kinds."""
        assert self.buffers is not None
        new = []
        for kind, buf in self.buffers.items():
            made = self.views.get(kind)
            if made is None or made[0] is not buf:
                views = [buf[o:o + n].reshape(shape) for o, n, shape in self.slices]
                self.views[kind] = (buf, views)
                new.append(kind)
        return new

    def load(self, state: State) -> bool:
        """Copy checked buffers (``state[name][kind]``, each of its parameter's shape) into
        the flat ones (made where missing) and replace them in ``state`` by the views;
        False, changing nothing, when some kind is kept for only some parameters (no
        flat buffer can hold that: the caller then goes on per parameter)."""
        assert self.buffers is not None
        kinds = list(dict.fromkeys(kind for name in self.names for kind in state[name]))
        if any(len(state[name]) != len(kinds) for name in self.names):
            return False
        for kind in list(self.buffers):
            if kind not in kinds:
                del self.buffers[kind]
                del self.views[kind]
        for kind in kinds:
            if kind not in self.buffers:
                self.buffers[kind] = np.empty_like(self.P)
        self._make_views()
        for i, name in enumerate(self.names):
            for kind, value in state[name].items():
                view = self.views[kind][1][i]
                view[...] = value
                state[name][kind] = view
        return True
