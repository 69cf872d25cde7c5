"""Producing Arrow data on the real broker: round trips replayed with
kafkars.read_topics (bytes, timestamps, headers, partitions), typed columns
as JSON, inputs from polars and DuckDB, failures that name their row, the
dead-letter pattern and the CLI."""

from __future__ import annotations

import subprocess
import sys
import time

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import kafkars
from kafkars import ConfigError, Json, ProduceError, SourceTopic, TopicNotFoundError
from devtools.kafkatool import KafkaTool

pytestmark = pytest.mark.broker

HEADERS = pa.list_(pa.struct([("key", pa.string()), ("value", pa.binary())]))
T0 = int(time.time() * 1000) - 3_600_000  # an hour ago


def sample(n: int, parts: int | None = None) -> pa.Table:
    """Keys and values with nulls and empties, distinct increasing
    timestamps, headers with a null value and repeated names."""
    keys, values, hdrs = [], [], []
    for i in range(n):
        keys.append(None if i % 7 == 3 else (b"" if i % 7 == 4 else f"k{i % 13}".encode()))
        values.append(None if i % 5 == 1 else (b"" if i % 5 == 2 else bytes([i % 256]) * (i % 40 + 1)))
        if i % 4 == 0:
            hdrs.append([])
        elif i % 4 == 1:
            hdrs.append([("a", b"1"), ("a", b"2"), ("n", None)])
        elif i % 4 == 2:
            hdrs.append(None)
        else:
            hdrs.append([("trace", f"t{i}".encode())])
    cols = {
        "key": pa.array(keys, pa.binary()),
        "value": pa.array(values, pa.binary()),
        "ts": pa.array([T0 + 3 * i for i in range(n)], pa.timestamp("ms", tz="UTC")),
        "headers": pa.array(hdrs, HEADERS),
    }
    if parts:
        cols["p"] = pa.array([i % parts for i in range(n)], pa.int32())
    return pa.table(cols)


def replay(config: dict[str, str], topic: str, **kw: object) -> pa.Table:
    return kafkars.read_topics(config, [SourceTopic.from_earliest(topic)], include_headers=True, **kw)


def norm_headers(h: list | None) -> list:
    return [(e["key"], e["value"]) for e in (h or [])]


def test_round_trip_bytes_timestamps_headers_partitions(config: dict[str, str], tool: KafkaTool, topic_name: str) -> None:
    tool.create_topic(topic_name, 3)
    src = sample(500, parts=3)
    res = kafkars.produce(config, topic_name, src, key="key", value="value", timestamp="ts", partition="p", headers="headers")
    assert res.records == 500 and res.rows == 500 and res.failed == 0 and res.not_sent == 0
    assert {p: c.records for p, c in res.partitions.items()} == {0: 167, 1: 167, 2: 166}
    assert all(c.first_offset == 0 and c.last_offset == c.records - 1 for c in res.partitions.values())
    assert res.bytes == sum(len(v or b"") for v in src["key"].to_pylist()) + sum(len(v or b"") for v in src["value"].to_pylist())

    got = replay(config, topic_name)
    assert got.num_rows == 500
    # replayed in timestamp order, which is the input's order
    assert got["key"].to_pylist() == src["key"].to_pylist()
    assert got["value"].to_pylist() == src["value"].to_pylist()
    assert pc.cast(got["timestamp"], pa.int64()).to_pylist() == pc.cast(src["ts"], pa.int64()).to_pylist()
    assert got["partition"].to_pylist() == src["p"].to_pylist()
    assert [norm_headers(h) for h in got["headers"].to_pylist()] == [norm_headers(h) for h in src["headers"].to_pylist()]


def test_round_trip_of_one_large_batch(config: dict[str, str], tool: KafkaTool, topic_name: str) -> None:
    # One record batch of 40 000 rows is handed over in zero-copy slices:
    # keys, values, timestamps, partitions and headers read at the slices' offsets.
    tool.create_topic(topic_name, 3)
    src = sample(40_000, parts=3)
    assert src["headers"].num_chunks == 1 and src["value"].num_chunks == 1
    res = kafkars.produce(config, topic_name, src, key="key", value="value", timestamp="ts", partition="p", headers="headers")
    assert res.records == 40_000 and res.failed == 0
    got = replay(config, topic_name)
    assert got["key"].to_pylist() == src["key"].to_pylist()
    assert got["value"].to_pylist() == src["value"].to_pylist()
    assert pc.cast(got["timestamp"], pa.int64()).to_pylist() == pc.cast(src["ts"], pa.int64()).to_pylist()
    assert got["partition"].to_pylist() == src["p"].to_pylist()
    assert [norm_headers(h) for h in got["headers"].to_pylist()] == [norm_headers(h) for h in src["headers"].to_pylist()]


