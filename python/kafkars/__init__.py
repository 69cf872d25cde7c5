"""kafkars: replay and tail Kafka topics as ordered Arrow batches.

    >>> from kafkars import ConsumerManager, SourceTopic
    >>> with ConsumerManager({"bootstrap.servers": "localhost:9092"},
    ...                      [SourceTopic.from_earliest("trades")]) as m:
    ...     while not m.is_live():
    ...         batch = m.poll(timeout_ms=1000)   # pyarrow.RecordBatch, time-ordered

See https://github.com/kafkars/kafkars/tree/main/docs for the guides.

The native library (a Go runtime and librdkafka) and pyarrow are loaded on
first use of a name that needs them, not by ``import kafkars``: so
``kafkars.testing`` and its pytest plugin cost nothing in a process that
never reads Kafka.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from kafkars._errors import (
    BrokerUnavailableError,
    ClosedError,
    ConfigError,
    ConfigOverflowError,
    ConfigTypeError,
    ConsumerConfigError,
    DecodeError,
    InternalError,
    KafkaError,
    KafkarsError,
    MissingAttributeError,
    MissingKeyError,
    ProduceError,
    TopicNotFoundError,
)
from kafkars.source_topic import SourceTopic
from kafkars.formats import Avro, Json, Protobuf, SchemaRegistry

if TYPE_CHECKING:
    from kafkars import _lib
    from kafkars._lib import librdkafka_version
    from kafkars._manager import ConsumerManager, read_topics, validate_source_topic
    from kafkars._producer import PartitionCount, ProduceResult, Producer, produce, send_to_dead_letter
    from kafkars._scan import Scan, scan
    from kafkars._slices import PartitionOffsets, ReplayPlan, TimeSlice, offsets_for_times, plan_replay
    from kafkars.schema import (
        MESSAGE_SCHEMA,
        MESSAGE_SCHEMA_WITH_HEADERS,
        PARTITION_STATE_SCHEMA,
        PARTITION_STATS_SCHEMA,
        PARTITION_LAG_SCHEMA,
        get_message_schema,
        get_partition_state_schema,
    )

    __version__: str

#: Names loaded on first use: name -> (module, attribute; None for the module itself).
_LAZY: dict[str, tuple[str, str | None]] = {
    "_lib": ("kafkars._lib", None),
    "librdkafka_version": ("kafkars._lib", "librdkafka_version"),
    "ConsumerManager": ("kafkars._manager", "ConsumerManager"),
    "read_topics": ("kafkars._manager", "read_topics"),
    "validate_source_topic": ("kafkars._manager", "validate_source_topic"),
    "Scan": ("kafkars._scan", "Scan"),
    "PartitionCount": ("kafkars._producer", "PartitionCount"),
    "ProduceResult": ("kafkars._producer", "ProduceResult"),
    "Producer": ("kafkars._producer", "Producer"),
    "produce": ("kafkars._producer", "produce"),
    "send_to_dead_letter": ("kafkars._producer", "send_to_dead_letter"),
    "PartitionOffsets": ("kafkars._slices", "PartitionOffsets"),
    "ReplayPlan": ("kafkars._slices", "ReplayPlan"),
    "TimeSlice": ("kafkars._slices", "TimeSlice"),
    "offsets_for_times": ("kafkars._slices", "offsets_for_times"),
    "plan_replay": ("kafkars._slices", "plan_replay"),
    "scan": ("kafkars._scan", "scan"),
    "MESSAGE_SCHEMA": ("kafkars.schema", "MESSAGE_SCHEMA"),
    "MESSAGE_SCHEMA_WITH_HEADERS": ("kafkars.schema", "MESSAGE_SCHEMA_WITH_HEADERS"),
    "PARTITION_STATE_SCHEMA": ("kafkars.schema", "PARTITION_STATE_SCHEMA"),
    "PARTITION_STATS_SCHEMA": ("kafkars.schema", "PARTITION_STATS_SCHEMA"),
    "PARTITION_LAG_SCHEMA": ("kafkars.schema", "PARTITION_LAG_SCHEMA"),
    "get_message_schema": ("kafkars.schema", "get_message_schema"),
    "get_partition_state_schema": ("kafkars.schema", "get_partition_state_schema"),
}


def __getattr__(name: str) -> Any:
    if name == "__version__":
        value: Any = importlib.import_module("kafkars._lib").version()
    elif name in _LAZY:
        module, attr = _LAZY[name]
        mod = importlib.import_module(module)
        value = mod if attr is None else getattr(mod, attr)
    else:
        raise AttributeError(f"module 'kafkars' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | {"__version__"})


def _debug_counters() -> dict[str, int]:
    """Debug counters of the native library (tests, leak hunting): live
    handles and managers, goroutines, and Arrow bytes and allocations held
    by batches not yet released."""
    from kafkars import _lib

    return _lib.debug_counters()


__all__ = [
    "Avro",
    "BrokerUnavailableError",
    "ClosedError",
    "ConfigError",
    "ConfigOverflowError",
    "ConfigTypeError",
    "ConsumerConfigError",
    "DecodeError",
    "Json",
    "Protobuf",
    "SchemaRegistry",
    "ConsumerManager",
    "InternalError",
    "KafkaError",
    "KafkarsError",
    "MESSAGE_SCHEMA",
    "MissingAttributeError",
    "MissingKeyError",
    "MESSAGE_SCHEMA_WITH_HEADERS",
    "PARTITION_LAG_SCHEMA",
    "PARTITION_STATE_SCHEMA",
    "Scan",
    "PARTITION_STATS_SCHEMA",
    "PartitionOffsets",
    "ReplayPlan",
    "TimeSlice",
    "PartitionCount",
    "ProduceError",
    "ProduceResult",
    "Producer",
    "SourceTopic",
    "TopicNotFoundError",
    "__version__",
    "get_message_schema",
    "get_partition_state_schema",
    "librdkafka_version",
    "offsets_for_times",
    "plan_replay",
    "read_topics",
    "scan",
    "produce",
    "read_topics",
    "send_to_dead_letter",
    "validate_source_topic",
]
