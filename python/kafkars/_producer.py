"""Producing Arrow data to Kafka, and dead letters.

``produce()`` writes the rows of a pyarrow Table, RecordBatch,
RecordBatchReader or anything with ``__arrow_c_stream__`` (polars, DuckDB,
pandas >= 2.2) to one topic. The data crosses into the Go core through the
Arrow C stream interface; the core hands every row to librdkafka in one
native call per batch, so Python never touches a row. It returns once every
record is acknowledged by the broker, or raises :class:`ProduceError`
naming the first row that failed.

``send_to_dead_letter()`` writes rows returned by ``poll()`` to a
dead-letter topic, key and value unchanged, with Kafka Connect's
``__connect.errors.*`` headers saying where each record came from and why
it failed (docs/guides/producing.md).
"""

from __future__ import annotations

import json
import sys
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Sequence, Union

import pyarrow as pa
import pyarrow.compute as pc

from kafkars import _lib
from kafkars._errors import ConfigError, ProduceError
from kafkars._progress import Progress

if TYPE_CHECKING:
    from kafkars.formats import Avro, Protobuf

#: What ``produce()`` accepts as data.
ArrowData = Union[pa.Table, pa.RecordBatch, pa.RecordBatchReader, Any]

#: Inputs at least this large get a progress bar when stderr is a terminal.
PROGRESS_MIN_ROWS = 200_000


@dataclass(frozen=True)
class PartitionCount:
    """Records of one partition acknowledged by a send."""

    records: int
    first_offset: int
    last_offset: int


@dataclass(frozen=True)
class ProduceResult:
    """What a send wrote: only acknowledged records are counted.

    ``partitions`` maps each partition to its acknowledged records and the
    first and last offset they were written at.
    """

    topic: str
    records: int
    bytes: int
    seconds: float
    partitions: dict[int, PartitionCount] = field(default_factory=dict)
    #: rows read from the input (all of them on success)
    rows: int = 0
    #: failed deliveries, and rows read but never handed to Kafka (after a failure)
    failed: int = 0
    not_sent: int = 0
    #: Avro writer schemas registered for this send: role ("key" or
    #: "value") -> (subject, schema id)
    schemas: dict[str, tuple[str, int]] = field(default_factory=dict)

    @classmethod
    def _from_json(cls, d: Mapping[str, Any]) -> "ProduceResult":
        parts = {int(p["partition"]): PartitionCount(int(p["records"]), int(p["first_offset"]), int(p["last_offset"]))
                 for p in d.get("partitions") or []}
        return cls(topic=d["topic"], records=int(d["records"]), bytes=int(d["bytes"]), seconds=float(d["seconds"]),
                   partitions=parts, rows=int(d["rows"]), failed=int(d["failed"]), not_sent=int(d["not_sent"]),
                   schemas={str(x["role"]): (str(x["subject"]), int(x["id"])) for x in d.get("schemas") or []})


def _config_dict(config: Mapping[str, Any]) -> dict[str, str]:
    if not isinstance(config, Mapping):
        raise ConfigError(f"config must be a dict of librdkafka properties, got {type(config).__name__}")
    out: dict[str, str] = {}
    for k, v in config.items():
        if not isinstance(k, str):
            raise ConfigError(f"config keys must be strings, got {k!r}")
        if isinstance(v, bool):
            out[k] = "true" if v else "false"
        elif isinstance(v, (str, int, float)):
            out[k] = str(v)
        else:
            raise ConfigError(f"config property {k!r}: value must be a string, number or bool, got {type(v).__name__} {v!r}")
    return out


