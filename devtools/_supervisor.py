"""Moved to :mod:`kafkars.testing._supervisor` (it ships with kafkars); this
shim keeps ``python -m devtools._supervisor <log_path> -- <command...>``
working."""

from __future__ import annotations

import sys

from kafkars.testing._supervisor import command, main, supervise  # noqa: F401 - re-exports

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
