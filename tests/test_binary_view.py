"""binary_view=True on a real broker: key and value as binary_view columns
pointing into the engine's buffers hold exactly what the binary columns
hold, in the same order; batches outlive their manager; releasing them
frees the memory; pandas, polars and DuckDB read them."""

from __future__ import annotations

import gc
import random
import time

import pyarrow as pa
import pytest

import kafkars
from kafkars import ConfigError, ConsumerManager, SourceTopic
from devtools.kafkatool import KafkaTool, Record

pytestmark = pytest.mark.broker

BASE = int(time.time() * 1000) - 86_400_000


def _records(topic: str, n: int, partitions: int, seed: int) -> list[Record]:
    rng = random.Random(seed)
    sizes = [0, 1, 12, 13, 100, 1024, 5000, 300_000]  # inline up to 12 bytes, then out of line
    recs = []
    for i in range(n):
        size = rng.choice(sizes) if i % 50 else 300_000
        value = None if i % 17 == 0 else rng.randbytes(size)
        key = None if i % 13 == 0 else f"key-{i:06d}-{'x' * (i % 20)}".encode()
        recs.append(Record(topic, key=key, value=value, partition=i % partitions, ts=BASE + rng.randrange(2000)))
    return recs


def _read(config: dict[str, str], topic: str, **kw: object) -> list[pa.RecordBatch]:
    with ConsumerManager(config, [SourceTopic.from_earliest(topic)], 500, **kw) as m:  # type: ignore[arg-type]
        out = []
        while not m.is_live():
            b = m.poll(timeout_ms=5000)
            if b.num_rows:
                out.append(b)
        return out


def test_views_hold_the_same_rows(tool: KafkaTool, config: dict[str, str], topic_name: str) -> None:
    tool.create_topic(topic_name, 4, {"max.message.bytes": str(1 << 20)})
    recs = _records(topic_name, 3000, 4, seed=1)
    tool.produce(recs)
    plain = pa.Table.from_batches(_read(config, topic_name))
    views = _read(config, topic_name, binary_view=True, max_buffered_bytes=4 << 20)
    t = pa.Table.from_batches(views)
    assert t.schema.field("key").type == pa.binary_view()
    assert t.schema.field("value").type == pa.binary_view()
    assert t.num_rows == len(recs) == plain.num_rows
    # the same rows in the same order; views cast to binary compare equal
    for col in ("topic", "partition", "offset", "timestamp"):
        assert t.column(col).equals(plain.column(col)), col
    for col in ("key", "value"):
        assert t.column(col).cast(pa.binary()).equals(plain.column(col)), col
    at = _offsets(recs)
    for p, off, k, v in zip(t["partition"].to_pylist(), t["offset"].to_pylist(), t["key"].to_pylist(), t["value"].to_pylist()):
        assert (k, v) == (at[(p, off)].key, at[(p, off)].value)


def _offsets(recs: list[Record]) -> dict[tuple[int, int], Record]:
    """(partition, offset) of each record, produced in order per partition."""
    nxt: dict[int, int] = {}
    out = {}
    for r in recs:
        o = nxt.get(r.partition, 0)
        nxt[r.partition] = o + 1
        out[(r.partition, o)] = r
    return out


def test_views_outlive_the_manager_and_free_on_release(tool: KafkaTool, config: dict[str, str], topic_name: str) -> None:
    tool.create_topic(topic_name, 3)
    rng = random.Random(2)
    recs = [Record(topic_name, key=f"k{i}".encode(), value=rng.randbytes(1024), partition=i % 3, ts=BASE + i) for i in range(6000)]
    tool.produce(recs)
    gc.collect()
    before = kafkars._debug_counters()["arrow_live_bytes"]
    batches = _read(config, topic_name, binary_view=True)  # the manager is closed on return
    held = kafkars._debug_counters()["arrow_live_bytes"] - before
    # the batches own the queue memory their values are in: at least the values
    assert held >= 6000 * 1024, held
    t = pa.Table.from_batches(batches)
    got = dict(zip(t["key"].to_pylist(), t["value"].to_pylist()))
    assert got == {r.key: r.value for r in recs}
    del t, batches, got
    gc.collect()
    assert kafkars._debug_counters()["arrow_live_bytes"] == before


def test_views_in_dataframes(tool: KafkaTool, config: dict[str, str], topic_name: str) -> None:
    tool.create_topic(topic_name, 2)
    recs = [Record(topic_name, key=f"sym-{i % 5}".encode(), value=(b"v" * (i % 40)) if i % 7 else None,
                   partition=i % 2, ts=BASE + i) for i in range(400)]
    tool.produce(recs)
    t = pa.Table.from_batches(_read(config, topic_name, binary_view=True))
    def rows(pairs: object) -> list[tuple[bytes, bytes | None]]:
        return sorted(pairs, key=lambda kv: (kv[0], kv[1] is None, kv[1] or b""))  # type: ignore[call-overload]

    want = rows((r.key, r.value) for r in recs)
    df = t.to_pandas()
    assert rows(zip(df["key"], df["value"])) == want
    pl = pytest.importorskip("polars")
    pdf = pl.from_arrow(t)
    assert isinstance(pdf, pl.DataFrame)
    assert rows(zip(pdf["key"].to_list(), pdf["value"].to_list())) == want
    duckdb = pytest.importorskip("duckdb")
    n, total = duckdb.sql("select count(*), sum(octet_length(value)) from t").fetchone()  # type: ignore[misc]
    assert (n, total) == (len(recs), sum(len(r.value) for r in recs if r.value is not None))


def test_binary_view_must_be_a_bool() -> None:
    with pytest.raises(ConfigError, match="binary_view must be True or False, got 'yes'"):
        ConsumerManager({"bootstrap.servers": "127.0.0.1:1"}, [SourceTopic.from_earliest("t")], binary_view="yes")  # type: ignore[arg-type]
