"""What a notebook user meets on a real broker: time-bounded reads over
history, late records, headers, reading a stream twice, times as strings."""

from __future__ import annotations

import datetime as dt
import time

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import kafkars
from devtools.kafkatool import KafkaTool, Record
from kafkars import ConsumerManager, SourceTopic

pytestmark = pytest.mark.broker


def test_future_time_bound_ends_at_the_replay_end(config: dict[str, str], tool: KafkaTool, topic_name: str) -> None:
    """A bounded read over history ends at the replay end when no record at
    or past the bound exists yet, even if the bound is an hour ahead."""
    tool.create_topic(topic_name, 3)
    now = int(time.time() * 1000)
    tool.produce(Record(topic_name, b"v", partition=i % 3, ts=now - 1000 + i) for i in range(300))
    with ConsumerManager(config, [SourceTopic.from_earliest(topic_name)]) as m:
        t0 = time.monotonic()
        table = m.read_all(until=now + 3_600_000)
        elapsed = time.monotonic() - t0
    assert table.num_rows == 300
    assert elapsed < 5, f"read_all(until=an hour ahead) took {elapsed:.1f}s"


def test_windowed_loop_ends_in_the_last_window(config: dict[str, str], tool: KafkaTool, topic_name: str) -> None:
    """The batching guide's windowed loop: hourly windows, the last one ahead
    of the data, each read returns promptly and together they read it all."""
    tool.create_topic(topic_name, 2)
    now = int(time.time() * 1000)
    start = now - 3 * 3_600_000
    tool.produce(Record(topic_name, b"v", partition=i % 2, ts=start + i * 36_000) for i in range(300))  # 3 hours
    seen = 0
    t0 = time.monotonic()
    with ConsumerManager(config, [SourceTopic.from_earliest(topic_name)]) as m:
        window = start + 3_600_000
        while not m.is_live():
            seen += m.read_all(until=window).num_rows
            window += 3_600_000
            assert time.monotonic() - t0 < 30, "a window waited for the clock"
    assert seen == 300


def test_follow_reads_live_records_until_the_time(config: dict[str, str], tool: KafkaTool, topic_name: str) -> None:
    tool.create_topic(topic_name, 1)
    now = int(time.time() * 1000)
    tool.produce([Record(topic_name, b"old", ts=now - 10)])
    with ConsumerManager(config, [SourceTopic.from_earliest(topic_name)]) as m:
        until = int(time.time() * 1000) + 2500
        import threading

        threading.Timer(0.8, lambda: tool.produce([Record(topic_name, b"new", ts=int(time.time() * 1000))])).start()
        t0 = time.monotonic()
        table = m.read_all(until=until, follow=True)
        elapsed = time.monotonic() - t0
    assert table.column("value").to_pylist() == [b"old", b"new"]
    assert 1.5 < elapsed < 10, elapsed


LATE_TS = [10, 20, 15, 30, 5, 40, 40, 35]  # offsets 2, 4 and 7 are late


def _late_topic(tool: KafkaTool, name: str) -> int:
    tool.create_topic(name, 1)
    base = int(time.time() * 1000) - 100_000
    tool.produce(Record(name, f"v{i}".encode(), ts=base + t) for i, t in enumerate(LATE_TS))
    return base


def _ms(col: pa.ChunkedArray) -> list[int]:
    return pc.cast(col, pa.int64()).to_pylist()


def test_late_record_policies(config: dict[str, str], tool: KafkaTool, topic_name: str) -> None:
    base = _late_topic(tool, topic_name)
    topics = [SourceTopic.from_earliest(topic_name)]
    running = [10, 20, 20, 30, 30, 40, 40, 40]

    keep = kafkars.read_topics(config, topics, ordering_timestamp=True)
    assert [t - base for t in _ms(keep["timestamp"])] == LATE_TS
    assert [t - base for t in _ms(keep["ordering_timestamp"])] == running

    rewrite = kafkars.read_topics(config, topics, late="rewrite")
    assert [t - base for t in _ms(rewrite["timestamp"])] == running
    assert [t - base for t in _ms(rewrite["original_timestamp"])] == LATE_TS

    with ConsumerManager(config, topics, late="drop") as m:
        drop = m.read_all()
        assert m.metrics()["late_messages"] == 3
        assert m.partition_stats().column("late_messages").to_pylist() == [3]
    assert drop.column("value").to_pylist() == [b"v0", b"v1", b"v3", b"v5", b"v6"]


