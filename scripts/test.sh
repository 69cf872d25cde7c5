#!/usr/bin/env bash
# The whole test suite: Go (vet, gofmt, race tests of the core) and Python
# (pytest against a real local Kafka broker the fixtures start), then the
# wheel in clean Python 3.10 and 3.13 environments and the sdist. Exits
# non-zero on any failure, including "no tests ran".
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
t0=$(date +%s)

step "Go: gofmt, vet"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.venv/*'))
[ -z "$unformatted" ] || { echo "gofmt needed: $unformatted" >&2; exit 1; }
eval "$(./build.sh deps)"
go vet -tags dynamic ./...

step "Go: the engine builds and tests without cgo"
CGO_ENABLED=0 go test -count=1 ./core ./core/source ./core/decode/... ./core/produce

step "Go: tests (core with -race)"
go test -count=1 -race ./core/...
go test -count=1 -tags dynamic ./capi/... ./cmd/... ./bench/...

step "Python: pytest (real Kafka broker)"
set +e
"$PY" -m pytest -p no:cacheprovider --timeout=900 tests bench/tests "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure" >&2
  exit 1
fi
[ "$rc" -eq 0 ] || exit "$rc"

# The distributions as users get them (tests/test_packaging.py): the wheel
# of `./build.sh wheel` (the native libraries are already built, so this is
# mostly packaging) installed with only its runtime dependencies into fresh
# environments of the oldest and the newest supported Python, with no
# toolchain on PATH; the sdist of `./build.sh sdist` built from source by pip.
step "Packaging: ./build.sh wheel and sdist; the wheel in fresh Python ${KAFKARS_WHEEL_VERSIONS:=3.10 3.13} environments without a toolchain, the sdist built by pip; each replays from the broker"
tw=$(date +%s)
PYTHON="$PY" ./build.sh wheel
PYTHON="$PY" ./build.sh sdist >/dev/null
wheel=(dist/kafkars-*-py3-none-manylinux_*.whl)
sdist=(dist/kafkars-*.tar.gz)
printf 'built in %ss: %s %s\n' "$(( $(date +%s) - tw ))" "${wheel[0]}" "${sdist[0]}"
pythons=()
for v in $KAFKARS_WHEEL_VERSIONS; do
  # The real interpreter (a pyenv shim needs more than the clean PATH).
  p=""
  for cand in "python$v" "$(pyenv prefix "$v" 2>/dev/null || true)/bin/python$v"; do
    p=$("$cand" -c 'import sys; print(sys.executable)' 2>/dev/null) && break || p=""
  done
  if [ -n "$p" ]; then
    pythons+=("$p")
  elif [ "${CI:-}" = true ]; then
    echo "no Python $v interpreter (python$v or pyenv); CI tests the wheel with $KAFKARS_WHEEL_VERSIONS" >&2
    exit 1
  else
    echo "warning: no Python $v interpreter: the wheel is not tested with it (KAFKARS_WHEEL_VERSIONS chooses)" >&2
  fi
done
[ "${#pythons[@]}" -gt 0 ] || { echo "no interpreter to test the wheel with" >&2; exit 1; }
KAFKARS_WHEEL="${wheel[0]}" KAFKARS_WHEEL_PYTHONS="${pythons[*]}" KAFKARS_SDIST="${sdist[0]}" \
  "$PY" -m pytest -p no:cacheprovider --timeout=600 -s -v -rs tests/test_packaging.py
printf 'packaging step: %ss\n' "$(( $(date +%s) - tw ))"
printf '\nall tests passed in %ss\n' "$(( $(date +%s) - t0 ))"
