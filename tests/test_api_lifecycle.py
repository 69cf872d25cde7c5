"""Lifecycle and state API (docs/design.md, "Batches" to "Errors and lifecycle"): the context manager,
repr, is_live, partition_state, held/paused counts, the priming watermark,
metrics, and the datetime/timedelta forms of the start policies."""

from __future__ import annotations

import datetime as dt
import gc
import threading
import time
import uuid

import pyarrow as pa
import pytest

import kafkars
from kafkars import ClosedError, ConsumerManager, SourceTopic
from devtools.kafkatool import KafkaTool, Record

pytestmark = pytest.mark.broker

DAY_AGO = int(time.time() * 1000) - 86_400_000
N_FILLED = 3000


def ms(ts: dt.datetime) -> int:
    return int(ts.timestamp() * 1000)


def ts_ms(batch: pa.RecordBatch | pa.Table) -> list[int]:
    """The timestamp column as epoch ms (fast: no datetime objects)."""
    col = batch.column("timestamp")
    out: list[int] = col.cast(pa.int64()).to_pylist()
    return out


@pytest.fixture(scope="module")
def filled(tool: KafkaTool) -> tuple[str, list[Record]]:
    """3 partitions, 3000 records, record i on partition i % 3 at DAY_AGO + 10 i ms.
    Tests only read it."""
    name = f"api-lifecycle-filled-{uuid.uuid4().hex[:8]}"
    tool.create_topic(name, partitions=3)
    recs = [
        Record(name, key=f"k{i}".encode(), value=f"v{i}".encode(), partition=i % 3, ts=DAY_AGO + i * 10)
        for i in range(N_FILLED)
    ]
    assert tool.produce(recs) == N_FILLED
    return name, recs


@pytest.fixture(scope="module")
def empty_topic(tool: KafkaTool) -> str:
    name = f"api-lifecycle-empty-{uuid.uuid4().hex[:8]}"
    tool.create_topic(name, partitions=2)
    return name


def drain(m: ConsumerManager, timeout_s: float = 60) -> pa.Table:
    """Poll until live; every row of the replay."""
    batches = []
    deadline = time.monotonic() + timeout_s
    while not m.is_live():
        b = m.poll(timeout_ms=500)
        assert b.schema == m.schema
        if b.num_rows:
            batches.append(b)
        assert time.monotonic() < deadline, f"not live after {timeout_s}s: {m!r}"
    return pa.Table.from_batches(batches, schema=m.schema)


def live_managers() -> int:
    gc.collect()
    return kafkars._debug_counters()["live_managers"]


# -- context manager and close ------------------------------------------------------


def test_context_manager(config: dict[str, str], filled: tuple[str, list[Record]]) -> None:
    name, recs = filled
    base = live_managers()
    with ConsumerManager(config, [SourceTopic.from_earliest(name)]) as m:
        assert isinstance(m, ConsumerManager)
        assert not m.closed
        assert live_managers() == base + 1
        table = drain(m)
    assert table.num_rows == len(recs)
    assert m.closed
    assert live_managers() == base
    with pytest.raises(ClosedError):
        m.poll(timeout_ms=10)

    # An exception inside the block still closes, and propagates unchanged.
    with pytest.raises(ZeroDivisionError):
        with ConsumerManager(config, [SourceTopic.from_earliest(name)]) as m2:
            assert live_managers() == base + 1
            _ = 1 / 0
    assert m2.closed
    assert live_managers() == base


def test_unreferenced_manager_is_closed_by_gc(config: dict[str, str], empty_topic: str) -> None:
    base = live_managers()
    m = ConsumerManager(config, [SourceTopic.from_earliest(empty_topic)])
    assert live_managers() == base + 1
    del m
    assert live_managers() == base


def test_poll_returns_an_empty_batch_at_the_timeout(config: dict[str, str], empty_topic: str) -> None:
    with ConsumerManager(config, [SourceTopic.from_earliest(empty_topic)]) as m:
        assert m.schema == kafkars.MESSAGE_SCHEMA
        t0 = time.monotonic()
        b = m.poll(timeout_ms=300)
        elapsed = time.monotonic() - t0
        assert isinstance(b, pa.RecordBatch)  # never None
        assert b.num_rows == 0 and b.schema == kafkars.MESSAGE_SCHEMA
        assert 0.25 <= elapsed < 2, elapsed
    with ConsumerManager(config, [SourceTopic.from_earliest(empty_topic)], include_headers=True) as m:
        assert m.schema == kafkars.MESSAGE_SCHEMA_WITH_HEADERS
        assert m.poll(timeout_ms=0).schema == kafkars.MESSAGE_SCHEMA_WITH_HEADERS


