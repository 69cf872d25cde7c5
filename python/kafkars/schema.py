"""Arrow schemas of kafkars batches, read from the native library so that
Python and Go can never disagree."""

from __future__ import annotations

import pyarrow as pa

from kafkars._lib import ffi, lib, take_string
from kafkars._errors import error_for_status


def _schema(which: int) -> pa.Schema:
    c = ffi.new("struct ArrowSchema*")
    err = ffi.new("char**")
    status = lib.kafkars_schema(which, c, err)
    if status != 0:
        raise error_for_status(status, take_string(err[0]))
    return pa.Schema._import_from_c(int(ffi.cast("uintptr_t", c)))


#: Schema of the batches ``poll()`` returns (SPEC §8).
MESSAGE_SCHEMA: pa.Schema = _schema(lib.KAFKARS_SCHEMA_MESSAGE)
#: The same with the optional ``headers`` column (``include_headers=True``).
MESSAGE_SCHEMA_WITH_HEADERS: pa.Schema = _schema(lib.KAFKARS_SCHEMA_MESSAGE_WITH_HEADERS)
#: Schema of ``partition_state()`` (SPEC §9).
PARTITION_STATE_SCHEMA: pa.Schema = _schema(lib.KAFKARS_SCHEMA_PARTITION_STATE)


def get_message_schema(include_headers: bool = False) -> pa.Schema:
    """The schema of ``poll()`` batches."""
    return MESSAGE_SCHEMA_WITH_HEADERS if include_headers else MESSAGE_SCHEMA


def get_partition_state_schema() -> pa.Schema:
    """The schema of ``partition_state()``."""
    return PARTITION_STATE_SCHEMA
