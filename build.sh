#!/usr/bin/env bash
# Builds the native half of kafkars and puts it inside the Python package,
# and builds the distributions.
#
#   ./build.sh            librdkafka.so.1 + libkafkars.so + _ffi.py into python/kafkars/_native
#   ./build.sh deps       only steps 1-2; prints the environment for `go test`
#   ./build.sh tools      also the Go dev tools (kafkatool, bench consumers) into build/bin
#   ./build.sh wheel      dist/kafkars-<version>-py3-none-manylinux_<glibc>_<arch>.whl
#   ./build.sh sdist      dist/kafkars-<version>.tar.gz (`pip install` of it builds from source)
#
# Steps (each explained where it happens):
#   1. librdkafka.so.1 from the static archive vendored in confluent-kafka-go.
#   2. a pkg-config file so that cgo (ours and confluent-kafka-go's
#      `-tags dynamic` build) links that library.
#   3. libkafkars.so: `go build -buildmode=c-shared -tags dynamic`, runpath $ORIGIN.
#   4. the cffi module generated from capi/kafkars.h (nothing else).
# Needs: go, gcc, pkg-config, python3 with cffi. Network: the Go module proxy
# only (for the pinned modules in go.mod/go.sum).
#
# wheel and sdist install the pinned tools of requirements-build.txt into
# build/dist-venv (from PyPI) and run `python -m build --no-isolation` there;
# for the wheel, the setup.py hook runs steps 1-4. The wheel is tagged
# py3-none (cffi ABI mode: no CPython extension, any Python 3), then
# `auditwheel repair` gives it the best manylinux tag the glibc symbol
# versions of the two libraries allow (`auditwheel show` lists them). Both
# libraries are self-contained: libkafkars.so finds librdkafka.so.1 beside it
# through RUNPATH $ORIGIN, which auditwheel follows, and all else they need
# (libc, libm, ld-linux) is in every manylinux policy. So repair grafts
# nothing and only retags; this script checks it (nothing grafted, both
# libraries byte-identical), so the layout _lib.py loads from stays intact.
# The glibc floor: linked against glibc >= 2.34, the pthread, dl* and C11
# thread functions (Go's runtime/cgo, librdkafka) take version GLIBC_2.34,
# when they moved into libc.so.6, so a build on this glibc (2.36) is
# manylinux_2_34. librdkafka's C11 threads (thrd_*, glibc 2.28) keep any
# build at manylinux_2_28 or above.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
out="$here/build"
pkg="$here/python/kafkars/_native"
python="${PYTHON:-python3}"

mode="${1:-}"
case "$mode" in
  "" | deps | tools | wheel | sdist) ;;
  *) echo "usage: ./build.sh [deps|tools|wheel|sdist]" >&2; exit 2 ;;
esac

log() { printf '[build] %s\n' "$*" >&2; }
need() { command -v "$1" >/dev/null 2>&1 || { echo "build.sh: '$1' is required but not on PATH ($2)" >&2; exit 1; }; }

# The environment of the distribution builds: requirements-build.txt, exact
# pins, reinstalled when that file changes.
dist_venv="$out/dist-venv"
dist_env() {
  if [ ! -x "$dist_venv/bin/python" ] || ! cmp -s requirements-build.txt "$dist_venv/requirements-build.txt"; then
    log "build tools (requirements-build.txt) into $dist_venv"
    mkdir -p "$out"
    rm -rf "$dist_venv"
    "$python" -m venv "$dist_venv"
    "$dist_venv/bin/python" -m pip install -q --disable-pip-version-check -r requirements-build.txt
    cp requirements-build.txt "$dist_venv/"
  fi
}

if [ "$mode" = sdist ]; then
  # Sources only (MANIFEST.in: the Go module, capi/, core/ without its tests,
  # build.sh, the Python package without the generated files).
  dist_env
  # setuptools adds the files listed by a previous build's SOURCES.txt.
  rm -rf dist/kafkars-*.tar.gz python/kafkars.egg-info
  "$dist_venv/bin/python" -m build --sdist --no-isolation --outdir dist . >"$out/sdist.log" 2>&1 \
    || { tail -n 40 "$out/sdist.log" >&2; echo "build.sh: the sdist build failed (log: $out/sdist.log)" >&2; exit 1; }
  log "done: $(ls dist/kafkars-*.tar.gz)"
  exit 0
fi

need go "install Go >= 1.25"
need gcc "install gcc"
need pkg-config "apt-get install pkg-config"

if [ "$mode" = wheel ]; then
  dist_env
  raw="$out/wheel"
  # setuptools stages the package in build/lib: start from nothing so that
  # no file removed from the sources can end up in the wheel
  # (and adds the files listed by a previous build's SOURCES.txt).
  rm -rf "$raw" "$out/lib" "$out"/bdist.* python/kafkars.egg-info
  log "wheel (python -m build --wheel; the setup.py hook runs steps 1-4; log: $out/wheel.log)"
  PATH="$dist_venv/bin:$PATH" "$dist_venv/bin/python" -m build --wheel --no-isolation --outdir "$raw" . >"$out/wheel.log" 2>&1 \
    || { tail -n 40 "$out/wheel.log" >&2; echo "build.sh: the wheel build failed (log: $out/wheel.log)" >&2; exit 1; }
  built=("$raw"/kafkars-*-py3-none-linux_*.whl)
  [ -f "${built[0]}" ] || { echo "build.sh: no py3-none-linux wheel in $raw" >&2; exit 1; }
  rm -f dist/kafkars-*.whl
  log "auditwheel repair (best manylinux tag; nothing to graft)"
  PATH="$dist_venv/bin:$PATH" auditwheel repair --wheel-dir dist "${built[0]}" >>"$out/wheel.log" 2>&1 \
    || { tail -n 40 "$out/wheel.log" >&2; echo "build.sh: auditwheel repair failed (log: $out/wheel.log)" >&2; exit 1; }
  fixed=(dist/kafkars-*-py3-none-manylinux_*.whl)
  [ -f "${fixed[0]}" ] || { echo "build.sh: auditwheel wrote no manylinux wheel" >&2; exit 1; }
  "$dist_venv/bin/python" - "${built[0]}" "${fixed[0]}" <<'EOF'
import sys, zipfile
built, fixed = (zipfile.ZipFile(p) for p in sys.argv[1:3])
grafted = [n for n in fixed.namelist() if ".libs/" in n]
libs = ["kafkars/_native/libkafkars.so", "kafkars/_native/librdkafka.so.1"]
changed = [n for n in libs if built.read(n) != fixed.read(n)]
if grafted or changed:
    sys.exit(f"build.sh: auditwheel changed the native layout (grafted {grafted}, patched {changed})")
EOF
  PATH="$dist_venv/bin:$PATH" auditwheel show "${fixed[0]}"
  log "done: ${fixed[0]}"
  exit 0
fi

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
if [ "$mode" = deps ]; then
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
if [ "$mode" = tools ]; then
  mkdir -p "$out/bin"
  for t in cmd/kafkatool bench/cmd/bench-batch bench/cmd/bench-poll bench/cmd/bench-floor bench/cmd/bench-producer bench/cmd/bench-produce; do
    log "tool $(basename "$t")"
    go build -tags dynamic \
      -ldflags "-extldflags '-Wl,-rpath,$rk/lib -Wl,--enable-new-dtags'" \
      -o "$out/bin/$(basename "$t")" "./$t"
  done
fi
log "done: $(ls "$pkg" | tr '\n' ' ')"