def test_batches_never_go_backwards_with_rewrite_or_drop(config: dict[str, str], tool: KafkaTool, topic_name: str) -> None:
    """The Rust kafkars example script's check: each batch's minimum
    timestamp is not below the previous batch's maximum. It fails on late
    data as it is; it holds with late='rewrite' or 'drop'."""
    tool.create_topic(topic_name, 4)
    base = int(time.time() * 1000) - 600_000
    import random

    rng = random.Random(3)
    recs = []
    for p in range(4):
        t = base
        for i in range(500):
            t += rng.randint(0, 50)
            late = rng.random() < 0.1
            recs.append(Record(topic_name, b"v", partition=p, ts=t - rng.randint(100, 2000) if late else t))
    tool.produce(recs)
    for late, backwards_ok in [("keep", True), ("rewrite", False), ("drop", False)]:
        prev_max = None
        backwards = 0
        with ConsumerManager(config, [SourceTopic.from_earliest(topic_name)], batch_size=97, late=late) as m:
            for batch in m:
                ts = _ms(batch["timestamp"])
                if prev_max is not None and min(ts) < prev_max:
                    backwards += 1
                if any(b < a for a, b in zip(ts, ts[1:])):
                    backwards += 1
                prev_max = max(ts)
        assert (backwards > 0) == backwards_ok, (late, backwards)


def test_headers_as_a_map(config: dict[str, str], tool: KafkaTool, topic_name: str) -> None:
    tool.create_topic(topic_name, 1)
    tool.produce([
        Record(topic_name, b"a", ts=1_700_000_000_000, headers=(("trace", b"t-1"), ("tenant", b"acme"))),
        Record(topic_name, b"b", ts=1_700_000_000_001),
        Record(topic_name, b"c", ts=1_700_000_000_002, headers=(("trace", None),)),
    ])
    table = kafkars.read_topics(config, [SourceTopic.from_earliest(topic_name)], include_headers="map")
    assert table.schema.field("headers").type == pa.map_(pa.string(), pa.binary())
    assert table.column("headers").to_pylist() == [[("trace", b"t-1"), ("tenant", b"acme")], [], [("trace", None)]]
    # vectorised: one header's value per row
    trace = pc.map_lookup(table["headers"], "trace", "first")
    assert trace.to_pylist() == [b"t-1", None, None]


def test_a_stream_read_twice_says_so(config: dict[str, str], tool: KafkaTool, topic_name: str) -> None:
    import duckdb

    tool.create_topic(topic_name, 1)
    tool.produce(Record(topic_name, b"v", ts=1_700_000_000_000 + i) for i in range(10))
    with ConsumerManager(config, [SourceTopic.from_earliest(topic_name)]) as m:
        reader = m.to_reader()
        assert duckdb.sql("select count(*) from reader").fetchone() == (10,)
        with pytest.raises(Exception, match="already read to its end"):
            duckdb.sql("select count(*) from reader").fetchone()


def test_times_as_strings_everywhere(config: dict[str, str], tool: KafkaTool, topic_name: str) -> None:
    tool.create_topic(topic_name, 1)
    now = int(time.time() * 1000)
    tool.produce(Record(topic_name, f"{i}".encode(), ts=now - (10 - i) * 60_000) for i in range(10))  # one a minute
    iso = dt.datetime.fromtimestamp((now - 5 * 60_000 + 1) / 1000, dt.timezone.utc).isoformat().replace("+00:00", "Z")
    recent = kafkars.read_topics(config, [SourceTopic.from_relative_time(topic_name, "5m")])
    assert recent.column("value").to_pylist() == [b"6", b"7", b"8", b"9"]  # "5" is 5 min before the test, a moment before creation
    head = kafkars.read_topics(config, [SourceTopic.from_earliest(topic_name)], until=iso)
    assert head.column("value").to_pylist() == [b"0", b"1", b"2", b"3", b"4", b"5"]
    since = kafkars.read_topics(config, [SourceTopic.from_absolute_time(topic_name, iso)])
    assert since.column("value").to_pylist() == [b"6", b"7", b"8", b"9"]
