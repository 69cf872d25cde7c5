"""Helpers shared by the benchmark's Python clients.

The clients run as child processes of the harness (bench/harness.py), some
of them in a virtual environment that has nothing but pyarrow and the
contender installed, so this module uses the standard library only.

Protocol with the harness:

* throughput clients read a topic from its beginning to its end and print
  one JSON object (``emit``) with ``records``, ``bytes`` (keys + values),
  ``open_ns`` (monotonic clock just before the consumer is created),
  ``first_ns``/``last_ns`` (at the first and last record returned to the
  caller) and ``cpu_window`` (CPU seconds between first and last);
* latency clients print ``READY`` once positioned at the end of the topic,
  consume until their stdin is closed, then print latency percentiles
  (``latency_summary``), computed exactly as the Go clients do
  (bench/gostat: nearest rank).
"""

from __future__ import annotations

import json
import math
import os
import resource
import sys
import threading
import time


def parse_props(pairs: list[str] | None) -> dict[str, str]:
    """``["k=v", ...]`` (the -X flags) as a dict, in order."""
    out: dict[str, str] = {}
    for item in pairs or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"expected key=value, got {item!r}")
        out[key] = value
    return out


def cpu_seconds() -> float:
    """User + system CPU of this process, all threads, so far."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def vmhwm_kb() -> int:
    """Peak RSS in kB from /proc/self/status (VmHWM); -1 if unavailable.

    Unlike ru_maxrss it restarts at exec, so it is this process's own peak.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


class Span:
    """When the consumer was opened, its first and last record times, and
    the CPU between first and last. Create it just before opening the
    consumer: ``open_ns`` tells how much of the run happened before the
    first record (connecting, offsets, and any prefetch in the background)."""

    def __init__(self) -> None:
        self.open_ns = time.monotonic_ns()
        self.first_ns = 0
        self.last_ns = 0
        self.cpu_first = 0.0

    def mark(self) -> None:
        now = time.monotonic_ns()
        if not self.first_ns:
            self.first_ns = now
            self.cpu_first = cpu_seconds()
        self.last_ns = now

    def result(self) -> dict[str, float]:
        return {
            "open_ns": self.open_ns,
            "first_ns": self.first_ns,
            "last_ns": self.last_ns,
            "cpu_window": cpu_seconds() - self.cpu_first if self.first_ns else 0.0,
        }


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile, as bench/gostat.Percentile."""
    n = len(sorted_values)
    if n == 0:
        return math.nan
    i = min(max(math.ceil(q * n) - 1, 0), n - 1)
    return sorted_values[i]


def latency_summary(ms: list[float]) -> dict[str, float]:
    """Percentiles of latencies in milliseconds, as bench/gostat.LatencySummary."""
    ms = sorted(ms)
    out: dict[str, float] = {"samples": len(ms)}
    if ms:
        out.update(
            p50_ms=percentile(ms, 0.50),
            p90_ms=percentile(ms, 0.90),
            p99_ms=percentile(ms, 0.99),
            p999_ms=percentile(ms, 0.999),
            max_ms=ms[-1],
            mean_ms=sum(ms) / len(ms),
        )
    return out


def send_times(values: list[bytes | None], skip: int) -> list[int]:
    """Send times (wall ns) written by cmd/bench-producer into each value,
    for records whose sequence number (bytes 8..15) is >= skip."""
    out = []
    for v in values:
        if v is not None and len(v) >= 16 and int.from_bytes(v[8:16], "big") >= skip:
            out.append(int.from_bytes(v[:8], "big"))
    return out


def stdin_watcher() -> threading.Event:
    """An event set when stdin reaches EOF: the harness's stop signal."""
    closed = threading.Event()

    def watch() -> None:
        try:
            while sys.stdin.buffer.read(4096):
                pass
        finally:
            closed.set()

    threading.Thread(target=watch, daemon=True, name="stdin-watch").start()
    return closed


def ready() -> None:
    print("READY", flush=True)


def emit(result: dict[str, object]) -> None:
    """The one JSON line the harness reads; adds this process's VmHWM."""
    result.setdefault("vmhwm_kb", vmhwm_kb())
    result.setdefault("pid", os.getpid())
    print(json.dumps(result), flush=True)