def test_defaults_and_other_layouts(config: dict[str, str], tool: KafkaTool, topic_name: str) -> None:
    """string columns, int64 ms and microsecond timestamps, map headers,
    large types, a sliced input, several batches, no key column."""
    tool.create_topic(topic_name, 1)
    n = 300
    t = pa.table({
        "value": pa.array([None if i == 5 else f"v{i}" for i in range(n)], pa.large_string()),
        "k": pa.array([f"key{i}" for i in range(n)], pa.string()),
        "ms": pa.array([T0 + i for i in range(n)], pa.int64()),
        "us": pa.array([(T0 + i) * 1000 + 999 for i in range(n)], pa.timestamp("us")),
        "h": pa.array([[("x", f"{i}".encode())] if i % 2 else [] for i in range(n)], pa.map_(pa.string(), pa.binary())),
    })
    data = pa.Table.from_batches(t.slice(10).to_batches(max_chunksize=37))
    res = kafkars.produce(config, topic_name, data, key="k", timestamp="us", headers="h")
    assert res.records == n - 10
    got = replay(config, topic_name)
    want = t.slice(10)
    assert got["key"].to_pylist() == [s.encode() for s in want["k"].to_pylist()]
    assert got["value"].to_pylist() == [None if s is None else s.encode() for s in want["value"].to_pylist()]
    assert pc.cast(got["timestamp"], pa.int64()).to_pylist() == want["ms"].to_pylist()  # us floored to ms
    assert [norm_headers(h) for h in got["headers"].to_pylist()] == [list(h) for h in want["h"].to_pylist()]

    # no key, int64 ms timestamps, value as the default column name
    res = kafkars.produce(config, topic_name, t.select(["value", "ms"]), timestamp="ms")
    assert res.records == n


def test_typed_columns_as_json_read_back_with_the_decoder(config: dict[str, str], tool: KafkaTool, topic_name: str) -> None:
    tool.create_topic(topic_name, 1)
    st = pa.struct([("id", pa.int64()), ("sym", pa.string()), ("px", pa.float64()), ("tags", pa.list_(pa.string())),
                    ("at", pa.timestamp("ms", tz="UTC")), ("blob", pa.binary()), ("ok", pa.bool_())])
    rows = [{"id": i, "sym": f"S\"{i}\n", "px": i / 3, "tags": ["a", "é"][: i % 3], "at": T0 + i,
             "blob": bytes([i, 0, 255]), "ok": i % 2 == 0} for i in range(50)]
    rows[7] = None
    t = pa.table({"value": pa.array(rows, st), "ts": pa.array([T0 + i for i in range(50)], pa.timestamp("ms"))})
    kafkars.produce(config, topic_name, t, timestamp="ts", value_format=Json())  # Json(): the same as the default
    raw = replay(config, topic_name)
    assert raw["value"][7].as_py() is None
    assert raw["value"][0].as_py().startswith(b'{"id":0,"sym":"S\\"0\\n","px":0,')
    typed = kafkars.read_topics(config, [SourceTopic.from_earliest(topic_name, value=Json(schema=pa.schema(list(st))))])
    decoded = typed.column(typed.column_names[-1]).to_pylist()
    assert decoded[:7] + decoded[8:] == [
        {**r, "at": pa.scalar(r["at"], pa.timestamp("ms", tz="UTC")).as_py()} for r in rows[:7] + rows[8:]]
    with pytest.raises(kafkars.ConfigError, match="Json.. takes no arguments when producing"):
        kafkars.produce(config, topic_name, t, value_format=Json(schema=pa.schema(list(st))))
    with pytest.raises(kafkars.ConfigError, match=r"value_format must be None or kafkars.Json\(\) \(JSON\), kafkars.Avro"):
        kafkars.produce(config, topic_name, t, value_format="avro")


