"""ConsumerManager: ordered replay and tailing of Kafka topics as Arrow batches."""

from __future__ import annotations

import datetime as _dt
import json
import threading
import time
from typing import Any, Iterable, Mapping, Sequence

import pyarrow as pa

from kafkars._errors import ClosedError, ConfigError
from kafkars._lib import check, ffi, lib, take_string
from kafkars._replay import ReplayMixin
from kafkars._topics import SourceTopic, TimeLike, as_source_topic, check_topic_types, to_epoch_ms

#: Longest single wait inside the native library. Python runs signal
#: handlers (Ctrl-C) only between calls, so poll() waits in slices.
_SLICE_MS = 100
_MAX_INT32 = 2**31 - 1


def _config_value(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise ConfigError(f"config property {key!r}: value must be a string, number or bool, got {type(value).__name__}")


def _build_spec(
    config: Mapping[str, Any],
    topics: Sequence[SourceTopic | Mapping[str, Any]],
    *,
    cutoff_ms: TimeLike | None,
    batch_size: int,
    linger_ms: int,
    max_buffered_messages: int | None,
    max_buffered_bytes: int | None,
    include_headers: bool,
    startup_timeout_ms: int | None,
    broker_down_timeout_ms: int | None,
) -> tuple[dict[str, Any], list[SourceTopic]]:
    if not isinstance(config, Mapping):
        raise ConfigError(f"config must be a dict of librdkafka properties, got {type(config).__name__}")
    cfg: dict[str, str] = {}
    for k, v in config.items():
        if not isinstance(k, str):
            raise ConfigError(f"config keys must be strings, got {k!r}")
        cfg[k] = _config_value(k, v)
    if isinstance(topics, (str, bytes)) or not isinstance(topics, Iterable):
        raise ConfigError("topics must be a list of SourceTopic, e.g. [SourceTopic.from_earliest('t')]")
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
        if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
            raise ConfigError(f"{name} must be an int, got {v!r}")
        if v is not None and name != "max_buffered_bytes" and abs(v) > _MAX_INT32:
            raise ConfigError(f"{name} is out of range: {v}")
    spec: dict[str, Any] = {
        "config": cfg,
        "topics": [t.to_spec() for t in tl],
        "cutoff_ms": None if cutoff_ms is None else to_epoch_ms(cutoff_ms, "cutoff_ms"),
        "include_headers": bool(include_headers),
        **{k: v for k, v in ints.items() if v is not None},
    }
    return spec, tl


class ConsumerManager(ReplayMixin):
    """Replays Kafka topics in event-timestamp order, then tails them live.

    ``poll()`` returns ``pyarrow.RecordBatch``es with :data:`MESSAGE_SCHEMA`
    whose rows, across all partitions and topics, are in order of
    ``(timestamp, topic rank, partition, offset)`` until the replay is live
    (SPEC G1); every record is delivered once (G2); the replay always ends
    (G3) and memory stays bounded (G4).

    Args:
        config: librdkafka consumer properties; at least ``bootstrap.servers``.
            Values may be str, int, float or bool. Yours always win over the
            defaults kafkars sets (see docs/guides/backpressure.md).
        topics: source topics; a topic's position is its rank (ties).
        cutoff_ms: optional epoch ms (or datetime): a partition's replay also
            ends at its first record at or after this time.
        batch_size: most rows per batch (>= 1).
        linger_ms: how long ``poll()`` waits for a fuller batch once a row is
            releasable. 0: lowest latency; 1000: "batch_size rows or every second".
        max_buffered_messages / max_buffered_bytes: records held back for
            ordering before partitions ahead of the frontier are paused
            (defaults 500 000 and 64 MiB).
        include_headers: add a ``headers`` column.
        startup_timeout_ms: creation fails with BrokerUnavailableError after
            this long without a broker (default 15 000).
        broker_down_timeout_ms: ``poll()`` raises BrokerUnavailableError after
            brokers have been unreachable this long (default 300 000; 0: never).

    Raises:
        ConfigError, TopicNotFoundError, BrokerUnavailableError, KafkaError.
    """

    def __init__(
        self,
        config: Mapping[str, Any],
        topics: Sequence[SourceTopic | Mapping[str, Any]],
        cutoff_ms: TimeLike | None = None,
        batch_size: int = 10_000,
        linger_ms: int = 5,
        max_buffered_messages: int | None = None,
        max_buffered_bytes: int | None = None,
        include_headers: bool = False,
        *,
        startup_timeout_ms: int | None = None,
        broker_down_timeout_ms: int | None = None,
    ) -> None:
        self._handle = 0
        self._closed = True
        self._lock = threading.Lock()
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
        )
        self._topics = tl
        self._batch_size = batch_size
        self._include_headers = bool(include_headers)
        raw = json.dumps(spec).encode("utf-8")
        out = ffi.new("kafkars_handle*")
        err = ffi.new("char**")
        check(lib.kafkars_manager_new(raw, len(raw), out, err), err)
        self._handle = int(out[0])
        self._closed = False
        c_schema = ffi.new("struct ArrowSchema*")
        check(lib.kafkars_manager_schema(self._handle, c_schema, err), err)
        self._schema = pa.Schema._import_from_c(int(ffi.cast("uintptr_t", c_schema)))
        self._empty = self._schema.empty_table().to_batches()
        self._empty_batch = (
            self._empty[0]
            if self._empty
            else pa.RecordBatch.from_arrays([pa.array([], f.type) for f in self._schema], schema=self._schema)
        )
        self._partitions: int | None = None

    # -- polling ---------------------------------------------------------

    def poll(self, timeout_ms: int = 1000) -> pa.RecordBatch:
        """Return the next batch of ordered rows, never ``None``.

        Returns as soon as ``batch_size`` rows are releasable; otherwise, once
        at least one row is, after at most ``linger_ms`` more; otherwise an
        empty batch at the timeout. The GIL is released while waiting and
        Ctrl-C interrupts within about 100 ms.
        """
        if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, (int, float)):
            raise ConfigError(f"timeout_ms must be a number of milliseconds, got {timeout_ms!r}")
        if timeout_ms < 0:
            raise ConfigError(f"timeout_ms must be >= 0, got {timeout_ms}")
        h = self._live_handle()
        arr = ffi.new("struct ArrowArray*")
        rows = ffi.new("int64_t*")
        err = ffi.new("char**")
        deadline = time.monotonic() + timeout_ms / 1000.0
        while True:
            remaining = max(0, int(round((deadline - time.monotonic()) * 1000)))
            remaining = min(remaining, _MAX_INT32)
            check(lib.kafkars_manager_poll(h, remaining, min(remaining, _SLICE_MS), lib.KAFKARS_UNTIL_NONE, arr, rows, ffi.NULL, err), err)
            if rows[0] > 0:
                return pa.RecordBatch._import_from_c(int(ffi.cast("uintptr_t", arr)), self._schema)
            if remaining <= _SLICE_MS:
                return self._empty_batch

    # -- state -----------------------------------------------------------

    def metrics(self) -> dict[str, Any]:
        """Counters and conditions: held/releasable/paused, records consumed
        and released, late and duplicate records, broker outage, errors."""
        h = self._live_handle()
        out = ffi.new("char**")
        err = ffi.new("char**")
        check(lib.kafkars_manager_metrics(h, out, err), err)
        return json.loads(take_string(out[0]))

    def is_live(self) -> bool:
        """True once every partition has caught up and every replay record
        was returned (SPEC G3)."""
        return bool(self.metrics()["is_live"])

    def held_message_count(self) -> int:
        """Records held back for ordering."""
        return int(self.metrics()["held_messages"])

    def paused_partition_count(self) -> int:
        """Partitions paused by backpressure."""
        return int(self.metrics()["paused_partitions"])

    def get_priming_watermark(self) -> int | None:
        """The frontier's timestamp (epoch ms) while replaying, else None."""
        return self.metrics()["priming_watermark_ms"]

    def partition_state(self) -> pa.RecordBatch:
        """One row per partition (:data:`PARTITION_STATE_SCHEMA`)."""
        h = self._live_handle()
        arr = ffi.new("struct ArrowArray*")
        sch = ffi.new("struct ArrowSchema*")
        err = ffi.new("char**")
        check(lib.kafkars_manager_state(h, arr, sch, err), err)
        return pa.RecordBatch._import_from_c(int(ffi.cast("uintptr_t", arr)), int(ffi.cast("uintptr_t", sch)))

    @property
    def schema(self) -> pa.Schema:
        """Schema of the batches ``poll()`` returns."""
        return self._schema

    @property
    def topics(self) -> list[SourceTopic]:
        return list(self._topics)

    @property
    def closed(self) -> bool:
        return self._closed

    # -- lifecycle -------------------------------------------------------

    def close(self) -> None:
        """Stop consuming and free native resources. Idempotent. A poll
        running in another thread raises ClosedError."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            h = self._handle
        err = ffi.new("char**")
        check(lib.kafkars_manager_close(h, err), err)

    def __enter__(self) -> "ConsumerManager":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if not getattr(self, "_closed", True):
                self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def _live_handle(self) -> int:
        if self._closed:
            raise ClosedError("kafkars: the ConsumerManager is closed; create a new one")
        return self._handle

    def __repr__(self) -> str:
        names = [t.name for t in self._topics]
        if self._closed:
            return f"ConsumerManager(topics={names}, closed=True)"
        try:
            m = self.metrics()
        except Exception as exc:  # noqa: BLE001 - repr must not raise
            return f"ConsumerManager(topics={names}, error={exc!s})"
        state = "live" if m["is_live"] else "replaying"
        wm = m.get("priming_watermark_ms")
        wm_s = ""
        if wm is not None:
            wm_s = ", watermark=" + _dt.datetime.fromtimestamp(wm / 1000, _dt.timezone.utc).isoformat(
                timespec="milliseconds"
            )
        return (
            f"ConsumerManager(topics={names}, partitions={m['partitions']}, state={state}, "
            f"caught_up={m['partitions_caught_up']}/{m['partitions']}, "
            f"released={m['records_released']:,}, held={m['held_messages']:,}, "
            f"paused={m['paused_partitions']}{wm_s})"
        )


def validate_source_topic(topic: SourceTopic | Mapping[str, Any]) -> SourceTopic:
    """Check a source topic without connecting; returns it as a SourceTopic.

    Raises ConfigError naming the problem (unknown policy, missing or
    negative time, empty name).
    """
    t = as_source_topic(topic, 0)
    check_topic_types(t, 0)
    raw = json.dumps({"topics": [t.to_spec()]}).encode()
    err = ffi.new("char**")
    check(lib.kafkars_validate(raw, len(raw), err), err)
    return t
