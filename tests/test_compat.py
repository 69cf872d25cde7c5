"""Code written for the Rust kafkars 0.0.8 runs unchanged, with the same
meaning (docs/compat.md): the same positional parameters, module paths,
schemas, SourceTopic behaviour, accepted inputs, and exceptions that are
also the built-in types 0.0.8 raised for the same faults.

The expectations below were read from 0.0.8's Python package and its
Rust/pyo3 source, and checked against 0.0.8 itself. Most tests need no
broker; those that do are marked.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import importlib
import inspect
import time
from typing import Any, Callable, NamedTuple

import numpy as np
import pyarrow as pa
import pytest

import kafkars
from kafkars import ConfigError, ConsumerManager, SourceTopic, validate_source_topic
from kafkars._errors import (
    ConfigOverflowError,
    ConfigTypeError,
    ConsumerConfigError,
    KafkarsError,
    MissingAttributeError,
    MissingKeyError,
)
from devtools.kafkatool import KafkaTool, Record

NOWHERE = {"bootstrap.servers": "127.0.0.1:1"}  # never reached: these fail before connecting


# -- positional parameters ------------------------------------------------------------

PK = inspect.Parameter.POSITIONAL_OR_KEYWORD

#: Every public callable of 0.0.8 and its parameters that may be passed by
#: position. Ours must take exactly these by position (names included,
#: as they may also be passed by keyword); any other parameter is
#: keyword-only, or (for functions that had none) optional.
RUST_POSITIONAL: dict[str, tuple[Callable[..., Any], list[str]]] = {
    "ConsumerManager": (ConsumerManager, ["config", "topics", "batch_size"]),
    "ConsumerManager.poll": (ConsumerManager.poll, ["self", "timeout_ms"]),
    "ConsumerManager.is_live": (ConsumerManager.is_live, ["self"]),
    "ConsumerManager.partition_state": (ConsumerManager.partition_state, ["self"]),
    "ConsumerManager.held_message_count": (ConsumerManager.held_message_count, ["self"]),
    "ConsumerManager.paused_partition_count": (ConsumerManager.paused_partition_count, ["self"]),
    "ConsumerManager.get_priming_watermark": (ConsumerManager.get_priming_watermark, ["self"]),
    "SourceTopic": (SourceTopic, ["name", "policy", "time_ms"]),
    "SourceTopic.from_latest": (SourceTopic.from_latest, ["name"]),
    "SourceTopic.from_earliest": (SourceTopic.from_earliest, ["name"]),
    "SourceTopic.from_relative_time": (SourceTopic.from_relative_time, ["name", "time_ms"]),
    "SourceTopic.from_absolute_time": (SourceTopic.from_absolute_time, ["name", "time_ms"]),
    "validate_source_topic": (validate_source_topic, ["topic"]),
    "get_message_schema": (kafkars.get_message_schema, []),
    "get_partition_state_schema": (kafkars.get_partition_state_schema, []),
}


@pytest.mark.parametrize("name", list(RUST_POSITIONAL))
def test_positional_parameters_are_those_of_0_0_8(name: str) -> None:
    fn, rust = RUST_POSITIONAL[name]
    params = list(inspect.signature(fn).parameters.values())
    positional = [p.name for p in params if p.kind == PK]
    if rust or name.startswith("ConsumerManager"):
        assert positional == rust, f"{name}: positional {positional}, 0.0.8 had {rust}"
    else:
        # 0.0.8 took no argument: ours may take optional ones
        assert all(p.default is not p.empty for p in params), params
    # what 0.0.8 made optional stays optional
    for p in params:
        if p.name in ("batch_size", "policy", "time_ms") and name in ("ConsumerManager", "SourceTopic"):
            assert p.default is not p.empty, (name, p.name)


def test_third_positional_argument_is_batch_size() -> None:
    sig = inspect.signature(ConsumerManager)
    bound = sig.bind(NOWHERE, [SourceTopic.from_earliest("t")], 1000)
    assert bound.arguments["batch_size"] == 1000
    with pytest.raises(TypeError):
        ConsumerManager(NOWHERE, [SourceTopic.from_earliest("t")], 1000, 5)  # type: ignore[misc]
    assert sig.parameters["batch_size"].default is not None  # None is also accepted: the default


# -- module paths ---------------------------------------------------------------------

#: Modules of 0.0.8 and the names code imported from them.
RUST_MODULES: dict[str, list[str]] = {
    "kafkars": ["ConsumerManager", "SourceTopic", "MESSAGE_SCHEMA", "PARTITION_STATE_SCHEMA", "__version__",
                "get_message_schema", "get_partition_state_schema", "validate_source_topic"],
    "kafkars.source_topic": ["SourceTopic"],
    "kafkars.schema": ["MESSAGE_SCHEMA", "PARTITION_STATE_SCHEMA"],
    "kafkars._lib": ["PyConsumerManager", "validate_source_topic", "get_message_schema",
                     "get_partition_state_schema", "__version__"],
}


@pytest.mark.parametrize("module", list(RUST_MODULES))
def test_module_paths(module: str) -> None:
    mod = importlib.import_module(module)
    for name in RUST_MODULES[module]:
        assert hasattr(mod, name), f"{module}.{name}"
    if module == "kafkars":
        assert set(RUST_MODULES[module]) <= set(kafkars.__all__)


def test_module_aliases_are_the_same_objects() -> None:
    from kafkars import _lib, schema, source_topic

    assert source_topic.SourceTopic is kafkars.SourceTopic
    assert SourceTopic.__module__ == "kafkars.source_topic"  # pickles name it as 0.0.8's did
    assert _lib.PyConsumerManager is ConsumerManager
    assert _lib.validate_source_topic is validate_source_topic
    assert schema.PARTITION_STATE_SCHEMA is kafkars.PARTITION_STATE_SCHEMA
    with pytest.raises(AttributeError):
        _lib.no_such_name  # noqa: B018


# -- schemas --------------------------------------------------------------------------

UTC_MS = pa.timestamp("ms", tz="UTC")
#: 0.0.8's schemas, field by field (name, type, nullable).
RUST_MESSAGE_FIELDS = [("key", pa.binary(), True), ("value", pa.binary(), True), ("topic", pa.utf8(), False),
                       ("partition", pa.int32(), False), ("offset", pa.int64(), False), ("timestamp", UTC_MS, False)]
RUST_STATE_FIELDS = [("topic", pa.utf8(), False), ("partition", pa.int32(), False),
                     ("replay_start_offset", pa.int64(), False), ("replay_end_offset", pa.int64(), False),
                     ("consumed_offset", pa.int64(), False), ("released_offset", pa.int64(), False),
                     ("last_consumed_timestamp", UTC_MS, True), ("is_live", pa.bool_(), False),
                     ("is_paused", pa.bool_(), False)]
RUST_MESSAGE_SCHEMA = pa.schema([pa.field(n, t, nullable=x) for n, t, x in RUST_MESSAGE_FIELDS])
RUST_STATE_SCHEMA = pa.schema([pa.field(n, t, nullable=x) for n, t, x in RUST_STATE_FIELDS])

SCHEMAS: dict[str, tuple[pa.Schema, pa.Schema]] = {
    "MESSAGE_SCHEMA": (kafkars.MESSAGE_SCHEMA, RUST_MESSAGE_SCHEMA),
    "get_message_schema()": (kafkars.get_message_schema(), RUST_MESSAGE_SCHEMA),
    "PARTITION_STATE_SCHEMA": (kafkars.PARTITION_STATE_SCHEMA, RUST_STATE_SCHEMA),
    "get_partition_state_schema()": (kafkars.get_partition_state_schema(), RUST_STATE_SCHEMA),
}


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_schemas_equal_0_0_8(name: str) -> None:
    ours, rust = SCHEMAS[name]
    assert ours.equals(rust), f"{name}:\n{ours}\n!=\n{rust}"
    # equals() already compares nullability; spell it out for the reader
    assert [(f.name, f.type, f.nullable) for f in ours] == [(f.name, f.type, f.nullable) for f in rust]


def test_partition_stats_schema() -> None:
    assert kafkars.PARTITION_STATS_SCHEMA.names == [
        "topic", "partition", "held_messages", "late_messages", "malformed_records", "is_caught_up", "topic_rank"]
    assert not any(f.nullable for f in kafkars.PARTITION_STATS_SCHEMA)


# -- SourceTopic ----------------------------------------------------------------------

#: (expression, what 0.0.8 gave)
SOURCE_TOPIC_BEHAVIOUR: dict[str, tuple[Callable[[], object], object]] = {
    "repr": (lambda: repr(SourceTopic.from_relative_time("t", 1000)),
             "SourceTopic(name='t', policy='relative_time', time_ms=1000)"),
    "str": (lambda: str(SourceTopic.from_earliest("t")), "SourceTopic(name='t', policy='earliest', time_ms=None)"),
    "default policy": (lambda: SourceTopic("t"), SourceTopic("t", "latest", None)),
    "positional fields": (lambda: SourceTopic("t", "absolute_time", 5), SourceTopic.from_absolute_time("t", 5)),
    "equal": (lambda: SourceTopic.from_earliest("t") == SourceTopic("t", "earliest", None), True),
    "not equal": (lambda: SourceTopic.from_earliest("t") == SourceTopic.from_latest("t"), False),
    "not equal to a dict": (lambda: SourceTopic.from_earliest("t") == {"name": "t", "policy": "earliest"}, False),
    "hash": (lambda: SourceTopic.__hash__, None),  # unhashable: a mutable dataclass
    "match args": (lambda: SourceTopic.__match_args__, ("name", "policy", "time_ms")),
    "init fields": (lambda: [f.name for f in dataclasses.fields(SourceTopic) if not f.kw_only],
                    ["name", "policy", "time_ms"]),
    "replace": (lambda: dataclasses.replace(SourceTopic.from_earliest("t"), name="u"), SourceTopic("u", "earliest")),
}


@pytest.mark.parametrize("case", list(SOURCE_TOPIC_BEHAVIOUR))
def test_source_topic_behaves_as_0_0_8(case: str) -> None:
    fn, want = SOURCE_TOPIC_BEHAVIOUR[case]
    assert fn() == want


def test_source_topic_is_mutable_and_unhashable() -> None:
    t = SourceTopic.from_earliest("t")
    t.policy, t.time_ms = "relative_time", 60_000
    assert t == SourceTopic.from_relative_time("t", 60_000)
    with pytest.raises(TypeError, match="unhashable"):
        hash(t)
    validate_source_topic(t)


def test_source_topic_formats_are_keyword_only_and_shown_when_set() -> None:
    value = kafkars.Json(schema=pa.schema([("x", pa.int64())]))
    with pytest.raises(TypeError):
        SourceTopic("t", "earliest", None, value)  # type: ignore[misc]
    t = SourceTopic.from_earliest("t", value=value)
    assert repr(t).startswith("SourceTopic(name='t', policy='earliest', time_ms=None, value=Json(")
    assert t != SourceTopic.from_earliest("t")


def test_manager_keeps_a_copy_of_the_topics() -> None:
    from kafkars._topics import as_source_topic

    t = SourceTopic.from_earliest("t")
    copy = as_source_topic(t, 0)
    t.name = "changed"
    assert copy.name == "t"


# -- exceptions -----------------------------------------------------------------------


class Obj:
    """A duck-typed topic, as 0.0.8 read any object's name, policy and time_ms."""

    def __init__(self, **attrs: Any) -> None:
        self.__dict__.update(attrs)

    def __repr__(self) -> str:
        return f"Obj({self.__dict__})"


