"""Arrow schemas of kafkars batches, read from the native library so that
Python and Go can never disagree.

``MESSAGE_SCHEMA`` and ``PARTITION_STATE_SCHEMA`` are equal to those of the
Rust kafkars 0.0.8 (names, types, nullability, order), and this module path
is the same (docs/compat.md)."""

from __future__ import annotations

import pyarrow as pa

from kafkars._lib import lib, schema as _schema

#: Schema of the batches ``poll()`` returns (docs/design.md, "Batches").
MESSAGE_SCHEMA: pa.Schema = _schema(lib.KAFKARS_SCHEMA_MESSAGE)
#: The same with the optional ``headers`` column (``include_headers=True``).
MESSAGE_SCHEMA_WITH_HEADERS: pa.Schema = _schema(lib.KAFKARS_SCHEMA_MESSAGE_WITH_HEADERS)
#: Schema of ``partition_state()`` (docs/design.md, "State"): the nine
#: columns of the Rust kafkars.
PARTITION_STATE_SCHEMA: pa.Schema = _schema(lib.KAFKARS_SCHEMA_PARTITION_STATE)
#: Schema of ``partition_stats()``: kafkars' own per-partition figures.
PARTITION_STATS_SCHEMA: pa.Schema = _schema(lib.KAFKARS_SCHEMA_PARTITION_STATS)
#: Schema of ``partition_lag()`` (docs/design.md, "Commits and consumer groups").
PARTITION_LAG_SCHEMA: pa.Schema = _schema(lib.KAFKARS_SCHEMA_PARTITION_LAG)


def get_message_schema(include_headers: bool = False) -> pa.Schema:
    """The schema of ``poll()`` batches."""
    return MESSAGE_SCHEMA_WITH_HEADERS if include_headers else MESSAGE_SCHEMA


def get_partition_state_schema() -> pa.Schema:
    """The schema of ``partition_state()``."""
    return PARTITION_STATE_SCHEMA
