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


#: Bad arguments exit 2 with one line on stderr, before any connection (the
#: address 127.0.0.1:1 refuses, which would be exit 1).
BAD_ARGUMENTS = {
    "topic: bad duration": (["replay", "-t", "x:relative_time:soon"], b"bad duration 'soon'"),
    "topic: unknown policy": (["replay", "-t", "x:sometimes"], b"unknown policy 'sometimes'"),
    "topic: empty name": (["state", "-t", ":earliest"], b"bad topic ':earliest': empty name"),
    "topic: missing argument": (["replay", "-t", "x:absolute_time"], b"needs an argument"),
    "topic: bad time": (["replay", "-t", "x:absolute_time:yesterday-ish"], b"bad time 'yesterday-ish'"),
    "--until: bad time": (["replay", "-t", "x", "--until", "tomorrow-ish"], b"bad time 'tomorrow-ish'"),
    "-X without =": (["replay", "-t", "x", "-X", "fetch.wait.max.ms"], b"bad -X 'fetch.wait.max.ms'"),
    "-X unknown property": (["replay", "-t", "x", "-X", "no.such.prop=1"], b"no.such.prop"),
    "-X invalid value": (["state", "-t", "x", "-X", "fetch.wait.max.ms=soon"], b"fetch.wait.max.ms"),
    "--output extension": (["replay", "-t", "x", "-o", "out.csv"], b"--output 'out.csv'"),
    "--batch-size 0": (["replay", "-t", "x", "--batch-size", "0"], b"batch_size"),
    "--batch-size not a number": (["replay", "-t", "x", "--batch-size", "many"], b"invalid int value: 'many'"),
    "missing -t": (["replay"], b"the following arguments are required: -t/--topic"),
}


@pytest.mark.parametrize("case", list(BAD_ARGUMENTS), ids=list(BAD_ARGUMENTS))
def test_bad_arguments_exit_2(case: str) -> None:
    args, needle = BAD_ARGUMENTS[case]
    r = run(*args[:1], "-b", "127.0.0.1:1", *args[1:], timeout=60)
    err = r.stderr.decode()
    assert r.returncode == 2, (r.returncode, err)
    assert needle.decode() in err, err
    assert len(err.strip().splitlines()) == 1, f"not one line: {err!r}"
    assert r.stdout == b""


def test_missing_bootstrap_exits_2() -> None:
    r = run("replay", "-t", "x")
    err = r.stderr.decode()
    assert r.returncode == 2, err
    assert "required: -b/--bootstrap-servers" in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["replay", "-b", "BOOT", "-t", "no-such-topic-xyz"], b"topic \"no-such-topic-xyz\" does not exist"),
        (["state", "-b", "BOOT", "-t", "no-such-topic-xyz"], b"topic \"no-such-topic-xyz\" does not exist"),
        (["replay", "-b", "127.0.0.1:1", "-t", "x", "--startup-timeout-ms", "1000"], b"cannot reach Kafka at bootstrap.servers=\"127.0.0.1:1\""),
    ],
)
def test_runtime_errors_exit_1(kafka, args: list[str], needle: bytes) -> None:  # type: ignore[no-untyped-def]
    r = run(*[kafka.bootstrap if a == "BOOT" else a for a in args])
    assert r.returncode == 1, r.stderr.decode()
    assert needle in r.stderr, r.stderr.decode()
    assert len(r.stderr.decode().strip().splitlines()) == 1, "errors are one line"


def test_replay_keeps_headers(kafka, tool: KafkaTool, topic_name: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Headers reach the file by default (list layout, or a map with
    --headers-layout map); --no-headers leaves them out."""
    tool.create_topic(topic_name, 1)
    tool.produce([Record(topic_name, b"v", ts=BASE, headers=(("trace", b"t-1"),)), Record(topic_name, b"w", ts=BASE + 1)])
    out = tmp_path / "h.parquet"
    assert run("replay", "-b", kafka.bootstrap, "-t", topic_name, "-o", str(out), "-q").returncode == 0
    assert pq.read_table(out).column("headers").to_pylist() == [[{"key": "trace", "value": b"t-1"}], []]
    assert run("replay", "-b", kafka.bootstrap, "-t", topic_name, "-o", str(out), "-q", "--headers-layout", "map").returncode == 0
    assert pq.read_table(out).column("headers").to_pylist() == [[("trace", b"t-1")], []]
    assert run("replay", "-b", kafka.bootstrap, "-t", topic_name, "-o", str(out), "-q", "--no-headers").returncode == 0
    assert "headers" not in pq.read_table(out).schema.names



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
    assert r.returncode == 2 and b"need --group" in r.stderr  # a bad argument
