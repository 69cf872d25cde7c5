"""A real local Kafka broker for notebooks and tests: no Docker, no cluster.

:class:`LocalKafka` runs a single-node Apache Kafka 4.1 broker (KRaft mode)
on 127.0.0.1, assembled from the published Maven Central jars and run with
the local JVM. It needs ``java`` (17 or newer) and, the first time on a
machine, ``mvn`` to download the jars (about 45 MB, cached in
``~/.cache/kafkars``). The broker dies with the Python process that started
it, however that process ends.

::

    from kafkars.testing import LocalKafka

    with LocalKafka() as kafka:                  # temporary data, removed at the end
        print(kafka.bootstrap)                   # "127.0.0.1:<port>"

    kafka = LocalKafka("kafka-data", port=9092)  # kept, and reused next time
    kafka.start()
    ...
    kafka.close()

Also: the ``kafka_broker`` pytest fixture (this package's pytest plugin,
installed with kafkars) and the ``kafkars broker`` command. See
docs/guides/testing.md.

Importing this package loads neither pyarrow nor kafkars' native library.
"""

from __future__ import annotations

from kafkars.testing._broker import (
    KAFKA_VERSION,
    MIN_JAVA,
    LocalKafka,
    MissingToolError,
    check_tools,
    ensure_jars,
    metadata_brokers,
)

__all__ = [
    "KAFKA_VERSION",
    "MIN_JAVA",
    "LocalKafka",
    "MissingToolError",
    "check_tools",
    "ensure_jars",
    "metadata_brokers",
]
