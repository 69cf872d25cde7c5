"""kafkars.dask on a real broker and a local Dask cluster of three worker
processes (started with spawn): the computed frame equals
kafkars.read_topics on the same range, row for row, for several slice
counts; divisions are known and hold; bytes stay bytes; typed values pass
through (docs/guides/scale.md)."""

from __future__ import annotations

import json
import time
from typing import Iterator

import pandas as pd
import pyarrow as pa
import pytest

import kafkars
import kafkars.dask
from devtools.kafkatool import KafkaTool, Record
from tests import slicedata

pytestmark = [pytest.mark.broker, pytest.mark.slow]


@pytest.fixture(scope="session")
def dask_client() -> Iterator[object]:
    """Three worker processes, one thread each (the machine has two cores
    shared with the broker: generous timeouts)."""
    from dask.distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=3, threads_per_worker=1, processes=True, dashboard_address=":0",
                           death_timeout=120)
    client = Client(cluster, timeout=120)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture(scope="module")
def sliced(tool: KafkaTool) -> slicedata.Sliced:
    return slicedata.make(tool, f"dask-{int(time.time())}")


def as_table(df: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(df.reset_index(), preserve_index=False)


def test_frame_equals_the_single_replay(dask_client: object, sliced: slicedata.Sliced, config: dict[str, str]) -> None:
    d = sliced
    full = slicedata.reference(config, d)
    start, end = d.t0 + 700_000, d.t0 + 1_900_000  # start inside the gap (no record there)
    cases = [
        ("1 partition", {"npartitions": 1}, None, None),
        ("4 partitions", {"npartitions": 4}, None, None),
        ("13 partitions", {"npartitions": 13}, None, None),
        ("10-minute grid", {"freq": "10m"}, None, None),
        ("start and end, 5 partitions", {"npartitions": 5}, start, end),
    ]
    for what, kw, s, e in cases:
        ddf = kafkars.dask.read_topics(config, d.topics, start=s, end=e, batch_size=700, **kw)
        assert ddf.known_divisions and ddf.index.name == "ordering_timestamp", what
        want = full if s is None else slicedata.reference(config, d, s, e)
        df = ddf.compute()
        slicedata.assert_same_rows(as_table(df), want, what)
        assert df.index.equals(pd.DatetimeIndex(want.column("ordering_timestamp").to_pandas(), name="ordering_timestamp")), what
        assert df.index.is_monotonic_increasing, what
    # bytes stay bytes (non-UTF-8 values), null keys stay null, empty values empty
    assert df["value"].dtype == pd.ArrowDtype(pa.binary())
    assert df["key"].isna().any() and (df["value"] == b"").any()
    assert any(v.startswith(b"\x00\xff\xfe") for v in df["value"].dropna())


def test_loc_and_resample_use_the_divisions(dask_client: object, sliced: slicedata.Sliced, config: dict[str, str]) -> None:
    d = sliced
    ddf = kafkars.dask.read_topics(config, d.topics, npartitions=6)
    full = slicedata.reference(config, d)
    ref = full.to_pandas(types_mapper=kafkars.dask._dtype).set_index("ordering_timestamp")
    a = pd.Timestamp(d.t0 + 1_300_000, unit="ms", tz="UTC")
    b = pd.Timestamp(d.t0 + 1_600_000, unit="ms", tz="UTC")
    sub = ddf.loc[a:b]
    assert sub.npartitions < ddf.npartitions  # only the slices that overlap
    got = sub.compute()
    assert len(got) == len(ref.loc[a:b]) > 0
    assert got["offset"].tolist() == ref.loc[a:b]["offset"].tolist()
    per_minute = ddf.resample("1min").size().compute()
    want = ref.resample("1min").size()
    pd.testing.assert_series_equal(per_minute[per_minute > 0], want[want > 0], check_freq=False, check_names=False)


def test_a_slice_is_idempotent(dask_client: object, tool: KafkaTool, sliced: slicedata.Sliced, config: dict[str, str]) -> None:
    """A slice read again (a retry, a lost worker) returns the same rows,
    even after records were appended to the topics."""
    ddf = kafkars.dask.read_topics(config, sliced.topics, npartitions=3)
    first = ddf.partitions[1].compute()
    assert len(first) > 0
    # appended after planning: not part of the replay
    tool.produce([Record(sliced.topics[0], key=b"new", value=b"new", partition=0, ts=sliced.t0 + 1)])
    again = ddf.partitions[1].compute(retries=2)
    pd.testing.assert_frame_equal(first, again)
    assert b"new" not in ddf.compute()["key"].dropna().tolist()


def test_typed_values_pass_through(dask_client: object, tool: KafkaTool, config: dict[str, str], topic_name: str) -> None:
    tool.create_topic(topic_name, 3)
    base = int(time.time() * 1000) - 3_600_000
    tool.produce(Record(topic_name, key=None, value=json.dumps({"sym": f"S{i % 5}", "px": 100 + i / 8}).encode(),
                        partition=i % 3, ts=base + 37 * i) for i in range(900))
    schema = pa.schema([("sym", pa.string()), ("px", pa.float64())])
    src = kafkars.SourceTopic.from_earliest(topic_name, value=kafkars.Json(schema=schema))
    ddf = kafkars.dask.read_topics(config, [src], npartitions=4)
    assert ddf[topic_name].dtype == pd.ArrowDtype(pa.struct([pa.field("sym", pa.string()), pa.field("px", pa.float64())]))
    df = ddf.compute()
    want = kafkars.read_topics(config, [src])
    assert as_table(df).column(topic_name).combine_chunks().equals(want.column(topic_name).combine_chunks())
    # Avro raw datums, several topics with different encodings in one frame
    import io

    import fastavro

    avro_schema = {"type": "record", "name": "Q", "fields": [{"name": "sym", "type": "string"}, {"name": "bid", "type": "double"}]}
    parsed = fastavro.parse_schema(avro_schema)

    def datum(i: int) -> bytes:
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, parsed, {"sym": f"S{i % 5}", "bid": i / 4})
        return buf.getvalue()

    quotes = topic_name + "-avro"
    tool.create_topic(quotes, 2)
    tool.produce(Record(quotes, key=None, value=datum(i), partition=i % 2, ts=base + 53 * i) for i in range(400))
    both = [src, kafkars.SourceTopic.from_earliest(quotes, value=kafkars.Avro(schema=avro_schema, framing="raw"))]
    got = as_table(kafkars.dask.read_topics(config, both, npartitions=5).compute())
    ref = kafkars.read_topics(config, both)
    for c in (topic_name, quotes, "offset", "topic"):
        assert got.column(c).combine_chunks().equals(ref.column(c).combine_chunks()), c
    # inferred once on the client: every slice decodes into the same columns
    inferred = kafkars.dask.read_topics(config, [kafkars.SourceTopic.from_earliest(topic_name, value=kafkars.Json())], npartitions=3)
    assert len(inferred.compute()) == 900


def test_errors_name_the_culprit(config: dict[str, str], sliced: slicedata.Sliced) -> None:
    with pytest.raises(kafkars.ConfigError, match="cutoff_ms is set by kafkars.dask"):
        kafkars.dask.read_topics(config, sliced.topics, cutoff_ms=5)
    with pytest.raises(kafkars.TopicNotFoundError, match="missing-topic"):
        kafkars.dask.read_topics(config, [sliced.topics[0], "missing-topic"])
