"""ConsumerManager: ordered replay and tailing of Kafka topics as Arrow batches."""

from __future__ import annotations

import datetime as _dt
import json
import re
import threading
import time
from typing import Any, Iterable, Mapping, Sequence

import pyarrow as pa

from kafkars._errors import ClosedError, ConfigError, error_for_status
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
    raise ConfigError(
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


def _create(raw: bytes, config: Mapping[str, str]) -> int:
    """kafkars_manager_new, interruptible.

    Creation blocks up to startup_timeout_ms (15 s by default) in the native
    library, and Python runs its Ctrl-C handler only between calls. So the
    call runs in a helper thread while this one waits in short slices: a
    KeyboardInterrupt propagates at once, and a manager the helper creates
    after the caller gave up is closed there.
    """
    lock = threading.Lock()
    box: dict[str, Any] = {}

    def run() -> None:
        out = ffi.new("kafkars_handle*")
        err = ffi.new("char**")
        status = lib.kafkars_manager_new(raw, len(raw), out, err)
        msg = take_string(err[0]) if status != 0 else ""
        with lock:
            if box.get("abandoned"):
                if status == 0:
                    lib.kafkars_manager_close(out[0], ffi.NULL)
                return
            box["result"] = (int(status), int(out[0]), msg)

    t = threading.Thread(target=run, name="kafkars-create", daemon=True)
    t.start()
    try:
        while t.is_alive():
            t.join(_SLICE_MS / 1000.0)
    except BaseException:
        with lock:
            result = box.get("result")
            box["abandoned"] = True
        if result is not None and result[0] == 0:
            lib.kafkars_manager_close(result[1], ffi.NULL)
        raise
    status, handle, msg = box["result"]
    if status != 0:
        msg = msg or f"kafkars: error {status}"
        raise error_for_status(status, _name_value(msg, config) if status == lib.KAFKARS_ERR_CONFIG else msg)
    return int(handle)


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
    if isinstance(topics, (str, bytes)):
        name = topics.decode("utf-8", "replace") if isinstance(topics, bytes) else topics
        raise ConfigError(
            f"topics must be a list of SourceTopic, got the {type(topics).__name__} {topics!r}: "
            f"write [SourceTopic.from_earliest({name!r})]"
        )
    if isinstance(topics, Mapping) or not isinstance(topics, Iterable):
        raise ConfigError(
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
        self._handle = _create(raw, spec["config"])
        self._closed = False
        err = ffi.new("char**")
        c_schema = ffi.new("struct ArrowSchema*")
        check(lib.kafkars_manager_schema(self._handle, c_schema, err), err)
        self._schema = pa.Schema._import_from_c(int(ffi.cast("uintptr_t", c_schema)))
        # not empty_table() or pa.array([]): they import pandas (a third of a second)
        self._empty_batch = pa.RecordBatch.from_arrays([pa.nulls(0, f.type) for f in self._schema], schema=self._schema)
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
            self._check(lib.kafkars_manager_poll(h, remaining, min(remaining, _SLICE_MS), lib.KAFKARS_UNTIL_NONE, arr, rows, ffi.NULL, err), err)
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
        self._check(lib.kafkars_manager_metrics(h, out, err), err)
        metrics: dict[str, Any] = json.loads(take_string(out[0]))
        return metrics

    def is_live(self) -> bool:
        """True once every partition has caught up and every replay record
        was returned (SPEC G3)."""
        h = self._live_handle()
        out = ffi.new("int32_t*")
        err = ffi.new("char**")
        self._check(lib.kafkars_manager_is_live(h, out, err), err)
        return bool(out[0])

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
        """One row per partition (:data:`PARTITION_STATE_SCHEMA`)."""
        h = self._live_handle()
        arr = ffi.new("struct ArrowArray*")
        sch = ffi.new("struct ArrowSchema*")
        err = ffi.new("char**")
        self._check(lib.kafkars_manager_state(h, arr, sch, err), err)
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
        self._live_handle()  # a closed manager cannot be re-entered
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
            raise self._closed_error()
        return self._handle

    def _closed_error(self) -> ClosedError:
        names = [t.name for t in self._topics] if hasattr(self, "_topics") else []
        return ClosedError(f"the ConsumerManager of topics {names} is closed; create a new one")

    def _check(self, status: int, err: Any) -> None:
        """check(), naming this manager's topics when it was closed meanwhile
        (by close() in another thread)."""
        try:
            check(status, err)
        except ClosedError:
            raise self._closed_error() from None

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
