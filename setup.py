"""Build hook: `pip install .` runs build.sh (Go core + librdkafka.so.1 + cffi
bindings) and tags the wheel for the platform.

The wheel holds native code but no CPython extension (cffi ABI mode), so it
is tagged py3-none-<platform>: one wheel per platform, any Python 3.
"""

from __future__ import annotations

import os
import subprocess
import sys

from setuptools import Distribution, setup
from setuptools.command.bdist_wheel import bdist_wheel
from setuptools.command.build_py import build_py

ROOT = os.path.dirname(os.path.abspath(__file__))


class BuildNative(build_py):
    def run(self) -> None:
        env = dict(os.environ, PYTHON=sys.executable)
        subprocess.check_call(["bash", os.path.join(ROOT, "build.sh")], cwd=ROOT, env=env)
        super().run()


class NativeDistribution(Distribution):
    """Holds native libraries: install into platlib, not purelib.

    Without this the libraries land in the wheel's ``.data/purelib`` and
    auditwheel refuses the wheel ("shared library in purelib folder").
    """

    def has_ext_modules(self) -> bool:
        return True


class PlatformWheel(bdist_wheel):
    def get_tag(self) -> tuple[str, str, str]:
        _, _, plat = super().get_tag()
        return "py3", "none", plat


setup(distclass=NativeDistribution, cmdclass={"build_py": BuildNative, "bdist_wheel": PlatformWheel})