def test_polars_and_duckdb_inputs(config: dict[str, str], tool: KafkaTool, topic_name: str) -> None:
    pl = pytest.importorskip("polars")
    duckdb = pytest.importorskip("duckdb")
    tool.create_topic(topic_name, 2)
    df = pl.DataFrame({"key": [f"k{i}" for i in range(1000)], "value": [f"value number {i}" * (i % 3) for i in range(1000)],
                       "p": pl.Series([i % 2 for i in range(1000)], dtype=pl.Int32)})
    res = kafkars.produce(config, topic_name, df, key="key", partition="p")  # utf8 views cross as they are
    assert res.records == 1000 and {p: c.records for p, c in res.partitions.items()} == {0: 500, 1: 500}
    rel = duckdb.sql("select 'd' || i::varchar as key, repeat('x', i % 20) as value from range(2000) t(i)")
    assert kafkars.produce(config, topic_name, rel, key="key").records == 2000
    got = replay(config, topic_name)
    assert got.num_rows == 3000
    assert sorted(v for v in got["value"].to_pylist()) == sorted(
        [f"value number {i}".encode() * (i % 3) for i in range(1000)] + [b"x" * (i % 20) for i in range(2000)])


def test_one_million_rows(config: dict[str, str], tool: KafkaTool, topic_name: str) -> None:
    tool.create_topic(topic_name, 4)
    n = 1_000_000
    idx = pa.array(range(n), pa.int64())
    t = pa.table({
        "key": pc.binary_join_element_wise(pa.repeat(pa.scalar(b"k", pa.binary()), n), pc.cast(pc.cast(idx, pa.string()), pa.binary()), b""),
        "value": pc.cast(pc.utf8_rpad(pc.cast(idx, pa.string()), 100, "."), pa.binary()),
        "ts": pc.cast(pc.add(idx, T0 - n), pa.timestamp("ms")),
    })
    res = kafkars.produce(config, topic_name, t, key="key", timestamp="ts", progress=False)
    assert res.records == n and sum(c.records for c in res.partitions.values()) == n
    assert sum(hi - lo for lo, hi in tool.offsets(topic_name).values()) == n
    got = replay(config, topic_name)
    assert got.num_rows == n
    for i in (0, 1, 4242, 500_000, n - 1):  # spot checks: replay order is the input order (distinct timestamps)
        assert got["key"][i].as_py() == f"k{i}".encode()
        assert got["value"][i].as_py() == f"{i}".ljust(100, ".").encode()
    print(f"\n1M x 100 B: produced in {res.seconds:.2f}s, {n / res.seconds:,.0f} records/s")


def test_record_too_large_names_its_row(config: dict[str, str], tool: KafkaTool, topic_name: str) -> None:
    tool.create_topic(topic_name, 1)
    values = [b"small"] * 10 + [b"x" * 2_000_000] + [b"small"] * 10
    with pytest.raises(ProduceError) as ei:
        kafkars.produce(config, topic_name, pa.table({"value": values}))
    e = ei.value
    assert e.row == 10
    assert "row 10" in str(e) and "MSG_SIZE_TOO_LARGE" in str(e) and "message.max.bytes" in str(e)
    assert e.result.records == 10, "only the rows before it were handed over, and all of them acknowledged"
    assert sum(hi - lo for lo, hi in tool.offsets(topic_name).values()) == 10


def test_bad_values_name_their_row(config: dict[str, str], tool: KafkaTool, topic_name: str) -> None:
    tool.create_topic(topic_name, 2)
    with pytest.raises(ProduceError, match=r"row 3 .*partition 7") as ei:
        kafkars.produce(config, topic_name, pa.table({"value": [b"a"] * 5, "p": pa.array([0, 1, 0, 7, 1], pa.int32())}), partition="p")
    assert ei.value.row == 3
    with pytest.raises(ProduceError, match="row 2 failed: column \"p\": partition 5000000000 is out of range"):
        kafkars.produce(config, topic_name, pa.table({"value": [b"a"] * 3, "p": pa.array([0, 1, 5_000_000_000])}), partition="p")
    with pytest.raises(ProduceError, match="row 1 failed: negative timestamp"):
        kafkars.produce(config, topic_name, pa.table({"value": [b"a"] * 2, "t": pa.array([1, -5])}), timestamp="t")
    bad_h = pa.array([[("a", b"1")], [(None, b"2")]], HEADERS)
    with pytest.raises(ProduceError, match="row 1 failed: headers: a header with a null name"):
        kafkars.produce(config, topic_name, pa.table({"value": [b"a"] * 2, "h": bad_h}), headers="h")
    # deep in one large record batch (sent in slices): the row is counted from the start of the input
    n = 50_000
    big = pa.table({"value": pa.array([{"i": i} for i in range(n)], pa.struct([("i", pa.int64())])),
                    "p": pa.array([i % 2 if i != 40_001 else 9 for i in range(n)], pa.int32())})
    with pytest.raises(ProduceError, match=r"row 40001 \(partition 9\)") as ei:
        kafkars.produce(config, topic_name, big, partition="p")
    assert ei.value.row == 40_001 and ei.value.result.records == 40_001


