"""Memory and handles (docs/design.md, "Memory across the C ABI" and
"Backpressure"): creating and closing many
managers, and replaying a million records, leave nothing behind.

Each measurement runs in a fresh child interpreter (subprocess, not fork) so
that RSS and the library's debug counters (live handles and managers,
goroutines, Arrow bytes held by batches) belong to that measurement alone.
The child prints one JSON line; the figures are printed and recorded
(``record_property``) for the report.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from devtools.broker import LocalKafka
from devtools.kafkatool import KafkaTool

pytestmark = pytest.mark.broker

Recorder = Callable[[str, object], None]
MiB = 1024 * 1024

# Shared by the children: process figures from /proc (RSS in bytes).
CHILD_PRELUDE = textwrap.dedent(
    """
    import gc, json, os, sys, time
    import kafkars
    from kafkars import ConsumerManager, SourceTopic

    def proc() -> dict:
        st = {}
        with open("/proc/self/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                st[k] = v.split()
        return {"rss": int(st["VmRSS"][0]) * 1024, "hwm": int(st["VmHWM"][0]) * 1024,
                "threads": int(st["Threads"][0]), "fds": len(os.listdir("/proc/self/fd"))}

    def sample(**extra) -> dict:
        gc.collect()
        return {**extra, **proc(), **kafkars._debug_counters()}

    def trimmed_rss() -> int:
        # RSS once glibc has returned its free pages (malloc_trim): what is
        # still in use, without the allocator's cache.
        import ctypes
        gc.collect()
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        return proc()["rss"]
    """
)


def run_child(body: str, *args: str, timeout: float = 300) -> dict[str, Any]:
    code = CHILD_PRELUDE + textwrap.dedent(body)
    r = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"child failed ({r.returncode}):\n{r.stderr[-4000:]}"
    out: dict[str, Any] = json.loads(r.stdout.strip().splitlines()[-1])
    return out


# -- 1000 managers ---------------------------------------------------------------------

CHURN = """
bootstrap, topic, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
cfg = {"bootstrap.servers": bootstrap}
baseline = sample(i=0)
samples = []
during = None
t0 = time.monotonic()
for i in range(1, n + 1):
    with ConsumerManager(cfg, [SourceTopic.from_earliest(topic)]) as m:
        rows = 0
        while not m.is_live():
            rows += m.poll(timeout_ms=1000).num_rows
        assert rows == 10, rows
        if i == 1:
            during = sample(i=1)
    if i == 1 or i % 100 == 0:
        samples.append(sample(i=i, t=time.monotonic() - t0))
print(json.dumps({"baseline": baseline, "during": during, "samples": samples, "seconds": time.monotonic() - t0}))
"""


@pytest.mark.slow
def test_create_and_close_1000_managers(kafka: LocalKafka, tool: KafkaTool, record_property: Recorder) -> None:
    topic = f"api-mem-churn-{uuid.uuid4().hex[:8]}"
    tool.create_topic(topic, partitions=1)
    tool.gen(topic, partitions=1, count=10)
    n = 1000
    res = run_child(CHURN, kafka.bootstrap, topic, str(n))
    base, during, samples = res["baseline"], res["during"], res["samples"]
    first, last = samples[0], samples[-1]
    at200 = next(s for s in samples if s["i"] == 200)
    curve = ", ".join(f"{s['i']}: {s['rss'] / MiB:.1f}" for s in samples)
    summary = (
        f"{n} managers in {res['seconds']:.1f}s ({res['seconds'] / n * 1000:.0f} ms each). "
        f"RSS MiB: import {base['rss'] / MiB:.1f}, after #1 {first['rss'] / MiB:.1f}, after #200 {at200['rss'] / MiB:.1f}, "
        f"after #{n} {last['rss'] / MiB:.1f} (curve {curve}). "
        f"goroutines: import {base['goroutines']}, with one manager open {during['goroutines']}, after #1 {first['goroutines']}, "
        f"after #{n} {last['goroutines']}. threads {first['threads']} -> {last['threads']}, fds {first['fds']} -> {last['fds']}. "
        f"final counters: handles {last['live_handles']}, managers {last['live_managers']}, "
        f"arrow {last['arrow_live_bytes']} B / {last['arrow_live_allocations']} allocations"
    )
    print(summary)
    record_property("churn", summary)

    assert during["live_handles"] == 1 and during["live_managers"] == 1
    assert during["goroutines"] > base["goroutines"]  # the counter does see a manager's goroutines
    assert len(samples) == n // 100 + 1
    for s in samples:  # nothing accumulates, at any point
        assert s["live_handles"] == 0 and s["live_managers"] == 0, s
        assert s["arrow_live_bytes"] == 0 and s["arrow_live_allocations"] == 0, s
        assert s["goroutines"] <= first["goroutines"] + 2, s
        assert s["fds"] <= first["fds"] + 2, s  # librdkafka's sockets and pipes are closed
        # librdkafka's threads are joined (a manager has several; the Go
        # runtime may add a few of its own, once)
        assert s["threads"] <= first["threads"] + 8, s
    # RSS flat once warmed up: 800 managers may not add 8 MiB (10 KiB each).
    assert last["rss"] - at200["rss"] < 8 * MiB, summary


# -- a million records ----------------------------------------------------------------------

REPLAY = """
import numpy as np
import pyarrow as pa

bootstrap, topic, parts, total = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
cfg = {"bootstrap.servers": bootstrap}

def replay() -> dict:
    curve = [sample(rows=0)]
    last_off = np.full(parts, -1, dtype=np.int64)
    last_key = -1
    n, mark = 0, 100_000
    t0 = time.monotonic()
    with ConsumerManager(cfg, [SourceTopic.from_earliest(topic)]) as m:
        while not m.is_live():
            b = m.poll(timeout_ms=1000)
            if b.num_rows == 0:
                continue
            part = b.column("partition").to_numpy().astype(np.int64)
            off = b.column("offset").to_numpy()
            key = b.column("timestamp").cast(pa.int64()).to_numpy() * parts + part
            # order (strictly: timestamps are distinct per partition) and exactly once per partition
            assert key[0] > last_key and bool(np.all(np.diff(key) > 0))
            last_key = int(key[-1])
            for p in range(parts):
                o = off[part == p]
                if len(o):
                    assert o[0] == last_off[p] + 1 and bool(np.all(np.diff(o) == 1)), (p, o[:3], last_off[p])
                    last_off[p] = o[-1]
            n += b.num_rows
            del b, part, off, key  # drop the batch: nothing of it may stay
            if n >= mark:
                curve.append(sample(rows=n))
                mark += 100_000
        seconds = time.monotonic() - t0
        open_end = sample(rows=n)
    closed = sample(rows=n)
    return {"rows": n, "seconds": seconds, "curve": curve, "open_end": open_end, "closed": closed,
            "trimmed": trimmed_rss(), "last_offsets": last_off.tolist()}

print(json.dumps({"replays": [replay() for _ in range(3)]}))
"""


@pytest.mark.slow
def test_million_records_leave_rss_flat(kafka: LocalKafka, tool: KafkaTool, record_property: Recorder) -> None:
    topic = f"api-mem-1m-{uuid.uuid4().hex[:8]}"
    parts, total = 4, 1_000_000
    tool.create_topic(topic, partitions=parts)
    t0 = time.monotonic()
    tool.gen(topic, partitions=parts, count=total, value_size=100)
    produced_s = time.monotonic() - t0
    res = run_child(REPLAY, kafka.bootstrap, topic, str(parts), str(total))
    replays = res["replays"]

    def curve(r: dict[str, Any]) -> str:
        return ", ".join(f"{s['rows'] // 1000}k: {s['rss'] / MiB:.0f}" for s in r["curve"])

    summary = f"produced {total:,} x 100 B in {produced_s:.1f}s. " + "; ".join(
        f"replay {i + 1}: {r['seconds']:.2f}s, RSS MiB by rows [{curve(r)}], "
        f"closed {r['closed']['rss'] / MiB:.0f}, trimmed {r['trimmed'] / MiB:.0f}"
        for i, r in enumerate(replays)
    ) + (
        f"; peak (VmHWM) {replays[-1]['closed']['hwm'] / MiB:.0f} MiB; "
        f"arrow bytes when live (batches dropped): {[r['open_end']['arrow_live_bytes'] for r in replays]}; "
        f"goroutines open/closed {replays[0]['open_end']['goroutines']}/{replays[-1]['closed']['goroutines']}"
    )
    print(summary)
    record_property("million", summary)

    per = total // parts
    for r in replays:
        assert r["rows"] == total
        assert r["last_offsets"] == [per - 1] * parts
        assert len(r["curve"]) == 11  # a sample every 100k rows
        # Every batch was dropped: no Arrow memory is held, open or closed.
        assert r["open_end"]["arrow_live_bytes"] == 0 and r["open_end"]["arrow_live_allocations"] == 0
        assert r["closed"]["arrow_live_bytes"] == 0 and r["closed"]["live_managers"] == 0
        assert r["closed"]["live_handles"] == 0
        # Flat during the replay: RSS does not grow with the rows. The peak
        # of the second half (600k-1M rows) is no higher than the peak of
        # the first (100k-500k) plus noise; keeping the rows (~150 B each)
        # would add ~60 MiB per half.
        rss = [s["rss"] for s in r["curve"]]
        assert max(rss[6:]) - max(rss[1:6]) < 24 * MiB, summary
    # Another replay of the same million records, once warmed up, costs
    # nothing more (measured after malloc_trim: differences between
    # consecutive replays here are within +-10 MiB; a per-record leak of
    # 34 B or more would exceed the bound).
    assert replays[2]["trimmed"] - replays[1]["trimmed"] < 32 * MiB, summary
    assert replays[2]["closed"]["goroutines"] <= replays[0]["closed"]["goroutines"] + 2
