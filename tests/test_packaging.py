"""The distributions as users install them, replaying from the real broker.

The wheel, for each interpreter: a fresh virtual environment holding only
the wheel and its runtime dependencies (pyarrow and cffi: binary wheels from
PyPI at the pins of requirements-dev.txt), a PATH that is the environment's
bin/ alone (no go, gcc, cc or pkg-config), no LD_LIBRARY_PATH; kafkars is
imported from an empty directory and replays a topic in order.

The sdist: `pip install` of it with the toolchain present builds everything
from its sources alone; then the same replay without the toolchain.

Skipped unless KAFKARS_WHEEL / KAFKARS_SDIST name the files;
KAFKARS_WHEEL_PYTHONS lists the interpreters for the wheel (paths,
space-separated; default: the one running pytest). scripts/test.sh builds
both (`./build.sh wheel`, `./build.sh sdist`) and sets the three:

    KAFKARS_WHEEL=dist/kafkars-...whl KAFKARS_WHEEL_PYTHONS="/path/to/python3.10 ..." \\
    KAFKARS_SDIST=dist/kafkars-....tar.gz .venv/bin/python -m pytest tests/test_packaging.py -s
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devtools.broker import LocalKafka
from devtools.kafkatool import KafkaTool, Record

REPO_ROOT = Path(__file__).resolve().parent.parent
WHEEL = os.environ.get("KAFKARS_WHEEL", "")
SDIST = os.environ.get("KAFKARS_SDIST", "")
PYTHONS = os.environ.get("KAFKARS_WHEEL_PYTHONS", "").split() or [sys.executable]
TOOLCHAIN = ("go", "gcc", "cc", "pkg-config")
# Variables that could let the installed package find a library, a module or
# a compiler outside the environment.
DROPPED = {"LD_LIBRARY_PATH", "LD_PRELOAD", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PKG_CONFIG_PATH", "CC", "CXX"}
COUNT = 300
PARTITIONS = 3
BASE = int(time.time() * 1000) - 86_400_000

pytestmark = pytest.mark.broker

# Runs inside the clean environment: replay, then report what was loaded.
REPLAY = """
import json, shutil, sys
import kafkars
from kafkars import SourceTopic

bootstrap, topic = sys.argv[1:3]
table = kafkars.read_topics({"bootstrap.servers": bootstrap}, [SourceTopic.from_earliest(topic)])
with open("/proc/self/maps") as f:
    mapped = sorted({l.split()[-1] for l in f if "libkafkars" in l or "librdkafka" in l})
