"""Offset ranges (the offsets policy), planning lookups and time slices on
a real broker (docs/design.md, "Replay at scale"): each slice read on its
own, the slices concatenated equal the single replay row for row."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

import kafkars
from kafkars import ConfigError, ConsumerManager, SourceTopic, TopicNotFoundError
from devtools.kafkatool import KafkaTool, Record
from tests import slicedata

pytestmark = pytest.mark.broker

BASE = int(time.time() * 1000) - 3_600_000


@pytest.fixture(scope="module")
def sliced(tool: KafkaTool) -> slicedata.Sliced:
    return slicedata.make(tool, f"sliced-{int(time.time())}")


def test_offsets_for_times(tool: KafkaTool, config: dict[str, str], topic_name: str) -> None:
    tool.create_topic(topic_name, 3)
    tool.produce(Record(topic_name, key=None, value=b"x", partition=p, ts=BASE + 1000 * i) for p in (0, 1) for i in range(10))
    got = kafkars.offsets_for_times(config, [topic_name], [BASE - 1, BASE + 4500, "2026-01-01" if BASE > 1767225600000 else BASE + 10**9],
                                    max_timestamps=True)
    assert sorted(got) == [topic_name]
    parts = got[topic_name]
    assert sorted(parts) == [0, 1, 2]
    for p in (0, 1):
        assert (parts[p].low, parts[p].high) == (0, 10)
        assert parts[p].offsets[:2] == (0, 5)
        assert parts[p].max_timestamp_ms == BASE + 9000
    assert parts[2] == kafkars.PartitionOffsets(0, 0, (0, 0, 0), None)  # empty: every time resolves to the end
    # a time past every record resolves to the end offset
    assert kafkars.offsets_for_times(config, [topic_name], [BASE + 10**7])[topic_name][0].offsets == (10,)
    with pytest.raises(TopicNotFoundError, match="does not exist"):
        kafkars.offsets_for_times(config, [topic_name, topic_name + "-missing"], [])
    with pytest.raises(ConfigError, match="bootstrap.servers"):
        kafkars.offsets_for_times({}, [topic_name], [])
    with pytest.raises(ConfigError, match="times\\[0\\]"):
        kafkars.offsets_for_times(config, [topic_name], [1.5])  # type: ignore[list-item]


def test_offset_ranges(tool: KafkaTool, config: dict[str, str], topic_name: str) -> None:
    """Exactly [start, stop) of the listed partitions, in order; records past
    stop are never returned, not even records produced after creation;
    unlisted partitions are not read; a stop past the end is capped."""
    tool.create_topic(topic_name, 3)
    tool.produce(Record(topic_name, key=None, value=f"{p}-{i}".encode(), partition=p, ts=BASE + 10 * i + p)
                 for p in range(3) for i in range(100))
    src = SourceTopic.from_offsets(topic_name, {0: (10, 40), 2: (95, 500)})
    with ConsumerManager(config, [src], batch_size=7) as m:
        tool.produce(Record(topic_name, key=None, value=b"late", partition=p, ts=BASE) for p in range(3))
        t = m.read_all("live")
        state = {r["partition"]: r for r in m.partition_state().to_pylist()}
        metrics = m.metrics()
        assert m.poll(timeout_ms=300).num_rows == 0  # no live phase
    rows = t.select(["partition", "offset"]).to_pylist()
    assert sorted((r["partition"], r["offset"]) for r in rows) == [(0, o) for o in range(10, 40)] + [(2, o) for o in range(95, 100)]
    assert t.column("timestamp").to_pylist() == sorted(t.column("timestamp").to_pylist())
    assert (state[0]["replay_start_offset"], state[0]["replay_end_offset"]) == (10, 40)
    assert (state[2]["replay_start_offset"], state[2]["replay_end_offset"]) == (95, 100)  # stop capped at the end
    assert state[1]["replay_start_offset"] == state[1]["replay_end_offset"]  # not listed: nothing to read
    assert metrics["records_released"] == 35 and metrics["records_below_min_time"] == 0
    assert metrics["records_past_range"] >= 0


def test_offset_ranges_errors(tool: KafkaTool, config: dict[str, str], topic_name: str) -> None:
    tool.create_topic(topic_name, 2)
    with pytest.raises(ConfigError, match=f'topic "{topic_name}" has no partition 5 \\(it has 2\\)'):
        ConsumerManager(config, [SourceTopic.from_offsets(topic_name, {5: (0, 1)})])
    with pytest.raises(ConfigError, match="stop"):
        SourceTopic.from_offsets(topic_name, {0: (5, 1)})
    with pytest.raises(ConfigError, match="partition"):
        SourceTopic.from_offsets(topic_name, {"0": (0, 1)})  # type: ignore[dict-item]
    with pytest.raises(ConfigError, match="offsets policy only"):
        ConsumerManager(config, [SourceTopic("t", "earliest", ranges=((0, 0, 1),))])


def test_min_time(tool: KafkaTool, config: dict[str, str], topic_name: str) -> None:
    """Rows whose ordering timestamp is below min_time are not returned: a
    late record after a record at or past min_time is kept (its ordering
    timestamp is that record's), one before it is not."""
    tool.create_topic(topic_name, 1)
    ts = [BASE + 1, BASE + 5, BASE + 2, BASE + 9, BASE + 3, BASE + 12]
    tool.produce(Record(topic_name, key=None, value=str(i).encode(), partition=0, ts=t) for i, t in enumerate(ts))
    src = SourceTopic.from_offsets(topic_name, {0: (0, 6)}, min_time=BASE + 6)
    with ConsumerManager(config, [src], ordering_timestamp=True) as m:
        t = m.read_all("live")
        assert m.metrics()["records_below_min_time"] == 3
    assert t.column("offset").to_pylist() == [3, 4, 5]  # 9, 3 (late: ordered at 9), 12


def test_slices_concatenate_to_the_replay(sliced: slicedata.Sliced, config: dict[str, str]) -> None:
    """Slices planned by count, by time grid, with start and end bounds:
    each read on its own, concatenated, they are the single replay, row for
    row, whatever the skew, ties, late records, transaction markers and
    aborted records, empty partitions and empty slices."""
    d = sliced
    full = slicedata.reference(config, d)
    mid = d.t0 + 700_000  # inside the gap: no record there
    end = d.t0 + 1_900_000
    cases = [
        ("1 slice", {"npartitions": 1}, None, None),
        ("7 slices", {"npartitions": 7}, None, None),
        ("23 slices", {"npartitions": 23}, None, None),
        ("5-minute grid", {"freq": "5m"}, None, None),
        ("start and end", {"npartitions": 6}, mid, end),
        ("end only", {"npartitions": 4}, None, end),
        ("start only, 1 s grid", {"freq": 97_000}, d.t0 + 1_234_567, None),
    ]
    for what, kw, start, end_ in cases:
        plan = kafkars.plan_replay(config, d.topics, start=start, end=end_, **kw)
        want = full if start is None and end_ is None else slicedata.reference(config, d, start, end_)
        parts = [s.read(config, plan.topics, ordering_timestamp=True) for s in plan.slices]
        if "npartitions" in kw:
            assert 1 <= len(plan.slices) <= kw["npartitions"], what
        for s, t in zip(plan.slices, parts):
            eff = [v.value for v in t.column("ordering_timestamp")]
            lo, hi = plan.divisions[s.index], plan.divisions[s.index + 1]
            last = s.index == len(plan.slices) - 1
            assert all(lo <= v and (v <= hi if last else v < hi) for v in eff), f"{what}: slice {s.index} outside its division"
        slicedata.assert_same_rows(pa.concat_tables(parts), want, what)
    # a grid over the gap has slices without records
    plan = kafkars.plan_replay(config, d.topics, freq="1m")
    assert any(s.read(config, plan.topics).num_rows == 0 for s in plan.slices)


def test_balanced_slices(sliced: slicedata.Sliced, config: dict[str, str]) -> None:
    """npartitions balances the records, not the time: the skewed topics
    split into slices of about the same size. (Not the transactional
    topic: its markers carry the clock of their commit, hours after the
    records' own timestamps, so offsets-for-times, which counts them,
    misjudges where its records lie in time; a slice still holds exactly
    its rows, only the sizes are uneven.)"""
    plan = kafkars.plan_replay(config, sliced.topics[:2], npartitions=5)
    sizes = [s.read(config, plan.topics).num_rows for s in plan.slices]
    assert len(sizes) == 5
    assert max(sizes) <= 1.35 * sum(sizes) / 5, sizes
    assert plan.divisions == tuple(sorted(plan.divisions))


def test_plan_errors(sliced: slicedata.Sliced, config: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="start= and end="):
        kafkars.plan_replay(config, [SourceTopic.from_latest(sliced.topics[0])])
    with pytest.raises(ConfigError, match="npartitions or freq"):
        kafkars.plan_replay(config, sliced.topics, npartitions=2, freq="1h")
    with pytest.raises(ConfigError, match="after start"):
        kafkars.plan_replay(config, sliced.topics, start=10, end=5)
    with pytest.raises(ConfigError, match="cutoff_ms is set by the slice"):
        kafkars.plan_replay(config, sliced.topics).slices[0].read(config, [SourceTopic.from_earliest("x")], cutoff_ms=5)


def test_cli_start_end(kafka, sliced: slicedata.Sliced, config: dict[str, str], tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    d = sliced
    start, end = d.t0 + 300_000, d.t0 + 1_500_000
    out = tmp_path / "range.arrow"
    args = ["replay", "-b", kafka.bootstrap, *[a for t in d.topics for a in ("-t", t)], "--start", str(start), "--end", str(end),
            "-o", str(out), "--no-headers"]
    r = subprocess.run([sys.executable, "-m", "kafkars", *args], capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr.decode()
    got = ipc.open_file(str(out)).read_all()
    slicedata.assert_same_rows(got, slicedata.reference(config, d, start, end), "kafkars replay --start --end")
    r = subprocess.run([sys.executable, "-m", "kafkars", *args, "--until", str(end)], capture_output=True, timeout=120)
    assert r.returncode == 2 and b"do not combine them with --until" in r.stderr  # bad arguments


def test_offsets_for_times_without_a_broker() -> None:
    """No broker: BrokerUnavailableError within the call's timeout, naming
    the address."""
    t = time.monotonic()
    with pytest.raises(kafkars.BrokerUnavailableError, match="127.0.0.1:9"):
        kafkars.offsets_for_times({"bootstrap.servers": "127.0.0.1:9"}, ["t"], [0], timeout_ms=1500)
    assert time.monotonic() - t < 10


def test_a_range_stops_fetching_at_its_stop(tool: KafkaTool, config: dict[str, str], topic_name: str) -> None:
    """Once a partition reaches its stop it is paused for good: librdkafka
    does not go on prefetching the rest of the log (what it had in flight
    is discarded and counted)."""
    tool.create_topic(topic_name, 1)
    tool.gen(topic_name, partitions=1, count=200_000, value_size=100, ts_start=BASE, ts_step=1)
    with ConsumerManager(config, [SourceTopic.from_offsets(topic_name, {0: (0, 10)})]) as m:
        assert m.read_all("live").column("offset").to_pylist() == list(range(10))
        time.sleep(2)
        past = m.metrics()["records_past_range"]
    assert past < 100_000, f"{past} records fetched past the stop: the partition was not paused"
