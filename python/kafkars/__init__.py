"""kafkars: replay and tail Kafka topics as ordered Arrow batches.

    >>> from kafkars import ConsumerManager, SourceTopic
    >>> with ConsumerManager({"bootstrap.servers": "localhost:9092"},
    ...                      [SourceTopic.from_earliest("trades")]) as m:
    ...     while not m.is_live():
    ...         batch = m.poll(timeout_ms=1000)   # pyarrow.RecordBatch, time-ordered

See https://github.com/kafkars/kafkars/tree/main/docs for the guides.
"""

from __future__ import annotations

from kafkars._errors import (
    BrokerUnavailableError,
    ClosedError,
    ConfigError,
    DecodeError,
    InternalError,
    KafkaError,
    KafkarsError,
    TopicNotFoundError,
)
from kafkars import _lib
from kafkars._lib import librdkafka_version, version as _version
from kafkars._manager import ConsumerManager, read_topics, validate_source_topic
from kafkars._topics import SourceTopic
from kafkars.formats import Avro, Json, Protobuf, SchemaRegistry
from kafkars.schema import (
    MESSAGE_SCHEMA,
    MESSAGE_SCHEMA_WITH_HEADERS,
    PARTITION_LAG_SCHEMA,
    PARTITION_STATE_SCHEMA,
    get_message_schema,
    get_partition_state_schema,
)

__version__: str = _version()


def _debug_counters() -> dict[str, int]:
    """Debug counters of the native library (tests, leak hunting): live
    handles and managers, goroutines, and Arrow bytes and allocations held
    by batches not yet released."""
    return _lib.debug_counters()


__all__ = [
    "Avro",
    "BrokerUnavailableError",
    "ClosedError",
    "ConfigError",
    "DecodeError",
    "Json",
    "Protobuf",
    "SchemaRegistry",
    "ConsumerManager",
    "InternalError",
    "KafkaError",
    "KafkarsError",
    "MESSAGE_SCHEMA",
    "MESSAGE_SCHEMA_WITH_HEADERS",
    "PARTITION_LAG_SCHEMA",
    "PARTITION_STATE_SCHEMA",
    "SourceTopic",
    "TopicNotFoundError",
    "__version__",
    "get_message_schema",
    "get_partition_state_schema",
    "librdkafka_version",
    "read_topics",
    "validate_source_topic",
]
