#!/usr/bin/env bash
# The kafkars benchmark, one command:
#
#   bash bench/run.sh            full run (~1 h on 2 cores; see docs/benchmarks.md)
#   bash bench/run.sh --quick    small data, for development (a few minutes)
#   bash bench/run.sh --help     all options (rounds, data sizes, --only, ...)
#
# Sets up what the run needs, then runs bench/harness.py, which starts its
# own Kafka broker, produces the data once and runs every contender side by
# side. Results: bench/results/<id>.json + .png (quick runs: bench/results/dev/),
# the Markdown tables on stdout, and docs/benchmarks.md for full runs.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/_env.sh"   # venv, kafkars, build/bin tools

step "benchmark dependencies (bench/requirements.txt, pinned)"
"$PY" -m pip install -q --disable-pip-version-check -r bench/requirements.txt

# The Rust kafkars from PyPI has the module name `kafkars` too: own venv.
RUST_VENV="$ROOT/bench/.venv-rust-kafkars"
step "Rust kafkars venv ($RUST_VENV)"
[ -x "$RUST_VENV/bin/python" ] || python3 -m venv "$RUST_VENV"
"$RUST_VENV/bin/python" -m pip install -q --disable-pip-version-check -r bench/requirements-rust-kafkars.txt

# GNU time measures the children's peak RSS; kcat is a contender.
missing=()
[ -x /usr/bin/time ] || missing+=(time)
command -v kcat >/dev/null 2>&1 || missing+=(kcat)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    step "apt-get install ${missing[*]}"
    apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null && apt-get install -y -qq "${missing[@]}" >/dev/null; }
  fi
fi
[ -x /usr/bin/time ] || { echo "bench: GNU time (/usr/bin/time) is required: apt-get install time" >&2; exit 1; }
command -v kcat >/dev/null 2>&1 || echo "bench: kcat not found; that contender is skipped" >&2

step "benchmark"
exec "$PY" -m bench "$@"