def _reader(data: ArrowData) -> tuple[pa.RecordBatchReader, int | None]:
    """The data as a RecordBatchReader, and its row count when known."""
    if isinstance(data, pa.Table):
        return data.to_reader(), data.num_rows
    if isinstance(data, pa.RecordBatch):
        return pa.RecordBatchReader.from_batches(data.schema, [data]), data.num_rows
    if isinstance(data, pa.RecordBatchReader):
        return data, None
    if hasattr(data, "__arrow_c_stream__"):
        from_stream = getattr(pa.RecordBatchReader, "from_stream", None)
        if from_stream is not None:
            reader = from_stream(data)
        else:  # pyarrow 14
            reader = pa.RecordBatchReader._import_from_c_capsule(data.__arrow_c_stream__())
        n = None
        if type(data).__module__.split(".")[0] in ("polars", "pandas"):  # they know their size (DuckDB would count)
            try:
                n = int(data.shape[0])
            except Exception:  # noqa: BLE001 - only for the progress bar
                n = None
        return reader, n
    if isinstance(data, Sequence) and data and all(isinstance(b, pa.RecordBatch) for b in data):
        return pa.RecordBatchReader.from_batches(data[0].schema, list(data)), sum(b.num_rows for b in data)
    raise ConfigError(
        f"data must be a pyarrow Table, RecordBatch or RecordBatchReader, or have __arrow_c_stream__ "
        f"(polars, DuckDB), got {type(data).__name__}"
    )


def _format_arg(name: str, f: Any) -> dict[str, Any] | None:
    """The produce spec of a key or value format: None (JSON), Avro with a
    registry, or Protobuf with descriptors or a registry."""
    from kafkars.formats import Avro, Json, Protobuf, _registry

    if f is None or f == "json":
        return None
    if isinstance(f, Json):
        if f.schema is not None or f.column is not None or f.on_error != "raise" or not f.keep_raw:
            raise ConfigError(f"{name}: Json() takes no arguments when producing: the JSON is written from the "
                              f"column's Arrow type")
        return None
    if not isinstance(f, (Avro, Protobuf)):
        raise ConfigError(f"{name} must be None or kafkars.Json() (JSON), kafkars.Avro(registry=... or schema=...) or "
                          f"kafkars.Protobuf(descriptors=... or registry=...), got {f!r}")
    if f.column is not None or f.on_error != "raise" or not f.keep_raw:
        raise ConfigError(f"{name}: column, on_error and keep_raw are for reading; producing uses registry, "
                          f"subject and framing{' (and message, descriptors)' if isinstance(f, Protobuf) else ''} only")
    if isinstance(f, Avro):
        if f.registry is None and f.schema is None:
            raise ConfigError(f"{name}: producing Avro needs registry=... (the writer schema, derived from the column's "
                              f"Arrow type, is registered there) or schema=... (raw datums of that schema)")
        spec = f.to_spec()
        out: dict[str, Any] = {"format": "avro"}
        for k in ("registry", "schema"):
            if k in spec:
                out[k] = spec[k]
    else:
        spec = f.to_spec()  # checks descriptors or registry, reads the descriptor file
        out = {"format": "protobuf"}
        for k in ("registry", "message", "descriptors"):
            if k in spec:
                out[k] = spec[k]
        if "descriptors" in out and "registry" in out:
            raise ConfigError(f"{name}: producing Protobuf takes the message type from descriptors (raw records) or "
                              f"from a registry (the subject's latest schema, Confluent-framed), not both")
        if "descriptors" in out and not f.message:
            raise ConfigError(f"{name}: Protobuf(descriptors=...) needs message=... (the full name of the message type)")
    if f.subject:
        out["subject"] = f.subject
    if f.framing is not None:
        out["framing"] = f.framing
    return out


def _column_arg(name: str, v: Any) -> str:
    if v is None:
        return ""
    if not isinstance(v, str) or not v:
        raise ConfigError(f"{name} must be a column name (a non-empty str) or None, got {v!r}")
    return v


