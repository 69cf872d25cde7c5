"""The kafkars command line, run as a real subprocess."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from devtools.kafkatool import KafkaTool, Record

pytestmark = pytest.mark.broker

BASE = int(time.time() * 1000) - 86_400_000


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "kafkars", *args], capture_output=True, timeout=timeout)


@pytest.fixture
def two_topics(tool: KafkaTool, topic_name: str) -> tuple[str, str]:
    a, b = topic_name + "-a", topic_name + "-b"
    tool.create_topic(a, 2)
    tool.create_topic(b, 1)
    tool.produce([Record(a, key=b"a", value=f"a{i}".encode(), partition=i % 2, ts=BASE + 2 * i) for i in range(1000)]
                 + [Record(b, key=b"b", value=f"b{i}".encode(), partition=0, ts=BASE + 2 * i + 1) for i in range(500)])
    return a, b


def test_replay_to_parquet_and_arrow(kafka, two_topics: tuple[str, str], tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, b = two_topics
    out = tmp_path / "out.parquet"
    r = run("replay", "-b", kafka.bootstrap, "-t", a, "-t", f"{b}:earliest", "-o", str(out))
    assert r.returncode == 0, r.stderr.decode()
    assert b"replayed 1,500 records from 2 topic(s), 3 partition(s)" in r.stderr
    t = pq.read_table(out)
    assert t.num_rows == 1500
    ts = t.column("timestamp").to_pylist()
    assert ts == sorted(ts)
    out2 = tmp_path / "out.arrow"
    r = run("replay", "-b", kafka.bootstrap, "-t", a, "--until", str(BASE + 200), "-o", str(out2), "-q")
    assert r.returncode == 0 and r.stderr == b""
    with pa.ipc.open_file(out2) as f:
        assert f.read_all().num_rows == 100


def test_replay_to_stdout(kafka, two_topics: tuple[str, str]) -> None:  # type: ignore[no-untyped-def]
    a, _ = two_topics
    r = run("replay", "-b", kafka.bootstrap, "-t", a, "-o", "-")
    assert r.returncode == 0, r.stderr.decode()
    assert pa.ipc.open_stream(r.stdout).read_all().num_rows == 1000


def test_state(kafka, two_topics: tuple[str, str]) -> None:  # type: ignore[no-untyped-def]
    a, b = two_topics
    r = run("state", "-b", kafka.bootstrap, "-t", a, "-t", f"{b}:latest")
    assert r.returncode == 0, r.stderr.decode()
    lines = r.stdout.decode().splitlines()
    assert lines[0].split()[:4] == ["topic", "part", "start", "end"]
    assert len(lines) == 4
    assert lines[3].split()[2:4] == ["500", "500"]  # latest: start = end


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["replay", "-b", "BOOT", "-t", "no-such-topic-xyz"], 1, b"topic \"no-such-topic-xyz\" does not exist"),
        (["replay", "-b", "BOOT", "-t", "x:relative_time:soon"], 1, b"bad duration 'soon'"),
        (["replay", "-b", "BOOT", "-t", "x", "-o", "out.csv"], 1, b"--output 'out.csv'"),
        (["replay", "-b", "BOOT", "-t", "x", "-X", "no.such.prop=1"], 1, b"no.such.prop"),
        (["replay", "-t", "x"], 2, b"required: -b/--bootstrap-servers"),
        (["replay", "-b", "127.0.0.1:1", "-t", "x", "--startup-timeout-ms", "1000"], 1, b"cannot reach Kafka at bootstrap.servers=\"127.0.0.1:1\""),
    ],
)
def test_errors(kafka, args: list[str], code: int, needle: bytes) -> None:  # type: ignore[no-untyped-def]
    r = run(*[kafka.bootstrap if a == "BOOT" else a for a in args])
    assert r.returncode == code, r.stderr.decode()
    assert needle in r.stderr, r.stderr.decode()
    if code == 1:
        assert len(r.stderr.decode().strip().splitlines()) == 1, "errors are one line"


def test_replay_with_a_group(kafka, two_topics: tuple[str, str], topic_name: str) -> None:  # type: ignore[no-untyped-def]
    """--from-committed --commit: a replay resumes where the last one's
    written batches ended; `kafkars lag` shows the group's offsets."""
    a, _ = two_topics
    group = f"cli-{topic_name}"
    r = run("lag", "-b", kafka.bootstrap, "-t", a, "--group", group)
    assert r.returncode == 0, r.stderr.decode()
    assert b"2 partition(s) with no committed offset" in r.stdout
    first = run("replay", "-b", kafka.bootstrap, "-t", a, "--group", group, "--from-committed", "--commit",
                "--until", str(BASE + 600), "--batch-size", "100", "-o", "-")
    assert first.returncode == 0, first.stderr.decode()
    t1 = pa.ipc.open_stream(first.stdout).read_all()
    assert t1.num_rows == 300
    r = run("lag", "-b", kafka.bootstrap, "-t", a, "--group", group, "--json")
    assert r.returncode == 0, r.stderr.decode()
    import json

    lag = {x["partition"]: x for x in json.loads(r.stdout)}
    assert [lag[p]["committed_offset"] for p in (0, 1)] == [150, 150]
    assert sum(x["lag"] for x in lag.values()) == 700
    second = run("replay", "-b", kafka.bootstrap, "-t", a, "--group", group, "--from-committed", "--commit", "-o", "-")
    assert second.returncode == 0, second.stderr.decode()
    t2 = pa.ipc.open_stream(second.stdout).read_all()
    assert t2.num_rows == 700
    assert set(t1.column("value").to_pylist()).isdisjoint(t2.column("value").to_pylist())
    r = run("replay", "-b", kafka.bootstrap, "-t", a, "--commit")
    assert r.returncode == 1 and b"need --group" in r.stderr
