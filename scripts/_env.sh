# Sourced by scripts/test.sh, scripts/demo.sh and bench/run.sh: a virtual
# environment with the pinned dependencies and kafkars installed from this
# checkout (`pip install .` runs build.sh), plus the dev tools.
# Needs only what a fresh machine of this kind has: python3, go, gcc,
# pkg-config, java, mvn, and the package registries.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${KAFKARS_VENV:-$ROOT/.venv}"
step() { printf '\n== %s\n' "$*" >&2; }
for tool in python3 go gcc pkg-config java mvn; do
  command -v "$tool" >/dev/null 2>&1 || { echo "missing '$tool' on PATH" >&2; exit 1; }
done
if [ ! -x "$VENV/bin/python" ]; then
  step "virtual environment $VENV"
  python3 -m venv "$VENV"
fi
PY="$VENV/bin/python"
step "Python dependencies (requirements-dev.txt, pinned)"
"$PY" -m pip install -q --disable-pip-version-check -r requirements-dev.txt
step "pip install . (build hook: build.sh -> Go core, librdkafka.so.1, cffi bindings)"
"$PY" -m pip install -q --disable-pip-version-check --no-deps --force-reinstall .
step "dev tools (kafkatool)"
PYTHON="$PY" ./build.sh tools >/dev/null
