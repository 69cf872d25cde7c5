"""Produce schema-registry records the way real producers do, for tests, the demo and benchmarks.

Records are encoded by confluent-kafka-python's own serializers
(``AvroSerializer``, ``ProtobufSerializer``, ``JSONSerializer``), which
register their schema with the registry on first use and frame every record
in the Confluent wire format: magic byte 0, the schema id as 4 big-endian
bytes, for Protobuf the message-index path, then the payload. Test data made
this way is exactly what kafkars meets in production topics, rather than
what we believe the format to be.

All of it works unchanged against Apicurio Registry's Confluent-compatible
API (:class:`devtools.registry.LocalRegistry`). Differences from Confluent's
own registry that tests should expect:

- Ids are content ids: the same schema text under two subjects gets one id.
- ``ProtobufSerializer`` registers a base64-encoded ``FileDescriptorProto``
  rather than ``.proto`` text. Apicurio stores it as given and answers
  ``GET /schemas/ids/{id}`` with that base64 text; Confluent's registry
  answers with ``.proto`` text. A Protobuf decoder that reads schemas from
  a registry must accept both. :func:`register` with ``.proto`` text gives
  the other form.
- The default compatibility level is ``NONE`` (Confluent's is
  ``BACKWARD``), so incompatible evolutions are accepted.

Typical use::

    with LocalRegistry() as registry:
        encode = avro_serializer(registry.url, SCHEMA, topic="trades")
        values = [encode(r) for r in rows]        # framed bytes
        schema_id = encode.schema_id              # known after the first record

:func:`frame` and :func:`unframe` do the framing by hand, for records that
must be malformed on purpose.
"""

from __future__ import annotations

import importlib
import struct
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Callable

from confluent_kafka.schema_registry import Schema, SchemaReference, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.schema_registry.json_schema import JSONSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
from google.protobuf.message import Message

MAGIC_BYTE = 0

_clients: dict[str, SchemaRegistryClient] = {}


def client(url: str) -> SchemaRegistryClient:
    """One confluent-kafka ``SchemaRegistryClient`` per URL, kept for the process.

    The client caches what it registered and looked up; sharing it across
    serializers avoids re-registering a schema for every helper call.
    """
    if url not in _clients:
        _clients[url] = SchemaRegistryClient({"url": url})
    return _clients[url]


def _references(references: Iterable[Any] | None) -> list[SchemaReference]:
    out = []
    for ref in references or ():
        if isinstance(ref, SchemaReference):
            out.append(ref)
        else:
            name, subject, version = ref
            out.append(SchemaReference(name, subject, version))
    return out


def register(
    url: str,
    subject: str,
    schema_text: str,
    schema_type: str = "AVRO",
    references: Iterable[Any] | None = None,
) -> int:
    """Register a schema under subject (a new version if it changed) and return its id.

    ``references`` are ``(name, subject, version)`` tuples: for Protobuf the
    name is the import path, for Avro the full name of the type defined by
    the referenced schema. Registering the same text again returns the same
    id without a new version.
    """
    schema = Schema(schema_text, schema_type, _references(references))
    return client(url).register_schema(subject, schema)


class Serializer:
    """A confluent-kafka serializer bound to one subject: ``encode(record) -> bytes``.

    ``schema_id`` is the id the serializer registered or found; it is known
    after the first record (the serializer registers lazily, as producers
    do).
    """

    def __init__(
        self,
        serializer: Callable[..., bytes | None],
        topic: str,
        key: bool,
        convert: Callable[[Any], Any] | None = None,
    ) -> None:
        self._serializer = serializer
        self._ctx = SerializationContext(topic, MessageField.KEY if key else MessageField.VALUE)
        self._convert = convert
        self.schema_id: int | None = None

    def __call__(self, record: Any) -> bytes:
        if self._convert is not None:
            record = self._convert(record)
        data = self._serializer(record, self._ctx)
        if data is None:
            raise ValueError("the serializer returned None (a None record has no encoding)")
        self.schema_id, _ = unframe(data)
        return data

    def encode_all(self, records: Iterable[Any]) -> list[bytes]:
        return [self(r) for r in records]


def _subject_conf(topic: str | None, subject: str | None) -> tuple[str, dict[str, Any]]:
    """The serialization topic and config that make the serializer use subject.

    Without an explicit subject, Confluent's default TopicNameStrategy
    applies: ``<topic>-value`` (or ``-key``), as for a real producer.
    """
    if subject is None:
        if topic is None:
            raise ValueError("give topic (subject <topic>-value/-key) or subject")
        return topic, {}
    return topic or subject, {"subject.name.strategy": lambda ctx, record_name: subject}


def avro_serializer(
    url: str,
    schema_text: str,
    *,
    topic: str | None = None,
    subject: str | None = None,
    key: bool = False,
    references: Iterable[Any] | None = None,
) -> Serializer:
    """confluent-kafka's ``AvroSerializer`` for dicts, registering ``schema_text`` on first use.

    With ``references``, the referenced subjects must already be registered
    (see :func:`register`).
    """
    ctx_topic, conf = _subject_conf(topic, subject)
    schema: str | Schema = schema_text
    if references:
        schema = Schema(schema_text, "AVRO", _references(references))
    return Serializer(AvroSerializer(client(url), schema, conf=conf), ctx_topic, key)


def json_serializer(
    url: str,
    schema_text: str,
    *,
    topic: str | None = None,
    subject: str | None = None,
    key: bool = False,
) -> Serializer:
    """confluent-kafka's ``JSONSerializer`` (validates each record against the JSON Schema)."""
    ctx_topic, conf = _subject_conf(topic, subject)
    return Serializer(JSONSerializer(schema_text, client(url), conf=conf), ctx_topic, key)


