"""Bounded replays: iteration, read_all/read_topics, until, and the
Arrow C stream read by DuckDB and polars."""

from __future__ import annotations

import datetime as dt
import time

import pyarrow as pa
import pytest

import kafkars
from kafkars import ConsumerManager, SourceTopic
from devtools.kafkatool import KafkaTool, Record

pytestmark = pytest.mark.broker

BASE = int(time.time() * 1000) - 86_400_000


@pytest.fixture
def filled(tool: KafkaTool, topic_name: str) -> tuple[str, list[Record]]:
    """3 partitions, 3000 records, timestamps BASE + i*10 ms."""
    tool.create_topic(topic_name, 3)
    recs = [Record(topic_name, key=f"k{i}".encode(), value=f"v{i}".encode(), partition=i % 3, ts=BASE + i * 10) for i in range(3000)]
    tool.produce(recs)
    return topic_name, recs


def _ts(t: pa.Table | pa.RecordBatch) -> list[int]:
    return [int(x.timestamp() * 1000) for x in t.column("timestamp").to_pylist()]


def test_iterate_until_live(config: dict[str, str], filled: tuple[str, list[Record]]) -> None:
    name, recs = filled
    with ConsumerManager(config, [SourceTopic.from_earliest(name)], batch_size=256) as m:
        n = 0
        for batch in m:
            assert batch.num_rows > 0
            n += batch.num_rows
        assert n == len(recs)
        assert m.is_live()


def test_read_all_and_read_topics(config: dict[str, str], filled: tuple[str, list[Record]]) -> None:
    name, recs = filled
    t = kafkars.read_topics(config, [SourceTopic.from_earliest(name)])
    assert isinstance(t, pa.Table) and t.num_rows == len(recs)
    assert _ts(t) == sorted(_ts(t))
    with ConsumerManager(config, [SourceTopic.from_earliest(name)]) as m:
        assert m.read_all(progress=True).num_rows == len(recs)


def test_until_time_cuts_and_keeps_the_rest(config: dict[str, str], filled: tuple[str, list[Record]]) -> None:
    """until=T returns exactly the records before T; the record at T and
    after are not lost: a later poll returns them."""
    name, recs = filled
    T = BASE + 1000 * 10  # record 1000
    with ConsumerManager(config, [SourceTopic.from_earliest(name)], batch_size=333) as m:
        first = m.read_all(until=dt.datetime.fromtimestamp(T / 1000, dt.timezone.utc))
        assert _ts(first) == [BASE + i * 10 for i in range(1000)]
        rest = m.read_all(until="live")
        assert rest.num_rows == 2000
        assert _ts(rest)[0] == T
    # a time before everything: nothing, and quickly
    with ConsumerManager(config, [SourceTopic.from_earliest(name)]) as m:
        t0 = time.monotonic()
        assert m.read_all(until=BASE - 1).num_rows == 0
        assert time.monotonic() - t0 < 10


def test_to_reader_duckdb_and_polars(config: dict[str, str], filled: tuple[str, list[Record]]) -> None:
    duckdb = pytest.importorskip("duckdb")
    pl = pytest.importorskip("polars")
    name, recs = filled
    with ConsumerManager(config, [SourceTopic.from_earliest(name)]) as m:
        reader = m.to_reader()
        assert isinstance(reader, pa.RecordBatchReader)
        assert reader.schema == kafkars.MESSAGE_SCHEMA
        con = duckdb.connect()
        n, lo, hi = con.execute('SELECT count(*), min("offset"), max("partition") FROM reader').fetchone()
        assert (n, lo, hi) == (len(recs), 0, 2)
    with ConsumerManager(config, [SourceTopic.from_earliest(name)]) as m:
        df = pl.from_arrow(m.to_reader())
        assert df.height == len(recs)
        assert df["timestamp"].is_sorted()
    with ConsumerManager(config, [SourceTopic.from_earliest(name)]) as m:
        T = BASE + 500 * 10
        t = m.to_reader(until=T).read_all()
        assert t.num_rows == 500 and max(_ts(t)) < T


def test_to_reader_after_close_fails_cleanly(config: dict[str, str], filled: tuple[str, list[Record]]) -> None:
    name, _ = filled
    m = ConsumerManager(config, [SourceTopic.from_earliest(name)])
    reader = m.to_reader()
    m.close()
    with pytest.raises(Exception, match="closed"):
        reader.read_all()


def test_repr_html(config: dict[str, str], filled: tuple[str, list[Record]]) -> None:
    name, _ = filled
    with ConsumerManager(config, [SourceTopic.from_earliest(name)]) as m:
        m.read_all()
        h = m._repr_html_()
        assert "<table>" in h and name in h and "live" in h


def test_live_tail_linger_zero(config: dict[str, str], tool: KafkaTool, topic_name: str) -> None:
    """Live with linger_ms=0 a waiting poll fetches for itself: records
    produced while polling all arrive, once each, in offset order per
    partition, and the poll-side fetch path was taken."""
    import threading

    tool.create_topic(topic_name, 4)
    with ConsumerManager(config, [SourceTopic.from_latest(topic_name)], linger_ms=0) as m:
        assert m.is_live()
        now = int(time.time() * 1000)
        recs = [Record(topic_name, key=f"k{i}".encode(), value=f"v{i}".encode(), partition=i % 4, ts=now + i) for i in range(2000)]
        producer = threading.Thread(target=tool.produce, args=(recs,))
        producer.start()
        got: list[tuple[int, int, bytes]] = []

        def take(b: pa.RecordBatch) -> None:
            got.extend(zip(b.column("partition").to_pylist(), b.column("offset").to_pylist(), b.column("value").to_pylist()))

        deadline = time.monotonic() + 60
        while len(got) < len(recs) and time.monotonic() < deadline:
            take(m.poll(timeout_ms=100))
        producer.join()
        time.sleep(0.3)
        take(m.poll(timeout_ms=200))  # nothing more may arrive: a duplicate would show below
        assert sorted(v for _, _, v in got) == sorted(r.value for r in recs)  # every record, once
        for p in range(4):
            offs = [o for q, o, _ in got if q == p]
            assert offs == sorted(offs) and len(offs) == len(set(offs))
        assert m.metrics()["fetch_calls_by_poll"] > 0
