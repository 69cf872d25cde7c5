"""The native library and the one class that talks to it.

libkafkars.so is loaded through the cffi bindings generated from
``kafkars.h`` (and nothing else). It holds a Go runtime: it is loaded once
per process and never unloaded; do not ``fork()`` after importing kafkars
(use the "spawn" start method of multiprocessing).

:class:`Handle` owns one native manager: its handle, the error buffer of
every call, the translation of status codes into exceptions, the import of
Arrow data, and the single ``poll`` every public reading method is built
on. Nothing else in the package calls the manager functions of the library.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any, Callable

import pyarrow as pa

from kafkars import _log
from kafkars._errors import (
    BrokerUnavailableError,
    ClosedError,
    ConfigError,
    ConsumerConfigError,
    DecodeError,
    InternalError,
    KafkaError,
    KafkarsError,
    ProduceError,
    TopicNotFoundError,
)

try:
    from kafkars._ffi import ffi as ffi
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

#: Status codes of kafkars.h -> exception classes (the header is the source).
ERRORS: dict[int, type[KafkarsError]] = {
    lib.KAFKARS_ERR_CONFIG: ConfigError,
    lib.KAFKARS_ERR_TOPIC_NOT_FOUND: TopicNotFoundError,
    lib.KAFKARS_ERR_BROKER_UNAVAILABLE: BrokerUnavailableError,
    lib.KAFKARS_ERR_KAFKA: KafkaError,
    lib.KAFKARS_ERR_CLOSED: ClosedError,
    lib.KAFKARS_ERR_INTERNAL: InternalError,
    lib.KAFKARS_ERR_DECODE: DecodeError,
    lib.KAFKARS_ERR_PRODUCE: ProduceError,
}

UNTIL_NONE: int = lib.KAFKARS_UNTIL_NONE
UNTIL_LIVE: int = lib.KAFKARS_UNTIL_LIVE
MODE_FOLLOW: int = lib.KAFKARS_MODE_FOLLOW
FLAG_LIVE: int = lib.KAFKARS_FLAG_LIVE
FLAG_UNTIL_REACHED: int = lib.KAFKARS_FLAG_UNTIL_REACHED
FLAG_EVENTS: int = lib.KAFKARS_FLAG_EVENTS
COMMIT_ASYNC: int = lib.KAFKARS_COMMIT_ASYNC

#: Longest single wait inside the native library. Python runs signal
#: handlers (Ctrl-C) only between calls, so blocking calls wait in slices
#: with the GIL released (cffi releases it during every call).
SLICE_MS = 100
_MAX_INT32 = 2**31 - 1


def take_string(ptr: Any) -> str:
    """Copy and free a string returned by the library."""
    if ptr == ffi.NULL:
        return ""
    try:
        text: str = ffi.string(ptr).decode("utf-8", "replace")
        return text
    finally:
        lib.kafkars_free_string(ptr)


def error(status: int, message: str) -> KafkarsError:
    """The exception for a status code and message."""
    return ERRORS.get(status, InternalError)(message or f"kafkars: error {status}")


def check(status: int, err: Any) -> None:
    """Raise the kafkars exception for a failed call (err is its char**)."""
    if status != 0:
        raise error(status, take_string(err[0]))


_ZERO_ARRAY = bytes(ffi.sizeof("struct ArrowArray"))


def _ptr(c: Any) -> int:
    return int(ffi.cast("uintptr_t", c))


def import_schema(c_schema: Any) -> pa.Schema:
    return pa.Schema._import_from_c(_ptr(c_schema))


def schema(which: int) -> pa.Schema:
    """One of the KAFKARS_SCHEMA_* schemas."""
    c = ffi.new("struct ArrowSchema*")
    err = ffi.new("char**")
    check(lib.kafkars_schema(which, c, err), err)
    return import_schema(c)


def version() -> str:
    return str(ffi.string(lib.kafkars_version()).decode())


def librdkafka_version() -> str:
    """The version of librdkafka kafkars runs on."""
    return str(ffi.string(lib.kafkars_librdkafka_version()).decode())


def debug_counters() -> dict[str, int]:
    """Live handles, managers, goroutines and Arrow bytes held by batches."""
    out = ffi.new("char**")
    err = ffi.new("char**")
    check(lib.kafkars_debug_counters(out, err), err)
    counters: dict[str, int] = json.loads(take_string(out[0]))
    return counters


def validate(spec: bytes) -> None:
    """kafkars_validate: check a spec without connecting."""
    err = ffi.new("char**")
    check(lib.kafkars_validate(spec, len(spec), err), err)


class Handle:
    """One native manager.

    ``closed_error`` builds the ClosedError raised once the handle is
    closed, so that the message can name what the manager was reading.
    """

    __slots__ = ("_h", "_closed", "_lock", "_closed_error", "schema", "_tls")

    def __init__(self, spec: bytes, closed_error: Callable[[], ClosedError],
                 rewrite_config_error: Callable[[str], str] = lambda m: m) -> None:
        self._closed = True
        self._lock = threading.Lock()
        self._tls = threading.local()
        self._closed_error = closed_error
        self._h = _create(spec, rewrite_config_error)
        self._closed = False
        c = ffi.new("struct ArrowSchema*")
        err = ffi.new("char**")
        self._check(lib.kafkars_manager_schema(self._h, c, err), err)
        self.schema: pa.Schema = import_schema(c)

    @property
    def closed(self) -> bool:
        return self._closed

    def _handle(self) -> int:
        if self._closed:
            raise self._closed_error()
        return int(self._h)

    def _check(self, status: int, err: Any) -> None:
        if status == lib.KAFKARS_ERR_CLOSED:
            take_string(err[0])
            raise self._closed_error()
        check(status, err)

    def poll(self, timeout_ms: float, until: int = UNTIL_NONE, mode: int = 0) -> tuple[pa.RecordBatch | None, int]:
        """The next batch (None for zero rows) and the KAFKARS_FLAG_* bits.

        Waits at most ``timeout_ms`` in total, in slices of SLICE_MS so that
        Ctrl-C interrupts it; returns early once ``until`` is reached.
        """
        h = self._handle()
        # The out-structs of a poll, made once per thread (polls of one
        # manager may run in several threads): at one small batch per poll,
        # allocating them each time was 1.5 us of about 20. pyarrow's import
        # moves the array out, leaving the struct released for the next poll.
        out = getattr(self._tls, "out", None)
        if out is None:
            a = ffi.new("struct ArrowArray*")
            out = self._tls.out = (a, ffi.new("int64_t*"), ffi.new("uint32_t*"), ffi.new("char**"), _ptr(a))
        arr, rows, flags, err, arr_ptr = out
        deadline = time.monotonic() + timeout_ms / 1000.0
        while True:
            remaining = max(0, min(int(round((deadline - time.monotonic()) * 1000)), _MAX_INT32))
            self._check(lib.kafkars_manager_poll(h, remaining, min(remaining, SLICE_MS), until, mode, arr, rows, flags, err), err)
            f = int(flags[0])
            if f & FLAG_EVENTS:
                self.log_events()
            if rows[0] > 0:
                try:
                    return pa.RecordBatch._import_from_c(arr_ptr, self.schema), f
                finally:
                    if arr.release != ffi.NULL:  # not imported: release it here, never leak or reuse it
                        arr.release(arr)
                    ffi.memmove(arr, _ZERO_ARRAY, len(_ZERO_ARRAY))  # zero-initialised for the next poll
            if f & FLAG_UNTIL_REACHED or remaining <= SLICE_MS:
                return None, f

    def commit(self, asynchronous: bool, timeout_ms: int) -> list[dict[str, Any]]:
        """kafkars_manager_commit: what was committed (or sent)."""
        out = ffi.new("char**")
        err = ffi.new("char**")
        flags = COMMIT_ASYNC if asynchronous else 0
        # (log lines a commit leaves, e.g. of revocations it completed, go
        # out with the next poll: KAFKARS_FLAG_EVENTS)
        self._check(lib.kafkars_manager_commit(self._handle(), flags, timeout_ms, out, err), err)
        done: list[dict[str, Any]] = json.loads(take_string(out[0]))
        return done

    def lag(self) -> pa.RecordBatch:
        arr = ffi.new("struct ArrowArray*")
        sch = ffi.new("struct ArrowSchema*")
        err = ffi.new("char**")
        self._check(lib.kafkars_manager_lag(self._handle(), arr, sch, err), err)
        return pa.RecordBatch._import_from_c(_ptr(arr), _ptr(sch))

    def log_events(self) -> None:
        """Hand the library's log lines to the "kafkars" logger."""
        if self._closed:
            return
        out = ffi.new("char**")
        err = ffi.new("char**")
        if lib.kafkars_manager_events(self._h, out, err) != 0:
            take_string(err[0])
            return
        events = json.loads(take_string(out[0]))
        if events:
            _log.emit(events)

    def is_live(self) -> bool:
        out = ffi.new("int32_t*")
        err = ffi.new("char**")
        self._check(lib.kafkars_manager_is_live(self._handle(), out, err), err)
        return bool(out[0])

    def metrics(self) -> dict[str, Any]:
        out = ffi.new("char**")
        err = ffi.new("char**")
        self._check(lib.kafkars_manager_metrics(self._handle(), out, err), err)
        self.log_events()
        metrics: dict[str, Any] = json.loads(take_string(out[0]))
        return metrics

    def state(self) -> pa.RecordBatch:
        """kafkars_manager_state: the partition state batch."""
        return self._batch(lib.kafkars_manager_state)

    def stats(self) -> pa.RecordBatch:
        """kafkars_manager_stats: the partition statistics batch."""
        return self._batch(lib.kafkars_manager_stats)

    def _batch(self, fn: Any) -> pa.RecordBatch:
        arr = ffi.new("struct ArrowArray*")
        sch = ffi.new("struct ArrowSchema*")
        err = ffi.new("char**")
        self._check(fn(self._handle(), arr, sch, err), err)
        return pa.RecordBatch._import_from_c(_ptr(arr), _ptr(sch))

    def stream(self, until: int, mode: int, idle_timeout_ms: int) -> pa.RecordBatchReader:
        """An ArrowArrayStream exported by the Go core."""
        stream = ffi.new("struct ArrowArrayStream*")
        err = ffi.new("char**")
        self._check(lib.kafkars_manager_stream(self._handle(), until, mode, int(idle_timeout_ms), stream, err), err)
        return pa.RecordBatchReader._import_from_c(_ptr(stream))

    def close(self) -> None:
        """Idempotent; a poll running in another thread gets ClosedError."""
        with self._lock:
            if self._closed:
                return
            self.log_events()
            self._closed = True
        err = ffi.new("char**")
        check(lib.kafkars_manager_close(self._h, err), err)


