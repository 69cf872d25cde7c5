"""Bounded replays for notebooks and pipelines: iterate, read into a Table,
or stream to DuckDB/polars through the Arrow C stream interface.

``until`` bounds every one of them:

* ``"live"`` (default): everything in the topics when the manager was
  created, i.e. until :meth:`ConsumerManager.is_live`;
* a time (epoch ms or ``datetime``; naive = UTC): records with timestamp
  before it, in replay order. The replay stops at the first record at or
  after the time (kept for the next poll, not lost), once the frontier has
  passed it, or, when the manager is live, once the clock has passed it (so
  a future time tails live records until then);
* ``None``: no bound (iterate for ever, e.g. live tailing).
"""

from __future__ import annotations

import datetime as _dt
import html
import sys
import time
from typing import TYPE_CHECKING, Any, Iterator, Union

import pyarrow as pa

from kafkars._errors import ConfigError
from kafkars._lib import check, ffi, lib
from kafkars._topics import to_epoch_ms

if TYPE_CHECKING:
    from kafkars._manager import ConsumerManager

Until = Union[str, int, _dt.datetime, None]

_SLICE_MS = 100
_FLAG_LIVE = 1
_FLAG_UNTIL_REACHED = 2


def until_code(until: Until) -> int:
    """The C ABI's until_ms for an ``until`` argument."""
    if until is None:
        return int(lib.KAFKARS_UNTIL_NONE)
    if isinstance(until, str):
        if until == "live":
            return int(lib.KAFKARS_UNTIL_LIVE)
        raise ConfigError(f"until must be 'live', a time (epoch ms or datetime) or None, got {until!r}")
    ms = to_epoch_ms(until, "until")
    if ms < 0:
        raise ConfigError(f"until must be >= 0 epoch milliseconds, got {ms}")
    return ms


