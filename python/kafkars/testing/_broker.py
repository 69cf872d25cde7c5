"""A real single-node Apache Kafka broker, for notebooks and tests.

Why a real broker rather than a mock: kafkars speaks the Kafka protocol, and
only a real broker exercises fetch sessions, record batches, offsets and
restarts the way production does. Why not Docker: many machines have none,
but they do reach Maven Central, so the broker is assembled from the
published ``kafka_2.13`` jar and its runtime dependencies (resolved once by
Maven, then cached) and run with the local JVM in KRaft mode (no ZooKeeper).

Typical use::

    with LocalKafka() as kafka:            # a temporary data directory
        client = Consumer(bootstrap=kafka.bootstrap)
        ...
        kafka.restart()   # same port, same data

    with LocalKafka("kafka-data") as kafka:   # kept after close, reused next time
        ...

The JVM is started through :mod:`kafkars.testing._supervisor`, so it dies
with the owning Python process however that process ends (even ``kill -9``
or a restarted Jupyter kernel).
"""

from __future__ import annotations

import atexit
import base64
import fcntl
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO

from kafkars.testing import _supervisor

KAFKA_VERSION = "4.1.0"
SLF4J_VERSION = "1.7.36"
# Pinned so that Maven does not go looking for "the latest" plugin version,
# which warns and makes the download depend on the day it runs.
DEPENDENCY_PLUGIN_VERSION = "3.8.1"

#: Kafka 4 runs on Java 17 or newer.
MIN_JAVA = 17

_COMPLETE_MARKER = ".complete"
_LOG_TAIL_ON_ERROR = 40
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
#: In a data directory: what kafkars.testing made it with (ports, versions).
_STATE_FILE = "kafkars-broker.json"
#: In a data directory: held (flock) by the LocalKafka running on it.
_LOCK_FILE = ".kafkars-broker.lock"
_INSTALL_HINT = (
    "e.g. `apt-get install openjdk-17-jre-headless maven` (Debian/Ubuntu), "
    "`dnf install java-17-openjdk-headless maven` (Fedora) or `brew install openjdk@17 maven` (macOS)"
)


class MissingToolError(RuntimeError):
    """A program the local broker needs (java, mvn) is not on PATH or too old."""


def _java_version(java: str) -> tuple[int, str] | None:
    """(major, version text) of a java executable, None if it cannot tell."""
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r'version "([^"]+)"', out.stderr + out.stdout)
    if m is None:
        return None
    text = m.group(1)
    parts = re.findall(r"\d+", text)
    if not parts:
        return None
    major = int(parts[1]) if parts[0] == "1" and len(parts) > 1 else int(parts[0])  # "1.8.0_292" is 8
    return major, text


def check_tools(*, need_mvn: bool, cache_dir: Path | None = None) -> None:
    """Raise MissingToolError naming every missing program: ``java`` (17 or
    newer) always, ``mvn`` when the Kafka jars are not cached yet."""
    why = {
        "java": f"java (a Java runtime, {MIN_JAVA} or newer) runs the Kafka broker",
        "mvn": (
            f"mvn (Apache Maven) downloads the Kafka {KAFKA_VERSION} jars from Maven Central, once "
            f"(cached in {(cache_dir or default_cache_dir()) / f'kafka-{KAFKA_VERSION}'})"
        ),
    }
    missing = [tool for tool in ("java", "mvn") if (tool == "java" or need_mvn) and shutil.which(tool) is None]
    if missing:
        names = " and ".join(missing)
        raise MissingToolError(
            f"the local Kafka broker (kafkars.testing) needs {names} on PATH, "
            f"and {'it is' if len(missing) == 1 else 'they are'} not found: "
            + "; ".join(why[t] for t in missing)
            + f". Install {'it' if len(missing) == 1 else 'them'}, {_INSTALL_HINT}."
        )
    java = shutil.which("java")
    assert java is not None
    version = _java_version(java)
    if version is not None and version[0] < MIN_JAVA:
        raise MissingToolError(
            f"the local Kafka broker (kafkars.testing) needs Java {MIN_JAVA} or newer, but {java} is "
            f"version {version[1]}: put a newer java first on PATH"
        )

