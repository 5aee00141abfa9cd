"""python3 -m awssim (from tests/sandbox) or python3 tests/sandbox/awssim."""

import os
import sys

if not __package__:
    # Run as a directory: its modules must not shadow the standard library's
    # (secrets.py), so the package is imported from its parent instead.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or '.') != here]
    sys.path.insert(0, os.path.dirname(here))

from awssim.server import main  # noqa: E402

sys.exit(main())