def test_column_errors_name_the_column(config: dict[str, str], tool: KafkaTool, topic_name: str) -> None:
    tool.create_topic(topic_name, 1)
    t = pa.table({"v": [b"x"], "f": [1.5], "h": [[1]]})
    with pytest.raises(ConfigError, match=r'value column "value": no such column; the input has "v", "f", "h"'):
        kafkars.produce(config, topic_name, t)
    with pytest.raises(ConfigError, match=r'timestamp column "f": type float64: want a timestamp, or int64'):
        kafkars.produce(config, topic_name, t, value="v", timestamp="f")
    with pytest.raises(ConfigError, match=r'headers column "h"'):
        kafkars.produce(config, topic_name, t, value="v", headers="h")
    with pytest.raises(ConfigError, match=r'partition column "f"'):
        kafkars.produce(config, topic_name, t, value="v", partition="f")
    with pytest.raises(ConfigError, match="data must be a pyarrow Table"):
        kafkars.produce(config, topic_name, {"v": [1]}, value="v")
    with pytest.raises(TopicNotFoundError, match="does not exist"):
        kafkars.produce(config, topic_name + "-missing", t, value="v")
    with pytest.raises(ConfigError, match="acks"):
        kafkars.produce({**config, "acks": "1"}, topic_name, t, value="v")


def test_producer_reused_and_closed(config: dict[str, str], tool: KafkaTool, topic_name: str) -> None:
    tool.create_topic(topic_name, 1)
    with kafkars.Producer(config) as p:
        for i in range(5):
            assert p.produce(topic_name, pa.table({"value": [f"{i}".encode()] * 100})).records == 100
    assert p.closed
    with pytest.raises(kafkars.ClosedError):
        p.produce(topic_name, pa.table({"value": [b"x"]}))
    assert replay(config, topic_name).num_rows == 500


def test_dead_letter_pattern(config: dict[str, str], tool: KafkaTool, topic_name: str) -> None:
    """Process a batch, send the failures to the dead-letter topic, and
    only then move on: every record is either processed or dead-lettered,
    with Kafka Connect's context headers and its own headers kept."""
    src, dlq = topic_name, topic_name + "-dlq"
    tool.create_topic(src, 2)
    tool.create_topic(dlq, 1)
    n = 400
    t = pa.table({
        "key": [f"k{i}".encode() for i in range(n)],
        "value": [b"bad" if i % 10 == 3 else f'{{"n": {i}}}'.encode() for i in range(n)],
        "ts": pa.array([T0 + i for i in range(n)], pa.timestamp("ms")),
        "headers": pa.array([[("origin", b"test"), (kafkars._producer.DLQ_TOPIC, b"stale")]] * n, HEADERS),
    })
    kafkars.produce(config, src, t, key="key", timestamp="ts", headers="headers")
    processed = []
    with kafkars.Producer(config) as dead, kafkars.ConsumerManager(config, [SourceTopic.from_earliest(src)],
                                                                   include_headers=True, batch_size=64) as m:
        while not m.is_live():
            batch = m.poll(1000)
            if batch.num_rows == 0:
                continue
            bad = pc.equal(batch["value"], b"bad")
            processed.extend(batch.filter(pc.invert(bad))["offset"].to_pylist())
            failed = batch.filter(bad)
            if failed.num_rows:
                res = dead.send_to_dead_letter(dlq, failed, ValueError("not JSON"))
                assert res.records == failed.num_rows
    got = replay(config, dlq)
    assert got.num_rows == 40 and len(processed) == n - 40
    srcrows = replay(config, src)
    bad_src = srcrows.filter(pc.equal(srcrows["value"], b"bad"))
    assert got["key"].to_pylist() == bad_src["key"].to_pylist()
    assert got["value"].to_pylist() == [b"bad"] * 40
    assert got["timestamp"].to_pylist() == bad_src["timestamp"].to_pylist()
    for row, orig in zip(got.to_pylist(), bad_src.to_pylist()):
        h = dict((e["key"], e["value"]) for e in row["headers"])
        assert [e["key"] for e in row["headers"]][0] == "origin", "original headers first, in order"
        assert h["origin"] == b"test"
        assert h["__connect.errors.topic"] == src.encode(), "the stale header of that name is replaced"
        assert h["__connect.errors.partition"] == str(orig["partition"]).encode()
        assert h["__connect.errors.offset"] == str(orig["offset"]).encode()
        assert h["__connect.errors.exception.class.name"] == b"builtins.ValueError"
        assert h["__connect.errors.exception.message"] == b"not JSON"
        assert h["__kafkars.errors.timestamp"] == str(int(orig["timestamp"].timestamp() * 1000)).encode()
        assert len([e for e in row["headers"] if e["key"] == "__connect.errors.topic"]) == 1


