"""Benchmark client for confluent-kafka-python: what users do today.

    python confluent_client.py throughput -b HOST:PORT -t TOPIC [-X k=v ...]
    python confluent_client.py latency    -b HOST:PORT -t TOPIC [-X k=v ...] [--skip N]

throughput: assign every partition at its low watermark, ``consume(
num_messages=10000)`` until every partition reaches the high watermark seen
at start, and build a ``pyarrow.RecordBatch`` of the same schema kafkars
returns (key, value, topic, partition, offset, timestamp) from each batch of
messages; touch it like the kafkars client does. Rows are not reordered
(kafkars orders them by timestamp across partitions; this does not).
latency: ``poll()`` one message at a time (the low-latency idiom) from the
end of the topic, until stdin closes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# pyarrow imports numpy, and numpy starts OpenBLAS' thread pool, whose idle
# threads spin: up to 7% of a client's CPU samples. One thread, in every
# Python client alike.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import confluent_kafka  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
from confluent_kafka import Consumer, KafkaError, TopicPartition  # noqa: E402

from _common import Span, emit, latency_summary, parse_props, ready, send_times, stdin_watcher  # noqa: E402

SCHEMA = pa.schema([
    pa.field("key", pa.binary()),
    pa.field("value", pa.binary()),
    pa.field("topic", pa.utf8(), nullable=False),
    pa.field("partition", pa.int32(), nullable=False),
    pa.field("offset", pa.int64(), nullable=False),
    pa.field("timestamp", pa.timestamp("ms", tz="UTC"), nullable=False),
])


def describe() -> dict[str, str]:
    return {"impl": "confluent-kafka-python", "version": confluent_kafka.__version__,
            "librdkafka": confluent_kafka.libversion()[0]}


def consumer(args: argparse.Namespace) -> Consumer:
    # group.id is required by the Python client even for assign(); a
    # throwaway group that never commits changes nothing else.
    config = {"bootstrap.servers": args.bootstrap, "group.id": f"bench-{uuid.uuid4().hex[:12]}",
              "enable.auto.commit": False, **parse_props(args.X)}
    return Consumer(config)


def partitions(c: Consumer, topic: str) -> list[tuple[int, int, int]]:
    """(partition, low, high) watermarks of every partition."""
    md = c.list_topics(topic, timeout=10)
    tmd = md.topics.get(topic)
    if tmd is None or tmd.error is not None:
        raise SystemExit(f"topic {topic} not found")
    out = []
    for p in sorted(tmd.partitions):
        lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
        out.append((p, lo, hi))
    return out


def throughput(args: argparse.Namespace) -> None:
    span = Span()
    c = consumer(args)
    parts = partitions(c, args.topic)
    end = {p: hi - 1 for p, lo, hi in parts if hi > lo}
    c.assign([TopicPartition(args.topic, p, lo) for p, lo, _ in parts])
    records = nbytes = batches = 0
    deadline = time.monotonic() + args.timeout
    while end:
        msgs = c.consume(num_messages=10_000, timeout=1.0)
        if not msgs:
            if time.monotonic() > deadline:
                raise SystemExit(f"gave up after {args.timeout}s with {records} records")
            continue
        span.mark()
        keys, values, parts_, offsets, stamps = [], [], [], [], []
        for m in msgs:
            err = m.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    continue
                raise SystemExit(f"consume error: {err}")
            p, o = m.partition(), m.offset()
            keys.append(m.key())
            values.append(m.value())
            parts_.append(p)
            offsets.append(o)
            stamps.append(m.timestamp()[1])
            if p in end and o >= end[p]:
                del end[p]
        n = len(keys)
        batch = pa.RecordBatch.from_arrays([
            pa.array(keys, pa.binary()),
            pa.array(values, pa.binary()),
            pa.array([args.topic] * n, pa.utf8()),
            pa.array(parts_, pa.int32()),
            pa.array(offsets, pa.int64()),
            pa.array(stamps, pa.timestamp("ms", tz="UTC")),
        ], schema=SCHEMA)
        records += batch.num_rows
        batches += 1
        for name in ("key", "value"):
            nbytes += pc.sum(pc.binary_length(batch.column(name))).as_py() or 0
    result = {"records": records, "bytes": nbytes, "batches": batches, **span.result(), **describe()}
    c.close()
    emit(result)


def latency(args: argparse.Namespace) -> None:
    c = consumer(args)
    c.assign([TopicPartition(args.topic, p, hi) for p, _, hi in partitions(c, args.topic)])
    stop = stdin_watcher()
    ready()
    lat: list[float] = []
    records = 0
    while not stop.is_set():
        m = c.poll(0.1)
        if m is None or m.error() is not None:
            continue
        now = time.time_ns()
        records += 1
        lat.extend((now - t) / 1e6 for t in send_times([m.value()], args.skip))
    result = {"records": records, **latency_summary(lat), **describe()}
    c.close()
    emit(result)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["throughput", "latency"])
    ap.add_argument("-b", dest="bootstrap", required=True)
    ap.add_argument("-t", dest="topic", required=True)
    ap.add_argument("-X", action="append", help="librdkafka property key=value (repeatable)")
    ap.add_argument("--skip", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=3600.0)
    args = ap.parse_args()
    throughput(args) if args.mode == "throughput" else latency(args)


if __name__ == "__main__":
    main()