class _Progress:
    """A tqdm bar if tqdm is installed, else a plain stderr line."""

    def __init__(self, total: int | None, desc: str) -> None:
        self.n = 0
        self.t0 = time.monotonic()
        self.total = total
        try:
            from tqdm.auto import tqdm  # type: ignore[import-untyped]

            self.bar: Any = tqdm(total=total, desc=desc, unit=" rec", unit_scale=True, dynamic_ncols=True)
        except ImportError:
            self.bar = None
            self.desc = desc
            self.last = 0.0

    def update(self, n: int) -> None:
        self.n += n
        if self.bar is not None:
            self.bar.update(n)
            return
        now = time.monotonic()
        if now - self.last >= 0.5:
            self.last = now
            rate = self.n / max(now - self.t0, 1e-9)
            of = f"/{self.total:,}" if self.total else ""
            print(f"\r{self.desc}: {self.n:,}{of} records, {rate:,.0f} rec/s", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        else:
            print(file=sys.stderr)


class ReplayMixin:
    """Bounded iteration, tables and streams (mixed into ConsumerManager)."""

    if TYPE_CHECKING:
        _schema: pa.Schema
        _empty_batch: pa.RecordBatch
        _last_flags: int

        def _live_handle(self) -> int: ...
        def metrics(self) -> dict[str, Any]: ...
        def partition_state(self) -> pa.RecordBatch: ...

    def _poll_until(self, timeout_ms: int, until: int) -> tuple[pa.RecordBatch | None, int]:
        """One poll with an until bound, waiting in slices (Ctrl-C works)."""
        h = self._live_handle()
        arr = ffi.new("struct ArrowArray*")
        rows = ffi.new("int64_t*")
        flags = ffi.new("uint32_t*")
        err = ffi.new("char**")
        deadline = time.monotonic() + timeout_ms / 1000.0
        while True:
            remaining = max(0, min(int(round((deadline - time.monotonic()) * 1000)), 2**31 - 1))
            check(lib.kafkars_manager_poll(h, remaining, min(remaining, _SLICE_MS), until, arr, rows, flags, err), err)
            f = int(flags[0])
            self._last_flags = f
            if rows[0] > 0:
                return pa.RecordBatch._import_from_c(int(ffi.cast("uintptr_t", arr)), self._schema), f
            if f & _FLAG_UNTIL_REACHED or remaining <= _SLICE_MS:
                return None, f

    def iter_batches(self, until: Until = "live", *, progress: bool = False) -> Iterator[pa.RecordBatch]:
        """Yield non-empty batches, in order, until ``until`` (see module doc).

        With ``progress=True`` a bar (tqdm if installed) shows records
        released out of records to replay, and the rate.
        """
        code = until_code(until)
        bar = None
        if progress:
            total = self.metrics()["records_to_replay"] if code == lib.KAFKARS_UNTIL_LIVE else None
            bar = _Progress(total, "kafkars replay")
        try:
            while True:
                batch, flags = self._poll_until(1000, code)
                if batch is not None:
                    if bar is not None:
                        bar.update(batch.num_rows)
                    yield batch
                if flags & _FLAG_UNTIL_REACHED:
                    return
        finally:
            if bar is not None:
                bar.close()

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        """``for batch in manager:`` iterates the replay until it is live."""
        return self.iter_batches("live")

    def read_all(self, until: Until = "live", *, progress: bool = False) -> pa.Table:
        """Read the replay (bounded by ``until``) into one ordered Table."""
        if until is None:
            raise ConfigError("read_all needs a bound: until='live' or a time (None would never return)")
        return pa.Table.from_batches(list(self.iter_batches(until, progress=progress)), schema=self._schema)

    def to_reader(self, until: Until = "live", *, idle_timeout_ms: int = 60_000) -> pa.RecordBatchReader:
        """A ``pyarrow.RecordBatchReader`` over the replay, backed by an Arrow
        C stream (ArrowArrayStream) exported by the Go core: DuckDB, polars
        and pyarrow read it without Python in the loop.

        Reading waits at most ``idle_timeout_ms`` for each batch, then fails
        rather than blocking for ever (e.g. if the broker is gone).
        """
        code = until_code(until)
        if code == lib.KAFKARS_UNTIL_NONE:
            raise ConfigError("to_reader needs a bound: until='live' or a time")
        h = self._live_handle()
        stream = ffi.new("struct ArrowArrayStream*")
        err = ffi.new("char**")
        check(lib.kafkars_manager_stream(h, code, int(idle_timeout_ms), stream, err), err)
        return pa.RecordBatchReader._import_from_c(int(ffi.cast("uintptr_t", stream)))

    def _repr_html_(self) -> str:
        """Partition state as an HTML table (Jupyter)."""
        try:
            m = self.metrics()
            st = self.partition_state().to_pylist()
        except Exception as exc:  # noqa: BLE001 - repr must not raise
            return f"<pre>{html.escape(repr(self))}: {html.escape(str(exc))}</pre>"
        wm = m.get("priming_watermark_ms")
        wm_s = _dt.datetime.fromtimestamp(wm / 1000, _dt.timezone.utc).isoformat(timespec="milliseconds") if wm else "-"
        head = (
            f"<b>kafkars ConsumerManager</b>: {'live' if m['is_live'] else 'replaying'}, "
            f"{m['partitions_caught_up']}/{m['partitions']} partitions caught up, "
            f"{m['records_released']:,} released of {m['records_to_replay']:,} to replay, "
            f"{m['held_messages']:,} held, {m['paused_partitions']} paused, watermark {html.escape(wm_s)}"
        )
        cols = ["topic", "partition", "replay_start_offset", "replay_end_offset", "consumed_offset",
                "released_offset", "last_consumed_timestamp", "held_messages", "late_messages", "is_paused", "is_live"]
        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(r[c]) if r[c] is not None else '-')}</td>" for c in cols) + "</tr>"
            for r in st
        )
        header = "".join(f"<th>{c}</th>" for c in cols)
        return f"<div>{head}<table><thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table></div>"


def read_topics(
    config: Any,
    topics: Any,
    until: Until = "live",
    *,
    progress: bool = False,
    **manager_kwargs: Any,
) -> pa.Table:
    """Replay topics into one ordered ``pyarrow.Table`` and close the
    connection: ``read_topics({"bootstrap.servers": ...}, [SourceTopic.from_earliest("t")])``.

    ``manager_kwargs`` go to :class:`ConsumerManager` (batch_size, ...).
    """
    from kafkars._manager import ConsumerManager

    with ConsumerManager(config, topics, **manager_kwargs) as m:
        return m.read_all(until, progress=progress)


def _manager_type() -> type["ConsumerManager"]:  # pragma: no cover - typing helper
    from kafkars._manager import ConsumerManager

    return ConsumerManager
