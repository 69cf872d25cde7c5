"""Errors (docs/design.md, "Errors and lifecycle"): every failure reaches Python as a kafkars
exception whose message names the culprit (the property, topic, value or
broker address), within the time the caller allowed.

Each test checks the exact exception class and the culprit in the message,
and records the message (``record_property``) so that a run with
``--junitxml`` lists them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any, NamedTuple

import pytest

import kafkars
from kafkars import (
    BrokerUnavailableError,
    ClosedError,
    ConfigError,
    ConfigOverflowError,
    ConfigTypeError,
    ConsumerConfigError,
    ConsumerManager,
    KafkarsError,
    MissingAttributeError,
    MissingKeyError,
    SourceTopic,
    TopicNotFoundError,
)
from devtools.kafkatool import KafkaTool, Record
from tests.helpers import silent_address

pytestmark = pytest.mark.broker

Recorder = Callable[[str, object], None]


def expect_error(
    exc_class: type[KafkarsError], fn: Callable[[], object], culprits: list[str], record: Recorder
) -> KafkarsError:
    """Run fn; it must raise exactly exc_class with every culprit in its message."""
    with pytest.raises(KafkarsError) as info:
        fn()
    exc = info.value
    assert type(exc) is exc_class, f"expected {exc_class.__name__}, got {type(exc).__name__}: {exc}"
    msg = str(exc)
    for c in culprits:
        assert c in msg, f"the message does not name {c!r}: {msg!r}"
    record("error_class", type(exc).__name__)
    record("error_message", msg)
    return exc


def closed_port() -> int:
    """A local TCP port nobody listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.fixture(scope="module")
def topic(tool: KafkaTool) -> str:
    """An existing, empty topic with one partition (nothing here writes to it)."""
    name = f"api-errors-{uuid.uuid4().hex[:8]}"
    tool.create_topic(name, partitions=1)
    return name


def counters() -> dict[str, int]:
    gc.collect()
    return kafkars._debug_counters()


# -- creation errors -------------------------------------------------------

Factory = Callable[[dict[str, str], str], object]


class Case(NamedTuple):
    exc: type[KafkarsError]
    make: Factory  # (config, existing topic) -> raises
    culprits: Callable[[dict[str, str], str], list[str]]


def _e(name: str) -> SourceTopic:
    return SourceTopic.from_earliest(name)


