"""Unit tests of bench/report.py on a synthetic results file (no broker).

    .venv/bin/python -m pytest bench/tests -q
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from bench import report


def _tp(rnd: int, ds: str, cfg: str, c: str, msgs_s: float, cpu: float = 1.0, rss: float = 100.0,
        **extra: object) -> dict:
    records = 1_000_000
    return {"phase": "throughput", "round": rnd, "dataset": ds, "config": cfg, "contender": c, "exit": 0,
            "records": records, "bytes": records * 110, "elapsed_s": records / msgs_s, "msgs_s": msgs_s,
            "mb_s": msgs_s * 110 / 1e6, "cpu_s": cpu, "cpu_per_m": cpu, "cpu_window_per_m": cpu * 0.8,
            "rss_mb": rss, "wall_s": 1.0, "timing": "inside", **extra}


def _lat(rnd: int, c: str, p50: float, p99: float, floor: tuple[float, float] | None = None, **extra: object) -> dict:
    row = {"phase": "latency", "round": rnd, "contender": c, "samples": 1000, "records": 1000,
           "p50_ms": p50, "p90_ms": p50 * 2, "p99_ms": p99, "p999_ms": p99 * 1.2, "max_ms": p99 * 2,
           "producer": {"produced": 1000}, **extra}
    if floor:
        row["floor"] = {"p50_ms": floor[0], "p99_ms": floor[1], "samples": 1000}
    return row


@pytest.fixture()
def results() -> dict:
    runs = []
    for rnd in range(3):
        for cfg, f in (("defaults", 0.95), ("tuned", 1.0)):
            runs += [
                _tp(rnd, "a", cfg, "kafkars", f * (1_500_000 + rnd * 10_000), cpu=0.9, rss=150 + rnd),
                _tp(rnd, "a", cfg, "batch-ceiling", 1_800_000),
                _tp(rnd, "a", cfg, "confluent-python", 500_000),
                _tp(rnd, "a", cfg, "rust-kafkars", 100_000),
            ]
        runs.append(_tp(rnd, "a", "tuned", "kafkars-partial", 1_400_000, rss=140, max_records=200_000))
    runs.append(_tp(0, "a", "tuned", "go-poll", 1, error="boom"))
    lat = []
    for rnd in range(3):
        lat += [_lat(rnd, "floor", 1.0, 20.0, paired_with="kafkars"),
                _lat(rnd, "kafkars", 6.5, 28.0, floor=(1.0, 20.0), linger_ms=5),
                _lat(rnd, "kafkars-linger0", 1.5, 40.0, floor=(1.0, 20.0), linger_ms=0)]
    return {
        "schema": 1, "id": "test", "mode": "full", "started": "2026-01-01T00:00:00+00:00", "duration_s": 60.0,
        "command": "bash bench/run.sh", "machine": {"nproc": 2, "cpu_model": "x", "memory_gb": 1.0,
                                                    "kernel": "k", "os": "o"},
        "versions": {"kafkars": {"version": "0.1.0", "commit": "abc", "librdkafka": "2.15.1"},
                     "kcat": {"version": "1.7.1", "librdkafka": "2.0.2"}},
        "plan": {"rounds": 3, "live_rate": 5000, "live_partitions": 8, "live_seconds": 15.0,
                 "live_skip_seconds": 2.0, "live_warmup_seconds": 30.0, "broker_heap": "2g",
                 "datasets": [{"key": "a", "topic": "t", "label": "1,000,000 records", "records": 1_000_000}]},
        "contenders": {"kafkars": {"label": "kafkars", "description": "d", "timing": "inside"}},
        "live_contenders": {"floor": {"label": "floor", "description": "d", "linger_ms": None}},
        "load_average": {"start": [0.1, 0.1, 0.1]},
        "runs": runs, "latency_runs": lat,
    }


def _targets(results: dict) -> dict[str, dict]:
    results["summary"] = report.summarize(results)
    results["targets"] = report.evaluate_targets(results)
    return {t["target"]: t for t in results["targets"]}


def test_medians_and_failed_runs(results: dict) -> None:
    s = report.summarize(results)["throughput"]["a"]
    assert s["tuned"]["kafkars"]["msgs_s"] == 1_510_000
    assert s["tuned"]["kafkars"]["rss_max_mb"] == 152
    assert s["tuned"]["go-poll"]["runs"] == 0 and s["tuned"]["go-poll"]["errors"] == 1
    assert s["tuned"]["go-poll"]["msgs_s"] is None


def test_targets_pass_and_miss(results: dict) -> None:
    t = _targets(results)
    assert t["[a] kafkars tuned >= 70% of the batch-API ceiling"]["pass"] is True
    assert t["[a] kafkars tuned >= 2x confluent-kafka-python + pyarrow"]["pass"] is True
    assert t["[a] kafkars tuned >= 10x Rust kafkars 0.0.8"]["pass"] is True
    assert t["[a] kafkars client CPU <= 1.2 s per million records (tuned)"]["pass"] is True
    assert t["[a] kafkars defaults within 10% of tuned (msgs/s ratio)"]["pass"] is True
    ratio = t["kafkars RSS(all of (a)) / RSS(a fifth of (a)) <= 1.2"]
    assert ratio["value"] == pytest.approx(151 / 140) and ratio["pass"] is True
    assert t["live p50, linger_ms=5: <= floor p50 + 5 + 1 ms"]["pass"] is True  # 6.5 <= 1 + 5 + 1
    assert t["live p50, linger_ms=0: <= floor p50 + 0 + 1 ms"]["pass"] is True
    assert t["live p99, linger_ms=0: <= 1.5x floor p99"]["pass"] is False  # 40 > 30
    assert t["live p99, linger_ms=5: <= 1.5x floor p99 + 5 ms"]["pass"] is True  # 28 <= 35


def test_missing_contender_is_not_a_pass(results: dict) -> None:
    results["runs"] = [r for r in results["runs"] if r["contender"] != "rust-kafkars"]
    t = _targets(results)
    assert t["[a] kafkars tuned >= 10x Rust kafkars 0.0.8"]["pass"] is None


def test_rendering(results: dict, tmp_path: Path) -> None:
    _targets(results)
    md = report.markdown(results)
    assert "| kafkars | tuned | 1,510,000 |" in md
    assert "**MISS**" in md and "PASS" in md
    doc = report.document(results, tmp_path / "r.json", tmp_path / "r.png", tmp_path / "benchmarks.md")
    assert "bash bench/run.sh" in doc and "median of 3 rounds" in doc
    quick = copy.deepcopy(results)
    quick["mode"] = "quick"
    assert "QUICK RUN" in report.markdown(quick)
    json.dumps(results)  # results stay serialisable


def test_chart(results: dict, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    _targets(results)
    report.chart(results, tmp_path / "c.png")
    assert (tmp_path / "c.png").stat().st_size > 10_000
