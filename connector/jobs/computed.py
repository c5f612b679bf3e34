"""connector.jobs.computed: interpolated and summary values, when the config asks for them.

Both are computed by PI on a fixed time grid, aligned to the epoch so that every run asks for the
same instants and the keys of re-read rows match. Values near "now" can still change (an
interpolation past the last event, an interval still filling), so each tag restarts from its
cursor minus the recorded lookback and the rows read again are compared with the table's: changed
ones MERGEd, new ones appended. Summaries are written for complete intervals only.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field

import pyarrow as pa
import pyarrow.compute as pc

from ..config import parse_duration
from ..context import NS
from ..context import RunContext
from ..context import TableReport
from ..context import parse_server_time
from ..convert import StreamInfo
from ..convert import value_rows
from ..discovery import PointInfo
from ..paging import format_ns
from ..tables import InterpolatedValues
from ..tables import SummaryValues
from ..wire import STREAM_SET
from .reconcile import NO_CURSOR
from .reconcile import widen
from .reconcile import write_batch

MAX_URL_WEB_IDS = 200
VALUE_FIELDS = "Items.WebId;Items.UnitsAbbreviation;Items.WebException;Items.Items"
SUMMARY_FIELDS = "Items.WebId;Items.Items.Type;Items.Items.Value"

# (context, group of points, window start ns, window end ns) -> the window's rows (or None)
Fetch = Callable[[RunContext, list[PointInfo], int, int], "pa.Table | None"]


def _run(ctx: RunContext, points: list[PointInfo], table, step_text: str, start_text: str, end_text: str,
         values_per_step: int, fetch: Fetch) -> TableReport:
    """The grid loop both jobs share: per restart time, groups of tags, windows of whole steps;
    the windows' rows are written (`_Batch`) every `recorded.flush_rows` rows, with their cursors."""
    started = time.perf_counter()
    sink = ctx.sink
    sink.ensure(table)
    step_ns = int(parse_duration(step_text).total_seconds() * NS)
    cursors = ctx.checkpoints.load(table)
    dirty = ctx.checkpoints.is_dirty(table)  # a crash after a data commit: compare every row read
    lookback_ns = int(ctx.config.recorded.lookback.total_seconds() * NS)
    end_ns = ctx.time_ns(end_text) // step_ns * step_ns
    default_ns = ctx.time_ns(start_text) // step_ns * step_ns
    by_start: dict[int, list[PointInfo]] = {}
    batch = _Batch(table)
    for point in points:
        cursor = cursors.get(point.web_id)
        start = default_ns if cursor is None else max(0, cursor.cursor_ns - lookback_ns) // step_ns * step_ns
        batch.bounds[point.web_id] = NO_CURSOR if dirty else start if cursor is None else cursor.cursor_ns
        if start < end_ns:
            by_start.setdefault(start, []).append(point)
    limit = ctx.config.source.max_items_per_call
    rows = 0
    ctx.progress.start(table.name, len(points))
    for start_ns, members in by_start.items():
        group_size = max(1, min(MAX_URL_WEB_IDS, len(members)))
        steps = max(1, min((end_ns - start_ns) // step_ns, limit // (values_per_step * group_size) - 1))
        for i in range(0, len(members), group_size):
            group = members[i:i + group_size]
            a = start_ns
            while a < end_ns:
                b = min(end_ns, a + step_ns * steps)
                data = fetch(ctx, group, a, b)
                batch.add(data, group, a, b)
                rows += data.num_rows if data is not None else 0
                if batch.rows >= ctx.config.recorded.flush_rows:
                    batch.flush(ctx)
                ctx.progress.advance(table.name, values=data.num_rows if data is not None else 0)
                a = b
            ctx.progress.advance(table.name, done=len(group))
    batch.flush(ctx)
    ctx.progress.finish(table.name)
    seconds = time.perf_counter() - started
    return TableReport(rows=rows, seconds=seconds, values_per_second=rows / seconds if seconds else 0.0)


@dataclass
class _Batch:
    """Windows read but not written: their rows, the spans read again and the cursors they move.

    Rows before a tag's bound (its cursor: they may be held already) are compared with the table
    (`reconcile`): new keys are appended, changed rows MERGEd; the rest are appended. Rows the new
    read lacks are left alone: a grid value is not deleted in PI, and a tag missing from an answer
    must not lose its rows."""

    table: type
    bounds: dict[str, int] = field(default_factory=dict)  # web_id -> rows before it may be held
    parts: list[pa.Table] = field(default_factory=list)
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)
    cursors: dict[str, int] = field(default_factory=dict)
    rows: int = 0

    def add(self, data: pa.Table | None, group: list[PointInfo], a: int, b: int) -> None:
        if data is not None and data.num_rows:
            self.parts.append(data)
            self.rows += data.num_rows
        for point in group:
            hi = min(b, self.bounds[point.web_id])
            if a < hi:
                widen(self.spans, point.web_id, a, hi)
            self.cursors[point.web_id] = b

    def flush(self, ctx: RunContext) -> None:
        if not self.cursors:
            return
        older, newer = self.table.schema.empty_table(), []
        if self.parts:
            data = pa.concat_tables(self.parts)
            bound = pc.take(pa.array(list(self.bounds.values()), pa.int64()),
                            pc.index_in(data.column("web_id"), value_set=pa.array(list(self.bounds), pa.string())))
            before = pc.less(data.column(self.table.cursor_field), bound)
            older, newer = data.filter(before), [data.filter(pc.invert(before))]
        write_batch(ctx, self.table, older, self.spans, newer, self.cursors, delete_gone=False)
        self.parts, self.spans, self.cursors, self.rows = [], {}, {}, 0


def write_interpolated(ctx: RunContext, points: list[PointInfo]) -> TableReport:
    config = ctx.config.interpolated
    return _run(ctx, points, InterpolatedValues, config.interval, config.start, config.end, 1, fetch_interpolated)


def fetch_interpolated(ctx: RunContext, group: list[PointInfo], a: int, b: int) -> pa.Table | None:
    """The interpolated rows of [a, b) (whole intervals) for a group of tags."""
    config = ctx.config.interpolated
    step_ns = int(parse_duration(config.interval).total_seconds() * NS)
    body = ctx.client.get_bytes("streamsets/interpolated", {
        "webId": [p.web_id for p in group], "startTime": format_ns(a), "endTime": format_ns(b - step_ns),
        "interval": config.interval, "selectedFields": VALUE_FIELDS, "webIdType": ctx.config.source.web_id_type})
    found = {s.WebId: s for s in STREAM_SET.decode(body).Items}
    streams = [(StreamInfo(p.web_id, p.name, found[p.web_id].UnitsAbbreviation or p.engineering_units),
                found[p.web_id].Items) for p in group if p.web_id in found]
    return value_rows(streams, InterpolatedValues.schema, run_id=ctx.run_id, ingested_at_us=ctx.ingested_at_us,
                      extra={"interval": config.interval})


def write_summaries(ctx: RunContext, points: list[PointInfo]) -> TableReport:
    config = ctx.config.summaries
    return _run(ctx, points, SummaryValues, config.duration, config.start, config.end, len(config.types),
                fetch_summaries)


def fetch_summaries(ctx: RunContext, group: list[PointInfo], a: int, b: int) -> pa.Table | None:
    """The summary rows of the whole intervals in [a, b) for a group of tags."""
    config = ctx.config.summaries
    step_ns = int(parse_duration(config.duration).total_seconds() * NS)
    # one interval more than needed, dropped: PI closes only the last interval of a call at its
    # end, so every kept interval is [start, end) whatever the windows were
    answer = ctx.client.get_json("streamsets/summary", {
        "webId": [p.web_id for p in group], "startTime": format_ns(a), "endTime": format_ns(b + step_ns),
        "summaryType": list(config.types), "summaryDuration": config.duration,
        "calculationBasis": config.calculation_basis, "selectedFields": SUMMARY_FIELDS,
        "webIdType": ctx.config.source.web_id_type})
    found = {s.get("WebId"): s for s in answer.get("Items") or []}
    data = [row for p in group if p.web_id in found for row in _summary_rows(p, found[p.web_id], a, step_ns, config)
            if row["start_ns"] < b]
    return ctx.rows_table(SummaryValues, data) if data else None


def _summary_rows(point: PointInfo, stream: dict, start_ns: int, step_ns: int, config) -> list[dict]:
    """One row per (type, interval): within a type PI lists intervals in time order."""
    seen: dict[str, int] = {}
    out = []
    for item in stream.get("Items") or []:
        kind = item.get("Type")
        k = seen.get(kind, 0)
        seen[kind] = k + 1
        value = item.get("Value") or {}
        raw = value.get("Value")
        begin = start_ns + k * step_ns
        system = isinstance(raw, dict)
        stamp = value.get("Timestamp")
        out.append({
            "web_id": point.web_id, "tag": point.name, "summary_type": kind,
            "calculation_basis": config.calculation_basis, "duration": config.duration,
            "start": parse_server_time(format_ns(begin)), "start_ns": begin,
            "end": parse_server_time(format_ns(begin + step_ns)),
            "value": None if system or raw is None or isinstance(raw, bool) else float(raw),
            "value_timestamp": parse_server_time(stamp) if stamp else None, "is_system": system,
            "digital_name": raw.get("Name") if system else None, "good": bool(value.get("Good", not system)),
            "units": value.get("UnitsAbbreviation"), "date": parse_server_time(format_ns(begin)).date(),
        })
    return out
