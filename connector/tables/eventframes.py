"""The `event_frames` and `event_frame_attributes` tables: AF event frames and their attribute values."""
from __future__ import annotations

import pyarrow as pa

from .base import AUDIT_COLUMNS
from .base import TIMESTAMP
from .base import Column
from .base import Table


class EventFrames(Table):
    """One row per event frame; an open frame is re-read (and its row updated) until it closes."""

    name = "event_frames"
    primary_keys = ("web_id",)
    cursor_key = "database"
    cursor_doc = "search window end per `database`"
    description = (
        "AF event frames: one row per frame, upserted by WebID; open frames are re-read until they close."
    )
    columns = (
        Column("web_id", pa.string(), "WebID of the event frame."),
        Column("id", pa.string(), "AF id (GUID) of the event frame."),
        Column("database", pa.string(), "Name of the AF database."),
        Column("name", pa.string(), "Event frame name."),
        Column("description", pa.string(), "Event frame description."),
        Column("path", pa.string(), "Full path of the event frame."),
        Column("template", pa.string(), "Event frame template name."),
        Column("start_time", TIMESTAMP, "Start of the frame."),
        Column("end_time", TIMESTAMP, "End of the frame; null while it is open."),
        Column("is_open", pa.bool_(), "True while the frame has no end."),
        Column("severity", pa.string(), "Severity (`None`, `Information`, `Warning`, ...)."),
        Column("categories", pa.list_(pa.string()), "Category names."),
        Column("ref_element_web_ids", pa.list_(pa.string()), "WebIDs of the referenced elements."),
        Column("primary_element_web_id", pa.string(), "WebID of the primary referenced element."),
        *AUDIT_COLUMNS,
    )


class EventFrameAttributes(Table):
    """One row per attribute of an event frame, with its value."""

    name = "event_frame_attributes"
    primary_keys = ("event_frame_web_id", "name")
    description = (
        "Attributes of the extracted event frames with their values: one row per frame and attribute name."
    )
    columns = (
        Column("event_frame_web_id", pa.string(), "WebID of the event frame."),
        Column("name", pa.string(), "Attribute name."),
        Column("web_id", pa.string(), "WebID of the attribute."),
        Column("path", pa.string(), "Full path of the attribute."),
        Column("type", pa.string(), "Value type (`Double`, `String`, ...)."),
        Column("units", pa.string(), "Units of measure."),
        Column("data_reference", pa.string(), "Data reference plug-in; null if static."),
        Column("value_json", pa.string(), "The value exactly as PI returned it, as JSON text."),
        Column("value_numeric", pa.float64(), "The value when it is a number."),
        Column("value_string", pa.string(), "The value when it is a string (or a digital state name)."),
        Column("timestamp", TIMESTAMP, "Timestamp of the value."),
        Column("good", pa.bool_(), "PI's Good flag."),
        *AUDIT_COLUMNS,
    )
