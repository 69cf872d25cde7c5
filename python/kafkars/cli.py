"""The ``kafkars`` command line: replay topics in order to a file, or show
their partition state.

    kafkars replay -b localhost:9092 -t trades -t quotes:relative_time:1h -o day.parquet
    kafkars replay -b localhost:9092 -t trades --until 2026-11-23T12:00:00Z -o - | duckdb ...
    kafkars replay -b localhost:9092 -t trades --start 2026-11-23T08:00:00Z --end 2026-11-23T09:00:00Z -o hour.parquet
    kafkars replay -b localhost:9092 -t trades --group loader --from-committed --commit -o - | ...
    kafkars state  -b localhost:9092 -t trades
    kafkars lag    -b localhost:9092 -t trades --group loader
    kafkars broker --data-dir kafka-data --port 9092     # a local Kafka broker for notebooks and tests
    kafkars produce -b localhost:9092 -t trades trades.parquet --key sym --timestamp ts

Topics are NAME[:POLICY[:ARG]] with POLICY earliest (the default), latest,
relative_time (ARG: a duration such as 90s, 15m, 1h, 2d, or milliseconds),
absolute_time (ARG: ISO 8601 such as 2026-11-23T08:00:00Z, or epoch ms) or
committed (the --group's committed offsets; ARG: the fallback policy where
there is none, earliest by default). --from-committed makes every topic
start from the group's committed offsets, its own policy being the fallback.

Exit codes: 0 success, 1 a kafkars error (one line on stderr), 2 bad
arguments (a bad topic spec, time, duration, -X property, output file,
or a value the library rejects as a ConfigError; one line on stderr),
130 interrupted.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import signal
import sys
import time
from typing import Any, NoReturn, Sequence

import pyarrow as pa

from kafkars._errors import ConfigError, KafkarsError
from kafkars._lib import librdkafka_version, version
from kafkars._manager import ConsumerManager
from kafkars._slices import plan_replay
from kafkars._producer import produce
from kafkars._time import parse_duration_ms, parse_time_ms
from kafkars.source_topic import SourceTopic
from kafkars.formats import Avro, Json, Protobuf

def parse_topic(spec: str) -> SourceTopic:
    """NAME[:POLICY[:ARG]] -> SourceTopic (Kafka topic names have no ':')."""
    parts = spec.split(":", 2)
    name = parts[0]
    if not name:
        raise ConfigError(f"bad topic {spec!r}: empty name")
    policy = parts[1] if len(parts) > 1 else "earliest"
    arg = parts[2] if len(parts) > 2 else None
    aliases = {"relative": "relative_time", "absolute": "absolute_time"}
    policy = aliases.get(policy, policy)
    if policy not in ("earliest", "latest", "relative_time", "absolute_time", "committed"):
        raise ConfigError(f"bad topic {spec!r}: unknown policy {policy!r} (earliest, latest, relative_time, absolute_time, committed)")
    if policy == "committed":
        fallback = aliases.get(arg, arg) if arg is not None else "earliest"
        if fallback not in ("earliest", "latest"):
            raise ConfigError(f"bad topic {spec!r}: committed takes the fallback earliest or latest; "
                              f"for a time fallback write {name}:{fallback}:ARG with --from-committed")
        return SourceTopic.from_committed(name, fallback)
    if policy in ("earliest", "latest"):
        if arg is not None:
            raise ConfigError(f"bad topic {spec!r}: policy {policy} takes no argument")
        return SourceTopic(name, policy)
    if arg is None:
        raise ConfigError(f"bad topic {spec!r}: policy {policy} needs an argument, e.g. {name}:{policy}:1h")
    if policy == "relative_time":
        return SourceTopic.from_relative_time(name, parse_duration_ms(arg, f"bad topic {spec!r}"))
    return SourceTopic.from_absolute_time(name, parse_time_ms(arg, f"bad topic {spec!r}"))


def from_committed(t: SourceTopic) -> SourceTopic:
    """--from-committed: the topic's policy becomes the fallback."""
    if t.policy == "committed":
        return t
    fallback_time = t.time_ms if t.policy in ("relative_time", "absolute_time") else None
    return SourceTopic.from_committed(t.name, t.policy, fallback_time=fallback_time, key=t.key, value=t.value)


