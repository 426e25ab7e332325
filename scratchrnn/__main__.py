"""``python -m scratchrnn`` and the installed ``scratchrnn`` command.

Ctrl-C while the modules are still being imported is one line and exit 130. A
KeyboardInterrupt raised inside an extension module's import (NumPy's C core, for
one) can surface as an unrelated ImportError, so during start-up SIGINT is only
recorded, and acted on once the imports are done. From then on it is a
KeyboardInterrupt (:mod:`scratchrnn.interrupt`), even when a parent started us with
SIGINT ignored (a background job, a CI runner): the recording handler is replaced by
that one directly, never by the inherited ``SIG_IGN``, so no Ctrl-C falls between them.
After an interrupted run has said so and cleaned up, the process ends at once with 130
(seen under load: one in about a hundred interrupted runs otherwise ended killed by
SIGINT, status −2, after its message, also with SIGINT ignored for the exit). First a
garbage collection frees what the interrupt left in reference cycles: a parallel
study's worker pool, held by the traceback, whose semaphores the resource tracker
otherwise reported as leaked.
"""

import gc
import os
import signal
import sys


def run() -> int:
    interrupted = []
    signal.signal(signal.SIGINT, lambda *_: interrupted.append(True))
    from . import interrupt
    from .cli import main

    def exit_130(message: str = "") -> None:
        """Exit now, as 130: no second Ctrl-C, and what the interrupt left in reference
        cycles freed first (a worker pool's semaphores, else reported as leaked)."""
        interrupt.ignore_further()
        gc.collect()
        sys.stdout.flush()
        if message:
            sys.stderr.write(message + "\n")
        sys.stderr.flush()
        os._exit(130)

    try:
        # signal.signal runs any SIGINT still pending (the recorder's) before it switches
        interrupt.install()
        if interrupted:
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        exit_130("interrupted during start-up: nothing was done")
    try:
        code = main()
    except KeyboardInterrupt:  # in the instants around main's own handling of it
        exit_130("" if interrupt.reported() else "interrupted")
    if code == 130:  # interrupted, reported, cleaned up
        exit_130()
    return code


if __name__ == "__main__":
    sys.exit(run())
