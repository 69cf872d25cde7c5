"""The local Kafka broker of the tests, the demo and the benchmarks.

It ships with kafkars as :mod:`kafkars.testing` (users start it for their
notebooks and tests too); this module re-exports it so that the project's
code keeps importing ``devtools.broker``.
"""

from __future__ import annotations

from kafkars.testing._broker import (  # noqa: F401 - re-exports
    DEPENDENCY_PLUGIN_VERSION,
    KAFKA_VERSION,
    MIN_JAVA,
    SLF4J_VERSION,
    LocalKafka,
    MissingToolError,
    _tail,
    check_tools,
    default_cache_dir,
    ensure_jars,
    metadata_brokers,
)