def parse_props(items: Sequence[str]) -> dict[str, str]:
    out = {}
    for it in items:
        k, sep, v = it.partition("=")
        if not sep or not k:
            raise ConfigError(f"bad -X {it!r}: expected property=value")
        out[k] = v
    return out


_OUTPUT_SUFFIXES = (".parquet", ".arrow", ".feather", ".ipc", ".arrows")


def check_output(path: str | None) -> None:
    if path is not None and path != "-" and not path.endswith(_OUTPUT_SUFFIXES):
        raise ConfigError(f"--output {path!r}: use a .parquet, .arrow (IPC file), .arrows (IPC stream) file or - (stdout)")


class _Writer:
    """Writes batches to Parquet, an Arrow IPC file, or an IPC stream on stdout."""

    def __init__(self, path: str | None, schema: pa.Schema) -> None:
        self.path = path
        self.w: Any = None
        if path is None:
            return
        if path == "-":
            self.w = pa.ipc.new_stream(sys.stdout.buffer, schema)
        elif path.endswith(".parquet"):
            import pyarrow.parquet as pq

            self.w = pq.ParquetWriter(path, schema)
        elif path.endswith((".arrow", ".feather", ".ipc")):
            self.w = pa.ipc.new_file(path, schema)
        elif path.endswith(".arrows"):
            self.w = pa.ipc.new_stream(path, schema)
        else:
            raise ConfigError(f"--output {path!r}: use a .parquet, .arrow (IPC file), .arrows (IPC stream) file or - (stdout)")

    def write(self, batch: pa.RecordBatch) -> None:
        if self.w is not None:
            self.w.write_batch(batch)

    def flush(self) -> None:
        """Push what was written to the operating system (IPC streams on
        stdout or a file; a Parquet or IPC file is only complete at close)."""
        if self.path == "-":
            sys.stdout.buffer.flush()

    def close(self) -> None:
        if self.w is not None:
            self.w.close()


def _config(args: argparse.Namespace) -> dict[str, str]:
    cfg = parse_props(args.property or [])
    cfg["bootstrap.servers"] = args.bootstrap_servers
    if getattr(args, "group", None):
        cfg["group.id"] = args.group
    return cfg


def _topics(args: argparse.Namespace) -> list[SourceTopic]:
    topics = [parse_topic(t) for t in args.topic]
    if getattr(args, "from_committed", False):
        topics = [from_committed(t) for t in topics]
    return topics


def _schema_file(args: argparse.Namespace, which: str) -> str | None:
    """The text of --key-schema/--value-schema FILE, None when not given."""
    path = getattr(args, f"{which}_schema")
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as exc:
        raise ConfigError(f"--{which}-schema {path!r}: {exc}") from None


def _format(args: argparse.Namespace, which: str) -> Any:
    """The key or value format the options declare (None: raw bytes)."""
    name = getattr(args, f"{which}_format")
    if name is None:
        return None
    common: dict[str, Any] = {"on_error": args.on_error}
    registry = args.registry
    if name == "json":
        if getattr(args, f"{which}_schema") or registry:
            raise ConfigError(f"--{which}-format json takes no --{which}-schema or --registry: the schema is inferred from a sample")
        return Json(**common)
    if name == "avro":
        schema = _schema_file(args, which)
        if schema is None and registry is None:
            raise ConfigError(f"--{which}-format avro needs --{which}-schema FILE.avsc or --registry URL")
        return Avro(schema=schema, registry=registry, **common)
    if name == "protobuf":
        message = getattr(args, f"{which}_message")
        if args.descriptors is None and registry is None:
            raise ConfigError(f"--{which}-format protobuf needs --descriptors FILE or --registry URL")
        return Protobuf(message=message, descriptors=args.descriptors, registry=registry, **common)
    raise ConfigError(f"--{which}-format must be json, avro or protobuf, got {name!r}")


