"""Typed keys and values: how a topic's records are encoded.

Declare a format on a topic and kafkars decodes it in its Go core, straight
into Arrow columns::

    trades = pa.schema([("symbol", pa.string()), ("price", pa.float64()), ("qty", pa.int64())])
    SourceTopic.from_earliest("trades", value=kafkars.Json(schema=trades))
    SourceTopic.from_earliest("orders", value=kafkars.Avro(registry="http://localhost:8081"))

Each decoded key or value becomes one struct column (named after the topic
by default; ``column=`` chooses), null on the rows of other topics. The raw
``key``/``value`` bytes stay in their columns unless ``keep_raw=False``.

``on_error`` is what a record that does not decode does:

* ``"raise"`` (default): the rows before it are returned, then the next
  poll raises :class:`DecodeError` naming the topic, partition, offset and
  cause;
* ``"null"``: the row is kept with a null typed column and the error text
  in the ``decode_error`` column;
* ``"skip"``: the row is dropped and counted (``malformed_records`` in
  ``metrics()``).

See docs/guides/typed-values.md.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Union

from kafkars._errors import ConfigError

if TYPE_CHECKING:  # pyarrow is imported when a spec is built, not with kafkars
    import pyarrow as pa

ON_ERROR = ("raise", "null", "skip")
FRAMINGS = ("raw", "confluent")

#: Records read to infer a JSON schema when none is given.
DEFAULT_SAMPLE = 1000


@dataclass(frozen=True)
class SchemaRegistry:
    """A Confluent-compatible schema registry (Confluent's, Apicurio's
    ``/apis/ccompat/v7``, Karapace, Redpanda). Schemas are fetched once per
    id and cached for the life of a manager, never once per record.

    Args:
        url: base URL; a comma-separated list is tried in order.
        basic_auth: ``"user:password"``.
        bearer_token: sent as ``Authorization: Bearer ...``.
        timeout_ms: per request (default 10 000).
        ca_file: PEM file of extra certificate authorities.
    """

    url: str
    basic_auth: str | None = field(default=None, repr=False)
    bearer_token: str | None = field(default=None, repr=False)
    timeout_ms: int | None = None
    ca_file: str | None = None

    def to_spec(self) -> dict[str, Any]:
        if not isinstance(self.url, str) or not self.url.strip():
            raise ConfigError(f"SchemaRegistry url must be a non-empty string, got {self.url!r}")
        out: dict[str, Any] = {"url": self.url}
        if self.basic_auth:
            out["basic_auth"] = self.basic_auth
        if self.bearer_token:
            out["bearer_token"] = self.bearer_token
        if self.timeout_ms is not None:
            out["timeout_ms"] = int(self.timeout_ms)
        if self.ca_file:
            out["ca_file"] = self.ca_file
        return out


RegistryLike = Union[str, SchemaRegistry]


def _registry(r: RegistryLike | None) -> dict[str, Any] | None:
    if r is None:
        return None
    if isinstance(r, str):
        r = SchemaRegistry(r)
    if not isinstance(r, SchemaRegistry):
        raise ConfigError(f"registry must be a URL or a kafkars.SchemaRegistry, got {type(r).__name__}")
    return r.to_spec()


@dataclass(frozen=True)
class _Format:
    column: str | None = None
    on_error: str = "raise"
    keep_raw: bool = True

    format_name = ""

    def _common(self) -> dict[str, Any]:
        if self.on_error not in ON_ERROR:
            raise ConfigError(f"{type(self).__name__}: on_error must be one of {ON_ERROR}, got {self.on_error!r}")
        if self.column is not None and (not isinstance(self.column, str) or not self.column):
            raise ConfigError(f"{type(self).__name__}: column must be a non-empty string, got {self.column!r}")
        out: dict[str, Any] = {"format": self.format_name, "on_error": self.on_error, "keep_raw": bool(self.keep_raw)}
        if self.column:
            out["column"] = self.column
        return out

    def to_spec(self) -> dict[str, Any]:  # pragma: no cover - overridden
        raise NotImplementedError


@dataclass(frozen=True)
class Json(_Format):
    """JSON objects, one per key or value, decoded into ``schema``.

    Args:
        schema: a ``pyarrow.Schema`` (or a struct type) of the rows: nested
            structs, lists, maps, timestamps (from ISO 8601 strings or epoch
            numbers in the column's unit), dates, decimals. Members not in
            the schema are ignored; a missing member or ``null`` is null.
            ``None``: inferred with pyarrow from the first ``sample`` records
            of the topic when the manager is created, then fixed; a later
            record that does not fit it (a member of another type) is
            malformed and follows ``on_error``; new members are ignored.
        sample: records read to infer a schema (default 1000).
    """

    schema: "pa.Schema | pa.StructType | None" = None
    sample: int = DEFAULT_SAMPLE
    format_name = "json"

    def to_spec(self) -> dict[str, Any]:
        out = self._common()
        if self.schema is None:
            raise ConfigError("Json(): the schema was not inferred (internal: infer before building the spec)")
        out["arrow_schema"] = base64.b64encode(_as_schema(self.schema).serialize().to_pybytes()).decode()
        return out


def _as_schema(s: Any) -> "pa.Schema":
    import pyarrow as pa

    if isinstance(s, pa.Schema):
        return s
    if isinstance(s, pa.StructType):
        return pa.schema(list(s))
    raise ConfigError(f"Json(schema=...) must be a pyarrow.Schema or struct type, got {type(s).__name__}")


@dataclass(frozen=True)
class Avro(_Format):
    """Avro datums, raw or in the Confluent wire format (magic byte 0 and a
    4-byte schema id, written by Confluent's and Apicurio's serializers).

    Args:
        schema: the Avro schema (JSON text or a dict). With raw datums it is
            the writer schema; with a registry it is the reader schema every
            writer schema is resolved against (Avro's resolution rules:
            added fields take their defaults, removed ones are skipped,
            numeric promotions). Default with a registry: the latest version
            of ``subject`` when the manager is created.
        registry: a URL or :class:`SchemaRegistry`; records are then
            Confluent-framed unless ``framing="raw"``.
        subject: the registry subject of the reader schema (default
            ``"<topic>-value"`` or ``"<topic>-key"``).
        framing: ``"raw"`` or ``"confluent"`` (default: confluent with a
            registry, raw without).

    As a ``produce()`` format: ``Avro(registry=URL)`` derives the writer
    schema from the column's Arrow type and registers it;
    ``Avro(schema=..., registry=URL)`` writes with the schema given, under
    the id of the subject's latest schema when that one encodes the same
    way (else the schema is registered); ``Avro(schema=...)`` writes raw
    datums of it.
    """

    schema: str | Mapping[str, Any] | None = None
    registry: RegistryLike | None = None
    subject: str | None = None
    framing: str | None = None
    format_name = "avro"

    def to_spec(self) -> dict[str, Any]:
        out = self._common()
        if self.schema is not None:
            out["schema"] = self.schema if isinstance(self.schema, str) else json.dumps(self.schema)
        if self.registry is not None:
            out["registry"] = _registry(self.registry)
        if self.subject:
            out["subject"] = self.subject
        if self.framing is not None:
            if self.framing not in FRAMINGS:
                raise ConfigError(f"Avro: framing must be one of {FRAMINGS}, got {self.framing!r}")
            out["framing"] = self.framing
        if self.schema is None and self.registry is None:
            raise ConfigError("Avro() needs a schema (raw datums) or a registry (Confluent-framed records)")
        return out


@dataclass(frozen=True)
class Protobuf(_Format):
    """Protobuf messages, raw or in the Confluent wire format (schema id and
    message indexes).

    Args:
        message: the full name of the message type (``"shop.v1.Order"``).
            With a registry and no descriptors, default: the first message
            of the subject's schema.
        descriptors: a serialized ``FileDescriptorSet`` (bytes, or the path
            of a file written by ``protoc --include_imports
            --descriptor_set_out=FILE``).
        registry: a URL or :class:`SchemaRegistry`.
        subject: the registry subject of the reader schema (default
            ``"<topic>-value"`` or ``"<topic>-key"``).
        framing: ``"raw"`` or ``"confluent"`` (default: confluent with a
            registry, raw without).

    As a ``produce()`` format: rows of a struct column are written as
    messages of ``message``, taken from ``descriptors`` (raw messages) or
    from the latest schema of ``subject`` in ``registry`` (framed with its
    id and the message's index path); struct fields are matched to message
    fields by name.
    """

    message: str | None = None
    descriptors: bytes | str | os.PathLike[str] | None = None
    registry: RegistryLike | None = None
    subject: str | None = None
    framing: str | None = None
    format_name = "protobuf"

    def to_spec(self) -> dict[str, Any]:
        out = self._common()
        if self.message:
            out["message"] = self.message
        if self.descriptors is not None:
            d = self.descriptors
            if not isinstance(d, (bytes, bytearray)):
                try:
                    with open(d, "rb") as f:
                        d = f.read()
                except OSError as exc:
                    raise ConfigError(f"Protobuf(descriptors={self.descriptors!r}): cannot read the file: {exc}") from None
            out["descriptors"] = base64.b64encode(bytes(d)).decode()
        if self.registry is not None:
            out["registry"] = _registry(self.registry)
        if self.subject:
            out["subject"] = self.subject
        if self.framing is not None:
            if self.framing not in FRAMINGS:
                raise ConfigError(f"Protobuf: framing must be one of {FRAMINGS}, got {self.framing!r}")
            out["framing"] = self.framing
        if self.descriptors is None and self.registry is None:
            raise ConfigError("Protobuf() needs descriptors (a FileDescriptorSet) or a registry")
        return out


Format = Union[Json, Avro, Protobuf]

