"""Developer-only helpers for kafkars: not shipped with the ``kafkars`` package.

:class:`devtools.broker.LocalKafka`, the real single-node Apache Kafka broker
(KRaft mode, no ZooKeeper, no Docker) of the tests, the demo and benchmarks,
is :class:`kafkars.testing.LocalKafka`, which ships with kafkars; it is
re-exported here.
"""