def cmd_replay(args: argparse.Namespace) -> int:
    check_output(args.output)  # before connecting: fail fast
    key_format, value_format = _format(args, "key"), _format(args, "value")
    if (args.commit or args.from_committed) and not args.group:
        raise ConfigError("--commit and --from-committed need --group GROUP (the consumer group whose offsets to use)")
    topics = [dataclasses.replace(t, key=key_format, value=value_format) for t in _topics(args)]
    until: Any = "live" if args.until == "live" else parse_time_ms(args.until, "--until")
    topics, cutoff = _time_range(args, topics)
    progress = sys.stderr.isatty() and not args.no_progress and not args.quiet
    t0 = time.monotonic()
    rows = 0
    lo = hi = None
    headers: Any = args.headers_layout if args.headers else False
    with ConsumerManager(_config(args), topics, batch_size=args.batch_size, startup_timeout_ms=args.startup_timeout_ms,
                         include_headers=headers, late=args.late, ordering_timestamp=args.ordering_timestamp,
                         cutoff_ms=cutoff) as m:
        writer = _Writer(args.output, m.schema)
        try:
            for batch in m.iter_batches(until, follow=args.follow, progress=progress):
                writer.write(batch)
                if args.commit:
                    writer.flush()
                    m.commit()  # after the batch is written: at least once
                rows += batch.num_rows
                ts = batch.column("timestamp")
                b_lo, b_hi = ts[0].value, ts[batch.num_rows - 1].value
                lo = b_lo if lo is None else min(lo, b_lo)
                hi = b_hi if hi is None else max(hi, b_hi)
        finally:
            writer.close()
        parts = m.metrics()["partitions"]
    el = time.monotonic() - t0
    if not args.quiet:
        rng = ""
        if lo is not None and hi is not None:
            f = lambda v: dt.datetime.fromtimestamp(v / 1000, dt.timezone.utc).isoformat(timespec="milliseconds")  # noqa: E731
            rng = f", {f(lo)} .. {f(hi)}"
        dest = f" -> {args.output}" if args.output and args.output != "-" else ""
        print(
            f"kafkars: replayed {rows:,} records from {len(topics)} topic(s), {parts} partition(s) in {el:.2f}s "
            f"({rows / max(el, 1e-9):,.0f} rec/s){rng}{dest}",
            file=sys.stderr,
        )
    return 0


def _time_range(args: argparse.Namespace, topics: list[SourceTopic]) -> tuple[list[SourceTopic], int | None]:
    """--start/--end: the rows whose ordering timestamp is in [start, end),
    read over the offset ranges offsets-for-times gives for the two times
    (one time slice, docs/guides/scale.md)."""
    if args.start is None and args.end is None:
        return topics, None
    if args.until != "live" or args.follow:
        raise ConfigError("--start/--end give the time range: do not combine them with --until or --follow")
    start = None if args.start is None else parse_time_ms(args.start, "--start")
    end = None if args.end is None else parse_time_ms(args.end, "--end")
    plan = plan_replay(_config(args), topics, start=start, end=end, npartitions=1, timeout_ms=args.startup_timeout_ms)
    s = plan.slices[0]
    return s.source_topics(plan.topics), s.upper_ms


def cmd_lag(args: argparse.Namespace) -> int:
    """The group's committed offsets against the end of every partition."""
    topics = [SourceTopic.from_committed(t.name, "latest") for t in _topics(args)]
    with ConsumerManager(_config(args), topics, startup_timeout_ms=args.startup_timeout_ms) as m:
        rows = m.partition_lag().to_pylist()
    if args.json:
        print(json.dumps([{k: r[k] for k in ("topic", "partition", "committed_offset", "end_offset", "lag")} for r in rows], indent=1))
        return 0
    cols = [("topic", "topic"), ("partition", "part"), ("committed_offset", "committed"), ("end_offset", "end"), ("lag", "lag")]
    table = [[h for _, h in cols]] + [["-" if r[c] is None else str(r[c]) for c, _ in cols] for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(cols))]
    for row in table:
        print("  ".join(v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip(row, widths))))
    total = sum(r["lag"] or 0 for r in rows)
    unknown = sum(1 for r in rows if r["lag"] is None)
    note = f" ({unknown} partition(s) with no committed offset)" if unknown else ""
    print(f"total lag of group {args.group!r}: {total:,} records{note}")
    return 0


