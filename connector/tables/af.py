"""The `af_elements` and `af_attributes` tables: the AF hierarchy, upserted by WebID."""
from __future__ import annotations

import pyarrow as pa

from .base import AUDIT_COLUMNS
from .base import TIMESTAMP
from .base import Column
from .base import Table

CATEGORIES = Column("categories", pa.list_(pa.string()), "Category names.")


def removed_at(what: str) -> Column:
    return Column("removed_at", TIMESTAMP, f"When a run first found the {what} gone from AF (the row keeps what "
                  "was last read); null while it exists.")


class AFElements(Table):
    """One row per AF element."""

    name = "af_elements"
    primary_keys = ("web_id",)
    description = ("AF elements: one row per element of the configured databases, upserted by WebID; an element "
                   "gone from AF keeps its row, marked `removed_at`.")
    columns = (
        Column("web_id", pa.string(), "WebID of the element."),
        Column("id", pa.string(), "AF id (GUID) of the element."),
        Column("database", pa.string(), "Name of the AF database."),
        Column("name", pa.string(), "Element name."),
        Column("description", pa.string(), "Element description."),
        Column("path", pa.string(), "Full path, `\\\\server\\database\\parent\\name`."),
        Column("parent_web_id", pa.string(), "WebID of the parent element; null at the root."),
        Column("parent_path", pa.string(), "Path of the parent element; null at the root."),
        Column("depth", pa.int32(), "0 for a root element, 1 for its children, ..."),
        Column("template", pa.string(), "Element template name."),
        CATEGORIES,
        Column("has_children", pa.bool_(), "True if the element has child elements."),
        removed_at("element"),
        *AUDIT_COLUMNS,
    )


class AFAttributes(Table):
    """One row per attribute of an extracted AF element."""

    name = "af_attributes"
    primary_keys = ("web_id",)
    description = ("AF attributes: one row per attribute of the extracted elements, upserted by WebID; an "
                   "attribute gone from AF (or of a gone element) keeps its row, marked `removed_at`.")
    columns = (
        Column("web_id", pa.string(), "WebID of the attribute."),
        Column("id", pa.string(), "AF id (GUID) of the attribute."),
        Column("element_web_id", pa.string(), "WebID of the element that owns the attribute."),
        Column("element_path", pa.string(), "Path of the element that owns the attribute."),
        Column("name", pa.string(), "Attribute name."),
        Column("description", pa.string(), "Attribute description."),
        Column("path", pa.string(), "Full path, `element_path|name`."),
        Column("type", pa.string(), "Value type (`Double`, `Int32`, `String`, ...)."),
        Column("units", pa.string(), "Default units of measure."),
        Column("data_reference", pa.string(), "Data reference (`PI Point`, `Formula`, ...); null if static."),
        Column("config_string", pa.string(), "The data reference's configuration string."),
        Column("point_path", pa.string(), "Path of the PI point a `PI Point` reference resolves to."),
        CATEGORIES,
        Column("is_static", pa.bool_(), "True if the attribute has no data reference."),
        removed_at("attribute"),
        *AUDIT_COLUMNS,
    )