CREATION_CASES: dict[str, Case] = {
    "unknown property": Case(
        ConsumerConfigError,
        lambda c, t: ConsumerManager({**c, "no.such.property": "1"}, [_e(t)]),
        lambda c, t: ["no.such.property"],
    ),
    "bad property value fetch.max.bytes='abc'": Case(
        ConsumerConfigError,
        lambda c, t: ConsumerManager({**c, "fetch.max.bytes": "abc"}, [_e(t)]),
        lambda c, t: ["fetch.max.bytes", "abc"],
    ),
    "a Java client name librdkafka does not know: fetch.max.wait.ms": Case(
        ConsumerConfigError,
        lambda c, t: ConsumerManager({**c, "fetch.max.wait.ms": "100"}, [_e(t)]),
        lambda c, t: ['No such configuration property: "fetch.max.wait.ms"'],
    ),
    "bad enum value auto.offset.reset='sideways'": Case(
        ConsumerConfigError,
        lambda c, t: ConsumerManager({**c, "auto.offset.reset": "sideways"}, [_e(t)]),
        lambda c, t: ["auto.offset.reset", "sideways"],
    ),
    "no bootstrap.servers": Case(
        ConsumerConfigError,
        lambda c, t: ConsumerManager({"client.id": "x"}, [_e(t)]),
        lambda c, t: ["bootstrap.servers"],
    ),
    "missing topic": Case(
        TopicNotFoundError,
        lambda c, t: ConsumerManager(c, [_e(t), _e(t + "-missing")]),
        lambda c, t: [f'"{t}-missing"', c["bootstrap.servers"]],
    ),
    "duplicate topics": Case(
        ConsumerConfigError,
        lambda c, t: ConsumerManager(c, [_e(t), SourceTopic.from_latest(t)]),
        lambda c, t: [f'"{t}"', "twice"],
    ),
    "empty topic list": Case(
        ConsumerConfigError,
        lambda c, t: ConsumerManager(c, []),
        lambda c, t: ["topics", "empty"],
    ),
    "negative relative time (reaches the core)": Case(
        ConsumerConfigError,
        lambda c, t: ConsumerManager(c, [{"name": t, "policy": "relative_time", "time_ms": -5}]),
        lambda c, t: [t, "relative_time", "-5"],
    ),
    "negative absolute time (reaches the core)": Case(
        ConsumerConfigError,
        lambda c, t: ConsumerManager(c, [SourceTopic(t, "absolute_time", -7)]),
        lambda c, t: [t, "absolute_time", "-7"],
    ),
    "relative time without time_ms": Case(
        ConsumerConfigError,
        lambda c, t: ConsumerManager(c, [{"name": t, "policy": "relative_time"}]),
        lambda c, t: [t, "time_ms"],
    ),
    "unknown policy": Case(
        ConsumerConfigError,
        lambda c, t: ConsumerManager(c, [{"name": t, "policy": "yesterday"}]),
        lambda c, t: [t, "yesterday"],
    ),
    "batch_size=0": Case(
        ConsumerConfigError,
        lambda c, t: ConsumerManager(c, [_e(t)], batch_size=0),
        lambda c, t: ["batch_size", "0"],
    ),
    "batch_size='100' (a string)": Case(
        ConfigTypeError,
        lambda c, t: ConsumerManager(c, [_e(t)], batch_size="100"),  # type: ignore[arg-type]
        lambda c, t: ["batch_size", "'100'"],
    ),
    "negative linger_ms": Case(
        ConsumerConfigError,
        lambda c, t: ConsumerManager(c, [_e(t)], linger_ms=-1),
        lambda c, t: ["linger_ms", "-1"],
    ),
    "startup_timeout_ms=0": Case(
        ConsumerConfigError,
        lambda c, t: ConsumerManager(c, [_e(t)], startup_timeout_ms=0),
        lambda c, t: ["startup_timeout_ms", "0"],
    ),
    "negative cutoff_ms": Case(
        ConsumerConfigError,
        lambda c, t: ConsumerManager(c, [_e(t)], cutoff_ms=-1),
        lambda c, t: ["cutoff_ms", "-1"],
    ),
    "config value of type list": Case(
        ConfigTypeError,
        lambda c, t: ConsumerManager({**c, "fetch.max.bytes": [1024]}, [_e(t)]),
        lambda c, t: ["fetch.max.bytes", "list"],
    ),
    "config value None": Case(
        ConfigTypeError,
        lambda c, t: ConsumerManager({**c, "client.id": None}, [_e(t)]),
        lambda c, t: ["client.id", "None"],
    ),
    "config value of type bytes": Case(
        ConfigTypeError,
        lambda c, t: ConsumerManager({**c, "client.id": b"me"}, [_e(t)]),
        lambda c, t: ["client.id", "bytes"],
    ),
    "config key not a string": Case(
        ConfigTypeError,
        lambda c, t: ConsumerManager({**c, 7: "x"}, [_e(t)]),  # type: ignore[dict-item]
        lambda c, t: ["7"],
    ),
    "topics as a bare string": Case(
        ConfigTypeError,
        lambda c, t: ConsumerManager(c, t),  # type: ignore[arg-type]
        lambda c, t: [repr(t), "list"],
    ),
    "topics as a list of strings": Case(
        MissingAttributeError,
        lambda c, t: ConsumerManager(c, [t]),  # type: ignore[list-item]
        lambda c, t: ["topics[0]", repr(t)],
    ),
    "topics item of type int": Case(
        MissingAttributeError,
        lambda c, t: ConsumerManager(c, [_e(t), 42]),  # type: ignore[list-item]
        lambda c, t: ["topics[1]", "int"],
    ),
    "topics as a dict": Case(
        ConfigTypeError,
        lambda c, t: ConsumerManager(c, {"name": t, "policy": "earliest"}),  # type: ignore[arg-type]
        lambda c, t: ["topics", "dict"],
    ),
}


