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

from picommon.pitime import from_ns
from picommon.pitime import timestamp as parse_server_time

from ..config import parse_duration
from ..context import NS
from ..context import RunContext
from ..context import TableReport
from ..convert import StreamInfo
from ..convert import value_rows
from ..discovery import PointInfo
from ..errors import PIRequestError
from ..errors import UnknownPointError
from ..errors import stream_error
from ..paging import format_ns
from ..paging import MAX_URL_WEB_IDS
from ..paging import url_group_size
from ..tables import InterpolatedValues
from ..tables import SummaryValues
from ..tables.base import Table
from ..wire import STREAM_SET
from ..wire import WebException
from .reconcile import NO_CURSOR
from .reconcile import widen
from .reconcile import write_batch

VALUE_FIELDS = "Items.WebId;Items.UnitsAbbreviation;Items.WebException;Items.Items"
SUMMARY_FIELDS = "Items.WebId;Items.WebException;Items.Items.Type;Items.Items.Value"

# (context, group of points, window start ns, window end ns) -> the window's rows (or None), and
# the tags PI does not know (web_id -> why): skipped, their cursors left where they were
Fetch = Callable[[RunContext, list[PointInfo], int, int], "tuple[pa.Table | None, dict[str, str]]"]


def members(group: list[PointInfo], found: dict[str, tuple[int, list[str]] | None]) -> dict[str, str]:
    """Check each tag's part of a stream set answer (web_id -> (status, errors) of its
    WebException, or None when it was read): the unknown ones to skip (web_id -> why). Any other
    failure, or a tag missing from the answer, raises: its cursor must not move past rows not read."""
    skipped = {}
    for point in group:
        if point.web_id not in found:
            raise PIRequestError(f"tag {point.name} ({point.web_id}): missing from the stream set answer")
        failure = found[point.web_id]
        if failure is not None:
            error = stream_error(point.web_id, *failure)
            if not isinstance(error, UnknownPointError):
                raise error
            skipped[point.web_id] = str(error)
    return skipped


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
    report = TableReport()
    for start_ns, tags in by_start.items():
        group_size = max(1, min(MAX_URL_WEB_IDS, len(tags), url_group_size(
            ctx.client.base_url, [p.web_id for p in tags], ctx.config.source.max_url_bytes)))
        steps = max(1, min((end_ns - start_ns) // step_ns, limit // (values_per_step * group_size) - 1))
        for i in range(0, len(tags), group_size):
            group = tags[i:i + group_size]
            size = len(group)
            a = start_ns
            while a < end_ns and group:
                b = min(end_ns, a + step_ns * steps)
                data, skipped = fetch(ctx, group, a, b)
                if skipped:
                    for point in group:
                        if point.web_id in skipped:
                            report.skipped += 1
                            ctx.log("tag_skipped", level="warning", table=table.name, web_id=point.web_id,
                                    tag=point.name, message=skipped[point.web_id])
                    group = [p for p in group if p.web_id not in skipped]
                batch.add(data, group, a, b)
                rows += data.num_rows if data is not None else 0
                if batch.rows >= ctx.config.recorded.flush_rows:
                    batch.flush(ctx)
                ctx.progress.advance(table.name, values=data.num_rows if data is not None else 0)
                a = b
            ctx.progress.advance(table.name, done=size)
    batch.flush(ctx)
    ctx.progress.finish(table.name)
    report.rows, report.seconds = rows, time.perf_counter() - started
    report.values_per_second = rows / report.seconds if report.seconds else 0.0
    return report


@dataclass
class _Batch:
    """Windows read but not written: their rows, the spans read again and the cursors they move.

    Rows before a tag's bound (its cursor: they may be held already) are compared with the table
    (`reconcile`): new keys are appended, changed rows MERGEd; the rest are appended. Rows the new
    read lacks are left alone: a grid value is not deleted in PI, and a tag missing from an answer
    must not lose its rows."""

    table: type[Table]
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


def fetch_interpolated(ctx: RunContext, group: list[PointInfo], a: int,
                       b: int) -> tuple[pa.Table | None, dict[str, str]]:
    """The interpolated rows of [a, b) (whole intervals) for a group of tags, and the tags PI does not know."""
    config = ctx.config.interpolated
    step_ns = int(parse_duration(config.interval).total_seconds() * NS)
    body = ctx.client.get_bytes("streamsets/interpolated", {
        "webId": [p.web_id for p in group], "startTime": format_ns(a), "endTime": format_ns(b - step_ns),
        "interval": config.interval, "selectedFields": VALUE_FIELDS, "webIdType": ctx.config.source.web_id_type})
    found = {s.WebId: s for s in STREAM_SET.decode(body).Items}
    skipped = members(group, {w: _failure(_status(s.WebException)) for w, s in found.items()})
    streams = [(StreamInfo(p.web_id, p.name, found[p.web_id].UnitsAbbreviation or p.engineering_units),
                found[p.web_id].Items) for p in group if p.web_id not in skipped]
    return value_rows(streams, InterpolatedValues.schema, run_id=ctx.run_id, ingested_at_us=ctx.ingested_at_us,
                      extra={"interval": config.interval}), skipped


def write_summaries(ctx: RunContext, points: list[PointInfo]) -> TableReport:
    config = ctx.config.summaries
    return _run(ctx, points, SummaryValues, config.duration, config.start, config.end, len(config.types),
                fetch_summaries)


def fetch_summaries(ctx: RunContext, group: list[PointInfo], a: int,
                    b: int) -> tuple[pa.Table | None, dict[str, str]]:
    """The summary rows of the whole intervals in [a, b) for a group of tags, and the tags PI does not know."""
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
    skipped = members(group, {w: _failure(s.get("WebException") and (s["WebException"].get("StatusCode", 0),
                                                                    s["WebException"].get("Errors") or []))
                              for w, s in found.items()})
    data = [row for p in group if p.web_id not in skipped
            for row in _summary_rows(p, found[p.web_id], a, step_ns, config) if row["start_ns"] < b]
    return (ctx.rows_table(SummaryValues, data) if data else None), skipped


def _status(error: WebException | None) -> tuple[int, list[str]] | None:
    return (error.StatusCode, error.Errors) if error is not None else None


def _failure(error: tuple[int, list[str]] | None) -> tuple[int, list[str]] | None:
    """A WebException's (status, errors), None when the stream was read (no exception, or < 400)."""
    return error if error and error[0] >= 400 or error and not error[0] else None


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
            "start": from_ns(begin), "start_ns": begin,
            "end": from_ns(begin + step_ns),
            "value": None if system or raw is None or isinstance(raw, bool) else float(raw),
            "value_timestamp": parse_server_time(stamp) if stamp else None, "is_system": system,
            "digital_name": raw.get("Name") if isinstance(raw, dict) else None,
            "good": bool(value.get("Good", not system)),
            "units": value.get("UnitsAbbreviation"), "date": from_ns(begin).date(),
        })
    return out
