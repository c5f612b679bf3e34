"""connector.tables: one class per bronze table, and the registry of them all."""
from __future__ import annotations

from .af import AFAttributes
from .af import AFElements
from .base import Column
from .base import Table
from .checkpoints import CheckpointsTable
from .eventframes import EventFrameAttributes
from .eventframes import EventFrames
from .interpolated import InterpolatedValues
from .points import Points
from .recorded import RecordedValues
from .runlog import RunLog
from .summaries import SummaryValues

TABLES: dict[str, type[Table]] = {
    table.name: table
    for table in (
        Points,
        RecordedValues,
        InterpolatedValues,
        SummaryValues,
        AFElements,
        AFAttributes,
        EventFrames,
        EventFrameAttributes,
        RunLog,
        CheckpointsTable,
    )
}


class UnknownTableError(KeyError):
    """A table name that is not in the registry."""

    def __str__(self) -> str:
        return str(self.args[0])


def get(name: str) -> type[Table]:
    """The table class called `name`.

    Raises:
        UnknownTableError: A `KeyError` whose message names the table and lists the known ones.
    """
    try:
        return TABLES[name]
    except KeyError:
        raise UnknownTableError(f"unknown table {name!r}; known tables: {', '.join(TABLES)}") from None


def markdown(level: int = 3) -> str:
    """The docs of every data table (not the internal ones), one markdown section each, in registry order."""
    return "\n".join(table.markdown(level) for table in TABLES.values() if not table.internal)


__all__ = [
    "TABLES",
    "AFAttributes",
    "AFElements",
    "CheckpointsTable",
    "Column",
    "EventFrameAttributes",
    "EventFrames",
    "InterpolatedValues",
    "Points",
    "RecordedValues",
    "RunLog",
    "SummaryValues",
    "Table",
    "UnknownTableError",
    "get",
    "markdown",
]