@pytest.mark.parametrize("case", list(CREATION_CASES), ids=list(CREATION_CASES))
def test_creation_error(case: str, config: dict[str, str], topic: str, record_property: Recorder) -> None:
    c = CREATION_CASES[case]
    before = counters()
    t0 = time.monotonic()
    expect_error(c.exc, lambda: c.make(config, topic), c.culprits(config, topic), record_property)
    assert time.monotonic() - t0 < 5
    after = counters()
    # A failed creation leaves nothing behind.
    assert after["live_handles"] == before["live_handles"]
    assert after["live_managers"] == before["live_managers"]


@pytest.mark.parametrize("name", ["fetch.message.max.bytes", "max.partition.fetch.bytes"])
def test_fetch_size_is_accepted_under_both_names(name: str, config: dict[str, str], tool: KafkaTool, record_property: Recorder) -> None:
    """librdkafka accepts the Java client's max.partition.fetch.bytes as an
    alias of its own fetch.message.max.bytes (docs/troubleshooting.md)."""
    t = f"api-fetch-size-{uuid.uuid4().hex[:8]}"
    tool.create_topic(t, partitions=2)
    tool.produce([Record(t, value=b"v" * 2000, partition=i % 2, ts=1_700_000_000_000 + i) for i in range(300)])
    with ConsumerManager({**config, name: 4096}, [_e(t)]) as m:
        assert m.read_all().num_rows == 300
    # Out of range through either name, librdkafka names the property it stores.
    exc = expect_error(
        ConsumerConfigError, lambda: ConsumerManager({**config, name: 0}, [_e(t)]), [name, '"fetch.message.max.bytes"', "1..1000000000"], record_property
    )
    assert not str(exc).endswith("\n")


def test_errors_derive_from_builtin_classes() -> None:
    assert issubclass(ConfigError, ValueError)
    assert issubclass(TopicNotFoundError, LookupError)
    assert issubclass(BrokerUnavailableError, ConnectionError)
    assert issubclass(ClosedError, RuntimeError)
    # what the Rust kafkars raised for the same faults (tests/test_compat.py has the cases)
    for cls in (TopicNotFoundError, BrokerUnavailableError, ClosedError, kafkars.KafkaError, kafkars.InternalError, ConsumerConfigError):
        assert issubclass(cls, RuntimeError), cls
    for cls, builtin in ((MissingKeyError, KeyError), (ConfigTypeError, TypeError),
                         (MissingAttributeError, AttributeError), (ConfigOverflowError, OverflowError)):
        assert issubclass(cls, ConfigError) and issubclass(cls, builtin), cls
    for cls in (ConfigError, TopicNotFoundError, BrokerUnavailableError, ClosedError, kafkars.KafkaError, kafkars.InternalError):
        assert issubclass(cls, KafkarsError)


NEGATIVE_TIMES: dict[str, tuple[Callable[[str], SourceTopic], list[str]]] = {
    "from_relative_time(-5)": (lambda t: SourceTopic.from_relative_time(t, -5), ["relative", "-5"]),
    "from_relative_time(timedelta(seconds=-3))": (
        lambda t: SourceTopic.from_relative_time(t, dt.timedelta(seconds=-3)),
        ["relative", "-3000"],
    ),
    "from_absolute_time(-1)": (lambda t: SourceTopic.from_absolute_time(t, -1), ["absolute", "-1"]),
    "from_absolute_time(datetime(1969, 12, 31))": (
        lambda t: SourceTopic.from_absolute_time(t, dt.datetime(1969, 12, 31, tzinfo=dt.timezone.utc)),
        ["absolute", "1969-12-31", "-86400000"],
    ),
}


