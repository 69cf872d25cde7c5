"""Many partitions on a real broker: creation asks the cluster a fixed
number of questions whatever the partition count (one metadata request for
all topics, offset lookups batched over every partition), and a replay
over hundreds of partitions is ordered, complete and ends.

The requests are counted on the wire: with a ``debug`` property librdkafka
logs every request it sends on stderr ("Sent ListOffsetsRequest (v7, ...)"),
captured here at the file descriptor. A lookup per partition would send
one ListOffsets request per partition (200 here), a lookup per topic at
least 8, where creation sends 2.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import kafkars
from kafkars import ConsumerManager, SourceTopic
from devtools.kafkatool import KafkaTool, Record

pytestmark = pytest.mark.broker

TOPICS = 8
PARTITIONS = 25  # per topic: 200 partitions in all
BASE = int(time.time() * 1000) - 3_600_000
SENT = re.compile(r"Sent (\w+)Request \(v\d+")
# librdkafka's "metadata" debug context names why each metadata request is
# made; requests made through the client API say "application requested",
# its own (at connect, for leaders, on a timer) give other reasons
ASKED = re.compile(r"Request metadata for (\d+) topic\(s\): application requested")


@dataclass(frozen=True)
class ManyPartitions:
    topics: list[str]
    records: int  # in all topics together


@pytest.fixture(scope="module")
def many(tool: KafkaTool) -> ManyPartitions:
    """8 topics x 25 partitions; every partition holds a few records (the
    first topic's partitions 10 each, the others 3), timestamps interleaved
    across partitions and topics."""
    stamp = int(time.time() * 1000)
    names = [f"many-parts-{stamp}-{k}" for k in range(TOPICS)]
    records = []
    for k, name in enumerate(names):
        tool.create_topic(name, PARTITIONS, {"retention.ms": "-1"})
        per = 10 if k == 0 else 3
        for p in range(PARTITIONS):
            for i in range(per):
                records.append(Record(name, key=f"{k}-{p}-{i}".encode(), value=b"v" * 20, partition=p,
                                      ts=BASE + 7 * i + (p * 13 + k * 5) % 11))
    tool.produce(records)
    return ManyPartitions(names, len(records))


def sent_requests(text: str) -> Counter[str]:
    """Requests librdkafka logged as sent, by API name."""
    return Counter(m.group(1) for m in SENT.finditer(text))


def asked_metadata(text: str) -> list[int]:
    """The topic count of each metadata request made through the client
    API (ours), as librdkafka logged it."""
    return [int(m.group(1)) for m in ASKED.finditer(text)]


def replay_until_live(
    config: dict[str, str], topics: list[str], timeout_s: float, **kwargs: Any
) -> tuple[pa.Table, dict[str, Any]]:
    """Replay topics from the earliest offsets until live (failing after
    timeout_s): every row, and the manager's metrics at the end."""
    batches = []
    with ConsumerManager(config, [SourceTopic.from_earliest(t) for t in topics], **kwargs) as m:
        deadline = time.monotonic() + timeout_s
        while not m.is_live():
            assert time.monotonic() < deadline, f"not live after {timeout_s} s: {m.metrics()}"
            b = m.poll(timeout_ms=500)
            if b.num_rows:
                batches.append(b)
        metrics = m.metrics()
    return pa.Table.from_batches(batches), metrics


def assert_metadata_asked_once(text: str) -> None:
    """Ours is one request naming every topic. librdkafka may send it again
    on the connection to the broker it learns of (2 seen); one request per
    topic would log TOPICS requests of 1 topic each. librdkafka's own
    requests vary from run to run (2 to 11 seen) and are not counted."""
    asked = asked_metadata(text)
    assert 1 <= len(asked) <= 2, asked
    assert all(n == TOPICS for n in asked), asked


def test_create_lookups_do_not_grow_with_partitions(
    many: ManyPartitions, config: dict[str, str], capfd: pytest.CaptureFixture[str]
) -> None:
    """Creation over 200 partitions: the replay ends in one ListOffsets
    request, the starts of every policy that needs a lookup in one more
    (per partition leader; one broker here); metadata is asked once for
    all topics (librdkafka adds its own at connect and assign, not per
    topic or partition)."""
    policies: list[Callable[[str], SourceTopic]] = [
        SourceTopic.from_earliest,
        lambda name: SourceTopic.from_relative_time(name, 7_200_000),
        lambda name: SourceTopic.from_absolute_time(name, BASE + 5),
        SourceTopic.from_latest,
    ]
    topics = [policies[k % 4](name) for k, name in enumerate(many.topics)]
    capfd.readouterr()
    m = ConsumerManager({**config, "debug": "protocol,metadata"}, topics)
    try:
        out = capfd.readouterr().err
        state = m.partition_state()
    finally:
        m.close()
    sent = sent_requests(out)
    assert sent["ListOffsets"] >= 1, f"no request seen in librdkafka's log (format changed?): {out[-2000:]}"
    # 2 expected (ends, then starts), per topic it would be 16 or more
    assert sent["ListOffsets"] <= 6, sent
    assert_metadata_asked_once(out)
    assert sent["OffsetFetch"] == 0, sent  # no group.id of the user's: no committed offsets asked
    assert state.num_rows == TOPICS * PARTITIONS
    policy = {name: k % 4 for k, name in enumerate(many.topics)}
    names = state.column("topic").to_pylist()
    starts = state.column("replay_start_offset").to_pylist()
    ends = state.column("replay_end_offset").to_pylist()
    # absolute time: some partitions start after their first record
    assert 0 < sum(s == 1 for n, s in zip(names, starts) if policy[n] == 2) < 2 * PARTITIONS
    for name, start, end in zip(names, starts, ends):
        assert end == (10 if name == many.topics[0] else 3)
        if policy[name] == 3:
            assert start == end  # latest
        elif policy[name] == 2:
            assert start in (0, 1)  # the first record is before the absolute time or not
        else:
            assert start == 0


def test_planning_lookups_do_not_grow_with_partitions(
    many: ManyPartitions, config: dict[str, str], capfd: pytest.CaptureFixture[str]
) -> None:
    """offsets_for_times over 200 partitions and 3 times: one ListOffsets
    request for the first offsets, one for the ends and one per time."""
    capfd.readouterr()
    got = kafkars.offsets_for_times({**config, "debug": "protocol,metadata"}, many.topics, [BASE, BASE + 20, BASE + 10**7])
    out = capfd.readouterr().err
    sent = sent_requests(out)
    assert 1 <= sent["ListOffsets"] <= 8, sent  # 5 expected; per topic 40
    assert_metadata_asked_once(out)
    assert sum(len(parts) for parts in got.values()) == TOPICS * PARTITIONS
    assert all(po.high == po.offsets[2] for parts in got.values() for po in parts.values())


@pytest.mark.parametrize("budget", [None, 4096], ids=["default-budget", "tiny-budget"])
def test_replay_over_many_partitions_is_ordered_and_complete(
    many: ManyPartitions, config: dict[str, str], budget: int | None
) -> None:
    """Every record once, in order-key order, and the replay ends, also
    with a byte budget far below one record per partition. Each partition
    then gets the least share of the budget (4 KiB, docs/design.md,
    "Backpressure"), which holds its few records: nothing is dropped and
    fetched again. (Below that floor every partition was fetched again for
    each of its records: 45 to 55 s for this replay.)"""
    kwargs = {} if budget is None else {"max_buffered_bytes": budget}
    t, metrics = replay_until_live(config, many.topics, 60, batch_size=97, **kwargs)
    assert t.num_rows == many.records
    keys = list(zip(t.column("topic").to_pylist(), t.column("partition").to_pylist(), t.column("offset").to_pylist()))
    assert len(set(keys)) == many.records  # exactly once
    rank = {name: i for i, name in enumerate(many.topics)}
    order = [(ts, rank[tp], p, o) for ts, (tp, p, o) in zip(pc.cast(t.column("timestamp"), pa.int64()).to_pylist(), keys)]
    assert order == sorted(order)
    if budget is not None:
        assert metrics["records_refetched"] == 0, metrics


def test_fetches_over_the_budget_are_dropped_and_fetched_again(
    tool: KafkaTool, config: dict[str, str], topic_name: str
) -> None:
    """40 partitions of 2 500 records of 200 bytes (about 28 MB as held),
    timestamps interleaved, replayed with a 2 MiB byte budget: each
    partition's first fetch is its whole content (about 700 KB), so the
    replay cannot start before far more than the budget has arrived. Once
    the engine holds three budgets, it drops what a partition fetches
    beyond its share and fetches it again later with a seek: every record
    once, in order, and the peak held bytes stay within four budgets
    (without the drop they would reach the whole replay)."""
    parts, count, budget = 40, 100_000, 2 << 20
    tool.create_topic(topic_name, parts, {"retention.ms": "-1"})
    tool.gen(topic_name, partitions=parts, count=count, value_size=200, ts_start=BASE, ts_step=1)
    t, metrics = replay_until_live(config, [topic_name], 120, max_buffered_bytes=budget)
    assert t.num_rows == count
    keys = list(zip(t.column("partition").to_pylist(), t.column("offset").to_pylist()))
    assert len(set(keys)) == count  # exactly once
    order = [(ts, p, o) for ts, (p, o) in zip(pc.cast(t.column("timestamp"), pa.int64()).to_pylist(), keys)]
    assert order == sorted(order)
    assert metrics["records_refetched"] > 0 and metrics["rewinds"] > 0, metrics
    # three budgets, one share per partition (one budget), a record each
    bound = 4 * budget + parts * 300
    assert metrics["peak_held_bytes"] <= bound, (metrics["peak_held_bytes"], bound)
    print(f"peak held {metrics['peak_held_bytes'] / 2**20:.1f} MiB for a {budget / 2**20:.0f} MiB budget, "
          f"{metrics['records_refetched']} records fetched again, {metrics['rewinds']} rewinds")
