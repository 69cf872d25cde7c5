"""Turns a results JSON into medians, targets, tables, a chart and docs.

Everything here is a function of the results file alone, so any result can
be re-rendered later:

    .venv/bin/python -m bench.report bench/results/<id>.json [--docs]

prints the Markdown tables, rewrites the chart beside the JSON and, with
``--docs``, docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

#: Order and names of the rows in tables and charts.
THROUGHPUT_ORDER = ["kafkars", "batch-ceiling", "confluent-python", "rust-kafkars", "rust-kafkars-100k", "go-poll", "kcat"]
LATENCY_ORDER = ["floor", "kafkars", "kafkars-linger0", "rust-kafkars", "confluent-python"]
CONFIG_ORDER = ["defaults", "tuned"]


def _median(rows: list[dict[str, Any]], key: str) -> float | None:
    vals = [r[key] for r in rows if isinstance(r.get(key), (int, float)) and not math.isnan(r[key])]
    return statistics.median(vals) if vals else None


def _max(rows: list[dict[str, Any]], key: str) -> float | None:
    vals = [r[key] for r in rows if isinstance(r.get(key), (int, float)) and not math.isnan(r[key])]
    return max(vals) if vals else None


def summarize(results: dict[str, Any]) -> dict[str, Any]:
    """Medians over rounds, per data set, configuration and contender."""
    tp: dict[str, Any] = {}
    runs = results.get("runs", [])
    for r in runs:
        tp.setdefault(r["dataset"], {}).setdefault(r["config"], {}).setdefault(r["contender"], [])
        tp[r["dataset"]][r["config"]][r["contender"]].append(r)
    out_tp: dict[str, Any] = {}
    for ds, by_cfg in tp.items():
        for cfg, by_c in by_cfg.items():
            for c, rows in by_c.items():
                ok = [r for r in rows if "error" not in r]
                s: dict[str, Any] = {"runs": len(ok), "errors": len(rows) - len(ok)}
                for key in ("msgs_s", "msgs_s_from_open", "mb_s", "cpu_per_m", "cpu_window_per_m", "rss_mb", "vmhwm_mb",
                            "elapsed_s", "records"):
                    s[key] = _median(ok, key)
                s["rss_max_mb"] = _max(ok, "rss_mb")
                notes = sorted({r["note"] for r in rows if r.get("note")})
                if notes:
                    s["note"] = "; ".join(notes)
                errs = [r["error"] for r in rows if "error" in r]
                if errs:
                    s["first_error"] = errs[0][:500]
                out_tp.setdefault(ds, {}).setdefault(cfg, {})[c] = s
    summary: dict[str, Any] = {"throughput": out_tp}

    # kafkars RSS after part of data set (a) vs after all of it, tuned.
    first_ds = results["plan"]["datasets"][0]["key"] if results.get("plan", {}).get("datasets") else "a"
    partial = out_tp.get(first_ds, {}).get("tuned", {}).get("kafkars-partial")
    full = out_tp.get(first_ds, {}).get("tuned", {}).get("kafkars")
    if partial and full and partial.get("rss_mb") and full.get("rss_mb"):
        summary["rss_ratio"] = {
            "dataset": first_ds,
            "partial_records": partial["records"],
            "full_records": full["records"],
            "rss_partial_mb": partial["rss_mb"],
            "rss_full_mb": full["rss_mb"],
            "ratio": full["rss_mb"] / partial["rss_mb"],
        }

    lat: dict[str, list[dict[str, Any]]] = {}
    for r in results.get("latency_runs", []):
        lat.setdefault(r["contender"], []).append(r)
    out_lat: dict[str, Any] = {}
    for c, rows in lat.items():
        ok = [r for r in rows if "error" not in r and r.get("samples")]
        s = {"runs": len(ok), "errors": len(rows) - len(ok),
             "samples": sum(r["samples"] for r in ok)}
        for key in ("p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms", "mean_ms"):
            s[key] = _median(ok, key)
        for q in ("p50_ms", "p99_ms"):
            paired = [{q: r["floor"][q]} for r in ok if isinstance(r.get("floor"), dict) and r["floor"].get(q)]
            if paired:
                s[f"floor_{q}"] = _median(paired, q)  # the floor measured beside this contender
        if rows and rows[0].get("linger_ms") is not None:
            s["linger_ms"] = rows[0]["linger_ms"]
        errs = [r["error"] for r in rows if "error" in r]
        if errs:
            s["first_error"] = errs[0][:500]
        out_lat[c] = s
    summary["latency"] = out_lat
    return summary


def _target(name: str, value: float | None, op: str, threshold: float, fmt: str, detail: str = "") -> dict[str, Any]:
    if value is None:
        ok = None
    elif op == ">=":
        ok = value >= threshold
    else:
        ok = value <= threshold
    return {"target": name, "value": value, "op": op, "threshold": threshold, "format": fmt,
            "pass": ok, "detail": detail}


def evaluate_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, PASS/MISS, from the medians."""
    s = results["summary"]
    out: list[dict[str, Any]] = []

    def med(ds: str, cfg: str, c: str, key: str) -> float | None:
        return s["throughput"].get(ds, {}).get(cfg, {}).get(c, {}).get(key)

    def ratio(a: float | None, b: float | None) -> float | None:
        return a / b if a is not None and b else None

    for ds in sorted(s["throughput"]):
        k = med(ds, "tuned", "kafkars", "msgs_s")
        out.append(_target(f"[{ds}] kafkars tuned >= 70% of the batch-API ceiling",
                           ratio(k, med(ds, "tuned", "batch-ceiling", "msgs_s")), ">=", 0.70, "{:.1%}"))
        out.append(_target(f"[{ds}] kafkars tuned >= 2x confluent-kafka-python + pyarrow",
                           ratio(k, med(ds, "tuned", "confluent-python", "msgs_s")), ">=", 2.0, "{:.2f}x"))
        out.append(_target(f"[{ds}] kafkars tuned >= 10x Rust kafkars 0.0.8",
                           ratio(k, med(ds, "tuned", "rust-kafkars", "msgs_s")), ">=", 10.0, "{:.1f}x"))
        out.append(_target(f"[{ds}] (also) kafkars tuned >= 10x Rust kafkars at batch_size=100000",
                           ratio(k, med(ds, "tuned", "rust-kafkars-100k", "msgs_s")), ">=", 10.0, "{:.1f}x"))
        out.append(_target(f"[{ds}] kafkars client CPU <= 1.2 s per million records (tuned)",
                           med(ds, "tuned", "kafkars", "cpu_per_m"), "<=", 1.2, "{:.2f} s"))
        peaks = [v for cfg in CONFIG_ORDER
                 if (v := s["throughput"].get(ds, {}).get(cfg, {}).get("kafkars", {}).get("rss_max_mb")) is not None]
        out.append(_target(f"[{ds}] kafkars peak RSS <= 250 MB (highest run)",
                           max(peaks) if peaks else None, "<=", 250.0, "{:.0f} MB"))
        out.append(_target(f"[{ds}] kafkars defaults within 10% of tuned (msgs/s ratio)",
                           ratio(med(ds, "defaults", "kafkars", "msgs_s"), k), ">=", 0.90, "{:.1%}"))
    rr = s.get("rss_ratio")
    out.append(_target(
        "kafkars RSS(all of (a)) / RSS(a fifth of (a)) <= 1.2",
        rr["ratio"] if rr else None, "<=", 1.2, "{:.2f}",
        f"{rr['rss_full_mb']:.0f} MB at {rr['full_records']:,.0f} vs {rr['rss_partial_mb']:.0f} MB at "
        f"{rr['partial_records']:,.0f} records" if rr else ""))

    lat = s.get("latency", {})
    floor = lat.get("floor", {})
    for key in ("kafkars", "kafkars-linger0"):
        m = lat.get(key)
        if not m:
            continue
        # Compare with the floor measured in the adjacent segment (same producer, same rate).
        fp50 = m.get("floor_p50_ms", floor.get("p50_ms"))
        fp99 = m.get("floor_p99_ms", floor.get("p99_ms"))
        which = "floor (adjacent segment)" if "floor_p50_ms" in m else "floor (own segments)"
        linger = m.get("linger_ms") or 0
        p50_limit = (fp50 + linger + 1.0) if fp50 is not None else math.nan
        out.append(_target(f"live p50, linger_ms={linger}: <= floor p50 + {linger} + 1 ms",
                           m.get("p50_ms"), "<=", p50_limit, "{:.2f} ms",
                           f"{which}: p50 {fp50:.2f} ms" if fp50 is not None else "no floor"))
        p99_limit = (1.5 * fp99 + linger) if fp99 is not None else math.nan
        label = "1.5x floor p99" + (f" + {linger} ms" if linger else "")
        out.append(_target(f"live p99, linger_ms={linger}: <= {label}", m.get("p99_ms"), "<=", p99_limit,
                           "{:.2f} ms", f"{which}: p99 {fp99:.2f} ms" if fp99 is not None else "no floor"))
    return out


