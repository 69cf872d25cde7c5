#!/usr/bin/env bash
# The whole test suite: Go (vet, gofmt, race tests of the core) and Python
# (pytest against a real local Kafka broker the fixtures start). Exits
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
printf '\nall tests passed in %ss\n' "$(( $(date +%s) - t0 ))"
