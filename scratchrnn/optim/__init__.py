"""Optimizers, gradient clipping and a plateau scheduler, matching ``torch.optim``.

    optimizers.py   Optimizer (the base), SGD, Adam, AdamW: in-place updates, state dicts
    flat.py         FlatState: their update on a flattened Module's whole buffers
    clipping.py     clip_grad_norm (torch.nn.utils.clip_grad_norm_)
    schedulers.py   ReduceLROnPlateau

Typical use::

    opt = Adam(model, lr=1e-3)
    sched = ReduceLROnPlateau(opt, patience=1)
    for batch in batches:
        model.zero_grad()
        loss = ...; model.backward(...)
        clip_grad_norm(model, 1.0)
        opt.step()
    sched.step(val_loss)
"""

from .clipping import clip_grad_norm
from .optimizers import SGD, Adam, AdamW, NamedParams, Optimizer
from .schedulers import ReduceLROnPlateau

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "NamedParams",
    "clip_grad_norm",
    "ReduceLROnPlateau",
]
