"""The `af_elements` and `af_attributes` tables: the AF hierarchy, upserted by WebID."""
from __future__ import annotations

import pyarrow as pa

from .base import AUDIT_COLUMNS
from .base import Column
from .base import Table

CATEGORIES = Column("categories", pa.list_(pa.string()), "Category names.")


class AFElements(Table):
    """One row per AF element."""

    name = "af_elements"
    primary_keys = ("web_id",)
    description = "AF elements: one row per element of the configured databases, upserted by WebID."
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
        *AUDIT_COLUMNS,
    )


class AFAttributes(Table):
    """One row per attribute of an extracted AF element."""

    name = "af_attributes"
    primary_keys = ("web_id",)
    description = "AF attributes: one row per attribute of the extracted elements, upserted by WebID."
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
        *AUDIT_COLUMNS,
    )