@pytest.mark.parametrize("case", list(NEGATIVE_TIMES), ids=list(NEGATIVE_TIMES))
def test_negative_time_is_rejected_by_the_constructor(case: str, record_property: Recorder) -> None:
    make, culprits = NEGATIVE_TIMES[case]
    expect_error(ConfigError, lambda: make("trades"), ["trades", *culprits], record_property)


def test_bad_times_are_rejected(record_property: Recorder) -> None:
    expect_error(
        ConfigTypeError, lambda: SourceTopic.from_relative_time("q", 1.5), ["q", "1.5"], record_property  # type: ignore[arg-type]
    )
    expect_error(
        ConfigError, lambda: SourceTopic.from_absolute_time("q", "yesterday-ish"), ["q", "yesterday-ish", "2026-11-23"], record_property
    )
    expect_error(
        ConfigError, lambda: SourceTopic.from_relative_time("q", "1 fortnight"), ["q", "1 fortnight", "15m"], record_property
    )


# -- the broker --------------------------------------------------------------


def test_refused_broker_fails_at_once(record_property: Recorder) -> None:
    """Nothing listens at the bootstrap address: creation fails at once
    (not after startup_timeout_ms), naming the address and the refusal."""
    addr = f"127.0.0.1:{closed_port()}"
    before = counters()
    t0 = time.monotonic()
    expect_error(
        BrokerUnavailableError,
        lambda: ConsumerManager({"bootstrap.servers": addr}, [_e("anything")], startup_timeout_ms=10_000),
        [addr, "refused"],
        record_property,
    )
    elapsed = time.monotonic() - t0
    record_property("elapsed_s", round(elapsed, 3))
    print(f"refused broker with startup_timeout_ms=10000: BrokerUnavailableError after {elapsed:.3f}s")
    assert elapsed < 1.0, "creation waited instead of failing at once"
    after = counters()
    assert after["live_handles"] == before["live_handles"]
    assert after["live_managers"] == before["live_managers"]


def test_every_refusing_address_is_named(record_property: Recorder) -> None:
    a, b = f"127.0.0.1:{closed_port()}", f"[::1]:{closed_port()}"
    servers = f"PLAINTEXT://{a}, {b}"
    if not socket.has_ipv6 or not _ipv6_loopback():
        servers, b = f"PLAINTEXT://{a}", a
    t0 = time.monotonic()
    expect_error(
        BrokerUnavailableError,
        lambda: ConsumerManager({"bootstrap.servers": servers}, [_e("anything")]),
        [a, b, "refused"],
        record_property,
    )
    assert time.monotonic() - t0 < 1.0


def test_one_refusing_address_is_not_enough(record_property: Recorder) -> None:
    """One address refuses, the other accepts and never answers: librdkafka
    decides, so creation waits for startup_timeout_ms."""
    with silent_address() as silent:
        servers = f"127.0.0.1:{closed_port()},{silent}"
        t0 = time.monotonic()
        expect_error(
            BrokerUnavailableError,
            lambda: ConsumerManager({"bootstrap.servers": servers}, [_e("anything")], startup_timeout_ms=1500),
            [servers, "startup_timeout_ms=1500"],
            record_property,
        )
        elapsed = time.monotonic() - t0
    assert 1.4 < elapsed < 4, elapsed


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


BLACKHOLE = "10.255.255.1:9092"


def _blackhole_refuses() -> bool:
    host, port = BLACKHOLE.split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return False  # accepted (an intercepting network): not a refusal either
    except ConnectionRefusedError:
        return True
    except OSError:
        return False  # timed out or unreachable: what a blackhole does


