"""Producing typed rows as Avro: N trade rows (a struct column of 7 fields:
strings, numbers, a timestamp, a nested struct, a list) into a topic of 8
partitions with a schema registry, timed to the last acknowledgement.

    .venv/bin/python -m bench.produce_avro [--records 200000] [--rounds 3] [-b HOST:PORT]

Contenders, in one process, in turn each round, each to a fresh topic,
with ``enable.idempotence=true, linger.ms=5``:

* ``kafkars avro``: ``kafkars.produce(..., value_format=Avro(registry=URL))``;
* ``kafkars json``: ``kafkars.produce(...)`` (the struct column as JSON);
* ``confluent-python avro``: what users do today: the column's rows as
  Python dicts (``to_pylist()``), confluent-kafka-python's
  ``AvroSerializer`` (fastavro) and ``produce()`` per row. The time of
  ``to_pylist()`` alone is reported beside it.

CPU is the process's (librdkafka's threads included). Without ``-b`` it
starts its own broker; the registry is always its own
(devtools.registry.LocalRegistry).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

import pyarrow as pa

import kafkars
from kafkars import Avro

T0 = 1_764_000_000_000
TRADE = pa.struct([("symbol", pa.string()), ("price", pa.float64()), ("qty", pa.int64()), ("side", pa.string()),
                   ("ts", pa.timestamp("ms", tz="UTC")), ("venue", pa.struct([("mic", pa.string()), ("lit", pa.bool_())])),
                   ("tags", pa.list_(pa.string()))])
# the same record, written by hand for the serializer (kafkars derives it)
TRADE_AVRO = {"type": "record", "name": "Trade", "fields": [
    {"name": "symbol", "type": ["null", "string"]}, {"name": "price", "type": ["null", "double"]},
    {"name": "qty", "type": ["null", "long"]}, {"name": "side", "type": ["null", "string"]},
    {"name": "ts", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}]},
    {"name": "venue", "type": ["null", {"type": "record", "name": "Venue", "fields": [
        {"name": "mic", "type": ["null", "string"]}, {"name": "lit", "type": ["null", "boolean"]}]}]},
    {"name": "tags", "type": ["null", {"type": "array", "items": ["null", "string"]}]}]}
PROPS = {"enable.idempotence": "true", "linger.ms": "5"}


def trades(n: int) -> pa.Table:
    rows = [{"symbol": f"S{i % 17:03d}", "price": 100 + (i % 997) / 8, "qty": i % 500, "side": "buy" if i % 3 else "sell",
             "ts": T0 + i, "venue": {"mic": "XNAS" if i % 2 else "XLON", "lit": i % 5 != 0},
             "tags": [f"t{j}" for j in range(i % 3)]} for i in range(n)]
    return pa.table({"value": pa.array(rows, TRADE)})


def confluent_avro(bootstrap: str, registry: str, topic: str, table: pa.Table) -> float:
    """The serializer loop; returns the seconds to_pylist() took."""
    from confluent_kafka import Producer
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    ser = AvroSerializer(SchemaRegistryClient({"url": registry}), json.dumps(TRADE_AVRO))
    p = Producer({"bootstrap.servers": bootstrap, **PROPS})
    ctx = SerializationContext(topic, MessageField.VALUE)
    t0 = time.perf_counter()
    rows = table.column("value").to_pylist()
    conv = time.perf_counter() - t0
    for row in rows:
        data = ser(row, ctx)
        while True:
            try:
                p.produce(topic, data)
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
    if p.flush(60) != 0:
        raise RuntimeError("confluent-python: records left unacknowledged")
    return conv


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("-b", "--bootstrap", default=None)
    a = ap.parse_args()

    from devtools.broker import LocalKafka
    from devtools.kafkatool import KafkaTool
    from devtools.registry import LocalRegistry

    broker = None
    if a.bootstrap is None:
        broker = LocalKafka()
        broker.start()
        a.bootstrap = broker.bootstrap
    table = trades(a.records)
    tool = KafkaTool(a.bootstrap)
    cfg = {"bootstrap.servers": a.bootstrap, **PROPS}
    runs: dict[str, list[tuple[float, float]]] = {}
    convs: list[float] = []
    try:
        with LocalRegistry() as reg:
            names = ["kafkars avro", "kafkars json", "confluent-python avro"]
            for r in range(a.rounds):
                for name in names[r % 3:] + names[:r % 3]:
                    topic = f"bench-avro-{name.replace(' ', '-')}-{r}-{int(time.time() * 1000)}"
                    tool.create_topic(topic, 8, {})
                    c0, t0 = time.process_time(), time.perf_counter()
                    if name == "kafkars avro":
                        res = kafkars.produce(cfg, topic, table, value_format=Avro(registry=reg.url))
                        assert res.records == a.records
                    elif name == "kafkars json":
                        res = kafkars.produce(cfg, topic, table)
                        assert res.records == a.records
                    else:
                        convs.append(confluent_avro(a.bootstrap, reg.url, topic, table))
                    s, c = time.perf_counter() - t0, time.process_time() - c0
                    runs.setdefault(name, []).append((s, c))
                    print(f"round {r} {name:<22} {s:6.2f} s {a.records / s:>12,.0f} rows/s  CPU {c / a.records * 1e6:6.2f} s per million",
                          flush=True)
    finally:
        if broker is not None:
            broker.stop()
    base = statistics.median(s for s, _ in runs["confluent-python avro"])
    print(f"\n{a.records:,} trade rows, median of {a.rounds} rounds\n")
    print("| contender | seconds | rows/s | vs confluent-python avro | CPU s per million |")
    print("|---|---:|---:|---:|---:|")
    for name, v in runs.items():
        s = statistics.median(x for x, _ in v)
        c = statistics.median(x for _, x in v)
        print(f"| {name} | {s:.2f} | {a.records / s:,.0f} | {base / s:.1f}x | {c / a.records * 1e6:.2f} |")
    print(f"\nconfluent-python avro: to_pylist() alone took {statistics.median(convs):.2f} s (median) of its time.")


if __name__ == "__main__":
    main()
