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


# Status codes of capi/kafkars.h -> exception classes.
_BY_STATUS: dict[int, type[KafkarsError]] = {
    1: ConfigError,
    2: TopicNotFoundError,
    3: BrokerUnavailableError,
    4: KafkaError,
    5: ClosedError,
    6: InternalError,
}


def error_for_status(status: int, message: str) -> KafkarsError:
    """The exception for a C ABI status code and message."""
    return _BY_STATUS.get(status, InternalError)(message)