def _create(spec: bytes, rewrite_config_error: Callable[[str], str]) -> int:
    """kafkars_manager_new, interruptible.

    Creation blocks up to startup_timeout_ms (15 s by default) in the native
    library, and Python runs its Ctrl-C handler only between calls. So the
    call runs in a helper thread while this one waits in short slices: a
    KeyboardInterrupt propagates at once, and a manager the helper creates
    after the caller gave up is closed there.
    """
    lock = threading.Lock()
    box: dict[str, Any] = {}

    def run() -> None:
        out = ffi.new("kafkars_handle*")
        err = ffi.new("char**")
        status = lib.kafkars_manager_new(spec, len(spec), out, err)
        msg = take_string(err[0]) if status != 0 else ""
        with lock:
            if box.get("abandoned"):
                if status == 0:
                    lib.kafkars_manager_close(out[0], ffi.NULL)
                return
            box["result"] = (int(status), int(out[0]), msg)

    t = threading.Thread(target=run, name="kafkars-create", daemon=True)
    t.start()
    try:
        while t.is_alive():
            t.join(SLICE_MS / 1000.0)
    except BaseException:
        with lock:
            result = box.get("result")
            box["abandoned"] = True
        if result is not None and result[0] == 0:
            lib.kafkars_manager_close(result[1], ffi.NULL)
        raise
    status, handle, msg = box["result"]
    if status != 0:
        if status == lib.KAFKARS_ERR_CONFIG:
            # found while creating the consumer: the Rust kafkars raised
            # RuntimeError for these (docs/compat.md)
            raise ConsumerConfigError(rewrite_config_error(msg))
        raise error(status, msg)
    return int(handle)


