"""Typed values on a real broker and a real schema registry: JSON, Avro and
Protobuf keys and values decoded by the Go core into typed columns, in one
ordered stream, with the malformed-record policies.

Records are produced the way real producers produce them:
confluent-kafka-python's serializers registering their schemas with the
registry's Confluent-compatible API (devtools/serde.py).
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import random
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import kafkars
from devtools.kafkatool import KafkaTool, Record
from devtools.registry import LocalRegistry
from devtools.serde import avro_serializer, frame, message_classes, proto_file, protobuf_serializer, register
from kafkars import Avro, DecodeError, Json, Protobuf, SourceTopic
from tests.helpers import check_order

pytestmark = pytest.mark.broker

T0 = 1_764_000_000_000  # a fixed epoch ms: records are far in the past, retention is off

TRADE = pa.schema(
    [
        ("symbol", pa.string()),
        ("price", pa.float64()),
        ("qty", pa.int64()),
        ("side", pa.string()),
        ("ts", pa.timestamp("ms", tz="UTC")),
        ("venue", pa.struct([("mic", pa.string()), ("lit", pa.bool_())])),
        ("tags", pa.list_(pa.string())),
        ("notional", pa.decimal128(18, 2)),
    ]
)


def trade(i: int) -> dict[str, Any]:
    return {
        "symbol": f"S{i % 17:03d}",
        "price": round(100 + (i % 997) / 8, 3),
        "qty": i % 500,
        "side": "buy" if i % 3 else "sell",
        "ts": T0 + i,
        "venue": {"mic": "XNAS" if i % 2 else "XLON", "lit": i % 5 != 0},
        "tags": [f"t{j}" for j in range(i % 3)],
        "notional": f"{(i % 1000) * 12.25:.2f}",
    }


def expected_row(t: dict[str, Any]) -> dict[str, Any]:
    e = dict(t)
    e["ts"] = dt.datetime.fromtimestamp(t["ts"] / 1000, dt.timezone.utc)
    e["notional"] = decimal.Decimal(t["notional"])
    return e


def new_topic(tool: KafkaTool, name: str, partitions: int) -> str:
    tool.create_topic(name, partitions=partitions, config={"retention.ms": "-1"})
    return name


def test_json_with_a_schema(config: dict[str, str], tool: KafkaTool, topic_name: str) -> None:
    topic = new_topic(tool, topic_name, 4)
    trades = [trade(i) for i in range(3000)]
    tool.produce(
        Record(topic, json.dumps(t).encode(), key=t["symbol"].encode(), partition=i % 4, ts=T0 + (i * 7919) % 3000)
        for i, t in enumerate(trades)
    )
    table = kafkars.read_topics(config, [SourceTopic.from_earliest(topic, value=Json(schema=TRADE))])
    assert table.num_rows == len(trades)
    assert table.schema.field(topic).type == pa.struct(list(TRADE))
    check_order(table, {topic: 0})
    # the typed column holds what the raw bytes say, row by row
    decoded = table.column(topic).to_pylist()
    for raw, row in zip(table.column("value").to_pylist(), decoded):
        assert row == expected_row(json.loads(raw))
    # and it needs no Python per row to analyse
    flat = table.select([topic]).flatten()
    by_symbol = flat.group_by(f"{topic}.symbol").aggregate([(f"{topic}.qty", "sum")])
    assert by_symbol.num_rows == 17
    assert sum(by_symbol.column(f"{topic}.qty_sum").to_pylist()) == sum(t["qty"] for t in trades)


def test_json_inferred_schema(config: dict[str, str], tool: KafkaTool, topic_name: str) -> None:
    topic = new_topic(tool, topic_name, 2)
    rows = [{"id": i, "name": f"n{i}", "score": i / 4, "nested": {"a": i % 2 == 0}} for i in range(500)]
    tool.produce(Record(topic, json.dumps(r).encode(), partition=i % 2, ts=T0 + i) for i, r in enumerate(rows))
    with kafkars.ConsumerManager(config, [SourceTopic.from_earliest(topic, value=Json(sample=100))]) as m:
        t = m.schema.field(topic).type
        assert t == pa.struct([("id", pa.int64()), ("name", pa.string()), ("score", pa.float64()),
                               ("nested", pa.struct([("a", pa.bool_())]))])
        table = m.read_all()
    assert sorted(table.column(topic).to_pylist(), key=lambda r: r["id"]) == rows


AVRO_V1 = json.dumps({
    "type": "record", "name": "Trade", "namespace": "kafkars.test",
    "fields": [{"name": "symbol", "type": "string"}, {"name": "price", "type": "double"},
               {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}}],
})
AVRO_V2 = json.dumps({
    "type": "record", "name": "Trade", "namespace": "kafkars.test",
    "fields": [{"name": "symbol", "type": "string"}, {"name": "price", "type": "double"},
               {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
               {"name": "qty", "type": "long", "default": -1},
               {"name": "venue", "type": ["null", "string"], "default": None}],
})


def test_avro_registry_with_evolution(config: dict[str, str], tool: KafkaTool, registry: LocalRegistry, topic_name: str) -> None:
    topic = new_topic(tool, topic_name, 3)
    v1 = avro_serializer(registry.url, AVRO_V1, topic=topic)
    v2 = avro_serializer(registry.url, AVRO_V2, topic=topic)
    recs = []
    for i in range(2000):
        base = {"symbol": f"S{i % 11}", "price": i / 2, "ts": T0 + i}
        if i < 1000:
            recs.append((v1(base), {**base, "qty": -1, "venue": None}))
        else:
            full = {**base, "qty": i, "venue": None if i % 4 else "XNAS"}
            recs.append((v2(full), full))
    assert v1.schema_id != v2.schema_id
    tool.produce(Record(topic, raw, partition=i % 3, ts=T0 + i) for i, (raw, _) in enumerate(recs))
    # the reader schema is the latest version: old records take its defaults
    table = kafkars.read_topics(config, [SourceTopic.from_earliest(topic, value=Avro(registry=registry.url))])
    assert table.num_rows == len(recs)
    by_raw = {raw: exp for raw, exp in recs}
    for raw, row in zip(table.column("value").to_pylist(), table.column(topic).to_pylist()):
        exp = dict(by_raw[raw])
        exp["ts"] = dt.datetime.fromtimestamp(exp["ts"] / 1000, dt.timezone.utc)
        assert row == exp
    check_order(table, {topic: 0})


def test_protobuf_registry(config: dict[str, str], tool: KafkaTool, registry: LocalRegistry, topic_name: str) -> None:
    topic = new_topic(tool, topic_name, 2)
    pkg = "p" + topic_name.replace("-", "")[-12:]
    f = proto_file(f"{pkg}.proto", pkg, {"Fill": [("id", "string"), ("qty", "int64"), ("legs", "repeated .%s.Leg" % pkg)],
                                          "Leg": [("venue", "string"), ("px", "double")]})
    classes = message_classes(f)
    enc = protobuf_serializer(registry.url, classes[f"{pkg}.Fill"], topic=topic)
    fills = [{"id": f"f{i}", "qty": str(i), "legs": [{"venue": "X", "px": i / 2}] * (i % 3)} for i in range(400)]
    tool.produce(Record(topic, enc(fl), partition=i % 2, ts=T0 + i) for i, fl in enumerate(fills))
    table = kafkars.read_topics(config, [SourceTopic.from_earliest(topic, value=Protobuf(registry=registry.url))])
    got = sorted(table.column(topic).to_pylist(), key=lambda r: int(r["id"][1:]))
    assert got == [{"id": fl["id"], "qty": int(fl["qty"]), "legs": fl["legs"]} for fl in fills]


def test_malformed_records_follow_the_policy(config: dict[str, str], tool: KafkaTool, registry: LocalRegistry, topic_name: str) -> None:
    """Truncated, wrong magic byte, unknown schema id, wrong type, invalid
    UTF-8: in the middle of a replay, with raise, null and skip."""
    topic = new_topic(tool, topic_name, 1)
    schema = json.dumps({"type": "record", "name": "R", "fields": [{"name": "n", "type": "long"}, {"name": "s", "type": "string"}]})
    enc = avro_serializer(registry.url, schema, topic=topic)
    good = [enc({"n": i, "s": f"v{i}"}) for i in range(100)]
    sid = enc.schema_id
    other = register(registry.url, f"{topic}-other", json.dumps({"type": "record", "name": "O", "fields": [{"name": "x", "type": "boolean"}]}))
    bad = {
        20: good[20][:-3],                                        # truncated
        35: b"\x01" + good[35][1:],                               # wrong magic byte
        50: frame(987_654, good[50][5:]),                          # unknown schema id
        65: frame(other, b"\x01"),                                 # written with an incompatible schema
        80: frame(sid, b"\x02" + b"\x04" + b"\xff\xfe"),           # invalid UTF-8 in the string
    }
    values = [bad.get(i, g) for i, g in enumerate(good)]
    tool.produce(Record(topic, v, ts=T0 + i) for i, v in enumerate(values))

    def read(on_error: str) -> tuple[pa.Table, dict[str, Any], Exception | None]:
        fmt = Avro(registry=registry.url, on_error=on_error)
        rows: list[pa.RecordBatch] = []
        with kafkars.ConsumerManager(config, [SourceTopic.from_earliest(topic, value=fmt)], batch_size=7) as m:
            try:
                for b in m.iter_batches():
                    rows.append(b)
                err = None
            except DecodeError as exc:
                err = exc
            met = m.metrics() if err is None else {}
            return pa.Table.from_batches(rows, schema=m.schema), met, err

    table, _, err = read("raise")
    assert err is not None and f"{topic} [0] at offset 20" in str(err) and "on_error" in str(err)
    assert table.column("offset").to_pylist() == list(range(20)), "rows before the bad record are not lost"

    table, met, err = read("null")
    assert err is None and table.num_rows == 100 and met["malformed_records"] == 5
    errors = table.column("decode_error").to_pylist()
    typed = table.column(topic).to_pylist()
    for i in range(100):
        if i in bad:
            assert typed[i] is None and errors[i], f"offset {i}: {typed[i]} {errors[i]}"
        else:
            assert typed[i] == {"n": i, "s": f"v{i}"} and errors[i] is None
    assert "magic byte" in errors[35] and "987654" in errors[50] and "UTF-8" in errors[80]

    table, met, err = read("skip")
    assert err is None and met["malformed_records"] == 5
    assert table.column("offset").to_pylist() == [i for i in range(100) if i not in bad]


def test_one_stream_of_several_formats(config: dict[str, str], tool: KafkaTool, registry: LocalRegistry, topic_name: str,
                                       tmp_path: Path) -> None:
    """A JSON topic and an Avro topic replay as one time-ordered stream; each
    topic's fields are typed columns, null on the other topic's rows, and
    one vectorised expression selects them."""
    import duckdb
    import polars as pl

    orders = new_topic(tool, topic_name + "-orders", 2)
    fills = new_topic(tool, topic_name + "-fills", 2)
    enc = avro_serializer(registry.url, AVRO_V2, topic=fills)
    tool.produce(Record(orders, json.dumps({"order_id": i, "symbol": f"S{i % 5}"}).encode(), partition=i % 2, ts=T0 + 2 * i)
                 for i in range(300))
    tool.produce(Record(fills, enc({"symbol": f"S{i % 5}", "price": 1.5, "ts": T0 + 2 * i + 1, "qty": i, "venue": None}),
                        partition=i % 2, ts=T0 + 2 * i + 1) for i in range(300))
    order_schema = pa.schema([("order_id", pa.int64()), ("symbol", pa.string())])
    table = kafkars.read_topics(config, [
        SourceTopic.from_earliest(orders, value=Json(schema=order_schema), ),
        SourceTopic.from_earliest(fills, value=Avro(registry=registry.url, keep_raw=False)),
    ])
    assert table.num_rows == 600
    check_order(table, {orders: 0, fills: 1})
    assert table.column("topic").to_pylist() == [orders, fills] * 300
    # raw bytes kept for the JSON topic only
    assert table.filter(pa.compute.equal(table["topic"], fills)).column("value").null_count == 300
    df = pl.from_arrow(table)
    qty = df.filter(pl.col("topic") == fills).select(pl.col(fills).struct.field("qty")).to_series()
    assert qty.sum() == sum(range(300))
    # required Avro fields are null on the JSON topic's rows: the batch schema
    # says nullable, so Parquet takes the table as it is
    pq.write_table(table, tmp_path / "mixed.parquet")
    assert pq.read_table(tmp_path / "mixed.parquet").equals(table)
    tbl = table  # noqa: F841 - scanned by DuckDB by name
    got = duckdb.sql(f'select count(*), sum("{orders}".order_id) from tbl where topic = \'{orders}\'').fetchone()
    assert got == (300, sum(range(300)))


def test_typed_keys(config: dict[str, str], tool: KafkaTool, topic_name: str) -> None:
    topic = new_topic(tool, topic_name, 2)
    key_schema = pa.schema([("account", pa.int32()), ("region", pa.string())])
    tool.produce(Record(topic, b"v", key=json.dumps({"account": i, "region": "eu"}).encode(), partition=i % 2, ts=T0 + i)
                 for i in range(200))
    tool.produce([Record(topic, b"tombstone-key", key=None, partition=0, ts=T0 + 500)])
    table = kafkars.read_topics(config, [SourceTopic.from_earliest(topic, key=Json(schema=key_schema))])
    keys = table.column(f"{topic}_key").to_pylist()
    assert sorted((k for k in keys[:200]), key=lambda k: k["account"]) == [{"account": i, "region": "eu"} for i in range(200)]
    assert keys[-1] is None  # a null key decodes to null


def test_cli_replays_avro_to_parquet(kafka, tool: KafkaTool, registry: LocalRegistry, topic_name: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    topic = new_topic(tool, topic_name, 2)
    enc = avro_serializer(registry.url, AVRO_V1, topic=topic)
    tool.produce(Record(topic, enc({"symbol": "S", "price": i / 4, "ts": T0 + i}), partition=i % 2, ts=T0 + i) for i in range(250))
    out = tmp_path / "typed.parquet"
    r = subprocess.run(
        [sys.executable, "-m", "kafkars", "replay", "-b", kafka.bootstrap, "-t", topic, "--value-format", "avro",
         "--registry", registry.url, "-o", str(out), "-q"],
        capture_output=True, text=True, timeout=120,
    )
    assert r.returncode == 0, r.stderr
    t = pq.read_table(out)
    assert t.num_rows == 250
    assert t.schema.field(topic).type == pa.struct([("symbol", pa.string()), ("price", pa.float64()),
                                                     ("ts", pa.timestamp("ms", tz="UTC"))])
    assert sorted(t.column(topic).combine_chunks().field("price").to_pylist()) == [i / 4 for i in range(250)]


@pytest.mark.parametrize("then", ["poll", "reader"])
def test_typed_rows_cut_at_a_time_bound(config: dict[str, str], tool: KafkaTool, topic_name: str, then: str) -> None:
    # A time bound inside a batch hands out the rows before it and keeps the
    # rest (a zero-copy slice) for the next read, by poll or by an Arrow
    # stream: the nested columns of that slice must hold the rows' own
    # values, not values shifted by the cut.
    topic = new_topic(tool, topic_name, 1)
    trades = [trade(i) for i in range(400)]
    tool.produce(Record(topic, json.dumps(t).encode(), partition=0, ts=T0 + i) for i, t in enumerate(trades))
    with kafkars.ConsumerManager(config, [SourceTopic.from_earliest(topic, value=Json(schema=TRADE))]) as m:
        head = list(m.iter_batches(until=T0 + 150))
        rest = list(m.iter_batches("live")) if then == "poll" else m.to_reader("live").read_all().to_batches()
    assert sum(b.num_rows for b in head) == 150
    table = pa.Table.from_batches(head + rest)
    assert table.num_rows == len(trades)
    for raw, row in zip(table.column("value").to_pylist(), table.column(topic).to_pylist()):
        assert row == expected_row(json.loads(raw))


def test_produce_avro_round_trip(config: dict[str, str], tool: KafkaTool, registry: LocalRegistry, topic_name: str) -> None:
    # Producing with value_format=Avro(registry=...): the writer schema is
    # derived from the struct column's Arrow type and registered under
    # "<topic>-value"; records are Confluent-framed; replaying with the same
    # registry gives back the same typed rows.
    import urllib.request

    topic = new_topic(tool, topic_name, 3)
    trades = [trade(i) for i in range(2000)]
    rows = pa.array([expected_row(t) for t in trades], pa.struct(list(TRADE)))
    table = pa.table({"key": pa.array([t["symbol"] for t in trades]), "payload": rows,
                      "ts": pa.array([T0 + i for i in range(len(trades))], pa.timestamp("ms", tz="UTC"))})
    res = kafkars.produce(config, topic, table, key="key", value="payload", timestamp="ts",
                          value_format=Avro(registry=registry.url))
    assert res.records == len(trades)
    subject, schema_id = res.schemas["value"]
    assert subject == f"{topic}-value"
    with urllib.request.urlopen(f"{registry.url}/subjects/{subject}/versions/latest") as r:
        latest = json.loads(r.read())
    assert latest["id"] == schema_id
    assert [f["name"] for f in json.loads(latest["schema"])["fields"]] == TRADE.names
    # the same data again registers nothing new
    again = kafkars.produce(config, topic, table.slice(0, 10), key="key", value="payload", timestamp="ts",
                            value_format=Avro(registry=registry.url))
    assert again.schemas["value"] == (subject, schema_id)

    out = kafkars.read_topics(config, [SourceTopic.from_earliest(topic, value=Avro(registry=registry.url))])
    assert out.num_rows == len(trades) + 10
    assert out.schema.field(topic).type == pa.struct(list(TRADE))
    assert all(v[0] == 0 and struct.unpack(">i", v[1:5])[0] == schema_id for v in out.column("value").to_pylist())
    got = sorted(zip(out.column("timestamp").to_pylist(), out.column("offset").to_pylist(), out.column(topic).to_pylist()),
                 key=lambda x: (x[0], x[1]))
    want = [expected_row(t) for t in trades]
    firsts = {}  # the first send's row for each timestamp (the second send repeats rows 0..9)
    for ts, _, row in got:
        firsts.setdefault(ts, row)
    assert [firsts[ts] for ts in sorted(firsts)] == want


def test_produce_avro_bad_columns(config: dict[str, str], tool: KafkaTool, registry: LocalRegistry, topic_name: str) -> None:
    topic = new_topic(tool, topic_name, 1)
    bad_name = pa.table({"v": pa.array([{"a-b": 1}], pa.struct([("a-b", pa.int64())]))})
    with pytest.raises(kafkars.ConfigError, match=r'field "a-b" .*not an Avro name'):
        kafkars.produce(config, topic, bad_name, value="v", value_format=Avro(registry=registry.url))
    raw = pa.table({"v": pa.array([b"x"])})
    with pytest.raises(kafkars.ConfigError, match="is sent as it is; an Avro format needs a typed column"):
        kafkars.produce(config, topic, raw, value="v", value_format=Avro(registry=registry.url))
    with pytest.raises(kafkars.ConfigError, match="needs registry="):
        kafkars.produce(config, topic, bad_name, value="v", value_format=Avro())
    with pytest.raises(kafkars.ConfigError, match=r"cannot be written with the Avro schema given: the column: type struct<a-b: int64 nullable> "
                                                  r"cannot be written as Avro long: want an integer type"):
        kafkars.produce(config, topic, bad_name, value="v", value_format=Avro(schema='"long"'))
    assert kafkars.read_topics(config, [SourceTopic.from_earliest(topic)]).num_rows == 0


def test_cli_produces_avro(kafka, tool: KafkaTool, registry: LocalRegistry, topic_name: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # kafkars produce --value-format avro, then kafkars replay --value-format avro: the same rows.
    topic = new_topic(tool, topic_name, 2)
    rows = pa.array([{"symbol": f"S{i % 7}", "price": i / 4, "ts": T0 + i} for i in range(300)],
                    pa.struct([("symbol", pa.string()), ("price", pa.float64()), ("ts", pa.timestamp("ms", tz="UTC"))]))
    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"v": rows, "at": pa.array([T0 + i for i in range(300)], pa.int64())}), src)
    r = subprocess.run([sys.executable, "-m", "kafkars", "produce", "-b", kafka.bootstrap, "-t", topic, str(src),
                        "--value", "v", "--timestamp", "at", "--value-format", "avro", "--registry", registry.url],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert f"value schema registered under subject '{topic}-value'" in r.stderr
    out = tmp_path / "out.parquet"
    r = subprocess.run([sys.executable, "-m", "kafkars", "replay", "-b", kafka.bootstrap, "-t", topic, "--value-format", "avro",
                        "--registry", registry.url, "-o", str(out), "-q"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    t = pq.read_table(out)
    assert t.column(topic).combine_chunks().to_pylist() == rows.to_pylist()  # one per timestamp, in order


def test_produce_avro_keys(config: dict[str, str], tool: KafkaTool, registry: LocalRegistry, topic_name: str) -> None:
    # key_format=Avro: the key column's schema is registered under "<topic>-key"; a null key stays null.
    topic = new_topic(tool, topic_name, 2)
    key_type = pa.struct([("account", pa.int32()), ("region", pa.string())])
    keys = pa.array([{"account": i, "region": "eu" if i % 2 else None} for i in range(300)] + [None], key_type)
    table = pa.table({"k": keys, "value": pa.array([f"v{i}".encode() for i in range(301)]),
                      "ts": pa.array([T0 + i for i in range(301)], pa.int64())})
    res = kafkars.produce(config, topic, table, key="k", timestamp="ts", key_format=Avro(registry=registry.url))
    assert res.records == 301
    assert res.schemas == {"key": (f"{topic}-key", res.schemas["key"][1])}
    out = kafkars.read_topics(config, [SourceTopic.from_earliest(topic, key=Avro(registry=registry.url))])
    got = dict(zip(out.column("value").to_pylist(), out.column(f"{topic}_key").to_pylist()))
    assert got == {f"v{i}".encode(): k for i, k in enumerate(keys.to_pylist())}
    assert out.column("value").to_pylist() == [f"v{i}".encode() for i in range(301)]  # raw values untouched, in time order


def _fill_proto(pkg: str) -> Any:
    """Leg first, Fill second: Fill's message-index path is [1]."""
    return proto_file(f"{pkg}/fill.proto", pkg,
                      {"Leg": [("venue", "string"), ("px", "double")],
                       "Fill": [("id", "string"), ("qty", "int64"), ("ts", ".google.protobuf.Timestamp"),
                                ("legs", f"repeated .{pkg}.Leg"), ("note", "bytes")]},
                      dependencies=["google/protobuf/timestamp.proto"])


