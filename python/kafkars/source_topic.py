"""Source topics and their start policies (docs/guides/offset-policies.md).

``from kafkars.source_topic import SourceTopic`` works as it did with the
Rust kafkars (docs/compat.md); ``from kafkars import SourceTopic`` is the
same class.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

from kafkars._errors import ConfigError
from kafkars._time import DurationLike, TimeLike, to_epoch_ms, to_ms
from kafkars.formats import Format

POLICIES = ("earliest", "latest", "relative_time", "absolute_time")


@dataclass(repr=False)
class SourceTopic:
    """A topic to read and where to start (its position in the list is its
    rank, which orders records with equal timestamps).

    Build one with a constructor::

        SourceTopic.from_earliest("trades")
        SourceTopic.from_relative_time("quotes", timedelta(hours=1))
        SourceTopic.from_absolute_time("news", datetime(2026, 11, 23, tzinfo=timezone.utc))

    ``key=`` and ``value=`` (keyword only) declare how keys and values are
    encoded (:class:`kafkars.Json`, :class:`kafkars.Avro`,
    :class:`kafkars.Protobuf`); they are then decoded into typed columns::

        SourceTopic.from_earliest("trades", value=kafkars.Json(schema=trade_schema))

    Like the Rust kafkars' ``SourceTopic`` it is a plain dataclass: its
    fields can be assigned, two topics with equal fields are equal, and it
    is not hashable (a mutable object's hash would change under a dict).
    ``repr`` shows ``key`` and ``value`` only when they are set. The fields
    are checked when a ConsumerManager is created or by
    :func:`kafkars.validate_source_topic`; the constructors also check their
    time at once.
    """

    name: str
    policy: str = "latest"
    time_ms: int | None = None
    key: Format | None = field(default=None, kw_only=True)
    value: Format | None = field(default=None, kw_only=True)

    def __repr__(self) -> str:
        out = f"SourceTopic(name={self.name!r}, policy={self.policy!r}, time_ms={self.time_ms!r}"
        if self.key is not None:
            out += f", key={self.key!r}"
        if self.value is not None:
            out += f", value={self.value!r}"
        return out + ")"

    @staticmethod
    def from_latest(name: str, *, key: Format | None = None, value: Format | None = None) -> "SourceTopic":
        """Nothing to replay: only records produced from now on (live)."""
        return SourceTopic(name=name, policy="latest", key=key, value=value)

    @staticmethod
    def from_earliest(name: str, *, key: Format | None = None, value: Format | None = None) -> "SourceTopic":
        """Replay everything still in the topic."""
        return SourceTopic(name=name, policy="earliest", key=key, value=value)

    @staticmethod
    def from_relative_time(
        name: str, time_ms: DurationLike, *, key: Format | None = None, value: Format | None = None
    ) -> "SourceTopic":
        """Replay records from ``time_ms`` before now: milliseconds, a
        timedelta or a string such as ``"1h"`` or ``"90s"``."""
        ms = to_ms(time_ms, f"topic {name!r}: relative time")
        if ms < 0:
            given = f"{ms} ms" if isinstance(time_ms, int) else f"{ms} ms ({time_ms!r})"
            raise ConfigError(
                f"topic {name!r}: relative time must be >= 0 ms before now, got {given} "
                f"(a start in the future would silently read nothing before now)"
            )
        return SourceTopic(name=name, policy="relative_time", time_ms=ms, key=key, value=value)

    @staticmethod
    def from_absolute_time(
        name: str, time_ms: TimeLike, *, key: Format | None = None, value: Format | None = None
    ) -> "SourceTopic":
        """Replay records with timestamp >= ``time_ms``: epoch ms, a datetime
        (naive = UTC) or a string such as ``"2026-11-23T08:00:00Z"``. A time
        past the last record means nothing to replay."""
        ms = to_epoch_ms(time_ms, f"topic {name!r}: absolute time")
        if ms < 0:
            given = f"{time_ms.isoformat()} = {ms} ms" if isinstance(time_ms, _dt.date) else f"{ms}"
            raise ConfigError(
                f"topic {name!r}: absolute time must be >= 0 (epoch milliseconds, 1970 or later), got {given} "
                f"(Kafka reads -1 and -2 as 'latest' and 'earliest')"
            )
        return SourceTopic(name=name, policy="absolute_time", time_ms=ms, key=key, value=value)

    def to_spec(self) -> dict[str, object]:
        out: dict[str, object] = {"name": self.name, "policy": self.policy, "time_ms": self.time_ms}
        if self.key is not None:
            out["key"] = self.key.to_spec()
        if self.value is not None:
            out["value"] = self.value.to_spec()
        return out


__all__ = ["SourceTopic"]
