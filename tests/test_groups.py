"""Commits, resuming from committed offsets, consumer groups and lag, on the
real broker (docs/design.md, "Commits and consumer groups").

The process tests run tests/group_child.py in fresh interpreters (never a
fork: the library holds a Go runtime) and read back what each child logged,
record by record.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import kafkars
from kafkars import ConsumerManager, SourceTopic

CHILD = Path(__file__).with_name("group_child.py")


def group_name() -> str:
    return f"g-{uuid.uuid4().hex[:10]}"


def spawn(args: list[str]) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return subprocess.Popen([sys.executable, str(CHILD), *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


# -- reading a child's log -------------------------------------------------


@dataclass
class Batch:
    ms: int
    live_before: bool
    rows: list[tuple[int, int, int]]  # partition, offset, ordering ts


@dataclass
class Run:
    """One child process's log."""

    batches: list[Batch] = field(default_factory=list)
    commits: list[tuple[int, dict[int, int]]] = field(default_factory=list)
    events: list[tuple[int, str, str]] = field(default_factory=list)  # ms, level, message
    items: list[tuple[str, object]] = field(default_factory=list)  # in log order
    closing_ms: int | None = None
    closed: bool = False


def read_runs(path: Path) -> list[Run]:
    """Split a log into runs (one per "S" line). A last line cut by a
    SIGKILL (no newline) is ignored: it was not processed."""
    runs: list[Run] = []
    text = path.read_text() if path.exists() else ""
    lines = text.split("\n")
    if lines and lines[-1] != "":
        lines = lines[:-1]  # cut mid-write
    for line in lines:
        if not line:
            continue
        kind, _, rest = line.partition(" ")
        if kind == "S":
            runs.append(Run())
            continue
        run = runs[-1]
        if kind == "B":
            ms, live, rows = (rest.split(" ", 2) + [""])[:3]
            b = Batch(int(ms), live == "1", [tuple(int(x) for x in r.split(":")) for r in rows.split(",") if r])  # type: ignore[misc]
            run.batches.append(b)
            run.items.append(("B", b))
        elif kind == "C":
            ms, _, offs = rest.partition(" ")
            c = {int(k): int(v) for k, v in (x.split(":") for x in offs.split(",") if x)}
            run.commits.append((int(ms), c))
            run.items.append(("C", c))
        elif kind == "E":
            ms, level, msg = rest.split(" ", 2)
            run.events.append((int(ms), level, msg))
            run.items.append(("E", msg))
        elif kind == "X":
            run.closing_ms = int(rest)
        elif kind == "Z":
            run.closed = True
    return runs


def check_order(run: Run, who: str) -> int:
    """Order while catching up: each batch is sorted by (ordering ts,
    partition, offset); consecutive batches of a replay phase are too. A
    partition assigned mid-stream joins the order from the batches built
    after its assignment: a new phase starts after the batch that carried
    the assignment's log line. Returns the batch pairs checked."""
    checked = 0
    prev: tuple[int, int, int] | None = None
    boundary = False
    for kind, item in run.items:
        if kind == "E" and str(item).startswith("assigned"):
            boundary = True
            continue
        if kind != "B":
            continue
        b: Batch = item  # type: ignore[assignment]
        keys = [(ts, p, o) for p, o, ts in b.rows]
        assert keys == sorted(keys), f"{who}: a batch is not in order"
        if prev is not None and not boundary and not b.live_before:
            assert prev <= keys[0], f"{who}: batches out of order while catching up: {prev} then {keys[0]}"
            checked += 1
        prev = None if boundary else keys[-1]
        boundary = False
    return checked


# -- at least once across SIGKILLs -------------------------------------------


