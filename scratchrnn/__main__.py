"""``python -m scratchrnn`` and the installed ``scratchrnn`` command.

Ctrl-C while the modules are still being imported is one line and exit 130. A
KeyboardInterrupt raised inside an extension module's import (NumPy's C core, for
one) can surface as an unrelated ImportError, so during start-up SIGINT is only
recorded, and acted on once the imports are done. After an interrupted run has said
so and cleaned up, the process ends at once with 130 (seen under load: one in about a
hundred interrupted runs otherwise ended killed by SIGINT, status −2, after its message).
"""

import os
import signal
import sys


def run() -> int:
    interrupted = []
    previous = signal.signal(signal.SIGINT, lambda *_: interrupted.append(True))
    try:
        from .cli import main
    finally:
        signal.signal(signal.SIGINT, previous)
    if interrupted:
        sys.stderr.write("interrupted during start-up: nothing was done\n")
        sys.stderr.flush()
        os._exit(130)  # nothing to clean up yet
    code = main()
    if code == 130:  # interrupted, reported, cleaned up: exit now, as 130 and nothing else
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    return code


if __name__ == "__main__":
    sys.exit(run())
