"""The kafkars benchmark harness: ``bash bench/run.sh [--quick]``.

One command starts a local Kafka broker, produces the data sets once, runs
every contender side by side on the same data (alternating, median of
several rounds), measures live latency against a floor consumer, and writes
``bench/results/<id>.json`` + ``.png`` and ``docs/benchmarks.md``.

Modules: :mod:`bench.harness` (orchestration), :mod:`bench.contenders`
(who is measured and how), :mod:`bench.report` (medians, targets, tables,
chart, docs), :mod:`bench.machine` (machine and versions);
``bench/clients/`` are the Python consumers run as child processes and
``bench/cmd/bench-*`` the Go ones.
"""
