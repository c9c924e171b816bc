"""``python -m grubook``: the command line (:mod:`grubook.execution.cli`)."""

import sys

from .execution.cli import main

if __name__ == "__main__":
    sys.exit(main())
