"""kafkars.testing, the local Kafka broker users start for notebooks and
their own tests: LocalKafka with a data directory the user owns, the
``kafka_broker`` pytest fixture (a pytest11 plugin that costs nothing when
unused), the ``kafkars broker`` command, and clear errors when java or mvn
is missing. Every broker here is a real one, started from the cached jars.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import kafkars
from kafkars import SourceTopic
from kafkars.testing import LocalKafka, MissingToolError, metadata_brokers
from devtools.kafkatool import KafkaTool, Record

pytestmark = pytest.mark.broker

REPO_ROOT = Path(__file__).resolve().parent.parent
DOCS_GUIDE = REPO_ROOT / "docs" / "guides" / "testing.md"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def fill(bootstrap: str, topic: str, n: int = 400) -> None:
    tool = KafkaTool(bootstrap)
    tool.create_topic(topic, 2)
    tool.produce([Record(topic, key=b"k", value=f"v{i}".encode(), partition=i % 2, ts=1_700_000_000_000 + i) for i in range(n)])


def rows(bootstrap: str, topic: str) -> list[tuple[int, int, bytes]]:
    t = kafkars.read_topics({"bootstrap.servers": bootstrap}, [SourceTopic.from_earliest(topic)])
    return list(zip(t.column("partition").to_pylist(), t.column("offset").to_pylist(), t.column("value").to_pylist()))


def java_processes_mentioning(text: str) -> list[int]:
    out = subprocess.run(["pgrep", "-f", text], capture_output=True, text=True).stdout
    return [int(p) for p in out.split() if int(p) != os.getpid()]


# -- LocalKafka and its data directory -------------------------------------


def test_data_dir_is_kept_and_reused(tmp_path: Path) -> None:
    d = tmp_path / "kafka-data"
    with LocalKafka(d) as first:
        assert not first.temporary and first.data_dir == d.resolve()
        fill(first.bootstrap, "trades")
        before = rows(first.bootstrap, "trades")
        port = first.port
    assert len(before) == 400
    assert (d / "data" / "meta.properties").is_file() and (d / "broker.log").is_file(), "close() must keep a given data_dir"

    with LocalKafka(d) as second:  # same directory: same data, same port (still free)
        assert second.port == port
        assert rows(second.bootstrap, "trades") == before
        with pytest.raises(RuntimeError, match="in use by another running LocalKafka"):
            LocalKafka(d).start()
        assert second.running

    other = free_port()
    with LocalKafka(d, port=other) as third:  # another port, the same data
        assert third.bootstrap == f"127.0.0.1:{other}"
        assert (1, "127.0.0.1", other) in metadata_brokers("127.0.0.1", other)
        assert rows(third.bootstrap, "trades") == before
    assert d.is_dir()


def test_temporary_data_dir_is_removed() -> None:
    port = free_port()
    with LocalKafka(port=port) as kafka:
        assert kafka.temporary and kafka.bootstrap == f"127.0.0.1:{port}"
        d = kafka.data_dir
        assert d.is_dir()
        assert "running" in repr(kafka) and f"127.0.0.1:{port}" in repr(kafka)
    assert not d.exists()
    assert java_processes_mentioning(str(d)) == []


def test_errors_before_any_broker_starts(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        t0 = time.monotonic()
        with pytest.raises(RuntimeError, match=f"port {port} on 127.0.0.1 is in use"):
            LocalKafka(port=port).start()
        assert time.monotonic() - t0 < 10
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("not a broker")
    with pytest.raises(RuntimeError, match="is not empty and holds no broker made by kafkars.testing"):
        LocalKafka(foreign).start()
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"], "a foreign directory must be left alone"
    for bad in (0, 70000, "9092"):
        with pytest.raises(ValueError, match="port must be an int from 1 to 65535"):
            LocalKafka(port=bad)  # type: ignore[arg-type]


# -- java and mvn -------------------------------------------------------------

START = "from kafkars.testing import LocalKafka; LocalKafka().start()"


def run_without(path_dirs: list[Path], code: str, cache: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PATH=os.pathsep.join(str(p) for p in path_dirs))
    if cache is not None:
        env["KAFKARS_CACHE"] = str(cache)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


def last_line(stderr: str) -> str:
    return stderr.strip().splitlines()[-1]


def test_missing_java_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Jars cached (the session broker resolved them): only java is needed."""
    monkeypatch.setenv("PATH", str(tmp_path))
    kafka = LocalKafka()
    with pytest.raises(MissingToolError, match="needs java on PATH"):
        with kafka:
            pass
    assert not kafka.data_dir.exists(), "a failed start cleans up its temporary directory"
    monkeypatch.undo()
    r = run_without([tmp_path], START)
    assert r.returncode != 0
    err = last_line(r.stderr)
    assert err.startswith("kafkars.testing._broker.MissingToolError: the local Kafka broker (kafkars.testing) "
                          "needs java on PATH, and it is not found: java (a Java runtime, 17 or newer)"), err
    assert "mvn (Apache Maven)" not in err and "Install it, e.g. `apt-get install" in err, err


def test_missing_java_and_mvn_are_named_when_jars_are_not_cached(tmp_path: Path) -> None:
    r = run_without([tmp_path], START, cache=tmp_path / "empty-cache")
    err = last_line(r.stderr)
    assert "needs java and mvn on PATH, and they are not found" in err, err
    assert "downloads the Kafka 4.1.0 jars from Maven Central" in err and str(tmp_path / "empty-cache") in err


