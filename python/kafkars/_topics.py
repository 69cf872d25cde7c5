"""Turning what callers pass as topics into SourceTopics, and checking them.

A topic may be a :class:`SourceTopic`, a dict (or any mapping) with
``name``, ``policy`` and optionally ``time_ms``, ``key``, ``value``, or any
object with ``name`` and ``policy`` attributes (and optionally ``time_ms``,
``key``, ``value``): what the Rust kafkars 0.0.8 accepted, with the same
built-in exception types for the same faults (docs/compat.md).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from kafkars._errors import ConfigError, ConfigTypeError, MissingAttributeError, MissingKeyError
from kafkars._time import int_like
from kafkars.formats import Avro, Json, Protobuf
from kafkars.source_topic import POLICIES, SourceTopic

__all__ = ["POLICIES", "SourceTopic", "as_source_topic", "check_topic_types"]

_FORMATS = (Json, Avro, Protobuf)
_KNOWN_KEYS = ("name", "policy", "time_ms", "key", "value", "fallback")


def _where(index: int, name: Any) -> str:
    return f"topics[{index}] ({name!r})" if isinstance(name, str) else f"topics[{index}]"


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
    """A SourceTopic for ``topics[index]`` (a copy: the caller's object may
    change later without changing the manager's).

    Dicts may carry other keys, which are ignored as the Rust kafkars
    ignored them, except a key holding a kafkars format (``Json()``, ...):
    that is surely a misspelt ``key`` or ``value``, and ignoring it would
    silently leave the column undecoded.
    """
    if isinstance(obj, SourceTopic):
        return dataclasses.replace(obj)
    if isinstance(obj, Mapping):
        if "name" not in obj:
            raise MissingKeyError(f"topics[{index}]: missing 'name' key (got keys {sorted(map(str, obj))})")
        if "policy" not in obj:
            raise MissingKeyError(f"{_where(index, obj['name'])}: missing 'policy' key (got keys {sorted(map(str, obj))})")
        for k, v in obj.items():
            if k not in _KNOWN_KEYS and isinstance(v, _FORMATS):
                raise ConfigError(
                    f"{_where(index, obj['name'])}: unknown key {k!r} holds a {type(v).__name__} format; "
                    f"formats go under 'key' or 'value' (other unknown keys are ignored, but a format "
                    f"there would leave the column undecoded without a word)"
                )
        if "time_ms" in obj and obj["time_ms"] is None and obj["policy"] in ("relative_time", "absolute_time"):
            # also a TypeError: the Rust kafkars could not read None as a time
            raise ConfigTypeError(f"{_where(index, obj['name'])}: policy {obj['policy']} requires 'time_ms', got None")
        return SourceTopic(obj["name"], obj["policy"], obj.get("time_ms"), key=obj.get("key"), value=obj.get("value"),
                           fallback=obj.get("fallback"))
    if isinstance(obj, (str, bytes)):
        name = obj.decode("utf-8", "replace") if isinstance(obj, bytes) else obj
        raise MissingAttributeError(
            f"topics[{index}] is the {type(obj).__name__} {obj!r}, not a topic: wrap it in a policy, e.g. "
            f"SourceTopic.from_earliest({name!r}) or SourceTopic.from_latest({name!r})"
        )
    if hasattr(obj, "name") and hasattr(obj, "policy"):
        return SourceTopic(
            obj.name, obj.policy, getattr(obj, "time_ms", None),
            key=getattr(obj, "key", None), value=getattr(obj, "value", None),
            fallback=getattr(obj, "fallback", None),
        )
    raise MissingAttributeError(
        f"topics[{index}] must be a SourceTopic, a dict with 'name' and 'policy', or an object with "
        f"name and policy attributes; got {type(obj).__name__} {obj!r}"
    )


def check_topic_types(t: SourceTopic, index: int) -> None:
    """Type checks (a ConfigTypeError, also a TypeError, names the field);
    ``time_ms`` given as another integer type (``numpy.int64``) becomes an int."""
    if not isinstance(t.name, str):
        raise ConfigTypeError(f"topics[{index}]: name must be a string, got {type(t.name).__name__} {t.name!r}")
    if not isinstance(t.policy, str):
        raise ConfigTypeError(f"topic {t.name!r}: policy must be a string, got {type(t.policy).__name__} {t.policy!r}")
    if t.time_ms is not None:
        ms = int_like(t.time_ms)
        if ms is None:
            raise ConfigTypeError(f"topic {t.name!r}: time_ms must be an int (milliseconds), got {t.time_ms!r}")
        t.time_ms = ms
    for which in ("key", "value"):
        f = getattr(t, which)
        if f is not None and not isinstance(f, _FORMATS):
            raise ConfigTypeError(
                f"topic {t.name!r}: {which} must be kafkars.Json(...), kafkars.Avro(...), kafkars.Protobuf(...) "
                f"or None, got {f!r}. In kafkars '{which}' declares how the record's {which} is decoded; it is not "
                f"ignored (as the Rust kafkars ignored unknown keys), since ignoring it would leave a column "
                f"undecoded that you meant decoded"
            )
