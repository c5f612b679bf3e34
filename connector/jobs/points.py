"""connector.jobs.points: the discovered points' metadata, upserted into `points`."""
from __future__ import annotations

from ..context import RunContext
from ..context import TableReport
from ..discovery import PointInfo
from ..tables import Points


def write_points(ctx: RunContext, points: list[PointInfo]) -> TableReport:
    """MERGE one row per point (metadata changes, such as a new descriptor, update the row)."""
    ctx.sink.ensure(Points)
    if not points:
        return TableReport()
    fields = [f.name for f in Points.schema if f.name not in ("ingested_at", "run_id")]
    columns = {name: [getattr(p, name) for p in points] for name in fields}
    table = ctx.columns_table(Points, columns)
    ctx.sink.merge(Points, table, metadata={"pi-connector.run_id": ctx.run_id})
    return TableReport(rows=table.num_rows)
