"""kafkars.scan(): a replay that DuckDB, polars, pandas and pyarrow can read
any number of times, each read a fresh replay on its own ConsumerManager
(closed when the stream is exhausted or released). Plus the to_pandas() and
to_polars() shortcuts of ConsumerManager."""

from __future__ import annotations

import datetime as dt
import gc
import socket
import sys
import time

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import kafkars
from kafkars import ConsumerManager, SourceTopic
from devtools.kafkatool import KafkaTool, Record
from tests.helpers import check_order

pytestmark = pytest.mark.broker

BASE = int(time.time() * 1000) - 86_400_000
N = 3000


@pytest.fixture(scope="module")
def filled(tool: KafkaTool) -> str:
    """3 partitions, N records; timestamps rise in each partition and
    interleave across partitions (record i: partition i % 3, BASE + 10 i)."""
    name = f"scan-{int(time.time() * 1000)}"
    tool.create_topic(name, 3)
    tool.produce([Record(name, key=f"k{i}".encode(), value=f"v{i}".encode(), partition=i % 3, ts=BASE + 10 * i)
                  for i in range(N)])
    return name


def live_managers() -> int:
    gc.collect()
    return kafkars._debug_counters()["live_managers"]


def test_two_duckdb_queries_agree(config: dict[str, str], filled: str) -> None:
    s = kafkars.scan(config, [SourceTopic.from_earliest(filled)])
    before = live_managers()
    q = "select count(*), sum(\"offset\"), min(timestamp), max(timestamp) from s"
    first = duckdb.sql(q).fetchall()
    second = duckdb.sql(q).fetchall()
    assert first == second
    assert first[0][0] == N
    assert duckdb.from_arrow(s).aggregate("count(*)").fetchall() == [(N,)]
    assert live_managers() == before, "a query left its ConsumerManager open"


def test_to_reader_is_one_shot_and_scan_is_not(config: dict[str, str], filled: str) -> None:
    """What scan() is for: a reader is read once (the second query says so)."""
    with ConsumerManager(config, [SourceTopic.from_earliest(filled)]) as m:
        r = m.to_reader()
        assert duckdb.sql("select count(*) from r").fetchall() == [(N,)]
        with pytest.raises(Exception, match="already read to its end"):
            duckdb.sql("select count(*) from r").fetchall()
    s = kafkars.scan(config, [SourceTopic.from_earliest(filled)])
    counts = []
    for _ in range(3):  # (DuckDB finds `s` among the caller's variables, not a comprehension's)
        counts.append(duckdb.sql("select count(*) from s").fetchall())
    assert counts == [[(N,)]] * 3


def test_released_early_closes_the_manager(config: dict[str, str], filled: str) -> None:
    s = kafkars.scan(config, [SourceTopic.from_earliest(filled)], batch_size=100)
    before = live_managers()
    assert len(duckdb.sql("select * from s limit 5").fetchall()) == 5
    reader = s.to_reader()
    assert reader.read_next_batch().num_rows == 100
    assert live_managers() == before + 1
    del reader
    assert live_managers() == before
    it = iter(s)
    next(it)
    del it
    assert live_managers() == before


def test_polars_pandas_pyarrow(config: dict[str, str], filled: str) -> None:
    s = kafkars.scan(config, [SourceTopic.from_earliest(filled)], batch_size=500)
    reference = kafkars.read_topics(config, [SourceTopic.from_earliest(filled)])
    check_order(reference, {filled: 0})
    for got in (pa.table(s), s.to_table(), pl.DataFrame(s).to_arrow(), pl.from_arrow(s).to_arrow(), s.to_polars().to_arrow()):
        assert got.num_rows == N
        assert got.column("offset").to_pylist() == reference.column("offset").to_pylist()
        assert got.column("partition").to_pylist() == reference.column("partition").to_pylist()
    df = s.to_pandas()
    assert isinstance(df, pd.DataFrame) and len(df) == N
    assert df["timestamp"].is_monotonic_increasing
    assert str(df["timestamp"].dt.tz) == "UTC"
    assert sum(b.num_rows for b in s) == N