def cmd_state(args: argparse.Namespace) -> int:
    topics = _topics(args)
    with ConsumerManager(_config(args), topics, startup_timeout_ms=args.startup_timeout_ms) as m:
        if args.wait_ms:
            deadline = time.monotonic() + args.wait_ms / 1000
            while time.monotonic() < deadline and not m.is_live():
                time.sleep(0.05)
        st = m.partition_state().to_pylist()
        stats = {(r["topic"], r["partition"]): r for r in m.partition_stats().to_pylist()}
    for r in st:
        r.update(stats.get((r["topic"], r["partition"]), {}))
    if args.json:
        for r in st:
            ts = r["last_consumed_timestamp"]
            r["last_consumed_timestamp"] = None if ts is None else ts.isoformat()
        print(json.dumps(st, indent=1))
        return 0
    cols = [("topic", "topic"), ("partition", "part"), ("replay_start_offset", "start"), ("replay_end_offset", "end"),
            ("consumed_offset", "consumed"), ("released_offset", "released"), ("held_messages", "held"),
            ("is_paused", "paused"), ("is_live", "live")]
    table = [[h for _, h in cols]] + [[str(r[c]) for c, _ in cols] for r in st]
    widths = [max(len(row[i]) for row in table) for i in range(len(cols))]
    for row in table:
        print("  ".join(v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip(row, widths))))
    return 0


#: Exit status of a bad command line (argparse's own, and every ConfigError).
EXIT_USAGE = 2


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``PROG: error: MESSAGE (see PROG --help)``."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {_one_line(message)} (see '{self.prog} --help')\n")


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"bad port {text!r}: use a number from 1 to 65535")
    return int(text)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def cmd_broker(args: argparse.Namespace) -> int:
    """A local Kafka broker in the foreground until Ctrl-C (or SIGTERM)."""
    from kafkars.testing import KAFKA_VERSION, LocalKafka, MissingToolError

    props = parse_props(args.property or [])
    # SIGTERM stops the broker like Ctrl-C, from the start: killed by the
    # default action, this process could not remove a temporary data dir.
    previous_term = signal.signal(signal.SIGTERM, _raise_interrupt)
    previous_int = signal.getsignal(signal.SIGINT)
    kafka = LocalKafka(args.data_dir, args.port, heap=args.heap, extra_props=props)
    try:
        try:
            kafka.start(timeout=args.start_timeout)
        except MissingToolError as exc:
            print(f"kafkars: error: {_one_line(str(exc))}", file=sys.stderr)
            return 1
        except RuntimeError as exc:  # the broker did not come up; the message quotes its log
            print(f"kafkars: error: {exc}", file=sys.stderr)
            return 1
        try:
            # from here on, an interrupt (Ctrl-C, SIGTERM) is a clean stop:
            # it can arrive right after the lines below are read
            print(kafka.bootstrap, flush=True)
            kept = "temporary, removed on exit" if kafka.temporary else "kept"
            print(
                f"kafkars: Kafka {KAFKA_VERSION} broker ready at {kafka.bootstrap} in {kafka.start_seconds:.1f}s "
                f"(data dir {kafka.data_dir}, {kept}; log {kafka.log_path}); Ctrl-C to stop",
                file=sys.stderr,
                flush=True,
            )
            while kafka.running:
                time.sleep(0.2)
        except KeyboardInterrupt:
            print("kafkars: stopping the broker...", file=sys.stderr, flush=True)
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the shutdown short
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            kafka.close()
            print("kafkars: broker stopped", file=sys.stderr)
            return 0
        print(f"kafkars: error: the Kafka broker exited by itself; last lines of {kafka.log_path}:\n{kafka.log_tail(20)}",
              file=sys.stderr)
        return 1
    finally:
        try:
            kafka.close()
        finally:
            signal.signal(signal.SIGTERM, previous_term)
            signal.signal(signal.SIGINT, previous_int)
