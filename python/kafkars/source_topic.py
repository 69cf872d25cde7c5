"""Source topics and their start policies (docs/guides/offset-policies.md).

``from kafkars.source_topic import SourceTopic`` works as it did with the
Rust kafkars (docs/compat.md); ``from kafkars import SourceTopic`` is the
same class.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Mapping

from kafkars._errors import ConfigError
from kafkars._time import DurationLike, TimeLike, to_epoch_ms, to_ms
from kafkars.formats import Format

POLICIES = ("earliest", "latest", "relative_time", "absolute_time", "committed", "offsets")
#: Where a from_committed topic's partitions without a committed offset start.
FALLBACKS = ("earliest", "latest", "relative_time", "absolute_time")


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
    #: The offsets policy (from_offsets): ((partition, start, stop), ...)
    #: and the min time.
    ranges: tuple[tuple[int, int, int], ...] | None = field(default=None, kw_only=True)
    min_time_ms: int | None = field(default=None, kw_only=True)
    #: The committed policy (from_committed): where partitions without a
    #: committed offset start.
    fallback: str | None = field(default=None, kw_only=True)

    def __repr__(self) -> str:
        out = f"SourceTopic(name={self.name!r}, policy={self.policy!r}, time_ms={self.time_ms!r}"
        for f in ("key", "value", "fallback", "ranges", "min_time_ms"):
            if getattr(self, f) is not None:
                out += f", {f}={getattr(self, f)!r}"
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

    @staticmethod
    def from_committed(
        name: str,
        fallback: str = "earliest",
        *,
        fallback_time: DurationLike | TimeLike | None = None,
        key: Format | None = None,
        value: Format | None = None,
    ) -> "SourceTopic":
        """Resume where the consumer group (``config["group.id"]``, which
        must be given) committed: each partition starts at its committed
        offset. A partition without one starts at ``fallback``:
        ``"earliest"`` (default: nothing is skipped), ``"latest"``,
        ``"relative_time"`` (``fallback_time`` before now: ms, timedelta or
        ``"1h"``) or ``"absolute_time"`` (``fallback_time``: epoch ms,
        datetime or ISO string)."""
        if not isinstance(fallback, str) or fallback not in FALLBACKS:
            raise ConfigError(f"topic {name!r}: fallback must be one of {FALLBACKS}, got {fallback!r}")
        ms: int | None = None
        if fallback == "relative_time":
            if fallback_time is None:
                raise ConfigError(f"topic {name!r}: fallback 'relative_time' needs fallback_time (e.g. '1h')")
            ms = to_ms(fallback_time, f"topic {name!r}: fallback relative time")  # type: ignore[arg-type]
            if ms < 0:
                raise ConfigError(f"topic {name!r}: fallback relative time must be >= 0 ms before now, got {ms} ms")
        elif fallback == "absolute_time":
            if fallback_time is None:
                raise ConfigError(f"topic {name!r}: fallback 'absolute_time' needs fallback_time (e.g. '2026-11-23T08:00:00Z')")
            ms = to_epoch_ms(fallback_time, f"topic {name!r}: fallback absolute time")  # type: ignore[arg-type]
            if ms < 0:
                raise ConfigError(f"topic {name!r}: fallback absolute time must be >= 0 (epoch milliseconds), got {ms}")
        elif fallback_time is not None:
            raise ConfigError(f"topic {name!r}: fallback_time is only for fallback 'relative_time' or 'absolute_time', not {fallback!r}")
        return SourceTopic(name=name, policy="committed", time_ms=ms, key=key, value=value, fallback=fallback)

    @staticmethod
    def from_offsets(
        name: str,
        ranges: Mapping[int, tuple[int, int]],
        *,
        min_time: TimeLike | None = None,
        key: Format | None = None,
        value: Format | None = None,
    ) -> "SourceTopic":
        """Read the given offsets: ``{partition: (start, stop), ...}``, each
        ``[start, stop)``; partitions not listed are not read.

        Records at or past a partition's stop offset (or past its end at
        creation, if lower) are never returned: there is no live phase.
        With ``min_time`` (a time), rows whose ordering timestamp is below
        it are read (they count for the running maximum) but not returned.
        This is one time slice of a longer replay (docs/guides/scale.md)::

            SourceTopic.from_offsets("trades", {0: (1200, 5400), 1: (980, 5002)})
        """
        return SourceTopic(name=name, policy="offsets", key=key, value=value,
                           ranges=offset_ranges(name, ranges),
                           min_time_ms=None if min_time is None else to_epoch_ms(min_time, f"topic {name!r}: min_time"))

    def to_spec(self) -> dict[str, object]:
        out: dict[str, object] = {"name": self.name, "policy": self.policy, "time_ms": self.time_ms}
        if self.fallback is not None:
            out["fallback"] = self.fallback
        if self.ranges is not None:
            out["ranges"] = [{"partition": p, "start": a, "stop": b} for p, a, b in self.ranges]
        if self.min_time_ms is not None:
            out["min_time_ms"] = self.min_time_ms
        if self.key is not None:
            out["key"] = self.key.to_spec()
        if self.value is not None:
            out["value"] = self.value.to_spec()
        return out


def offset_ranges(name: str, ranges: Mapping[int, tuple[int, int]]) -> tuple[tuple[int, int, int], ...]:
    """``{partition: (start, stop)}`` -> sorted ``((partition, start, stop), ...)``,
    checked (the core checks again)."""
    if not isinstance(ranges, Mapping):
        raise ConfigError(f"topic {name!r}: ranges must be a dict {{partition: (start, stop)}}, got {type(ranges).__name__}")
    out = []
    for p, r in ranges.items():
        ok = isinstance(p, int) and not isinstance(p, bool) and isinstance(r, (tuple, list)) and len(r) == 2
        if ok:
            start, stop = r
            ok = all(isinstance(v, int) and not isinstance(v, bool) for v in (start, stop))
        if not ok:
            raise ConfigError(f"topic {name!r}: ranges must map a partition (int) to (start, stop) offsets, got {p!r}: {r!r}")
        if p < 0 or start < 0 or stop < start:
            raise ConfigError(f"topic {name!r} partition {p}: need partition >= 0 and 0 <= start <= stop, got ({start}, {stop})")
        out.append((int(p), int(start), int(stop)))
    return tuple(sorted(out))


__all__ = ["SourceTopic"]
