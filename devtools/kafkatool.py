"""Python side of cmd/kafkatool: create/delete topics and produce records
through confluent-kafka-go (the tests, the demo and the benchmarks use it;
kafkars itself only consumes).

Records go to the tool as JSON lines with base64 keys and values, so null
(``None``) and empty (``b""``) stay distinct, and headers keep their order.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Union

REPO_ROOT = Path(__file__).resolve().parent.parent


def kafkatool_path() -> Path:
    """The kafkatool binary: $KAFKARS_KAFKATOOL, else build/bin/kafkatool."""
    p = Path(os.environ.get("KAFKARS_KAFKATOOL", REPO_ROOT / "build" / "bin" / "kafkatool"))
    if not p.exists():
        raise RuntimeError(f"{p} not found: build it with `./build.sh tools`")
    return p


@dataclass(frozen=True)
class Record:
    topic: str
    value: bytes | None
    key: bytes | None = None
    partition: int | None = None
    ts: int | None = None  # epoch ms; None lets the producer stamp it
    headers: tuple[tuple[str, bytes | None], ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, object]:
        d: dict[str, object] = {
            "topic": self.topic,
            "key": None if self.key is None else base64.b64encode(self.key).decode(),
            "value": None if self.value is None else base64.b64encode(self.value).decode(),
        }
        if self.partition is not None:
            d["partition"] = self.partition
        if self.ts is not None:
            d["ts"] = self.ts
        if self.headers:
            d["headers"] = [[k, None if v is None else base64.b64encode(v).decode()] for k, v in self.headers]
        return d


#: Transaction control lines for produce(..., transactional_id=...).
BEGIN = {"txn": "begin"}
COMMIT = {"txn": "commit"}
ABORT = {"txn": "abort"}

Item = Union[Record, Mapping[str, str]]


class KafkaTool:
    """Runs kafkatool against one broker."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.bin = str(kafkatool_path())

    def _run(self, args: list[str], stdin: bytes | None = None, timeout: float = 300) -> str:
        r = subprocess.run([self.bin, *args], input=stdin, capture_output=True, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"kafkatool {args[0]} failed ({r.returncode}): {r.stderr.decode(errors='replace')[-2000:]}")
        return r.stdout.decode()

    def create_topic(self, name: str, partitions: int = 1, config: Mapping[str, str] | None = None) -> None:
        args = ["create-topic", "-b", self.bootstrap, "-t", name, "-p", str(partitions)]
        for k, v in (config or {}).items():
            args += ["-c", f"{k}={v}"]
        self._run(args)

    def delete_topic(self, name: str) -> None:
        self._run(["delete-topic", "-b", self.bootstrap, "-t", name])

    def offsets(self, name: str) -> dict[int, tuple[int, int]]:
        """Low and high watermark per partition."""
        out = json.loads(self._run(["offsets", "-b", self.bootstrap, "-t", name]))
        return {int(k): (v[0], v[1]) for k, v in out.items()}

    def produce(
        self,
        items: Iterable[Item],
        *,
        transactional_id: str | None = None,
        config: Mapping[str, str] | None = None,
    ) -> int:
        """Produce records (and transaction control lines); returns the count."""
        lines = []
        for it in items:
            d = it.to_json() if isinstance(it, Record) else dict(it)
            lines.append(json.dumps(d, separators=(",", ":")))
        args = ["produce", "-b", self.bootstrap]
        if transactional_id:
            args += ["--transactional-id", transactional_id]
        for k, v in (config or {}).items():
            args += ["-X", f"{k}={v}"]
        out = self._run(args, stdin=("\n".join(lines) + "\n").encode())
        return int(json.loads(out.strip().splitlines()[-1])["produced"])

    def gen(
        self,
        topic: str,
        *,
        partitions: int,
        count: int,
        value_size: int = 100,
        keys: int = 10_000,
        ts_start: int = 0,
        ts_step: int = 1,
        config: Mapping[str, str] | None = None,
    ) -> dict[str, float]:
        """Produce count synthetic records round-robin over partitions."""
        args = [
            "gen", "-b", self.bootstrap, "-t", topic, "-p", str(partitions), "-n", str(count),
            "--value-size", str(value_size), "--keys", str(keys),
            "--ts-start", str(ts_start), "--ts-step", str(ts_step),
        ]
        for k, v in (config or {}).items():
            args += ["-X", f"{k}={v}"]
        return json.loads(self._run(args, timeout=3600).strip().splitlines()[-1])
