"""Who is measured, and how each one is started.

Every contender is a separate child process that reads a whole topic from
its beginning to its end (throughput) or tails it (latency). The harness
adds ``-X key=value`` for the configuration under test: ``defaults`` gives
only ``bootstrap.servers`` (what a user gets), ``tuned`` adds
``fetch.queue.backoff.ms=0`` for everyone (librdkafka >= 2.4 idles a
fast consumer for 1 s per fetch otherwise).
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
BIN = REPO / "build" / "bin"
CLIENTS = REPO / "bench" / "clients"
RUST_VENV = REPO / "bench" / ".venv-rust-kafkars"

#: Configurations under test: extra librdkafka properties for every contender.
CONFIGS: dict[str, dict[str, str]] = {
    "defaults": {},
    "tuned": {"fetch.queue.backoff.ms": "0"},
}


@dataclass(frozen=True)
class Contender:
    key: str
    label: str
    description: str
    #: argv for (bootstrap, topic, librdkafka properties); throughput mode
    argv: Callable[[str, str, dict[str, str]], list[str]]
    #: "inside": first-to-last record timed by the consumer itself;
    #: "process": only the process's wall time is known (kcat)
    timing: str = "inside"
    #: properties it cannot take; it then runs with its defaults and says so
    unsupported: frozenset[str] = field(default_factory=frozenset)
    available: Callable[[], str | None] = lambda: None  # None, or why not


def _x(props: dict[str, str]) -> list[str]:
    out: list[str] = []
    for k, v in props.items():
        out += ["-X", f"{k}={v}"]
    return out


def project_python() -> str:
    return sys.executable


def rust_python() -> str:
    return str(RUST_VENV / "bin" / "python")


def _need(path: Path, hint: str) -> Callable[[], str | None]:
    return lambda: None if path.exists() else f"{path} missing ({hint})"


def _kcat_missing() -> str | None:
    return None if shutil.which("kcat") else "kcat not on PATH (apt-get install -y kcat)"


THROUGHPUT: list[Contender] = [
    Contender(
        "kafkars", "kafkars",
        "this project: ConsumerManager(...).poll() until is_live(), batch_size 10 000, "
        "each batch touched (sum of key and value lengths with pyarrow.compute); rows time-ordered",
        lambda b, t, p: [project_python(), str(CLIENTS / "kafkars_client.py"), "throughput",
                         "-b", b, "-t", t, *_x(p)],
    ),
    Contender(
        "kafkars-view", "kafkars, binary_view=True",
        "the same with binary_view=True: key and value are binary_view columns pointing into "
        "kafkars' buffers, not copies (touched through the views' lengths: pyarrow.compute has no "
        "binary_length for them)",
        lambda b, t, p: [project_python(), str(CLIENTS / "kafkars_client.py"), "throughput",
                         "-b", b, "-t", t, "--binary-view", *_x(p)],
    ),
    Contender(
        "confluent-python", "confluent-kafka-python + pyarrow",
        "consume(num_messages=10000), a pyarrow RecordBatch of the same schema built from each "
        "batch of messages and touched the same way; rows not reordered",
        lambda b, t, p: [project_python(), str(CLIENTS / "confluent_client.py"), "throughput",
                         "-b", b, "-t", t, *_x(p)],
    ),
    Contender(
        "rust-kafkars", "kafkars 0.0.8 (Rust, PyPI)",
        "ConsumerManager(config, topics, batch_size=10000).poll(1000) until is_live(), "
        "touched the same way; its own venv (bench/.venv-rust-kafkars)",
        lambda b, t, p: [rust_python(), str(CLIENTS / "kafkars_client.py"), "throughput",
                         "-b", b, "-t", t, *_x(p)],
        available=_need(RUST_VENV / "bin" / "python", "bench/run.sh creates it"),
    ),
    Contender(
        "rust-kafkars-100k", "kafkars 0.0.8 (Rust), batch_size=100000",
        "the same with batch_size=100000: the Rust kafkars returns batches of about 30 rows with "
        "batch_size=10000 after the first few and is several times faster with a larger one; shown "
        "so that the comparison is against its best setting too",
        lambda b, t, p: [rust_python(), str(CLIENTS / "kafkars_client.py"), "throughput",
                         "-b", b, "-t", t, "--batch-size", "100000", *_x(p)],
        available=_need(RUST_VENV / "bin" / "python", "bench/run.sh creates it"),
    ),
    Contender(
        "batch-ceiling", "ceiling: librdkafka batch API (Go/cgo)",
        "bench/cmd/bench-batch: rd_kafka_consume_batch_queue, batches of 10 000, one cgo call per batch, "
        "discard; same librdkafka.so.1 as kafkars",
        lambda b, t, p: [str(BIN / "bench-batch"), "-b", b, "-t", t, *_x(p)],
        available=_need(BIN / "bench-batch", "./build.sh tools"),
    ),
    Contender(
        "go-poll", "confluent-kafka-go Poll()",
        "bench/cmd/bench-poll: confluent-kafka-go Consumer.Poll(), one message per call, discard",
        lambda b, t, p: [str(BIN / "bench-poll"), "-b", b, "-t", t, *_x(p)],
        available=_need(BIN / "bench-poll", "./build.sh tools"),
    ),
    Contender(
        "kcat", "kcat -C -e -q",
        "kcat -C -e -q -o beginning > /dev/null (Debian's kcat; its own, older librdkafka); "
        "timed by process wall time, start-up included",
        lambda b, t, p: ["kcat", "-C", "-b", b, "-t", t, "-e", "-q", "-o", "beginning", *_x(p)],
        timing="process",
        # Debian's kcat links librdkafka 2.0.x, which has no such property.
        unsupported=frozenset({"fetch.queue.backoff.ms"}),
        available=_kcat_missing,
    ),
]


@dataclass(frozen=True)
class LiveContender:
    key: str
    label: str
    description: str
    #: argv for (bootstrap, topic, skip)
    argv: Callable[[str, str, int], list[str]]
    linger_ms: int | None = None
    available: Callable[[], str | None] = lambda: None


LATENCY: list[LiveContender] = [
    LiveContender(
        "floor", "floor: librdkafka IO event fd (Go/cgo)",
        "bench/cmd/bench-floor: rd_kafka_queue_io_event_enable on a pipe, poll(2), drain with "
        "rd_kafka_consume_batch_queue(timeout 0)",
        lambda b, t, s: [str(BIN / "bench-floor"), "-b", b, "-t", t, "-skip", str(s)],
        available=_need(BIN / "bench-floor", "./build.sh tools"),
    ),
    LiveContender(
        "kafkars", "kafkars (linger_ms=5, default)",
        "ConsumerManager(..., from_latest).poll(timeout_ms=100), default linger_ms",
        lambda b, t, s: [project_python(), str(CLIENTS / "kafkars_client.py"), "latency",
                         "-b", b, "-t", t, "--skip", str(s)],
        linger_ms=5,
    ),
    LiveContender(
        "kafkars-linger0", "kafkars (linger_ms=0)",
        "ConsumerManager(..., from_latest, linger_ms=0).poll(timeout_ms=100)",
        lambda b, t, s: [project_python(), str(CLIENTS / "kafkars_client.py"), "latency",
                         "-b", b, "-t", t, "--skip", str(s), "--linger-ms", "0"],
        linger_ms=0,
    ),
    LiveContender(
        "rust-kafkars", "kafkars 0.0.8 (Rust, PyPI)",
        "ConsumerManager(..., from_latest).poll(timeout_ms=100)",
        lambda b, t, s: [rust_python(), str(CLIENTS / "kafkars_client.py"), "latency",
                         "-b", b, "-t", t, "--skip", str(s)],
        available=_need(RUST_VENV / "bin" / "python", "bench/run.sh creates it"),
    ),
    LiveContender(
        "confluent-python", "confluent-kafka-python poll()",
        "Consumer.poll(0.1), one message per call (the low-latency idiom)",
        lambda b, t, s: [project_python(), str(CLIENTS / "confluent_client.py"), "latency",
                         "-b", b, "-t", t, "--skip", str(s)],
    ),
]
