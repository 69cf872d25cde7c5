"""``kafkars.scan()``: a bounded replay that can be read again and again.

:meth:`ConsumerManager.to_reader` returns a one-shot ``RecordBatchReader``:
once read it is empty, so a second DuckDB query over it (re-running a
notebook cell) sees no rows. A :class:`Scan` holds only what to read. Every
export of its Arrow stream (``__arrow_c_stream__``, the Arrow PyCapsule
protocol that DuckDB, polars and pyarrow read) opens a fresh
ConsumerManager, replays the topics up to ``until`` and closes the manager
when the stream is exhausted or released::

    s = kafkars.scan({"bootstrap.servers": "localhost:9092"}, [SourceTopic.from_earliest("trades")])
    duckdb.sql("select count(*) from s")     # a replay
    duckdb.sql("select count(*) from s")     # another replay, same answer
"""

from __future__ import annotations

import datetime as _dt
import inspect
from typing import Any, Iterator, Mapping, Sequence

import pyarrow as pa

from kafkars._errors import ConfigError
from kafkars._frames import import_pandas, import_polars
from kafkars._lib import UNTIL_LIVE, UNTIL_NONE
from kafkars._manager import ConsumerManager, Until, until_code, validate_source_topic
from kafkars._topics import SourceTopic, as_source_topic

#: ConsumerManager arguments that do not change the batch schema: with only
#: these (and a bool include_headers) the schema is known without connecting.
_SCHEMA_NEUTRAL = frozenset(
    {
        "cutoff_ms",
        "batch_size",
        "linger_ms",
        "max_buffered_messages",
        "max_buffered_bytes",
        "include_headers",
        "startup_timeout_ms",
        "broker_down_timeout_ms",
    }
)


