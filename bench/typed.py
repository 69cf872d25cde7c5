"""Typed values: from open to a typed table, kafkars' decoders against the
paths users take today, in one run on the same data.

    python -m bench.typed [--records 1000000] [--rounds 3] [--out DIR]

Data: ``--records`` small trade records (6 fields, about 110 bytes as JSON)
over 8 partitions, once as JSON and once as Avro in the Confluent wire
format (registered with a real schema registry, Apicurio's, through its
Confluent-compatible API). Every contender is a child process that opens a
consumer, reads the topic from its beginning to its end and builds a
pyarrow Table with typed columns; it reports rows/s from open to the typed
table, CPU seconds per million rows (user + system of the child) and its
peak RSS (VmHWM). Contenders run one after another, in an order that
rotates from round to round; the figure is the median over rounds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import statistics
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from devtools.broker import LocalKafka  # noqa: E402
from devtools.kafkatool import KafkaTool, Record  # noqa: E402
from devtools.registry import LocalRegistry  # noqa: E402

AVRO_SCHEMA = {
    "type": "record", "name": "Trade", "namespace": "bench",
    "fields": [
        {"name": "symbol", "type": "string"}, {"name": "price", "type": "double"},
        {"name": "qty", "type": "long"}, {"name": "side", "type": "string"},
        {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "venue", "type": "string"},
    ],
}

# The child's preamble: measure from just before the consumer is created to
# the typed table, then print one JSON line.
CHILD = textwrap.dedent(
    """
    import io, json, os, resource, sys, time, urllib.request
    import fastavro, orjson, polars as pl, pyarrow as pa, pyarrow.json as pj
    import kafkars
    from kafkars import SourceTopic
    t_open = time.monotonic()  # imports done: from here on the consumer is opened, read and decoded
    BOOT, TOPIC, REGISTRY, N = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    CFG = {"bootstrap.servers": BOOT}
    TRADE = pa.schema([("symbol", pa.string()), ("price", pa.float64()), ("qty", pa.int64()),
                       ("side", pa.string()), ("ts", pa.timestamp("ms", tz="UTC")), ("venue", pa.string())])
    def raw():
        return kafkars.read_topics(CFG, [SourceTopic.from_earliest(TOPIC)])
    {body}
    elapsed = time.monotonic() - t_open
    assert typed.num_rows == N, (typed.num_rows, N)
    ru = resource.getrusage(resource.RUSAGE_SELF)
    hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
    print(json.dumps({{"rows": typed.num_rows, "seconds": elapsed, "cpu": ru.ru_utime + ru.ru_stime, "vmhwm_kb": hwm,
                      "columns": typed.schema.names}}))
    """
)

CONTENDERS: dict[str, tuple[str, str]] = {
    # name: (data set, body producing `typed`)
    "kafkars, binary values only": ("json", "typed = raw()"),
    "kafkars typed JSON (Json(schema))": (
        "json", "typed = kafkars.read_topics(CFG, [SourceTopic.from_earliest(TOPIC, value=kafkars.Json(schema=TRADE))])"),
    "kafkars typed JSON, raw bytes dropped (keep_raw=False)": (
        "json", "typed = kafkars.read_topics(CFG, [SourceTopic.from_earliest(TOPIC, value=kafkars.Json(schema=TRADE, keep_raw=False))])"),
    "kafkars + pyarrow.json.read_json": (
        "json", ""
                "t = raw()\n"
                "typed = pj.read_json(io.BytesIO(b'\\n'.join(t.column('value').to_pylist())))"),
    "kafkars + orjson per row, Table.from_pylist": (
        "json", "t = raw()\ntyped = pa.Table.from_pylist([orjson.loads(v) for v in t.column('value').to_pylist()])"),
    "kafkars + polars str.json_decode": (
        "json", ""
                "t = raw()\n"
                "s = pl.from_arrow(t.column('value').cast(pa.string()))\n"
                "dtype = pl.Struct({'symbol': pl.String, 'price': pl.Float64, 'qty': pl.Int64, 'side': pl.String, "
                "'ts': pl.Int64, 'venue': pl.String})\n"
                "typed = s.str.json_decode(dtype).struct.unnest().to_arrow()"),
    "kafkars + json.loads per row": (
        "json", "t = raw()\ntyped = pa.Table.from_pylist([json.loads(v) for v in t.column('value').to_pylist()])"),
    "kafkars, binary values only (Avro topic)": ("avro", "typed = raw()"),
    "kafkars typed Avro (registry)": (
        "avro", "typed = kafkars.read_topics(CFG, [SourceTopic.from_earliest(TOPIC, value=kafkars.Avro(registry=REGISTRY))])"),
    "kafkars + fastavro.schemaless_reader per row": (
        "avro", ""
                "t = raw()\n"
                "cache = {}\n"
                "def schema(i):\n"
                "    if i not in cache:\n"
                "        with urllib.request.urlopen(f'{REGISTRY}/schemas/ids/{i}') as r:\n"
                "            cache[i] = fastavro.parse_schema(json.loads(json.load(r)['schema']))\n"
                "    return cache[i]\n"
                "rows = []\n"
                "for v in t.column('value').to_pylist():\n"
                "    rows.append(fastavro.schemaless_reader(io.BytesIO(v[5:]), schema(int.from_bytes(v[1:5], 'big')), None))\n"
                "typed = pa.Table.from_pylist(rows)"),
}


def produce(tool: KafkaTool, registry: LocalRegistry, n: int) -> tuple[str, str]:
    import fastavro

    from devtools.serde import register

    tool.create_topic("typed-json", 8, config={"retention.ms": "-1"})
    tool.create_topic("typed-avro", 8, config={"retention.ms": "-1"})
    sid = register(registry.url, "typed-avro-value", json.dumps(AVRO_SCHEMA))
    parsed = fastavro.parse_schema(AVRO_SCHEMA)
    t0 = int(time.time() * 1000) - 3_600_000
    syms = ["AAPL", "MSFT", "NVDA", "AMZN", "GOOG", "META", "TSLA", "AVGO"]
    chunk = 100_000
    for start in range(0, n, chunk):
        js, av = [], []
        for i in range(start, min(n, start + chunk)):
            rec = {"symbol": syms[i % 8], "price": round(100 + (i % 5000) / 37, 2), "qty": 1 + i % 500,
                   "side": "buy" if i % 3 else "sell", "ts": t0 + i // 10, "venue": "XNAS" if i % 2 else "XLON"}
            p, ts = i % 8, t0 + i // 10
            js.append(Record("typed-json", json.dumps(rec, separators=(",", ":")).encode(), partition=p, ts=ts))
            buf = io.BytesIO()
            buf.write(b"\x00" + struct.pack(">I", sid))
            fastavro.schemaless_writer(buf, parsed, rec)
            av.append(Record("typed-avro", buf.getvalue(), partition=p, ts=ts))
        tool.produce(js)
        tool.produce(av)
    return "typed-json", "typed-avro"


def run_child(name: str, topic: str, bootstrap: str, registry: str, n: int) -> dict[str, float]:
    body = CONTENDERS[name][1]
    code = CHILD.replace("{body}", textwrap.indent(body, "").replace("\n", "\n")).replace("{{", "{").replace("}}", "}")
    r = subprocess.run([sys.executable, "-c", code, bootstrap, topic, registry, str(n)],
                       capture_output=True, text=True, timeout=3600, cwd=str(ROOT))
    if r.returncode != 0:
        raise SystemExit(f"{name} failed:\n{r.stderr[-3000:]}")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    out["rows_per_s"] = out["rows"] / out["seconds"]
    out["cpu_per_m"] = out["cpu"] / (out["rows"] / 1e6)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", help="comma-separated substrings of contender names")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = ap.parse_args(argv)
    names = list(CONTENDERS)
    if args.only:
        names = [n for n in names if any(s in n for s in args.only.split(","))]
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    results: dict[str, list[dict[str, float]]] = {n: [] for n in names}
    with LocalKafka() as kafka, LocalRegistry() as registry:
        tool = KafkaTool(kafka.bootstrap)
        t = time.monotonic()
        topics = dict(zip(("json", "avro"), produce(tool, registry, args.records)))
        print(f"produced {args.records:,} JSON and {args.records:,} Avro records in {time.monotonic() - t:.0f}s", file=sys.stderr)
        # warm the broker's page cache and JVM
        run_child(names[0], topics[CONTENDERS[names[0]][0]], kafka.bootstrap, registry.url, args.records)
        for rnd in range(args.rounds):
            order = names[rnd % len(names):] + names[: rnd % len(names)]
            for n in order:
                r = run_child(n, topics[CONTENDERS[n][0]], kafka.bootstrap, registry.url, args.records)
                results[n].append(r)
                print(f"round {rnd + 1}: {n}: {r['rows_per_s'] / 1e6:.2f} M rows/s, {r['cpu_per_m']:.2f} CPU s/M, "
                      f"{r['vmhwm_kb'] / 1024:.0f} MB", file=sys.stderr)
    med = {n: {k: statistics.median(r[k] for r in rs) for k in ("rows_per_s", "cpu_per_m", "vmhwm_kb")}
           for n, rs in results.items()}
    Path(args.out).mkdir(parents=True, exist_ok=True)
    path = Path(args.out) / f"typed-{stamp}.json"
    path.write_text(json.dumps({"records": args.records, "rounds": args.rounds, "machine": os.uname().nodename,
                                "results": results, "median": med}, indent=1))
    floor_json = med.get("kafkars, binary values only", {}).get("rows_per_s")
    floor_avro = med.get("kafkars, binary values only (Avro topic)", {}).get("rows_per_s")
    print(f"\n{args.records:,} records over 8 partitions, median of {args.rounds} rounds ({path.name})\n")
    print("| path | rows/s | of binary-only | CPU s per M rows | peak RSS |")
    print("|---|---:|---:|---:|---:|")
    for n in names:
        m = med[n]
        floor = floor_avro if "Avro" in n or "avro" in n else floor_json
        share = f"{m['rows_per_s'] / floor:.0%}" if floor else "-"
        print(f"| {n} | {m['rows_per_s'] / 1e6:.2f} M | {share} | {m['cpu_per_m']:.2f} | {m['vmhwm_kb'] / 1024:.0f} MB |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
