"""Checks shared by the broker tests: the order and exactly-once
guarantees (docs/design.md, "Replay"), from the output alone."""

from __future__ import annotations

import contextlib
import socket
from typing import Any, Iterator

import pyarrow as pa

from devtools.kafkatool import Record


def check_order(table: pa.Table, ranks: dict[str, int]) -> None:
    """Order: rows sorted by (ordering timestamp, topic rank, partition,
    offset), where a late record is ordered with the running maximum of its
    partition (docs/design.md, "Order key")."""
    rows = table.select(["topic", "partition", "offset", "timestamp"]).to_pylist()
    by_part: dict[tuple[str, int], list[tuple[int, int]]] = {}
    for r in rows:
        by_part.setdefault((r["topic"], r["partition"]), []).append((r["offset"], _ms(r["timestamp"])))
    eff: dict[tuple[str, int, int], int] = {}
    for (t, p), recs in by_part.items():
        recs.sort()
        last = None
        for off, ts in recs:
            last = ts if last is None or ts > last else last
            eff[(t, p, off)] = last
    keys = [(eff[(r["topic"], r["partition"], r["offset"])], ranks[r["topic"]], r["partition"], r["offset"]) for r in rows]
    for i in range(1, len(keys)):
        assert keys[i - 1] < keys[i], f"order violated at row {i}: {keys[i - 1]} then {keys[i]}"


def _ms(ts: Any) -> int:
    return int(round(ts.timestamp() * 1000))


def _b(v: bytes | None) -> tuple[int, bytes]:
    """Sortable, and keeps null (None) distinct from empty (b"")."""
    return (0, b"") if v is None else (1, v)


def check_exactly_once(table: pa.Table, produced: list[Record]) -> None:
    """Exactly once: every produced (topic, partition, key, value, ts) exactly once."""
    got = sorted(
        (r["topic"], r["partition"], _b(r["key"]), _b(r["value"]), _ms(r["timestamp"]))
        for r in table.select(["topic", "partition", "key", "value", "timestamp"]).to_pylist()
    )
    want = sorted((r.topic, r.partition, _b(r.key), _b(r.value), r.ts) for r in produced)
    assert len(got) == len(want), f"exactly once: got {len(got)} rows, produced {len(want)}"
    assert got == want
    offsets = table.select(["topic", "partition", "offset"]).to_pylist()
    assert len({(o["topic"], o["partition"], o["offset"]) for o in offsets}) == len(offsets), "exactly once: duplicate offsets"


@contextlib.contextmanager
def silent_address() -> Iterator[str]:
    """A local address that accepts TCP connections and never answers: a
    broker that is unreachable without refusing the connection (creation
    then waits up to startup_timeout_ms)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen(128)
        yield f"127.0.0.1:{s.getsockname()[1]}"
