"""Shared fixtures: one real Kafka broker per test session.

The broker's log is attached to the report of every failing test, so a CI
failure shows what the broker said.
"""

from __future__ import annotations

import itertools
import os
import sys
import uuid
from pathlib import Path
from typing import Iterator

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from devtools.broker import LocalKafka  # noqa: E402
from devtools.kafkatool import KafkaTool  # noqa: E402
from devtools.registry import LocalRegistry  # noqa: E402

_BROKER: LocalKafka | None = None


@pytest.fixture(scope="session")
def kafka() -> Iterator[LocalKafka]:
    """A running broker shared by the session (tests use their own topics)."""
    global _BROKER
    broker = LocalKafka()
    broker.start()
    _BROKER = broker
    print(f"\n[kafka] broker {broker.bootstrap} ready in {broker.start_seconds:.1f}s, log {broker.log_path}", file=sys.stderr)
    try:
        yield broker
    finally:
        _BROKER = None
        broker.close()


@pytest.fixture(scope="session")
def registry(request: pytest.FixtureRequest) -> Iterator[LocalRegistry]:
    """A real schema registry (Apicurio, Confluent-compatible API) shared by
    the session; tests use their own subjects."""
    reg = LocalRegistry()
    reg.start()
    print(f"\n[registry] {reg.url} ready in {reg.start_seconds:.1f}s", file=sys.stderr)
    try:
        yield reg
    finally:
        if request.session.testsfailed:
            print(f"\n[registry] last lines of {reg.log_path}:\n{reg.log_tail(40)}", file=sys.stderr)
        reg.close()


@pytest.fixture(scope="session")
def tool(kafka: LocalKafka) -> KafkaTool:
    return KafkaTool(kafka.bootstrap)


_counter = itertools.count()


@pytest.fixture
def topic_name(request: pytest.FixtureRequest) -> str:
    """A fresh topic name per test (topics are never reused)."""
    base = "".join(c if c.isalnum() else "-" for c in request.node.name)[:60]
    return f"{base}-{next(_counter)}-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def config(kafka: LocalKafka) -> dict[str, str]:
    return {"bootstrap.servers": kafka.bootstrap}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and _BROKER is not None:
        try:
            rep.sections.append(("kafka broker log (tail)", _BROKER.log_tail(80)))
        except Exception as exc:  # noqa: BLE001
            rep.sections.append(("kafka broker log", f"unavailable: {exc}"))