class ErrorCase(NamedTuple):
    call: Callable[[], object]
    rust: type[BaseException]  # what 0.0.8 raised
    ours: type[KafkarsError]  # exactly this class
    culprits: list[str]  # named in the message


def _cm(*args: Any, **kw: Any) -> Callable[[], object]:
    return lambda: ConsumerManager(*args, **kw)


def _v(topic: Any) -> Callable[[], object]:
    return lambda: validate_source_topic(topic)


E = SourceTopic.from_earliest

#: Faults 0.0.8 reported with a built-in exception, none needing a broker.
ERROR_CASES: dict[str, ErrorCase] = {
    # topic dicts (KeyError for a missing key, TypeError for a wrong type)
    "dict without name": ErrorCase(_v({"policy": "latest"}), KeyError, MissingKeyError, ["'name'"]),
    "dict without policy": ErrorCase(_v({"name": "t"}), KeyError, MissingKeyError, ["'t'", "'policy'"]),
    "defaultdict without name": ErrorCase(_v(collections.defaultdict(str, policy="latest")), KeyError,
                                          MissingKeyError, ["'name'"]),
    "dict name not a string": ErrorCase(_v({"name": 5, "policy": "latest"}), TypeError, ConfigTypeError, ["name", "5"]),
    "dict policy not a string": ErrorCase(_v({"name": "t", "policy": 1}), TypeError, ConfigTypeError, ["policy", "1"]),
    "dict time_ms a string": ErrorCase(_v({"name": "t", "policy": "relative_time", "time_ms": "5"}), TypeError,
                                       ConfigTypeError, ["time_ms", "'5'"]),
    "dict time_ms a float": ErrorCase(_v({"name": "t", "policy": "relative_time", "time_ms": 1.5}), TypeError,
                                      ConfigTypeError, ["time_ms", "1.5"]),
    "dict time_ms None for a time policy": ErrorCase(_v({"name": "t", "policy": "relative_time", "time_ms": None}),
                                                     TypeError, ConfigTypeError, ["relative_time", "time_ms"]),
    # policies (ValueError)
    "unknown policy": ErrorCase(_v(SourceTopic("t", "sometime")), ValueError, ConfigError, ["sometime"]),
    "relative_time without time_ms": ErrorCase(_v(SourceTopic("t", "relative_time")), ValueError, ConfigError,
                                               ["relative_time", "time_ms"]),
    "absolute_time without time_ms": ErrorCase(_v(SourceTopic("t", "absolute_time")), ValueError, ConfigError,
                                               ["absolute_time", "time_ms"]),
    # other objects (AttributeError for a missing attribute, TypeError for a wrong type)
    "object without name": ErrorCase(_v(Obj(policy="latest", time_ms=None)), AttributeError, MissingAttributeError,
                                     ["name", "policy"]),
    "object without policy": ErrorCase(_v(Obj(name="t", time_ms=None)), AttributeError, MissingAttributeError,
                                       ["name", "policy"]),
    "object name not a string": ErrorCase(_v(Obj(name=3, policy="latest", time_ms=None)), TypeError,
                                          ConfigTypeError, ["name", "3"]),
    "SourceTopic time_ms a string": ErrorCase(_v(SourceTopic("t", "relative_time", "5")), TypeError,  # type: ignore[arg-type]
                                              ConfigTypeError, ["time_ms", "'5'"]),
    "a string": ErrorCase(_v("t"), AttributeError, MissingAttributeError, ["'t'", "SourceTopic.from_earliest('t')"]),
    "None": ErrorCase(_v(None), AttributeError, MissingAttributeError, ["NoneType"]),
    "an int": ErrorCase(_v(17), AttributeError, MissingAttributeError, ["int", "17"]),
    # ConsumerManager arguments (TypeError, OverflowError, as 0.0.8's argument conversion)
    "config a list": ErrorCase(_cm([("bootstrap.servers", "x")], [E("t")]), TypeError, ConfigTypeError,
                               ["config", "list"]),
    "config value None": ErrorCase(_cm({**NOWHERE, "client.id": None}, [E("t")]), TypeError, ConfigTypeError,
                                   ["client.id", "None"]),
    "config key an int": ErrorCase(_cm({**NOWHERE, 7: "x"}, [E("t")]), TypeError, ConfigTypeError, ["7"]),
    "topics a string": ErrorCase(_cm(NOWHERE, "t"), TypeError, ConfigTypeError, ["'t'", "list"]),
    "topics a dict": ErrorCase(_cm(NOWHERE, {"name": "t", "policy": "earliest"}), TypeError, ConfigTypeError,
                               ["topics", "dict"]),
    "topics a list of strings": ErrorCase(_cm(NOWHERE, ["t"]), AttributeError, MissingAttributeError,
                                          ["topics[0]", "'t'"]),
    "topics item an int": ErrorCase(_cm(NOWHERE, [E("t"), 42]), AttributeError, MissingAttributeError,
                                    ["topics[1]", "int"]),
    "topics item a dict without name": ErrorCase(_cm(NOWHERE, [{"policy": "earliest"}]), KeyError, MissingKeyError,
                                                 ["topics[0]", "'name'"]),
    "batch_size a string": ErrorCase(_cm(NOWHERE, [E("t")], "100"), TypeError, ConfigTypeError, ["batch_size", "'100'"]),
    "batch_size a float": ErrorCase(_cm(NOWHERE, [E("t")], 1.5), TypeError, ConfigTypeError, ["batch_size", "1.5"]),
    "batch_size negative": ErrorCase(_cm(NOWHERE, [E("t")], -5), OverflowError, ConfigOverflowError,
                                     ["batch_size", "-5"]),
    "batch_size too large": ErrorCase(_cm(NOWHERE, [E("t")], 2**70), OverflowError, ConfigOverflowError,
                                      ["batch_size", str(2**70)]),
    "unknown policy at creation": ErrorCase(_cm(NOWHERE, [SourceTopic("t", "yesterday")]), ValueError,
                                            ConsumerConfigError, ["yesterday"]),
    # found while creating the consumer (RuntimeError)
    "topic listed twice": ErrorCase(_cm(NOWHERE, [E("t"), SourceTopic.from_latest("t")]), RuntimeError,
                                    ConsumerConfigError, ['duplicate topic "t"', "twice"]),
    "unknown librdkafka property": ErrorCase(_cm({**NOWHERE, "no.such.property": "1"}, [E("t")]), RuntimeError,
                                             ConsumerConfigError, ["no.such.property"]),
    "bad librdkafka value": ErrorCase(_cm({**NOWHERE, "fetch.max.bytes": "abc"}, [E("t")]), RuntimeError,
                                      ConsumerConfigError, ["fetch.max.bytes", "abc"]),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_errors_are_also_the_type_0_0_8_raised(case: str) -> None:
    c = ERROR_CASES[case]
    with pytest.raises(c.rust) as info:
        c.call()
    exc = info.value
    assert type(exc) is c.ours, f"{case}: {type(exc).__name__}: {exc}"
    assert isinstance(exc, ConfigError)  # every one is still a kafkars ConfigError
    for culprit in c.culprits:
        assert culprit in str(exc), f"{case}: {culprit!r} not in {str(exc)!r}"


def test_missing_key_error_message_is_plain() -> None:
    """KeyError's str() quotes its argument; ours keeps the message as is
    (pytest.raises(KeyError, match=...) sees the same words either way)."""
    with pytest.raises(KeyError, match="missing 'policy' key") as info:
        validate_source_topic({"name": "t"})
    assert str(info.value).startswith("topics[0] ('t'): missing 'policy' key")


def test_native_error_classes_are_runtime_errors() -> None:
    """0.0.8 raised RuntimeError for everything that went wrong in Kafka or
    while creating or polling the consumer."""
    for cls in (kafkars.TopicNotFoundError, kafkars.BrokerUnavailableError, kafkars.KafkaError,
                kafkars.ClosedError, kafkars.InternalError, ConsumerConfigError):
        assert issubclass(cls, RuntimeError), cls


# -- inputs 0.0.8 accepted --------------------------------------------------------------

Topic = collections.namedtuple("Topic", "name policy time_ms")

#: Topic descriptions 0.0.8 accepted; ours accepts them too, as this topic.
ACCEPTED: dict[str, tuple[object, SourceTopic]] = {
    "dict": ({"name": "t", "policy": "earliest"}, E("t")),
    "dict with time": ({"name": "t", "policy": "relative_time", "time_ms": 5}, SourceTopic("t", "relative_time", 5)),
    "dict with other keys (ignored)": ({"name": "t", "policy": "earliest", "start": 0, "comment": "x"}, E("t")),
    "dict with time_ms under earliest (ignored)": ({"name": "t", "policy": "earliest", "time_ms": 5},
                                                   SourceTopic("t", "earliest", 5)),
    "dict with a numpy time": ({"name": "t", "policy": "absolute_time", "time_ms": np.int64(7)},
                               SourceTopic("t", "absolute_time", 7)),
    "OrderedDict": (collections.OrderedDict(name="t", policy="latest"), SourceTopic("t", "latest")),
    "object": (Obj(name="t", policy="earliest", time_ms=None), E("t")),
    "object with a time": (Obj(name="t", policy="relative_time", time_ms=9), SourceTopic("t", "relative_time", 9)),
    "namedtuple": (Topic("t", "latest", None), SourceTopic("t", "latest")),
    "SourceTopic with a numpy time": (SourceTopic("t", "relative_time", np.int32(3)), SourceTopic("t", "relative_time", 3)),  # type: ignore[arg-type]
}


@pytest.mark.parametrize("case", list(ACCEPTED))
def test_inputs_0_0_8_accepted(case: str) -> None:
    from kafkars._topics import as_source_topic, check_topic_types

    arg, want = ACCEPTED[case]
    assert validate_source_topic(arg) is None  # type: ignore[arg-type]
    t = as_source_topic(arg, 0)
    check_topic_types(t, 0)
    assert t == want and type(t.time_ms) in (int, type(None))


def test_numpy_integers_are_accepted_where_0_0_8_took_integers() -> None:
    assert SourceTopic.from_relative_time("t", np.int64(5)).time_ms == 5
    assert SourceTopic.from_absolute_time("t", np.int64(1_700_000_000_000)).time_ms == 1_700_000_000_000


# -- inputs 0.0.8 accepted that kafkars rejects, on purpose ----------------------------

#: (input, why: words the message must hold). docs/compat.md lists each.
STRICTER: dict[str, tuple[Callable[[], object], type[BaseException], list[str]]] = {
    "empty topic name": (_v(E("")), ConfigError, ["empty"]),
    "negative relative time": (lambda: SourceTopic.from_relative_time("t", -5), ConfigError,
                               ["-5", "future", "nothing"]),
    "negative absolute time": (lambda: SourceTopic.from_absolute_time("t", -2), ConfigError,
                               ["-2", "Kafka reads -1 and -2"]),
    "negative time in a SourceTopic": (_v(SourceTopic("t", "relative_time", -5)), ConfigError, ["-5"]),
    "'value' that is not a format": (_v({"name": "t", "policy": "earliest", "value": "json"}), ConfigTypeError,
                                     ["'json'", "declares how", "undecoded"]),
    "a format under an unknown key": (_v({"name": "t", "policy": "earliest", "values": kafkars.Json()}), ConfigError,
                                      ["'values'", "'key' or 'value'", "undecoded"]),
    "batch_size=0": (_cm(NOWHERE, [E("t")], 0), ConsumerConfigError, ["batch_size", ">= 1"]),
    "no topics": (_cm(NOWHERE, []), ConsumerConfigError, ["topics", "empty"]),
}


@pytest.mark.parametrize("case", list(STRICTER))
def test_stricter_than_0_0_8_with_a_reason(case: str) -> None:
    call, exc, words = STRICTER[case]
    with pytest.raises(exc) as info:
        call()
    assert type(info.value) is exc
    for w in words:
        assert w in str(info.value), f"{case}: {w!r} not in {str(info.value)!r}"


# -- on the broker ---------------------------------------------------------------------

BASE = int(time.time() * 1000) - 3_600_000


@pytest.fixture
def two_topics(tool: KafkaTool, topic_name: str) -> tuple[str, str]:
    """'<name>-z': 3 partitions x 40 records; '<name>-a': 1 partition x 4
    records. z sorts after a but is listed first below."""
    z, a = topic_name + "-z", topic_name + "-a"
    tool.create_topic(z, 3)
    tool.create_topic(a, 1)
    tool.produce([Record(z, key=b"k", value=b"%d" % i, partition=i % 3, ts=BASE + i) for i in range(120)]
                 + [Record(a, key=b"k", value=b"a", partition=0, ts=BASE + i) for i in range(4)])
    return z, a


@pytest.mark.broker
def test_program_written_for_0_0_8(config: dict[str, str], two_topics: tuple[str, str]) -> None:
    """A replay loop as 0.0.8's docs wrote it, with batch_size third and by
    position: every record, batches of at most that size, the same state."""
    z, a = two_topics
    manager = ConsumerManager(config, [SourceTopic.from_earliest(z), SourceTopic.from_latest(a)], 7)
    state = manager.partition_state()
    assert state.schema.equals(RUST_STATE_SCHEMA)
    before = state.to_pylist()
    batches = []
    deadline = time.monotonic() + 30
    while not manager.is_live():
        batch = manager.poll(100)
        assert batch.schema.equals(RUST_MESSAGE_SCHEMA)
        if batch.num_rows:
            batches.append(batch)
        assert time.monotonic() < deadline
    # cutoff_ms in this position would have ended each partition at its first record
    assert sum(b.num_rows for b in batches) == 120
    assert max(b.num_rows for b in batches) <= 7
    after = manager.partition_state()
    assert after.schema.equals(RUST_STATE_SCHEMA)
    assert manager.held_message_count() == 0
    assert manager.get_priming_watermark() is None
    assert manager.paused_partition_count() == 0

    # rows sorted by topic name then partition, as 0.0.8, although z is listed first
    keys = [(r["topic"], r["partition"]) for r in after.to_pylist()]
    assert keys == [(a, 0), (z, 0), (z, 1), (z, 2)]
    # 0.0.8's values: before the first record, consumed and released are the start
    # (timestamp null); a latest topic shows its end; afterwards the last offset
    cols = ("replay_start_offset", "replay_end_offset", "consumed_offset", "released_offset", "is_live")
    a_row = [r for r in before if r["topic"] == a][0]
    assert [a_row[c] for c in cols] == [4, 4, 4, 4, True] and a_row["last_consumed_timestamp"] is None
    for r in after.to_pylist():
        want = [4, 4, 4, 4, True] if r["topic"] == a else [0, 40, 39, 39, True]
        assert [r[c] for c in cols] == want, r
        assert r["is_paused"] is False
    for r in before:
        if r["last_consumed_timestamp"] is None:  # nothing consumed yet
            assert r["consumed_offset"] == r["released_offset"] == r["replay_start_offset"], r

    stats = manager.partition_stats()
    assert stats.schema.equals(kafkars.PARTITION_STATS_SCHEMA)
    assert [(r["topic"], r["partition"]) for r in stats.to_pylist()] == keys
    assert stats.column("topic_rank").to_pylist() == [1, 0, 0, 0]
    assert stats.column("held_messages").to_pylist() == [0, 0, 0, 0]
    assert all(stats.column("is_caught_up").to_pylist())
    html = manager._repr_html_()
    assert "held_messages" in html and "late_messages" in html and "replay_end_offset" in html
    manager.close()


@pytest.mark.broker
def test_poll_argument_errors_as_0_0_8(config: dict[str, str], two_topics: tuple[str, str]) -> None:
    z, _ = two_topics
    with ConsumerManager(config, [{"name": z, "policy": "latest"}]) as m:
        with pytest.raises(OverflowError):
            m.poll(-1)
        with pytest.raises(TypeError):
            m.poll("10")  # type: ignore[arg-type]
        assert m.poll(np.int64(0)).num_rows == 0


@pytest.mark.broker
def test_kafka_errors_are_runtime_errors(config: dict[str, str], topic_name: str) -> None:
    with pytest.raises(RuntimeError) as info:
        ConsumerManager(config, [SourceTopic.from_earliest(topic_name + "-missing")])
    assert type(info.value) is kafkars.TopicNotFoundError
    with pytest.raises(RuntimeError) as info:
        ConsumerManager({"bootstrap.servers": "127.0.0.1:1"}, [E("t")], startup_timeout_ms=1000)
    assert type(info.value) is kafkars.BrokerUnavailableError


@pytest.mark.broker
def test_state_command_shows_statistics(config: dict[str, str], two_topics: tuple[str, str]) -> None:
    import subprocess
    import sys

    z, a = two_topics
    r = subprocess.run([sys.executable, "-m", "kafkars", "state", "-b", config["bootstrap.servers"], "-t", z,
                        "-t", f"{a}:latest", "--wait-ms", "5000"], capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    lines = r.stdout.decode().splitlines()
    assert "held" in lines[0].split()
    assert [ln.split()[0] for ln in lines[1:]] == [a, z, z, z]


def test_datetime_times_still_work() -> None:
    """kafkars' own extensions stay: times as datetimes, durations as strings."""
    t = SourceTopic.from_absolute_time("t", dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    assert t.time_ms == 1_767_225_600_000
    assert SourceTopic.from_relative_time("t", "1h").time_ms == 3_600_000