# -- repr, is_live, counters, state -----------------------------------------------------


def test_repr_is_live_and_counters(
    config: dict[str, str], filled: tuple[str, list[Record]], empty_topic: str
) -> None:
    name, recs = filled
    topics = [SourceTopic.from_earliest(name), SourceTopic.from_earliest(empty_topic)]
    with ConsumerManager(config, topics) as m:
        assert m.topics == topics
        # Nothing polled yet: the replay cannot be live (3000 records wait).
        assert m.is_live() is False
        r = repr(m)
        assert f"topics={[name, empty_topic]!r}" in r, r
        assert "partitions=5" in r and "state=replaying" in r, r
        assert isinstance(m.held_message_count(), int) and m.held_message_count() >= 0
        assert 0 <= m.paused_partition_count() <= 5

        table = drain(m)
        assert table.num_rows == len(recs)
        assert m.is_live() is True
        r = repr(m)
        assert "state=live" in r and "caught_up=5/5" in r and f"released={len(recs):,}" in r, r
        assert m.held_message_count() == 0
        assert m.paused_partition_count() == 0
        assert m.get_priming_watermark() is None
    r = repr(m)
    assert "closed=True" in r and name in r, r


REQUIRED_METRICS: dict[str, type | tuple[type, ...]] = {
    "is_live": bool,
    "partitions": int,
    "partitions_caught_up": int,
    "paused_partitions": int,
    "held_messages": int,
    "held_bytes": int,
    "peak_held_messages": int,
    "peak_held_bytes": int,
    "pause_events": int,
    "records_refetched": int,
    "rewinds": int,
    "releasable_messages": int,
    "priming_watermark_ms": (int, type(None)),
    "late_messages": int,
    "duplicates_dropped": int,
    "records_consumed": int,
    "records_released": int,
    "batches_released": int,
    "records_to_replay": int,
    "fetch_calls": int,
    "empty_polls": int,
    "fetch_calls_by_poll": int,
    "build_seconds": (int, float),
    "error_count": int,
    "broker_down_for_ms": (int, type(None)),
    "uptime_ms": int,
    "time_to_live_ms": (int, type(None)),
    "batch_size": int,
    "linger_ms": int,
    "max_buffered_messages": int,
    "max_buffered_bytes": int,
    "assigned_partitions": int,
    "rebalances": int,
    "last_rebalance_ms": (int, type(None)),
    "partitions_lost": int,
    "commits": int,
    "commit_failures": int,
    "last_commit_ms": (int, type(None)),
    "last_commit_error": (str, type(None)),
    "lag": (int, type(None)),
    "lag_to_position": (int, type(None)),
}


def test_metrics(config: dict[str, str], filled: tuple[str, list[Record]]) -> None:
    name, recs = filled
    with ConsumerManager(config, [SourceTopic.from_earliest(name)], batch_size=700, linger_ms=3) as m:
        before = m.metrics()
        missing = set(REQUIRED_METRICS) - set(before)
        assert not missing, f"metrics() lacks {sorted(missing)}: {sorted(before)}"
        for key, typ in REQUIRED_METRICS.items():
            assert isinstance(before[key], typ), (key, before[key])
        assert before["partitions"] == 3
        assert before["records_to_replay"] == len(recs)
        assert before["batch_size"] == 700 and before["linger_ms"] == 3
        assert before["is_live"] is False

        table = drain(m)
        after = m.metrics()
        assert after["is_live"] is True
        assert after["records_released"] == table.num_rows == len(recs)
        assert after["records_consumed"] == len(recs)
        assert after["partitions_caught_up"] == 3
        assert after["held_messages"] == 0 and after["releasable_messages"] == 0
        assert after["batches_released"] >= len(recs) // 700
        assert after["late_messages"] == 0 and after["duplicates_dropped"] == 0
        assert after["time_to_live_ms"] is not None and after["time_to_live_ms"] >= 0
        assert after["priming_watermark_ms"] is None


