"""The `recorded_values` table: every archive event, exact across pages and runs."""
from __future__ import annotations

import pyarrow as pa

from .base import AUDIT_COLUMNS
from .base import TIMESTAMP
from .base import Column
from .base import Table

IDENTITY_COLUMNS = (
    Column("web_id", pa.string(), "WebID of the point."),
    Column("tag", pa.string(), "Tag name when the value was read."),
    Column("timestamp", TIMESTAMP, "Event time, truncated to microseconds (for queries).", nullable=False),
    Column("timestamp_ns", pa.int64(), "Exact event time: ns since the Unix epoch (multiples of 100)."),
)
VALUE_COLUMNS = (
    Column("value", pa.float64(), "Numeric value; null for digital, string and system-state values."),
    Column("string_value", pa.string(), "Value of a String point."),
    Column("digital_name", pa.string(), "Digital state name, including system states (`I/O Timeout`)."),
    Column("digital_code", pa.int32(), "Digital state code."),
    Column("is_system", pa.bool_(), "True if the value is a system state."),
    Column("good", pa.bool_(), "PI's Good flag."),
    Column("questionable", pa.bool_(), "PI's Questionable flag."),
    Column("substituted", pa.bool_(), "PI's Substituted flag."),
    Column("annotated", pa.bool_(), "PI's Annotated flag."),
    Column("units", pa.string(), "Units of measure of the value (empty for system states and error values)."),
)
#: added after the first release, so last (a table written before gets it added, null, by `DeltaSink.ensure`)
ERRORS_COLUMN = Column("errors", pa.string(), "PI's errors for a bad value (its `Errors`, or an error object as "
                                              "its value), `; `-joined; null for a good value.")
DATE_COLUMN = Column("date", pa.date32(), "UTC date of `timestamp` (the partition).")


class RecordedValues(Table):
    """One row per archive event; `ordinal` tells apart events that share one exact timestamp."""

    name = "recorded_values"
    primary_keys = ("web_id", "timestamp_ns", "ordinal")
    cursor_field = "timestamp_ns"
    cursor_key = "web_id"
    partition_by = ("date",)
    description = (
        "Recorded (archived) values: one row per archive event, read per tag in time order over half-open "
        "windows; a window read again (the lookback) is compared by key with the rows held, so re-runs and "
        "crashes never duplicate a row, edits are updated and rows the archive no longer holds deleted."
    )
    columns = (
        *IDENTITY_COLUMNS,
        Column("ordinal", pa.int32(), "0, 1, ... for events sharing one exact timestamp, in archive order."),
        *VALUE_COLUMNS,
        DATE_COLUMN,
        *AUDIT_COLUMNS,
        ERRORS_COLUMN,
    )