@pytest.mark.parametrize("where", ["silent listener", "blackholed address"])
def test_unreachable_broker_still_waits_for_startup_timeout(where: str, record_property: Recorder) -> None:
    """An address that does not refuse (it accepts and never answers, or
    drops the connection attempt) is left to librdkafka: creation fails
    with BrokerUnavailableError after startup_timeout_ms, not before."""
    if where == "blackholed address" and _blackhole_refuses():
        pytest.skip(f"{BLACKHOLE} refuses connections on this machine")
    with contextlib.ExitStack() as stack:
        addr = stack.enter_context(silent_address()) if where == "silent listener" else BLACKHOLE
        t0 = time.monotonic()
        expect_error(
            BrokerUnavailableError,
            lambda: ConsumerManager({"bootstrap.servers": addr}, [_e("anything")], startup_timeout_ms=2000),
            [addr, "startup_timeout_ms=2000"],
            record_property,
        )
        elapsed = time.monotonic() - t0
    record_property("elapsed_s", round(elapsed, 3))
    print(f"{where} with startup_timeout_ms=2000: BrokerUnavailableError after {elapsed:.2f}s")
    assert 1.9 < elapsed < 5, elapsed


def test_unresolvable_broker_fails_within_startup_timeout(record_property: Recorder) -> None:
    addr = "no-such-host.invalid:9092"
    t0 = time.monotonic()
    expect_error(
        BrokerUnavailableError,
        lambda: ConsumerManager({"bootstrap.servers": addr}, [_e("anything")], startup_timeout_ms=2000),
        [addr],
        record_property,
    )
    assert time.monotonic() - t0 < 5


@pytest.mark.slow
def test_unreachable_broker_default_bound(record_property: Recorder) -> None:
    """Without startup_timeout_ms creation gives up after the documented
    default (15 s), not never."""
    with silent_address() as addr:
        t0 = time.monotonic()
        expect_error(
            BrokerUnavailableError,
            lambda: ConsumerManager({"bootstrap.servers": addr}, [_e("anything")]),
            [addr, "startup_timeout_ms=15000"],
            record_property,
        )
        elapsed = time.monotonic() - t0
    record_property("elapsed_s", round(elapsed, 3))
    print(f"unreachable broker, default bound: BrokerUnavailableError after {elapsed:.2f}s")
    assert 14.5 < elapsed < 15 + 3


# -- a closed manager ----------------------------------------------------------

CLOSED_CALLS: dict[str, Callable[[ConsumerManager], object]] = {
    "poll()": lambda m: m.poll(timeout_ms=100),
    "poll(0)": lambda m: m.poll(0),
    "metrics()": lambda m: m.metrics(),
    "is_live()": lambda m: m.is_live(),
    "held_message_count()": lambda m: m.held_message_count(),
    "paused_partition_count()": lambda m: m.paused_partition_count(),
    "get_priming_watermark()": lambda m: m.get_priming_watermark(),
    "partition_state()": lambda m: m.partition_state(),
    "partition_lag()": lambda m: m.partition_lag(),
    "commit()": lambda m: m.commit(),
    "iter(m)": lambda m: next(iter(m)),
    "iter_batches()": lambda m: next(m.iter_batches()),
    "read_all()": lambda m: m.read_all(),
    "to_reader()": lambda m: m.to_reader(),
    "with m:": lambda m: m.__enter__(),
}


def test_closed_manager(config: dict[str, str], topic: str, record_property: Recorder) -> None:
    m = ConsumerManager(config, [_e(topic)])
    assert m.poll(timeout_ms=0).num_rows == 0  # usable before close
    m.close()
    assert m.closed
    m.close()  # twice is fine
    m.close()
    for name, call in CLOSED_CALLS.items():
        with pytest.raises(ClosedError) as info:
            call(m)
        assert topic in str(info.value) and "closed" in str(info.value), (name, str(info.value))
    # poll after close, the headline case: the message names the manager's topics
    expect_error(ClosedError, lambda: m.poll(timeout_ms=1000), [topic, "closed"], record_property)
    assert "closed=True" in repr(m) and topic in repr(m)  # repr does not raise
    m.close()


