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


def test_ordered_live_mode(config: dict[str, str], tool: KafkaTool, topic_name: str) -> None:
    """live_order="event_time": with both partitions producing, the live
    rows come out sorted although one partition's records reach the broker
    late; when a partition goes quiet, rows wait for it at most about
    max_idle_ms. (With the default, live_order="arrival", the first check
    fails: rows are released as they arrive.)"""
    import threading

    from confluent_kafka import Producer

    tool.create_topic(topic_name, 2)
    producer = Producer({"bootstrap.servers": config["bootstrap.servers"], "linger.ms": 0})
    max_idle = 2000

    def send(p: int, ts: int, value: bytes) -> None:
        producer.produce(topic_name, value, partition=p, timestamp=ts)

    got: list[tuple[int, int, int, float]] = []  # (ts, partition, offset, received at)
    with ConsumerManager(config, [SourceTopic.from_latest(topic_name)], live_order="event_time",
                         max_idle_ms=max_idle, linger_ms=0) as m:
        stop = threading.Event()

        def consume() -> None:
            while not stop.is_set():
                b = m.poll(timeout_ms=50)
                t = time.monotonic()
                got.extend((int(ts.timestamp() * 1000), p, o, t) for ts, p, o in zip(
                    b.column("timestamp").to_pylist(), b.column("partition").to_pylist(), b.column("offset").to_pylist()))

        th = threading.Thread(target=consume)
        th.start()
        # phase 1: both partitions; partition 1 writes the same moments as
        # partition 0, 160 ms behind
        base = int(time.time() * 1000)
        for i in range(60):
            now = base + 20 * i
            send(0, now, b"p0")
            producer.flush()
            if i >= 8:
                send(1, now - 160, b"p1")
                producer.flush()
            time.sleep(0.02)
        for j in range(52, 60):
            send(1, base + 20 * j, b"p1")
        producer.flush()
        deadline = time.monotonic() + max_idle / 1000 + 5
        while len(got) < 120 and time.monotonic() < deadline:  # the last row waits for partition 0 to idle
            time.sleep(0.05)
        n1 = len(got)
        # phase 2: one record on partition 1, then only partition 0: its
        # rows wait for partition 1 until it is idle, and no longer
        sent_at: dict[int, float] = {}
        base2 = int(time.time() * 1000)
        send(1, base2 - 1, b"p1-last")
        producer.flush()
        for i in range(30):
            sent_at[base2 + i] = time.monotonic()
            send(0, base2 + i, b"p0-alone")
            producer.flush()
            time.sleep(0.03)
        time.sleep(max_idle / 1000 + 1.0)
        stop.set()
        th.join()
    phase1 = got[:n1]
    assert len(phase1) == 120, len(phase1)
    keys = [(ts, p, o) for ts, p, o, _ in phase1]
    assert keys == sorted(keys), "live rows out of order across partitions"
    waits = [at - sent_at[ts] for ts, p, o, at in got[n1:] if p == 0 and ts in sent_at]
    assert len(waits) == 30
    assert 0.5 * max_idle / 1000 < max(waits) < max_idle / 1000 + 1.0, f"rows waited up to {max(waits):.2f}s"
