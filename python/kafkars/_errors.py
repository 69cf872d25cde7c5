"""Exceptions raised by kafkars.

Every failure reaches Python as a subclass of :class:`KafkarsError` whose
message names the culprit (the property, topic, partition or broker). The
classes also derive from the closest built-in exception, so ``except
ValueError`` around a bad argument works as expected.

Code written for the Rust kafkars 0.0.8 catches the built-in exceptions that
library raised (docs/compat.md): errors from Kafka, from creating the
consumer and from polling were ``RuntimeError``s there, so every such class
here is also a ``RuntimeError``; and where kafkars reports a bad argument
that 0.0.8 reported as ``KeyError``, ``TypeError``, ``AttributeError`` or
``OverflowError``, it raises a :class:`ConfigError` subclass that is also
that built-in (``except ConfigError`` still catches them all).
"""

from __future__ import annotations


class KafkarsError(Exception):
    """Base class of every kafkars error."""


class ConfigError(KafkarsError, ValueError):
    """A bad argument or librdkafka property (unknown name, invalid value)."""


class MissingKeyError(ConfigError, KeyError):
    """A topic dict lacks ``name`` or ``policy`` (also a ``KeyError``)."""

    # KeyError's str() is the repr of its argument; keep the plain message.
    __str__ = BaseException.__str__


class ConfigTypeError(ConfigError, TypeError):
    """An argument of the wrong type: a topic name that is not a string, a
    batch size that is not an int, ... (also a ``TypeError``)."""


class MissingAttributeError(ConfigError, AttributeError):
    """A topic that is neither a SourceTopic, a dict, nor an object with
    ``name`` and ``policy`` attributes (also an ``AttributeError``)."""


class ConfigOverflowError(ConfigError, OverflowError):
    """A count or timeout below zero, or too large (also an ``OverflowError``)."""


class ConsumerConfigError(ConfigError, RuntimeError):
    """A ConfigError found while creating the consumer: a property librdkafka
    rejects, a topic listed twice, no ``bootstrap.servers``, ... (also a
    ``RuntimeError``)."""


class TopicNotFoundError(KafkarsError, LookupError, RuntimeError):
    """A topic does not exist, or was deleted during the replay."""


class BrokerUnavailableError(KafkarsError, ConnectionError, RuntimeError):
    """No broker could be reached within the time allowed."""


class KafkaError(KafkarsError, RuntimeError):
    """Any other error reported by Kafka or librdkafka."""


class ClosedError(KafkarsError, RuntimeError):
    """The ConsumerManager was closed; create a new one."""


class InternalError(KafkarsError, RuntimeError):
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
