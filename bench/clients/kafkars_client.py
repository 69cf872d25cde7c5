"""Benchmark client for a ``kafkars.ConsumerManager``.

Runs under two interpreters: the project's virtual environment (kafkars,
this project: Go core over librdkafka) and bench/.venv-rust-kafkars (the
Rust ``kafkars`` 0.0.8 from PyPI, which has the same module name and a
similar API). It uses only what both share: ``ConsumerManager(config,
topics, batch_size=...)``, ``SourceTopic.from_earliest/from_latest``,
``poll(timeout_ms)`` and ``is_live()``; ``--linger-ms`` is ours only.

    python kafkars_client.py throughput -b HOST:PORT -t TOPIC [-X k=v ...] [--max-records N]
    python kafkars_client.py latency    -b HOST:PORT -t TOPIC [-X k=v ...] [--skip N] [--linger-ms L]

throughput: replay from the beginning, ``poll()`` until ``is_live()``,
touching every batch (sum of key and value lengths with pyarrow.compute).
latency: start at the end, print READY, then measure produce -> row
latency of the records cmd/bench-producer sends until stdin closes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# pyarrow imports numpy, and numpy starts OpenBLAS' thread pool, whose idle
# threads spin: up to 7% of a client's CPU samples. One thread, in every
# Python client alike.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402

import kafkars  # noqa: E402
from _common import Span, emit, latency_summary, parse_props, ready, send_times, stdin_watcher  # noqa: E402

#: True for this project's kafkars (it exposes librdkafka_version), False
#: for the Rust package of the same name.
OURS = hasattr(kafkars, "librdkafka_version")


def describe() -> dict[str, str]:
    if OURS:
        return {"impl": "kafkars (Go core)", "version": kafkars.__version__,
                "librdkafka": kafkars.librdkafka_version()}
    return {"impl": "kafkars (Rust, PyPI)", "version": getattr(kafkars, "__version__", "?")}


def manager(args: argparse.Namespace, topic: kafkars.SourceTopic) -> kafkars.ConsumerManager:
    config = {"bootstrap.servers": args.bootstrap, **parse_props(args.X)}
    kwargs = {"batch_size": args.batch_size}
    if args.linger_ms is not None:
        if not OURS:
            raise SystemExit("--linger-ms: the Rust kafkars has no linger_ms")
        kwargs["linger_ms"] = args.linger_ms
    if args.binary_view:
        if not OURS:
            raise SystemExit("--binary-view: the Rust kafkars has no binary_view")
        kwargs["binary_view"] = True
    return kafkars.ConsumerManager(config, [topic], **kwargs)


def touch(batch) -> int:
    """Key + value bytes of a batch, computed by pyarrow (reads every row).
    pyarrow.compute has no binary_length for binary_view columns: their
    lengths are read from the views (the first 4 bytes of each 16; a null's
    view is zeros)."""
    total = 0
    for name in ("key", "value"):
        col = batch.column(name)
        if col.type == pa.binary_view():
            import numpy as np

            views = np.frombuffer(col.buffers()[1], dtype=np.int32)[4 * col.offset:4 * (col.offset + len(col)):4]
            total += int(views.sum(dtype=np.int64))
            continue
        s = pc.sum(pc.binary_length(col)).as_py()
        total += s or 0
    return total


def engine_metrics(m: kafkars.ConsumerManager) -> dict[str, object]:
    """Ours only: the engine's own memory counters (peak held bytes, the
    budget), kept next to the process's peak RSS to tell them apart."""
    if not OURS or not hasattr(m, "metrics"):
        return {}
    try:
        metrics = m.metrics()
    except Exception as exc:  # a diagnostic must not fail the run
        return {"metrics_error": repr(exc)}
    keys = ("peak_held_bytes", "peak_held_messages", "max_buffered_bytes", "max_buffered_messages",
            "late_messages", "duplicate_messages")
    return {"engine": {k: metrics[k] for k in keys if k in metrics}}


def throughput(args: argparse.Namespace) -> None:
    span = Span()
    m = manager(args, kafkars.SourceTopic.from_earliest(args.topic))
    records = nbytes = batches = 0
    deadline = time.monotonic() + args.timeout
    while True:
        batch = m.poll(timeout_ms=1000)
        if batch is not None and batch.num_rows:
            span.mark()
            records += batch.num_rows
            batches += 1
            nbytes += touch(batch)
            if args.max_records and records >= args.max_records:
                break
        if m.is_live():
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up after {args.timeout}s with {records} records")
    result = {"records": records, "bytes": nbytes, "batches": batches, **span.result(), **describe()}
    result.update(engine_metrics(m))
    if hasattr(m, "close"):
        m.close()
    emit(result)


def latency(args: argparse.Namespace) -> None:
    m = manager(args, kafkars.SourceTopic.from_latest(args.topic))
    deadline = time.monotonic() + 60
    while not m.is_live():
        m.poll(timeout_ms=100)
        if time.monotonic() > deadline:
            raise SystemExit("not live 60 s after start at the latest offsets")
    stop = stdin_watcher()
    ready()
    lat: list[float] = []
    records = 0
    while not stop.is_set():
        batch = m.poll(timeout_ms=100)
        if batch is not None and batch.num_rows:
            now = time.time_ns()  # the rows are in the caller's hands now
            records += batch.num_rows
            lat.extend((now - t) / 1e6 for t in send_times(batch.column("value").to_pylist(), args.skip))
    result = {"records": records, **latency_summary(lat), **describe()}
    if args.linger_ms is not None:
        result["linger_ms"] = args.linger_ms
    if hasattr(m, "close"):
        m.close()
    emit(result)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["throughput", "latency"])
    ap.add_argument("-b", dest="bootstrap", required=True)
    ap.add_argument("-t", dest="topic", required=True)
    ap.add_argument("-X", action="append", help="librdkafka property key=value (repeatable)")
    ap.add_argument("--batch-size", type=int, default=10_000)
    ap.add_argument("--linger-ms", type=int, default=None, help="ours only; default: the library's")
    ap.add_argument("--binary-view", action="store_true", help="ours only: binary_view=True")
    ap.add_argument("--max-records", type=int, default=0, help="throughput: stop after this many rows")
    ap.add_argument("--skip", type=int, default=0, help="latency: ignore sequence numbers below this")
    ap.add_argument("--timeout", type=float, default=3600.0, help="throughput: give up after this many s")
    args = ap.parse_args()
    throughput(args) if args.mode == "throughput" else latency(args)


if __name__ == "__main__":
    main()
