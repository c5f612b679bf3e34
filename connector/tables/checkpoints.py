"""The `_checkpoints` table: the connector's bookmarks, one per (table, key)."""
from __future__ import annotations

import pyarrow as pa

from .base import TIMESTAMP
from .base import Column
from .base import Table


class CheckpointsTable(Table):
    """One bookmark per data table and cursor key (a tag's WebID, an AF database), upserted."""

    name = "_checkpoints"
    primary_keys = ("table_name", "key")
    partition_by = ("table_name",)  # a commit or load touches one data table's bookmarks only
    internal = True
    description = (
        "The connector's bookmarks: one row per data table and cursor key, moved forward only after the data "
        "it covers is committed."
    )
    columns = (
        Column("table_name", pa.string(), "The data table the bookmark belongs to."),
        Column("key", pa.string(), "The cursor key's value (e.g. a WebID)."),
        Column("cursor_ns", pa.int64(), "The cursor: nanoseconds since the Unix epoch.", nullable=False),
        Column("data_version", pa.int64(), "Delta version of the data commit it covers.", nullable=False),
        Column("run_id", pa.string(), "The run that moved the bookmark.", nullable=False),
        Column("updated_at", TIMESTAMP, "When the bookmark was written (UTC).", nullable=False),
    )
