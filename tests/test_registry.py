"""devtools.registry and devtools.serde against a real Apicurio Registry.

These tests need no Kafka broker: they check that records are produced the
way real producers produce them (confluent-kafka's serializers against the
registry's Confluent-compatible API) and that the framing is what the Go
decoders expect.
"""

from __future__ import annotations

import io
import json
import sys
import urllib.error
import urllib.request
import uuid
from typing import Any

import fastavro
import pytest

from devtools.registry import LocalRegistry
from devtools.serde import (
    avro_serializer,
    frame,
    json_serializer,
    message_classes,
    proto_file,
    protobuf_serializer,
    register,
    unframe,
)

@pytest.fixture
def name() -> str:
    """A fresh name per test, for subjects, topics and Protobuf packages."""
    return f"t{uuid.uuid4().hex[:10]}"


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


TRADE_V1 = {
    "type": "record",
    "name": "Trade",
    "namespace": "kafkars.test",
    "fields": [
        {"name": "symbol", "type": "string"},
        {"name": "price", "type": "double"},
    ],
}
TRADE_V2 = {
    **TRADE_V1,
    "fields": [*TRADE_V1["fields"], {"name": "qty", "type": "long", "default": 0}],
}
TRADE_V3 = {
    **TRADE_V1,
    "fields": [
        *TRADE_V2["fields"],
        {"name": "venue", "type": ["null", "string"], "default": None},
    ],
}


def test_registry_is_up(registry: LocalRegistry) -> None:
    assert registry.url == f"http://127.0.0.1:{registry.port}/apis/ccompat/v7"
    assert registry.running and registry.start_seconds > 0
    assert isinstance(get(f"{registry.url}/subjects"), list)
    assert "Listening on: http://127.0.0.1:" in registry.log_tail(1000)


def test_avro_versions_read_back_by_id(registry: LocalRegistry, name: str) -> None:
    subject = f"{name}-value"
    ids = [register(registry.url, subject, json.dumps(s)) for s in (TRADE_V1, TRADE_V2, TRADE_V3)]
    assert len(set(ids)) == 3, ids
    assert ids == sorted(ids)
    assert get(f"{registry.url}/subjects/{subject}/versions") == [1, 2, 3]
    # Registering a known schema again is idempotent: same id, no new version.
    assert register(registry.url, subject, json.dumps(TRADE_V2)) == ids[1]
    assert get(f"{registry.url}/subjects/{subject}/versions") == [1, 2, 3]

    for schema_id, schema in zip(ids, (TRADE_V1, TRADE_V2, TRADE_V3)):
        answer = get(f"{registry.url}/schemas/ids/{schema_id}")
        assert json.loads(answer["schema"]) == schema
        assert answer.get("schemaType", "AVRO") == "AVRO"  # omitted means Avro
    latest = get(f"{registry.url}/subjects/{subject}/versions/latest")
    assert (latest["id"], latest["version"], latest["subject"]) == (ids[2], 3, subject)


def test_avro_serializer_frames_records(registry: LocalRegistry, name: str) -> None:
    records = [
        {"symbol": "ABC", "price": 1.5, "qty": 10},
        {"symbol": "", "price": -0.0, "qty": -(2**63)},
        {"symbol": "ÉÜ€", "price": 1e300, "qty": 2**63 - 1},
    ]
    encode = avro_serializer(registry.url, json.dumps(TRADE_V2), topic=name)
    values = encode.encode_all(records)

    # The serializer registered the schema under the topic's value subject.
    latest = get(f"{registry.url}/subjects/{name}-value/versions/latest")
    assert encode.schema_id == latest["id"]
    parsed = fastavro.parse_schema(TRADE_V2)
    for value, record in zip(values, records):
        assert value[0] == 0, "magic byte"
        assert int.from_bytes(value[1:5], "big") == latest["id"]
        payload = value[5:]
        assert fastavro.schemaless_reader(io.BytesIO(payload), parsed) == record
        assert frame(latest["id"], payload) == value
        assert unframe(value) == (latest["id"], payload)


def test_avro_evolution_keeps_old_ids(registry: LocalRegistry, name: str) -> None:
    old = avro_serializer(registry.url, json.dumps(TRADE_V1), topic=name)
    new = avro_serializer(registry.url, json.dumps(TRADE_V3), topic=name)
    a = old({"symbol": "A", "price": 1.0})
    b = new({"symbol": "B", "price": 2.0, "qty": 3, "venue": "X"})
    assert old.schema_id != new.schema_id
    assert get(f"{registry.url}/subjects/{name}-value/versions") == [1, 2]
    # Each record names the schema it was written with: a reader resolves
    # old records against the new schema (qty and venue take their defaults).
    writer = fastavro.parse_schema(json.loads(get(f"{registry.url}/schemas/ids/{unframe(a)[0]}")["schema"]))
    reader = fastavro.parse_schema(TRADE_V3)
    assert fastavro.schemaless_reader(io.BytesIO(unframe(a)[1]), writer, reader) == {
        "symbol": "A",
        "price": 1.0,
        "qty": 0,
        "venue": None,
    }
    assert fastavro.schemaless_reader(io.BytesIO(unframe(b)[1]), reader)["venue"] == "X"


