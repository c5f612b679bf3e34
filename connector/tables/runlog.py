"""The `run_log` table: one row per run event (start, skip, error, finish), appended."""
from __future__ import annotations

import pyarrow as pa

from .base import TIMESTAMP
from .base import Column
from .base import Table


class RunLog(Table):
    """One row per event of a connector run."""

    name = "run_log"
    primary_keys = ("run_id", "seq")
    ingestion_type = "append"
    description = "What each connector run did: one row per event (start, skip, error, finish), appended."
    columns = (
        Column("run_id", pa.string(), "Id of the run."),
        Column("seq", pa.int64(), "0, 1, ... in the order the run emitted its events."),
        Column("at", TIMESTAMP, "When the event happened (UTC).", nullable=False),
        Column("level", pa.string(), "`INFO`, `WARNING` or `ERROR`.", nullable=False),
        Column("event", pa.string(), "What happened (`start`, `window`, `skip`, `error`, `finish`, ...).",
               nullable=False),
        Column("table_name", pa.string(), "The table concerned, if any."),
        Column("web_id", pa.string(), "The point or object concerned, if any."),
        Column("tag", pa.string(), "Tag name of the point concerned, if any."),
        Column("rows", pa.int64(), "Rows written, if any."),
        Column("message", pa.string(), "Human-readable detail."),
    )
