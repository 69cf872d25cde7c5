"""A data set that stresses time slicing (docs/guides/scale.md): skewed
partitions, ties within and across topics, late records, transactions
whose markers carry the broker's clock (far above the records' own
timestamps, so offsets-for-times finds a marker first), an aborted
transaction, empty partitions and a gap in time (slices with no record).
Shared by the slice tests and the Dask tests."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

import kafkars
from devtools.kafkatool import ABORT, BEGIN, COMMIT, KafkaTool, Record

COLUMNS = ["key", "value", "topic", "partition", "offset", "timestamp"]


@dataclass(frozen=True)
class Sliced:
    topics: list[str]
    t0: int  # first record timestamp (ms)
    t1: int  # last record timestamp, about
    gap: tuple[int, int]  # a time range without records


def make(tool: KafkaTool, base: str, scale: int = 1) -> Sliced:
    rng = random.Random(7)
    t0 = int(time.time() * 1000) - 3 * 3_600_000
    skew, plain, txn = base + "-skew", base + "-plain", base + "-txn"
    tool.create_topic(skew, 4)  # partition 3 stays empty
    tool.create_topic(plain, 2)
    tool.create_topic(txn, 3)
    recs: list[Record] = []
    gap = (t0 + 600_000, t0 + 1_200_000)
    def in_gap(ts: int) -> bool:
        return gap[0] <= ts < gap[1]

    # skew: partition 0 holds most records; whole seconds (ties); late records
    for p, n in ((0, 3000 * scale), (1, 300 * scale), (2, 40 * scale)):
        for i in range(n):
            ts = t0 + i * 2_400_000 // n
            if rng.random() < 0.08:
                ts = max(t0, ts - rng.randrange(0, 40_000))  # late
            ts -= ts % 1000
            if not in_gap(ts):
                recs.append(Record(skew, key=f"s{p}".encode(), value=bytes([i % 256, 0xFF, 0xFE]) + str(i).encode(),
                                   partition=p, ts=ts))
    # plain: on a 10 s grid, so ties across topics
    for i in range(500 * scale):
        ts = t0 + i * 2_400_000 // (500 * scale) // 10_000 * 10_000
        if not in_gap(ts):
            recs.append(Record(plain, key=None if i % 7 == 0 else b"p", value=b"" if i % 11 == 0 else f"p{i}".encode(),
                               partition=i % 2, ts=ts))
    tool.produce(recs)
    # txn: transactions whose timestamp ranges overlap (each starts before
    # the previous one ended), one aborted in the middle, an aborted tail
    items: list[Any] = []
    for k in range(12):
        items.append(BEGIN)
        start = t0 + k * 180_000
        for i in range(60 * scale):
            ts = start + rng.randrange(0, 300_000)
            if in_gap(ts):
                ts += gap[1] - gap[0]
            items.append(Record(txn, key=f"x{k}".encode(), value=f"txn{k}-{i}".encode(), partition=i % 3, ts=ts))
        items.append(ABORT if k == 5 else COMMIT)
    items.append(BEGIN)
    items.extend(Record(txn, key=b"x", value=b"aborted-tail", partition=p, ts=t0 + 10_000) for p in range(3))
    items.append(ABORT)
    tool.produce(items, transactional_id=f"txn-{txn}")
    return Sliced([skew, plain, txn], t0, t0 + 2_400_000, gap)


def reference(config: dict[str, str], d: Sliced, start: int | None = None, end: int | None = None, **kw: Any) -> pa.Table:
    """The single ordered replay of the rows whose ordering timestamp is in
    [start, end): read_topics from the earliest offsets up to end, then the
    rows below start dropped (by their ordering timestamp)."""
    t = kafkars.read_topics(config, [kafkars.SourceTopic.from_earliest(n) for n in d.topics],
                            "live" if end is None else end, ordering_timestamp=True, **kw)
    if start is not None:
        import pyarrow.compute as pc

        t = t.filter(pc.greater_equal(t.column("ordering_timestamp"), pa.scalar(start, pa.timestamp("ms", "UTC"))))
    return t


def assert_same_rows(got: pa.Table, want: pa.Table, what: str) -> None:
    """Row for row: key, value, topic, partition, offset, timestamp."""
    g, w = got.select(COLUMNS), want.select(COLUMNS)
    assert g.num_rows == w.num_rows, f"{what}: {g.num_rows} rows, want {w.num_rows}"
    for c in COLUMNS:
        gc, wc = g.column(c).combine_chunks(), w.column(c).combine_chunks()
        if not gc.equals(wc):
            gl, wl = gc.to_pylist(), wc.to_pylist()
            i = next(i for i in range(len(wl)) if gl[i] != wl[i])
            raise AssertionError(f"{what}: column {c} differs first at row {i}: {g.slice(i, 1).to_pylist()} != {w.slice(i, 1).to_pylist()}")
