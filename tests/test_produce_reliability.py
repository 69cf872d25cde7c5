"""Producing through a broker restart: the broker is stopped mid-produce
and started again; produce() returns once everything is acknowledged,
nothing is lost and, thanks to idempotence, nothing is written twice or
out of order.

This test stops and starts its own broker, so it does not share the
session broker.
"""

from __future__ import annotations

import threading
import time
from typing import Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import kafkars
from kafkars import SourceTopic
from devtools.broker import LocalKafka
from devtools.kafkatool import KafkaTool

pytestmark = [pytest.mark.broker, pytest.mark.slow]


@pytest.fixture(scope="module")
def own_kafka() -> Iterator[LocalKafka]:
    with LocalKafka() as k:
        yield k


def test_broker_restart_mid_produce(own_kafka: LocalKafka, topic_name: str) -> None:
    tool = KafkaTool(own_kafka.bootstrap)
    tool.create_topic(topic_name, 3)
    n, per_batch = 300_000, 5_000
    started = threading.Event()

    def batches() -> Iterator[pa.RecordBatch]:
        for b in range(n // per_batch):
            if b == 10:
                started.set()  # a sixth is handed over: the broker goes down now
            idx = pa.array(range(b * per_batch, (b + 1) * per_batch), pa.int64())
            yield pa.record_batch({
                "value": pc.cast(pc.utf8_rpad(pc.cast(idx, pa.string()), 100, "."), pa.binary()),
                "p": pc.cast(pc.subtract(idx, pc.multiply(pc.divide(idx, 3), 3)), pa.int32()),  # i % 3
            })

    schema = pa.schema([("value", pa.binary()), ("p", pa.int32())])
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["result"] = kafkars.produce({"bootstrap.servers": own_kafka.bootstrap}, topic_name,
                                            pa.RecordBatchReader.from_batches(schema, batches()), partition="p", progress=False)
        except BaseException as exc:  # noqa: BLE001 - reported below
            box["error"] = exc

    t = threading.Thread(target=run)
    t.start()
    assert started.wait(60), "the produce never started"
    own_kafka.stop()
    time.sleep(3)
    own_kafka.start()
    t.join(240)
    assert not t.is_alive(), "produce() did not return within 240 s of the restart"
    assert "error" not in box, box.get("error")
    res = box["result"]
    assert isinstance(res, kafkars.ProduceResult)
    assert res.records == n and res.failed == 0

    got = kafkars.read_topics({"bootstrap.servers": own_kafka.bootstrap}, [SourceTopic.from_earliest(topic_name)])
    ids = [int(v.rstrip(b".")) for v in got["value"].to_pylist()]
    assert len(ids) == n, f"{len(ids)} records in the topic, {n} produced"
    assert len(set(ids)) == n, f"{len(ids) - len(set(ids))} duplicates"
    for p in range(3):  # no reordering within a partition
        part = [i for i, q in zip(ids, got["partition"].to_pylist()) if q == p]
        assert part == sorted(part) and all(i % 3 == p for i in part)
    print(f"\nbroker restart mid-produce: {n} records acknowledged in {res.seconds:.1f}s, none lost or doubled")
