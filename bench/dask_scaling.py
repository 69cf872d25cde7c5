"""Time-sliced replays on Dask: rows/s for 1, 2 and 4 worker processes
against one process reading the same topic, in one run on the same data.

    python -m bench.dask_scaling [--records 2000000] [--workers 1,2,4] [--rounds 3] [--slices-per-worker 4]

Data: ``--records`` records of 100-byte values over 8 partitions (kafkatool
gen, timestamps 1 ms apart per partition), on a broker this script starts
(``--bootstrap`` to use another). One local Dask cluster per worker count
(worker processes started with spawn, one thread each) is started first
and kept; startup is not measured. Each round then runs, in an order that
rotates from round to round:

- ``single``: ``kafkars.read_topics`` in this process, to a pyarrow Table;
- ``dask-W``: ``kafkars.dask.read_topics(npartitions=W * slices-per-worker)``
  then the length of every partition computed on the cluster (each task
  reads its slice and builds its pandas frame; only lengths travel back).
  Timed from the call (planning included) to the result.

Reported: the median rows/s, the planning seconds, and from Dask's task
stream the per-task time, from which the rate of one worker (rows per
second of task time) and the fixed cost of a slice (the task time of an
empty slice) follow. Figures from a 2-core machine shared with the broker
measure contention as much as scaling: docs/benchmarks.md gives the model
for a real cluster.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from devtools.broker import LocalKafka  # noqa: E402
from devtools.kafkatool import KafkaTool  # noqa: E402


def _lengths(ddf: Any) -> int:
    return int(ddf.map_partitions(len).compute().sum())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=2_000_000)
    ap.add_argument("--partitions", type=int, default=8)
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--slices-per-worker", type=int, default=4)
    ap.add_argument("--bootstrap", help="an existing broker (default: start one)")
    ap.add_argument("--out", type=Path, help="write the raw results as JSON here")
    args = ap.parse_args(argv)

    import kafkars
    import kafkars.dask
    from dask.distributed import Client, LocalCluster, get_task_stream

    broker = None
    if args.bootstrap:
        bootstrap = args.bootstrap
    else:
        broker = LocalKafka()
        broker.start()
        bootstrap = broker.bootstrap
    clusters: dict[int, tuple[Any, Any]] = {}
    try:
        tool = KafkaTool(bootstrap)
        topic = f"dask-scaling-{int(time.time())}"
        tool.create_topic(topic, args.partitions, {"retention.ms": "-1"})
        t = time.monotonic()
        tool.gen(topic, partitions=args.partitions, count=args.records, value_size=100,
                 ts_start=int(time.time() * 1000) - 86_400_000, ts_step=1)
        print(f"[bench] {args.records:,} records produced in {time.monotonic() - t:.1f}s", file=sys.stderr)
        config = {"bootstrap.servers": bootstrap}
        workers = [int(w) for w in args.workers.split(",")]
        for w in workers:
            t = time.monotonic()
            cluster = LocalCluster(n_workers=w, threads_per_worker=1, processes=True, dashboard_address=":0")
            client = Client(cluster, set_as_default=False)
            client.run(lambda: __import__("kafkars.dask"))  # imports done before timing
            clusters[w] = (cluster, client)
            print(f"[bench] cluster of {w} worker(s) up in {time.monotonic() - t:.1f}s", file=sys.stderr)

        # the fixed cost of a slice: open a manager over an empty range, read, close
        empty = kafkars.plan_replay(config, [topic], start=1, end=2).slices[0]
        opens = []
        for _ in range(5):
            t = time.monotonic()
            empty.read(config, [kafkars.SourceTopic.from_earliest(topic)])
            opens.append(time.monotonic() - t)

        names = ["single"] + [f"dask-{w}" for w in workers]
        runs: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
        for r in range(args.rounds):
            order = names[r % len(names):] + names[: r % len(names)]
            for name in order:
                t0 = time.monotonic()
                if name == "single":
                    rows = kafkars.read_topics(config, [kafkars.SourceTopic.from_earliest(topic)]).num_rows
                    runs[name].append({"rows": rows, "seconds": time.monotonic() - t0})
                else:
                    w = int(name.split("-")[1])
                    _, client = clusters[w]
                    with client.as_current(), get_task_stream(client) as ts:
                        ddf = kafkars.dask.read_topics(config, [topic], npartitions=w * args.slices_per_worker)
                        t_plan = time.monotonic() - t0
                        rows = _lengths(ddf)
                    el = time.monotonic() - t0
                    tasks = [sum(s["stop"] - s["start"] for s in d["startstops"] if s["action"] == "compute")
                             for d in ts.data if "kafkars-replay" in str(d["key"])]
                    runs[name].append({"rows": rows, "seconds": el, "plan_seconds": t_plan, "slices": ddf.npartitions,
                                       "task_seconds": tasks})
                print(f"[bench] round {r + 1} {name}: {rows:,} rows in {runs[name][-1]['seconds']:.2f}s", file=sys.stderr)
    finally:
        for cluster, client in clusters.values():
            client.close()
            cluster.close()
        if broker is not None:
            broker.close()

    print(f"\nrecords: {args.records:,} x 100 B over {args.partitions} partitions; cores: {os.cpu_count()}; "
          f"load average at the end: {os.getloadavg()[0]:.1f}; median of {args.rounds} rounds\n")
    print("| reader | slices | rows/s | planning s | task s (median) | rows/s per task-second |")
    print("|---|---:|---:|---:|---:|---:|")
    summary: dict[str, Any] = {"records": args.records, "partitions": args.partitions, "cpus": os.cpu_count(),
                               "slice_open_seconds": statistics.median(opens), "runs": runs}
    for name in names:
        rs = runs[name]
        rate = statistics.median(x["rows"] / x["seconds"] for x in rs)
        if name == "single":
            print(f"| one process (kafkars.read_topics) | 1 | {rate:,.0f} | - | - | - |")
            continue
        tasks = [t for x in rs for t in x["task_seconds"]]
        per_task = statistics.median(x["rows"] / sum(x["task_seconds"]) for x in rs if x["task_seconds"])
        print(f"| Dask, {name.split('-')[1]} worker process(es) | {rs[0]['slices']} | {rate:,.0f} | "
              f"{statistics.median(x['plan_seconds'] for x in rs):.2f} | {statistics.median(tasks):.2f} | {per_task:,.0f} |")
    print(f"\nopening and closing a manager over an empty slice: {statistics.median(opens) * 1000:.0f} ms (median of 5)")
    if args.out:
        args.out.write_text(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
