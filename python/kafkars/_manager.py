"""ConsumerManager: ordered replay and tailing of Kafka topics as Arrow
batches, and the bounded reads built on it (iterate, read into a Table,
stream to DuckDB/polars).

``until`` bounds every bounded read:

* ``"live"`` (default): everything in the topics when the manager was
  created, i.e. until :meth:`ConsumerManager.is_live`;
* a time (epoch ms, datetime, or a string such as
  ``"2026-11-23T12:00:00Z"``): records with timestamp before it, in replay
  order. The read stops at the first record at or after the time (kept for
  the next poll, not lost), once the frontier has passed it, or, when the
  manager is live, once the clock has passed it (so a future time tails
  live records until then);
* ``None``: no bound (iterate for ever, e.g. live tailing).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import html
import json
import re
from typing import Any, Iterable, Iterator, Mapping, Sequence, Union

import pyarrow as pa

from kafkars import _lib
from kafkars._errors import ClosedError, ConfigError, ConfigOverflowError, ConfigTypeError
from kafkars._frames import import_pandas, import_polars
from kafkars._progress import Progress
from kafkars._time import TimeLike, int_like, to_epoch_ms
from kafkars._topics import SourceTopic, as_source_topic, check_topic_types
from kafkars.formats import Json

Until = Union[str, int, _dt.datetime, None]

_MAX_INT32 = 2**31 - 1


def until_code(until: Until) -> int:
    """The C ABI's until_ms for an ``until`` argument."""
    if until is None:
        return _lib.UNTIL_NONE
    if isinstance(until, str) and until == "live":
        return _lib.UNTIL_LIVE
    ms = to_epoch_ms(until, "until")
    if ms < 0:
        raise ConfigError(f"until must be >= 0 epoch milliseconds, got {ms}")
    return ms


