"""The replay guarantees (docs/design.md, "Replay" and "Backpressure") and
the offset policies on a real broker.

Every test checks the replay from the output alone: order by recomputing
the order key of each row from the rows of its partition, exactly once by
comparing the (topic, partition, offset) set and the payloads with what was
produced, liveness by requiring is_live() within a deadline.
"""

from __future__ import annotations

import random
import time
from typing import Any, Sequence

import pyarrow as pa
import pytest

from kafkars import ConsumerManager, SourceTopic
from devtools.kafkatool import ABORT, BEGIN, COMMIT, KafkaTool, Record
from tests.helpers import _ms, check_exactly_once, check_order

pytestmark = pytest.mark.broker

DAY_AGO = int(time.time() * 1000) - 86_400_000


def replay(
    config: dict[str, str], topics: Sequence[SourceTopic], timeout_s: float = 120, **kw: Any
) -> tuple[pa.Table, dict[str, Any], list[dict[str, Any]], dict[str, int]]:
    """Poll until live; returns rows, final metrics, partition state and
    the most partitions seen paused at once."""
    batches = []
    peak_paused = 0
    with ConsumerManager(config, topics, **kw) as m:
        deadline = time.monotonic() + timeout_s
        while not m.is_live():
            b = m.poll(timeout_ms=200)
            if b.num_rows:
                batches.append(b)
            peak_paused = max(peak_paused, m.paused_partition_count())
            assert time.monotonic() < deadline, f"liveness: not live after {timeout_s}s: {m!r}\n{m.partition_state().to_pylist()}"
        metrics = m.metrics()
        state = m.partition_state().to_pylist()
        schema = m.schema
    table = pa.Table.from_batches(batches, schema=schema)
    return table, metrics, state, {"peak_paused": peak_paused}


def test_32_partitions_earliest_in_smallest(tool: KafkaTool, config: dict[str, str], topic_name: str) -> None:
    """Partitions 0-3 hold the earliest timestamps and the fewest records;
    the frontier must wait for them, not for the big ones."""
    tool.create_topic(topic_name, 32)
    rng = random.Random(1)
    recs: list[Record] = []
    for p in range(32):
        if p < 4:
            n, lo, hi = 20, 0, 60_000  # few records, earliest minute
        else:
            n, lo, hi = 200 + 40 * p, 30_000, 3_600_000
        for ts in sorted(DAY_AGO + rng.randint(lo, hi) for _ in range(n)):
            recs.append(Record(topic_name, key=f"p{p}".encode(), value=f"{p}-{ts}".encode(), partition=p, ts=ts))
    tool.produce(recs)
    table, metrics, state, _ = replay(config, [SourceTopic.from_earliest(topic_name)], batch_size=777,
                                      max_buffered_messages=2000)
    check_order(table, {topic_name: 0})
    check_exactly_once(table, recs)
    assert all(s["is_live"] for s in state)
    assert metrics["records_released"] == len(recs)


