"""The `points` table: PI point metadata, one row per point, upserted by WebID."""
from __future__ import annotations

import pyarrow as pa

from .base import AUDIT_COLUMNS
from .base import Column
from .base import Table


class Points(Table):
    """One row per PI point the connector extracts: its identity and the attributes that shape its values."""

    name = "points"
    primary_keys = ("web_id",)
    description = (
        "PI point metadata: one row per point the connector extracts, upserted by WebID on every run "
        "(a renamed point keeps its row)."
    )
    columns = (
        Column("web_id", pa.string(), "PI Web API WebID of the point."),
        Column("point_id", pa.int32(), "The point's id on its data server."),
        Column("server", pa.string(), "Name of the data archive server."),
        Column("name", pa.string(), "Tag name."),
        Column("path", pa.string(), "Full path, `\\\\server\\tag`."),
        Column("descriptor", pa.string(), "The point's descriptor."),
        Column("point_class", pa.string(), "Point class (e.g. `classic`)."),
        Column("point_type", pa.string(), "Value type: Float32, Float64, Int32, Digital, String, ..."),
        Column("engineering_units", pa.string(), "Engineering units."),
        Column("digital_set", pa.string(), "Digital state set of a Digital point."),
        Column("step", pa.bool_(), "True if values hold until the next event (no interpolation)."),
        Column("future", pa.bool_(), "True for a future-data point."),
        Column("span", pa.float64(), "Span of the point's range."),
        Column("zero", pa.float64(), "Bottom of the point's range."),
        Column("display_digits", pa.int32(), "Display digits."),
        *AUDIT_COLUMNS,
    )