#: Names the Rust kafkars 0.0.8 exposed in its native module ``kafkars._lib``,
#: for code that imported them from there (docs/compat.md).
_RUST_NAMES = {
    "PyConsumerManager": ("kafkars._manager", "ConsumerManager"),
    "validate_source_topic": ("kafkars._manager", "validate_source_topic"),
    "get_message_schema": ("kafkars.schema", "get_message_schema"),
    "get_partition_state_schema": ("kafkars.schema", "get_partition_state_schema"),
    "__version__": ("kafkars", "__version__"),
}


def __getattr__(name: str) -> Any:
    # Resolved on first use: those modules import this one.
    if name in _RUST_NAMES:
        import importlib

        module, attr = _RUST_NAMES[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def offsets(query: bytes) -> dict[str, Any]:
    """kafkars_offsets: partition offsets for a planner, without a manager.

    Blocks up to the query's timeout_ms in the native library, so it runs
    in a helper thread while this one waits in short slices (Ctrl-C
    interrupts it at once; the abandoned lookup ends on its own).
    """
    box: dict[str, Any] = {}

    def run() -> None:
        out = ffi.new("char**")
        err = ffi.new("char**")
        status = lib.kafkars_offsets(query, len(query), out, err)
        box["result"] = (int(status), take_string(out[0]) if status == 0 else take_string(err[0]))

    t = threading.Thread(target=run, name="kafkars-offsets", daemon=True)
    t.start()
    while t.is_alive():
        t.join(SLICE_MS / 1000.0)
    status, text = box["result"]
    if status != 0:
        raise error(status, text)
    result: dict[str, Any] = json.loads(text)
    return result


class ProducerHandle:
    """One native producer: its handle, and the sliced wait of a send.

    Sends on one producer run one at a time (the lock); the wait runs in
    slices of SLICE_MS with the GIL released, so Ctrl-C interrupts it (the
    send is then aborted: nothing more is sent and nothing is reported).
    """

    __slots__ = ("_h", "_closed", "_lock")

    def __init__(self, spec: bytes) -> None:
        self._closed = True
        self._lock = threading.Lock()
        out = ffi.new("kafkars_handle*")
        err = ffi.new("char**")
        check(lib.kafkars_producer_new(spec, len(spec), out, err), err)
        self._h = int(out[0])
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def send(self, spec: bytes, reader: pa.RecordBatchReader,
             on_progress: Callable[[int], None] | None = None) -> tuple[int, dict[str, Any]]:
        """Produce the reader's batches (exported as an ArrowArrayStream that
        the library takes over). Returns (status, result): status 0 when
        every record was acknowledged; otherwise the caller raises with the
        result."""
        while not self._lock.acquire(timeout=SLICE_MS / 1000.0):
            pass
        try:
            if self._closed:
                raise ClosedError("the Producer is closed; create a new one")
            out = ffi.new("kafkars_handle*")
            err = ffi.new("char**")
            stream = ffi.new("struct ArrowArrayStream*")
            reader._export_to_c(_ptr(stream))
            check(lib.kafkars_producer_send(self._h, spec, len(spec), stream, out, err), err)
            send = out[0]
            acked = ffi.new("int64_t*")
            res = ffi.new("char**")
            try:
                while True:
                    status = lib.kafkars_send_wait(send, SLICE_MS, acked, res, err)
                    if res[0] != ffi.NULL:
                        result: dict[str, Any] = json.loads(take_string(res[0]))
                        if status != 0:
                            result["_message"] = take_string(err[0])
                        return int(status), result
                    if status != 0:  # a bad handle: never a running send
                        check(status, err)
                    if on_progress is not None:
                        on_progress(int(acked[0]))
            finally:
                lib.kafkars_send_close(send, ffi.NULL)
        finally:
            self._lock.release()

    def close(self) -> None:
        """Idempotent. Aborts a send running in another thread."""
        if self._closed:
            return
        self._closed = True
        err = ffi.new("char**")
        check(lib.kafkars_producer_close(self._h, err), err)