def test_until_a_time(config: dict[str, str], filled: str) -> None:
    cut = BASE + 10 * (N // 2)
    s = kafkars.scan(config, [SourceTopic.from_earliest(filled)], until=dt.datetime.fromtimestamp(cut / 1000, dt.timezone.utc))
    t = s.to_table()
    assert t.num_rows == N // 2
    assert duckdb.sql("select count(*) from s").fetchall() == [(N // 2,)]
    assert "until=" + dt.datetime.fromtimestamp(cut / 1000, dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z") in repr(s)


def test_requested_schema_is_honoured(config: dict[str, str], filled: str) -> None:
    s = kafkars.scan(config, [SourceTopic.from_earliest(filled)])
    want = pa.schema([f.with_type(pa.large_binary()) if f.name in ("key", "value") else f for f in s.schema])
    capsule = s.__arrow_c_stream__(want.__arrow_c_schema__())
    t = pa.RecordBatchReader._import_from_c_capsule(capsule).read_all()
    assert t.schema == want and t.num_rows == N


@pytest.mark.parametrize("include_headers", [False, True])
def test_schema_without_connecting(config: dict[str, str], filled: str, include_headers: bool) -> None:
    with socket.socket() as sock:  # a closed port: connecting would fail
        sock.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{sock.getsockname()[1]}"
    offline = kafkars.scan({"bootstrap.servers": closed}, [SourceTopic.from_earliest(filled)], include_headers=include_headers)
    with ConsumerManager(config, [SourceTopic.from_earliest(filled)], include_headers=include_headers) as m:
        assert offline.schema == m.schema
    assert ("headers" in offline.schema.names) is include_headers
    with pytest.raises(kafkars.BrokerUnavailableError, match=closed):
        offline.to_table()
    with pytest.raises(kafkars.BrokerUnavailableError, match=closed):
        pa.table(offline)


def test_arguments_are_checked_without_connecting() -> None:
    cfg = {"bootstrap.servers": "127.0.0.1:1"}
    with pytest.raises(TypeError, match="batchsize"):
        kafkars.scan(cfg, [SourceTopic.from_earliest("t")], batchsize=10)
    with pytest.raises(kafkars.ConfigError, match="from_earliest"):
        kafkars.scan(cfg, "t")  # type: ignore[arg-type]
    with pytest.raises(kafkars.ConfigError, match="needs a bound"):
        kafkars.scan(cfg, [SourceTopic.from_earliest("t")], until=None)
    with pytest.raises(kafkars.ConfigError, match="tomorrow-ish"):
        kafkars.scan(cfg, [SourceTopic.from_earliest("t")], until="tomorrow-ish")
    with pytest.raises(kafkars.ConfigError, match="unknown policy"):
        kafkars.scan(cfg, [{"name": "t", "policy": "first"}])


def test_repr() -> None:
    s = kafkars.scan(
        {"bootstrap.servers": "localhost:9092", "sasl.password": "hunter2"},
        [SourceTopic.from_earliest("trades"), SourceTopic.from_relative_time("quotes", "1h")],
        batch_size=5000,
    )
    r = repr(s)
    assert r == ("kafkars.Scan(topics=['trades' earliest, 'quotes' last 1h], bootstrap.servers='localhost:9092', "
                 "+1 property, until=live, batch_size=5000)"), r
    assert "hunter2" not in r


def test_manager_to_pandas_and_to_polars(config: dict[str, str], filled: str) -> None:
    with ConsumerManager(config, [SourceTopic.from_earliest(filled)]) as m:
        df = m.to_pandas(until=BASE + 10 * 100)
        assert isinstance(df, pd.DataFrame) and len(df) == 100
        rest = m.to_polars()
        assert isinstance(rest, pl.DataFrame) and rest.height == N - 100


def test_missing_polars_is_named(config: dict[str, str], filled: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "polars", None)
    s = kafkars.scan(config, [SourceTopic.from_earliest(filled)])
    with pytest.raises(ImportError, match=r"Scan.to_polars\(\) needs polars.*pip install polars"):
        s.to_polars()
    with ConsumerManager(config, [SourceTopic.from_earliest(filled)]) as m:
        with pytest.raises(ImportError, match=r"ConsumerManager.to_polars\(\) needs polars"):
            m.to_polars()
        assert m.read_all().num_rows == N, "the failed call consumed nothing"
