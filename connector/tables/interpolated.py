"""The `interpolated_values` table: values interpolated at a fixed interval, when configured."""
from __future__ import annotations

import pyarrow as pa

from .base import AUDIT_COLUMNS
from .base import Column
from .base import Table
from .recorded import DATE_COLUMN
from .recorded import ERRORS_COLUMN
from .recorded import IDENTITY_COLUMNS
from .recorded import VALUE_COLUMNS


class InterpolatedValues(Table):
    """One row per point and interpolation time."""

    name = "interpolated_values"
    primary_keys = ("web_id", "timestamp_ns")
    cursor_field = "timestamp_ns"
    cursor_key = "web_id"
    partition_by = ("date",)
    description = "Interpolated values: one row per point and time, at the configured interval."
    columns = (
        *IDENTITY_COLUMNS,
        *VALUE_COLUMNS,
        Column("interval", pa.string(), "The interpolation interval as a PI interval (`1h`)."),
        DATE_COLUMN,
        *AUDIT_COLUMNS,
        ERRORS_COLUMN,
    )