def test_ties_ordered_by_topic_rank(tool: KafkaTool, config: dict[str, str], topic_name: str) -> None:
    """Two topics with identical timestamps: at equal timestamps every record
    of the first-listed topic comes first, whatever the partition numbers."""
    a, b = topic_name + "-a", topic_name + "-b"
    tool.create_topic(a, 2)
    tool.create_topic(b, 3)
    recs = []
    for i in range(300):
        ts = DAY_AGO + (i // 10) * 1000  # 10 records share each timestamp
        recs.append(Record(a, key=b"a", value=f"a{i}".encode(), partition=i % 2, ts=ts))
        recs.append(Record(b, key=b"b", value=f"b{i}".encode(), partition=i % 3, ts=ts))
    tool.produce(recs)
    # b listed first: rank 0
    table, *_ = replay(config, [SourceTopic.from_earliest(b), SourceTopic.from_earliest(a)], batch_size=50)
    check_order(table, {b: 0, a: 1})
    check_exactly_once(table, recs)
    rows = table.select(["topic", "timestamp"]).to_pylist()
    for i in range(1, len(rows)):
        if rows[i]["timestamp"] == rows[i - 1]["timestamp"]:
            assert not (rows[i - 1]["topic"] == a and rows[i]["topic"] == b), "rank order broken at a tie"


def test_transactional_with_abort(tool: KafkaTool, config: dict[str, str], topic_name: str) -> None:
    """Committed records are replayed, aborted ones never appear, and the
    replay becomes live although the partitions end with control records."""
    tool.create_topic(topic_name, 3)
    items: list[Any] = []
    committed: list[Record] = []
    for txn in range(6):
        items.append(BEGIN)
        batch = [
            Record(topic_name, key=f"t{txn}".encode(), value=f"txn{txn}-{i}".encode(), partition=i % 3, ts=DAY_AGO + txn * 1000 + i)
            for i in range(30)
        ]
        items.extend(batch)
        if txn == 3:
            items.append(ABORT)
        else:
            items.append(COMMIT)
            committed.extend(batch)
    # the last transaction is aborted too: the tails are an abort marker
    items.append(BEGIN)
    items.extend(Record(topic_name, key=b"x", value=b"aborted-tail", partition=p, ts=DAY_AGO + 99_000) for p in range(3))
    items.append(ABORT)
    tool.produce(items, transactional_id=f"txn-{topic_name}")
    table, metrics, state, _ = replay(config, [SourceTopic.from_earliest(topic_name)], timeout_s=60)
    check_exactly_once(table, committed)
    check_order(table, {topic_name: 0})
    assert not any(v.startswith(b"aborted") or v.startswith(b"txn3-") for v in table.column("value").to_pylist())
    # offsets skip the control records: the replay end is beyond the last record
    for s in state:
        assert s["replay_end_offset"] > s["consumed_offset"] + 1


def test_log_append_time(tool: KafkaTool, config: dict[str, str], topic_name: str) -> None:
    """With LogAppendTime the broker's timestamps are the order."""
    tool.create_topic(topic_name, 4, {"message.timestamp.type": "LogAppendTime"})
    before = int(time.time() * 1000)
    recs = [Record(topic_name, key=None, value=f"{i}".encode(), partition=i % 4, ts=DAY_AGO) for i in range(2000)]
    tool.produce(recs)
    after = int(time.time() * 1000)
    table, *_ = replay(config, [SourceTopic.from_earliest(topic_name)])
    ts = [_ms(t) for t in table.column("timestamp").to_pylist()]
    assert len(ts) == 2000
    assert min(ts) >= before - 1000 and max(ts) <= after + 1000, "not the broker's append time"
    check_order(table, {topic_name: 0})


def test_empty_partitions(tool: KafkaTool, config: dict[str, str], topic_name: str) -> None:
    tool.create_topic(topic_name, 6)
    recs = [Record(topic_name, key=b"k", value=f"{i}".encode(), partition=(i % 2) * 3, ts=DAY_AGO + i) for i in range(500)]
    tool.produce(recs)  # only partitions 0 and 3 have data
    table, _, state, _ = replay(config, [SourceTopic.from_earliest(topic_name)], timeout_s=30)
    check_exactly_once(table, recs)
    check_order(table, {topic_name: 0})
    assert sum(1 for s in state if s["replay_end_offset"] == 0) == 4


def test_time_policies(tool: KafkaTool, config: dict[str, str], topic_name: str) -> None:
    """absolute_time and relative_time start at the first record at or after
    the time; a time past the last record means nothing to replay."""
    tool.create_topic(topic_name, 3)
    now = int(time.time() * 1000)
    recs = [Record(topic_name, key=b"k", value=f"{i}".encode(), partition=i % 3, ts=now - 600_000 + i * 1000) for i in range(300)]
    tool.produce(recs)  # timestamps from now-10min to now-5min, increasing per partition
    cut = now - 450_000
    table, _, state, _ = replay(config, [SourceTopic.from_absolute_time(topic_name, cut)])
    check_exactly_once(table, [r for r in recs if r.ts is not None and r.ts >= cut])
    check_order(table, {topic_name: 0})
    # relative: 8 minutes before now
    rel = 480_000
    t_create = int(time.time() * 1000)
    table, *_ = replay(config, [SourceTopic.from_relative_time(topic_name, rel)])
    got = [_ms(t) for t in table.column("timestamp").to_pylist()]
    assert got and min(got) >= t_create - rel - 1000 and len(got) < 300
    # past the end: nothing to replay, live at once
    table, _, state, _ = replay(config, [SourceTopic.from_absolute_time(topic_name, now + 60_000)], timeout_s=10)
    assert table.num_rows == 0
    assert all(s["replay_start_offset"] == s["replay_end_offset"] == 100 for s in state)


def test_cutoff(tool: KafkaTool, config: dict[str, str], topic_name: str) -> None:
    """cutoff_ms ends each partition's replay at its first record at or after
    the cutoff, so the replay is live without reading to the end."""
    tool.create_topic(topic_name, 2)
    recs = [Record(topic_name, key=b"k", value=f"{i}".encode(), partition=i % 2, ts=DAY_AGO + i * 10) for i in range(4000)]
    tool.produce(recs)
    cutoff = DAY_AGO + 10_000  # record 1000
    with ConsumerManager(config, [SourceTopic.from_earliest(topic_name)], cutoff_ms=cutoff, batch_size=100) as m:
        rows = 0
        deadline = time.monotonic() + 30
        while not m.is_live():
            rows += m.poll(200).num_rows
            assert time.monotonic() < deadline
        assert rows >= 1000
        assert m.get_priming_watermark() is None


def test_skew_pauses_and_bounds_memory(tool: KafkaTool, config: dict[str, str], topic_name: str) -> None:
    """One partition holds 100x the records of the others over the same time
    span: held records stay near max_buffered_messages instead of growing
    with the topic (bounded memory). Whether the big one gets paused depends
    on the fetches: when the small partitions have all arrived before it, it
    holds the frontier (everything it holds can go out) and is never
    paused; when it runs ahead of one of them, it is."""
    tool.create_topic(topic_name, 8)
    recs = []
    for p in range(8):
        n = 60_000 if p == 5 else 600
        step = 3_600_000 // n
        recs.extend(Record(topic_name, key=b"k", value=b"v" * 100, partition=p, ts=DAY_AGO + i * step) for i in range(n))
    tool.produce(recs)
    budget = 5_000
    table, metrics, state, extra = replay(
        config, [SourceTopic.from_earliest(topic_name)], batch_size=1000, max_buffered_messages=budget, timeout_s=120
    )
    check_exactly_once(table, recs)
    check_order(table, {topic_name: 0})
    print(f"\nskew: peak held {metrics['peak_held_messages']} (budget {budget}), peak bytes {metrics['peak_held_bytes']}, "
          f"pause events {metrics['pause_events']}, peak paused partitions {extra['peak_paused']}, total {len(recs)}")
    # bounded by the budget plus at most one fetch per partition and a batch
    # (see core/merge_test.go), and far below the topic size
    assert metrics["peak_held_messages"] < budget + 8 * 10_000 + 1000
    assert metrics["peak_held_messages"] < len(recs) / 2
