"""The optional dataframe libraries, imported when a method needs them."""

from __future__ import annotations

from typing import Any


def import_polars(what: str) -> Any:
    """The polars module, or an ImportError saying who needs it and how to get it."""
    try:
        import polars  # type: ignore[import-not-found]
    except ImportError as exc:
        raise ImportError(f"{what} needs polars, which is not installed: pip install polars") from exc
    return polars


def import_pandas(what: str) -> Any:
    """The pandas module, or an ImportError saying who needs it and how to get it."""
    try:
        import pandas  # type: ignore[import-untyped]
    except ImportError as exc:
        raise ImportError(f"{what} needs pandas, which is not installed: pip install pandas") from exc
    return pandas