FILL = pa.struct([("id", pa.string()), ("qty", pa.int64()), ("ts", pa.timestamp("ns", tz="UTC")),
                  ("legs", pa.list_(pa.field("item", pa.struct([("venue", pa.string()), ("px", pa.float64())]), nullable=False))),
                  ("note", pa.binary())])


def _fills(n: int) -> pa.Array:
    return pa.array([{"id": f"f{i}", "qty": i - 5, "ts": (T0 + i) * 1_000_000 + 7,
                      "legs": [{"venue": f"V{j}", "px": i / 4 + j} for j in range(i % 3)], "note": bytes([i % 256]) * (i % 4)}
                     for i in range(n)], FILL)


def test_produce_protobuf_registry(config: dict[str, str], tool: KafkaTool, registry: LocalRegistry, topic_name: str) -> None:
    # value_format=Protobuf(registry=..., message=...): the message type is
    # taken from the subject's latest schema (registered here by
    # confluent-kafka's serializer); records carry its id and the message's
    # index path; protobuf's own runtime and kafkars both read them back.
    topic = new_topic(tool, topic_name, 2)
    pkg = "p" + topic_name.replace("-", "")[-12:]
    classes = message_classes(_fill_proto(pkg))
    Fill = classes[f"{pkg}.Fill"]
    enc = protobuf_serializer(registry.url, Fill, topic=topic)
    enc({"id": "seed"})  # registers the schema under <topic>-value
    schema_id = enc.schema_id

    rows = _fills(1500)
    table = pa.table({"v": rows, "ts": pa.array([T0 + i for i in range(len(rows))], pa.int64())})
    res = kafkars.produce(config, topic, table, value="v", timestamp="ts",
                          value_format=Protobuf(registry=registry.url, message=f"{pkg}.Fill"))
    assert res.records == len(rows)
    assert res.schemas == {"value": (f"{topic}-value", schema_id)}

    out = kafkars.read_topics(config, [SourceTopic.from_earliest(topic, value=Protobuf(registry=registry.url, message=f"{pkg}.Fill"))])
    assert out.num_rows == len(rows)
    assert out.column(topic).combine_chunks().to_pylist() == rows.to_pylist()  # one row per timestamp, in order
    for i, v in enumerate(out.column("value").to_pylist()[:50]):
        assert v[0] == 0 and struct.unpack(">i", v[1:5])[0] == schema_id
        assert v[5:7] == b"\x02\x02"  # message-index path [1]: count 1, index 1 (zigzag)
        msg = Fill.FromString(v[7:])
        assert (msg.id, msg.qty, msg.ts.seconds, msg.ts.nanos) == (f"f{i}", i - 5, (T0 + i) // 1000, (T0 + i) % 1000 * 1_000_000 + 7)
        assert [(leg.venue, leg.px) for leg in msg.legs] == [(f"V{j}", i / 4 + j) for j in range(i % 3)]
        assert msg.note == bytes([i % 256]) * (i % 4)

    # no message=: the schema's first message, Leg, which has no field "id": nothing sent
    with pytest.raises(kafkars.ConfigError, match=rf'message {pkg}\.Leg has no field "id"; its fields are "venue", "px".*nothing was sent'):
        kafkars.produce(config, topic, table, value="v", value_format=Protobuf(registry=registry.url))
    with pytest.raises(kafkars.ProduceError, match=r"the latest schema of subject .nosuch-value."):
        kafkars.produce(config, topic, table, value="v", value_format=Protobuf(registry=registry.url, subject="nosuch-value"))
    assert kafkars.read_topics(config, [SourceTopic.from_earliest(topic)]).num_rows == len(rows)


def _descriptor_set(f: Any, path: Path) -> Path:
    from google.protobuf import descriptor_pb2

    path.write_bytes(descriptor_pb2.FileDescriptorSet(file=[f]).SerializeToString())  # the well-known import is not needed
    return path


def test_produce_protobuf_descriptors(config: dict[str, str], tool: KafkaTool, topic_name: str, tmp_path: Path) -> None:
    # Protobuf(descriptors=FILE, message=NAME): raw messages, read back by
    # protobuf's runtime and by kafkars; a row that cannot be written fails
    # the send naming the row, the column and the field.
    topic = new_topic(tool, topic_name, 1)
    pkg = "d" + topic_name.replace("-", "")[-12:]
    f = _fill_proto(pkg)
    desc = _descriptor_set(f, tmp_path / "fill.desc")
    Fill = message_classes(f)[f"{pkg}.Fill"]
    rows = _fills(400)
    fmt = Protobuf(descriptors=str(desc), message=f"{pkg}.Fill")
    res = kafkars.produce(config, topic, pa.table({"v": rows}), value="v", value_format=fmt)
    assert res.records == 400 and res.schemas == {}
    out = kafkars.read_topics(config, [SourceTopic.from_earliest(topic, value=fmt)])
    assert out.column(topic).combine_chunks().to_pylist() == rows.to_pylist()
    first = Fill.FromString(out.column("value")[3].as_py())
    assert (first.id, first.qty, len(first.legs)) == ("f3", -2, 0)

    # a null qty (proto3, no presence) would read back as 0: the send fails naming it
    bad = pa.table({"v": pa.array([{"id": "a", "qty": 1}, {"id": "b", "qty": None}],
                                   pa.struct([("id", pa.string()), ("qty", pa.int64())]))})
    with pytest.raises(kafkars.ProduceError, match=r'row 1 failed: column "v": field qty: null, but field qty of .*Fill has no presence') as ei:
        kafkars.produce(config, topic, bad, value="v", value_format=fmt)
    assert ei.value.row == 1
    wrong = pa.table({"v": pa.array([{"id": 1}], pa.struct([("id", pa.int64())]))})
    with pytest.raises(kafkars.ConfigError, match=r"field id: type int64 cannot be written to Protobuf field id \(string\)"):
        kafkars.produce(config, topic, wrong, value="v", value_format=fmt)
    with pytest.raises(kafkars.ConfigError, match="needs message="):
        kafkars.produce(config, topic, wrong, value="v", value_format=Protobuf(descriptors=str(desc)))
    assert kafkars.read_topics(config, [SourceTopic.from_earliest(topic)]).num_rows == 400, "nothing of the failed sends was written"


def test_cli_produces_protobuf(kafka, tool: KafkaTool, topic_name: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # kafkars produce --value-format protobuf --descriptors F --value-message M, then replay with the same.
    topic = new_topic(tool, topic_name, 2)
    pkg = "c" + topic_name.replace("-", "")[-12:]
    desc = _descriptor_set(_fill_proto(pkg), tmp_path / "fill.desc")
    rows = _fills(300)
    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"v": rows, "at": pa.array([T0 + i for i in range(300)], pa.int64())}), src)
    proto_args = ["--value-format", "protobuf", "--descriptors", str(desc), "--value-message", f"{pkg}.Fill"]
    r = subprocess.run([sys.executable, "-m", "kafkars", "produce", "-b", kafka.bootstrap, "-t", topic, str(src),
                        "--value", "v", "--timestamp", "at", *proto_args], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "out.parquet"
    r = subprocess.run([sys.executable, "-m", "kafkars", "replay", "-b", kafka.bootstrap, "-t", topic, *proto_args,
                        "-o", str(out), "-q"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert pq.read_table(out).column(topic).combine_chunks().to_pylist() == rows.to_pylist()


# A schema as a Java service registers it: a namespace, an enum, a fixed
# decimal, a field with a default that the table leaves out.
ORDER_AVRO = {"type": "record", "name": "Order", "namespace": "com.shop", "fields": [
    {"name": "id", "type": "long"},
    {"name": "side", "type": {"type": "enum", "name": "Side", "symbols": ["BUY", "SELL"]}},
    {"name": "qty", "type": "int"},
    {"name": "px", "type": ["null", "double"], "default": None},
    {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "amount", "type": {"type": "fixed", "name": "Amount", "size": 8, "logicalType": "decimal", "precision": 18, "scale": 2}},
    {"name": "venue", "type": "string", "default": "XNAS"},
]}


def _orders(n: int) -> pa.Table:
    # other types than the schema's: int64 into int, timestamp[us] into millis, int64 ids into long
    return pa.table({"v": pa.array(
        [{"id": i, "side": "SELL" if i % 3 else "BUY", "qty": i % 50, "px": None if i % 4 == 0 else i / 8,
          "at": (T0 + i) * 1000 + 999, "amount": decimal.Decimal(i * 3) / 4} for i in range(n)],
        pa.struct([("id", pa.int64()), ("side", pa.string()), ("qty", pa.int64()), ("px", pa.float64()),
                   ("at", pa.timestamp("us", tz="UTC")), ("amount", pa.decimal128(10, 2))]))})


def _expected_order(i: int) -> dict[str, Any]:
    return {"id": i, "side": "SELL" if i % 3 else "BUY", "qty": i % 50, "px": None if i % 4 == 0 else i / 8,
            "at": dt.datetime.fromtimestamp((T0 + i) / 1000, dt.timezone.utc), "amount": decimal.Decimal(i * 3) / 4, "venue": "XNAS"}


def test_produce_avro_with_the_topics_schema(config: dict[str, str], tool: KafkaTool, registry: LocalRegistry, topic_name: str) -> None:
    # Avro(schema=..., registry=...): rows written with the schema a Java
    # service already registered: the same id comes back (no new version),
    # and fastavro (the reference Python reader) reads the records.
    import fastavro

    topic = new_topic(tool, topic_name, 2)
    import urllib.request

    # registered as another text of the same schema: Apicurio compares texts, so kafkars compares the parsed forms
    schema_id = register(registry.url, f"{topic}-value", json.dumps(ORDER_AVRO, indent=2))
    table = _orders(1000)
    res = kafkars.produce(config, topic, table, value="v", value_format=Avro(schema=ORDER_AVRO, registry=registry.url))
    assert res.records == 1000 and res.schemas == {"value": (f"{topic}-value", schema_id)}
    with urllib.request.urlopen(f"{registry.url}/subjects/{topic}-value/versions", timeout=10) as r:
        assert json.loads(r.read()) == [1], "no new version was registered"
    out = kafkars.read_topics(config, [SourceTopic.from_earliest(topic, value=Avro(registry=registry.url))])
    parsed = fastavro.parse_schema(ORDER_AVRO)
    by_id = {}
    for v in out.column("value").to_pylist():
        assert v[0] == 0 and struct.unpack(">i", v[1:5])[0] == schema_id
        rec = fastavro.schemaless_reader(io.BytesIO(v[5:]), parsed)
        by_id[rec["id"]] = rec
    assert [by_id[i] for i in range(1000)] == [_expected_order(i) for i in range(1000)]
    assert sorted(out.column(topic).to_pylist(), key=lambda r: r["id"]) == [_expected_order(i) for i in range(1000)]

    # raw datums of the schema without a registry
    raw_topic = new_topic(tool, topic_name + "-raw", 1)
    res = kafkars.produce(config, raw_topic, table.slice(0, 10), value="v", value_format=Avro(schema=ORDER_AVRO))
    assert res.schemas == {}
    raw = kafkars.read_topics(config, [SourceTopic.from_earliest(raw_topic)]).column("value").to_pylist()
    assert [fastavro.schemaless_reader(io.BytesIO(v), parsed) for v in raw] == [_expected_order(i) for i in range(10)]

    # a column the schema has no field for, or an unknown symbol: named, nothing sent
    bad = pa.table({"v": pa.array([{"id": 1, "side": "HOLD", "qty": 1, "at": 0, "amount": decimal.Decimal("1.00"), "note": "x"}],
                                  pa.struct([("id", pa.int64()), ("side", pa.string()), ("qty", pa.int32()),
                                             ("at", pa.timestamp("ms")), ("amount", pa.decimal128(10, 2)), ("note", pa.string())]))})
    with pytest.raises(kafkars.ConfigError, match=r'field note: record com.shop.Order has no field "note"'):
        kafkars.produce(config, raw_topic, bad, value="v", value_format=Avro(schema=ORDER_AVRO))
    symbol = bad.set_column(0, "v", pa.array([{k: v for k, v in r.items() if k != "note"} for r in bad.column("v").to_pylist()],
                                             pa.struct([f for f in bad.schema.field("v").type if f.name != "note"])))
    with pytest.raises(kafkars.ProduceError, match=r'row 0 failed: column "v": field side: "HOLD" is not a symbol of enum com.shop.Side'):
        kafkars.produce(config, raw_topic, symbol, value="v", value_format=Avro(schema=ORDER_AVRO))
    assert kafkars.read_topics(config, [SourceTopic.from_earliest(raw_topic)]).num_rows == 10


def test_cli_produces_avro_with_a_schema_file(kafka, tool: KafkaTool, topic_name: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # kafkars produce --value-format avro --value-schema F (raw datums), then kafkars replay --value-schema F.
    topic = new_topic(tool, topic_name, 1)
    avsc = tmp_path / "order.avsc"
    avsc.write_text(json.dumps(ORDER_AVRO))
    src = tmp_path / "in.parquet"
    pq.write_table(_orders(200), src)
    args = ["--value-format", "avro", "--value-schema", str(avsc)]
    r = subprocess.run([sys.executable, "-m", "kafkars", "produce", "-b", kafka.bootstrap, "-t", topic, str(src), "--value", "v", *args],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "out.parquet"
    r = subprocess.run([sys.executable, "-m", "kafkars", "replay", "-b", kafka.bootstrap, "-t", topic, *args, "-o", str(out), "-q"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert pq.read_table(out).column(topic).to_pylist() == [_expected_order(i) for i in range(200)]


def test_produce_avro_derived_schema_refused(config: dict[str, str], tool: KafkaTool, registry: LocalRegistry, topic_name: str) -> None:
    # A subject with BACKWARD compatibility and a schema of its own: the
    # derived schema is refused; the error says so and how to write with
    # the subject's schema, and nothing is sent.
    import urllib.request

    topic = new_topic(tool, topic_name, 1)
    register(registry.url, f"{topic}-value", json.dumps(ORDER_AVRO))
    req = urllib.request.Request(f"{registry.url}/config/{topic}-value", method="PUT", data=json.dumps({"compatibility": "BACKWARD"}).encode(),
                                 headers={"Content-Type": "application/vnd.schemaregistry.v1+json"})
    urllib.request.urlopen(req, timeout=10).close()
    table = pa.table({"v": pa.array([{"id": 1, "extra": "x"}], pa.struct([("id", pa.int64()), ("extra", pa.string())]))})
    with pytest.raises(kafkars.ProduceError, match=r"the subject has a schema already.*pass it: Avro\(schema=\.\.\., registry=\.\.\.\)\); nothing was sent"):
        kafkars.produce(config, topic, table, value="v", value_format=Avro(registry=registry.url))
    assert kafkars.read_topics(config, [SourceTopic.from_earliest(topic)]).num_rows == 0


def test_produce_protobuf_keys(config: dict[str, str], tool: KafkaTool, registry: LocalRegistry, topic_name: str) -> None:
    # key_format=Protobuf(registry=...): the message type from "<topic>-key"; a null key stays null.
    topic = new_topic(tool, topic_name, 2)
    pkg = "k" + topic_name.replace("-", "")[-12:]
    f = proto_file(f"{pkg}/key.proto", pkg, {"Key": [("account", "int32"), ("region", "string")]})
    Key = message_classes(f)[f"{pkg}.Key"]
    protobuf_serializer(registry.url, Key, topic=topic, key=True)(Key())  # registers under <topic>-key
    keys = pa.array([{"account": i, "region": "eu" if i % 2 else "us"} for i in range(200)] + [None],
                    pa.struct([("account", pa.int32()), ("region", pa.string())]))
    table = pa.table({"k": keys, "value": pa.array([f"v{i}".encode() for i in range(201)]),
                      "ts": pa.array([T0 + i for i in range(201)], pa.int64())})
    res = kafkars.produce(config, topic, table, key="k", timestamp="ts", key_format=Protobuf(registry=registry.url))
    assert res.records == 201 and res.schemas["key"][0] == f"{topic}-key"
    out = kafkars.read_topics(config, [SourceTopic.from_earliest(topic, key=Protobuf(registry=registry.url))])
    got = dict(zip(out.column("value").to_pylist(), out.column(f"{topic}_key").to_pylist()))
    assert got == {f"v{i}".encode(): k for i, k in enumerate(keys.to_pylist())}
    raw_key = out.column("key")[5].as_py()
    assert Key.FromString(raw_key[6:]).account == 5 and raw_key[5:6] == b"\x00"  # framing, then message index [0]
