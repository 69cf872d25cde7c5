"""The "kafkars" logger: lines the native library keeps for the caller
(rebalances: partitions assigned, revoked or lost; failed commits).

They reach Python's ``logging`` as records of the ``kafkars`` logger, INFO
for assignment changes and WARNING for losses and failed commits; each
record carries ``kafkars_time_ms``, the epoch milliseconds when the event
happened in the library (records are emitted at the next poll, commit or
metrics call). An application that configured no logging at all (a
notebook, a script) still sees the INFO lines on stderr, prefixed with
``kafkars:``; configure logging, or set the level of the ``kafkars`` logger,
to decide otherwise.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, Iterable

logger = logging.getLogger("kafkars")


def _configured() -> bool:
    """Whether the application configured logging for these records."""
    log: logging.Logger | None = logger
    while log is not None:
        if log.handlers or log.level != logging.NOTSET:
            return True
        if not log.propagate:
            break
        log = log.parent
    return False


def emit(events: Iterable[dict[str, Any]]) -> None:
    """Log the native library's lines (see the module doc)."""
    for ev in events:
        level = logging.WARNING if ev.get("level") == "warning" else logging.INFO
        msg = str(ev.get("message", ""))
        if logger.isEnabledFor(level):
            logger.log(level, "%s", msg, extra={"kafkars_time_ms": int(ev.get("time_ms", 0))})
        elif not _configured():
            print(f"kafkars: {msg}", file=sys.stderr)