def _config_value(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise ConfigTypeError(
        f"config property {key!r}: value must be a string, number or bool, got {type(value).__name__} {value!r}"
    )


#: librdkafka names the property but not the value in "Invalid value for
#: configuration property" errors; the value is added unless the property
#: may hold a secret.
_PROPERTY_IN_MESSAGE = re.compile(r'configuration property "([^"]+)"')
_SECRET_WORDS = ("password", "secret", "token", "jaas", "key", "credential", "sasl.oauthbearer.config")


def _name_value(message: str, config: Mapping[str, str]) -> str:
    m = _PROPERTY_IN_MESSAGE.search(message)
    if m is None or m.group(1) not in config or "Invalid value" not in message:
        return message
    prop = m.group(1)
    if any(w in prop.lower() for w in _SECRET_WORDS):
        return message
    value = config[prop]
    if f'"{value}"' in message or repr(value) in message:
        return message
    return f"{message}: got {value!r}"


def _build_spec(
    config: Mapping[str, Any],
    topics: Sequence[SourceTopic | Mapping[str, Any]],
    *,
    cutoff_ms: TimeLike | None,
    batch_size: int | None,
    linger_ms: int,
    max_buffered_messages: int | None,
    max_buffered_bytes: int | None,
    include_headers: bool | str,
    startup_timeout_ms: int | None,
    broker_down_timeout_ms: int | None,
    late: str = "keep",
    ordering_timestamp: bool = False,
    live_order: str = "arrival",
    max_idle_ms: int | None = None,
    subscribe: bool = False,
    binary_view: bool = False,
) -> tuple[dict[str, Any], list[SourceTopic]]:
    if not isinstance(config, Mapping):
        raise ConfigTypeError(f"config must be a dict of librdkafka properties, got {type(config).__name__}")
    cfg: dict[str, str] = {}
    for k, v in config.items():
        if not isinstance(k, str):
            raise ConfigTypeError(f"config keys must be strings, got {k!r}")
        cfg[k] = _config_value(k, v)
    if isinstance(topics, (str, bytes)):
        name = topics.decode("utf-8", "replace") if isinstance(topics, bytes) else topics
        raise ConfigTypeError(
            f"topics must be a list of SourceTopic, got the {type(topics).__name__} {topics!r}: "
            f"write [SourceTopic.from_earliest({name!r})]"
        )
    if isinstance(topics, Mapping) or not isinstance(topics, Iterable):
        raise ConfigTypeError(
            f"topics must be a list of SourceTopic, e.g. [SourceTopic.from_earliest('t')], "
            f"got {type(topics).__name__} {topics!r}"
        )
    tl = [as_source_topic(t, i) for i, t in enumerate(topics)]
    for i, t in enumerate(tl):
        check_topic_types(t, i)
    ints = {
        "batch_size": batch_size,
        "linger_ms": linger_ms,
        "max_buffered_messages": max_buffered_messages,
        "max_buffered_bytes": max_buffered_bytes,
        "startup_timeout_ms": startup_timeout_ms,
        "broker_down_timeout_ms": broker_down_timeout_ms,
    }
    for name, v in ints.items():
        if v is None:
            continue
        n = int_like(v)
        if n is None:
            raise ConfigTypeError(f"{name} must be an int, got {type(v).__name__} {v!r}")
        if name == "batch_size" and n < 0:
            raise ConfigOverflowError(f"batch_size must be >= 1, got {n}")
        if name != "max_buffered_bytes" and abs(n) > _MAX_INT32:
            raise ConfigOverflowError(f"{name} is out of range: {n}")
        ints[name] = n
    if include_headers in (True, False):
        headers: dict[str, Any] = {"include_headers": bool(include_headers)}
    elif include_headers in ("list", "map"):
        headers = {"include_headers": True, "headers_layout": include_headers}
    else:
        raise ConfigError(f"include_headers must be True, False, 'list' or 'map', got {include_headers!r}")
    if late not in LATE_POLICIES:
        raise ConfigError(f"late must be one of {LATE_POLICIES}, got {late!r}")
    if not isinstance(ordering_timestamp, bool):
        raise ConfigError(f"ordering_timestamp must be True or False, got {ordering_timestamp!r}")
    if not isinstance(binary_view, bool):
        raise ConfigError(f"binary_view must be True or False, got {binary_view!r}")
    if live_order not in ("arrival", "event_time"):
        raise ConfigError(f"live_order must be 'arrival' or 'event_time', got {live_order!r}")
    if max_idle_ms is not None and (isinstance(max_idle_ms, bool) or not isinstance(max_idle_ms, int)):
        raise ConfigError(f"max_idle_ms must be an int (milliseconds), got {max_idle_ms!r}")
    if not isinstance(subscribe, bool):
        raise ConfigError(f"subscribe must be True or False, got {subscribe!r}")
    if any(isinstance(f, Json) and f.schema is None for t in tl for f in (t.key, t.value)):
        tl = infer_json_schemas(cfg, tl, startup_timeout_ms)
    spec: dict[str, Any] = {
        "config": cfg,
        "topics": [t.to_spec() for t in tl],
        "cutoff_ms": None if cutoff_ms is None else to_epoch_ms(cutoff_ms, "cutoff_ms"),
        **headers,
        "late": late,
        "ordering_timestamp": ordering_timestamp,
        "binary_view": binary_view,
        "live_order": live_order,
        **({} if max_idle_ms is None else {"max_idle_ms": max_idle_ms}),
        "subscribe": subscribe,
        **{k: v for k, v in ints.items() if v is not None},
    }
    return spec, tl


#: What happens to late records (docs/design.md, "Order key").
LATE_POLICIES = ("keep", "rewrite", "drop")


def infer_json_schemas(cfg: dict[str, str], topics: list[SourceTopic], startup_timeout_ms: int | None) -> list[SourceTopic]:
    """Topics whose Json format has no schema get one inferred by pyarrow
    from the first ``sample`` records the topic would replay (read by a
    short-lived manager), then fixed for the life of the manager."""
    import io

    import pyarrow.json as pj

    out = []
    for t in topics:
        todo = [(which, f) for which, f in (("key", t.key), ("value", t.value)) if isinstance(f, Json) and f.schema is None]
        if not todo:
            out.append(t)
            continue
        plain = dataclasses.replace(t, key=None, value=None)
        n = max(f.sample for _, f in todo)
        with ConsumerManager(cfg, [plain], batch_size=min(n, 10_000), startup_timeout_ms=startup_timeout_ms) as m:
            rows: list[pa.RecordBatch] = []
            got = 0
            for batch in m.iter_batches("live"):
                rows.append(batch)
                got += batch.num_rows
                if got >= n:
                    break
        sample = pa.Table.from_batches(rows, schema=m.schema) if rows else None
        changes: dict[str, Any] = {}
        for which, f in todo:
            vals = [] if sample is None else [v for v in sample.column(which).to_pylist()[: f.sample] if v]
            if not vals:
                raise ConfigError(
                    f"topic {t.name!r}: cannot infer the {which} schema of Json(): the replay has no records to sample "
                    f"(policy {t.policy!r}); pass Json(schema=pa.schema([...]))"
                )
            try:
                inferred = pj.read_json(io.BytesIO(b"\n".join(v.replace(b"\n", b" ") for v in vals))).schema
            except pa.ArrowInvalid as exc:
                raise ConfigError(
                    f"topic {t.name!r}: cannot infer the {which} schema of Json() from {len(vals)} sampled records: {exc}; "
                    f"pass Json(schema=...)"
                ) from None
            changes[which] = dataclasses.replace(f, schema=inferred)
        out.append(dataclasses.replace(t, **changes))
    return out


class ConsumerManager:
    """Replays Kafka topics in event-timestamp order, then tails them live.

    ``poll()`` returns ``pyarrow.RecordBatch``es with :data:`MESSAGE_SCHEMA`
    whose rows, across all partitions and topics, are in order of
    ``(timestamp, topic rank, partition, offset)`` until the replay is live;
    every record is delivered once; the replay always ends, and memory stays
    bounded (docs/design.md states these guarantees).

    Args:
        config: librdkafka consumer properties; at least ``bootstrap.servers``.
            Values may be str, int, float or bool. Yours always win over the
            defaults kafkars sets (see docs/guides/backpressure.md).
        topics: source topics (SourceTopic, dicts or objects with ``name``
            and ``policy``); a topic's position is its rank (ties).
        batch_size: most rows per batch (>= 1; None: the default, 10 000).
            The third and last positional argument, as in the Rust kafkars
            0.0.8; every other argument is keyword-only.
        cutoff_ms: optional time (epoch ms, datetime or string): a
            partition's replay also ends at its first record at or after it.
        linger_ms: how long ``poll()`` waits for a fuller batch once a row is
            releasable. 0: lowest latency; 1000: "batch_size rows or every second".
        max_buffered_messages / max_buffered_bytes: records held back for
            ordering before partitions ahead of the frontier are paused
            (defaults 500 000 and 64 MiB). Held bytes never exceed about
            four times max_buffered_bytes: past three, records of
            partitions holding their share (at least 4 KiB each) are
            dropped and fetched again later
            (``metrics()["records_refetched"]``).
        include_headers: add a ``headers`` column: ``True`` or ``"list"`` for
            ``list<struct<key, value>>`` (order and duplicates kept), ``"map"``
            for ``map<string, binary>``.
        startup_timeout_ms: creation fails with BrokerUnavailableError after
            this long without a broker (default 15 000).
        broker_down_timeout_ms: ``poll()`` raises BrokerUnavailableError after
            brokers have been unreachable this long (default 300 000; 0: never).
        late: records whose timestamp is below the running maximum of their
            partition: ``"keep"`` (default; kept in place, ``timestamp`` can
            go backwards), ``"rewrite"`` (``timestamp`` becomes the ordering
            timestamp, the record's own is in ``original_timestamp``) or
            ``"drop"`` (dropped, counted in ``late_messages``).
        ordering_timestamp: add an ``ordering_timestamp`` column: the
            timestamp rows are ordered by (the running maximum).
        live_order: how live rows (past the replay end) are released:
            ``"arrival"`` (default: as they arrive, lowest latency) or
            ``"event_time"`` (in order across partitions: a live row waits
            until every partition that is not idle has passed it).
        max_idle_ms: with ``live_order="event_time"``, how long a partition
            may go without a record before rows stop waiting for it
            (default 1000): the most a live row waits for a quiet partition.
        subscribe: let the consumer group of ``config["group.id"]`` assign
            the partitions (Kafka's consumer-group protocol, KIP-848 by
            default; ``group.protocol="classic"`` for the classic one with
            the cooperative-sticky assignor). Each assigned partition starts
            at the group's committed offset, else at its topic's policy.
            Order holds across the partitions currently assigned. See
            docs/guides/service.md.
        binary_view: return ``key`` and ``value`` as ``binary_view`` columns
            that point into kafkars' own buffers instead of copies: one copy
            of every value fewer, worth it for large values. pandas, polars
            and DuckDB read them; some ``pyarrow.compute`` functions do not
            take them yet (``.cast(pa.binary())`` makes a copy that all do).
            See docs/guides/batching.md.

    Raises:
        ConfigError, TopicNotFoundError, BrokerUnavailableError, KafkaError
        (each also the built-in exception the Rust kafkars raised for the
        same fault: docs/compat.md).
    """

    def __init__(
        self,
        config: Mapping[str, Any],
        topics: Sequence[SourceTopic | Mapping[str, Any]],
        batch_size: int | None = 10_000,
        *,
        cutoff_ms: TimeLike | None = None,
        linger_ms: int = 5,
        max_buffered_messages: int | None = None,
        max_buffered_bytes: int | None = None,
        include_headers: bool | str = False,
        startup_timeout_ms: int | None = None,
        broker_down_timeout_ms: int | None = None,
        late: str = "keep",
        ordering_timestamp: bool = False,
        live_order: str = "arrival",
        max_idle_ms: int | None = None,
        subscribe: bool = False,
        binary_view: bool = False,
    ) -> None:
        self._h: _lib.Handle | None = None
        spec, tl = _build_spec(
            config,
            topics,
            cutoff_ms=cutoff_ms,
            batch_size=batch_size,
            linger_ms=linger_ms,
            max_buffered_messages=max_buffered_messages,
            max_buffered_bytes=max_buffered_bytes,
            include_headers=include_headers,
            startup_timeout_ms=startup_timeout_ms,
            broker_down_timeout_ms=broker_down_timeout_ms,
            late=late,
            ordering_timestamp=ordering_timestamp,
            live_order=live_order,
            max_idle_ms=max_idle_ms,
            subscribe=subscribe,
            binary_view=binary_view,
        )
        self._topics = tl
        self._subscribe = subscribe
        self._batch_size = batch_size
        self._include_headers = bool(include_headers)
        cfg = spec["config"]
        self._h = _lib.Handle(json.dumps(spec).encode("utf-8"), self._closed_error, lambda m: _name_value(m, cfg))
        self._schema = self._h.schema
        # not empty_table() or pa.array([]): they import pandas (a third of a second)
        self._empty_batch = pa.RecordBatch.from_arrays([pa.nulls(0, f.type) for f in self._schema], schema=self._schema)

    # -- polling ---------------------------------------------------------

    def poll(self, timeout_ms: int = 1000) -> pa.RecordBatch:
        """Return the next batch of ordered rows, never ``None``.

        Returns as soon as ``batch_size`` rows are releasable; otherwise, once
        at least one row is, after at most ``linger_ms`` more; otherwise an
        empty batch at the timeout. The GIL is released while waiting and
        Ctrl-C interrupts within about 100 ms.
        """
        if not isinstance(timeout_ms, float):
            n = int_like(timeout_ms)
            if n is None:
                raise ConfigTypeError(f"timeout_ms must be a number of milliseconds, got {timeout_ms!r}")
            timeout_ms = n
        if timeout_ms < 0:
            raise ConfigOverflowError(f"timeout_ms must be >= 0, got {timeout_ms}")
        batch, _ = self._handle().poll(timeout_ms)
        return self._empty_batch if batch is None else batch

    def iter_batches(
        self, until: Until = "live", *, follow: bool = False, progress: bool = False
    ) -> Iterator[pa.RecordBatch]:
        """Yield non-empty batches, in order, until ``until`` (see the module doc).

        A time bound reads history: it ends at the first record at or after
        the time, or at the replay end, whichever comes first, even when the
        time is in the future. ``follow=True`` reads on into live records
        until one at or after the time arrives or the clock passes it.

        With ``progress=True`` a bar (tqdm if installed) shows records
        released out of records to replay, and the rate.
        """
        code = until_code(until)
        mode = _lib.MODE_FOLLOW if follow else 0
        h = self._handle()
        bar = None
        if progress:
            total = self.metrics()["records_to_replay"] if code == _lib.UNTIL_LIVE else None
            bar = Progress(total, "kafkars replay")
        try:
            while True:
                batch, flags = h.poll(1000, code, mode)
                if batch is not None:
                    if bar is not None:
                        bar.update(batch.num_rows)
                    yield batch
                if flags & _lib.FLAG_UNTIL_REACHED:
                    return
        finally:
            if bar is not None:
                bar.close()

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        """``for batch in manager:`` iterates the replay until it is live."""
        return self.iter_batches("live")

    def read_all(self, until: Until = "live", *, follow: bool = False, progress: bool = False) -> pa.Table:
        """Read the replay (bounded by ``until``; see :meth:`iter_batches`)
        into one ordered Table."""
        if until is None:
            raise ConfigError("read_all needs a bound: until='live' or a time (None would never return)")
        return pa.Table.from_batches(list(self.iter_batches(until, follow=follow, progress=progress)), schema=self._schema)

    def to_reader(self, until: Until = "live", *, follow: bool = False, idle_timeout_ms: int = 60_000) -> pa.RecordBatchReader:
        """A ``pyarrow.RecordBatchReader`` over the replay, backed by an Arrow
        C stream (ArrowArrayStream) exported by the Go core: DuckDB, polars
        and pyarrow read it without Python in the loop.

        Reading waits at most ``idle_timeout_ms`` for each batch, then fails
        rather than blocking for ever (e.g. if the broker is gone). The
        reader is read once: reading it again raises (use ``kafkars.scan``
        for a source that replays afresh on every read).
        """
        code = until_code(until)
        if code == _lib.UNTIL_NONE:
            raise ConfigError("to_reader needs a bound: until='live' or a time")
        return self._handle().stream(code, _lib.MODE_FOLLOW if follow else 0, idle_timeout_ms)

    def to_pandas(self, until: Until = "live", *, progress: bool = False, **to_pandas_kwargs: Any) -> Any:
        """``read_all(until).to_pandas(**to_pandas_kwargs)``: the replay as a
        pandas DataFrame (needs pandas)."""
        import_pandas("ConsumerManager.to_pandas()")
        return self.read_all(until, progress=progress).to_pandas(**to_pandas_kwargs)

    def to_polars(self, until: Until = "live", *, progress: bool = False) -> Any:
        """``polars.from_arrow(read_all(until))``: the replay as a polars
        DataFrame (needs polars)."""
        pl = import_polars("ConsumerManager.to_polars()")
        return pl.from_arrow(self.read_all(until, progress=progress))

    # -- commits -----------------------------------------------------------

    def commit(self, *, asynchronous: bool = False, timeout_ms: int = 10_000) -> dict[tuple[str, int], int]:
        """Store, under ``config["group.id"]``, for every partition this
        manager consumes that has returned a row, the offset after the last
        row ``poll()`` (or ``iter_batches``, ``read_all``, ``to_reader``)
        has returned: the offset ``SourceTopic.from_committed`` resumes at.
        Rows held for ordering or built ahead are never committed.

        Call it after processing what you polled: a process that dies
        before the commit re-reads those rows (at least once). Returns
        ``{(topic, partition): offset}``, what was committed; ``{}`` when
        nothing was returned yet. Waits at most ``timeout_ms`` for the group
        coordinator; a commit refused while the group rebalances is sent
        again within it, for the partitions still owned. ``asynchronous=True`` sends the commit and returns
        without waiting: failures then show in ``metrics()``
        (``commit_failures``, ``last_commit_error``) and in the ``kafkars``
        logger.

        Raises:
            ConfigError: config has no ``group.id`` (kafkars' default one is
                random: nothing could read those offsets back).
            TopicNotFoundError: a topic was deleted.
            KafkaError: the commit failed or timed out (the message names
                the partitions).
            ClosedError: the manager is closed.
        """
        if not isinstance(asynchronous, bool):
            raise ConfigError(f"asynchronous must be True or False, got {asynchronous!r}")
        if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int) or timeout_ms < 0 or timeout_ms > _MAX_INT32:
            raise ConfigError(f"timeout_ms must be an int of milliseconds >= 0, got {timeout_ms!r}")
        done = self._handle().commit(asynchronous, timeout_ms)
        return {(d["topic"], int(d["partition"])): int(d["offset"]) for d in done}

    def partition_lag(self) -> pa.RecordBatch:
        """One row per partition (:data:`PARTITION_LAG_SCHEMA`): the
        committed offset this manager knows (read at creation or assignment,
        or committed by it), the position (next offset to read), the log end
        offset the client last learned from a fetch (no request per call),
        ``lag = end_offset - committed_offset`` and ``lag_to_position =
        end_offset - position``; null where unknown and for partitions not
        assigned to this member. Totals are in ``metrics()`` (``lag``,
        ``lag_to_position``)."""
        return self._handle().lag()

    # -- state -----------------------------------------------------------

    def metrics(self) -> dict[str, Any]:
        """Counters and conditions: held/releasable/paused, records consumed
        and released, late and duplicate records, broker outage, errors."""
        return self._handle().metrics()

    def is_live(self) -> bool:
        """True once every partition has caught up and every replay record
        was returned."""
        return self._handle().is_live()

    def held_message_count(self) -> int:
        """Records held back for ordering."""
        return int(self.metrics()["held_messages"])

    def paused_partition_count(self) -> int:
        """Partitions paused by backpressure."""
        return int(self.metrics()["paused_partitions"])

    def get_priming_watermark(self) -> int | None:
        """The frontier's timestamp (epoch ms) while replaying, else None."""
        wm = self.metrics()["priming_watermark_ms"]
        return None if wm is None else int(wm)

    def partition_state(self) -> pa.RecordBatch:
        """One row per partition, sorted by topic name then partition, with
        :data:`PARTITION_STATE_SCHEMA`: exactly the Rust kafkars 0.0.8
        columns and values. ``consumed_offset`` and ``released_offset`` are
        the offsets of the last record consumed and released, and
        ``replay_start_offset`` before the first (``last_consumed_timestamp``
        is null until a record is consumed)."""
        return self._handle().state()

    def partition_stats(self) -> pa.RecordBatch:
        """kafkars' own per-partition figures, in the rows of
        :meth:`partition_state` (:data:`PARTITION_STATS_SCHEMA`):
        ``held_messages`` (held back for ordering), ``late_messages``,
        ``malformed_records`` (keys or values that did not decode, nulled or
        skipped), ``is_caught_up`` (consumed up to its replay end) and
        ``topic_rank``."""
        return self._handle().stats()

    @property
    def schema(self) -> pa.Schema:
        """Schema of the batches ``poll()`` returns."""
        return self._schema

    @property
    def topics(self) -> list[SourceTopic]:
        """Copies of the manager's topics (a SourceTopic can be changed; the
        manager's cannot)."""
        return [dataclasses.replace(t) for t in self._topics]

    @property
    def closed(self) -> bool:
        return self._h is None or self._h.closed

    # -- lifecycle -------------------------------------------------------

    def close(self) -> None:
        """Stop consuming and free native resources. Idempotent. A poll
        running in another thread raises ClosedError."""
        if self._h is not None:
            self._h.close()

    def __enter__(self) -> "ConsumerManager":
        self._handle()  # a closed manager cannot be re-entered
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def _handle(self) -> _lib.Handle:
        if self._h is None or self._h.closed:
            raise self._closed_error()
        return self._h

    def _closed_error(self) -> ClosedError:
        names = [t.name for t in getattr(self, "_topics", [])]
        return ClosedError(f"the ConsumerManager of topics {names} is closed; create a new one")

    def __repr__(self) -> str:
        names = [t.name for t in self._topics]
        if self.closed:
            return f"ConsumerManager(topics={names}, closed=True)"
        try:
            m = self.metrics()
        except Exception as exc:  # noqa: BLE001 - repr must not raise
            return f"ConsumerManager(topics={names}, error={exc!s})"
        state = "live" if m["is_live"] else "replaying"
        wm = m.get("priming_watermark_ms")
        wm_s = ""
        if wm is not None:
            wm_s = ", watermark=" + _iso(wm)
        return (
            f"ConsumerManager(topics={names}, partitions={m['partitions']}, state={state}, "
            f"caught_up={m['partitions_caught_up']}/{m['partitions']}, "
            f"released={m['records_released']:,}, held={m['held_messages']:,}, "
            f"paused={m['paused_partitions']}{wm_s})"
        )

    def _repr_html_(self) -> str:
        """Partition state as an HTML table (Jupyter)."""
        try:
            m = self.metrics()
            st = self.partition_state().to_pylist()
            stats = {(r["topic"], r["partition"]): r for r in self.partition_stats().to_pylist()}
        except Exception as exc:  # noqa: BLE001 - repr must not raise
            return f"<pre>{html.escape(repr(self))}: {html.escape(str(exc))}</pre>"
        wm = m.get("priming_watermark_ms")
        wm_s = _iso(wm) if wm else "-"
        head = (
            f"<b>kafkars ConsumerManager</b>: {'live' if m['is_live'] else 'replaying'}, "
            f"{m['partitions_caught_up']}/{m['partitions']} partitions caught up, "
            f"{m['records_released']:,} released of {m['records_to_replay']:,} to replay, "
            f"{m['held_messages']:,} held, {m['paused_partitions']} paused, watermark {html.escape(wm_s)}"
        )
        cols = ["topic", "partition", "replay_start_offset", "replay_end_offset", "consumed_offset",
                "released_offset", "last_consumed_timestamp", "held_messages", "late_messages", "is_paused", "is_live"]
        for r in st:
            r.update(stats.get((r["topic"], r["partition"]), {}))
        cols = [c for c in cols if st and c in st[0]]
        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(r[c]) if r[c] is not None else '-')}</td>" for c in cols) + "</tr>"
            for r in st
        )
        header = "".join(f"<th>{c}</th>" for c in cols)
        return f"<div>{head}<table><thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table></div>"