def test_close_from_another_thread_ends_a_blocked_poll(config: dict[str, str], topic: str, record_property: Recorder) -> None:
    import threading

    m = ConsumerManager(config, [_e(topic)])
    result: dict[str, Any] = {}

    def poller() -> None:
        t0 = time.monotonic()
        try:
            m.poll(timeout_ms=60_000)
            result["returned"] = True
        except BaseException as exc:  # noqa: BLE001 - inspected below
            result["exc"] = exc
        result["elapsed"] = time.monotonic() - t0

    th = threading.Thread(target=poller)
    th.start()
    time.sleep(0.3)
    assert th.is_alive()  # really blocked in poll
    t_close = time.monotonic()
    m.close()
    th.join(timeout=5)
    assert not th.is_alive(), "poll still blocked 5 s after close()"
    woke = time.monotonic() - t_close
    assert "returned" not in result
    exc = result["exc"]
    assert type(exc) is ClosedError, repr(exc)
    assert "closed" in str(exc) and topic in str(exc), str(exc)
    record_property("error_class", type(exc).__name__)
    record_property("error_message", str(exc))
    print(f"close() woke a blocked poll after {woke * 1000:.0f} ms")
    assert woke < 1.0


def test_poll_argument_errors(config: dict[str, str], topic: str, record_property: Recorder) -> None:
    with ConsumerManager(config, [_e(topic)]) as m:
        expect_error(ConfigOverflowError, lambda: m.poll(timeout_ms=-1), ["timeout_ms", "-1"], record_property)
        expect_error(ConfigTypeError, lambda: m.poll(timeout_ms="10"), ["timeout_ms", "'10'"], record_property)  # type: ignore[arg-type]
        assert m.poll(timeout_ms=0).num_rows == 0  # still usable


# -- validate_source_topic -------------------------------------------------------

VALIDATE_CASES: dict[str, tuple[type[KafkarsError], object, list[str]]] = {
    "unknown policy": (ConfigError, {"name": "trades", "policy": "sometime"}, ["trades", "sometime"]),
    "negative relative time": (ConfigError, SourceTopic("trades", "relative_time", -1), ["trades", "-1"]),
    "negative absolute time": (ConfigError, {"name": "trades", "policy": "absolute_time", "time_ms": -2}, ["trades", "-2"]),
    "absolute time missing": (ConfigError, SourceTopic("trades", "absolute_time", None), ["trades", "time_ms"]),
    "empty name": (ConfigError, SourceTopic.from_earliest(""), ["name", "empty"]),
    "name too long": (ConfigError, SourceTopic.from_earliest("t" * 250), ["t" * 250, "249"]),
    "bare string": (MissingAttributeError, "trades", ["'trades'"]),
    "int": (MissingAttributeError, 17, ["int"]),
    "dict with a format under an unknown key": (
        ConfigError, {"name": "trades", "policy": "earliest", "values": kafkars.Json()}, ["trades", "'values'", "Json"]),
    "dict without policy": (MissingKeyError, {"name": "trades"}, ["trades", "policy"]),
    "time_ms a string": (ConfigTypeError, SourceTopic("trades", "relative_time", "5"), ["trades", "'5'"]),  # type: ignore[arg-type]
}


@pytest.mark.parametrize("case", list(VALIDATE_CASES), ids=list(VALIDATE_CASES))
def test_validate_source_topic_errors(case: str, record_property: Recorder) -> None:
    exc, arg, culprits = VALIDATE_CASES[case]
    expect_error(exc, lambda: kafkars.validate_source_topic(arg), culprits, record_property)  # type: ignore[arg-type]


def test_validate_source_topic_accepts_good_topics() -> None:
    for t in (
        SourceTopic.from_earliest("a"),
        SourceTopic.from_latest("a"),
        SourceTopic.from_relative_time("a", dt.timedelta(hours=1)),
        SourceTopic.from_absolute_time("a", dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)),
        {"name": "b", "policy": "relative_time", "time_ms": 1000},
        {"name": "b", "policy": "earliest", "start": 0},  # other keys are ignored
    ):
        assert kafkars.validate_source_topic(t) is None  # type: ignore[arg-type]