def test_avro_reference(registry: LocalRegistry, name: str) -> None:
    money = {"type": "record", "name": "Money", "namespace": name, "fields": [{"name": "cents", "type": "long"}]}
    register(registry.url, f"{name}.Money", json.dumps(money))
    payment = {"type": "record", "name": "Payment", "namespace": name, "fields": [{"name": "amount", "type": f"{name}.Money"}]}
    encode = avro_serializer(
        registry.url, json.dumps(payment), topic=name, references=[(f"{name}.Money", f"{name}.Money", 1)]
    )
    value = encode({"amount": {"cents": 250}})
    answer = get(f"{registry.url}/schemas/ids/{encode.schema_id}")
    assert answer["references"] == [{"name": f"{name}.Money", "subject": f"{name}.Money", "version": 1}]
    named: dict[str, Any] = {}
    fastavro.parse_schema(money, named_schemas=named)  # what the reference brings
    full = fastavro.parse_schema(payment, named_schemas=named)
    assert fastavro.schemaless_reader(io.BytesIO(unframe(value)[1]), full) == {"amount": {"cents": 250}}


def test_protobuf_serializer_frames_records(registry: LocalRegistry, name: str) -> None:
    side = proto_file(f"{name}/side.proto", name, {"Side": [("name", "string")]})
    order = proto_file(
        f"{name}/order.proto",
        name,
        {
            "Order": [("side", f".{name}.Side"), ("qty", "int64"), ("ts", ".google.protobuf.Timestamp")],
            "Cancel": [("ids", "repeated int64")],
        },
        dependencies=[f"{name}/side.proto", "google/protobuf/timestamp.proto"],
    )
    classes = message_classes(side, order)
    Order, Cancel = classes[f"{name}.Order"], classes[f"{name}.Cancel"]

    encode_order = protobuf_serializer(registry.url, Order, topic=f"{name}-orders")
    first = encode_order({"side": {"name": "buy"}, "qty": "5", "ts": "2024-01-02T03:04:05Z"})
    encode_cancel = protobuf_serializer(registry.url, Cancel, topic=f"{name}-cancels")
    second = encode_cancel(Cancel(ids=[1, -2]))

    # One file, so one schema (ids are content ids): the message-index path
    # tells Order ([0], written as the single byte 0) from Cancel ([1]).
    assert encode_order.schema_id == encode_cancel.schema_id
    schema_id, rest = unframe(first)
    assert rest[:1] == b"\x00"
    msg = Order.FromString(rest[1:])
    assert (msg.side.name, msg.qty, msg.ts.seconds) == ("buy", 5, 1704164645)
    _, rest = unframe(second)
    assert rest[:2] == b"\x02\x02"  # count 1, index 1, zigzag varints
    assert list(Cancel.FromString(rest[2:]).ids) == [1, -2]
    assert frame(schema_id, rest[2:], [1]) == second

    # The import was registered as its own subject and referenced; the
    # well-known Timestamp import was not.
    answer = get(f"{registry.url}/schemas/ids/{schema_id}")
    assert answer["schemaType"] == "PROTOBUF"
    assert answer["references"] == [{"name": f"{name}/side.proto", "subject": f"{name}/side.proto", "version": 1}]


def test_protobuf_text_schema(registry: LocalRegistry, name: str) -> None:
    side = f'syntax = "proto3";\npackage {name};\nmessage Side {{ string name = 1; }}\n'
    register(registry.url, f"{name}-side", side, "PROTOBUF")
    order = (
        f'syntax = "proto3";\npackage {name};\nimport "side.proto";\n'
        f"message Order {{ {name}.Side side = 1; int64 qty = 2; }}\n"
    )
    schema_id = register(registry.url, f"{name}-value", order, "PROTOBUF", [("side.proto", f"{name}-side", 1)])
    answer = get(f"{registry.url}/schemas/ids/{schema_id}")
    assert answer["schema"] == order  # .proto text comes back as text
    assert answer["references"] == [{"name": "side.proto", "subject": f"{name}-side", "version": 1}]


def test_json_serializer(registry: LocalRegistry, name: str) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    encode = json_serializer(registry.url, json.dumps(schema), topic=name)
    value = encode({"a": 7})
    schema_id, payload = unframe(value)
    assert json.loads(payload) == {"a": 7}
    assert get(f"{registry.url}/schemas/ids/{schema_id}")["schemaType"] == "JSON"
    with pytest.raises(Exception, match="is not of type 'integer'"):
        encode({"a": "seven"})


def test_unknown_id_is_40403(registry: LocalRegistry) -> None:
    # The answer the Go client turns into a malformed-record error.
    with pytest.raises(urllib.error.HTTPError) as info:
        get(f"{registry.url}/schemas/ids/987654")
    assert info.value.code == 404
    assert json.load(info.value)["error_code"] == 40403


def test_manual_framing() -> None:
    assert frame(258, b"xy") == b"\x00\x00\x00\x01\x02xy"
    assert frame(1, b"", [0]) == b"\x00\x00\x00\x00\x01\x00"
    assert frame(1, b"", [2, 0, 5]) == b"\x00\x00\x00\x00\x01\x06\x04\x00\x0a"
    with pytest.raises(ValueError, match="not Confluent-framed"):
        unframe(b"\x01\x00\x00\x00\x01")
    with pytest.raises(ValueError, match="not Confluent-framed"):
        unframe(b"\x00\x00")
