"""Exceptions raised by kafkars.

Every failure reaches Python as a subclass of :class:`KafkarsError` whose
message names the culprit (the property, topic, partition or broker). The
classes also derive from the closest built-in exception, so ``except
ValueError`` around a bad argument works as expected.
"""

from __future__ import annotations


class KafkarsError(Exception):
    """Base class of every kafkars error."""


class ConfigError(KafkarsError, ValueError):
    """A bad argument or librdkafka property (unknown name, invalid value)."""


class TopicNotFoundError(KafkarsError, LookupError):
    """A topic does not exist, or was deleted during the replay."""


class BrokerUnavailableError(KafkarsError, ConnectionError):
    """No broker could be reached within the time allowed."""


class KafkaError(KafkarsError):
    """Any other error reported by Kafka or librdkafka."""


class ClosedError(KafkarsError, RuntimeError):
    """The ConsumerManager was closed; create a new one."""


class InternalError(KafkarsError):
    """A bug in kafkars. Please report it with the message."""


class DecodeError(KafkarsError, ValueError):
    """A key or value could not be decoded into its typed column: a malformed
    record under ``on_error="raise"`` (the message names the topic, partition,
    offset and cause; rows before it were returned), or a schema that could
    not be fetched from the registry."""


class ProduceError(KafkaError):
    """Records were not all acknowledged by Kafka.

    The message names the first row that failed (its index in the input)
    and why. ``row`` is that index (``None`` when no single row is to
    blame); ``result`` is the :class:`~kafkars.ProduceResult` of what *was*
    acknowledged (per partition), so a caller can tell what is in the
    topic: only acknowledged records count as written.
    """

    def __init__(self, message: str, row: int | None = None, result: object = None) -> None:
        super().__init__(message)
        self.row = row
        self.result = result
