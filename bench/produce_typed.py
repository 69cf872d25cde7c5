"""Producing typed rows as Avro and Protobuf: N trade rows (a struct column
of 7 fields: strings, numbers, a timestamp, a nested struct, a list) into a
topic of 8 partitions with a schema registry, timed to the last
acknowledgement.

    .venv/bin/python -m bench.produce_typed [--records 200000] [--rounds 3] [-b HOST:PORT]

Contenders, in one process, in turn each round, each to a fresh topic,
with ``enable.idempotence=true, linger.ms=5``:

* ``kafkars avro``: ``kafkars.produce(..., value_format=Avro(registry=URL))``;
* ``kafkars avro schema``: ``Avro(schema=..., registry=URL)``, the same
  rows written with the hand-written schema the serializer uses;
* ``kafkars json``: ``kafkars.produce(...)`` (the struct column as JSON);
* ``confluent-python avro``: what users do today: the column's rows as
  Python dicts (``to_pylist()``), confluent-kafka-python's
  ``AvroSerializer`` (fastavro) and ``produce()`` per row. The time of
  ``to_pylist()`` alone is reported beside it.
* ``kafkars protobuf``: ``value_format=Protobuf(registry=URL,
  message=...)``, the message type registered beforehand (untimed) under
  the topic's subject, as a service's schema would be;
* ``confluent-python protobuf``: the rows as dicts, one message object
  built per row (a nested message, the datetime as Timestamp), confluent-kafka-python's
  ``ProtobufSerializer`` and ``produce()`` per row.

CPU is the process's (librdkafka's threads included). Without ``-b`` it
starts its own broker; the registry is always its own
(devtools.registry.LocalRegistry).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

import kafkars
from kafkars import Avro, Protobuf

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
# the same record as a Protobuf message type (built at run time, no protoc)
TRADE_PROTO = {"Venue": [("mic", "string"), ("lit", "bool")],
               "Trade": [("symbol", "string"), ("price", "double"), ("qty", "int64"), ("side", "string"),
                         ("ts", ".google.protobuf.Timestamp"), ("venue", ".bench.Venue"), ("tags", "repeated string")]}


def trade_classes() -> dict[str, Any]:
    from devtools.serde import message_classes, proto_file

    return message_classes(proto_file("bench/trade.proto", "bench", TRADE_PROTO, dependencies=["google/protobuf/timestamp.proto"]))


def _produce_all(p: Any, topic: str, datas: Any) -> None:
    for data in datas:
        while True:
            try:
                p.produce(topic, data)
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
    if p.flush(60) != 0:
        raise RuntimeError("confluent-python: records left unacknowledged")


def confluent_protobuf(bootstrap: str, registry: str, topic: str, table: pa.Table, classes: dict[str, Any]) -> None:
    """Message objects built per row, the serializer loop."""
    from confluent_kafka import Producer
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.protobuf import ProtobufSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    Trade, Venue = classes["bench.Trade"], classes["bench.Venue"]
    ser = ProtobufSerializer(Trade, SchemaRegistryClient({"url": registry}), {"use.deprecated.format": False})
    p = Producer({"bootstrap.servers": bootstrap, **PROPS})
    ctx = SerializationContext(topic, MessageField.VALUE)

    def messages() -> Any:
        for r in table.column("value").to_pylist():
            msg = Trade(symbol=r["symbol"], price=r["price"], qty=r["qty"], side=r["side"], ts=r["ts"],
                        venue=Venue(**r["venue"]), tags=r["tags"])
            yield ser(msg, ctx)

    _produce_all(p, topic, messages())


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
    _produce_all(p, topic, (ser(row, ctx) for row in rows))
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
            classes = trade_classes()
            names = ["kafkars avro", "kafkars avro schema", "kafkars json", "confluent-python avro", "kafkars protobuf",
                     "confluent-python protobuf"]
            for r in range(a.rounds):
                for name in names[r % len(names):] + names[:r % len(names)]:
                    topic = f"bench-typed-{name.replace(' ', '-')}-{r}-{int(time.time() * 1000)}"
                    tool.create_topic(topic, 8, {})
                    if name == "kafkars protobuf":  # the service's schema, registered beforehand
                        from devtools.serde import protobuf_serializer

                        protobuf_serializer(reg.url, classes["bench.Trade"], topic=topic)(classes["bench.Trade"]())
                    c0, t0 = time.process_time(), time.perf_counter()
                    if name == "kafkars avro":
                        res = kafkars.produce(cfg, topic, table, value_format=Avro(registry=reg.url))
                        assert res.records == a.records
                    elif name == "kafkars avro schema":
                        res = kafkars.produce(cfg, topic, table, value_format=Avro(schema=TRADE_AVRO, registry=reg.url))
                        assert res.records == a.records
                    elif name == "kafkars json":
                        res = kafkars.produce(cfg, topic, table)
                        assert res.records == a.records
                    elif name == "kafkars protobuf":
                        res = kafkars.produce(cfg, topic, table, value_format=Protobuf(registry=reg.url, message="bench.Trade"))
                        assert res.records == a.records
                    elif name == "confluent-python protobuf":
                        confluent_protobuf(a.bootstrap, reg.url, topic, table, classes)
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
    pbase = statistics.median(s for s, _ in runs["confluent-python protobuf"])
    print("| contender | seconds | rows/s | vs confluent-python, same format | CPU s per million |")
    print("|---|---:|---:|---:|---:|")
    for name in names:
        v = runs[name]
        s = statistics.median(x for x, _ in v)
        c = statistics.median(x for _, x in v)
        ref = pbase if "protobuf" in name else base
        print(f"| {name} | {s:.2f} | {a.records / s:,.0f} | {ref / s:.1f}x | {c / a.records * 1e6:.2f} |")
    print(f"\nconfluent-python avro: to_pylist() alone took {statistics.median(convs):.2f} s (median) of its time.")
    run_id = "produce-typed-" + time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out_dir = Path(__file__).resolve().parent / "results"
    if a.records < 200_000:
        out_dir = out_dir / "dev"  # development runs: not for the docs
    out_dir.mkdir(parents=True, exist_ok=True)
    res = {"id": run_id, "records": a.records, "rounds": a.rounds, "props": PROPS,
           "runs": {n: [{"seconds": s, "cpu_seconds": c} for s, c in v] for n, v in runs.items()},
           "to_pylist_seconds": convs, "command": f".venv/bin/python -m bench.produce_typed --records {a.records} --rounds {a.rounds}"}
    (out_dir / f"{run_id}.json").write_text(json.dumps(res, indent=1))
    print(f"results: {out_dir / (run_id + '.json')}")


if __name__ == "__main__":
    main()
