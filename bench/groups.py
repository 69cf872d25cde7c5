"""Commits and consumer groups: what they cost.

    .venv/bin/python -m bench.groups                 # both measurements, ~5 min
    .venv/bin/python -m bench.groups --only commit   # or: --only rebalance

1. Commit cost. A replay of ``--records`` (1 000 000) records of 100 B over 8
   partitions, batches of 10 000 rows, each batch touched (sum of key and
   value lengths), in a fresh child process per run: without commits, with a
   synchronous ``commit()`` after every batch, with
   ``commit(asynchronous=True)`` after every batch, and with a synchronous
   ``commit()`` once a second. The variants alternate within each round,
   the order rotating; the table shows the median of ``--rounds`` (3)
   rounds, msgs/s from the first record to the last.

2. Rebalance. Three members (child processes, ``subscribe=True``, KIP-848)
   share a 12-partition topic while a producer writes 2 000 records/s. A
   third member joins, then one leaves. For every partition that changes
   hands the members' logs give: when the group protocol handed it over (the
   previous owner's last row or its revoke, and the new owner's assignment
   callback: the broker's rebalance time), and when the new owner returned
   its first row (the group consumes again). Medians over the partitions
   moved.

Results go to stdout as Markdown tables and, with ``--json FILE``, as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


# -- children --------------------------------------------------------------


def child_replay(args: argparse.Namespace) -> None:
    """One replay from the beginning to live; prints one JSON line."""
    import pyarrow.compute as pc

    from kafkars import ConsumerManager, SourceTopic

    cfg = {"bootstrap.servers": args.bootstrap, "group.id": args.group}
    mode = args.commit
    with ConsumerManager(cfg, [SourceTopic.from_earliest(args.topic)], batch_size=10_000) as m:
        n = 0
        first = last = 0.0
        commit_s = 0.0
        last_commit = time.perf_counter()
        while not m.is_live():
            b = m.poll(1000)
            if not b.num_rows:
                continue
            if not first:
                first = time.perf_counter()
            for name in ("key", "value"):
                pc.sum(pc.binary_length(b.column(name)))
            n += b.num_rows
            if mode in ("sync", "async") or (mode == "sync-100ms" and time.perf_counter() - last_commit >= 0.1):
                t = time.perf_counter()
                m.commit(asynchronous=mode == "async")
                commit_s += time.perf_counter() - t
                last_commit = t
            last = time.perf_counter()
        if mode == "sync-100ms":
            m.commit()
        met = m.metrics()
    import resource

    ru = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"records": n, "seconds": last - first, "rate": (n - 10_000) / max(last - first, 1e-9),
                      "cpu_seconds": ru.ru_utime + ru.ru_stime, "fetch_calls": met["fetch_calls"],
                      "commit_seconds": commit_s, "commits": met["commits"], "commit_failures": met["commit_failures"]}))


def child_member(args: argparse.Namespace) -> None:
    """A group member: logs every batch's first-row times per partition and
    the kafkars lines (assignments), until SIGTERM."""
    import logging

    from kafkars import ConsumerManager, SourceTopic

    out = open(args.log, "a", buffering=1)
    stop = False

    def on_term(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)

    class H(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            out.write(json.dumps({"event": record.getMessage(), "ms": getattr(record, "kafkars_time_ms", 0)}) + "\n")

    log = logging.getLogger("kafkars")
    log.setLevel(logging.INFO)
    log.addHandler(H())
    log.propagate = False
    t_create = time.time()
    cfg = {"bootstrap.servers": args.bootstrap, "group.id": args.group}
    m = ConsumerManager(cfg, [SourceTopic.from_latest(args.topic)], batch_size=1000, linger_ms=5, subscribe=True)
    out.write(json.dumps({"created": t_create * 1000, "ready": time.time() * 1000}) + "\n")
    while not stop:
        b = m.poll(100)
        if b.num_rows:
            now = time.time() * 1000
            parts = sorted(set(b.column("partition").to_pylist()))
            out.write(json.dumps({"rows": now, "parts": parts}) + "\n")
            m.commit()
    t_close = time.time() * 1000
    m.close()
    out.write(json.dumps({"closing": t_close, "closed": time.time() * 1000}) + "\n")
    out.close()


# -- the parent --------------------------------------------------------------


def _child(*argv: str, log: Path | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "bench.groups", "child", *argv], cwd=REPO, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def bench_commit(tool, bootstrap: str, records: int, rounds: int) -> dict:  # type: ignore[no-untyped-def]
    topic = f"bench-commit-{uuid.uuid4().hex[:6]}"
    tool.create_topic(topic, 8)
    info = tool.gen(topic, partitions=8, count=records, value_size=100, ts_start=1_000_000)
    print(f"[commit] produced {records:,} records in {info['seconds']:.1f}s", file=sys.stderr)
    # "none-again" is a second run without commits: the spread between the
    # two no-commit variants is the noise floor of the machine
    variants = ["none", "sync", "async", "sync-100ms", "none-again"]
    runs: dict[str, list[dict]] = {v: [] for v in variants}
    for r in range(rounds):
        order = variants[r % len(variants):] + variants[: r % len(variants)]
        for v in order:
            p = _child("replay", bootstrap, topic, f"g-{uuid.uuid4().hex[:8]}", v)
            out, err = p.communicate(timeout=600)
            if p.returncode != 0:
                raise SystemExit(f"replay child failed: {err[-2000:]}")
            res = json.loads(out.strip().splitlines()[-1])
            assert res["records"] == records, res
            runs[v].append(res)
            print(f"[commit] round {r + 1} {v:5}: {res['rate']:,.0f} msgs/s, {res['commits']} commits, "
                  f"{res['commit_seconds']:.2f}s in commit(), {res['cpu_seconds']:.2f} CPU s, {res['fetch_calls']} fetches",
                  file=sys.stderr)
    med = {v: statistics.median(x["rate"] for x in runs[v]) for v in variants}
    return {"records": records, "rounds": rounds, "runs": runs, "median_rate": med,
            "cost_sync": 1 - med["sync"] / med["none"], "cost_async": 1 - med["async"] / med["none"],
            "cost_sync_100ms": 1 - med["sync-100ms"] / med["none"], "noise": 1 - med["none-again"] / med["none"]}


def _read(log: Path) -> list[dict]:
    return [json.loads(x) for x in log.read_text().splitlines() if x.strip()] if log.exists() else []


def _assigned(lines: list[dict]) -> list[tuple[float, list[int]]]:
    out = []
    for x in lines:
        ev = x.get("event", "")
        if ev.startswith("assigned"):
            out.append((x["ms"], [int(p) for p in re.findall(r"\[(\d+)\]", ev)]))
    return out


def bench_rebalance(tool, bootstrap: str, work: Path) -> dict:  # type: ignore[no-untyped-def]
    topic = f"bench-group-{uuid.uuid4().hex[:6]}"
    group = f"g-{uuid.uuid4().hex[:8]}"
    tool.create_topic(topic, 12)
    stop = threading.Event()

    def producer() -> None:
        while not stop.is_set():
            t0 = time.monotonic()
            tool.gen(topic, partitions=12, count=1200, ts_start=int(time.time() * 1000))
            time.sleep(max(0.0, 0.6 - (time.monotonic() - t0)))

    th = threading.Thread(target=producer, daemon=True)
    th.start()
    logs = {n: work / f"{n}.log" for n in "ABC"}
    procs = {}

    def start(n: str) -> None:
        procs[n] = _child("member", bootstrap, topic, group, str(logs[n]))

    def wait_assigned(n: str, count: int) -> None:
        deadline = time.monotonic() + 120
        while len(_assigned(_read(logs[n]))) < count:
            if time.monotonic() > deadline:
                raise SystemExit(f"member {n}: no assignment in 120 s: {procs[n].stderr.read() if procs[n].poll() is not None else ''}")
            time.sleep(0.05)

    try:
        start("A")
        wait_assigned("A", 1)
        start("B")
        wait_assigned("B", 1)
        time.sleep(8)
        t_join = time.time() * 1000
        start("C")
        wait_assigned("C", 1)
        time.sleep(8)
        t_leave = time.time() * 1000
        procs["B"].send_signal(signal.SIGTERM)
        procs["B"].communicate(timeout=120)
        time.sleep(10)
    finally:
        stop.set()
        for n, p in procs.items():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.communicate(timeout=120)
        th.join(60)

    lines = {n: _read(logs[n]) for n in "ABC"}

    def first_rows_after(n: str, t: float, parts: list[int]) -> dict[int, float]:
        got: dict[int, float] = {}
        for x in lines[n]:
            if "rows" in x and x["rows"] >= t:
                for p in x["parts"]:
                    if p in parts and p not in got:
                        got[p] = x["rows"]
        return got

    def revokes_after(t: float) -> dict[int, tuple[float, float]]:
        """partition -> (when the group asked, when it was handed back)."""
        out: dict[int, tuple[float, float]] = {}
        for n in "ABC":
            for x in lines[n]:
                m = re.match(r"revoked \S+ \[([\d, ]+)\] \(handed back (\d+) ms after", x.get("event", ""))
                if m and x["ms"] >= t:
                    for p in (int(v) for v in m.group(1).split(",")):
                        out.setdefault(p, (x["ms"] - int(m.group(2)), x["ms"]))
        return out

    def last_rows_before(t: float) -> dict[int, float]:
        last: dict[int, float] = {}
        for n in "ABC":
            for x in lines[n]:
                if "rows" in x and x["rows"] < t:
                    for p in x["parts"]:
                        last[p] = max(last.get(p, 0), x["rows"])
        return last

    # the join: C's assignment and first rows
    c_created = next(x["created"] for x in lines["C"] if "created" in x)
    c_assign_ms, c_parts = _assigned(lines["C"])[0]
    c_first = first_rows_after("C", c_assign_ms, c_parts)
    last_before_join = last_rows_before(t_join)
    rev = revokes_after(t_join)
    join = {
        "partitions_moved": len(c_parts),
        "revoke_asked_to_handed_back_ms": statistics.median(b - a for a, b in (rev[p] for p in c_parts if p in rev)) if rev else None,
        "handed_back_to_assigned_ms": statistics.median(c_assign_ms - rev[p][1] for p in c_parts if p in rev) if rev else None,
        "created_to_assigned_ms": c_assign_ms - c_created,
        "assigned_to_first_row_ms": statistics.median(c_first[p] - c_assign_ms for p in c_first) if c_first else None,
        "created_to_first_row_ms": statistics.median(c_first[p] - c_created for p in c_first) if c_first else None,
        "gap_per_partition_ms": statistics.median(c_first[p] - last_before_join.get(p, c_created) for p in c_first) if c_first else None,
    }
    # the leave: B's partitions to A and C
    b_close = next(x for x in lines["B"] if "closing" in x)
    moved: dict[int, tuple[str, float]] = {}
    for n in "AC":
        for ms, parts in _assigned(lines[n]):
            if ms >= b_close["closing"]:
                for p in parts:
                    moved.setdefault(p, (n, ms))
    firsts = {}
    for p, (n, ms) in moved.items():
        f = first_rows_after(n, ms, [p])
        if p in f:
            firsts[p] = (ms, f[p])
    last_before_leave = last_rows_before(b_close["closing"])
    leave = {
        "partitions_moved": len(moved),
        "close_to_assigned_ms": statistics.median(ms - b_close["closing"] for ms, _ in firsts.values()) if firsts else None,
        "assigned_to_first_row_ms": statistics.median(f - ms for ms, f in firsts.values()) if firsts else None,
        "gap_per_partition_ms": statistics.median(f - last_before_leave.get(p, b_close["closing"]) for p, (_, f) in firsts.items()) if firsts else None,
        "close_seconds": (b_close["closed"] - b_close["closing"]) / 1000,
    }
    del t_leave
    return {"join": join, "leave": leave}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        ap = argparse.ArgumentParser()
        sub = ap.add_subparsers(dest="kind", required=True)
        r = sub.add_parser("replay")
        for a in ("bootstrap", "topic", "group", "commit"):
            r.add_argument(a)
        mb = sub.add_parser("member")
        for a in ("bootstrap", "topic", "group", "log"):
            mb.add_argument(a)
        args = ap.parse_args(sys.argv[2:])
        (child_replay if args.kind == "replay" else child_member)(args)
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", choices=("commit", "rebalance"))
    ap.add_argument("--bootstrap", help="use this broker instead of starting one")
    ap.add_argument("--broker-prop", action="append", default=[], metavar="KEY=VALUE",
                    help="a property of the broker this starts (e.g. group.coordinator.append.linger.ms=0)")
    ap.add_argument("--json", type=Path, help="write the results here too")
    args = ap.parse_args()

    from devtools.broker import LocalKafka
    from devtools.kafkatool import KafkaTool

    broker = None
    bootstrap = args.bootstrap
    if bootstrap is None:
        props = dict(x.split("=", 1) for x in args.broker_prop)
        broker = LocalKafka(heap="2g", extra_props=props)
        broker.start()
        bootstrap = broker.bootstrap
    tool = KafkaTool(bootstrap)
    results: dict = {}
    try:
        if args.only in (None, "commit"):
            c = bench_commit(tool, bootstrap, args.records, args.rounds)
            results["commit"] = c
            med = c["median_rate"]
            print(f"\n### Commit after every batch of 10 000 rows ({c['records']:,} records x 100 B, 8 partitions, median of {c['rounds']})\n")
            print("| variant | msgs/s | vs no commit |\n|---|---:|---:|")
            for v, label in (("none", "no commit"), ("sync", "commit() after each batch"),
                             ("async", "commit(asynchronous=True) after each batch"),
                             ("sync-100ms", "commit() every 100 ms"), ("none-again", "no commit, again (noise floor)")):
                print(f"| {label} | {med[v]:,.0f} | {med[v] / med['none'] - 1:+.1%} |")
            lat = [x["commit_seconds"] / max(x["commits"], 1) * 1000 for x in c["runs"]["sync"]]
            print(f"\nA synchronous commit took {statistics.median(lat):.1f} ms (median over runs of the mean per commit); "
                  f"a batch of 10 000 rows takes {10_000 / med['none'] * 1000:.1f} ms to read without commits.")
        if args.only in (None, "rebalance"):
            with tempfile.TemporaryDirectory(prefix="kafkars-bench-groups-") as d:
                rb = bench_rebalance(tool, bootstrap, Path(d))
            results["rebalance"] = rb
            j, lv = rb["join"], rb["leave"]
            f = lambda v: "-" if v is None else f"{v:,.0f}"  # noqa: E731
            print("\n### Rebalance, 3 members, 12 partitions, KIP-848 (ms; medians over the partitions moved)\n")
            print(f"A third member joins: the old owners hand their partitions back {f(j['revoke_asked_to_handed_back_ms'])} ms "
                  f"after the group asks (commit included); the group assigns them to the new member "
                  f"{f(j['handed_back_to_assigned_ms'])} ms later.\n")
            print("| event | partitions moved | group protocol: to assignment | kafkars: assignment to first row | gap in the partition's rows |")
            print("|---|---:|---:|---:|---:|")
            print(f"| a third member joins | {j['partitions_moved']} | {f(j['created_to_assigned_ms'])} (creation to callback) | "
                  f"{f(j['assigned_to_first_row_ms'])} | {f(j['gap_per_partition_ms'])} |")
            print(f"| a member leaves (close) | {lv['partitions_moved']} | {f(lv['close_to_assigned_ms'])} (close to callback) | "
                  f"{f(lv['assigned_to_first_row_ms'])} | {f(lv['gap_per_partition_ms'])} |")
            print(f"\nThe leaving member's close() took {lv['close_seconds']:.2f} s. The group protocol's part is paced by "
                  "the broker's consumer-group heartbeat interval (group.consumer.heartbeat.interval.ms, 5 s by default): "
                  "members learn of a new assignment at their next heartbeat.")
    finally:
        if broker is not None:
            broker.close()
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