_POM_TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 http://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.kafkars</groupId>
  <artifactId>kafka-broker-jars</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>{kafka}</version>
    </dependency>
    <!-- Kafka logs through the SLF4J 1.7 API: a 2.x binding would not bind,
         and with no binding at all the broker log stays empty. -->
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-simple</artifactId>
      <version>{slf4j}</version>
    </dependency>
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-dependency-plugin</artifactId>
        <version>{plugin}</version>
      </plugin>
    </plugins>
  </build>
</project>
"""


def default_cache_dir() -> Path:
    env = os.environ.get("KAFKARS_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "kafkars"


def _tail(text: str, lines: int = _LOG_TAIL_ON_ERROR) -> str:
    # Maven emits ANSI colour resets even in batch mode; they only garble messages.
    return "\n".join(_ANSI_ESCAPE.sub("", text).splitlines()[-lines:])


def ensure_jars(cache_dir: Path | str | None = None) -> Path:
    """Return a directory holding the Kafka broker jars, resolving them once.

    Maven does the resolution because it already knows how to walk Kafka's
    dependency tree against Maven Central; the result is cached so that only
    the first run on a machine pays for it. The directory is built under a
    temporary name and renamed into place with its ``.complete`` marker
    already inside, so a crash mid-download never leaves a half-filled
    directory that looks usable; the lock keeps parallel test processes from
    downloading the same thing twice.
    """
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    libs = root / f"kafka-{KAFKA_VERSION}" / "libs"
    if (libs / _COMPLETE_MARKER).is_file():
        return libs

    root.mkdir(parents=True, exist_ok=True)
    with open(root / f".kafka-{KAFKA_VERSION}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (libs / _COMPLETE_MARKER).is_file():
            return libs  # another process finished while we waited
        check_tools(need_mvn=True, cache_dir=root)
        print(
            f"resolving Kafka {KAFKA_VERSION} from Maven Central (first run only)...",
            file=sys.stderr,
            flush=True,
        )
        staging = Path(tempfile.mkdtemp(prefix=".kafka-staging-", dir=root))
        try:
            (staging / "pom.xml").write_text(
                _POM_TEMPLATE.format(
                    kafka=KAFKA_VERSION, slf4j=SLF4J_VERSION, plugin=DEPENDENCY_PLUGIN_VERSION
                )
            )
            staged_libs = staging / "libs"
            command = [
                "mvn",
                "-B",
                "-q",
                "dependency:copy-dependencies",  # version pinned in the pom
                "-DincludeScope=runtime",
                f"-DoutputDirectory={staged_libs}",
            ]
            try:
                result = subprocess.run(
                    command,
                    cwd=staging,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    timeout=1800,
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise RuntimeError(f"could not run Maven to resolve Kafka jars: {exc}") from exc
            if result.returncode != 0:
                raise RuntimeError(
                    f"Maven failed (exit {result.returncode}) resolving Kafka {KAFKA_VERSION} "
                    f"jars; last lines of its output:\n{_tail(result.stdout)}"
                )
            if not any(staged_libs.glob("kafka_2.13-*.jar")):
                raise RuntimeError(
                    f"Maven succeeded but produced no kafka_2.13 jar in {staged_libs}; "
                    f"output:\n{_tail(result.stdout)}"
                )
            (staged_libs / _COMPLETE_MARKER).write_text(f"kafka {KAFKA_VERSION}\n")
            if libs.exists():
                shutil.rmtree(libs)  # leftover without a marker: untrustworthy
            libs.parent.mkdir(parents=True, exist_ok=True)
            os.rename(staged_libs, libs)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return libs


# --- minimal Kafka protocol client, just enough to ask "is the broker up?" ---

_METADATA_API_KEY = 3
# Kafka 4 dropped many old request versions (KIP-896). v4 is the oldest
# Metadata version still served; v8 is the newest non-flexible one, whose
# broker array has the same layout, kept as a fallback.
_METADATA_VERSIONS = (4, 8)


class _ConnectionClosed(Exception):
    """The broker hung up on a request, usually: it refuses this API version."""


def _encode_metadata_request(version: int, correlation_id: int, client_id: str) -> bytes:
    client = client_id.encode()
    header = struct.pack(">hhih", _METADATA_API_KEY, version, correlation_id, len(client)) + client
    body = struct.pack(">i?", -1, False)  # all topics, no auto-creation
    if version >= 8:
        body += struct.pack(">??", False, False)  # no authorized-operations lists
    payload = header + body
    return struct.pack(">i", len(payload)) + payload


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        chunk = sock.recv(remaining)
        if not chunk:
            raise _ConnectionClosed()
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _decode_brokers(response: bytes, correlation_id: int) -> list[tuple[int, str, int]]:
    got_id, _throttle, count = struct.unpack_from(">iii", response, 0)
    if got_id != correlation_id:
        raise ValueError(f"correlation id mismatch: sent {correlation_id}, got {got_id}")
    offset = 12
    brokers: list[tuple[int, str, int]] = []
    for _ in range(count):
        node_id, host_len = struct.unpack_from(">ih", response, offset)
        offset += 6
        host = response[offset : offset + host_len].decode()
        offset += host_len
        port, rack_len = struct.unpack_from(">ih", response, offset)
        offset += 6 + max(rack_len, 0)
        brokers.append((node_id, host, port))
    return brokers


def metadata_brokers(
    host: str, port: int, timeout: float = 2.0, versions: tuple[int, ...] = _METADATA_VERSIONS
) -> list[tuple[int, str, int]]:
    """Ask a broker for cluster metadata; return its ``(node_id, host, port)`` list.

    Raises ``OSError`` when nothing answers, which is the normal state of a
    broker that is still starting.
    """
    last_error: Exception | None = None
    for correlation_id, version in enumerate(versions, start=1):
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(_encode_metadata_request(version, correlation_id, "kafkars-testing"))
            try:
                (size,) = struct.unpack(">i", _recv_exact(sock, 4))
                return _decode_brokers(_recv_exact(sock, size), correlation_id)
            except _ConnectionClosed as exc:
                last_error = exc
    raise ConnectionError(
        f"broker at {host}:{port} closed the connection for Metadata versions {versions}"
    ) from last_error


# --- the broker itself ---


def _free_port(avoid: int | None = None) -> int:
    """A port the OS considers free right now (not ``avoid``).

    There is an unavoidable window between closing the probe socket and the
    broker binding it; on a test machine it is small enough in practice.
    """
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
        if port != avoid:
            return port


def _port_free(port: int) -> bool:
    """Whether the broker could listen on 127.0.0.1:port now. SO_REUSEADDR
    as the JVM sets it: connections of a stopped broker lingering in
    TIME_WAIT do not count, a listener does."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _new_cluster_id() -> str:
    while True:
        cluster_id = base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):  # StorageTool would read it as an option
            return cluster_id


