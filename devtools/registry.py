"""A real Confluent-compatible schema registry for tests, the demo and benchmarks.

Why Apicurio Registry: Confluent's Schema Registry is not published to Maven
Central, and these machines have no Docker, but Apicurio Registry's server is
published there as a self-contained Quarkus application (``tar.gz`` with
classifier ``all``) and serves the Confluent REST API under
``/apis/ccompat/v7``. Confluent's own serializers (confluent-kafka-python)
and any client of that API talk to it unchanged, so tests exercise a real
server rather than a mock of the HTTP API.

Typical use::

    with LocalRegistry() as registry:
        print(registry.url)   # http://127.0.0.1:<port>/apis/ccompat/v7

Storage is in memory: every registry starts empty, and schema ids restart
from 1. The JVM is started through :mod:`kafkars.testing._supervisor`, so it dies
with the owning Python process however that process ends.

``python -m devtools.registry`` runs one in the foreground and prints its URL.
"""

from __future__ import annotations

import atexit
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from devtools.broker import default_cache_dir
from devtools.broker import _tail as _clean_tail
from kafkars.testing import _supervisor

APICURIO_VERSION = "3.0.9"
# 3.0.x is the last line that runs on Java 17; 3.1+ needs Java 21.
_ARTIFACT = f"io.apicurio:apicurio-registry-app:{APICURIO_VERSION}:tar.gz:all"
_RUNNER_JAR = f"apicurio-registry-app-{APICURIO_VERSION}-runner.jar"
_CCOMPAT_PATH = "/apis/ccompat/v7"
_GET_PLUGIN_VERSION = "2.8"

_COMPLETE_MARKER = ".complete"
_LOG_TAIL_ON_ERROR = 40


