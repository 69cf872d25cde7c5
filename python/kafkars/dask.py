"""Ordered replays on Dask: one Dask partition per time slice
(docs/guides/scale.md). Needs ``pip install kafkars[dask]``.

    import kafkars.dask
    ddf = kafkars.dask.read_topics({"bootstrap.servers": "localhost:9092"}, ["trades"], npartitions=8)
    ddf.loc["2026-11-23 08:00":"2026-11-23 09:00"].resample("1min").size().compute()

The frame's index is the ordering timestamp (the running maximum of
record timestamps within a partition, docs/design.md "Order key"), with
known divisions: ``loc`` and time resampling need no shuffle. Partition i
holds the rows whose ordering timestamp is in ``[divisions[i],
divisions[i+1])``, in replay order; the partitions, concatenated, are the
single ordered replay of ``kafkars.read_topics``, row for row.

Planning (offsets-for-times lookups, balanced slice boundaries) happens
once, on the client; each task opens its own manager over its slice's
offsets. A slice is idempotent: a task that Dask runs again (a lost worker,
``compute(retries=...)``) returns the same rows.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import dask.dataframe as dd
import pandas as pd
import pyarrow as pa

from kafkars._errors import ConfigError
from kafkars._slices import ReplayPlan, TimeSlice, plan_replay
from kafkars._time import DurationLike, TimeLike
from kafkars._topics import SourceTopic

__all__ = ["INDEX", "from_plan", "read_topics", "to_pandas"]

#: Name of the index: the ordering timestamp.
INDEX = "ordering_timestamp"

_RESERVED = ("cutoff_ms", "until", "ordering_timestamp")


def read_topics(
    config: Mapping[str, Any],
    topics: Iterable[str | SourceTopic],
    *,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    npartitions: int | None = None,
    freq: DurationLike | None = None,
    timeout_ms: int | None = None,
    **manager_kwargs: Any,
) -> dd.DataFrame:
    """The ordered replay of ``topics`` as a ``dask.dataframe.DataFrame``,
    one partition per time slice.

    Args:
        config: librdkafka properties, as for :class:`kafkars.ConsumerManager`.
        topics: topic names, or ``SourceTopic.from_earliest(name, key=...,
            value=...)`` to decode keys or values (the time range comes from
            ``start`` and ``end``).
        start: rows whose ordering timestamp is at or after it (epoch ms,
            datetime or string); None: from the first record.
        end: rows whose ordering timestamp is before it; None: up to the
            end offsets at planning time (like ``kafkars.read_topics``).
        npartitions: that many slices of about the same number of records
            (fewer when records are too concentrated in time to split);
            default about one slice per million records.
        freq: instead of npartitions, slices on a fixed time grid aligned
            to the epoch (ms, timedelta or a string such as ``"1h"``).
        timeout_ms: bounds each planning lookup (default 30 000).
        manager_kwargs: go to each slice's ConsumerManager (batch_size,
            include_headers, late, max_buffered_bytes, ...).

    Keys and values stay ``binary[pyarrow]`` (``pd.ArrowDtype``), other
    columns too, except timestamps (``datetime64[ms, UTC]``); typed columns
    are Arrow structs.
    """
    for bad in _RESERVED:
        if bad in manager_kwargs:
            raise ConfigError(f"{bad} is set by kafkars.dask.read_topics (slices and their index); do not pass it")
    plan = plan_replay(config, topics, start=start, end=end, npartitions=npartitions, freq=freq, timeout_ms=timeout_ms)
    return from_plan(config, plan, **manager_kwargs)


def from_plan(config: Mapping[str, Any], plan: ReplayPlan, **manager_kwargs: Any) -> dd.DataFrame:
    """A planned replay (:func:`kafkars.plan_replay`) as a Dask frame."""
    from kafkars._manager import ConsumerManager

    for bad in _RESERVED:
        if bad in manager_kwargs:
            raise ConfigError(f"{bad} is set by kafkars.dask (slices and their index); do not pass it")
    kwargs = {**manager_kwargs, "ordering_timestamp": True}
    # the schema of every slice's batches: a manager that reads nothing
    nothing = [SourceTopic.from_offsets(t.name, {}, key=t.key, value=t.value) for t in plan.topics]
    with ConsumerManager(config, nothing, **kwargs) as m:
        schema = m.schema
    meta = to_pandas(schema.empty_table())
    divisions = [pd.Timestamp(ms, unit="ms", tz="UTC").as_unit("ms") for ms in plan.divisions]
    read = _ReadSlice(dict(config), plan.topics, kwargs, schema)
    return dd.from_map(read, list(plan.slices), meta=meta, divisions=divisions, label="kafkars-replay",
                       enforce_metadata=False)


def _dtype(t: pa.DataType) -> Any:
    # timestamps as datetime64[ms, UTC] (a DatetimeIndex resamples), the
    # rest as Arrow-backed columns: bytes stay bytes (an object column
    # would be converted to strings by Dask and fail on non-UTF-8 bytes)
    return None if pa.types.is_timestamp(t) else pd.ArrowDtype(t)


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """A replayed Table (with its ordering_timestamp column) as the pandas
    frame of one Dask partition: indexed by the ordering timestamp."""
    df = table.to_pandas(types_mapper=_dtype)
    df.index = pd.DatetimeIndex(df.pop(INDEX), name=INDEX)
    return df


class _ReadSlice:
    """The task of one Dask partition (pickled to the workers)."""

    def __init__(self, config: dict[str, Any], topics: Sequence[SourceTopic], kwargs: dict[str, Any], schema: pa.Schema) -> None:
        self.config, self.topics, self.kwargs, self.schema = config, tuple(topics), kwargs, schema

    def __call__(self, s: TimeSlice) -> pd.DataFrame:
        table = s.read(self.config, self.topics, **self.kwargs)
        if not table.schema.equals(self.schema):
            raise ConfigError(f"slice {s.index}: the batches' schema changed since planning:\n{table.schema}\nplanned:\n{self.schema}")
        return to_pandas(table)
