"""Many partitions: the same records over 8 partitions and over 1 000,
replayed from the beginning to the end by ``kafkars.ConsumerManager``, in
one run on the same broker.

    .venv/bin/python -m bench.partitions [--records 1000000] [--rounds 5] [-b HOST:PORT]
                                         [-X KEY=VALUE ...] [--producer-batch-bytes N]

Data (``build/bin/kafkatool gen``: keys ``SYM-000000``...``SYM-009999``,
100-byte values, timestamps stepping per partition from one common start;
``--producer-batch-bytes`` sets its producer's ``batch.size``, which decides
how large the record batches in the log are):

* ``8``: one topic of 8 partitions, ``--records`` records, 1 ms apart per
  partition;
* ``1000``: 10 topics of 100 partitions, ``--records`` / 10 records each,
  spaced so that both cases cover the same time span (every partition's
  records interleave with every other's).

Each round runs one child process per case (the order alternates); the
child imports kafkars and pyarrow, then opens a manager over every topic
(``SourceTopic.from_earliest``, kafkars' defaults plus any ``-X``) and polls until
``is_live()``. It checks that the timestamps never go backwards, within a
batch or across batches, and that it got every record, then reports: the
time the constructor took, the time to the first rows, rows/s from the
first rows to the last and from the open to the last, CPU seconds per
million rows (user + system of the whole child, imports included), its
peak RSS (VmHWM), and the engine's own peak of held records. Medians over
the rounds. Once per case, a child with ``debug=protocol`` counts the
requests librdkafka sends while the manager is created.

Results: bench/results/partitions-<UTC stamp>.json (runs below 1 M records:
bench/results/dev/). Without ``-b`` it starts its own broker
(devtools.broker.LocalKafka, 2 GiB heap).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from devtools.kafkatool import KafkaTool  # noqa: E402

VALUE_SIZE = 100
CASES: dict[str, tuple[int, int]] = {"8": (1, 8), "1000": (10, 100)}  # name: (topics, partitions per topic)
METRICS = ("rows_per_s", "rows_per_s_from_open", "create_s", "first_rows_s", "cpu_per_m", "cpu_window_per_m", "vmhwm_kb",
           "peak_held_bytes", "peak_held_messages", "pause_events", "records_refetched")

# The child: everything after the imports is measured.
CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    import pyarrow as pa
    import pyarrow.compute as pc
    import kafkars
    from kafkars import ConsumerManager, SourceTopic

    def cpu():
        ru = resource.getrusage(resource.RUSAGE_SELF)
        return ru.ru_utime + ru.ru_stime

    boot, topics, expected, props = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3]), json.loads(sys.argv[4])
    cpu_open = cpu()
    t_open = time.monotonic()
    m = ConsumerManager({"bootstrap.servers": boot, **props}, [SourceTopic.from_earliest(t) for t in topics])
    t_created = time.monotonic()
    rows, batches, first, last, prev = 0, 0, None, None, None
    deadline = t_open + 900
    while not m.is_live():
        b = m.poll(timeout_ms=1000)
        if b.num_rows:
            now = time.monotonic()
            first = first or now
            last = now
            ts = pc.cast(b.column("timestamp"), pa.int64())
            if prev is not None and ts[0].as_py() < prev:
                raise SystemExit(f"timestamps go backwards across batches: {ts[0].as_py()} after {prev}")
            if len(ts) > 1 and not pc.all(pc.greater_equal(ts.slice(1), ts.slice(0, len(ts) - 1))).as_py():
                raise SystemExit("timestamps go backwards within a batch")
            prev = ts[-1].as_py()
            rows += b.num_rows
            batches += 1
        if time.monotonic() > deadline:
            raise SystemExit(f"not live after 900 s, {rows} rows")
    cpu_last = cpu()
    metrics = m.metrics()
    m.close()
    if rows != expected:
        raise SystemExit(f"got {rows} rows, {expected} were produced")
    hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    print(json.dumps({
        "rows": rows, "batches": batches,
        "create_s": t_created - t_open, "first_rows_s": first - t_open,
        "first_to_last_s": last - first, "open_to_last_s": last - t_open,
        "cpu_s": cpu(), "cpu_window_s": cpu_last - cpu_open, "vmhwm_kb": hwm,
        **{k: metrics[k] for k in ("peak_held_bytes", "peak_held_messages", "pause_events", "max_buffered_bytes",
                                   "max_buffered_messages", "fetch_calls")},
        # absent before the hard cap on held bytes (an older build, compared)
        **{k: metrics.get(k, 0) for k in ("records_refetched", "rewinds")},
    }))
    """
)

