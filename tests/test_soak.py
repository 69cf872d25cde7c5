"""Soak: 20 million records replayed with batch_size=1000 and
small buffers. RSS must stay flat and goroutines must not grow.

Set KAFKARS_SOAK_RECORDS to change the size and KAFKARS_SOAK_CSV to keep
the RSS curve (docs/reliability.md shows one).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devtools.kafkatool import KafkaTool

pytestmark = [pytest.mark.broker, pytest.mark.slow]

RECORDS = int(os.environ.get("KAFKARS_SOAK_RECORDS", 20_000_000))


def test_soak_rss_flat(kafka, tool: KafkaTool, topic_name: str) -> None:  # type: ignore[no-untyped-def]
    tool.create_topic(topic_name, 8)
    t0 = time.monotonic()
    tool.gen(topic_name, partitions=8, count=RECORDS, value_size=100)
    produced_s = time.monotonic() - t0
    every = max(RECORDS // 20, 1)
    child = Path(__file__).with_name("soak_child.py")
    r = subprocess.run([sys.executable, str(child), kafka.bootstrap, topic_name, str(every)],
                       capture_output=True, timeout=1800, cwd=Path(__file__).parent.parent)
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    lines = [json.loads(x) for x in r.stdout.decode().splitlines() if x.startswith("{")]
    samples = [s for s in lines if "records" in s]
    final = lines[-1]
    if out := os.environ.get("KAFKARS_SOAK_CSV"):
        with open(out, "w") as f:
            f.write("records,seconds,rss_kb,goroutines,arrow_live_bytes,held\n")
            for s in samples:
                f.write(f"{s['records']},{s['seconds']},{s['rss_kb']},{s['goroutines']},{s['arrow_live_bytes']},{s['held']}\n")
    print(f"\nsoak: produced {RECORDS:,} in {produced_s:.0f}s; replay samples (records, s, RSS MB, goroutines):")
    for s in samples:
        print(f"  {s['records']:>11,} {s['seconds']:>7.1f} {s['rss_kb'] / 1024:>7.1f} {s['goroutines']:>4}")
    assert samples[-1]["records"] == RECORDS, "exactly once: not every record was replayed"
    # Flat: after the first 10% (allocator and caches warm up), RSS moves
    # less than 25 MB while 90% of the records go through.
    warm = [s for s in samples if s["records"] >= RECORDS // 10]
    rss = [s["rss_kb"] for s in warm]
    assert max(rss) - min(rss) < 25 * 1024, f"RSS not flat: {min(rss) / 1024:.0f}..{max(rss) / 1024:.0f} MB"
    gor = [s["goroutines"] for s in warm]
    assert max(gor) - min(gor) <= 2, f"goroutines grew: {gor}"
    assert final["live_managers"] == 0 and final["live_handles"] == 0
    assert final["arrow_live_bytes"] == 0, "batch memory not freed after the last batch was dropped"
