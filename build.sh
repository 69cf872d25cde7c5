#!/usr/bin/env bash
# Builds the native half of kafkars and puts it inside the Python package.
#
#   ./build.sh            librdkafka.so.1 + libkafkars.so + _ffi.py into python/kafkars/_native
#   ./build.sh deps       only steps 1-2; prints the environment for `go test`
#   ./build.sh tools      also the Go dev tools (kafkatool, bench consumers) into build/bin
#
# Steps (each explained where it happens):
#   1. librdkafka.so.1 from the static archive vendored in confluent-kafka-go.
#   2. a pkg-config file so that cgo (ours and confluent-kafka-go's
#      `-tags dynamic` build) links that library.
#   3. libkafkars.so: `go build -buildmode=c-shared -tags dynamic`, runpath $ORIGIN.
#   4. the cffi module generated from capi/kafkars.h (nothing else).
# Needs: go, gcc, pkg-config, python3 with cffi. Network: the Go module proxy
# only (for the pinned modules in go.mod/go.sum).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
out="$here/build"
pkg="$here/python/kafkars/_native"
python="${PYTHON:-python3}"

log() { printf '[build] %s\n' "$*" >&2; }
need() { command -v "$1" >/dev/null 2>&1 || { echo "build.sh: '$1' is required but not on PATH ($2)" >&2; exit 1; }; }
need go "install Go >= 1.24"
need gcc "install gcc"
need pkg-config "apt-get install pkg-config"

export CGO_ENABLED=1
export GOFLAGS="${GOFLAGS:-} -mod=readonly"

# 1. librdkafka.so.1 ---------------------------------------------------------
# A c-shared Go library that links librdkafka statically cannot be loaded by
# Python ("cannot allocate memory in static TLS block"): Go marks the module
# STATIC_TLS and librdkafka's thread-locals do not fit. So the vendored archive
# becomes its own shared object. Only rd_kafka_* is exported (the archive also
# carries OpenSSL, zstd, lz4, ... which must not interpose on the process's
# own copies), and -Bsymbolic binds librdkafka's internal calls to itself.
ckg_dir="$(go mod download -json github.com/confluentinc/confluent-kafka-go/v2 | "$python" -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"
vendor="$ckg_dir/kafka/librdkafka_vendor"
case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64) arch=arm64 ;;
  *) echo "build.sh: unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac
archive="$vendor/librdkafka_glibc_linux_${arch}.a"
[ -f "$archive" ] || { echo "build.sh: $archive not found" >&2; exit 1; }

rk="$out/rdkafka"
mkdir -p "$rk/lib" "$rk/include/librdkafka" "$rk/pkgconfig"
stamp="$archive $(stat -c %s "$archive")"
if [ ! -f "$rk/lib/librdkafka.so.1" ] || [ "$(cat "$rk/stamp" 2>/dev/null)" != "$stamp" ]; then
  log "librdkafka.so.1 from $(basename "$archive")"
  printf '{\n  global: rd_kafka_*;\n  local: *;\n};\n' > "$rk/rdkafka.map"
  gcc -shared -o "$rk/lib/librdkafka.so.1.tmp" \
    -Wl,-soname,librdkafka.so.1 \
    -Wl,--version-script="$rk/rdkafka.map" -Wl,-Bsymbolic \
    -Wl,--whole-archive "$archive" -Wl,--no-whole-archive \
    -lm -ldl -lpthread -lrt
  strip --strip-unneeded "$rk/lib/librdkafka.so.1.tmp"
  mv "$rk/lib/librdkafka.so.1.tmp" "$rk/lib/librdkafka.so.1"
  echo "$stamp" > "$rk/stamp"
fi
ln -sf librdkafka.so.1 "$rk/lib/librdkafka.so"
cp -f "$vendor/rdkafka.h" "$vendor/rdkafka_mock.h" "$rk/include/librdkafka/"
chmod u+w "$rk/include/librdkafka/"*.h

# 2. pkg-config ---------------------------------------------------------------
cat > "$rk/pkgconfig/rdkafka.pc" <<EOF
prefix=$rk
Name: rdkafka
Description: librdkafka built by kafkars/build.sh from confluent-kafka-go's vendored archive
Version: $(sed -n 's/^#define RD_KAFKA_VERSION *0x0*\([0-9a-f]*\).*/\1/p' "$vendor/rdkafka.h")
Cflags: -I\${prefix}/include
Libs: -L\${prefix}/lib -lrdkafka
EOF
export PKG_CONFIG_PATH="$rk/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
if [ "${1:-}" = deps ]; then
  # For Go development: eval "$(./build.sh deps)" then go test -tags dynamic ./...
  echo "export PKG_CONFIG_PATH='$PKG_CONFIG_PATH' CGO_ENABLED=1 LD_LIBRARY_PATH='$rk/lib'"
  exit 0
fi

# 3. libkafkars.so ------------------------------------------------------------
mkdir -p "$out/native"
log "libkafkars.so (go build -buildmode=c-shared -tags dynamic)"
# --enable-new-dtags writes DT_RUNPATH; $ORIGIN finds librdkafka.so.1 beside us.
go build -trimpath -buildmode=c-shared -tags dynamic \
  -ldflags "-s -w -extldflags '-Wl,-rpath,\$ORIGIN -Wl,--enable-new-dtags'" \
  -o "$out/native/libkafkars.so" ./capi
# The public header is written by hand (documented); cgo generates its own
# prototypes from the Go exports. Compile both in one translation unit: a
# signature that drifted is a "conflicting types" error here, not a crash
# in a user's process.
printf '%s\n' '#include "libkafkars.h"' '#undef KAFKARS_NO_PROTOTYPES' '#include "kafkars.h"' \
  'int main(void) { return 0; }' > "$out/native/abi_check.c"
gcc -fsyntax-only -Wall -Werror -I capi -I "$out/native" "$out/native/abi_check.c" \
  || { echo "build.sh: capi/kafkars.h does not match the exported Go functions" >&2; exit 1; }

# 4. into the package -------------------------------------------------------
mkdir -p "$pkg"
cp -f "$rk/lib/librdkafka.so.1" "$out/native/libkafkars.so" "$pkg/"
cp -f capi/kafkars.h "$pkg/"
log "cffi module from capi/kafkars.h"
"$python" python/kafkars/_ffi_build.py capi/kafkars.h python/kafkars/_ffi.py

# 5. tools (optional) ----------------------------------------------------------
if [ "${1:-}" = tools ]; then
  mkdir -p "$out/bin"
  for t in cmd/kafkatool bench/cmd/bench-batch bench/cmd/bench-poll bench/cmd/bench-floor bench/cmd/bench-producer bench/cmd/bench-produce; do
    log "tool $(basename "$t")"
    go build -tags dynamic \
      -ldflags "-extldflags '-Wl,-rpath,$rk/lib -Wl,--enable-new-dtags'" \
      -o "$out/bin/$(basename "$t")" "./$t"
  done
fi
log "done: $(ls "$pkg" | tr '\n' ' ')"
