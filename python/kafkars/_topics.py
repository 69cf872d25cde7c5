"""Source topics and their start policies (docs/guides/offset-policies.md)."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any, Mapping

from kafkars._errors import ConfigError
from kafkars._time import DurationLike, TimeLike, to_epoch_ms, to_ms
from kafkars.formats import Format, check_format

POLICIES = ("earliest", "latest", "relative_time", "absolute_time", "offsets")


@dataclass(frozen=True)
class SourceTopic:
    """A topic to read and where to start (its position in the list is its
    rank, which orders records with equal timestamps).

    Build one with a constructor::

        SourceTopic.from_earliest("trades")
        SourceTopic.from_relative_time("quotes", timedelta(hours=1))
        SourceTopic.from_absolute_time("news", datetime(2026, 11, 23, tzinfo=timezone.utc))

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
    #: The offsets policy: ((partition, start, stop), ...) and the min time.
    ranges: tuple[tuple[int, int, int], ...] | None = None
    min_time_ms: int | None = None

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

    def to_spec(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "policy": self.policy, "time_ms": self.time_ms}
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


def as_source_topic(obj: Any, index: int) -> SourceTopic:
    """Accept a SourceTopic, or a mapping with name/policy/time_ms (the Rust
    kafkars accepted dicts)."""
    if isinstance(obj, SourceTopic):
        return obj
    if isinstance(obj, Mapping):
        unknown = set(obj) - {"name", "policy", "time_ms", "key", "value"}
        if unknown:
            raise ConfigError(f"topics[{index}]: unknown keys {sorted(unknown)} (expected name, policy, time_ms, key, value)")
        if "name" not in obj:
            raise ConfigError(f"topics[{index}]: missing 'name' key")
        if "policy" not in obj:
            raise ConfigError(f"topics[{index}]: missing 'policy' key")
        return SourceTopic(name=obj["name"], policy=obj["policy"], time_ms=obj.get("time_ms"),
                           key=obj.get("key"), value=obj.get("value"))
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
    if t.time_ms is not None and (isinstance(t.time_ms, bool) or not isinstance(t.time_ms, int)):
        raise ConfigError(f"topic {t.name!r}: time_ms must be an int, got {t.time_ms!r}")