def _iso(ms: int) -> str:
    return _dt.datetime.fromtimestamp(ms / 1000, _dt.timezone.utc).isoformat(timespec="milliseconds")


def read_topics(
    config: Any,
    topics: Any,
    until: Until = "live",
    *,
    progress: bool = False,
    **manager_kwargs: Any,
) -> pa.Table:
    """Replay topics into one ordered ``pyarrow.Table`` and close the
    connection: ``read_topics({"bootstrap.servers": ...}, [SourceTopic.from_earliest("t")])``.

    ``manager_kwargs`` go to :class:`ConsumerManager` (batch_size, ...).
    """
    with ConsumerManager(config, topics, **manager_kwargs) as m:
        return m.read_all(until, progress=progress)


def validate_source_topic(topic: SourceTopic | Mapping[str, Any] | Any) -> None:
    """Check a source topic (a SourceTopic, a dict or an object with name and
    policy) without connecting; returns None, as in the Rust kafkars 0.0.8.

    Raises ConfigError naming the problem (unknown policy, missing or
    negative time, empty name); a missing dict key is also a KeyError, a
    field of the wrong type also a TypeError (docs/compat.md).
    """
    t = as_source_topic(topic, 0)
    check_topic_types(t, 0)
    _lib.validate(json.dumps({"topics": [t.to_spec()]}).encode())
