#!/usr/bin/env bash
# The demo: starts a local Kafka broker, produces a data set, replays it in
# order through kafkars and prints a summary. Arguments go to devtools/demo.py.
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
step "demo"
exec "$PY" -m devtools.demo "$@"