class Scan:
    """What to replay: config, topics, ``until`` and ConsumerManager
    arguments. Build one with :func:`kafkars.scan`.

    Each read (a DuckDB query, ``polars.DataFrame(scan)``, ``pa.table(scan)``,
    :meth:`to_table`, iteration, ...) is a new, complete replay on its own
    ConsumerManager, so reading twice gives the same rows as long as the
    topics did not change in between (with ``until="live"`` a later read
    also includes records produced since). Nothing connects until a read.
    """

    def __init__(self, config: Mapping[str, Any], topics: Sequence[SourceTopic | Mapping[str, Any]], until: Until,
                 manager_kwargs: Mapping[str, Any]) -> None:
        if not isinstance(config, Mapping):
            raise ConfigError(f"config must be a dict of librdkafka properties, got {type(config).__name__}")
        if isinstance(topics, (str, bytes)):
            name = topics.decode("utf-8", "replace") if isinstance(topics, bytes) else topics
            raise ConfigError(
                f"topics must be a list of SourceTopic, got the {type(topics).__name__} {topics!r}: "
                f"write [SourceTopic.from_earliest({name!r})]"
            )
        if isinstance(topics, Mapping) or not hasattr(topics, "__iter__"):
            raise ConfigError(
                f"topics must be a list of SourceTopic, e.g. [SourceTopic.from_earliest('t')], "
                f"got {type(topics).__name__} {topics!r}"
            )
        code = until_code(until)
        if code == UNTIL_NONE:
            raise ConfigError("scan needs a bound: until='live' or a time (None would never end a read)")
        kwargs = dict(manager_kwargs)
        try:
            inspect.signature(ConsumerManager).bind(config, topics, **kwargs)
        except TypeError as exc:
            raise TypeError(f"scan(): {exc} (the keyword arguments go to ConsumerManager)") from None
        self._config = dict(config)
        self._topics = [as_source_topic(t, i) for i, t in enumerate(topics)]
        for t in self._topics:
            validate_source_topic(t)  # checks without connecting
        self._until = until
        self._until_code = code
        self._kwargs = kwargs
        self._schema: pa.Schema | None = None

    # -- reading ---------------------------------------------------------

    def open(self) -> ConsumerManager:
        """A new ConsumerManager for this scan (the caller closes it)."""
        return ConsumerManager(self._config, self._topics, **self._kwargs)

    def to_reader(self) -> pa.RecordBatchReader:
        """A new replay as a one-shot ``pyarrow.RecordBatchReader``; its
        ConsumerManager is closed once the reader is exhausted or released."""
        m = self.open()
        if self._schema is None:
            self._schema = m.schema
        return pa.RecordBatchReader.from_batches(m.schema, _batches(m, self._until))

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        """Export a new replay as an ArrowArrayStream PyCapsule (the Arrow
        PyCapsule interface). ``requested_schema`` is passed on to pyarrow,
        which casts to it where it can."""
        return self.to_reader().__arrow_c_stream__(requested_schema)

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        """The batches of a new replay."""
        return _batches(self.open(), self._until)

    def to_table(self, *, progress: bool = False) -> pa.Table:
        """A new replay into one ordered ``pyarrow.Table``."""
        with self.open() as m:
            if self._schema is None:
                self._schema = m.schema
            return m.read_all(self._until, progress=progress)

    def to_pandas(self, *, progress: bool = False, **to_pandas_kwargs: Any) -> Any:
        """A new replay as a pandas DataFrame (needs pandas)."""
        import_pandas("Scan.to_pandas()")
        return self.to_table(progress=progress).to_pandas(**to_pandas_kwargs)

    def to_polars(self, *, progress: bool = False) -> Any:
        """A new replay as a polars DataFrame (needs polars)."""
        pl = import_polars("Scan.to_polars()")
        return pl.from_arrow(self.to_table(progress=progress))

    # -- description -----------------------------------------------------

    @property
    def schema(self) -> pa.Schema:
        """The schema of the rows, known without connecting when the
        arguments fix it; otherwise a ConsumerManager is created once."""
        if self._schema is None:
            include = self._kwargs.get("include_headers", False)
            if set(self._kwargs) <= _SCHEMA_NEUTRAL and isinstance(include, bool):
                from kafkars.schema import get_message_schema

                self._schema = get_message_schema(include)
            else:
                with self.open() as m:
                    self._schema = m.schema
        return self._schema

    @property
    def topics(self) -> list[SourceTopic]:
        return list(self._topics)

    @property
    def until(self) -> Until:
        return self._until

    def __repr__(self) -> str:
        servers = self._config.get("bootstrap.servers", self._config.get("metadata.broker.list"))
        others = len([k for k in self._config if k not in ("bootstrap.servers", "metadata.broker.list")])
        topics = ", ".join(_describe_topic(t) for t in self._topics)
        if self._until_code == UNTIL_LIVE:
            until = "live"
        else:
            until = _iso(self._until_code)
        parts = [f"topics=[{topics}]", f"bootstrap.servers={servers!r}"]
        if others:
            parts.append(f"+{others} propert{'y' if others == 1 else 'ies'}")
        parts.append(f"until={until}")
        parts += [f"{k}={v!r}" for k, v in self._kwargs.items()]
        return f"kafkars.Scan({', '.join(parts)})"


def _batches(m: ConsumerManager, until: Until) -> Iterator[pa.RecordBatch]:
    """The batches of m up to until; m is closed at the end, on error, or
    when the iterator is released unfinished."""
    try:
        yield from m.iter_batches(until)
    finally:
        m.close()


def _iso(ms: int) -> str:
    return _dt.datetime.fromtimestamp(ms / 1000, _dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _duration(ms: int) -> str:
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def _describe_topic(t: SourceTopic) -> str:
    if t.policy == "relative_time" and t.time_ms is not None:
        return f"{t.name!r} last {_duration(t.time_ms)}"
    if t.policy == "absolute_time" and t.time_ms is not None:
        return f"{t.name!r} from {_iso(t.time_ms)}"
    return f"{t.name!r} {t.policy}"


def scan(
    config: Mapping[str, Any],
    topics: Sequence[SourceTopic | Mapping[str, Any]],
    until: Until = "live",
    **manager_kwargs: Any,
) -> Scan:
    """A replay of ``topics`` up to ``until`` that can be read any number of
    times: each read (``duckdb.sql("... from s")``, ``polars.DataFrame(s)``,
    ``pa.table(s)``, ``s.to_pandas()``, ...) is a fresh replay on its own
    ConsumerManager. Unlike :meth:`ConsumerManager.to_reader`, which can be
    read once.

    ``until`` is ``"live"`` (default) or a time (see :mod:`kafkars._manager`);
    ``manager_kwargs`` go to :class:`ConsumerManager` (``batch_size``,
    ``include_headers``, ...). Arguments are checked now; nothing connects
    until the first read.
    """
    return Scan(config, topics, until, manager_kwargs)
