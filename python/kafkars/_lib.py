"""Loads libkafkars.so through the cffi bindings generated from kafkars.h.

The library holds a Go runtime: it is loaded once per process and never
unloaded. Do not fork() after importing kafkars (use the "spawn" start
method of multiprocessing).
"""

from __future__ import annotations

import json
import os
from typing import Any

from kafkars._errors import error_for_status

try:
    from kafkars._ffi import ffi as ffi  # re-exported to the other modules
except ImportError as exc:  # pragma: no cover - a broken install
    raise ImportError(
        "kafkars: the generated cffi module kafkars/_ffi.py is missing; "
        "the package was not built (install with `pip install .` or run ./build.sh)"
    ) from exc

_NATIVE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_native")
_LIB_PATH = os.path.join(_NATIVE, "libkafkars.so")

try:
    lib: Any = ffi.dlopen(_LIB_PATH)
except OSError as exc:  # pragma: no cover - a broken install
    raise ImportError(f"kafkars: cannot load {_LIB_PATH}: {exc}") from exc

if lib.kafkars_abi_version() != lib.KAFKARS_ABI_VERSION:  # pragma: no cover
    raise ImportError(
        f"kafkars: libkafkars ABI {lib.kafkars_abi_version()} does not match "
        f"the bindings ({lib.KAFKARS_ABI_VERSION}); reinstall kafkars"
    )


def take_string(ptr: Any) -> str:
    """Copy and free a string returned by the library."""
    if ptr == ffi.NULL:
        return ""
    try:
        text: str = ffi.string(ptr).decode("utf-8", "replace")
        return text
    finally:
        lib.kafkars_free_string(ptr)


def check(status: int, err: Any) -> None:
    """Raise the kafkars exception for a failed call (err is a char**)."""
    if status != 0:
        raise error_for_status(status, take_string(err[0]) or f"kafkars: error {status}")


def version() -> str:
    return str(ffi.string(lib.kafkars_version()).decode())


def librdkafka_version() -> str:
    return str(ffi.string(lib.kafkars_librdkafka_version()).decode())


def debug_counters() -> dict[str, int]:
    """Live handles, managers, goroutines and Arrow bytes held by batches."""
    counters: dict[str, int] = json.loads(take_string(lib.kafkars_debug_counters()))
    return counters