def protobuf_serializer(
    url: str,
    message_class: type[Message],
    *,
    topic: str | None = None,
    subject: str | None = None,
    key: bool = False,
) -> Serializer:
    """confluent-kafka's ``ProtobufSerializer`` for messages of ``message_class`` (or dicts).

    Imported files other than Google's well-known types are registered too,
    each under its file name as subject (Confluent's default reference
    strategy). Dict records are converted with ``json_format.ParseDict``.
    """
    ctx_topic, conf = _subject_conf(topic, subject)
    conf["use.deprecated.format"] = False

    def convert(record: Any) -> Message:
        if isinstance(record, Mapping):
            return json_format.ParseDict(record, message_class())
        return record

    return Serializer(ProtobufSerializer(message_class, client(url), conf), ctx_topic, key, convert)


# --- Protobuf message classes built at run time (no protoc, no generated code) ---

_SCALAR_NAMES = (
    "double float int64 uint64 int32 fixed64 fixed32 bool "
    "string bytes uint32 sfixed32 sfixed64 sint32 sint64"
).split()
_SCALARS = {
    name: getattr(descriptor_pb2.FieldDescriptorProto, "TYPE_" + name.upper())
    for name in _SCALAR_NAMES
}


def proto_file(
    name: str,
    package: str,
    messages: Mapping[str, Sequence[tuple[str, str]]],
    dependencies: Sequence[str] = (),
) -> descriptor_pb2.FileDescriptorProto:
    """A proto3 file of flat messages: ``{"Order": [("qty", "int64"), ("side", ".t.Side")]}``.

    A field type is a scalar name, or a fully qualified message name
    starting with ``.`` (from this file or a dependency), optionally
    prefixed with ``"repeated "``. Field numbers follow the list order,
    from 1. Message indexes in the wire format follow the order of
    ``messages``.
    """
    f = descriptor_pb2.FileDescriptorProto(name=name, package=package, syntax="proto3")
    f.dependency.extend(dependencies)
    label = descriptor_pb2.FieldDescriptorProto
    for message_name, fields in messages.items():
        m = f.message_type.add(name=message_name)
        for number, (field_name, field_type) in enumerate(fields, start=1):
            repeated = field_type.startswith("repeated ")
            field_type = field_type.removeprefix("repeated ")
            field = m.field.add(
                name=field_name,
                number=number,
                label=label.LABEL_REPEATED if repeated else label.LABEL_OPTIONAL,
            )
            if field_type in _SCALARS:
                field.type = _SCALARS[field_type]
            elif field_type.startswith("."):
                field.type = label.TYPE_MESSAGE
                field.type_name = field_type
            else:
                raise ValueError(
                    f"{message_name}.{field_name}: type {field_type!r} is neither a scalar "
                    f"({', '.join(_SCALARS)}) nor a '.package.Message' name"
                )
    return f


def message_classes(*files: descriptor_pb2.FileDescriptorProto) -> dict[str, type[Message]]:
    """Message classes for files built at run time, by full name (``"t.Order"``).

    Files must come after the files they import. Google's well-known types
    (``google/protobuf/timestamp.proto`` ...) may be imported: they are
    added to the private pool when a file names them.
    """
    pool = descriptor_pool.DescriptorPool()
    added: set[str] = set()

    def add_well_known(name: str) -> None:
        # google/protobuf/timestamp.proto is google.protobuf.timestamp_pb2
        module = importlib.import_module(name.removesuffix(".proto").replace("/", ".") + "_pb2")
        proto = descriptor_pb2.FileDescriptorProto.FromString(module.DESCRIPTOR.serialized_pb)
        for dep in proto.dependency:
            if dep not in added:
                add_well_known(dep)
        pool.Add(proto)
        added.add(name)

    for f in files:
        for dep in f.dependency:
            if dep.startswith("google/protobuf/") and dep not in added:
                add_well_known(dep)
        pool.Add(f)
        added.add(f.name)
    classes = {}
    for f in files:
        for m in f.message_type:
            full = f"{f.package}.{m.name}" if f.package else m.name
            classes[full] = message_factory.GetMessageClass(pool.FindMessageTypeByName(full))
    return classes


# --- manual framing ---


def _zigzag_varint(value: int) -> bytes:
    value = (value << 1) ^ (value >> 63)
    out = bytearray()
    while value & ~0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def frame(schema_id: int, payload: bytes, message_indexes: Sequence[int] | None = None) -> bytes:
    """Confluent framing by hand: magic 0, big-endian id, [Protobuf message indexes], payload.

    ``message_indexes`` is for Protobuf only; ``[0]`` (the first message in
    the file) is written as the single byte 0, as the serializers do.
    """
    head = struct.pack(">bI", MAGIC_BYTE, schema_id)
    if message_indexes is not None:
        if list(message_indexes) == [0]:
            head += b"\x00"
        else:
            head += _zigzag_varint(len(message_indexes))
            head += b"".join(_zigzag_varint(i) for i in message_indexes)
    return head + payload


def unframe(data: bytes) -> tuple[int, bytes]:
    """Split a Confluent-framed record into (schema id, rest); raises ValueError if it is not one."""
    if len(data) < 5 or data[0] != MAGIC_BYTE:
        raise ValueError(f"not Confluent-framed: {data[:8]!r}")
    (schema_id,) = struct.unpack(">I", data[1:5])
    return schema_id, data[5:]
