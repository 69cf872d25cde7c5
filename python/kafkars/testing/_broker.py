"""A real single-node Apache Kafka broker for tests, the demo and benchmarks.

Why a real broker rather than a mock: kafkars speaks the Kafka protocol, and
only a real broker exercises fetch sessions, record batches, offsets and
restarts the way production does. Why not Docker: CI machines here have no
image registry, but they do reach Maven Central, so the broker is assembled
from the published ``kafka_2.13`` jar and its runtime dependencies and run
with the local JVM in KRaft mode (no ZooKeeper).

Typical use::

    with LocalKafka() as kafka:
        client = Consumer(bootstrap=kafka.bootstrap)
        ...
        kafka.restart()   # same port, same data

The JVM is started through :mod:`devtools._supervisor`, so it dies with the
owning Python process however that process ends.
"""

from __future__ import annotations

import atexit
import base64
import fcntl
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

KAFKA_VERSION = "4.1.0"
SLF4J_VERSION = "1.7.36"
# Pinned so that Maven does not go looking for "the latest" plugin version,
# which warns and makes the download depend on the day it runs.
DEPENDENCY_PLUGIN_VERSION = "3.8.1"

_COMPLETE_MARKER = ".complete"
_LOG_TAIL_ON_ERROR = 40
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_PACKAGE_ROOT = Path(__file__).resolve().parent.parent

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
        for tool in ("mvn", "java"):
            if shutil.which(tool) is None:
                raise RuntimeError(
                    f"'{tool}' not found on PATH: the local Kafka broker needs a JDK (17+) "
                    "and Maven to resolve its jars from Maven Central"
                )
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
            sock.sendall(_encode_metadata_request(version, correlation_id, "kafkars-devtools"))
            try:
                (size,) = struct.unpack(">i", _recv_exact(sock, 4))
                return _decode_brokers(_recv_exact(sock, size), correlation_id)
            except _ConnectionClosed as exc:
                last_error = exc
    raise ConnectionError(
        f"broker at {host}:{port} closed the connection for Metadata versions {versions}"
    ) from last_error


# --- the broker itself ---


def _free_port_pair() -> tuple[int, int]:
    """Two distinct ports the OS considers free right now.

    There is an unavoidable window between closing the probe sockets and the
    broker binding them; on a test machine it is small enough in practice.
    """
    while True:
        socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(2)]
        try:
            for sock in socks:
                sock.bind(("127.0.0.1", 0))
            ports = [sock.getsockname()[1] for sock in socks]
        finally:
            for sock in socks:
                sock.close()
        if ports[0] != ports[1]:
            return ports[0], ports[1]


def _new_cluster_id() -> str:
    while True:
        cluster_id = base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):  # StorageTool would read it as an option
            return cluster_id


class LocalKafka:
    """A single-node KRaft Kafka broker on 127.0.0.1, owned by this process.

    ``stop()`` keeps the work directory so that ``start()`` again is a real
    broker restart (same port, same log dir), which is what reconnect and
    offset-recovery tests need. ``close()`` removes the work directory, unless
    ``KAFKARS_KEEP_BROKER=1`` (to read ``broker.log`` after a failure) or the
    caller passed ``workdir`` in: a directory we did not create is not ours to
    delete. A passed-in ``workdir`` must not hold an already formatted broker.
    """

    def __init__(
        self,
        workdir: str | os.PathLike[str] | None = None,
        *,
        heap: str = "1g",
        extra_props: dict[str, str] | None = None,
    ) -> None:
        # Only a directory we created is ours to delete on close().
        self._owns_workdir = workdir is None
        self._workdir = Path(
            tempfile.mkdtemp(prefix="kafkars-broker-") if workdir is None else workdir
        ).resolve()
        self._heap = heap
        self._extra_props = dict(extra_props or {})
        self._port: int | None = None
        self._controller_port: int | None = None
        self._formatted = False
        self._closed = False
        self._supervisor: subprocess.Popen[bytes] | None = None
        self._java_pid: int | None = None
        self._start_seconds = 0.0
        atexit.register(self.close)

    # -- properties --

    @property
    def workdir(self) -> Path:
        return self._workdir

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("broker has not been started yet")
        return self._port

    @property
    def bootstrap(self) -> str:
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

    # -- lifecycle --

    def start(self, timeout: float = 90.0) -> None:
        if self._closed:
            raise RuntimeError("LocalKafka was closed; create a new one")
        if self.running:
            return
        self._release()  # reap a broker that died on its own since the last start
        began = time.monotonic()
        libs = ensure_jars()
        classpath = f"{libs}/*"
        if not self._formatted:
            self._prepare(classpath)
        self._launch(classpath)
        try:
            self._wait_ready(timeout)
        except BaseException:
            self._kill()
            raise
        self._start_seconds = time.monotonic() - began

    def stop(self, timeout: float = 30.0) -> None:
        """Shut the broker down gracefully, keeping its data for a later ``start()``."""
        supervisor = self._supervisor
        if supervisor is None:
            return
        if supervisor.poll() is None:
            # The supervisor turns SIGTERM into SIGTERM for the JVM's group and
            # waits for it, escalating to SIGKILL after its own grace period.
            supervisor.send_signal(signal.SIGTERM)
            try:
                supervisor.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._kill()
        self._release()

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        try:
            self.stop()
        finally:
            if os.environ.get("KAFKARS_KEEP_BROKER") == "1":
                print(f"kept Kafka broker workdir {self._workdir}", file=sys.stderr)
            elif self._owns_workdir:
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

    def _prepare(self, classpath: str) -> None:
        """First start only: choose ports, write the config, format the log dir."""
        self._workdir.mkdir(parents=True, exist_ok=True)
        self._port, self._controller_port = _free_port_pair()
        lines = [f"{key}={value}" for key, value in self._properties().items()]
        (self._workdir / "server.properties").write_text("\n".join(lines) + "\n")
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
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(_PACKAGE_ROOT), env.get("PYTHONPATH", "")) if p
        )
        with open(self.log_path, "ab") as log:
            # stdin is the lifeline: we keep the write end open and never
            # write; the supervisor kills the broker when it sees EOF.
            self._supervisor = subprocess.Popen(
                [sys.executable, "-m", "devtools._supervisor", str(self.log_path), "--", *java],
                cwd=self._workdir,
                env=env,
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
