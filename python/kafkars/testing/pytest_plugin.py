"""kafkars' pytest plugin: the ``kafka_broker`` fixture.

Installed with kafkars and registered through the ``pytest11`` entry point
(named ``kafkars``; ``pytest -p no:kafkars`` turns it off). It costs nothing
in a test session that does not use the fixture: this module imports only
pytest, and no broker starts (and no Java runs) unless a test requests
``kafka_broker``.

``kafka_broker`` is session-scoped: the first test that asks for it starts a
:class:`kafkars.testing.LocalKafka` (a few seconds), every test shares it
(give each test its own topics), and it stops at the end of the session.
Its data directory is under pytest's ``tmp_path_factory``, so the broker's
log of a recent run can still be read afterwards; a failing test that used
the broker gets the tail of that log in its report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

import pytest

if TYPE_CHECKING:
    from kafkars.testing import LocalKafka

_started: list[Any] = []  # the session's broker once started (at most one)


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator["LocalKafka"]:
    """A running local Kafka broker for the whole test session; connect
    with ``{"bootstrap.servers": kafka_broker.bootstrap}``."""
    from kafkars.testing import LocalKafka

    broker = LocalKafka(tmp_path_factory.mktemp("kafka-broker"))
    with broker:
        _started.append(broker)
        try:
            yield broker
        finally:
            _started.remove(broker)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome: Any = yield
    report = outcome.get_result()
    if report.failed and _started and "kafka_broker" in getattr(item, "fixturenames", ()):
        try:
            report.sections.append(("kafka broker log (tail)", _started[0].log_tail(60)))
        except Exception as exc:  # noqa: BLE001 - a report must not fail
            report.sections.append(("kafka broker log", f"unavailable: {exc}"))
