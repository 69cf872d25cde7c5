"""Times and durations, accepted in the same forms everywhere (Python API
and command line).

A *time* is epoch milliseconds (int), a ``datetime`` (naive = UTC; pandas
Timestamps are datetimes), a ``date`` (midnight UTC), or a string: ISO 8601
(``2026-11-23T08:00:00Z``, ``2026-11-23 08:00``, ``2026-11-23``; no offset =
UTC), digits (epoch ms) or ``now``.

A *duration* is milliseconds (int), a ``timedelta``, or a string: a number
with a unit ``ms``, ``s``, ``m``, ``h`` or ``d`` (``90s``, ``15m``, ``1h``,
``2d``), or digits (milliseconds).
"""

from __future__ import annotations

import datetime as _dt
import operator
import re
import time
from typing import Any, Union

from kafkars._errors import ConfigError, ConfigTypeError

TimeLike = Union[int, str, _dt.datetime, _dt.date]
DurationLike = Union[int, str, _dt.timedelta]

_DURATION = re.compile(r"^\s*(\d+)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, None: 1}

_TIME_HELP = "epoch milliseconds (int), a datetime, or a string such as '2026-11-23T08:00:00Z', '2026-11-23' or 'now'"
_DURATION_HELP = "milliseconds (int), a timedelta, or a string such as '90s', '15m', '1h' or '2d'"


def int_like(value: Any) -> int | None:
    """``value`` as an int if it is an integer (an ``int`` or anything with
    ``__index__``, such as ``numpy.int64``), not a bool; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return int(value)
    try:
        return operator.index(value)
    except TypeError:
        return None


def parse_duration_ms(text: str, what: str = "duration") -> int:
    m = _DURATION.match(text)
    if not m:
        raise ConfigError(f"{what}: bad duration {text!r}: use {_DURATION_HELP}")
    return int(m.group(1)) * _UNITS[m.group(2)]


def parse_time_ms(text: str, what: str = "time") -> int:
    s = text.strip()
    if s == "now":
        return int(time.time() * 1000)
    if s.isdigit():
        return int(s)
    try:
        t = _dt.datetime.fromisoformat(s.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ConfigError(f"{what}: bad time {text!r}: use {_TIME_HELP}") from None
    return to_epoch_ms(t, what)


def to_epoch_ms(value: TimeLike, what: str) -> int:
    """Epoch milliseconds from any time form (see the module doc)."""
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        return int(value.timestamp() * 1000)
    if isinstance(value, _dt.date):
        return to_epoch_ms(_dt.datetime(value.year, value.month, value.day, tzinfo=_dt.timezone.utc), what)
    if isinstance(value, str):
        return parse_time_ms(value, what)
    ms = int_like(value)
    if ms is None:
        raise ConfigTypeError(f"{what} must be {_TIME_HELP}; got {value!r}")
    return ms


def to_ms(value: DurationLike, what: str) -> int:
    """Milliseconds from any duration form (see the module doc)."""
    if isinstance(value, _dt.timedelta):
        return int(value.total_seconds() * 1000)
    if isinstance(value, str):
        return parse_duration_ms(value, what)
    ms = int_like(value)
    if ms is None:
        raise ConfigTypeError(f"{what} must be {_DURATION_HELP}; got {value!r}")
    return ms