print(json.dumps({
    "python": sys.version.split()[0],
    "module": kafkars.__file__,
    "version": kafkars.__version__,
    "librdkafka": kafkars.librdkafka_version(),
    "which": {t: shutil.which(t) for t in %r},
    "mapped": mapped,
    "rows": table.num_rows,
    "values": [v.decode() for v in table.column("value").to_pylist()],
    "partitions": table.column("partition").to_pylist(),
    "timestamps": [round(t.timestamp() * 1000) for t in table.column("timestamp").to_pylist()],
}))
""" % (TOOLCHAIN,)


def _clean_env(venv: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in DROPPED}
    env["PATH"] = str(venv / "bin")
    return env


def _run(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 600) -> str:
    r = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise AssertionError(f"{args[:4]} failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return r.stdout


def _label(python: str) -> str:
    out = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True)
    return out.stdout.strip() or python


@pytest.fixture(scope="module")
def wheel_topic(tool: KafkaTool) -> str:
    """PARTITIONS partitions, COUNT records v0..v{COUNT-1} round-robin, each
    10 ms after the previous one: the ordered replay is v0, v1, ..."""
    name = f"wheel-{os.getpid()}-{int(time.time())}"
    tool.create_topic(name, PARTITIONS, {"retention.ms": "-1"})
    recs = [Record(name, key=f"k{i}".encode(), value=f"v{i}".encode(), partition=i % PARTITIONS, ts=BASE + 10 * i) for i in range(COUNT)]
    assert tool.produce(recs) == COUNT
    return name


def _check_install(py: str, env: dict[str, str], cwd: Path) -> Path:
    """Only kafkars and its runtime dependencies; the libraries side by side,
    libkafkars.so resolving librdkafka.so.1 beside it. Returns _native/."""
    installed = sorted(_run([py, "-m", "pip", "list", "--format=freeze", "--exclude", "pip", "--exclude", "setuptools"], env, cwd).split())
    assert [p.split("==")[0].lower() for p in installed] == ["cffi", "kafkars", "pyarrow", "pycparser"], installed
    site = Path(_run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['platlib'])"], env, cwd).strip())
    native = site / "kafkars" / "_native"
    assert not list(site.glob("kafkars*.libs")), "auditwheel grafted libraries"
    ldd = shutil.which("ldd")  # found outside the clean PATH: only to inspect
    if ldd:
        out = _run([ldd, str(native / "libkafkars.so")], env, cwd)
        assert f"librdkafka.so.1 => {native / 'librdkafka.so.1'}" in out, out
        assert "not found" not in out, out
    return native


def _replay(py: str, native: Path, env: dict[str, str], cwd: Path, kafka: LocalKafka, topic: str) -> dict[str, object]:
    """The replay in the clean environment, from cwd: the installed package
    and its libraries are what is loaded, and the records come in order."""
    out = json.loads(_run([py, "-c", REPLAY, kafka.bootstrap, topic], env, cwd))
    assert out["module"] == str(native.parent / "__init__.py")
    assert out["which"] == {t: None for t in TOOLCHAIN}
    assert out["mapped"] == [str(native / "libkafkars.so"), str(native / "librdkafka.so.1")]
    assert out["rows"] == COUNT
    assert out["values"] == [f"v{i}" for i in range(COUNT)]
    assert out["partitions"] == [i % PARTITIONS for i in range(COUNT)]
    assert out["timestamps"] == [BASE + 10 * i for i in range(COUNT)]
    return out


def _report(what: str, out: dict[str, object], timings: dict[str, float]) -> None:
    print(
        f"\n[{what}] Python {out['python']}: kafkars {out['version']} (librdkafka {out['librdkafka']}), "
        f"{out['rows']} records in order; " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()),
        file=sys.stderr,
    )


@pytest.mark.skipif(not WHEEL, reason="KAFKARS_WHEEL is not set (scripts/test.sh builds the wheel and sets it)")
@pytest.mark.parametrize("python", PYTHONS, ids=[_label(p) for p in PYTHONS] if WHEEL else None)
def test_wheel_replays_in_a_clean_environment(python: str, wheel_topic: str, kafka: LocalKafka, tmp_path: Path) -> None:
    wheel = Path(WHEEL).resolve()
    assert re.fullmatch(r"kafkars-[^-]+-py3-none-manylinux_\d+_\d+_\w+\.whl", wheel.name), wheel.name
    venv, elsewhere = tmp_path / "venv", tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = _clean_env(venv)
    timings: dict[str, float] = {}

    t0 = time.monotonic()
    _run([python, "-m", "venv", str(venv)], env, elsewhere)
    py = str(venv / "bin" / "python")
    for tool in TOOLCHAIN:  # the shell's own lookup, as a user's would be
        r = subprocess.run(["/bin/sh", "-c", 'command -v "$1"', "sh", tool], env=env, capture_output=True, text=True)
        assert r.returncode != 0 and not r.stdout, f"{tool} is on the clean PATH: {r.stdout}"
    timings["venv"] = time.monotonic() - t0

    t0 = time.monotonic()
    _run([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--only-binary=:all:",
          "-c", str(REPO_ROOT / "requirements-dev.txt"), str(wheel)], env, elsewhere)
    timings["install"] = time.monotonic() - t0
    native = _check_install(py, env, elsewhere)

    t0 = time.monotonic()
    out = _replay(py, native, env, elsewhere, kafka, wheel_topic)
    timings["replay"] = time.monotonic() - t0
    _report(f"wheel {wheel.name}", out, timings)


@pytest.mark.skipif(not SDIST, reason="KAFKARS_SDIST is not set (scripts/test.sh builds the sdist and sets it)")
def test_sdist_builds_from_source(wheel_topic: str, kafka: LocalKafka, tmp_path: Path) -> None:
    """`pip install kafkars-<version>.tar.gz` with the toolchain on PATH: the
    build hook builds everything from the sdist's sources alone (what
    MANIFEST.in puts in); then the same replay with the toolchain gone."""
    sdist = Path(SDIST).resolve()
    venv, elsewhere = tmp_path / "venv", tmp_path / "elsewhere"
    elsewhere.mkdir()
    build_env = _clean_env(venv)
    build_env["PATH"] = f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"
    timings: dict[str, float] = {}

    t0 = time.monotonic()
    _run([sys.executable, "-m", "venv", str(venv)], build_env, elsewhere)
    py = str(venv / "bin" / "python")
    _run([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
          "-c", str(REPO_ROOT / "requirements-dev.txt"), str(sdist)], build_env, elsewhere)
    timings["venv and build from source"] = time.monotonic() - t0

    env = _clean_env(venv)
    native = _check_install(py, env, elsewhere)
    t0 = time.monotonic()
    out = _replay(py, native, env, elsewhere, kafka, wheel_topic)
    timings["replay"] = time.monotonic() - t0
    _report(f"sdist {sdist.name}", out, timings)
