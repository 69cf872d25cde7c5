"""The benchmark run: broker, data, contenders side by side, results.

    bash bench/run.sh [--quick] [options]      (sets up tools and venvs, then this)
    python -m bench [--quick] [options]        (this alone; tools must be built)

1. Starts its own local Kafka broker (devtools.broker.LocalKafka, 2 GiB heap).
2. Produces every data set once (build/bin/kafkatool gen: keys "SYM-000123",
   fixed-size values, 8 partitions, timestamps 1 ms apart per partition).
3. Throughput: for each round, data set and configuration (defaults, tuned),
   runs every contender once as a child process under GNU ``time`` (peak
   RSS: ru_maxrss survives exec), the order rotating from round to round; plus a
   kafkars run that stops after a fifth of data set (a) for the RSS ratio.
4. Live latency: warms the broker with producer + floor, then for each round
   runs each latency contender alone, in a segment adjacent to one of the
   floor consumer, each fed by a run of bench/cmd/bench-producer (5 000 msgs/s
   over 8 partitions, linger.ms=0).
5. Writes bench/results/<id>.json (dev runs: bench/results/dev/), a PNG
   chart beside it, prints the Markdown tables with PASS/MISS per target,
   and (full runs) renders docs/benchmarks.md from the JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import queue
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench import contenders as C
from bench import machine, report

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
GNU_TIME = "/usr/bin/time"
KEY_LEN = len("SYM-000123")


@dataclass(frozen=True)
class Dataset:
    key: str
    topic: str
    records: int
    value_size: int
    partitions: int = 8

    @property
    def label(self) -> str:
        size = f"{self.value_size // 1024} KiB" if self.value_size % 1024 == 0 else f"{self.value_size} B"
        return f"{self.records:,} records x {size} values, {self.partitions} partitions"

    @property
    def payload_bytes(self) -> int:
        """Key + value bytes of the whole topic (what MB/s counts)."""
        return self.records * (KEY_LEN + self.value_size)


@dataclass(frozen=True)
class Plan:
    mode: str
    rounds: int
    datasets: list[Dataset]
    rss_fraction: int  # kafkars RSS measured at records/rss_fraction vs all
    live_rate: int
    live_producer_linger_ms: int
    live_partitions: int
    live_seconds: float
    live_skip_seconds: float
    live_warmup_seconds: float
    broker_heap: str


def make_plan(args: argparse.Namespace) -> Plan:
    if args.quick:
        datasets = [Dataset("a", "bench-a-100B", args.records_a or 200_000, 100),
                    Dataset("b", "bench-b-1KiB", args.records_b or 60_000, 1024)]
        live = dict(live_seconds=4.0, live_skip_seconds=1.0, live_warmup_seconds=5.0)
    else:
        datasets = [Dataset("a", "bench-a-100B", args.records_a or 5_000_000, 100),
                    Dataset("b", "bench-b-1KiB", args.records_b or 500_000, 1024)]
        live = dict(live_seconds=15.0, live_skip_seconds=2.0, live_warmup_seconds=30.0)
    return Plan(mode="quick" if args.quick else "full", rounds=args.rounds, datasets=datasets,
                rss_fraction=5, live_rate=args.live_rate, live_producer_linger_ms=args.live_producer_linger_ms, live_partitions=8, broker_heap="2g", **live)


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- child processes ----------------------------------------------------------


def run_measured(argv: list[str], timeout: float, stdout_null: bool = False) -> dict[str, Any]:
    """Runs one consumer under GNU time and returns what it measured.

    CPU comes from wait4() on the time process (its rusage includes the
    consumer it waited for; time's own share is a millisecond). Peak RSS
    comes from time's %M: the consumer is forked from the small time
    process, so its ru_maxrss is its own, not this Python process's
    (ru_maxrss survives exec). The consumer's JSON line is parsed from
    its stdout.
    """
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        tfile, ofile, efile = (Path(tmp) / n for n in ("time", "out", "err"))
        with open(ofile, "wb") as out, open(efile, "wb") as err:
            t0 = time.monotonic()
            proc = subprocess.Popen(
                [GNU_TIME, "-f", "%M %e", "-o", str(tfile), *argv],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL if stdout_null else out,
                stderr=err,
                start_new_session=True,
            )
            timer = threading.Timer(timeout, lambda: _killpg(proc.pid))
            timer.start()
            try:
                _, status, ru = os.wait4(proc.pid, 0)
            finally:
                timer.cancel()
            proc.returncode = os.waitstatus_to_exitcode(status)
            wall = time.monotonic() - t0
        res: dict[str, Any] = {
            "exit": proc.returncode,
            "cpu_s": ru.ru_utime + ru.ru_stime,
            "cpu_user_s": ru.ru_utime,
            "cpu_sys_s": ru.ru_stime,
            "wall_s": wall,
        }
        tlines = [line for line in tfile.read_text().splitlines() if line.strip()] if tfile.exists() else []
        if tlines:
            maxrss_kb, _elapsed = tlines[-1].split()
            res["rss_mb"] = int(maxrss_kb) * 1024 / 1e6
        lines = ofile.read_text(errors="replace").strip().splitlines()
        if lines and lines[-1].startswith("{"):
            res["client"] = json.loads(lines[-1])
        if proc.returncode != 0:
            res["error"] = (efile.read_text(errors="replace").strip()[-1500:]
                            or f"exit status {proc.returncode}")
            if wall >= timeout:
                res["error"] = f"killed after {timeout:.0f} s timeout; " + res["error"]
        return res


def _killpg(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class LiveChild:
    """A latency consumer: started, waited on for READY, stopped by closing
    its stdin, its JSON line read back."""

    def __init__(self, argv: list[str]) -> None:
        self._err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._err, text=True, start_new_session=True)
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line.strip())
        self._lines.put(None)

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.kill()
                raise RuntimeError(f"not READY after {timeout:.0f} s")
            if line == "READY":
                return
            if line is None:
                raise RuntimeError(f"exited before READY: {self.stderr()}")

    def finish(self, timeout: float = 30) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise RuntimeError(f"did not stop within {timeout:.0f} s of stdin closing")
        result = None
        while True:
            try:
                line = self._lines.get(timeout=5)
            except queue.Empty:
                break
            if line is None:
                break
            if line.startswith("{"):
                result = json.loads(line)
        if self.proc.returncode != 0 or result is None:
            raise RuntimeError(f"exit {self.proc.returncode}: {self.stderr()}")
        return result

    def stderr(self) -> str:
        self._err.seek(0)
        return self._err.read().decode(errors="replace").strip()[-1500:]

    def kill(self) -> None:
        _killpg(self.proc.pid)
        self.proc.wait()


# --- phases -------------------------------------------------------------------


def produce_datasets(bootstrap: str, plan: Plan) -> list[dict[str, Any]]:
    from devtools.kafkatool import KafkaTool, kafkatool_path

    tool = KafkaTool(bootstrap)
    out = []
    for ds in plan.datasets:
        tool.create_topic(ds.topic, ds.partitions, {"retention.ms": "-1"})
        log(f"producing data set {ds.key}: {ds.label} -> topic {ds.topic}")
        t0 = time.monotonic()
        r = subprocess.run(
            [str(kafkatool_path()), "gen", "-b", bootstrap, "-t", ds.topic, "-p", str(ds.partitions),
             "-n", str(ds.records), "--value-size", str(ds.value_size), "--keys", "10000",
             "--key-prefix", "SYM", "--ts-step", "1"],
            capture_output=True, text=True, timeout=7200,
        )
        if r.returncode != 0:
            raise RuntimeError(f"kafkatool gen failed: {r.stderr[-2000:]}")
        offsets = tool.offsets(ds.topic)
        have = sum(hi - lo for lo, hi in offsets.values())
        if have != ds.records:
            raise RuntimeError(f"topic {ds.topic} holds {have} records, expected {ds.records}")
        secs = time.monotonic() - t0
        log(f"  {ds.records:,} records in {secs:.1f} s")
        out.append({**asdict(ds), "label": ds.label, "payload_bytes": ds.payload_bytes,
                    "produce_seconds": round(secs, 2)})
    return out


def _throughput_row(c: C.Contender, ds: Dataset, config: str, rnd: int, res: dict[str, Any],
                    note: str | None, max_records: int = 0) -> dict[str, Any]:
    client = res.get("client", {})
    row: dict[str, Any] = {
        "phase": "throughput", "round": rnd, "dataset": ds.key, "config": config,
        "contender": c.key, "exit": res["exit"], "cpu_s": round(res["cpu_s"], 4),
        "cpu_user_s": round(res["cpu_user_s"], 4), "cpu_sys_s": round(res["cpu_sys_s"], 4),
        "wall_s": round(res["wall_s"], 4), "rss_mb": round(res["rss_mb"], 2) if "rss_mb" in res else None,
        "timing": c.timing,
    }
    if note:
        row["note"] = note
    if max_records:
        row["max_records"] = max_records
    if "error" in res:
        row["error"] = res["error"]
        return row
    expected = max_records or ds.records
    if c.timing == "process":
        records, nbytes, elapsed = ds.records, ds.payload_bytes, res["wall_s"]
    else:
        records, nbytes = client.get("records", 0), client.get("bytes", 0)
        elapsed = (client.get("last_ns", 0) - client.get("first_ns", 0)) / 1e9
        if "open_ns" in client:
            # Opening the consumer to the last record: start-up, offsets and
            # any prefetch done before the first record was handed over.
            row["from_open_s"] = round((client["last_ns"] - client["open_ns"]) / 1e9, 4)
        if client.get("cpu_window") is not None and records:
            row["cpu_window_per_m"] = round(client["cpu_window"] / (records / 1e6), 4)
        if client.get("vmhwm_kb", -1) > 0:
            row["vmhwm_mb"] = round(client["vmhwm_kb"] * 1024 / 1e6, 2)
        if isinstance(client.get("engine"), dict):
            row["engine"] = client["engine"]
    row.update(records=records, bytes=nbytes, elapsed_s=round(elapsed, 4))
    if records < expected:
        row["error"] = f"got {records} records, expected {expected}"
        return row
    if elapsed > 0:
        row["msgs_s"] = round(records / elapsed, 1)
        row["mb_s"] = round(nbytes / elapsed / 1e6, 2)
    if row.get("from_open_s"):
        row["msgs_s_from_open"] = round(records / row["from_open_s"], 1)
    row["cpu_per_m"] = round(res["cpu_s"] / (records / 1e6), 4)
    return row


def throughput_phase(bootstrap: str, plan: Plan, chosen: list[C.Contender]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for rnd in range(plan.rounds):
        for ds in plan.datasets:
            for config, props in C.CONFIGS.items():
                k = rnd % len(chosen)
                order = chosen[k:] + chosen[:k]  # alternate who goes first
                for c in order:
                    use = {key: v for key, v in props.items() if key not in c.unsupported}
                    dropped = sorted(set(props) - set(use))
                    note = (f"runs with its defaults: its librdkafka has no {', '.join(dropped)}"
                            if dropped else None)
                    timeout = max(900.0, ds.records / 5_000)
                    res = run_measured(c.argv(bootstrap, ds.topic, use), timeout,
                                       stdout_null=c.timing == "process")
                    row = _throughput_row(c, ds, config, rnd, res, note)
                    rows.append(row)
                    _log_row(row)
                if config == "tuned" and ds.key == plan.datasets[0].key and any(c.key == "kafkars" for c in chosen):
                    # RSS after a fifth of the data vs after all of it (bounded memory).
                    kc = next(c for c in chosen if c.key == "kafkars")
                    part = ds.records // plan.rss_fraction
                    argv = kc.argv(bootstrap, ds.topic, props) + ["--max-records", str(part)]
                    res = run_measured(argv, max(900.0, ds.records / 5_000))
                    row = _throughput_row(kc, ds, config, rnd, res, None, max_records=part)
                    row["contender"] = "kafkars-partial"
                    rows.append(row)
                    _log_row(row)
    return rows


def _log_row(row: dict[str, Any]) -> None:
    what = f"r{row['round']} {row['dataset']} {row['config']:8} {row['contender']:17}"
    if "error" in row:
        log(f"{what} ERROR {row['error'][:300]}")
    else:
        log(f"{what} {row.get('msgs_s', 0):>12,.0f} msgs/s {row.get('mb_s', 0):8.1f} MB/s "
            f"cpu {row['cpu_per_m']:.2f} s/M rss {row['rss_mb'] or 0:.0f} MB")


def run_producer(bootstrap: str, topic: str, plan: Plan, seconds: float) -> dict[str, Any]:
    r = subprocess.run(
        [str(C.BIN / "bench-producer"), "-b", bootstrap, "-t", topic, "-p", str(plan.live_partitions),
         "-rate", str(plan.live_rate), "-duration", f"{seconds}s", "-X", f"linger.ms={plan.live_producer_linger_ms}"],
        capture_output=True, text=True, timeout=seconds + 120,
    )
    if r.returncode != 0:
        raise RuntimeError(f"bench-producer failed: {r.stderr[-1500:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def live_segment(bootstrap: str, topic: str, plan: Plan, argvs: list[list[str]],
                 seconds: float) -> list[dict[str, Any]]:
    """Consumers side by side on one producer run: all READY, produce, let
    them drain, stop them. Returns their results in the order given."""
    children: list[LiveChild] = []
    try:
        for argv in argvs:
            children.append(LiveChild(argv))
        for child in children:
            child.wait_ready(90)
        time.sleep(0.5)  # let their fetch sessions settle
        prod = run_producer(bootstrap, topic, plan, seconds)
        time.sleep(1.0)  # the last records reach the consumers
        results = [child.finish() for child in children]
    except BaseException:
        for child in children:
            if child.proc.poll() is None:
                child.kill()
        raise
    for r in results:
        r["producer"] = prod
    return results


def _latency_row(rnd: int, key: str, res: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"phase": "latency", "round": rnd, "contender": key}
    row.update({k: (round(v, 4) if isinstance(v, float) else v) for k, v in res.items()})
    expected = res["producer"]["produced"]
    if res.get("records", 0) < expected:
        row["error"] = f"received {res.get('records')} of {expected} records"
    return row


def latency_phase(bootstrap: str, plan: Plan, chosen: list[C.LiveContender]) -> list[dict[str, Any]]:
    """Every latency contender runs in its own segment, alone, next to a
    segment of the floor consumer (which goes first alternates), each fed by
    its own run of the same producer at the same rate.

    Not side by side: on this 2-core machine two consumers plus the
    producer (linger.ms=0: one request per record) plus the broker saturate
    both cores, and queueing then dominates every figure (a first version
    measured side by side: floor p50 0.5 to 2 s). Adjacent segments keep the
    floor's conditions close to the contender's without that load."""
    from devtools.kafkatool import KafkaTool

    topic = "bench-live"
    KafkaTool(bootstrap).create_topic(topic, plan.live_partitions, {"retention.ms": "-1"})
    skip = int(plan.live_rate * plan.live_skip_seconds)
    floor = next(c for c in chosen if c.key == "floor")
    others = [c for c in chosen if c.key != "floor"] or [floor]
    log(f"live: warming the broker for {plan.live_warmup_seconds:.0f} s (producer + floor, not recorded)")
    live_segment(bootstrap, topic, plan, [floor.argv(bootstrap, topic, 0)], plan.live_warmup_seconds)
    rows: list[dict[str, Any]] = []
    for rnd in range(plan.rounds):
        k = rnd % len(others)
        for i, c in enumerate(others[k:] + others[:k]):
            pair = [floor] if c is floor else ([c, floor] if (rnd + i) % 2 == 0 else [floor, c])
            results: dict[str, dict[str, Any]] = {}
            try:
                for x in pair:
                    results[x.key] = live_segment(bootstrap, topic, plan, [x.argv(bootstrap, topic, skip)],
                                                  plan.live_seconds)[0]
            except (RuntimeError, subprocess.SubprocessError, json.JSONDecodeError) as exc:
                rows.append({"phase": "latency", "round": rnd, "contender": c.key, "error": str(exc)[-1500:]})
                log(f"r{rnd} live {c.key:17} ERROR {rows[-1]['error'][:300]}")
                continue
            crow = _latency_row(rnd, c.key, results[c.key])
            if c.linger_ms is not None:
                crow["linger_ms"] = c.linger_ms
            msg = (f"r{rnd} live {c.key:17} p50 {crow.get('p50_ms', float('nan')):7.2f} ms  "
                   f"p99 {crow.get('p99_ms', float('nan')):7.2f} ms  ({crow.get('samples', 0)} samples)")
            if c is not floor:
                frow = _latency_row(rnd, floor.key, results[floor.key])
                frow["paired_with"] = c.key
                crow["floor"] = {q: frow.get(q) for q in ("p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms",
                                                         "samples")}
                rows.append(frow)
                msg += f"   floor (adjacent segment): p50 {frow.get('p50_ms', float('nan')):.2f} ms, " \
                       f"p99 {frow.get('p99_ms', float('nan')):.2f} ms"
            rows.append(crow)
            log(msg)
    return rows


# --- main ---------------------------------------------------------------------


def loadavg() -> list[float]:
    """1, 5 and 15 minute load averages (the broker and the run included)."""
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []


def check_disk(path: Path, plan: Plan) -> None:
    # Kafka's on-disk record overhead is ~10-70 bytes; count 100 and double it.
    need = sum(ds.records * (ds.value_size + KEY_LEN + 100) for ds in plan.datasets) * 2
    free = shutil.disk_usage(path).free
    log(f"disk: {free / 1e9:.1f} GB free under {path}, data needs about {need / 2e9:.1f} GB")
    if free < need:
        raise SystemExit(f"not enough disk under {path}: {free / 1e9:.1f} GB free, "
                         f"want {need / 1e9:.1f} GB (twice the data)")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="bench/run.sh", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="small data (200k x 100 B, 60k x 1 KiB), short live runs: for development")
    ap.add_argument("--rounds", type=int, default=3, help="runs per contender and configuration (median)")
    ap.add_argument("--records-a", type=int, default=0, help="records of data set (a), 100 B values")
    ap.add_argument("--records-b", type=int, default=0, help="records of data set (b), 1 KiB values")
    ap.add_argument("--only", default="", help="comma-separated contender keys (default: all)")
    ap.add_argument("--live-rate", type=int, default=5000,
                    help="records/s the live producer sends (default 5000; lower it where 2 cores saturate)")
    ap.add_argument("--live-producer-linger-ms", type=int, default=0,
                    help="the live producer's linger.ms (default 0: one request per record; the same for every "
                         "consumer, floor included)")
    ap.add_argument("--no-throughput", action="store_true")
    ap.add_argument("--no-latency", action="store_true")
    ap.add_argument("--docs", dest="docs", action="store_true", default=None,
                    help="write docs/benchmarks.md (default: full runs only)")
    ap.add_argument("--no-docs", dest="docs", action="store_false")
    ap.add_argument("--out", type=Path, default=None, help="results directory")
    args = ap.parse_args(argv)
    if args.rounds < 1:
        ap.error("--rounds must be >= 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    plan = make_plan(args)
    only = {s for s in args.only.split(",") if s}
    skipped: dict[str, str] = {}

    def pick(items):  # noqa: ANN001, ANN202
        out = []
        for c in items:
            if only and c.key not in only and c.key != "floor":
                continue
            why = c.available()
            if why:
                skipped[c.key] = why
                log(f"skipping {c.key}: {why}")
                continue
            out.append(c)
        return out

    tp = [] if args.no_throughput else pick(C.THROUGHPUT)
    live = [] if args.no_latency else pick(C.LATENCY)
    if live and live[0].key != "floor":
        raise SystemExit("the latency floor (build/bin/bench-floor) is required for the live phase")

    sys.path.insert(0, str(REPO))
    from devtools.broker import LocalKafka

    started = dt.datetime.now(dt.timezone.utc)
    run_id = started.strftime("%Y%m%dT%H%M%SZ") + ("-quick" if args.quick else "")
    out_dir = args.out or (RESULTS / "dev" if args.quick else RESULTS)
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    kcat = shutil.which("kcat")
    rust_py = C.rust_python() if Path(C.rust_python()).exists() else None

    # Other work on the machine skews every number; the load average before
    # and after each phase is kept with the results so a noisy run shows.
    load = {"start": loadavg()}
    with LocalKafka(heap=plan.broker_heap) as kafka:
        log(f"broker {kafka.bootstrap} up in {kafka.start_seconds:.1f} s (workdir {kafka.workdir})")
        if tp:
            check_disk(kafka.workdir, plan)
        data = produce_datasets(kafka.bootstrap, plan) if tp else []
        load["before_throughput"] = loadavg()
        rows = throughput_phase(kafka.bootstrap, plan, tp) if tp else []
        load["after_throughput"] = loadavg()
        lrows = latency_phase(kafka.bootstrap, plan, live) if live else []
        load["after_latency"] = loadavg()

    results: dict[str, Any] = {
        "schema": 1,
        "id": run_id,
        "mode": plan.mode,
        "started": started.isoformat(timespec="seconds"),
        "duration_s": round(time.monotonic() - t0, 1),
        "command": "bash bench/run.sh " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])),
        "machine": machine.machine(),
        "versions": machine.versions(C.project_python(), rust_py, kcat),
        "plan": {**asdict(plan), "datasets": data or [
            {**asdict(d), "label": d.label, "payload_bytes": d.payload_bytes} for d in plan.datasets]},
        "load_average": load,
        "configs": C.CONFIGS,
        "contenders": {c.key: {"label": c.label, "description": c.description, "timing": c.timing}
                       for c in C.THROUGHPUT},
        "live_contenders": {c.key: {"label": c.label, "description": c.description, "linger_ms": c.linger_ms}
                            for c in C.LATENCY},
        "skipped": skipped,
        "runs": rows,
        "latency_runs": lrows,
    }
    results["summary"] = report.summarize(results)
    results["targets"] = report.evaluate_targets(results)
    json_path = out_dir / f"{run_id}.json"
    json_path.write_text(json.dumps(results, indent=1) + "\n")
    png_path = out_dir / f"{run_id}.png"
    report.chart(results, png_path)
    md = report.markdown(results)
    print(md)
    write_docs = args.docs if args.docs is not None else plan.mode == "full"
    docs_path = REPO / "docs" / "benchmarks.md" if write_docs else out_dir / f"{run_id}.md"
    docs_path.write_text(report.keep_others(report.document(results, json_path, png_path, docs_path), docs_path))
    def rel(p: Path) -> str:  # --out may be outside the repository
        return os.path.relpath(p, REPO) if p.is_relative_to(REPO) else str(p)

    log(f"results: {rel(json_path)}, chart: {rel(png_path)}, "
        f"report: {rel(docs_path)} ({results['duration_s']:.0f} s in all)")
