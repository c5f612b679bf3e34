"""The `summary_values` table: PI summaries (average, min, max, ...) over fixed durations."""
from __future__ import annotations

import pyarrow as pa

from .base import AUDIT_COLUMNS
from .base import TIMESTAMP
from .base import Column
from .base import Table
from .recorded import DATE_COLUMN


class SummaryValues(Table):
    """One row per point, summary type, calculation basis, duration and interval start."""

    name = "summary_values"
    primary_keys = ("web_id", "summary_type", "calculation_basis", "duration", "start_ns")
    cursor_field = "start_ns"
    cursor_key = "web_id"
    partition_by = ("date",)
    description = (
        "Summary values: one row per point, summary type, calculation basis and interval of the configured "
        "duration."
    )
    columns = (
        Column("web_id", pa.string(), "WebID of the point."),
        Column("tag", pa.string(), "Tag name when the value was read."),
        Column("summary_type", pa.string(), "Summary type (`Average`, `Minimum`, `Maximum`, `Total`, ...)."),
        Column("calculation_basis", pa.string(), "Calculation basis (`TimeWeighted`, `EventWeighted`, ...)."),
        Column("duration", pa.string(), "Length of each summary interval as a PI interval (`1h`)."),
        Column("start", TIMESTAMP, "Interval start, truncated to microseconds.", nullable=False),
        Column("start_ns", pa.int64(), "Exact interval start: nanoseconds since the Unix epoch."),
        Column("end", TIMESTAMP, "Interval end, truncated to microseconds."),
        Column("value", pa.float64(), "The summary value; null when it is a system state."),
        Column("value_timestamp", TIMESTAMP, "Timestamp PI gives the value (e.g. the time of a Maximum)."),
        Column("is_system", pa.bool_(), "True if the value is a system state."),
        Column("digital_name", pa.string(), "System state name when `is_system`."),
        Column("good", pa.bool_(), "PI's Good flag."),
        Column("units", pa.string(), "Units of measure of the value."),
        DATE_COLUMN._replace(description="UTC date of `start` (the partition)."),
        *AUDIT_COLUMNS,
    )
