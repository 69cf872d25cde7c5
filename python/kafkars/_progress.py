"""Progress for long reads: tqdm when it is installed, else a stderr line."""

from __future__ import annotations

import sys
import time
from typing import Any


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython  # type: ignore[import-not-found]
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _tqdm() -> Any:
    """tqdm's notebook widget bar when a notebook has ipywidgets, its text
    bar otherwise (tqdm.auto would warn about missing ipywidgets and draw a
    broken bar), None without tqdm."""
    try:
        from tqdm import tqdm  # type: ignore[import-untyped]
    except ImportError:
        return None
    if _in_notebook():
        try:
            import ipywidgets  # type: ignore[import-not-found]  # noqa: F401
            from tqdm.notebook import tqdm as ntqdm  # type: ignore[import-untyped]

            return ntqdm
        except ImportError:
            pass
    return tqdm


class Progress:
    """Records done out of ``total`` (None: unknown), with the rate."""

    def __init__(self, total: int | None, desc: str) -> None:
        self.n = 0
        self.t0 = time.monotonic()
        self.total = total or None
        self.desc = desc
        self.last = 0.0
        bar = _tqdm()
        self.bar: Any = None
        if bar is not None:
            self.bar = bar(total=self.total, desc=desc, unit=" rec", unit_scale=True, dynamic_ncols=True)

    def update(self, n: int) -> None:
        self.n += n
        if self.bar is not None:
            self.bar.update(n)
            return
        now = time.monotonic()
        if now - self.last >= 0.5:
            self.last = now
            rate = self.n / max(now - self.t0, 1e-9)
            of = f"/{self.total:,}" if self.total else ""
            print(f"\r{self.desc}: {self.n:,}{of} records, {rate:,.0f} rec/s", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        else:
            print(file=sys.stderr)