class Producer:
    """A Kafka producer for Arrow data; reuse it for many sends (one at a time).

    Args:
        config: librdkafka producer properties; at least ``bootstrap.servers``.
            kafkars sets ``enable.idempotence=true`` unless you set it, so
            every send is acknowledged by all in-sync replicas (acks=all)
            and retries neither duplicate nor reorder records.
        startup_timeout_ms: a send waits this long for the topic's metadata
            (default 15 000) before raising BrokerUnavailableError.
    """

    def __init__(self, config: Mapping[str, Any], *, startup_timeout_ms: int | None = None) -> None:
        self._h: _lib.ProducerHandle | None = None
        spec: dict[str, Any] = {"config": _config_dict(config)}
        if startup_timeout_ms is not None:
            if isinstance(startup_timeout_ms, bool) or not isinstance(startup_timeout_ms, int) or startup_timeout_ms <= 0:
                raise ConfigError(f"startup_timeout_ms must be a positive int, got {startup_timeout_ms!r}")
            spec["startup_timeout_ms"] = startup_timeout_ms
        self._h = _lib.ProducerHandle(json.dumps(spec).encode())

    def produce(
        self,
        topic: str,
        data: ArrowData,
        *,
        key: str | None = None,
        value: str | None = "value",
        timestamp: str | None = None,
        partition: str | None = None,
        headers: str | None = None,
        progress: bool | None = None,
        key_format: Avro | Protobuf | None = None,
        value_format: Avro | Protobuf | None = None,
    ) -> ProduceResult:
        """Write every row of ``data`` to ``topic``; see :func:`kafkars.produce`."""
        if not isinstance(topic, str) or not topic:
            raise ConfigError(f"topic must be a non-empty str, got {topic!r}")
        spec = {
            "topic": topic,
            "key": _column_arg("key", key),
            "value": _column_arg("value", value),
            "timestamp": _column_arg("timestamp", timestamp),
            "partition": _column_arg("partition", partition),
            "headers": _column_arg("headers", headers),
        }
        for role, f in (("key_format", key_format), ("value_format", value_format)):
            fs = _format_arg(role, f)
            if fs is not None:
                spec[role] = fs
        reader, total = _reader(data)
        if progress is None:
            progress = sys.stderr.isatty() and (total is None or total >= PROGRESS_MIN_ROWS)
        bar = Progress(total, f"kafkars produce {topic}") if progress else None
        done = [0]

        def on_progress(acked: int) -> None:
            if bar is not None and acked > done[0]:
                bar.update(acked - done[0])
                done[0] = acked

        try:
            status, res = self._handle().send(json.dumps(spec).encode(), reader, on_progress)
            on_progress(int(res.get("records", 0)))
        finally:
            if bar is not None:
                bar.close()
        result = ProduceResult._from_json(res)
        if status != 0:
            err = _lib.error(status, res.get("_message") or res.get("error") or "")
            if isinstance(err, ProduceError):
                err.row = res.get("failed_row")
                err.result = result
            raise err
        return result

    def send_to_dead_letter(
        self,
        topic: str,
        rows: pa.RecordBatch | pa.Table,
        error: str | BaseException | None = None,
        *,
        error_column: str | None = None,
    ) -> ProduceResult:
        """Write rows returned by ``poll()`` to the dead-letter topic; see
        :func:`kafkars.send_to_dead_letter`."""
        table = dead_letter_table(rows, error, error_column=error_column)
        return self.produce(topic, table, key="key", value="value", timestamp="timestamp", headers="headers",
                            progress=False)

    @property
    def closed(self) -> bool:
        return self._h is None or self._h.closed

    def close(self) -> None:
        """Free the producer. Idempotent. A send running in another thread is aborted."""
        if self._h is not None:
            self._h.close()

    def __enter__(self) -> "Producer":
        self._handle()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def _handle(self) -> _lib.ProducerHandle:
        from kafkars._errors import ClosedError

        if self._h is None or self._h.closed:
            raise ClosedError("the Producer is closed; create a new one")
        return self._h

    def __repr__(self) -> str:
        return f"Producer(closed={self.closed})"


