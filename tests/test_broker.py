"""Tests for the dev-only local Kafka broker (devtools.broker).

These start a real JVM, so they are marked ``broker``; the first run on a
machine also resolves the Kafka jars from Maven Central (once, then cached).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from devtools.broker import LocalKafka, metadata_brokers  # noqa: E402

# No skip when java or mvn is missing: the suite needs a real broker, and a
# machine without one must fail loudly rather than pass by skipping.
pytestmark = [pytest.mark.broker]


def _alive(pid: int) -> bool:
    """Whether pid is a live process; a zombie counts as dead.

    Orphans are reparented to PID 1, which in some containers never reaps
    them, so a plain kill(pid, 0) would report a dead broker as alive.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    return state not in ("Z", "X")


def _processes_mentioning(text: str) -> list[int]:
    result = subprocess.run(["pgrep", "-f", text], capture_output=True, text=True)
    return [int(pid) for pid in result.stdout.split() if int(pid) != os.getpid()]


def test_start_probe_stop_restart(tmp_path: Path) -> None:
    kafka = LocalKafka(tmp_path / "broker")
    try:
        kafka.start()
        assert kafka.running
        assert kafka.bootstrap == f"127.0.0.1:{kafka.port}"
        assert (1, "127.0.0.1", kafka.port) in metadata_brokers("127.0.0.1", kafka.port)
        java_pid = kafka.broker_pid
        assert java_pid is not None and _alive(java_pid)
        meta = kafka.workdir / "data" / "meta.properties"
        cluster_id = meta.read_text()
        port = kafka.port

        kafka.stop()
        assert not kafka.running
        assert not _alive(java_pid)
        assert meta.read_text() == cluster_id, "stop() must keep the formatted data dir"

        kafka.start()
        assert kafka.port == port
        assert (1, "127.0.0.1", port) in metadata_brokers("127.0.0.1", port)
        assert meta.read_text() == cluster_id, "a restart must not reformat"
        log = kafka.log_path.read_text()
        assert log.count("===== kafkars LocalKafka start") == 2
        assert "Kafka Server started" in log
    finally:
        kafka.close()
    assert not kafka.running


_OWNER_SCRIPT = """
import json, sys, time
from devtools.broker import LocalKafka
kafka = LocalKafka(sys.argv[1])
kafka.start()
print(json.dumps({"port": kafka.port, "java_pid": kafka.broker_pid}), flush=True)
time.sleep(600)
"""


def test_broker_dies_with_sigkilled_owner(tmp_path: Path) -> None:
    workdir = tmp_path / "orphan-broker"
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    owner = subprocess.Popen(
        [sys.executable, "-c", _OWNER_SCRIPT, str(workdir)],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
    )
    java_pid: int | None = None
    try:
        assert owner.stdout is not None
        line = owner.stdout.readline()
        assert line, f"owner process failed to start the broker (exit {owner.wait()})"
        info = json.loads(line)
        java_pid = info["java_pid"]
        assert java_pid is not None and _alive(java_pid)
        assert metadata_brokers("127.0.0.1", info["port"])

        owner.send_signal(signal.SIGKILL)
        owner.wait()

        deadline = time.monotonic() + 25
        while time.monotonic() < deadline and (
            _alive(java_pid) or _processes_mentioning(str(workdir))
        ):
            time.sleep(0.2)
        assert not _alive(java_pid), "broker JVM outlived its SIGKILLed owner"
        assert _processes_mentioning(str(workdir)) == []
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()
        if java_pid is not None and _alive(java_pid):
            os.killpg(java_pid, signal.SIGKILL)
