"""What a result was measured on: the machine and every contender's version."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def _run(argv: list[str], timeout: float = 30) -> str:
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=REPO)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({exc.__class__.__name__})"
    return (r.stdout + r.stderr).strip()


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def machine() -> dict[str, Any]:
    cpuinfo = _read("/proc/cpuinfo")
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    mem = re.search(r"^MemTotal:\s*(\d+) kB", _read("/proc/meminfo"), re.M)
    osrel = re.search(r'^PRETTY_NAME="?([^"\n]+)', _read("/etc/os-release"), re.M)
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model.group(1).strip() if model else platform.processor() or "unknown",
        "memory_gb": round(int(mem.group(1)) / 1024 / 1024, 1) if mem else None,
        "kernel": platform.release(),
        "os": osrel.group(1) if osrel else platform.platform(),
    }


def go_module_version(module: str) -> str:
    for line in _read(str(REPO / "go.mod")).splitlines():
        parts = line.split()
        if module in parts:
            return parts[parts.index(module) + 1]
    return "unknown"


def git_commit() -> str:
    rev = _run(["git", "rev-parse", "--short=12", "HEAD"])
    dirty = _run(["git", "status", "--porcelain", "--untracked-files=no"])
    return rev + ("+dirty" if dirty and not dirty.startswith("unavailable") else "")


def versions(python: str, rust_python: str | None, kcat: str | None) -> dict[str, Any]:
    """Versions of everything measured. Asks each interpreter in a child
    process: the project's venv and the Rust kafkars venv both have a
    module called ``kafkars``."""
    ours = _run([python, "-c",
                 "import kafkars, pyarrow, confluent_kafka as c; "
                 "print(kafkars.__version__, kafkars.librdkafka_version(), pyarrow.__version__, "
                 "c.__version__, c.libversion()[0])"]).split()
    out: dict[str, Any] = {
        "python": sys.version.split()[0],
        "go": _run(["go", "version"]).replace("go version ", ""),
        "java": _run(["java", "-version"]).splitlines()[0] if _run(["java", "-version"]) else "unknown",
        "kafka_broker": _broker_version(),
        "kafkars": {"version": ours[0] if ours else "?", "commit": git_commit(),
                    "librdkafka": ours[1] if len(ours) > 1 else "?"},
        "pyarrow": ours[2] if len(ours) > 2 else "?",
        "confluent_kafka_python": {"version": ours[3] if len(ours) > 3 else "?",
                                   "librdkafka": ours[4] if len(ours) > 4 else "?"},
        "confluent_kafka_go": {"version": go_module_version("github.com/confluentinc/confluent-kafka-go/v2"),
                               "librdkafka": ours[1] if len(ours) > 1 else "?",
                               "note": "linked dynamically against the same librdkafka.so.1 as kafkars"},
    }
    if rust_python:
        out["rust_kafkars"] = {"version": _run([rust_python, "-c", "import kafkars; print(kafkars.__version__)"])}
    if kcat:
        m = re.search(r"Version (\S+).*librdkafka (\S+)", _run([kcat, "-V"]), re.S)
        out["kcat"] = {"version": m.group(1), "librdkafka": m.group(2)} if m else {"version": "unknown"}
    return out


def _broker_version() -> str:
    sys.path.insert(0, str(REPO))
    from devtools.broker import KAFKA_VERSION

    return f"Apache Kafka {KAFKA_VERSION} (single node, KRaft, devtools.broker.LocalKafka)"
