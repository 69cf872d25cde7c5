"""Time slices of a replay: planning on one machine, reading anywhere
(docs/guides/scale.md; the contract is docs/design.md, "Replay at scale").

A replay over ``[start, end)`` splits at times ``t_1 < ... < t_n-1``. Slice
``[t_i, t_i+1)`` reads each partition from ``offsets_for_times(t_i)`` (the
first offset whose timestamp is >= t_i) with the offsets policy, drops the
rows whose ordering timestamp is below ``t_i`` (``min_time``) and ends each
partition at its first record at or after ``t_i+1`` (``cutoff_ms``). It
returns exactly the rows of the single replay whose ordering timestamp
falls in the slice, in the same order, so the slices' outputs,
concatenated, are the single replay, row for row.

Planning (offsets, boundaries) happens once, here; a slice is a small
picklable value that any process can read with :meth:`TimeSlice.read`.
"""

from __future__ import annotations

import bisect
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import pyarrow as pa

from kafkars import _lib
from kafkars._errors import ConfigError
from kafkars._time import DurationLike, TimeLike, to_epoch_ms, to_ms
from kafkars._topics import SourceTopic

#: Default slice size when neither npartitions nor freq is given: about
#: this many records per slice (a few seconds of work for one process).
RECORDS_PER_SLICE = 1_000_000

#: Most times asked in one native lookup (each time is one request).
_LOOKUP_CHUNK = 1024


@dataclass(frozen=True)
class PartitionOffsets:
    """One partition's offsets (:func:`offsets_for_times`).

    ``low`` is the first offset in the log; ``high`` the offset a consumer
    with the given config reads up to (the high watermark, or the last
    stable offset under ``isolation.level=read_committed``); ``offsets[i]``
    the first offset whose timestamp is >= ``times[i]`` (``high`` if none);
    ``max_timestamp_ms`` the largest timestamp in the log (only with
    ``max_timestamps=True``; None without records).
    """

    low: int
    high: int
    offsets: tuple[int, ...]
    max_timestamp_ms: int | None = None


def _config(config: Mapping[str, Any]) -> dict[str, str]:
    if not isinstance(config, Mapping):
        raise ConfigError(f"config must be a dict of librdkafka properties, got {type(config).__name__}")
    out = {}
    for k, v in config.items():
        if not isinstance(k, str):
            raise ConfigError(f"config keys must be strings, got {k!r}")
        if isinstance(v, bool):
            v = "true" if v else "false"
        elif not isinstance(v, (str, int, float)):
            raise ConfigError(f"config property {k!r}: value must be a string, number or bool, got {type(v).__name__} {v!r}")
        out[k] = str(v)
    return out


def _names(topics: Iterable[str | SourceTopic]) -> list[str]:
    if isinstance(topics, (str, bytes)):
        raise ConfigError(f"topics must be a list of names or SourceTopics, got the string {topics!r}: write [{topics!r}]")
    names = []
    for i, t in enumerate(topics):
        name = t.name if isinstance(t, SourceTopic) else t
        if not isinstance(name, str) or not name:
            raise ConfigError(f"topics[{i}] must be a topic name or a SourceTopic, got {t!r}")
        names.append(name)
    if not names:
        raise ConfigError("topics is empty: give at least one topic")
    if len(set(names)) != len(names):
        raise ConfigError(f"topics lists a topic twice: {names}")
    return names


def offsets_for_times(
    config: Mapping[str, Any],
    topics: Iterable[str | SourceTopic],
    times: Iterable[TimeLike] = (),
    *,
    max_timestamps: bool = False,
    timeout_ms: int | None = None,
) -> dict[str, dict[int, PartitionOffsets]]:
    """Every partition's first and end offsets and its offsets for the
    given times, without creating a manager: ``{topic: {partition:
    PartitionOffsets}}``. The building block of time-sliced replays on any
    engine (docs/guides/scale.md).

    ``times`` are epoch ms, datetimes or strings; ``timeout_ms`` bounds the
    whole call (default 30 000). Transaction markers count as records here,
    as Kafka's offsets-for-times finds them.
    """
    names = _names(topics)
    ts = [to_epoch_ms(t, f"times[{i}]") for i, t in enumerate(times)]
    if timeout_ms is not None and (isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int)):
        raise ConfigError(f"timeout_ms must be an int, got {timeout_ms!r}")
    query: dict[str, Any] = {"config": _config(config), "topics": names, "times_ms": ts, "max_timestamps": bool(max_timestamps)}
    if timeout_ms is not None:
        query["timeout_ms"] = timeout_ms
    res = _lib.offsets(json.dumps(query).encode("utf-8"))
    out: dict[str, dict[int, PartitionOffsets]] = {}
    for t in res["topics"]:
        out[t["name"]] = {
            int(p["partition"]): PartitionOffsets(int(p["low"]), int(p["high"]), tuple(int(o) for o in p["offsets"]),
                                                  p.get("max_timestamp_ms"))
            for p in t["partitions"]
        }
    return out


