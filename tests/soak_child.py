"""Child process of test_soak: replays a topic with small batches and
buffers and prints one JSON line of measurements per sample, so RSS is
measured in a process that does nothing else (ru_maxrss of a child
forked from a large process reports the parent's peak)."""

from __future__ import annotations

import json
import sys
import time

import kafkars
from kafkars import ConsumerManager, SourceTopic


def rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def main() -> None:
    bootstrap, topic, every = sys.argv[1], sys.argv[2], int(sys.argv[3])
    t0 = time.monotonic()
    with ConsumerManager(
        {"bootstrap.servers": bootstrap},
        [SourceTopic.from_earliest(topic)],
        batch_size=1000,
        max_buffered_messages=20_000,
        max_buffered_bytes=4 << 20,
    ) as m:
        n = 0
        next_sample = 0
        while True:
            b = m.poll(1000)
            n += b.num_rows
            del b
            live = m._last_flags & 1 if hasattr(m, "_last_flags") else False
            if n >= next_sample or m.is_live():
                c = kafkars._debug_counters()
                print(json.dumps({"records": n, "seconds": round(time.monotonic() - t0, 2), "rss_kb": rss_kb(),
                                  "goroutines": c["goroutines"], "arrow_live_bytes": c["arrow_live_bytes"],
                                  "held": m.held_message_count()}), flush=True)
                next_sample += every
            if m.is_live():
                break
            del live
    c = kafkars._debug_counters()
    print(json.dumps({"closed": True, "rss_kb": rss_kb(), **c}), flush=True)


if __name__ == "__main__":
    main()