def test_dead_letter_error_column_and_map_headers(config: dict[str, str], tool: KafkaTool, topic_name: str) -> None:
    tool.create_topic(topic_name, 1)
    dlq = topic_name + "-dlq"
    tool.create_topic(dlq, 1)
    kafkars.produce(config, topic_name, pa.table({"value": [b"a", b"b", b"c"]}))
    rows = kafkars.read_topics(config, [SourceTopic.from_earliest(topic_name)], include_headers="map")
    rows = rows.append_column("why", pa.array(["e0", None, "e2"]))
    kafkars.send_to_dead_letter(config, dlq, rows, error_column="why")
    got = replay(config, dlq)
    msgs = [dict((e["key"], e["value"]) for e in h).get("__connect.errors.exception.message") for h in got["headers"].to_pylist()]
    assert msgs == [b"e0", None, b"e2"]
    with pytest.raises(ConfigError, match="exactly one of error"):
        kafkars.send_to_dead_letter(config, dlq, rows)
    with pytest.raises(ConfigError, match="missing"):
        kafkars.send_to_dead_letter(config, dlq, rows.drop_columns(["offset"]), "x")


def test_cli_produce(config: dict[str, str], tool: KafkaTool, topic_name: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pyarrow.parquet as pq

    tool.create_topic(topic_name, 2)
    src = sample(1000)
    pq.write_table(src, tmp_path / "in.parquet", row_group_size=300)
    with pa.ipc.new_file(tmp_path / "in.arrow", src.schema) as w:
        w.write_table(src)
    for path in ("in.parquet", "in.arrow"):
        r = subprocess.run([sys.executable, "-m", "kafkars", "produce", "-b", config["bootstrap.servers"], "-t", topic_name,
                            str(tmp_path / path), "--key", "key", "--timestamp", "ts", "--headers", "headers",
                            "-X", "linger.ms=10"], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        assert "produced 1,000 records" in r.stderr
    r = subprocess.run([sys.executable, "-m", "kafkars", "produce", "-b", config["bootstrap.servers"], "-t", topic_name,
                        str(tmp_path / "in.parquet"), "--timestamp", "nope"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and 'timestamp column "nope": no such column' in r.stderr  # a bad argument
    got = replay(config, topic_name)
    assert got.num_rows == 2000
    from collections import Counter

    assert Counter(got["value"].to_pylist()) == Counter(src["value"].to_pylist() * 2)


def test_ctrl_c_interrupts_produce(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """produce() waits in slices with the GIL released: SIGINT raises
    KeyboardInterrupt at once, even while no broker answers."""
    import signal

    script = tmp_path / "p.py"
    script.write_text(
        "import sys, pyarrow as pa, kafkars\n"
        "print('ready', flush=True)\n"
        "try:\n"
        "    kafkars.produce({'bootstrap.servers': '127.0.0.1:1'}, 't', pa.table({'value': [b'x'] * 1000}),\n"
        "                    startup_timeout_ms=60_000)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True)\n"
    )
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(1.0)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert "interrupted" in out
    assert time.monotonic() - t0 < 3, "the interrupt took too long"


def test_no_broker_is_reported_in_time() -> None:
    t0 = time.monotonic()
    with pytest.raises(kafkars.BrokerUnavailableError, match=r'cannot reach Kafka at bootstrap.servers="127.0.0.1:1" within startup_timeout_ms=1500'):
        kafkars.produce({"bootstrap.servers": "127.0.0.1:1"}, "t", pa.table({"value": [b"x"]}), startup_timeout_ms=1500)
    assert time.monotonic() - t0 < 4