Ranges = tuple[tuple[str, tuple[tuple[int, int, int], ...]], ...]


@dataclass(frozen=True)
class TimeSlice:
    """One slice of a planned replay: the rows whose ordering timestamp is
    in ``[lower_ms, upper_ms)`` (None: unbounded on that side, i.e. the
    replay's start or end). Picklable; :meth:`read` reads it anywhere.

    ``ranges`` are the offsets each topic's partitions are read over
    (``((topic, ((partition, start, stop), ...)), ...)``); ``records`` the
    planner's estimate of the slice's records (offsets, so transaction
    markers count).
    """

    index: int
    lower_ms: int | None
    upper_ms: int | None
    ranges: Ranges
    records: int

    def source_topics(self, topics: Sequence[SourceTopic]) -> list[SourceTopic]:
        """The slice's topics: each of ``topics`` (formats kept) with the
        offsets policy over this slice's ranges, in the same order."""
        by_name = dict(self.ranges)
        out = []
        for t in topics:
            rs = by_name.get(t.name, ())
            out.append(SourceTopic.from_offsets(t.name, {p: (a, b) for p, a, b in rs}, min_time=self.lower_ms,
                                                key=t.key, value=t.value))
        return out

    def read(self, config: Mapping[str, Any], topics: Sequence[SourceTopic], **manager_kwargs: Any) -> pa.Table:
        """Read the slice into an ordered Table. Idempotent: the same slice
        gives the same rows, in the same order, every time (as long as the
        records are still in the log)."""
        from kafkars._manager import ConsumerManager

        for bad in ("cutoff_ms", "until"):
            if bad in manager_kwargs:
                raise ConfigError(f"{bad} is set by the slice (its upper bound); do not pass it")
        with ConsumerManager(config, self.source_topics(topics), cutoff_ms=self.upper_ms, **manager_kwargs) as m:
            return m.read_all("live")


@dataclass(frozen=True)
class ReplayPlan:
    """A replay split into time slices (:func:`plan_replay`).

    ``divisions`` has one more entry than ``slices``: slice i holds rows
    whose ordering timestamp is in ``[divisions[i], divisions[i+1])``, the
    last one ``[divisions[-2], divisions[-1]]`` (epoch ms; Dask's
    convention). ``topics`` are the topics as the slices read them (JSON
    schemas inferred once, here).
    """

    topics: tuple[SourceTopic, ...]
    slices: tuple[TimeSlice, ...]
    divisions: tuple[int, ...]
    start_ms: int | None
    end_ms: int | None
    records: int
    lookups: int = 0  # times looked up with offsets-for-times
    seconds: float = 0.0  # planning time
    high: Mapping[str, Mapping[int, int]] = field(default_factory=dict)  # the end offsets read up to


def as_plan_topics(topics: Iterable[str | SourceTopic], config: Mapping[str, Any]) -> list[SourceTopic]:
    """Names or SourceTopics -> SourceTopics to plan: the time range comes
    from start/end, so a SourceTopic must start from the earliest offset
    (it brings its key and value formats)."""
    from kafkars._manager import infer_json_schemas
    from kafkars.formats import Json

    _names(topics)
    out = []
    for t in topics:
        if isinstance(t, str):
            t = SourceTopic.from_earliest(t)
        if t.policy != "earliest":
            raise ConfigError(
                f"topic {t.name!r}: a sliced replay takes its time range from start= and end=; give the topic's name "
                f"or SourceTopic.from_earliest({t.name!r}, ...), not the {t.policy} policy"
            )
        out.append(t)
    if any(isinstance(f, Json) and f.schema is None for t in out for f in (t.key, t.value)):
        # every slice must decode into the same columns: infer once, here
        out = infer_json_schemas(_config(config), out, None)
    return out