def test_partition_state(config: dict[str, str], filled: tuple[str, list[Record]]) -> None:
    name, recs = filled
    with ConsumerManager(config, [SourceTopic.from_earliest(name)]) as m:
        st0 = m.partition_state()
        assert st0.schema.equals(kafkars.PARTITION_STATE_SCHEMA)
        assert st0.schema.equals(kafkars.get_partition_state_schema())
        assert st0.num_rows == 3
        drain(m)
        st = m.partition_state()
        stats = m.partition_stats()
    assert st.schema.equals(kafkars.PARTITION_STATE_SCHEMA)
    assert stats.schema.equals(kafkars.PARTITION_STATS_SCHEMA)
    assert stats.to_pydict() == {"topic": [name] * 3, "partition": [0, 1, 2], "held_messages": [0] * 3,
                                 "late_messages": [0] * 3, "malformed_records": [0] * 3,
                                 "is_caught_up": [True] * 3, "topic_rank": [0] * 3}
    rows = sorted(st.to_pylist(), key=lambda r: r["partition"])
    assert [r["partition"] for r in rows] == [0, 1, 2]
    for r in rows:
        p = r["partition"]
        mine = [x for x in recs if x.partition == p]
        assert r["topic"] == name
        assert r["replay_start_offset"] == 0 and r["replay_end_offset"] == len(mine) == 1000
        assert r["consumed_offset"] == r["released_offset"] == len(mine) - 1
        assert ms(r["last_consumed_timestamp"]) == mine[-1].ts
        assert r["is_live"] is True and r["is_paused"] is False


def test_watermark_held_and_paused_while_replaying(config: dict[str, str], tool: KafkaTool, topic_name: str) -> None:
    """With 100k records, a small buffer budget and nobody polling, the replay
    holds records, pauses the partition ahead of the frontier and reports a
    finite priming watermark; polled to the end, all three clear."""
    tool.create_topic(topic_name, partitions=2)
    ts0 = DAY_AGO
    tool.gen(topic_name, partitions=2, count=100_000, ts_start=ts0, ts_step=1)  # ts0 .. ts0+49999 per partition
    with ConsumerManager(config, [SourceTopic.from_earliest(topic_name)], max_buffered_messages=1000, batch_size=1000) as m:
        deadline = time.monotonic() + 20
        while True:
            met = m.metrics()
            if met["priming_watermark_ms"] is not None and met["held_messages"] > 0 and met["paused_partitions"] > 0:
                break
            assert not met["is_live"]
            assert time.monotonic() < deadline, f"no watermark/held/paused within 20 s: {met}"
            time.sleep(0.02)
        wm = m.get_priming_watermark()
        assert wm is not None and ts0 <= wm <= ts0 + 49_999, (wm, ts0)
        assert m.held_message_count() > 0
        paused = m.paused_partition_count()
        assert paused == 1, paused  # 2 partitions: the frontier's is never paused
        state = m.partition_state().to_pylist()
        assert sum(r["is_paused"] for r in state) == paused
        r = repr(m)
        assert "state=replaying" in r and "watermark=" in r and "paused=1" in r, r

        # Every released row is at or below the frontier: the watermark seen
        # after a poll is never below the rows that poll returned.
        n, top, last_wm = 0, 0, wm
        deadline = time.monotonic() + 60
        while not m.is_live():
            b = m.poll(timeout_ms=500)
            if b.num_rows:
                n += b.num_rows
                top = max(top, max(ts_ms(b)))
                w = m.get_priming_watermark()
                if w is not None:
                    assert w >= top, (w, top)
                    assert w >= last_wm  # never moves back
                    last_wm = w
            assert time.monotonic() < deadline
        assert n == 100_000
        assert m.get_priming_watermark() is None
        assert m.held_message_count() == 0
        # Partitions paused by backpressure are resumed by the engine's next
        # pass, which may come just after is_live() turned true (measured:
        # 1 run in 8 still shows a paused partition at that instant).
        deadline = time.monotonic() + 2
        while m.paused_partition_count() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert m.paused_partition_count() == 0
        assert not any(r["is_paused"] for r in m.partition_state().to_pylist())


def test_backpressure_resume_does_not_stall(config: dict[str, str], tool: KafkaTool, topic_name: str) -> None:
    """A replay under backpressure: no poll waits long for rows that are
    already in the broker (without backpressure the same 100k records replay
    in about 0.1 s). Before fetch.wait.max.ms defaulted to 100 ms, each
    resume of a paused partition waited out librdkafka's 500 ms long poll
    for the other partitions (every run here had such a wait)."""
    tool.create_topic(topic_name, partitions=2)
    tool.gen(topic_name, partitions=2, count=100_000, ts_start=DAY_AGO, ts_step=1)
    waits: list[float] = []
    for _ in range(2):
        with ConsumerManager(config, [SourceTopic.from_earliest(topic_name)], max_buffered_messages=1000, batch_size=1000) as m:
            n = 0
            deadline = time.monotonic() + 60
            while not m.is_live():
                t0 = time.monotonic()
                b = m.poll(timeout_ms=2000)
                if b.num_rows:
                    n += b.num_rows
                    waits.append(time.monotonic() - t0)
                assert time.monotonic() < deadline
            assert n == 100_000
            assert m.metrics()["pause_events"] > 0  # backpressure did engage
    worst = max(waits)
    print(f"backpressure replay: longest wait for a batch {worst * 1000:.0f} ms over {len(waits)} batches")
    assert worst < 0.3, f"a poll waited {worst * 1000:.0f} ms for rows already in the broker"


