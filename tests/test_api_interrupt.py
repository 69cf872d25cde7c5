"""Ctrl-C: Python runs its SIGINT handler only between C calls, so kafkars
waits in short slices. A real SIGINT sent to a child Python process blocked
in a long ``poll(timeout_ms=60000)`` (or in creation) raises
KeyboardInterrupt at once.

The child is a fresh interpreter (subprocess, never fork: the Go runtime is
loaded). It installs Python's default SIGINT handler itself: a test process
started with SIGINT ignored (a background job, nohup, some CI runners)
passes that on, and Python then installs no KeyboardInterrupt handler. Both
processes read CLOCK_MONOTONIC, so the child's timestamps are comparable
with the parent's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable
from typing import IO

import pytest

from devtools.broker import LocalKafka
from devtools.kafkatool import KafkaTool
from tests.helpers import silent_address

Recorder = Callable[[str, object], None]

pytestmark = pytest.mark.broker

POLL_CHILD = textwrap.dedent(
    """
    import signal, sys, time
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from kafkars import ConsumerManager, SourceTopic

    m = ConsumerManager({"bootstrap.servers": sys.argv[1]}, [SourceTopic.from_earliest(sys.argv[2])])
    rounds = int(sys.argv[3])
    for i in range(rounds):
        print("POLLING", time.monotonic(), flush=True)
        try:
            m.poll(timeout_ms=60000)
            print("RETURNED", time.monotonic(), flush=True)
        except KeyboardInterrupt:
            print("INTERRUPTED", time.monotonic(), flush=True)
    # still usable after an interrupted poll
    b = m.poll(timeout_ms=0)
    print("USABLE", b.num_rows, m.is_live(), flush=True)
    # the last one is not caught: the process dies of KeyboardInterrupt
    print("POLLING", time.monotonic(), flush=True)
    m.poll(timeout_ms=60000)
    print("RETURNED", time.monotonic(), flush=True)
    """
)

CREATE_CHILD = textwrap.dedent(
    """
    import signal, sys, time
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from kafkars import ConsumerManager, SourceTopic

    print("CREATING", time.monotonic(), flush=True)
    ConsumerManager({"bootstrap.servers": sys.argv[1]}, [SourceTopic.from_earliest("t")], startup_timeout_ms=10000)
    print("CREATED", time.monotonic(), flush=True)
    """
)


def read_marker(stream: IO[str], marker: str, proc: subprocess.Popen[str], timeout_s: float = 60) -> float:
    """Wait for 'MARKER <monotonic>' on the child's stdout; its timestamp."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            err = proc.stderr.read() if proc.stderr else ""
            raise AssertionError(f"child ended before {marker!r} (rc={proc.poll()}): {err[-2000:]}")
        parts = line.split()
        if parts and parts[0] == marker:
            return float(parts[1])
        assert parts[0] not in ("RETURNED", "CREATED"), f"child did not block: {line!r}"
    raise AssertionError(f"no {marker!r} from the child within {timeout_s}s")


def spawn(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def test_ctrl_c_interrupts_a_long_poll(kafka: LocalKafka, tool: KafkaTool, record_property: Recorder) -> None:
    topic = f"api-interrupt-{uuid.uuid4().hex[:8]}"
    tool.create_topic(topic, partitions=1)
    bootstrap = kafka.bootstrap
    # SIGINT at several phases of the native wait slices (which are 100 ms).
    delays = [0.25, 0.33, 0.41, 0.49, 0.37]
    caught_rounds = len(delays) - 1
    proc = spawn(POLL_CHILD, bootstrap, topic, str(caught_rounds))
    assert proc.stdout is not None
    latencies: list[float] = []
    try:
        for i, delay in enumerate(delays):
            read_marker(proc.stdout, "POLLING", proc)
            time.sleep(delay)  # well inside the 60 s poll
            assert proc.poll() is None
            t_sig = time.monotonic()
            proc.send_signal(signal.SIGINT)
            if i < caught_rounds:
                t_exc = read_marker(proc.stdout, "INTERRUPTED", proc)
                latencies.append(t_exc - t_sig)
                if i == caught_rounds - 1:
                    line = proc.stdout.readline().split()
                    assert line[:3] == ["USABLE", "0", "True"], line
            else:
                proc.wait(timeout=10)
                t_exit = time.monotonic()
        err = proc.stderr.read() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    exit_latency = t_exit - t_sig
    summary = (
        f"SIGINT -> KeyboardInterrupt: {', '.join(f'{x * 1000:.0f}' for x in latencies)} ms; "
        f"SIGINT -> process exit: {exit_latency * 1000:.0f} ms"
    )
    print(summary)
    record_property("interrupt_latency", summary)
    # Python re-raises an uncaught KeyboardInterrupt as death by SIGINT.
    assert proc.returncode == -signal.SIGINT, (proc.returncode, err[-2000:])
    assert "KeyboardInterrupt" in err
    assert max(latencies) < 0.3, latencies
    assert exit_latency < 0.5, exit_latency


def test_ctrl_c_interrupts_creation(record_property: Recorder) -> None:
    """Creation against an unreachable broker (one that accepts the
    connection and never answers) blocks up to startup_timeout_ms (here
    10 s): Ctrl-C still ends it at once."""
    with silent_address() as addr:
        _ctrl_c_during_creation(addr, record_property)


def _ctrl_c_during_creation(addr: str, record_property: Recorder) -> None:
    proc = spawn(CREATE_CHILD, addr)
    assert proc.stdout is not None
    try:
        read_marker(proc.stdout, "CREATING", proc)
        time.sleep(0.5)
        assert proc.poll() is None
        t_sig = time.monotonic()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=15)
        exit_latency = time.monotonic() - t_sig
        err = proc.stderr.read() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    print(f"SIGINT during creation -> process exit: {exit_latency * 1000:.0f} ms")
    record_property("interrupt_latency", f"{exit_latency * 1000:.0f} ms")
    assert proc.returncode == -signal.SIGINT, (proc.returncode, err[-2000:])
    assert "KeyboardInterrupt" in err
    assert exit_latency < 1.0, exit_latency
