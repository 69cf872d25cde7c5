"""Faults on a real broker: a broker restart mid-replay, brokers
down for longer than the configured limit, a broker down at creation, and a
topic deleted mid-replay.

These tests stop and start their own broker, so they do not share the
session broker.
"""

from __future__ import annotations

import time
from typing import Iterator

import pyarrow as pa
import pytest

from kafkars import BrokerUnavailableError, ConsumerManager, SourceTopic, TopicNotFoundError, read_topics
from devtools.broker import LocalKafka
from devtools.kafkatool import KafkaTool, Record
from tests.helpers import check_order

pytestmark = [pytest.mark.broker, pytest.mark.slow]

# Small buffers: the outage must hit the replay, not be hidden by prefetch.
SMALL = {"max_buffered_messages": 5_000, "max_buffered_bytes": 1 << 20}


@pytest.fixture(scope="module")
def own_kafka() -> Iterator[LocalKafka]:
    with LocalKafka() as k:
        yield k


def _ensure_running(k: LocalKafka) -> None:
    if not k.running:
        k.start()


def _check_in_order_once(table: pa.Table, n_expected: int, topic: str) -> None:
    rows = table.select(["partition", "offset"]).to_pylist()
    assert len(rows) == n_expected, f"exactly once: {len(rows)} rows, want {n_expected}"
    assert len({(r["partition"], r["offset"]) for r in rows}) == n_expected, "exactly once: duplicates"
    check_order(table, {topic: 0})


def test_broker_restart_mid_replay(own_kafka: LocalKafka, topic_name: str) -> None:
    """Stop the broker mid-replay, keep polling (each poll returns within its
    timeout and metrics show the outage), restart it on the same port and
    log dir: the replay resumes by itself, nothing lost or doubled."""
    _ensure_running(own_kafka)
    tool = KafkaTool(own_kafka.bootstrap)
    tool.create_topic(topic_name, 4)
    n = 400_000
    tool.gen(topic_name, partitions=4, count=n, value_size=100, ts_step=3)
    batches = []
    saw_outage = False
    max_poll = 0.0
    with ConsumerManager({"bootstrap.servers": own_kafka.bootstrap}, [SourceTopic.from_earliest(topic_name)],
                         batch_size=2000, **SMALL) as m:
        got = 0
        while got < n // 4:
            b = m.poll(1000)
            batches.append(b)
            got += b.num_rows
        own_kafka.stop()
        down_at = time.monotonic()
        while time.monotonic() - down_at < 8:
            t0 = time.monotonic()
            b = m.poll(200)
            max_poll = max(max_poll, time.monotonic() - t0)
            batches.append(b)
            if m.metrics()["broker_down_for_ms"] is not None:
                saw_outage = True
        own_kafka.start()
        deadline = time.monotonic() + 120
        while not m.is_live():
            batches.append(m.poll(500))
            assert time.monotonic() < deadline, f"not live 120s after the restart: {m!r}"
        metrics = m.metrics()
    table = pa.Table.from_batches([b for b in batches if b.num_rows])
    _check_in_order_once(table, n, topic_name)
    assert saw_outage, "the outage never showed in metrics()['broker_down_for_ms']"
    # no poll waits past its timeout for the dead broker; the slack is for a
    # loaded 2-core machine (a hang would be seconds: librdkafka's own
    # request timeouts)
    assert max_poll < 0.2 + 0.5, f"a poll(200) took {max_poll:.3f}s while the broker was down"
    print(f"\nrestart: {n} records, duplicates dropped {metrics['duplicates_dropped']}, errors {metrics['error_count']}, "
          f"last error {metrics['last_error']!r}, slowest poll(200) while down {max_poll * 1000:.0f} ms")


def test_broker_down_past_limit_raises(own_kafka: LocalKafka, topic_name: str) -> None:
    _ensure_running(own_kafka)
    tool = KafkaTool(own_kafka.bootstrap)
    tool.create_topic(topic_name, 1)
    tool.gen(topic_name, partitions=1, count=1000)
    with ConsumerManager({"bootstrap.servers": own_kafka.bootstrap}, [SourceTopic.from_earliest(topic_name)],
                         broker_down_timeout_ms=3000) as m:
        m.read_all()
        own_kafka.stop()
        t0 = time.monotonic()
        try:
            with pytest.raises(BrokerUnavailableError, match=own_kafka.bootstrap.replace(".", r"\.")) as exc:
                while time.monotonic() - t0 < 60:
                    m.poll(500)
            el = time.monotonic() - t0
            print(f"\nbroker down: raised after {el:.1f}s: {exc.value}")
            assert el < 20, f"raised only after {el:.1f}s with broker_down_timeout_ms=3000"
        finally:
            own_kafka.start()


def test_broker_down_at_creation(own_kafka: LocalKafka, topic_name: str) -> None:
    _ensure_running(own_kafka)
    KafkaTool(own_kafka.bootstrap).create_topic(topic_name, 1)
    bootstrap = own_kafka.bootstrap
    own_kafka.stop()
    try:
        t0 = time.monotonic()
        with pytest.raises(BrokerUnavailableError, match="cannot reach Kafka") as exc:
            ConsumerManager({"bootstrap.servers": bootstrap}, [SourceTopic.from_earliest(topic_name)], startup_timeout_ms=2000)
        el = time.monotonic() - t0
        assert el < 5, f"creation failed only after {el:.1f}s"
        assert bootstrap in str(exc.value)
    finally:
        own_kafka.start()


def test_creation_right_after_a_broker_restart(own_kafka: LocalKafka, topic_name: str) -> None:
    """A broker that has just restarted answers offset lookups with
    UNKNOWN_LEADER_EPOCH for a moment: creation asks again rather than
    failing."""
    _ensure_running(own_kafka)
    tool = KafkaTool(own_kafka.bootstrap)
    tool.create_topic(topic_name, 4)
    tool.produce([Record(topic_name, value=b"v%d" % i, partition=i % 4, ts=1_700_000_000_000 + i) for i in range(400)])
    for _ in range(2):
        own_kafka.restart()
        t = read_topics({"bootstrap.servers": own_kafka.bootstrap}, [SourceTopic.from_earliest(topic_name)])
        assert t.num_rows == 400


def test_topic_deleted_mid_replay(own_kafka: LocalKafka, topic_name: str) -> None:
    """Deleting the topic mid-replay raises TopicNotFoundError naming it, and
    no poll hangs past its timeout."""
    _ensure_running(own_kafka)
    tool = KafkaTool(own_kafka.bootstrap)
    tool.create_topic(topic_name, 2)
    tool.gen(topic_name, partitions=2, count=200_000, ts_step=2)
    with ConsumerManager({"bootstrap.servers": own_kafka.bootstrap}, [SourceTopic.from_earliest(topic_name)],
                         batch_size=1000, **SMALL) as m:
        m.poll(1000)
        tool.delete_topic(topic_name)
        t0 = time.monotonic()
        with pytest.raises(TopicNotFoundError, match=topic_name) as exc:
            while time.monotonic() - t0 < 60:
                p0 = time.monotonic()
                m.poll(300)
                assert time.monotonic() - p0 < 0.6
                time.sleep(0.05)  # a slow consumer: the deletion lands mid-replay
        print(f"\ntopic deleted: raised after {time.monotonic() - t0:.1f}s: {exc.value}")