# -- batches outlive the manager --------------------------------------------------------


def test_batches_stay_valid_after_close(config: dict[str, str], filled: tuple[str, list[Record]]) -> None:
    name, recs = filled
    by_po = {(r.partition, off): r for p in range(3) for off, r in enumerate(x for x in recs if x.partition == p)}
    gc.collect()
    base = kafkars._debug_counters()["arrow_live_bytes"]
    m = ConsumerManager(config, [SourceTopic.from_earliest(name)], batch_size=500)
    held: list[pa.RecordBatch] = []
    while len(held) < 3:
        b = m.poll(timeout_ms=2000)
        assert b.num_rows > 0, "no rows from a topic of 3000 records"
        held.append(b)
    state = m.partition_state()
    m.close()
    # Read them after close: every byte still there.
    rows = [row for b in held for row in b.to_pylist()]
    assert len(rows) == 1500
    for row in rows:
        r = by_po[(row["partition"], row["offset"])]
        assert (row["key"], row["value"], ms(row["timestamp"])) == (r.key, r.value, r.ts)
    assert state.num_rows == 3 and state.column("topic").to_pylist() == [name] * 3
    assert kafkars._debug_counters()["arrow_live_bytes"] > base  # held by our batches
    del held, b, state, rows
    gc.collect()
    assert kafkars._debug_counters()["arrow_live_bytes"] == base


# -- start policies with datetime and timedelta --------------------------------------------


def test_relative_time_with_timedelta(config: dict[str, str], tool: KafkaTool, topic_name: str) -> None:
    tool.create_topic(topic_name, partitions=1)
    now = int(time.time() * 1000)
    # one record a second, from 10 minutes ago to 5 minutes ago
    ts = [now - 600_000 + i * 1000 for i in range(300)]
    tool.produce([Record(topic_name, key=None, value=str(i).encode(), partition=0, ts=t) for i, t in enumerate(ts)])
    st = SourceTopic.from_relative_time(topic_name, dt.timedelta(minutes=7))
    assert (st.policy, st.time_ms) == ("relative_time", 420_000)
    t_before = int(time.time() * 1000)
    with ConsumerManager(config, [st]) as m:
        t_after = int(time.time() * 1000)
        table = drain(m)
    got = ts_ms(table)
    assert got, "nothing replayed"
    # Exactly the records at or after (creation time - 7 min).
    first = ts.index(got[0])
    assert got == ts[first:]
    assert got[0] >= t_before - 420_000
    assert first == 0 or ts[first - 1] < t_after - 420_000
    assert 100 <= len(got) <= 121, len(got)  # about 7 min - 5 min = 120 s of records


def test_absolute_time_with_datetime(config: dict[str, str], filled: tuple[str, list[Record]]) -> None:
    name, recs = filled
    cut = recs[1200].ts
    assert cut is not None
    aware = dt.datetime.fromtimestamp(cut / 1000, dt.timezone.utc)
    naive = aware.replace(tzinfo=None)  # naive = UTC
    other_tz = aware.astimezone(dt.timezone(dt.timedelta(hours=5, minutes=30)))
    for when in (aware, naive, other_tz):
        st = SourceTopic.from_absolute_time(name, when)
        assert (st.policy, st.time_ms) == ("absolute_time", cut)
    with ConsumerManager(config, [SourceTopic.from_absolute_time(name, aware)]) as m:
        table = drain(m)
    got = sorted((row["partition"], row["offset"]) for row in table.select(["partition", "offset"]).to_pylist())
    want = sorted((r.partition, i // 3) for i, r in enumerate(recs) if r.ts is not None and r.ts >= cut)
    assert got == want and len(got) == N_FILLED - 1200


def test_poll_from_a_thread_while_state_is_read(config: dict[str, str], filled: tuple[str, list[Record]]) -> None:
    """State calls (metrics, partition_state, repr) from one thread while
    another polls: no error, no lost row."""
    name, recs = filled
    errors: list[BaseException] = []
    with ConsumerManager(config, [SourceTopic.from_earliest(name)], batch_size=100) as m:
        stop = threading.Event()

        def reader() -> None:
            try:
                while not stop.is_set():
                    m.metrics()
                    m.partition_state()
                    repr(m)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        th = threading.Thread(target=reader)
        th.start()
        try:
            table = drain(m)
        finally:
            stop.set()
            th.join()
    assert not errors, errors
    assert table.num_rows == len(recs)
