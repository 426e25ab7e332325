"""``python -m scratchrnn``; Ctrl-C while the modules are still being imported is one line."""

import os
import sys

try:
    from .cli import main
except KeyboardInterrupt:
    sys.stderr.write("interrupted during start-up: nothing was done\n")
    sys.stderr.flush()
    os._exit(130)  # nothing to clean up yet; a plain exit could re-raise the SIGINT

sys.exit(main())
