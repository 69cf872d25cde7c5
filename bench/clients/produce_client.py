"""Producing contenders of bench/produce.py, one per child process.

    produce_client.py kafkars|confluent -b HOST:PORT -t TOPIC --data FILE.arrow [-X k=v ...]

Loads the Arrow IPC file (columns ``key``, ``value``; memory-mapped, before
the clock starts), writes every row to the topic with the given producer
properties and stops the clock at the last acknowledgement. Prints one
JSON object: records acknowledged, seconds, CPU seconds of the process
between the two clock readings, and its peak RSS (VmHWM).

* kafkars: ``kafkars.produce(config, topic, table, key="key")``.
* confluent: confluent-kafka-python's documented loop: the columns as
  Python lists, ``Producer.produce()`` per row (``poll(0)`` every 1 000,
  ``poll(0.05)`` and again on BufferError), then ``flush()``; delivery
  reports counted by a callback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# pyarrow imports numpy, and numpy starts OpenBLAS' thread pool, whose idle
# threads spin: up to 7% of a client's CPU samples. One thread, in every
# Python client alike.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
from _common import cpu_seconds, parse_props, vmhwm_kb  # noqa: E402

import pyarrow as pa  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("contender", choices=("kafkars", "confluent"))
    ap.add_argument("-b", required=True)
    ap.add_argument("-t", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("-X", action="append")
    a = ap.parse_args()
    config = {"bootstrap.servers": a.b, **parse_props(a.X)}
    table = pa.ipc.open_file(pa.memory_map(a.data)).read_all()
    n = table.num_rows
    if a.contender == "kafkars":
        import kafkars

        cpu0, t0 = cpu_seconds(), time.monotonic()
        res = kafkars.produce(config, a.t, table, key="key", value="value", progress=False)
        t1, cpu1 = time.monotonic(), cpu_seconds()
        acked = res.records
    else:
        from confluent_kafka import Producer

        p = Producer(config)
        acked = failed = 0

        def on_delivery(err: object, msg: object) -> None:
            nonlocal acked, failed
            if err is None:
                acked += 1
            else:
                failed += 1

        topic = a.t
        cpu0, t0 = cpu_seconds(), time.monotonic()
        keys = table.column("key").to_pylist()
        values = table.column("value").to_pylist()
        for i in range(n):
            while True:
                try:
                    p.produce(topic, value=values[i], key=keys[i], on_delivery=on_delivery)
                    break
                except BufferError:
                    p.poll(0.05)
            if i % 1000 == 0:
                p.poll(0)
        p.flush()
        t1, cpu1 = time.monotonic(), cpu_seconds()
        if failed:
            raise SystemExit(f"{failed} deliveries failed")
    print(json.dumps({"contender": a.contender, "records": acked, "rows": n, "seconds": t1 - t0,
                      "cpu_seconds": cpu1 - cpu0, "peak_rss_kb": vmhwm_kb()}))


if __name__ == "__main__":
    main()