def ensure_app(cache_dir: Path | str | None = None) -> Path:
    """Return the path of Apicurio Registry's runner jar, downloading it once.

    Maven fetches the tarball (109 MB) from Maven Central into its local
    repository; it is unpacked (115 MB) into
    ``$KAFKARS_CACHE/apicurio-registry-<v>`` (default ``~/.cache/kafkars``). As for the Kafka jars, the directory is
    built under a temporary name and renamed into place with its
    ``.complete`` marker already inside, and a file lock keeps parallel test
    processes from downloading the same thing twice.
    """
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    app = root / f"apicurio-registry-{APICURIO_VERSION}"
    if (app / _COMPLETE_MARKER).is_file():
        return app / _RUNNER_JAR

    root.mkdir(parents=True, exist_ok=True)
    with open(root / f".apicurio-registry-{APICURIO_VERSION}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (app / _COMPLETE_MARKER).is_file():
            return app / _RUNNER_JAR  # another process finished while we waited
        for tool in ("mvn", "java"):
            if shutil.which(tool) is None:
                raise RuntimeError(
                    f"'{tool}' not found on PATH: the local schema registry needs a JDK (17+) "
                    "and Maven to fetch Apicurio Registry from Maven Central"
                )
        staging = Path(tempfile.mkdtemp(prefix=".apicurio-staging-", dir=root))
        try:
            tarball = _download(staging)
            unpack_dir = staging / "unpacked"
            with tarfile.open(tarball) as archive:
                archive.extractall(unpack_dir, filter="data")
            runners = list(unpack_dir.rglob(_RUNNER_JAR))
            if len(runners) != 1:
                raise RuntimeError(
                    f"expected one {_RUNNER_JAR} in {tarball}, found {len(runners)}"
                )
            unpacked = runners[0].parent  # the app dir: runner jar + lib/
            (unpacked / _COMPLETE_MARKER).write_text(f"apicurio-registry {APICURIO_VERSION}\n")
            if app.exists():
                shutil.rmtree(app)  # leftover without a marker: untrustworthy
            os.rename(unpacked, app)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return app / _RUNNER_JAR


def _download(staging: Path) -> Path:
    print(
        f"downloading Apicurio Registry {APICURIO_VERSION} from Maven Central "
        "(about 110 MB, first run only)...",
        file=sys.stderr,
        flush=True,
    )
    command = [
        "mvn",
        "-B",
        "-q",
        # Plugin 2.8 (Maven 3.8's default binding), pinned: with
        # -Dtransitive=false it fetches the artifact without reading its
        # parent POM (io.apicurio:apicurio-registry:3.0.9), for which Maven
        # Central answers 404; 3.x plugins read it and fail. Its -Ddest copies the file out of the
        # local repository, wherever settings.xml puts that.
        f"org.apache.maven.plugins:maven-dependency-plugin:{_GET_PLUGIN_VERSION}:get",
        "-Dtransitive=false",
        f"-Dartifact={_ARTIFACT}",
        f"-Ddest={staging}/",
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
        raise RuntimeError(f"could not run Maven to fetch {_ARTIFACT}: {exc}") from exc
    if result.returncode != 0:
        raise RuntimeError(
            f"Maven failed (exit {result.returncode}) fetching {_ARTIFACT}; "
            f"last lines of its output:\n{_clean_tail(result.stdout, _LOG_TAIL_ON_ERROR)}"
        )
    tarball = staging / f"apicurio-registry-app-{APICURIO_VERSION}-all.tar.gz"
    if not tarball.is_file():
        raise RuntimeError(
            f"Maven succeeded but wrote no {tarball.name} into {staging}; "
            f"output:\n{_clean_tail(result.stdout, _LOG_TAIL_ON_ERROR)}"
        )
    return tarball


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalRegistry:
    """Apicurio Registry on 127.0.0.1 with in-memory storage, owned by this process.

    ``url`` is the base URL of the Confluent-compatible API, the value to
    give any Confluent schema-registry client as its ``url``.
    ``close()`` stops the JVM and removes the work directory (which holds
    only ``registry.log``), unless ``KAFKARS_KEEP_REGISTRY=1``.
    """

    def __init__(self, *, heap: str = "512m", extra_props: dict[str, str] | None = None) -> None:
        self._workdir = Path(tempfile.mkdtemp(prefix="kafkars-registry-")).resolve()
        self._heap = heap
        self._extra_props = dict(extra_props or {})
        self._port: int | None = None
        self._supervisor: subprocess.Popen[bytes] | None = None
        self._java_pid: int | None = None
        self._start_seconds = 0.0
        self._closed = False
        atexit.register(self.close)

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("registry has not been started yet")
        return self._port

    @property
    def url(self) -> str:
        """The Confluent-compatible API: ``http://127.0.0.1:<port>/apis/ccompat/v7``."""
        return f"http://127.0.0.1:{self.port}{_CCOMPAT_PATH}"

    @property
    def start_seconds(self) -> float:
        """Wall time of ``start()``, the download included if it ran."""
        return self._start_seconds

    @property
    def log_path(self) -> Path:
        return self._workdir / "registry.log"

    @property
    def running(self) -> bool:
        return self._supervisor is not None and self._supervisor.poll() is None

    def log_tail(self, n: int = 60) -> str:
        try:
            with open(self.log_path, "rb") as log:
                text = log.read().decode(errors="replace")
        except FileNotFoundError:
            return ""
        return _clean_tail(text, n)

    def start(self, timeout: float = 120.0) -> None:
        if self._closed:
            raise RuntimeError("LocalRegistry was closed; create a new one")
        if self.running:
            return
        began = time.monotonic()
        jar = ensure_app()
        self._port = _free_port()
        self._launch(jar)
        try:
            self._wait_ready(timeout)
        except BaseException:
            self._kill()
            raise
        self._start_seconds = time.monotonic() - began

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        try:
            self._stop()
        finally:
            if os.environ.get("KAFKARS_KEEP_REGISTRY") == "1":
                print(f"kept schema registry workdir {self._workdir}", file=sys.stderr)
            else:
                shutil.rmtree(self._workdir, ignore_errors=True)

    def __enter__(self) -> LocalRegistry:
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
        props = {
            "quarkus.http.host": "127.0.0.1",
            "quarkus.http.port": str(self._port),
            # The packaged default is WARN, which leaves log_tail() empty.
            "quarkus.log.level": "INFO",
            # In-memory H2: nothing on disk, every start begins empty.
            "apicurio.storage.kind": "sql",
            "apicurio.storage.sql.kind": "h2",
            # Let tests clean up after themselves through the API.
            "apicurio.rest.deletion.artifact.enabled": "true",
            "apicurio.rest.deletion.artifact-version.enabled": "true",
            "apicurio.rest.deletion.group.enabled": "true",
        }
        props.update({key: str(value) for key, value in self._extra_props.items()})
        return props

    def _launch(self, jar: Path) -> None:
        java = [
            "java",
            "-Xms128m",
            f"-Xmx{self._heap}",
            # A test registry serves a few hundred requests in its life, so
            # start-up cost is all that matters: C1 only and the serial GC
            # brought the start from about 13 s to about 4 s on a busy 2-core
            # machine (Quarkus compiles much less and runs no GC threads).
            "-XX:TieredStopAtLevel=1",
            "-XX:+UseSerialGC",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            *(f"-D{key}={value}" for key, value in self._properties().items()),
            "-jar",
            str(jar),
        ]
        with open(self.log_path, "ab") as log:
            # stdin is the lifeline: we keep the write end open and never
            # write; the supervisor kills the JVM when it sees EOF.
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
        """Poll ``GET <url>/subjects`` until it answers 200 with a JSON list.

        Quarkus binds its port only once the application has started, but a
        JSON answer from the ccompat API itself is the one signal that
        covers storage initialisation as well.
        """
        deadline = time.monotonic() + timeout
        assert self._supervisor is not None
        probe = f"{self.url}/subjects"
        while True:
            if self._supervisor.poll() is not None:
                raise RuntimeError(
                    f"schema registry exited during startup (status {self._supervisor.returncode}); "
                    f"last lines of {self.log_path}:\n{self.log_tail(_LOG_TAIL_ON_ERROR)}"
                )
            try:
                with urllib.request.urlopen(probe, timeout=2.0) as response:
                    if response.status == 200 and isinstance(json.load(response), list):
                        return
            except (OSError, ValueError, urllib.error.URLError):
                pass
            if time.monotonic() >= deadline:
                raise RuntimeError(
                    f"schema registry not ready after {timeout:g}s at {probe}; "
                    f"last lines of {self.log_path}:\n{self.log_tail(_LOG_TAIL_ON_ERROR)}"
                )
            time.sleep(0.1)

    def _stop(self, timeout: float = 30.0) -> None:
        supervisor = self._supervisor
        if supervisor is None:
            return
        if supervisor.poll() is None:
            supervisor.send_signal(signal.SIGTERM)
            try:
                supervisor.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._kill()
        self._release()

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


def main() -> int:
    """Run a registry in the foreground until Ctrl-C or SIGTERM."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    with LocalRegistry() as registry:
        print(registry.url, flush=True)
        print(
            f"ready in {registry.start_seconds:.1f}s; log {registry.log_path}; Ctrl-C to stop",
            file=sys.stderr,
            flush=True,
        )
        try:
            while registry.running:
                time.sleep(0.5)
        except KeyboardInterrupt:
            return 0
        print(f"registry exited; last lines:\n{registry.log_tail(20)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