def plan_replay(
    config: Mapping[str, Any],
    topics: Iterable[str | SourceTopic],
    *,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    npartitions: int | None = None,
    freq: DurationLike | None = None,
    timeout_ms: int | None = None,
) -> ReplayPlan:
    """Split the ordered replay of ``topics`` over ``[start, end)`` into
    time slices, on this machine, with offsets-for-times lookups only (no
    record is read except, without ``start``, the first one).

    ``start``: rows whose ordering timestamp is >= start (None: from the
    first record). ``end``: rows before it (None: up to the end offsets
    now, like ``read_topics``). ``npartitions``: that many slices holding
    about the same number of records (fewer if records are too
    concentrated in time to split); default about one per
    ``RECORDS_PER_SLICE`` records. ``freq`` instead: slices on a fixed time
    grid (a duration: ms, timedelta or "15m"), aligned to the epoch.
    """
    t0 = time.monotonic()
    tl = as_plan_topics(topics, config)
    names = [t.name for t in tl]
    s_ms = None if start is None else to_epoch_ms(start, "start")
    e_ms = None if end is None else to_epoch_ms(end, "end")
    if s_ms is not None and s_ms < 0 or e_ms is not None and e_ms < 0:
        raise ConfigError(f"start and end must be >= 0 epoch milliseconds, got {s_ms} and {e_ms}")
    if s_ms is not None and e_ms is not None and e_ms <= s_ms:
        raise ConfigError(f"end ({e_ms}) must be after start ({s_ms})")
    if npartitions is not None and freq is not None:
        raise ConfigError("give npartitions or freq, not both")
    if npartitions is not None and (isinstance(npartitions, bool) or not isinstance(npartitions, int) or npartitions < 1):
        raise ConfigError(f"npartitions must be an int >= 1, got {npartitions!r}")
    f_ms = None
    if freq is not None:
        f_ms = to_ms(freq, "freq")
        if f_ms < 1:
            raise ConfigError(f"freq must be at least 1 ms, got {freq!r}")

    base = offsets_for_times(config, names, [x for x in (s_ms, e_ms) if x is not None],
                             max_timestamps=e_ms is None, timeout_ms=timeout_ms)
    keys = [(n, p) for n in names for p in sorted(base[n])]
    po = {(n, p): base[n][p] for n, p in keys}
    begin = {k: (po[k].offsets[0] if s_ms is not None else po[k].low) for k in keys}
    high = {k: po[k].high for k in keys}
    finish = {k: (po[k].offsets[-1] if e_ms is not None else po[k].high) for k in keys}
    total = sum(max(0, finish[k] - begin[k]) for k in keys)
    lookups = (s_ms is not None) + (e_ms is not None)

    if s_ms is not None:
        lo: int | None = s_ms
    else:
        lo = _first_ordering_time(config, tl, begin, high, timeout_ms)
    if e_ms is not None:
        hi: int | None = e_ms - 1
    else:
        mts = [po[k].max_timestamp_ms for k in keys if po[k].max_timestamp_ms is not None and begin[k] < high[k]]
        hi = max(mts) if mts else None

    cache: dict[int, dict[tuple[str, int], int]] = {}

    def lookup(ts: Iterable[int]) -> None:
        nonlocal lookups
        todo = sorted({t for t in ts if t not in cache})
        for i in range(0, len(todo), _LOOKUP_CHUNK):
            chunk = todo[i:i + _LOOKUP_CHUNK]
            res = offsets_for_times(config, names, chunk, timeout_ms=timeout_ms)
            lookups += len(chunk)
            for j, t in enumerate(chunk):
                cache[t] = {(n, p): res[n][p].offsets[j] for n, p in keys}

    def count(t: int) -> int:
        offs = cache[t]
        return sum(min(max(offs[k] - begin[k], 0), max(finish[k] - begin[k], 0)) for k in keys)

    bounds: list[int] = []
    if lo is not None and hi is not None and lo < hi and total > 0:
        if f_ms is not None:
            first = (lo // f_ms + 1) * f_ms
            n = 0 if first > hi else (hi - first) // f_ms + 1
            if n > 100_000:
                raise ConfigError(f"freq={freq!r} makes {n:,} slices over the time range; use a longer freq")
            bounds = [first + i * f_ms for i in range(n)]
            lookup(bounds)
        else:
            n = npartitions if npartitions is not None else max(1, min(math.ceil(total / RECORDS_PER_SLICE), 10_000))
            if n > 1:
                bounds = _balanced(lookup, count, lo, hi, n, total)
    if lo is None:
        lo = s_ms if s_ms is not None else (hi if hi is not None else 0)
    hi = lo if hi is None or hi < lo else hi

    lowers: list[int | None] = [s_ms, *bounds]
    uppers: list[int | None] = [*bounds, e_ms]
    slices = []
    for i, (lower, upper) in enumerate(zip(lowers, uppers)):
        starts = begin if i == 0 else cache[bounds[i - 1]]
        ranges = tuple(
            (n, tuple((p, starts[(n, p)], high[(n, p)]) for p in sorted(base[n]) if starts[(n, p)] < high[(n, p)]))
            for n in names
        )
        c_lo = 0 if i == 0 else count(bounds[i - 1])
        c_hi = total if i == len(bounds) else count(bounds[i])
        slices.append(TimeSlice(i, lower, upper, ranges, max(0, c_hi - c_lo)))
    return ReplayPlan(
        topics=tuple(tl), slices=tuple(slices), divisions=(lo, *bounds, hi), start_ms=s_ms, end_ms=e_ms,
        records=total, lookups=lookups, seconds=time.monotonic() - t0,
        high={n: {p: high[(n, p)] for p in sorted(base[n])} for n in names},
    )


def _balanced(lookup: Any, count: Any, lo: int, hi: int, n: int, total: int) -> list[int]:
    """Boundaries in (lo, hi] splitting ``count`` (records before a time)
    into n parts of about total/n each: sample the time range uniformly,
    then bisect, all targets at once, every bracket whose count jumps by
    more than a tenth of a slice. Each round is one lookup of every new
    time."""
    k = min(max(4 * n, 32), _LOOKUP_CHUNK)
    span = hi - lo
    samples = sorted({lo + 1 + (span - 1) * j // (k - 1) for j in range(k)} if span > 1 else {hi})
    lookup(samples)
    pts = {t: count(t) for t in samples}
    targets = [total * j / n for j in range(1, n)]
    tol = max(1.0, total / n / 10)
    for _round in range(24):
        ts = sorted(pts)
        cs = [pts[t] for t in ts]
        mids = set()
        for c in targets:
            j = bisect.bisect_left(cs, c)  # first sample with count >= c
            a_t, a_c = (ts[j - 1], cs[j - 1]) if j > 0 else (lo, 0)
            if j == len(ts):
                continue
            b_t, b_c = ts[j], cs[j]
            if b_c - a_c > tol and b_t - a_t > 1:
                mids.add(a_t + (b_t - a_t) // 2)
        if not mids:
            break
        lookup(mids)
        pts.update({t: count(t) for t in mids})
    ts = sorted(pts)
    cs = [pts[t] for t in ts]
    out = set()
    for c in targets:
        j = bisect.bisect_left(cs, c)
        cands = [i for i in (j - 1, j) if 0 <= i < len(ts)]
        best = min(cands, key=lambda i: abs(cs[i] - c))
        out.add(ts[best])
    return sorted(t for t in out if lo < t <= hi)


def _first_ordering_time(config: Mapping[str, Any], topics: Sequence[SourceTopic], begin: Mapping[tuple[str, int], int],
                         high: Mapping[tuple[str, int], int], timeout_ms: int | None) -> int | None:
    """The smallest ordering timestamp of the replay: the first row's. Read,
    not looked up: a partition's first record in the log may be a
    transaction marker or an aborted record, with any timestamp."""
    from kafkars._manager import ConsumerManager

    ranges = {t.name: {p: (begin[(n, p)], high[(n, p)]) for (n, p) in begin if n == t.name and begin[(n, p)] < high[(n, p)]}
              for t in topics}
    if not any(ranges.values()):
        return None
    src = [SourceTopic.from_offsets(t.name, ranges[t.name]) for t in topics]
    with ConsumerManager(config, src, batch_size=1, ordering_timestamp=True, max_buffered_bytes=1 << 20,
                         startup_timeout_ms=timeout_ms) as m:
        for batch in m.iter_batches("live"):
            v = batch.column("ordering_timestamp")[0].value
            return None if v is None else int(v)
    return None