def produce(
    config: Mapping[str, Any],
    topic: str,
    data: ArrowData,
    *,
    key: str | None = None,
    value: str | None = "value",
    timestamp: str | None = None,
    partition: str | None = None,
    headers: str | None = None,
    progress: bool | None = None,
    startup_timeout_ms: int | None = None,
    key_format: Avro | Protobuf | None = None,
    value_format: Avro | Protobuf | None = None,
) -> ProduceResult:
    """Write every row of ``data`` to ``topic`` and return once Kafka has
    acknowledged all of them.

    Args:
        config: librdkafka producer properties (``bootstrap.servers`` at
            least). Idempotent with acks=all unless you set
            ``enable.idempotence``.
        topic: the topic (it must exist).
        data: a pyarrow Table, RecordBatch, RecordBatchReader, or anything
            with ``__arrow_c_stream__`` (a polars DataFrame, a DuckDB
            result): read batch by batch, never converted to Python objects.
        key, value: the columns of the record key and value (None: null).
            Binary and string columns are sent as they are; other types
            (structs, lists, numbers, ...) are encoded as JSON, or as Avro
            with ``value_format`` / ``key_format``.
        timestamp: a timestamp column (any unit) or int64 epoch
            milliseconds; None or a null: the producer's clock.
        partition: an int32 column; None or a null: librdkafka's
            partitioner (by key hash).
        headers: a ``list<struct<key: string, value: binary>>`` or
            ``map<string, binary>`` column (what ``include_headers`` gives).
        progress: a progress bar on stderr; default: on a terminal for
            inputs of 200 000 rows or more (or of unknown size).
        startup_timeout_ms: how long to wait for the topic's metadata.
        key_format, value_format: None or ``kafkars.Json()`` (JSON), or
            ``kafkars.Avro(registry=URL)``: the Avro writer schema is
            derived from the column's Arrow type, registered under
            ``subject`` (default ``"<topic>-value"`` / ``"<topic>-key"``)
            before anything is sent, and every record is Confluent-framed
            with its id (``framing="raw"``: plain datums), as Confluent's
            and Apicurio's serializers write them. ``Avro(schema=...,
            registry=URL)`` writes with the schema given instead (the
            topic's existing one, say; struct fields matched by name,
            missing ones written with their defaults); ``Avro(schema=...)``
            alone writes raw datums of it. Or
            ``kafkars.Protobuf(descriptors=FILE, message=NAME)`` (raw
            messages) or ``kafkars.Protobuf(registry=URL)`` (the message
            type from the subject's latest schema, Confluent-framed with its
            id and message index): the column is a struct whose fields are
            matched to the message's by name; a field the message does not
            have, or a type its field cannot take, fails before anything is
            sent.

    Returns:
        a :class:`ProduceResult`: records and bytes acknowledged, per
        partition with their offsets.

    Raises:
        ProduceError: a record could not be written; the message names the
            first row that failed and why, ``.row`` is its index and
            ``.result`` counts what was acknowledged.
        ConfigError (a column that does not exist or has the wrong type, a
        bad property), TopicNotFoundError, BrokerUnavailableError.
    """
    with Producer(config, startup_timeout_ms=startup_timeout_ms) as p:
        return p.produce(topic, data, key=key, value=value, timestamp=timestamp, partition=partition,
                         headers=headers, progress=progress, key_format=key_format, value_format=value_format)


#: Kafka Connect's dead-letter-queue context headers (DeadLetterQueueReporter).
DLQ_TOPIC = "__connect.errors.topic"
DLQ_PARTITION = "__connect.errors.partition"
DLQ_OFFSET = "__connect.errors.offset"
DLQ_EXCEPTION_CLASS = "__connect.errors.exception.class.name"
DLQ_EXCEPTION_MESSAGE = "__connect.errors.exception.message"
DLQ_EXCEPTION_STACKTRACE = "__connect.errors.exception.stacktrace"
#: kafkars' own: the original timestamp in epoch ms (the record keeps it
#: too, as Connect does, unless the dead-letter topic uses LogAppendTime).
DLQ_TIMESTAMP = "__kafkars.errors.timestamp"