_INPUT_SUFFIXES = (".parquet", ".arrow", ".feather", ".ipc", ".arrows")


def open_input(path: str) -> Any:
    """A Parquet file, an Arrow IPC file or stream, or - (an IPC stream on
    stdin), as a Table or RecordBatchReader read batch by batch."""
    if path == "-":
        return pa.ipc.open_stream(sys.stdin.buffer)
    if not path.endswith(_INPUT_SUFFIXES):
        raise ConfigError(f"{path!r}: use a .parquet, .arrow (IPC file), .arrows (IPC stream) file or - (IPC stream on stdin)")
    try:
        if path.endswith(".parquet"):
            import pyarrow.parquet as pq

            pf = pq.ParquetFile(path)
            return pa.RecordBatchReader.from_batches(pf.schema_arrow, pf.iter_batches(batch_size=65_536))
        if path.endswith(".arrows"):
            return pa.ipc.open_stream(pa.memory_map(path))
        return pa.ipc.open_file(pa.memory_map(path)).read_all()  # zero-copy from the mapping
    except (OSError, pa.ArrowInvalid) as exc:
        raise ConfigError(f"{path!r}: {exc}") from None


def cmd_produce(args: argparse.Namespace) -> int:
    data = open_input(args.input)
    cfg = parse_props(args.property or [])
    cfg["bootstrap.servers"] = args.bootstrap_servers
    progress = sys.stderr.isatty() and not args.no_progress and not args.quiet
    formats: dict[str, Avro | Protobuf | None] = {"key": None, "value": None}
    for role in ("key", "value"):
        fmt = getattr(args, f"{role}_format")
        if fmt == "avro":
            schema = _schema_file(args, role)
            if not args.registry and schema is None:
                raise ConfigError(f"--{role}-format avro needs --registry URL (the writer schema is registered there) "
                                  f"or --{role}-schema FILE.avsc (raw datums of it)")
            formats[role] = Avro(registry=args.registry, schema=schema)
        elif fmt == "protobuf":
            message = getattr(args, f"{role}_message")
            if args.descriptors is None and args.registry is None:
                raise ConfigError(f"--{role}-format protobuf needs --descriptors FILE (with --{role}-message NAME) "
                                  f"or --registry URL (the subject's latest schema)")
            formats[role] = Protobuf(message=message, descriptors=args.descriptors, registry=args.registry)
    res = produce(cfg, args.topic, data, key=args.key, value=args.value or None, timestamp=args.timestamp,
                  partition=args.partition, headers=args.headers, progress=progress,
                  startup_timeout_ms=args.startup_timeout_ms, key_format=formats["key"], value_format=formats["value"])
    if not args.quiet:
        print(
            f"kafkars: produced {res.records:,} records ({res.bytes / 1e6:,.1f} MB of keys and values) to {args.topic}, "
            f"{len(res.partitions)} partition(s), all acknowledged in {res.seconds:.2f}s "
            f"({res.records / max(res.seconds, 1e-9):,.0f} rec/s)",
            file=sys.stderr,
        )
        for role, (subject, sid) in res.schemas.items():
            print(f"kafkars: {role} schema registered under subject {subject!r}, id {sid}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="kafkars", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--version", action="version", version=f"kafkars {version()} (librdkafka {librdkafka_version()})")
    sub = ap.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("-b", "--bootstrap-servers", required=True, help="broker list, e.g. localhost:9092")
        p.add_argument("-t", "--topic", action="append", required=True, metavar="NAME[:POLICY[:ARG]]",
                       help="a topic to read (repeat; the order gives ties their rank)")
        p.add_argument("-X", "--property", action="append", metavar="KEY=VALUE", help="a librdkafka property (repeatable)")
        p.add_argument("--startup-timeout-ms", type=int, default=15_000, help="fail if no broker answers within this (default 15000)")

    r = sub.add_parser("replay", help="replay topics in timestamp order to a file or stdout")
    common(r)
    r.add_argument("--until", default="live",
                   help="'live' (default: everything there at start), or a time: ISO 8601, epoch ms, 'now'; "
                        "a time bound ends at the replay end unless --follow")
    r.add_argument("--follow", action="store_true", help="with a time --until: read on into live records until that time")
    r.add_argument("--start", metavar="TIME",
                   help="rows whose ordering timestamp is at or after TIME (read from the offsets for that time; "
                        "topics without a policy)")
    r.add_argument("--end", metavar="TIME", help="rows whose ordering timestamp is before TIME (instead of --until)")
    r.add_argument("-o", "--output", help="out.parquet, out.arrow (IPC file), out.arrows (IPC stream) or - (IPC stream to stdout)")
    r.add_argument("--batch-size", type=int, default=10_000)
    r.add_argument("--no-progress", action="store_true", help="no progress bar (default: shown on a terminal)")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress and no summary")
    r.add_argument("--headers", action=argparse.BooleanOptionalAction, default=True,
                   help="write the records' headers (default: yes)")
    r.add_argument("--headers-layout", choices=("list", "map"), default="list",
                   help="headers as list<struct<key, value>> (default) or map<string, binary>")
    r.add_argument("--late", choices=("keep", "rewrite", "drop"), default="keep",
                   help="late records: keep (default), rewrite the timestamp to the ordering timestamp, or drop")
    r.add_argument("--ordering-timestamp", action="store_true", help="add the ordering_timestamp column")
    for which in ("value", "key"):
        r.add_argument(f"--{which}-format", choices=("json", "avro", "protobuf"),
                       help=f"decode {which}s into a typed column (json: schema inferred from a sample)")
        r.add_argument(f"--{which}-schema", metavar="FILE", help=f"avro: the {which} schema (.avsc)")
        r.add_argument(f"--{which}-message", metavar="NAME", help=f"protobuf: the {which} message type's full name")
    r.add_argument("--registry", metavar="URL", help="schema registry of Confluent-framed avro/protobuf records")
    r.add_argument("--descriptors", metavar="FILE", help="protobuf: a FileDescriptorSet (protoc --include_imports --descriptor_set_out)")
    r.add_argument("--on-error", choices=("raise", "null", "skip"), default="raise",
                   help="a record that does not decode: fail (default), keep it with a null typed column, or skip it")
    r.add_argument("--group", metavar="GROUP", help="consumer group (group.id) for --from-committed and --commit")
    r.add_argument("--from-committed", action="store_true",
                   help="start every topic at the group's committed offsets (its policy where there is none)")
    r.add_argument("--commit", action="store_true",
                   help="commit to the group after each batch is written (a Parquet or .arrow file is only "
                        "complete at the end: use -o - or .arrows to resume a killed replay)")
    r.set_defaults(func=cmd_replay)

    g = sub.add_parser("lag", help="print a consumer group's committed offsets and lag per partition")
    common(g)
    g.add_argument("--group", metavar="GROUP", required=True, help="the consumer group (group.id)")
    g.add_argument("--json", action="store_true", help="JSON instead of a table")
    g.set_defaults(func=cmd_lag)

    s = sub.add_parser("state", help="print the partition state (replay offsets per partition)")
    common(s)
    s.add_argument("--group", metavar="GROUP", help="consumer group (group.id), for topics NAME:committed")
    s.add_argument("--wait-ms", type=int, default=0, help="consume for up to this long (or until live) first")
    s.add_argument("--json", action="store_true", help="JSON instead of a table")
    s.set_defaults(func=cmd_state)

    k = sub.add_parser(
        "broker",
        help="run a local Kafka broker (for notebooks and tests) until Ctrl-C",
        description="Run a single-node Kafka broker on 127.0.0.1 in the foreground (needs java 17+, and mvn "
        "the first time to download the Kafka jars). Prints the bootstrap address on stdout; Ctrl-C stops it.",
    )
    k.add_argument("--data-dir", metavar="DIR",
                   help="keep the broker's data here and reuse it next time (default: a temporary directory, removed on exit)")
    k.add_argument("--port", type=_port, metavar="PORT", help="port on 127.0.0.1 (default: the data dir's previous port if free, else a free one)")
    k.add_argument("--heap", default="1g", help="JVM maximum heap (default 1g)")
    k.add_argument("-X", "--property", action="append", metavar="KEY=VALUE",
                   help="a broker property, e.g. auto.create.topics.enable=true (repeatable)")
    k.add_argument("--start-timeout", type=float, default=120.0, metavar="SECONDS", help="give up if not ready within this (default 120)")
    k.set_defaults(func=cmd_broker)
    p = sub.add_parser("produce", help="write the rows of a Parquet or Arrow file to a topic",
                       description="Write every row of a file to a topic and exit once Kafka acknowledged them all "
                                   "(idempotent, acks=all unless -X says otherwise). Binary and string columns are "
                                   "sent as they are, other types as JSON (or Avro: --value-format avro --registry URL; "
                                   "or Protobuf: --value-format protobuf with --descriptors FILE --value-message NAME, "
                                   "or --registry URL).")
    p.add_argument("-b", "--bootstrap-servers", required=True, help="broker list, e.g. localhost:9092")
    p.add_argument("-t", "--topic", required=True, help="the topic to write (it must exist)")
    p.add_argument("input", help="file.parquet, file.arrow (IPC file), file.arrows (IPC stream) or - (IPC stream on stdin)")
    p.add_argument("--key", metavar="COL", help="the key column (default: null keys)")
    p.add_argument("--value", metavar="COL", default="value", help="the value column (default: value; '' for null values)")
    p.add_argument("--timestamp", metavar="COL", help="a timestamp or int64 epoch-ms column (default: now)")
    p.add_argument("--partition", metavar="COL", help="an int32 partition column (default: by key hash)")
    p.add_argument("--headers", metavar="COL", help="a list<struct<key, value>> or map<string, binary> column")
    for role in ("key", "value"):
        p.add_argument(f"--{role}-format", choices=("json", "avro", "protobuf"), default="json",
                       help=f"how a typed {role} column is encoded (default json; avro: the schema derived from the "
                            f"column's type is registered in --registry, records Confluent-framed; protobuf: into "
                            f"the message type of --descriptors or of the subject's latest schema in --registry)")
        p.add_argument(f"--{role}-schema", metavar="FILE",
                       help=f"avro: write with this schema (.avsc) instead of deriving one; registered in --registry "
                            f"if given, else the datums are raw")
        p.add_argument(f"--{role}-message", metavar="NAME",
                       help=f"protobuf: the {role} message type's full name (default with --registry: the schema's first)")
    p.add_argument("--registry", metavar="URL", help="the schema registry for avro and protobuf formats")
    p.add_argument("--descriptors", metavar="FILE",
                   help="protobuf: a FileDescriptorSet (protoc --include_imports --descriptor_set_out); records are raw")
    p.add_argument("-X", "--property", action="append", metavar="KEY=VALUE", help="a librdkafka producer property (repeatable)")
    p.add_argument("--startup-timeout-ms", type=int, default=15_000, help="fail if the topic's metadata is not there within this")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (default: shown on a terminal)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress and no summary")
    p.set_defaults(func=cmd_produce)
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("kafkars: interrupted", file=sys.stderr)
        return 130
    except ConfigError as exc:  # a bad argument, whoever noticed it
        print(f"kafkars: error: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KafkarsError as exc:
        print(f"kafkars: error: {_one_line(str(exc))}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    except OSError as exc:
        print(f"kafkars: error: {_one_line(str(exc))}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
