"""Payload shapes and scale on a real broker: 5 MiB records,
empty and null keys/values, many headers, every compression codec, and
20 topics x 10 partitions in one manager."""

from __future__ import annotations

import hashlib
import os
import random
import time

import pyarrow as pa
import pytest

import kafkars
from kafkars import ConsumerManager, SourceTopic
from devtools.kafkatool import KafkaTool, Record
from tests.helpers import check_exactly_once, check_order

pytestmark = pytest.mark.broker

BASE = int(time.time() * 1000) - 86_400_000


def read(config: dict[str, str], topics: list[SourceTopic], **kw: object) -> pa.Table:
    with ConsumerManager(config, topics, **kw) as m:  # type: ignore[arg-type]
        t = m.read_all()
        assert m.is_live()
        return t


def test_five_mib_records(tool: KafkaTool, config: dict[str, str], topic_name: str) -> None:
    tool.create_topic(topic_name, 2, {"max.message.bytes": str(16 << 20)})
    rng = random.Random(5)
    recs = [Record(topic_name, key=f"big{i}".encode(), value=rng.randbytes(5 << 20), partition=i % 2, ts=BASE + i) for i in range(8)]
    recs.append(Record(topic_name, key=b"small", value=b"", partition=0, ts=BASE + 100))
    tool.produce(recs)
    t = read(config, [SourceTopic.from_earliest(topic_name)], max_buffered_bytes=16 << 20)
    got = {r["key"]: hashlib.sha256(r["value"]).hexdigest() for r in t.select(["key", "value"]).to_pylist()}
    want = {r.key: hashlib.sha256(r.value or b"").hexdigest() for r in recs}
    assert got == want
    check_order(t, {topic_name: 0})


def test_headers(tool: KafkaTool, config: dict[str, str], topic_name: str) -> None:
    tool.create_topic(topic_name, 3)
    many = tuple((f"h{j}", None if j % 7 == 0 else (b"" if j % 5 == 0 else os.urandom(j))) for j in range(50))
    recs = [
        Record(topic_name, key=b"none", value=b"0", partition=0, ts=BASE + 1),
        Record(topic_name, key=b"one", value=b"1", partition=1, ts=BASE + 2, headers=(("trace-id", b"abc"),)),
        Record(topic_name, key=b"many", value=b"2", partition=2, ts=BASE + 3, headers=many),
        Record(topic_name, key=b"dup", value=b"3", partition=0, ts=BASE + 4, headers=(("k", b"1"), ("k", b"2"), ("ünïcode", None))),
    ]
    tool.produce(recs)
    t = read(config, [SourceTopic.from_earliest(topic_name)], include_headers=True)
    assert t.schema == kafkars.MESSAGE_SCHEMA_WITH_HEADERS
    got = {r["key"]: [(h["key"], h["value"]) for h in r["headers"]] for r in t.to_pylist()}
    assert got == {r.key: list(r.headers) for r in recs}
    # without include_headers there is no headers column
    assert read(config, [SourceTopic.from_earliest(topic_name)]).schema == kafkars.MESSAGE_SCHEMA


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
def test_compression_codecs(tool: KafkaTool, config: dict[str, str], topic_name: str, codec: str) -> None:
    tool.create_topic(topic_name, 2)
    rng = random.Random(codec)
    recs = [
        Record(topic_name, key=None if i % 9 == 0 else f"k{i}".encode(),
               value=None if i % 11 == 0 else (b"x" * rng.randint(0, 300)), partition=i % 2, ts=BASE + i)
        for i in range(5000)
    ]
    tool.produce(recs, config={"compression.type": codec})
    t = read(config, [SourceTopic.from_earliest(topic_name)])
    check_exactly_once(t, recs)
    check_order(t, {topic_name: 0})


def test_20_topics_x_10_partitions(tool: KafkaTool, config: dict[str, str], topic_name: str) -> None:
    names = [f"{topic_name}-{i:02d}" for i in range(20)]
    rng = random.Random(20)
    recs = []
    for name in names:
        tool.create_topic(name, 10)
        for p in range(10):
            ts = sorted(BASE + rng.randint(0, 60_000) for _ in range(50))
            recs.extend(Record(name, key=b"k", value=f"{name}/{p}/{j}".encode(), partition=p, ts=t) for j, t in enumerate(ts))
    tool.produce(recs)
    t0 = time.monotonic()
    with ConsumerManager(config, [SourceTopic.from_earliest(n) for n in names], batch_size=2000) as m:
        assert m.metrics()["partitions"] == 200
        t = m.read_all()
    check_exactly_once(t, recs)
    check_order(t, {n: i for i, n in enumerate(names)})
    print(f"\n200 partitions: {t.num_rows} records in {time.monotonic() - t0:.2f}s")