_HEADER_TYPE = pa.list_(pa.struct([("key", pa.string()), ("value", pa.binary())]))


def _as_table(rows: pa.RecordBatch | pa.Table) -> pa.Table:
    if isinstance(rows, pa.RecordBatch):
        return pa.Table.from_batches([rows])
    if isinstance(rows, pa.Table):
        return rows
    raise ConfigError(f"rows must be a pyarrow RecordBatch or Table returned by poll(), got {type(rows).__name__}")


def _repeat(v: Any, n: int, typ: pa.DataType = pa.string()) -> pa.Array:
    return pa.repeat(pa.scalar(v, typ), n)


def dead_letter_table(
    rows: pa.RecordBatch | pa.Table,
    error: str | BaseException | None = None,
    *,
    error_column: str | None = None,
) -> pa.Table:
    """The table :meth:`Producer.send_to_dead_letter` sends: ``key``,
    ``value`` and ``timestamp`` as they were, and ``headers``: the
    original headers (if ``rows`` has them), then Kafka Connect's context
    headers. Vectorised: no Python per row."""
    t = _as_table(rows)
    missing = [c for c in ("key", "value", "topic", "partition", "offset", "timestamp") if c not in t.column_names]
    if missing:
        raise ConfigError(
            f"rows must have the columns of poll()'s batches; missing {missing} (a typed value needs keep_raw=True: "
            f"the dead-letter topic gets the original bytes)"
        )
    if (error is None) == (error_column is None):
        raise ConfigError("pass exactly one of error (a text or an exception, for every row) and error_column (a column of texts)")
    n = t.num_rows
    t = t.combine_chunks()

    def texts(col: pa.ChunkedArray | pa.Array) -> pa.Array:
        arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
        return pc.cast(arr, pa.string())

    ctx: list[tuple[str, pa.Array]] = [
        (DLQ_TOPIC, texts(t.column("topic"))),
        (DLQ_PARTITION, texts(t.column("partition"))),
        (DLQ_OFFSET, texts(t.column("offset"))),
        (DLQ_TIMESTAMP, texts(pc.cast(t.column("timestamp"), pa.int64()))),
    ]
    if error_column is not None:
        if error_column not in t.column_names:
            raise ConfigError(f"error_column {error_column!r} is not a column of rows; they have {t.column_names}")
        ctx.append((DLQ_EXCEPTION_MESSAGE, texts(t.column(error_column))))
    elif isinstance(error, BaseException):
        cls = type(error)
        ctx.append((DLQ_EXCEPTION_CLASS, _repeat(f"{cls.__module__}.{cls.__qualname__}", n)))
        ctx.append((DLQ_EXCEPTION_MESSAGE, _repeat(str(error), n)))
        if error.__traceback__ is not None:
            trace = "".join(traceback.format_exception(cls, error, error.__traceback__))
            ctx.append((DLQ_EXCEPTION_STACKTRACE, _repeat(trace, n)))
    elif isinstance(error, str):
        ctx.append((DLQ_EXCEPTION_MESSAGE, _repeat(error, n)))
    else:
        raise ConfigError(f"error must be a str or an exception, got {type(error).__name__}")
    names = {name for name, _ in ctx}

    # header entries, sorted (stably) by (row, group, seq): a row's original
    # headers first (group 0, in their order), then the context (group 1)
    rows_idx: list[pa.Array] = []
    group: list[pa.Array] = []
    seq: list[pa.Array] = []
    ekeys: list[pa.Array] = []
    evals: list[pa.Array] = []
    if "headers" in t.column_names:
        h = t.column("headers").combine_chunks()
        if isinstance(h.type, pa.MapType):  # the same layout as a list of entries
            h = h.view(pa.list_(pa.struct([h.type.key_field, h.type.item_field])))
        flat = pc.list_flatten(h)
        if isinstance(flat.type, pa.StructType):
            fk, fv = flat.field(0), flat.field(1)
        else:
            raise ConfigError(f"rows' headers column has type {h.type}: want list<struct<key, value>> or map<string, binary>")
        parent = pc.list_parent_indices(h)
        keep = pc.invert(pc.is_in(pc.cast(fk, pa.string()), value_set=pa.array(sorted(names), pa.string())))
        keep = pc.fill_null(keep, True)
        rows_idx.append(pc.filter(pc.cast(parent, pa.int64()), keep))
        ekeys.append(pc.filter(pc.cast(fk, pa.string()), keep))
        evals.append(pc.filter(pc.cast(fv, pa.binary()), keep))
        m = len(rows_idx[-1])
        group.append(_repeat(0, m, pa.int8()))
        seq.append(_repeat(0, m, pa.int64()))
    row_numbers = pc.subtract(pc.cumulative_sum(_repeat(1, n, pa.int64())), 1)
    for c, (name, vals) in enumerate(ctx):
        rows_idx.append(row_numbers)
        group.append(_repeat(1, n, pa.int8()))
        seq.append(_repeat(c, n, pa.int64()))
        ekeys.append(_repeat(name, n))
        evals.append(pc.cast(vals, pa.binary()))
    entries = pa.table({
        "row": pa.concat_arrays(rows_idx),
        "group": pa.concat_arrays(group),
        "seq": pa.concat_arrays(seq),
        "key": pa.concat_arrays(ekeys),
        "value": pa.concat_arrays(evals),
    })
    entries = entries.take(pc.sort_indices(entries, [("row", "ascending"), ("group", "ascending"), ("seq", "ascending")]))
    # every row has context entries, so every row has a group, in row order
    g = entries.group_by("row", use_threads=False).aggregate([("key", "list"), ("value", "list")])
    klist = g.column("key_list").combine_chunks()
    vlist = g.column("value_list").combine_chunks()
    structs = pa.StructArray.from_arrays([pc.list_flatten(klist), pc.list_flatten(vlist)], names=["key", "value"])
    offsets = pc.subtract(klist.offsets, klist.offsets[0])
    headers = pa.ListArray.from_arrays(offsets, structs, type=_HEADER_TYPE)
    return pa.table({
        "key": t.column("key"),
        "value": t.column("value"),
        "timestamp": t.column("timestamp"),
        "headers": headers,
    })