def test_at_least_once_across_kills(kafka, tool, topic_name, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A child polls, logs each batch and commits after it; it is killed
    with SIGKILL at random points five times while a producer writes, and
    restarted with from_committed. Every record is processed at least once,
    and every duplicate is a row processed after the last commit the killed
    run logged."""
    rng = random.Random(20261201)
    parts = 4
    tool.create_topic(topic_name, parts)
    tool.gen(topic_name, partitions=parts, count=40_000, ts_start=1_000_000)
    group = group_name()
    log = tmp_path / "child.log"

    stop_producing = threading.Event()
    produced: list[int] = []

    def producer() -> None:
        ts = 2_000_000
        while not stop_producing.is_set():
            tool.gen(topic_name, partitions=parts, count=400, ts_start=ts)
            produced.append(400)
            ts += 1_000
            time.sleep(0.2)

    th = threading.Thread(target=producer, daemon=True)
    th.start()
    kills = 0
    try:
        for _ in range(5):
            before = len(read_runs(log))
            child = spawn([kafka.bootstrap, topic_name, group, str(log), "--mode", "committed", "--batch-size", "300",
                           "--work", "0.02"])
            # kill it while it processes: after its first batch of this run
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                runs = read_runs(log)
                if len(runs) > before and runs[-1].batches:
                    break
                assert child.poll() is None, f"child exited early: {child.stderr.read().decode()[-2000:]}"  # type: ignore[union-attr]
                time.sleep(0.02)
            else:
                child.kill()
                pytest.fail("the child processed nothing within 60 s")
            time.sleep(rng.uniform(0.0, 0.8))
            child.send_signal(signal.SIGKILL)
            child.wait(30)
            kills += 1
    finally:
        stop_producing.set()
        th.join(60)
    # the last run reads to the end and exits by itself
    child = spawn([kafka.bootstrap, topic_name, group, str(log), "--mode", "committed", "--batch-size", "300", "--idle", "3"])
    _, err = child.communicate(timeout=300)
    assert child.returncode == 0, err.decode()[-3000:]

    ends = tool.offsets(topic_name)
    runs = read_runs(log)
    assert len(runs) == kills + 1 == 6
    assert runs[-1].closed and all(not r.closed for r in runs[:-1])
    seen: Counter[tuple[int, int]] = Counter()
    last_commit: dict[int, int] = {}  # max committed offset logged by earlier runs
    dups = explained = 0
    for k, run in enumerate(runs):
        first: dict[int, int] = {}
        for b in run.batches:
            for p, o, _ in b.rows:
                first.setdefault(p, o)
                if seen[(p, o)]:
                    dups += 1
                    # a row seen before: it was after the last commit the
                    # earlier runs logged
                    assert o >= last_commit.get(p, 0), f"run {k}: {p}:{o} processed again below the commit {last_commit.get(p)}"
                    explained += 1
                seen[(p, o)] += 1
        # each run starts at a committed offset: never past a row not processed
        for p, o in first.items():
            assert o >= last_commit.get(p, 0)
            assert o == ends[p][0] or seen[(p, o - 1)], f"run {k}: partition {p} starts at {o}: a gap"
        for _, c in run.commits:
            for p, o in c.items():
                last_commit[p] = max(last_commit.get(p, 0), o)
        # within a run, each partition's rows come in offset order, once
        per: dict[int, list[int]] = defaultdict(list)
        for b in run.batches:
            for p, o, _ in b.rows:
                per[p].append(o)
        for p, offs in per.items():
            assert offs == sorted(set(offs)), f"run {k}: partition {p} repeats or reorders rows"
    total = sum(hi - lo for lo, hi in ends.values())
    for p, (lo, hi) in ends.items():
        missing = [o for o in range(lo, hi) if not seen[(p, o)]]
        assert not missing, f"partition {p}: {len(missing)} records never processed, e.g. {missing[:5]}"
    assert len(seen) == total
    assert dups == explained
    assert sum(produced) > 0
    assert sum(len(r.batches) for r in runs[:-1]) >= 5 and runs[-1].batches, "the kills did not interrupt processing"
    # the final commit is the end: lag 0
    with ConsumerManager({"bootstrap.servers": kafka.bootstrap, "group.id": group}, [SourceTopic.from_committed(topic_name)]) as m:
        st = m.partition_state().to_pylist()
        assert all(r["replay_start_offset"] == r["replay_end_offset"] for r in st), st
        assert m.metrics()["lag"] == 0
    print(f"\n[at-least-once] {total} records, {kills} kills, {dups} duplicates, all after the last logged commit")


# -- commits in one process ---------------------------------------------------


def test_commit_resume_and_lag(kafka, tool, topic_name) -> None:  # type: ignore[no-untyped-def]
    tool.create_topic(topic_name, 3)
    tool.gen(topic_name, partitions=3, count=3000, ts_start=1000)
    cfg = {"bootstrap.servers": kafka.bootstrap, "group.id": group_name()}
    with ConsumerManager(cfg, [SourceTopic.from_committed(topic_name)], batch_size=700) as m:
        assert m.commit() == {}  # nothing returned yet: nothing committed
        lag = m.partition_lag()
        assert lag.schema == kafkars.PARTITION_LAG_SCHEMA
        assert lag.column("committed_offset").null_count == 3
        b = m.poll(10_000)
        assert b.num_rows == 700
        last: dict[int, int] = {}
        for p, o in zip(b.column("partition").to_pylist(), b.column("offset").to_pylist()):
            last[p] = max(last.get(p, -1), o)
        done = m.commit()
        assert done == {(topic_name, p): o + 1 for p, o in last.items()}
        rows = {r["partition"]: r for r in m.partition_lag().to_pylist()}
        for p, o in last.items():
            assert rows[p]["committed_offset"] == o + 1
            assert rows[p]["end_offset"] == 1000
            assert rows[p]["lag"] == 1000 - (o + 1)
        met = m.metrics()
        assert met["commits"] == 1 and met["lag"] == 3000 - 700 and met["assigned_partitions"] == 3
        assert m.commit(asynchronous=True) == done
    # a new manager resumes after the committed rows: exactly the rest
    with ConsumerManager(cfg, [SourceTopic.from_committed(topic_name)]) as m:
        rest = m.read_all()
        assert rest.num_rows == 2300
        for p, o in last.items():
            offs = [x for q, x in zip(rest.column("partition").to_pylist(), rest.column("offset").to_pylist()) if q == p]
            assert min(offs) == o + 1
        m.commit()
        assert m.metrics()["lag"] == 0


def test_commit_never_covers_rows_not_returned(kafka, tool, topic_name) -> None:  # type: ignore[no-untyped-def]
    """A time-bounded read keeps the rest of a cut batch and builds batches
    ahead: only the rows handed over are committed."""
    tool.create_topic(topic_name, 2)
    tool.gen(topic_name, partitions=2, count=20_000, ts_start=1000)  # ts 1000.. per partition
    cfg = {"bootstrap.servers": kafka.bootstrap, "group.id": group_name()}
    with ConsumerManager(cfg, [SourceTopic.from_earliest(topic_name)], batch_size=1000) as m:
        t = m.read_all(until=1000 + 2500)  # records with ts < 3500: 2500 per partition
        assert t.num_rows == 5000
        assert m.partition_stats().column("held_messages").to_pylist() != [0, 0] or m.metrics()["releasable_messages"] > 0
        assert m.commit() == {(topic_name, 0): 2500, (topic_name, 1): 2500}


def test_commit_errors(kafka, tool, topic_name) -> None:  # type: ignore[no-untyped-def]
    tool.create_topic(topic_name, 1)
    tool.gen(topic_name, partitions=1, count=100, ts_start=1000)
    bs = {"bootstrap.servers": kafka.bootstrap}
    # no group.id: kafkars' default one is random
    with ConsumerManager(bs, [SourceTopic.from_earliest(topic_name)]) as m:
        m.poll(5000)
        with pytest.raises(kafkars.ConfigError, match=r"group\.id"):
            m.commit()
    with pytest.raises(kafkars.ConfigError, match=r"from_committed\) needs config\['group.id'\]"):
        ConsumerManager(bs, [SourceTopic.from_committed(topic_name)])
    with pytest.raises(kafkars.ConfigError, match=r"subscribe=True needs"):
        ConsumerManager(bs, [SourceTopic.from_earliest(topic_name)], subscribe=True)
    # an empty group.id
    with pytest.raises(kafkars.ConfigError, match=r"non-empty config\['group.id'\]"):
        ConsumerManager({**bs, "group.id": ""}, [SourceTopic.from_committed(topic_name)])
    with pytest.raises(kafkars.ConfigError, match=r"config\['group.id'\] is empty"):
        ConsumerManager({**bs, "group.id": ""}, [SourceTopic.from_earliest(topic_name)])
    # before the first poll: nothing to commit; after close: ClosedError
    cfg = {**bs, "group.id": group_name()}
    m = ConsumerManager(cfg, [SourceTopic.from_earliest(topic_name)])
    assert m.commit() == {}
    m.close()
    with pytest.raises(kafkars.ClosedError):
        m.commit()
    with pytest.raises(kafkars.ClosedError):
        m.partition_lag()
    # bad arguments
    with ConsumerManager(cfg, [SourceTopic.from_earliest(topic_name)]) as m:
        with pytest.raises(kafkars.ConfigError, match="timeout_ms"):
            m.commit(timeout_ms=-1)
    # a deleted topic: the commit names it
    with ConsumerManager(cfg, [SourceTopic.from_earliest(topic_name)]) as m:
        assert m.poll(5000).num_rows == 100
        tool.delete_topic(topic_name)
        deadline = time.monotonic() + 60
        while True:
            try:
                m.commit(timeout_ms=5000)
            except (kafkars.TopicNotFoundError, kafkars.KafkaError) as exc:
                assert topic_name in str(exc)
                assert isinstance(exc, kafkars.TopicNotFoundError), exc
                break
            assert time.monotonic() < deadline, "commit to a deleted topic kept succeeding"
            time.sleep(0.5)


def test_from_committed_fallbacks(kafka, tool, topic_name) -> None:  # type: ignore[no-untyped-def]
    tool.create_topic(topic_name, 2)
    tool.gen(topic_name, partitions=2, count=200, ts_start=10_000)  # ts 10000..10099 per partition
    cfg = {"bootstrap.servers": kafka.bootstrap, "group.id": group_name()}
    for fallback, extra, want in [
        ("earliest", {}, 200),
        ("latest", {}, 0),
        ("absolute_time", {"fallback_time": 10_050}, 100),
    ]:
        with ConsumerManager(cfg, [SourceTopic.from_committed(topic_name, fallback, **extra)]) as m:
            assert m.read_all().num_rows == want, fallback
    with pytest.raises(kafkars.ConfigError, match="fallback"):
        SourceTopic.from_committed(topic_name, fallback="committed")
    with pytest.raises(kafkars.ConfigError, match="fallback_time"):
        SourceTopic.from_committed(topic_name, fallback="relative_time")
    # one partition committed, the other falls back
    with ConsumerManager(cfg, [SourceTopic.from_earliest(topic_name)], batch_size=30) as m:
        m.poll(5000)
        done = m.commit()
    with ConsumerManager(cfg, [SourceTopic.from_committed(topic_name, "latest")]) as m:
        st = {r["partition"]: r["replay_start_offset"] for r in m.partition_state().to_pylist()}
        for (_, p), o in done.items():
            assert st[p] == o
        assert set(st) == {0, 1}
        for p in {0, 1} - {p for (_, p) in done}:
            assert st[p] == 100


# -- consumer groups ------------------------------------------------------------


def _rows_by_partition(batches) -> dict[int, list[int]]:  # type: ignore[no-untyped-def]
    out: dict[int, list[int]] = defaultdict(list)
    for b in batches:
        for p, o in zip(b.column("partition").to_pylist(), b.column("offset").to_pylist()):
            out[p].append(o)
    return out


def test_revoke_while_rows_held(kafka, tool, topic_name, caplog) -> None:  # type: ignore[no-untyped-def]
    """Member A holds rows of both partitions for ordering when member B
    joins and takes one: nothing of the revoked partition is returned by A
    after the revoke, A commits exactly what it returned, and B goes on from
    there: every record once."""
    caplog.set_level("INFO", logger="kafkars")
    tool.create_topic(topic_name, 2)
    tool.gen(topic_name, partitions=2, count=40_000, ts_start=1000)
    group = group_name()
    cfg = {"bootstrap.servers": kafka.bootstrap, "group.id": group}
    # A reads slowly (about 2 000 rows/s): rows of both partitions stay held
    # for ordering for longer than a rebalance takes
    a = ConsumerManager(cfg, [SourceTopic.from_earliest(topic_name)], batch_size=100, subscribe=True)
    b = None
    got_a: list = []
    got_b: list = []
    try:
        deadline = time.monotonic() + 60
        while a.metrics()["assigned_partitions"] < 2:
            got_a.append(a.poll(200))
            assert time.monotonic() < deadline, "member A got no assignment"
        while a.held_message_count() == 0:
            got_a.append(a.poll(200))
            assert time.monotonic() < deadline
        b = ConsumerManager(cfg, [SourceTopic.from_earliest(topic_name)], batch_size=100, subscribe=True)
        revoked_at = None
        revoked: set[int] = set()
        dropped = 0
        while True:
            n_events = len(caplog.records)
            batch_a = a.poll(100)
            time.sleep(0.05)
            for rec in caplog.records[n_events:]:
                m = re.match(r"revoked \S+ \[([\d, ]+)\] .*; (\d+) rows dropped unreturned", rec.getMessage())
                if m and rec.name == "kafkars" and revoked_at is None:
                    revoked = {int(x) for x in m.group(1).split(",")}
                    dropped = int(m.group(2))
                    revoked_at = len(got_a)  # batches of A before this poll
            got_a.append(batch_a)
            got_b.append(b.poll(100))
            if revoked_at is not None and b.metrics()["assigned_partitions"] >= 1:
                break
            assert time.monotonic() < deadline + 60, "no rebalance within 2 minutes"
        # both drain what is left
        for _ in range(2000):
            if a.is_live() and b.is_live() and a.metrics()["lag_to_position"] == 0 and b.metrics()["lag_to_position"] == 0:
                break
            got_a.append(a.poll(50))
            got_b.append(b.poll(50))
            a.commit()
            b.commit()
        assert dropped > 0, "A held no row of the revoked partition: the test did not test a revoke with rows held"
        a_rows_after = _rows_by_partition(got_a[revoked_at + 1:])
        for p in revoked:
            assert not a_rows_after.get(p), f"A returned rows of revoked partition {p} after the revoke"
        ra, rb = _rows_by_partition(got_a), _rows_by_partition(got_b)
        for p in range(2):
            together = sorted(ra.get(p, []) + rb.get(p, []))
            assert together == list(range(20_000)), f"partition {p}: not every record exactly once"
        for p in revoked:
            assert rb[p][0] == max(ra[p]) + 1  # B starts where A's commit left off
    finally:
        a.close()
        if b is not None:
            b.close()


def test_subscribe_lifecycle_and_metrics(kafka, tool, topic_name) -> None:  # type: ignore[no-untyped-def]
    tool.create_topic(topic_name, 3)
    tool.gen(topic_name, partitions=3, count=300, ts_start=1000)
    cfg = {"bootstrap.servers": kafka.bootstrap, "group.id": group_name()}
    with ConsumerManager(cfg, [SourceTopic.from_earliest(topic_name)], subscribe=True) as m:
        assert not m.is_live()  # nothing assigned yet: the replay has not started
        t = m.read_all()
        assert t.num_rows == 300
        met = m.metrics()
        assert met["assigned_partitions"] == 3 and met["rebalances"] >= 1 and met["last_rebalance_ms"] > 0
        lag = m.partition_lag().to_pylist()
        assert all(r["is_assigned"] and r["position"] == 100 and r["lag_to_position"] == 0 for r in lag)
        m.commit()
    # the classic protocol with the cooperative assignor
    cfg2 = {**cfg, "group.id": group_name(), "group.protocol": "classic"}
    with ConsumerManager(cfg2, [SourceTopic.from_earliest(topic_name)], subscribe=True) as m:
        assert m.read_all().num_rows == 300
    # and with an eager assignor
    cfg3 = {**cfg2, "group.id": group_name(), "partition.assignment.strategy": "range"}
    with ConsumerManager(cfg3, [SourceTopic.from_earliest(topic_name)], subscribe=True) as m:
        assert m.read_all().num_rows == 300
        assert m.metrics()["assigned_partitions"] == 3
    with pytest.raises(kafkars.ConfigError, match="partition.assignment.strategy"):
        ConsumerManager({**cfg, "partition.assignment.strategy": "range"}, [SourceTopic.from_earliest(topic_name)], subscribe=True)


def test_subscribe_with_records_fetched_again(kafka, tool, topic_name) -> None:  # type: ignore[no-untyped-def]
    """A group member with a byte budget far below the partitions' first
    fetches (30 partitions of 2 000 records of 200 bytes, a 1 MiB budget):
    past three budgets the engine drops records and seeks back to them
    later, on partitions the group assigned. Every record once, in order,
    within four budgets; a commit afterwards covers every partition to its
    end (the seeks do not confuse what was returned)."""
    parts, count, budget = 30, 60_000, 1 << 20
    tool.create_topic(topic_name, parts)
    tool.gen(topic_name, partitions=parts, count=count, value_size=200, ts_start=1000, ts_step=1)
    cfg = {"bootstrap.servers": kafka.bootstrap, "group.id": group_name()}
    seen: list[tuple[int, int, int]] = []
    with ConsumerManager(cfg, [SourceTopic.from_earliest(topic_name)], subscribe=True,
                         max_buffered_bytes=budget) as m:
        deadline = time.monotonic() + 120
        while len(seen) < count or not m.is_live():
            assert time.monotonic() < deadline, f"{len(seen)} rows after 120 s: {m.metrics()}"
            b = m.poll(timeout_ms=500)
            ts = pc.cast(b.column("timestamp"), pa.int64()).to_pylist()
            seen += zip(ts, b.column("partition").to_pylist(), b.column("offset").to_pylist())
        met = m.metrics()
        m.commit()
        lag = m.partition_lag().to_pylist()
    assert len(seen) == count and len({(p, o) for _, p, o in seen}) == count  # exactly once
    assert seen == sorted(seen)  # (timestamp, partition, offset): one topic
    assert met["records_refetched"] > 0 and met["rewinds"] > 0, met
    assert met["peak_held_bytes"] <= 4 * budget + parts * 300, met["peak_held_bytes"]
    assert len(lag) == parts and all(r["lag"] == 0 for r in lag), lag


def test_group_of_three(kafka, tool, topic_name, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Three members on a 12-partition topic, joining and leaving while a
    producer writes: every record is processed at least once, no partition
    is owned by two members at once, and each member's order holds while it
    catches up."""
    parts = 12
    tool.create_topic(topic_name, parts)
    tool.gen(topic_name, partitions=parts, count=36_000, ts_start=1_000_000)
    group = group_name()
    stop_producing = threading.Event()

    def producer() -> None:
        ts = 5_000_000
        while not stop_producing.is_set():
            tool.gen(topic_name, partitions=parts, count=600, ts_start=ts)
            ts += 1_000
            time.sleep(0.3)

    th = threading.Thread(target=producer, daemon=True)
    th.start()
    logs = {name: tmp_path / f"{name}.log" for name in ("A", "B", "C")}
    procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(name: str) -> None:
        procs[name] = spawn([kafka.bootstrap, topic_name, group, str(logs[name]), "--mode", "subscribe", "--batch-size", "400"])

    def stop(name: str) -> None:
        p = procs.pop(name)
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()[-3000:]

    def owned(name: str) -> bool:
        runs = read_runs(logs[name])
        return bool(runs) and any(msg.startswith("assigned") for _, _, msg in runs[-1].events)

    def wait_owned(name: str) -> None:
        deadline = time.monotonic() + 90
        while not owned(name):
            assert procs[name].poll() is None, procs[name].stderr.read().decode()[-3000:]  # type: ignore[union-attr]
            assert time.monotonic() < deadline, f"{name} got no partition in 90 s"
            time.sleep(0.1)

    try:
        start("A")
        wait_owned("A")
        time.sleep(2)
        start("B")
        wait_owned("B")
        time.sleep(2)
        start("C")
        wait_owned("C")
        time.sleep(3)
        stop("B")  # leaves mid-stream: its partitions move to A and C
        time.sleep(3)
        start("B")  # and comes back
        wait_owned("B")
        time.sleep(3)
    finally:
        stop_producing.set()
        th.join(120)
    # drain: until the group's commits reach the end of every partition
    ends = tool.offsets(topic_name)
    deadline = time.monotonic() + 180
    while True:
        seen = set()
        for log in logs.values():
            for run in read_runs(log):
                for b in run.batches:
                    seen.update((p, o) for p, o, _ in b.rows)
        if all((p, o) in seen for p, (lo, hi) in ends.items() for o in range(lo, hi)):
            break
        assert time.monotonic() < deadline, f"records not processed after 3 minutes: {sum(hi - lo for lo, hi in ends.values()) - len(seen)} left"
        time.sleep(0.5)
    for name in list(procs):
        stop(name)

    # ownership intervals from the members' logs: assigned at the event,
    # until revoked (commit, then hand back), lost, or the member closing
    intervals: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
    checked = 0
    for name, log in logs.items():
        for k, run in enumerate(read_runs(log)):
            who = f"{name}#{k}"
            assert run.closed and run.closing_ms is not None, f"{who} did not close"
            mine: list[tuple[int, int, int]] = []  # partition, from, to
            since: dict[int, int] = {}
            for ms, _, msg in run.events:
                m = re.match(r"(assigned \d+ partition\(s\):|revoked|lost) (.*)", msg)
                if not m:
                    continue
                if m.group(1).startswith("assigned"):
                    for p in re.findall(r"\[(\d+)\]", m.group(2)):
                        since[int(p)] = ms
                    continue
                listed = re.match(r"\S+ \[([\d, ]+)\]", m.group(2))
                assert listed, msg
                for p in (int(x) for x in listed.group(1).split(",")):
                    if p in since:
                        mine.append((p, since.pop(p), ms))
            mine += [(p, s, run.closing_ms) for p, s in since.items()]
            for p, s, e in mine:
                intervals[p].append((s, e, who))
            # a member returns rows only of partitions it owns at the time
            for b in run.batches:
                for p in {p for p, _, _ in b.rows}:
                    assert any(q == p and s <= b.ms <= e for q, s, e in mine), f"{who} returned partition {p} it did not own"
            checked += check_order(run, who)
    for p, ivs in intervals.items():
        ivs.sort()
        for (s1, e1, w1), (s2, e2, w2) in zip(ivs, ivs[1:]):
            assert e1 <= s2, f"partition {p} owned by {w1} until {e1} and by {w2} from {s2}"
    assert set(intervals) == set(range(parts))
    assert checked > 10
    print(f"\n[group] {len(seen)} records; ownership intervals per partition: "
          f"{ {p: len(v) for p, v in sorted(intervals.items())} }; {checked} batch pairs in order")
