"""The kafkars demo.

Starts a local Kafka broker and schema registry, produces an hour of
synthetic market data (trades on 8 partitions as JSON, quotes on 4 as Avro
in the Confluent wire format with their schema in the registry, news on 1
as JSON; bursty, skewed rates; written partition by partition, so far out
of timestamp order across partitions), replays it in event-time order
through kafkars with a progress bar, the values decoded into typed columns
by kafkars itself, checks the order, prints a summary computed on the
typed columns, and writes a Parquet file and a chart of events per second
per topic over event time.

    bash scripts/demo.sh [--records N] [--out DIR]
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

import kafkars
from kafkars import ConsumerManager, SourceTopic
from devtools.broker import LocalKafka
from devtools.kafkatool import KafkaTool, Record
from devtools.registry import LocalRegistry

QUOTE_SCHEMA = {"type": "record", "name": "Quote", "namespace": "demo",
                "fields": [{"name": "sym", "type": "string"}, {"name": "bid", "type": "double"},
                           {"name": "ask", "type": "double"}]}
TRADE_SCHEMA = pa.schema([("sym", pa.string()), ("px", pa.float64()), ("qty", pa.int64())])


def avro_quotes(recs: list[Record], registry_url: str) -> list[Record]:
    """The quotes as a schema-registry producer writes them: the schema
    registered under "quotes-value", each value Avro with the Confluent
    framing (magic byte 0, the schema id, the datum)."""
    import dataclasses
    import io
    import json
    import struct

    import fastavro

    from devtools.serde import register

    sid = register(registry_url, "quotes-value", json.dumps(QUOTE_SCHEMA))
    parsed = fastavro.parse_schema(QUOTE_SCHEMA)
    out = []
    for r in recs:
        if r.topic == "quotes" and r.value is not None:
            buf = io.BytesIO()
            buf.write(b"\x00" + struct.pack(">I", sid))
            fastavro.schemaless_writer(buf, parsed, json.loads(r.value))
            r = dataclasses.replace(r, value=buf.getvalue())
        out.append(r)
    return out

SYMBOLS = ["AAPL", "MSFT", "NVDA", "AMZN", "GOOG", "META", "TSLA", "AVGO"]
TOPICS = [("trades", 8, 0.62), ("quotes", 4, 0.36), ("news", 1, 0.02)]
HOUR = 3_600_000


def _event_times(rng: random.Random, n: int, t0: int) -> list[int]:
    """n timestamps over one hour: a busy open, a lull, and random bursts."""
    bursts = [rng.uniform(0, 1) for _ in range(6)]
    out = []
    while len(out) < n:
        u = rng.random()
        if u < 0.25:
            x = rng.expovariate(12.0)  # the open: the first minutes are busiest
        elif u < 0.45:
            x = rng.choice(bursts) + rng.gauss(0, 0.01)
        else:
            x = rng.random()
        if 0 <= x < 1:
            out.append(t0 + int(x * HOUR))
    out.sort()
    return out


def dataset(n: int, t0: int, seed: int = 7) -> list[Record]:
    """The demo's records, partition by partition (the order they are
    produced in: every partition in order, partitions far apart)."""
    rng = random.Random(seed)
    out: list[Record] = []
    for topic, parts, share in TOPICS:
        weights = [0.4 + rng.random() * 1.6 for _ in range(parts)]  # skew between partitions
        total_w = sum(weights)
        for p in range(parts):
            count = int(n * share * weights[p] / total_w)
            px = 100 + 50 * rng.random()
            for i, ts in enumerate(_event_times(rng, count, t0)):
                sym = SYMBOLS[(p + i) % len(SYMBOLS)] if topic != "news" else rng.choice(SYMBOLS)
                px *= math.exp(rng.gauss(0, 0.0005))
                if topic == "trades":
                    val = f'{{"sym":"{sym}","px":{px:.2f},"qty":{rng.randint(1, 500)}}}'
                elif topic == "quotes":
                    val = f'{{"sym":"{sym}","bid":{px - 0.01:.2f},"ask":{px + 0.01:.2f}}}'
                else:
                    val = f'{{"sym":"{sym}","headline":"{sym} update {i}"}}'
                out.append(Record(topic=topic, partition=p, key=sym.encode(), value=val.encode(), ts=ts))
    return out


def chart(table: pa.Table, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ts = table.column("timestamp").cast(pa.int64())
    t0 = pc.min(ts).as_py()
    fig, ax = plt.subplots(figsize=(9, 3.6), dpi=120)
    for topic, _, _ in TOPICS:
        mask = pc.equal(table.column("topic"), topic)
        sec = pc.divide(pc.subtract(pc.filter(ts, mask), t0), 1000).to_numpy()
        counts = [0] * (int(sec.max()) + 1 if len(sec) else 1)
        for s in sec:
            counts[int(s)] += 1
        # smooth over 10 s so the hour fits
        k = 10
        smooth = [sum(counts[i:i + k]) / k for i in range(0, len(counts), k)]
        ax.plot([i * k / 60 for i in range(len(smooth))], smooth, label=topic, linewidth=1.2)
    ax.set_xlabel("event time (minutes from the first record)")
    ax.set_ylabel("events per second (10 s average)")
    ax.set_title("kafkars demo: replayed events per topic, in event-time order")
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    fig.savefig(path)


def summary(table: pa.Table) -> None:
    """Per-symbol VWAP from the trades and mean spread from the quotes,
    computed on the typed columns with Arrow compute."""
    trades = table.filter(pc.equal(table["topic"], "trades")).select(["trades"]).flatten()
    trades = trades.append_column("notional", pc.multiply(trades["trades.px"], trades["trades.qty"]))
    t = trades.group_by("trades.sym").aggregate([("notional", "sum"), ("trades.qty", "sum")])
    quotes = table.filter(pc.equal(table["topic"], "quotes")).select(["quotes"]).flatten()
    quotes = quotes.append_column("spread", pc.subtract(quotes["quotes.ask"], quotes["quotes.bid"]))
    q = {r["quotes.sym"]: r["spread_mean"] for r in quotes.group_by("quotes.sym").aggregate([("spread", "mean")]).to_pylist()}
    print("  symbol   trades volume      VWAP  mean spread")
    for r in sorted(t.to_pylist(), key=lambda r: r["trades.sym"]):
        vwap = r["notional_sum"] / r["trades.qty_sum"]
        print(f"  {r['trades.sym']:<6} {r['trades.qty_sum']:>15,} {vwap:>9.2f} {q.get(r['trades.sym'], float('nan')):>12.4f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=500_000, help="records to produce (default 500000)")
    ap.add_argument("--out", default="demo-output", help="directory for replay.parquet and events.png")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()

    print(f"kafkars {kafkars.__version__} (librdkafka {kafkars.librdkafka_version()})")
    with LocalKafka() as kafka, LocalRegistry() as registry:
        print(f"broker {kafka.bootstrap} ready in {kafka.start_seconds:.1f}s, "
              f"schema registry {registry.url} in {registry.start_seconds:.1f}s")
        tool = KafkaTool(kafka.bootstrap)
        for topic, parts, _ in TOPICS:
            tool.create_topic(topic, parts)
        recs = avro_quotes(dataset(args.records, int(time.time() * 1000) - 2 * HOUR), registry.url)
        t = time.monotonic()
        tool.produce(recs)
        print(f"produced {len(recs):,} records in {time.monotonic() - t:.1f}s, partition by partition "
              f"(8 trades, 4 quotes, 1 news partitions; far out of timestamp order across partitions); "
              f"trades and news JSON, quotes Avro with their schema in the registry")

        topics = [SourceTopic.from_earliest("trades", value=kafkars.Json(schema=TRADE_SCHEMA)),
                  SourceTopic.from_earliest("quotes", value=kafkars.Avro(registry=registry.url)),
                  SourceTopic.from_earliest("news", value=kafkars.Json())]
        t = time.monotonic()
        with ConsumerManager({"bootstrap.servers": kafka.bootstrap}, topics) as m:
            connected = time.monotonic() - t
            t = time.monotonic()
            table = m.read_all(progress=True)
            el = time.monotonic() - t
            print(repr(m))
            late = sum(m.partition_stats().column("late_messages").to_pylist())

    ts = table.column("timestamp").cast(pa.int64()).to_numpy()
    ordered = bool((ts[1:] >= ts[:-1]).all())
    mb = (pc.sum(pc.binary_length(table.column("value"))).as_py() or 0) / 1e6
    print(f"connected and resolved offsets in {connected:.2f}s (the broker's first requests warm its JVM); "
          f"replayed {table.num_rows:,} rows ({mb:.1f} MB of values) in {el:.2f}s: {table.num_rows / el:,.0f} rows/s")
    print(f"order check: timestamps non-decreasing across all {table.num_rows:,} rows: {ordered} (late records: {late})")
    counts = table.group_by("topic").aggregate([("offset", "count"), ("partition", "count_distinct")])
    for row in sorted(counts.to_pylist(), key=lambda r: r["topic"]):
        print(f"  {row['topic']:<7} {row['offset_count']:>9,} rows from {row['partition_count_distinct']} partitions")
    lo, hi = pc.min(table.column("timestamp")).as_py(), pc.max(table.column("timestamp")).as_py()
    print(f"  event time {lo:%Y-%m-%d %H:%M:%S} .. {hi:%H:%M:%S} UTC")
    print("typed columns, decoded by kafkars (no Python per row):")
    for name in ("trades", "quotes", "news"):
        print(f"  {name}: {table.schema.field(name).type}")
    summary(table)
    pq.write_table(table, out / "replay.parquet")
    chart(table, out / "events.png")
    print(f"wrote {out / 'replay.parquet'} and {out / 'events.png'}; demo took {time.monotonic() - started:.0f}s")
    if table.num_rows != len(recs) or not ordered:
        print("demo FAILED: missing rows or out of order", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