def send_to_dead_letter(
    config: Mapping[str, Any] | Producer,
    topic: str,
    rows: pa.RecordBatch | pa.Table,
    error: str | BaseException | None = None,
    *,
    error_column: str | None = None,
) -> ProduceResult:
    """Write rows returned by ``poll()`` (or a filter of them) to the
    dead-letter ``topic`` and return once Kafka has acknowledged them all.

    Each record keeps its key, value and timestamp and its original headers
    (read with ``include_headers=True`` to keep them), followed by Kafka
    Connect's dead-letter context headers (UTF-8 text):
    ``__connect.errors.topic``, ``__connect.errors.partition``,
    ``__connect.errors.offset``, ``__connect.errors.exception.message``
    (``error``, or the row's value of ``error_column``) and, when ``error``
    is an exception, ``__connect.errors.exception.class.name`` and
    ``__connect.errors.exception.stacktrace``; plus
    ``__kafkars.errors.timestamp`` (the original timestamp, epoch ms).
    An original header of one of these names is replaced.

    ``config`` may be a :class:`Producer`, reused (cheaper in a loop), or
    librdkafka properties for a producer made for this call.

    Raises ProduceError (and the errors of :func:`produce`): then some rows
    may not be in the dead-letter topic, so do not commit past them.
    """
    if isinstance(config, Producer):
        return config.send_to_dead_letter(topic, rows, error, error_column=error_column)
    with Producer(config) as p:
        return p.send_to_dead_letter(topic, rows, error, error_column=error_column)