class LocalKafka:
    """A single-node KRaft Kafka broker on 127.0.0.1, owned by this process.

    Args:
        data_dir: where the broker keeps its data, configuration and
            ``broker.log``. Given: created if missing, **kept** after
            ``close()``, and reused by the next ``LocalKafka`` on it (same
            topics and records; same port if it is free). It must be new,
            empty, or a directory a LocalKafka used before. None: a
            temporary directory, removed by ``close()`` (unless the
            environment sets ``KAFKARS_KEEP_BROKER=1``, to read the log
            after a failure).
        port: the broker's port on 127.0.0.1. None: the port the data
            directory had, if free, else any free port.
        heap: the JVM's maximum heap (``-Xmx``).
        extra_props: broker properties added to (or overriding) kafkars'
            ``server.properties``, e.g. ``{"auto.create.topics.enable": "true"}``.
        cache_dir: where the Kafka jars are cached (default
            ``$KAFKARS_CACHE`` or ``~/.cache/kafkars``).

    ``start()`` (or ``with``) resolves the jars (once per machine: needs
    ``mvn``), starts the JVM (needs ``java`` 17+) and returns once the
    broker answers Metadata requests. ``stop()`` shuts it down and keeps the
    data so that ``start()`` again is a real broker restart (same port, same
    log dir). ``close()`` stops it and removes a temporary data directory.
    The JVM dies with this Python process however it ends.

    Only one LocalKafka at a time may run on a data directory.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str] | None = None,
        port: int | None = None,
        *,
        heap: str = "1g",
        extra_props: dict[str, str] | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536):
            raise ValueError(f"port must be an int from 1 to 65535 (or None for a free port), got {port!r}")
        # Only a directory we created is ours to delete on close().
        self._owns_workdir = data_dir is None
        self._workdir = (
            Path(tempfile.mkdtemp(prefix="kafkars-broker-"))
            if data_dir is None
            else Path(data_dir).expanduser()
        ).resolve()
        self._requested_port = port
        self._heap = heap
        self._extra_props = dict(extra_props or {})
        self._cache_dir = None if cache_dir is None else Path(cache_dir)
        self._port: int | None = None
        self._controller_port: int | None = None
        self._started_once = False
        self._formatted = False
        self._closed = False
        self._lock: IO[str] | None = None
        self._supervisor: subprocess.Popen[bytes] | None = None
        self._java_pid: int | None = None
        self._start_seconds = 0.0
        atexit.register(self.close)

    # -- properties --

    @property
    def data_dir(self) -> Path:
        """The broker's directory: ``server.properties``, ``broker.log``, ``data/``."""
        return self._workdir

    @property
    def workdir(self) -> Path:
        """The same as :attr:`data_dir`."""
        return self._workdir

    @property
    def temporary(self) -> bool:
        """Whether ``close()`` removes the data directory."""
        return self._owns_workdir

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the broker has not been started yet: call start() or use `with LocalKafka() as kafka:`")
        return self._port

    @property
    def bootstrap(self) -> str:
        """``127.0.0.1:<port>``, for ``bootstrap.servers``."""
        return f"127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self._workdir / "broker.log"

    @property
    def running(self) -> bool:
        return self._supervisor is not None and self._supervisor.poll() is None

    @property
    def start_seconds(self) -> float:
        """Wall time of the last ``start()``, jar resolution included if it ran."""
        return self._start_seconds

    @property
    def broker_pid(self) -> int | None:
        """Pid of the broker JVM (also its process group id), while running."""
        return self._java_pid if self.running else None

    def log_tail(self, n: int = 60) -> str:
        try:
            with open(self.log_path, "rb") as log:
                text = log.read().decode(errors="replace")
        except FileNotFoundError:
            return ""
        return _tail(text, n)

    def __repr__(self) -> str:
        where = f"127.0.0.1:{self._port}" if self._port is not None else "not started"
        state = "running" if self.running else ("closed" if self._closed else "stopped")
        kind = "temporary " if self._owns_workdir else ""
        return f"LocalKafka({where}, {state}, {kind}data_dir={str(self._workdir)!r})"

    # -- lifecycle --

    def start(self, timeout: float = 90.0) -> None:
        """Start the broker (a no-op while it runs) and wait until it answers."""
        if self._closed:
            raise RuntimeError("LocalKafka was closed; create a new one")
        if self.running:
            return
        self._release()  # reap a broker that died on its own since the last start
        began = time.monotonic()
        libs = ensure_jars(self._cache_dir)
        check_tools(need_mvn=False, cache_dir=self._cache_dir)
        classpath = f"{libs}/*"
        self._claim_data_dir()
        try:
            self._choose_ports()
            self._write_config()
            if not self._formatted:
                self._format(classpath)
            self._launch(classpath)
            self._wait_ready(timeout)
        except BaseException:
            self._kill()
            self._unlock()
            raise
        self._started_once = True
        self._start_seconds = time.monotonic() - began

    def stop(self, timeout: float = 30.0) -> None:
        """Shut the broker down gracefully, keeping its data for a later ``start()``."""
        supervisor = self._supervisor
        if supervisor is not None:
            if supervisor.poll() is None:
                # The supervisor turns SIGTERM into SIGTERM for the JVM's group and
                # waits for it, escalating to SIGKILL after its own grace period.
                supervisor.send_signal(signal.SIGTERM)
                try:
                    supervisor.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self._kill()
            self._release()
        self._unlock()

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop the broker; remove the data directory if it is temporary."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        try:
            self.stop()
        finally:
            if self._owns_workdir:
                if os.environ.get("KAFKARS_KEEP_BROKER") == "1":
                    print(f"kept Kafka broker data dir {self._workdir}", file=sys.stderr)
                else:
                    shutil.rmtree(self._workdir, ignore_errors=True)

    def __enter__(self) -> LocalKafka:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- internals --

    def _claim_data_dir(self) -> None:
        """Check that the data directory is ours (new, empty, or made by a
        LocalKafka), lock it, and load what an earlier broker left there."""
        d = self._workdir
        state_path = d / _STATE_FILE
        if d.exists() and not d.is_dir():
            raise RuntimeError(f"data_dir {str(d)!r} exists and is not a directory")
        if not state_path.is_file() and d.is_dir() and any(p.name != _LOCK_FILE for p in d.iterdir()):
            raise RuntimeError(
                f"data_dir {str(d)!r} is not empty and holds no broker made by kafkars.testing: "
                "pass a new or empty directory, or one a LocalKafka used before"
            )
        d.mkdir(parents=True, exist_ok=True)
        lock = open(d / _LOCK_FILE, "a+")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "unknown"
            lock.close()
            raise RuntimeError(
                f"data_dir {str(d)!r} is in use by another running LocalKafka (process {holder}): "
                "stop it first, or use another directory"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        self._lock = lock
        if state_path.is_file() and not self._started_once:
            try:
                state = json.loads(state_path.read_text())
                self._port, self._controller_port = int(state["port"]), int(state["controller_port"])
            except (ValueError, KeyError, TypeError) as exc:
                self._unlock()
                raise RuntimeError(f"data_dir {str(d)!r}: unreadable {_STATE_FILE}: {exc}") from exc
        self._formatted = (d / "data" / "meta.properties").is_file()

    def _unlock(self) -> None:
        if self._lock is not None:
            self._lock.close()  # closing the descriptor releases the flock
            self._lock = None

    def _choose_ports(self) -> None:
        """The requested port, else the previous one (this broker's before a
        restart, or the data directory's) if free, else a free one."""
        wanted = self._requested_port
        if wanted is not None:
            if wanted != self._port and not _port_free(wanted):
                raise RuntimeError(
                    f"port {wanted} on 127.0.0.1 is in use by another process: choose another port, "
                    "or pass none to get a free one"
                )
            port = wanted
        elif self._port is not None and (self._started_once or _port_free(self._port)):
            port = self._port  # a restart keeps its address (Kafka reports a port taken meanwhile)
        else:
            port = _free_port()
        cport = self._controller_port
        if cport is None or cport == port or not (self._started_once or _port_free(cport)):
            cport = _free_port(avoid=port)
        self._port, self._controller_port = port, cport

    def _write_config(self) -> None:
        lines = [f"{key}={value}" for key, value in self._properties().items()]
        (self._workdir / "server.properties").write_text("\n".join(lines) + "\n")
        state = {"kafka_version": KAFKA_VERSION, "port": self._port, "controller_port": self._controller_port}
        (self._workdir / _STATE_FILE).write_text(json.dumps(state, indent=1) + "\n")

    def _properties(self) -> dict[str, str]:
        port, cport = self._port, self._controller_port
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{cport}",
            "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self._workdir / "data"),
            "num.partitions": "1",
            "auto.create.topics.enable": "false",
            # A single node cannot host the internal topics' default 3 replicas.
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            # Test data carries old timestamps; the default 7-day retention
            # would delete it as soon as the log cleaner looks.
            "log.retention.ms": "-1",
            "message.max.bytes": "16777216",
            "replica.fetch.max.bytes": "16777216",
            "num.network.threads": "2",
            "num.io.threads": "4",
        }
        props.update({key: str(value) for key, value in self._extra_props.items()})
        return props

    def _format(self, classpath: str) -> None:
        """First start of a data directory: format the log dir."""
        self._mark_log("format")
        with open(self.log_path, "ab") as log:
            format_command = ["kafka.tools.StorageTool", "format", "-t", _new_cluster_id()]
            result = subprocess.run(
                ["java", "-cp", classpath, *format_command, "-c", "server.properties"],
                cwd=self._workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if result.returncode != 0:
            raise RuntimeError(
                f"formatting the Kafka log dir failed (exit {result.returncode}); "
                f"last lines of {self.log_path}:\n{self.log_tail(_LOG_TAIL_ON_ERROR)}"
            )
        self._formatted = True

    def _jvm_options(self) -> list[str]:
        return [
            "-Xms256m",
            f"-Xmx{self._heap}",
            "-XX:+UseG1GC",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
            "-Dorg.slf4j.simpleLogger.showDateTime=true",
        ]

    def _launch(self, classpath: str) -> None:
        self._mark_log("start")
        java = ["java", *self._jvm_options(), "-cp", classpath, "kafka.Kafka", "server.properties"]
        with open(self.log_path, "ab") as log:
            # stdin is the lifeline: we keep the write end open and never
            # write; the supervisor kills the broker when it sees EOF.
            self._supervisor = subprocess.Popen(
                _supervisor.command(str(self.log_path), java),
                cwd=self._workdir,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
            )
        assert self._supervisor.stdout is not None
        pid_line = self._supervisor.stdout.readline()
        self._java_pid = int(pid_line) if pid_line.strip() else None

    def _wait_ready(self, timeout: float) -> None:
        """Poll Metadata until the broker lists itself.

        A TCP connect succeeds as soon as the socket server binds, well before
        the broker has joined the KRaft quorum and can serve requests, so only
        a Metadata answer naming our own port counts as ready.
        """
        deadline = time.monotonic() + timeout
        assert self._supervisor is not None and self._port is not None
        while True:
            if self._supervisor.poll() is not None:
                raise RuntimeError(
                    self._failure_report(
                        f"Kafka broker exited during startup (status {self._supervisor.returncode})"
                    )
                )
            try:
                brokers = metadata_brokers("127.0.0.1", self._port, timeout=2.0)
                if any(port == self._port for _, _, port in brokers):
                    return
            except (OSError, ValueError, struct.error):
                pass
            if time.monotonic() >= deadline:
                raise RuntimeError(
                    self._failure_report(f"Kafka broker not ready after {timeout:g}s")
                )
            time.sleep(0.1)

    def _failure_report(self, reason: str) -> str:
        """Reason, first error of this start, and the log tail.

        The tail alone is mostly shutdown noise when the broker gives up, so
        the first ERROR line since the last start marker is quoted as well.
        """
        log = self.log_tail(1_000_000)
        this_start = log.rsplit("===== kafkars LocalKafka start", 1)[-1]
        first_error = next(
            (line for line in this_start.splitlines() if " ERROR " in line or "FATAL" in line), None
        )
        report = reason
        if first_error:
            report += f"\nfirst error: {first_error}"
        return f"{report}\nlast lines of {self.log_path}:\n{self.log_tail(_LOG_TAIL_ON_ERROR)}"

    def _kill(self) -> None:
        """Last resort: SIGKILL both the supervisor and the JVM's process group."""
        if self._java_pid is not None:
            try:
                os.killpg(self._java_pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self._supervisor is not None and self._supervisor.poll() is None:
            self._supervisor.kill()
            self._supervisor.wait()
        self._release()

    def _release(self) -> None:
        if self._supervisor is not None:
            for pipe in (self._supervisor.stdin, self._supervisor.stdout):
                if pipe is not None:
                    pipe.close()
            self._supervisor.wait()
        self._supervisor = None
        self._java_pid = None

    def _mark_log(self, what: str) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        with open(self.log_path, "a") as log:
            log.write(f"\n===== kafkars LocalKafka {what} {stamp} =====\n")
