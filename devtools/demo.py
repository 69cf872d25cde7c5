"""The kafkars demo: a local broker, a multi-topic data set produced out of
timestamp order, an ordered replay through kafkars, and a summary.

    bash scripts/demo.sh [--records N]
"""

from __future__ import annotations

import argparse
import random
import sys
import time

import pyarrow as pa
import pyarrow.compute as pc

import kafkars
from kafkars import ConsumerManager, SourceTopic
from devtools.broker import LocalKafka
from devtools.kafkatool import KafkaTool, Record


def dataset(n: int, t0: int, seed: int = 7) -> list[Record]:
    """Trades on 8 partitions, quotes on 4, news on 1, with skewed rates;
    produced per partition, so across partitions far out of timestamp order."""
    rng = random.Random(seed)
    out: list[Record] = []
    span = 3_600_000  # one hour of event time
    plan = [("trades", 8, 0.6), ("quotes", 4, 0.38), ("news", 1, 0.02)]
    for topic, parts, share in plan:
        for p in range(parts):
            count = int(n * share / parts * (0.5 + rng.random()))  # skew between partitions
            ts = sorted(t0 + rng.randrange(span) for _ in range(count))
            for i, t in enumerate(ts):
                sym = rng.choice(["AAPL", "MSFT", "NVDA", "AMZN", "GOOG"])
                if topic == "trades":
                    val = f'{{"sym":"{sym}","px":{100 + rng.random() * 50:.2f},"qty":{rng.randint(1, 500)}}}'
                elif topic == "quotes":
                    bid = 100 + rng.random() * 50
                    val = f'{{"sym":"{sym}","bid":{bid:.2f},"ask":{bid + 0.01:.2f}}}'
                else:
                    val = f'{{"headline":"{sym} news #{i}"}}'
                out.append(Record(topic=topic, partition=p, key=sym.encode(), value=val.encode(), ts=t))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=200_000, help="records to produce (default 200000)")
    args = ap.parse_args(argv)

    print(f"kafkars {kafkars.__version__} (librdkafka {kafkars.librdkafka_version()})")
    with LocalKafka() as kafka:
        print(f"broker {kafka.bootstrap} ready in {kafka.start_seconds:.1f}s")
        tool = KafkaTool(kafka.bootstrap)
        for topic, parts in [("trades", 8), ("quotes", 4), ("news", 1)]:
            tool.create_topic(topic, parts)
        t0 = int(time.time() * 1000) - 2 * 3_600_000
        recs = dataset(args.records, t0)
        t = time.monotonic()
        tool.produce(recs)
        print(f"produced {len(recs):,} records in {time.monotonic() - t:.1f}s (per partition, out of order across partitions)")

        topics = [SourceTopic.from_earliest("trades"), SourceTopic.from_earliest("quotes"), SourceTopic.from_earliest("news")]
        batches = []
        t = time.monotonic()
        with ConsumerManager({"bootstrap.servers": kafka.bootstrap}, topics) as m:
            while not m.is_live():
                b = m.poll(timeout_ms=1000)
                if b.num_rows:
                    batches.append(b)
            el = time.monotonic() - t
            print(repr(m))
        table = pa.Table.from_batches(batches, schema=kafkars.MESSAGE_SCHEMA)

    ts = table.column("timestamp").cast(pa.int64()).to_numpy()
    ordered = bool((ts[1:] >= ts[:-1]).all())
    print(f"replayed {table.num_rows:,} rows in {el:.2f}s ({table.num_rows / el:,.0f} rows/s), ordered by timestamp: {ordered}")
    counts = table.group_by("topic").aggregate([("offset", "count")]).sort_by("topic")
    for row in counts.to_pylist():
        print(f"  {row['topic']:<8} {row['offset_count']:>9,} rows")
    print(f"  time range {pc.min(table.column('timestamp'))} .. {pc.max(table.column('timestamp'))}")
    if table.num_rows != len(recs) or not ordered:
        print("demo FAILED: missing rows or out of order", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