# Creation only, librdkafka's protocol log on stderr; the marker ends what counts.
COUNT_CHILD = textwrap.dedent(
    """
    import sys
    from kafkars import ConsumerManager, SourceTopic
    m = ConsumerManager({"bootstrap.servers": sys.argv[1], "debug": "protocol"},
                        [SourceTopic.from_earliest(t) for t in sys.argv[2].split(",")])
    print("CREATED", file=sys.stderr, flush=True)
    m.close()
    """
)
SENT = re.compile(r"Sent (\w+)Request \(v\d+")


def log(msg: str) -> None:
    print(f"[partitions {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def produce(tool: KafkaTool, run_id: str, records: int, batch_bytes: int | None) -> dict[str, list[str]]:
    """Both data sets, every partition's timestamps from the same start and
    over the same span."""
    span = -(-records // CASES["8"][1])  # ms: the 8-partition case steps 1 ms
    start = int(time.time() * 1000) - span - 600_000
    topics: dict[str, list[str]] = {}
    for case, (ntopics, nparts) in CASES.items():
        per_topic = records // ntopics
        per_partition = -(-per_topic // nparts)
        step = max(1, span // per_partition)
        names = [f"partitions-{case}-{run_id}-{k}" for k in range(ntopics)]
        t0 = time.monotonic()
        for name in names:
            tool.create_topic(name, nparts, {"retention.ms": "-1"})
        created = time.monotonic() - t0
        for name in names:
            tool.gen(name, partitions=nparts, count=per_topic, value_size=VALUE_SIZE, keys=10_000,
                     ts_start=start, ts_step=step, config={"batch.size": str(batch_bytes)} if batch_bytes else None)
        have = sum(hi - lo for name in names for lo, hi in tool.offsets(name).values())
        if have != per_topic * ntopics:
            raise RuntimeError(f"case {case}: the topics hold {have} records, expected {per_topic * ntopics}")
        log(f"case {case}: {ntopics} x {nparts} partitions, {have:,} records, {step} ms apart per partition "
            f"(topics created in {created:.1f} s, produced in {time.monotonic() - t0 - created:.1f} s)")
        topics[case] = names
    return topics


def run_child(bootstrap: str, topics: list[str], expected: int, props: dict[str, str]) -> dict[str, Any]:
    r = subprocess.run([sys.executable, "-c", CHILD, bootstrap, ",".join(topics), str(expected), json.dumps(props)],
                       capture_output=True, text=True, timeout=1200, cwd=str(ROOT))
    if r.returncode != 0:
        raise RuntimeError(f"child over {topics[0]}... failed ({r.returncode}): {r.stderr[-3000:]}")
    out: dict[str, Any] = json.loads(r.stdout.strip().splitlines()[-1])
    out["rows_per_s"] = out["rows"] / out["first_to_last_s"]
    out["rows_per_s_from_open"] = out["rows"] / out["open_to_last_s"]
    out["cpu_per_m"] = out["cpu_s"] / (out["rows"] / 1e6)
    out["cpu_window_per_m"] = out["cpu_window_s"] / (out["rows"] / 1e6)
    return out


def count_requests(bootstrap: str, topics: list[str]) -> dict[str, int]:
    r = subprocess.run([sys.executable, "-c", COUNT_CHILD, bootstrap, ",".join(topics)],
                       capture_output=True, text=True, timeout=300, cwd=str(ROOT))
    if r.returncode != 0 or "CREATED" not in r.stderr:
        raise RuntimeError(f"request count failed ({r.returncode}): {r.stderr[-3000:]}")
    before = r.stderr[: r.stderr.index("CREATED")]
    return dict(Counter(m.group(1) for m in SENT.finditer(before)))


def table(res: dict[str, Any]) -> str:
    med = res["median"]
    lines = [
        "| partitions | rows/s first→last | rows/s from open | constructor s | first rows s | CPU s per M rows "
        "| of which open→last | peak RSS MB | peak held MB | pause events | records fetched twice "
        "| ListOffsets / Metadata requests at creation |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for case, (ntopics, nparts) in CASES.items():
        m = med[case]
        req = res["creation_requests"][case]
        lines.append(
            f"| {ntopics * nparts:,} ({ntopics} x {nparts}) | {m['rows_per_s']:,.0f} | {m['rows_per_s_from_open']:,.0f} | "
            f"{m['create_s']:.3f} | {m['first_rows_s']:.2f} | {m['cpu_per_m']:.2f} | {m['cpu_window_per_m']:.2f} | "
            f"{m['vmhwm_kb'] / 1024:.0f} | "
            f"{m['peak_held_bytes'] / 2**20:.0f} | {m['pause_events']:.0f} | {m['records_refetched']:,.0f} | "
            f"{req.get('ListOffsets', 0)} / {req.get('Metadata', 0)} |")
    r = res["ratio_1000_to_8"]
    lines += ["", f"1 000 / 8 partitions: {r['rows_per_s']:.2f}x first→last, {r['rows_per_s_from_open']:.2f}x from open, "
                  f"{r['vmhwm_kb']:.2f}x peak RSS."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=1_000_000, help="records per case (default 1 000 000)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("-b", "--bootstrap", help="an existing broker (default: start one)")
    ap.add_argument("-X", action="append", default=[], metavar="KEY=VALUE",
                    help="a consumer property for every child (repeatable; default: kafkars' defaults)")
    ap.add_argument("--producer-batch-bytes", type=int,
                    help="batch.size of the data generator's producer (default: librdkafka's, 1 000 000)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = ap.parse_args(argv)
    if args.records % 1000:
        ap.error("--records must be a multiple of 1000 (1 000 partitions)")
    props = dict(x.split("=", 1) for x in args.X)
    run_id = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    load_start = os.getloadavg()
    broker = None
    bootstrap = args.bootstrap
    if bootstrap is None:
        from devtools.broker import LocalKafka

        broker = LocalKafka(heap="2g")
        broker.start()
        bootstrap = broker.bootstrap
    runs: dict[str, list[dict[str, Any]]] = {c: [] for c in CASES}
    try:
        tool = KafkaTool(bootstrap)
        topics = produce(tool, run_id, args.records, args.producer_batch_bytes)
        requests = {c: count_requests(bootstrap, topics[c]) for c in CASES}
        log(f"requests at creation: {requests}")
        for c in CASES:  # warm the broker's page cache and JVM, not recorded
            run_child(bootstrap, topics[c], args.records, props)
        names = list(CASES)
        for rnd in range(args.rounds):
            for c in names[rnd % 2:] + names[: rnd % 2]:
                r = run_child(bootstrap, topics[c], args.records, props)
                runs[c].append(r)
                log(f"round {rnd + 1} {c:>4} partitions: {r['rows_per_s']:,.0f} rows/s first->last, "
                    f"{r['rows_per_s_from_open']:,.0f} from open, constructor {r['create_s']:.3f} s, "
                    f"first rows {r['first_rows_s']:.2f} s, {r['cpu_per_m']:.2f} CPU s/M, "
                    f"{r['vmhwm_kb'] / 1024:.0f} MB, held {r['peak_held_bytes'] / 2**20:.0f} MB")
    finally:
        if broker is not None:
            broker.close()
    med = {c: {k: statistics.median(r[k] for r in rs) for k in METRICS} for c, rs in runs.items()}
    ratio = {k: med["1000"][k] / med["8"][k] for k in ("rows_per_s", "rows_per_s_from_open", "vmhwm_kb", "cpu_per_m")}
    import kafkars
    import pyarrow as pa

    cmd = ".venv/bin/python -m bench.partitions" + (f" --records {args.records}" if args.records != 1_000_000 else "") \
        + (f" --rounds {args.rounds}" if args.rounds != 5 else "") + "".join(f" -X {x}" for x in args.X) \
        + (f" --producer-batch-bytes {args.producer_batch_bytes}" if args.producer_batch_bytes else "")
    res = {
        "id": f"partitions-{run_id}", "command": cmd, "records": args.records, "value_size": VALUE_SIZE,
        "rounds": args.rounds, "consumer_props": props, "producer_batch_bytes": args.producer_batch_bytes, "cases": {c: {"topics": t, "partitions": p} for c, (t, p) in CASES.items()},
        "creation_requests": requests, "runs": runs, "median": med, "ratio_1000_to_8": ratio,
        "load_average": {"start": load_start, "end": os.getloadavg()},
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": sys.version.split()[0],
                    "pyarrow": pa.__version__, "kafkars": kafkars.__version__,
                    "librdkafka": kafkars.librdkafka_version()},
    }
    out_dir = Path(args.out) if args.records >= 1_000_000 else Path(args.out) / "dev"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{res['id']}.json"
    path.write_text(json.dumps(res, indent=1))
    print(f"\n{args.records:,} records x {VALUE_SIZE} B values in each case, median of {args.rounds} rounds "
          f"({path.name}; load average {load_start[0]:.1f} at the start, {res['load_average']['end'][0]:.1f} at the end)\n")
    print(table(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
