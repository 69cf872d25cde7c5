"""Developer-only helpers for kafkars: not shipped with the ``kafkars`` package.

The main entry point is :class:`devtools.broker.LocalKafka`, a real single-node
Apache Kafka broker (KRaft mode, no ZooKeeper, no Docker) started from jars
resolved from Maven Central, for tests, the demo and benchmarks.
"""
