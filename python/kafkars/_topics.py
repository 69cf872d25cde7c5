"""Source topics and their start policies (docs/guides/offset-policies.md)."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any, Mapping

from kafkars._errors import ConfigError
from kafkars._time import DurationLike, TimeLike, to_epoch_ms, to_ms
from kafkars.formats import Format, check_format

POLICIES = ("earliest", "latest", "relative_time", "absolute_time", "committed")
#: Where a from_committed topic's partitions without a committed offset start.
FALLBACKS = ("earliest", "latest", "relative_time", "absolute_time")


@dataclass(frozen=True)
class SourceTopic:
    """A topic to read and where to start (its position in the list is its
    rank, which orders records with equal timestamps).

    Build one with a constructor::

        SourceTopic.from_earliest("trades")
        SourceTopic.from_relative_time("quotes", timedelta(hours=1))
        SourceTopic.from_absolute_time("news", datetime(2026, 11, 23, tzinfo=timezone.utc))
        SourceTopic.from_committed("orders", fallback="earliest")   # resume a consumer group

    ``key=`` and ``value=`` declare how keys and values are encoded
    (:class:`kafkars.Json`, :class:`kafkars.Avro`, :class:`kafkars.Protobuf`);
    they are then decoded into typed columns::

        SourceTopic.from_earliest("trades", value=kafkars.Json(schema=trade_schema))
    """

    name: str
    policy: str = "latest"
    time_ms: int | None = None
    key: Format | None = None
    value: Format | None = None
    fallback: str | None = None

    @staticmethod
    def from_earliest(name: str, *, key: Format | None = None, value: Format | None = None) -> "SourceTopic":
        """Replay everything still in the topic."""
        return SourceTopic(name=name, policy="earliest", key=key, value=value)

    @staticmethod
    def from_latest(name: str, *, key: Format | None = None, value: Format | None = None) -> "SourceTopic":
        """Nothing to replay: only records produced from now on (live)."""
        return SourceTopic(name=name, policy="latest", key=key, value=value)

    @staticmethod
    def from_relative_time(
        name: str, time_ms: DurationLike, *, key: Format | None = None, value: Format | None = None
    ) -> "SourceTopic":
        """Replay records from ``time_ms`` before now: milliseconds, a
        timedelta or a string such as ``"1h"`` or ``"90s"``."""
        ms = to_ms(time_ms, f"topic {name!r}: relative time")
        if ms < 0:
            given = f"{ms} ms" if isinstance(time_ms, int) else f"{ms} ms ({time_ms!r})"
            raise ConfigError(f"topic {name!r}: relative time must be >= 0 ms before now, got {given}")
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
                f"topic {name!r}: absolute time must be >= 0 (epoch milliseconds, 1970 or later), got {given}"
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

    def to_spec(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "policy": self.policy, "time_ms": self.time_ms}
        if self.fallback is not None:
            out["fallback"] = self.fallback
        if self.key is not None:
            out["key"] = self.key.to_spec()
        if self.value is not None:
            out["value"] = self.value.to_spec()
        return out


def as_source_topic(obj: Any, index: int) -> SourceTopic:
    """Accept a SourceTopic, or a mapping with name/policy/time_ms (the Rust
    kafkars accepted dicts)."""
    if isinstance(obj, SourceTopic):
        return obj
    if isinstance(obj, Mapping):
        unknown = set(obj) - {"name", "policy", "time_ms", "key", "value", "fallback"}
        if unknown:
            raise ConfigError(f"topics[{index}]: unknown keys {sorted(unknown)} (expected name, policy, time_ms, key, value, fallback)")
        if "name" not in obj:
            raise ConfigError(f"topics[{index}]: missing 'name' key")
        if "policy" not in obj:
            raise ConfigError(f"topics[{index}]: missing 'policy' key")
        return SourceTopic(name=obj["name"], policy=obj["policy"], time_ms=obj.get("time_ms"),
                           key=obj.get("key"), value=obj.get("value"), fallback=obj.get("fallback"))
    if isinstance(obj, str):
        raise ConfigError(
            f"topics[{index}] is the string {obj!r}: wrap it in a policy, e.g. "
            f"SourceTopic.from_earliest({obj!r}) or SourceTopic.from_latest({obj!r})"
        )
    raise ConfigError(f"topics[{index}] must be a SourceTopic, got {type(obj).__name__}")


def check_topic_types(t: SourceTopic, index: int) -> None:
    check_format(t.key, f"topic {t.name!r}: key")
    check_format(t.value, f"topic {t.name!r}: value")
    if not isinstance(t.name, str):
        raise ConfigError(f"topics[{index}]: name must be a string, got {t.name!r}")
    if not isinstance(t.policy, str):
        raise ConfigError(f"topic {t.name!r}: policy must be a string, got {t.policy!r}")
    if t.fallback is not None and not isinstance(t.fallback, str):
        raise ConfigError(f"topic {t.name!r}: fallback must be a string, got {t.fallback!r}")
    if t.time_ms is not None and (isinstance(t.time_ms, bool) or not isinstance(t.time_ms, int)):
        raise ConfigError(f"topic {t.name!r}: time_ms must be an int, got {t.time_ms!r}")