def test_missing_mvn_is_named(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    java = shutil.which("java")
    assert java is not None
    (bin_dir / "java").symlink_to(java)
    r = run_without([bin_dir], START, cache=tmp_path / "empty-cache")
    err = last_line(r.stderr)
    assert "needs mvn on PATH, and it is not found: mvn (Apache Maven)" in err, err
    assert not (tmp_path / "empty-cache" / "kafka-4.1.0").exists()


def test_old_java_is_named(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "java"  # what an old JDK prints
    fake.write_text('#!/bin/sh\necho \'openjdk version "1.8.0_292"\' >&2\n')
    fake.chmod(0o755)
    r = run_without([bin_dir], START)
    err = last_line(r.stderr)
    assert f"needs Java 17 or newer, but {fake} is version 1.8.0_292" in err, err


def test_cli_missing_java_exits_1_with_one_line(tmp_path: Path) -> None:
    env = dict(os.environ, PATH=str(tmp_path))
    r = subprocess.run([sys.executable, "-m", "kafkars", "broker"], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 1, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "kafkars: error: the local Kafka broker (kafkars.testing) needs java on PATH" in r.stderr


# -- the pytest plugin ----------------------------------------------------------


def pytest_in(directory: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=directory, capture_output=True, text=True, timeout=timeout,
    )


def test_plugin_is_registered_and_can_be_disabled(tmp_path: Path) -> None:
    r = pytest_in(tmp_path, "--fixtures")
    assert "kafka_broker [session scope]" in r.stdout, r.stdout[-3000:]
    assert "kafkars/testing/pytest_plugin.py" in r.stdout
    r = pytest_in(tmp_path, "--fixtures", "-p", "no:kafkars")
    assert "kafka_broker" not in r.stdout


def test_plugin_costs_nothing_when_unused(tmp_path: Path) -> None:
    (tmp_path / "test_plain.py").write_text(textwrap.dedent(
        """
        import os
        import sys

        def test_nothing_of_kafkars_is_loaded():
            assert "kafkars.testing.pytest_plugin" in sys.modules  # the plugin is active
            for heavy in ("pyarrow", "kafkars._lib", "kafkars._manager"):
                assert heavy not in sys.modules, heavy
            pid = os.getpid()
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                assert f.read().split() == [], "no process started (no supervisor, no JVM)"
        """
    ))
    t0 = time.monotonic()
    r = pytest_in(tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 passed" in r.stdout
    assert time.monotonic() - t0 < 30


def test_the_guide_example_runs_with_the_fixture(tmp_path: Path) -> None:
    """The pytest example of docs/guides/testing.md, as a user's test file."""
    text = DOCS_GUIDE.read_text()
    blocks = [b for b in re.findall(r"^```python\n(.*?)^```", text, re.S | re.M) if "def test_" in b and "kafka_broker" in b]
    assert len(blocks) == 1, "the guide has one pytest example"
    (tmp_path / "test_example.py").write_text(blocks[0])
    (tmp_path / "test_fails.py").write_text("def test_fails(kafka_broker):\n    assert False, 'on purpose'\n")
    r = pytest_in(tmp_path, "-rA")
    out = r.stdout + r.stderr
    assert "1 failed, 1 passed" in out, out[-4000:]
    assert "kafka broker log (tail)" in out, "a failing test that used the broker gets its log"
    kept = list(Path(tmp_path).glob("**/broker.log"))
    assert kept == [], "the broker's data lives under pytest's basetemp, not in the project"


# -- kafkars broker -------------------------------------------------------------


def test_cli_broker_foreground_ctrl_c(tmp_path: Path) -> None:
    d = tmp_path / "cli-data"
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kafkars", "broker", "--data-dir", str(d), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line == f"127.0.0.1:{port}", (line, proc.poll(), proc.stderr.read() if proc.poll() is not None and proc.stderr else "")
        fill(line, "cli-trades", 100)
        assert len(rows(line, "cli-trades")) == 100
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole foreground group
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 0, err
    assert f"broker ready at 127.0.0.1:{port}" in err and "Ctrl-C to stop" in err and "broker stopped" in err, err
    assert java_processes_mentioning(str(d)) == []
    assert (d / "data" / "meta.properties").is_file()

    with LocalKafka(d) as again:  # what the command left is reusable
        assert again.port == port
        assert len(rows(again.bootstrap, "cli-trades")) == 100


def test_cli_broker_temporary_and_sigterm() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "kafkars", "broker"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stderr is not None
        bootstrap = proc.stdout.readline().strip()
        assert re.fullmatch(r"127\.0\.0\.1:\d+", bootstrap), bootstrap
        ready = proc.stderr.readline()
        m = re.search(r"data dir (\S+), temporary, removed on exit", ready)
        assert m, ready
        d = Path(m.group(1))
        assert d.is_dir()
        proc.send_signal(signal.SIGTERM)  # only the command, not its group
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert not d.exists()
    assert java_processes_mentioning(str(d)) == []


def test_cli_broker_bad_port_exits_2() -> None:
    r = subprocess.run([sys.executable, "-m", "kafkars", "broker", "--port", "99999"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "bad port '99999'" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