# --- rendering ----------------------------------------------------------------


def _fmt(v: float | None, spec: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return spec.format(v)


def _labels(results: dict[str, Any]) -> dict[str, str]:
    labels = {k: v["label"] for k, v in results.get("contenders", {}).items()}
    labels["kafkars-partial"] = "kafkars, stopped after a fifth"
    return labels


def _ordered(keys, order):  # noqa: ANN001, ANN202
    return [k for k in order if k in keys] + sorted(k for k in keys if k not in order)


def throughput_table(results: dict[str, Any], ds: str) -> str:
    s = results["summary"]["throughput"].get(ds, {})
    labels = _labels(results)
    lines = ["| contender | config | msgs/s | MB/s | msgs/s from open | CPU s / 1M records | CPU s / 1M (first→last) "
             "| peak RSS MB | runs |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    keys = {c for cfg in s.values() for c in cfg if c != "kafkars-partial"}
    for c in _ordered(keys, THROUGHPUT_ORDER):
        for cfg in CONFIG_ORDER:
            m = s.get(cfg, {}).get(c)
            if not m:
                continue
            runs = f"{m['runs']}" + (f" ({m['errors']} failed)" if m["errors"] else "")
            note = " ¹" if m.get("note") else ""
            lines.append(
                f"| {labels.get(c, c)} | {cfg}{note} | {_fmt(m['msgs_s'], '{:,.0f}')} | {_fmt(m['mb_s'], '{:.1f}')} | "
                f"{_fmt(m.get('msgs_s_from_open'), '{:,.0f}')} | "
                f"{_fmt(m['cpu_per_m'], '{:.2f}')} | {_fmt(m['cpu_window_per_m'], '{:.2f}')} | "
                f"{_fmt(m['rss_mb'], '{:.0f}')} | {runs} |")
    lines.append("\nmsgs/s and MB/s: first record to last, timed inside the consumer. *msgs/s from open* counts "
                 "from just before the consumer is created (connecting, offsets, and whatever it prefetched "
                 "before handing over its first record).")
    lines.append("\nCPU s / 1M records counts the whole process, interpreter start-up included (about 0.3 s for "
                 "the Python clients): on small data it dominates; the first→last column does not include it.")
    notes = sorted({m["note"] for cfg in s.values() for m in cfg.values() if m.get("note")})
    for n in notes:
        lines.append(f"\n¹ kcat: {n} (Debian's kcat links librdkafka {_kcat_rdk(results)}).")
    return "\n".join(lines)


def _kcat_rdk(results: dict[str, Any]) -> str:
    return results.get("versions", {}).get("kcat", {}).get("librdkafka", "?")


def latency_table(results: dict[str, Any]) -> str:
    s = results["summary"].get("latency", {})
    labels = {k: v["label"] for k, v in results.get("live_contenders", {}).items()}
    lines = ["| consumer | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | adjacent floor: p50 / p99 ms "
             "| samples | runs |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for c in _ordered(s.keys(), LATENCY_ORDER):
        m = s[c]
        runs = f"{m['runs']}" + (f" ({m['errors']} failed)" if m["errors"] else "")
        paired = (f"{_fmt(m.get('floor_p50_ms'), '{:.2f}')} / {_fmt(m.get('floor_p99_ms'), '{:.2f}')}"
                  if c != "floor" else "(all segments)")
        lines.append(f"| {labels.get(c, c)} | {_fmt(m['p50_ms'], '{:.2f}')} | {_fmt(m['p90_ms'], '{:.2f}')} | "
                     f"{_fmt(m['p99_ms'], '{:.2f}')} | {_fmt(m['p999_ms'], '{:.2f}')} | "
                     f"{_fmt(m['max_ms'], '{:.1f}')} | {paired} | {m['samples']:,} | {runs} |")
    return "\n".join(lines)


def targets_table(results: dict[str, Any]) -> str:
    lines = ["| target | measured | | detail |", "|---|---:|---|---|"]
    for t in results["targets"]:
        verdict = "n/a" if t["pass"] is None else ("PASS" if t["pass"] else "**MISS**")
        lines.append(f"| {t['target']} | {_fmt(t['value'], t['format'])} | {verdict} | {t.get('detail', '')} |")
    return "\n".join(lines)


def rss_line(results: dict[str, Any]) -> str:
    rr = results["summary"].get("rss_ratio")
    if not rr:
        return ""
    return (f"kafkars peak RSS (tuned, data set {rr['dataset']}): {rr['rss_partial_mb']:.0f} MB after "
            f"{rr['partial_records']:,.0f} records, {rr['rss_full_mb']:.0f} MB after "
            f"{rr['full_records']:,.0f} records: ratio {rr['ratio']:.2f}.")


def markdown(results: dict[str, Any]) -> str:
    """The tables printed at the end of a run."""
    parts = []
    if results["mode"] != "full":
        parts.append(f"**{results['mode'].upper()} RUN: development numbers on small data, "
                     "not benchmark results.**\n")
    for ds in results["plan"]["datasets"]:
        if ds["key"] in results["summary"]["throughput"]:
            parts.append(f"### Throughput, data set ({ds['key']}): {ds['label']} "
                         f"(median of {results['plan']['rounds']})\n")
            parts.append(throughput_table(results, ds["key"]) + "\n")
    if results["summary"].get("rss_ratio"):
        parts.append(rss_line(results) + "\n")
    if results["summary"].get("latency"):
        p = results["plan"]
        parts.append(f"### Live latency, produce → row (median of {p['rounds']} runs of "
                     f"{p['live_seconds']:.0f} s at {p['live_rate']:,} msgs/s over {p['live_partitions']} partitions)\n")
        parts.append(latency_table(results) + "\n")
    load = results.get("load_average") or {}
    if load.get("start"):
        parts.append("Load average (1 min) at start, before throughput, after throughput, after latency: "
                     + ", ".join(f"{v[0]:.2f}" for v in load.values() if v)
                     + " (on " + str(results["machine"]["nproc"]) + " cores; a start value well above 0 "
                     "means other work shared the machine).\n")
    parts.append("### Targets\n")
    parts.append(targets_table(results) + "\n")
    return "\n".join(parts)


def chart(results: dict[str, Any], path: Path) -> None:
    """msgs/s per contender (both configurations, every data set) and the
    latency comparison, in one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tp = results["summary"]["throughput"]
    lat = results["summary"].get("latency", {})
    datasets = [d for d in results["plan"]["datasets"] if d["key"] in tp]
    panels = len(datasets) + (1 if lat else 0)
    if not panels:
        return
    fig, axes = plt.subplots(1, panels, figsize=(6.2 * panels, 5.2), squeeze=False)
    labels = _labels(results)
    colors = {"defaults": "#9ecae1", "tuned": "#2171b5"}
    for ax, ds in zip(axes[0], datasets):
        by_cfg = tp[ds["key"]]
        keys = _ordered({c for cfg in by_cfg.values() for c in cfg if c != "kafkars-partial"}, THROUGHPUT_ORDER)
        width = 0.38
        for i, cfg in enumerate(CONFIG_ORDER):
            vals = [(by_cfg.get(cfg, {}).get(c, {}).get("msgs_s") or 0) / 1e3 for c in keys]
            xs = [x + (i - 0.5) * width for x in range(len(keys))]
            bars = ax.bar(xs, vals, width, label=cfg, color=colors[cfg])
            ax.bar_label(bars, fmt="%.0f", fontsize=7, padding=1)
        ax.set_xticks(range(len(keys)), [labels.get(k, k).replace(" (", "\n(").replace(": ", ":\n") for k in keys],
                      fontsize=7, rotation=30, ha="right")
        ax.set_ylabel("thousand msgs/s (median)")
        ax.set_title(f"Throughput ({ds['key']}): {ds['label']}", fontsize=9)
        ax.legend(fontsize=8)
    if lat:
        ax = axes[0][-1]
        names = {k: v["label"] for k, v in results.get("live_contenders", {}).items()}
        keys = _ordered(lat.keys(), LATENCY_ORDER)
        width = 0.38
        for i, (q, color) in enumerate((("p50_ms", "#41ab5d"), ("p99_ms", "#006d2c"))):
            vals = [lat[k].get(q) or 0 for k in keys]
            xs = [x + (i - 0.5) * width for x in range(len(keys))]
            bars = ax.bar(xs, vals, width, label=q.replace("_ms", ""), color=color)
            ax.bar_label(bars, fmt="%.1f", fontsize=7, padding=1)
            # The floor that ran beside each contender, on the same producer run.
            paired = [(x, lat[k][f"floor_{q}"]) for x, k in zip(xs, keys) if lat[k].get(f"floor_{q}")]
            if paired:
                ax.scatter([x for x, _ in paired], [v for _, v in paired], marker="_", s=300, color="black",
                           zorder=3, label="adjacent floor" if i == 0 else None)
        ax.set_yscale("log")
        ax.set_xticks(range(len(keys)), [names.get(k, k).replace(" (", "\n(").replace(": ", ":\n") for k in keys],
                      fontsize=7, rotation=30, ha="right")
        ax.set_ylabel("ms, produce → row (median of runs, log scale)")
        p = results["plan"]
        ax.set_title(f"Live latency at {p['live_rate']:,} msgs/s, {p['live_partitions']} partitions", fontsize=9)
        ax.legend(fontsize=8)
    title = f"kafkars benchmark {results['id']}"
    if results["mode"] != "full":
        title += f" — {results['mode'].upper()} (dev numbers, small data)"
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def document(results: dict[str, Any], json_path: Path, png_path: Path, doc_path: Path) -> str:
    """docs/benchmarks.md: the whole story of one run, from its JSON."""
    m, v, p = results["machine"], results["versions"], results["plan"]
    rel = lambda target: os.path.relpath(target, doc_path.parent)  # noqa: E731
    ckp = v.get("confluent_kafka_python", {})
    ckg = v.get("confluent_kafka_go", {})
    lines = [
        "# Benchmarks",
        "",
        f"<!-- Generated by bench/report.py from {os.path.relpath(json_path, REPO)}; do not edit by hand:",
        "     run `bash bench/run.sh` (or `.venv/bin/python -m bench.report <json> --docs`). -->",
        "",
    ]
    if results["mode"] != "full":
        lines += [f"> **{results['mode'].upper()} RUN**: small data for development; these numbers are "
                  "not benchmark results.", ""]
    lines += [
        f"Run `{results['id']}` on {results['started']} took {results['duration_s'] / 60:.0f} min. Command:",
        "",
        "```bash",
        results["command"].strip(),
        "```",
        "",
        "## Machine and versions",
        "",
        f"- {m['nproc']} cores ({m['cpu_model']}), {m['memory_gb']} GB memory, {m['os']}, Linux {m['kernel']}. "
        "Broker and clients share these cores.",
        f"- Broker: {v.get('kafka_broker')}, {p['broker_heap']} heap; {v.get('java')}.",
        f"- kafkars {v['kafkars']['version']} (commit {v['kafkars']['commit']}), librdkafka "
        f"{v['kafkars']['librdkafka']}; pyarrow {v.get('pyarrow')}; Python {v.get('python')}; {v.get('go')}.",
        f"- confluent-kafka-python {ckp.get('version')} (its bundled librdkafka {ckp.get('librdkafka')}).",
        f"- confluent-kafka-go {ckg.get('version')}, {ckg.get('note', '')} ({ckg.get('librdkafka')}).",
    ]
    if "rust_kafkars" in v:
        lines.append(f"- Rust kafkars {v['rust_kafkars']['version']} from PyPI, in its own venv.")
    if "kcat" in v:
        lines.append(f"- kcat {v['kcat'].get('version')} (Debian package, librdkafka {v['kcat'].get('librdkafka')}).")
    lines += [
        "",
        "## Method",
        "",
        "- One local single-node Kafka broker started by the run; the data is produced once "
        "(`kafkatool gen`: keys `SYM-000000`…`SYM-009999`, fixed-size values, round-robin over "
        "8 partitions, timestamps 1 ms apart per partition):",
    ]
    for ds in p["datasets"]:
        extra = f" (produced in {ds['produce_seconds']:.0f} s)" if "produce_seconds" in ds else ""
        lines.append(f"  - ({ds['key']}) `{ds['topic']}`: {ds['label']}{extra}.")
    lines += [
        "  The data sets are totals over 8 partitions (5 M and 500 k records), "
        "which keeps a full run near an hour on 2 cores. `--records-a`/`--records-b` set other sizes "
        "(`--records-a 40000000` for 5 M per partition).",
        f"- Every contender is a separate child process reading the topic from its beginning to its end. "
        f"Contenders alternate: each round runs all of them once per data set and configuration, the order "
        f"rotating between rounds; tables show the **median of {p['rounds']} rounds**.",
        "- Configurations: **defaults** gives only `bootstrap.servers` (what a user gets); **tuned** adds "
        "`fetch.queue.backoff.ms=0` for everyone (kcat's librdkafka does not know it: it runs with its defaults).",
        "- msgs/s and MB/s (10^6 bytes of keys + values) run from the first record to the last, measured inside "
        "the consumer (kcat: process wall time, start-up included). Records a consumer prefetched before it "
        "handed over its first one fall outside that window, so *msgs/s from open* (from just before the "
        "consumer is created to the last record) is shown too; on small data the two differ most.",
        "- CPU s / 1M records: user + sys of the whole consumer process (start-up included) from `wait4`; "
        "the *first→last* column counts only CPU between the first and the last record (getrusage inside).",
        "- Peak RSS: GNU `time -f %M` around the child (ru_maxrss survives exec, so the harness's own RSS would "
        "leak into a child it forked directly). MB = 10^6 bytes.",
        f"- kafkars RSS ratio: a kafkars run that stops after a fifth of data set (a) vs a full one (tuned).",
        f"- Live latency: `bench/cmd/bench-producer` sends {p['live_rate']:,} msgs/s round-robin over "
        f"{p['live_partitions']} partitions (producer `linger.ms={p.get('live_producer_linger_ms', 0)}`), writing the wall-clock send time into each "
        "value; a consumer's latency is wall clock when the row is in the caller's hands minus that time. "
        f"Each consumer runs for {p['live_seconds']:.0f} s per round (the first "
        f"{p['live_skip_seconds']:.0f} s are left out) after a {p['live_warmup_seconds']:.0f} s broker warm-up, "
        "alone, in a segment adjacent to one of the **floor** (a minimal Go/cgo consumer woken by the consumer "
        "queue's IO event fd) fed by the same producer at the same rate; which goes first alternates. The "
        "targets compare each consumer with its adjacent floor (median over rounds), since the p99 of a shared "
        "machine moves from run to run. Consumers do not run side by side: two consumers, the producer "
        "(one request per record) and the broker saturate the 2 cores, and queueing then dominates.",
        "",
        "Contenders:",
        "",
    ]
    for key in _ordered(results.get("contenders", {}).keys(), THROUGHPUT_ORDER):
        c = results["contenders"][key]
        lines.append(f"- **{c['label']}**: {c['description']}.")
    for key in _ordered(results.get("live_contenders", {}).keys(), LATENCY_ORDER):
        c = results["live_contenders"][key]
        lines.append(f"- live, **{c['label']}**: {c['description']}.")
    if results.get("skipped"):
        lines += ["", "Skipped in this run: " + "; ".join(f"{k} ({why})" for k, why in results["skipped"].items()) + "."]
    lines += ["", "## Results", "", markdown(results), "",
              f"![msgs/s per contender and live latency]({rel(png_path)})", "",
              f"Raw numbers, every run: [`{os.path.relpath(json_path, REPO)}`]({rel(json_path)}).", ""]
    notes = REPO / "bench" / "NOTES.md"
    if notes.exists():  # the analysis, written by hand, kept across runs
        lines += ["", notes.read_text().rstrip(), ""]
    return "\n".join(lines)


#: Where the sections of the other benchmarks start (bench/typed.py,
#: bench/produce.py, bench/dask_scaling.py, bench/groups.py): everything
#: from this line on is kept when the page is regenerated.
OTHERS = "<!-- the other benchmarks: kept when bench/report.py regenerates this page -->"


def keep_others(text: str, doc: Path) -> str:
    """The page with the sections of the other benchmarks kept: they come
    from other runs and are not redone here."""
    old = doc.read_text() if doc.exists() else ""
    if OTHERS not in old or OTHERS in text:
        return text
    return text.rstrip("\n") + "\n\n" + old[old.index(OTHERS):].rstrip("\n") + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", type=Path)
    ap.add_argument("--docs", action="store_true", help="also write docs/benchmarks.md")
    args = ap.parse_args()
    results = json.loads(args.results.read_text())
    results["summary"] = summarize(results)
    results["targets"] = evaluate_targets(results)
    png = args.results.with_suffix(".png")
    chart(results, png)
    print(markdown(results))
    if args.docs:
        doc = REPO / "docs" / "benchmarks.md"
        doc.write_text(keep_others(document(results, args.results.resolve(), png.resolve(), doc), doc))
        print(f"wrote {doc}")


if __name__ == "__main__":
    main()
