"""Ctrl-C that cannot be swallowed.

Python raises ``KeyboardInterrupt`` wherever its signal handler happens to run, and
that can be inside a weakref callback or a ``__del__`` during garbage collection,
where an exception is "ignored" (printed as such) and lost. Seen here: about one
Ctrl-C in a hundred, sent at the start of training under load, was swallowed so (in
importlib's module-lock callback) and the training ran all its epochs. So the command
line's handler first *remembers* the Ctrl-C, then raises; the long loops (each training
step, each study update) call :func:`check`, which raises again for one that was lost,
and the "Exception ignored" report of a remembered one is kept quiet.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator

_pending = threading.Event()
_reported = threading.Event()  # set by ignore_further: the interrupt's line is printed


def on_sigint(signum: int, frame: object) -> None:
    """The command line's SIGINT handler: note the Ctrl-C, then raise as Python's would."""
    _pending.set()
    raise KeyboardInterrupt


def _quiet(previous):
    def hook(unraisable) -> None:
        if (_pending.is_set() and unraisable.exc_type is not None
                and issubclass(unraisable.exc_type, KeyboardInterrupt)):
            return  # remembered, acted on at the next check(): not a traceback
        previous(unraisable)
    hook.quiet_for_sigint = True
    return hook


def install() -> None:
    """:func:`on_sigint` as the SIGINT handler (main thread only), any earlier Ctrl-C
    forgotten. Also when a parent started us with SIGINT ignored: Ctrl-C must reach
    training."""
    signal.signal(signal.SIGINT, on_sigint)
    _pending.clear()
    _reported.clear()
    if not getattr(sys.unraisablehook, "quiet_for_sigint", False):
        sys.unraisablehook = _quiet(sys.unraisablehook)


@contextlib.contextmanager
def installed() -> Iterator[None]:
    """:func:`install` for the block; the caller's handler and hook are back after it."""
    handler, hook = signal.getsignal(signal.SIGINT), sys.unraisablehook
    install()
    try:
        yield
    finally:
        sys.unraisablehook = hook
        if handler is not None:
            signal.signal(signal.SIGINT, handler)


def ignore_further() -> None:
    """SIGINT ignored from now on: an interrupt is being reported, and a second Ctrl-C
    must not add a line or a traceback to it. ``signal.signal`` first runs a Ctrl-C still
    pending, whose KeyboardInterrupt leaves the handler as it was: then again."""
    _reported.set()
    while True:
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            return
        except KeyboardInterrupt:
            continue


def reported() -> bool:
    """Whether :func:`ignore_further` was called since :func:`install`."""
    return _reported.is_set()


def pending() -> bool:
    """Whether a Ctrl-C arrived since :func:`install`."""
    return _pending.is_set()


def check() -> None:
    """Raise ``KeyboardInterrupt`` if a Ctrl-C arrived (a loop's safe point)."""
    if _pending.is_set():
        raise KeyboardInterrupt
