"""connector.jobs.computed: interpolated and summary values, when the config asks for them.

Both are computed by PI on a fixed time grid, aligned to the epoch so that every run asks for the
same instants and the keys of re-read rows match. Values near "now" can still change (an
interpolation past the last event, an interval still filling), so rows are upserted and each tag
restarts from its cursor minus the recorded lookback. Summaries are written for complete intervals
only.
"""
from __future__ import annotations

import time

import pyarrow as pa

from ..config import parse_duration
from ..context import NS
from ..context import RunContext
from ..context import TableReport
from ..context import parse_server_time
from ..convert import constant
from ..convert import timestamps_ns
from ..convert import value_columns
from ..discovery import PointInfo
from ..paging import format_ns
from ..tables import InterpolatedValues
from ..tables import SummaryValues
from ..wire import STREAM_SET

MAX_URL_WEB_IDS = 200
VALUE_FIELDS = "Items.WebId;Items.UnitsAbbreviation;Items.WebException;Items.Items"


def _grid(ctx: RunContext, points: list[PointInfo], table, step_ns: int, start_text: str, end_text: str):
    """Per start time, the tags that restart there; the end, aligned down to the grid."""
    cursors = ctx.checkpoints.load(table)
    lookback_ns = int(ctx.config.recorded.lookback.total_seconds() * NS)
    end_ns = ctx.time_ns(end_text) // step_ns * step_ns
    default_ns = ctx.time_ns(start_text) // step_ns * step_ns
    by_start: dict[int, list[PointInfo]] = {}
    for point in points:
        cursor = cursors.get(point.web_id)
        start = default_ns if cursor is None else max(0, cursor.cursor_ns - lookback_ns) // step_ns * step_ns
        if start < end_ns:
            by_start.setdefault(start, []).append(point)
    return by_start, end_ns


def _groups(members: list[PointInfo], per_tag: int, limit: int):
    size = max(1, min(MAX_URL_WEB_IDS, limit // max(1, per_tag)))
    for i in range(0, len(members), size):
        yield members[i:i + size]


def _windows(start_ns: int, end_ns: int, step_ns: int, steps: int):
    while start_ns < end_ns:
        stop = min(end_ns, start_ns + step_ns * steps)
        yield start_ns, stop
        start_ns = stop


def write_interpolated(ctx: RunContext, points: list[PointInfo]) -> TableReport:
    started = time.perf_counter()
    config, sink, table = ctx.config.interpolated, ctx.sink, InterpolatedValues
    sink.ensure(table)
    step_ns = int(parse_duration(config.interval).total_seconds() * NS)
    by_start, end_ns = _grid(ctx, points, table, step_ns, config.start, config.end)
    limit = ctx.config.source.max_items_per_call
    rows = 0
    ctx.progress.start(table.name, len(points))
    for start_ns, members in by_start.items():
        steps = max(1, min((end_ns - start_ns) // step_ns, limit // min(len(members), MAX_URL_WEB_IDS) - 1))
        for group in _groups(members, steps + 1, limit):
            for a, b in _windows(start_ns, end_ns, step_ns, steps):
                body = ctx.client.get_bytes("streamsets/interpolated", {
                    "webId": [p.web_id for p in group], "startTime": format_ns(a), "endTime": format_ns(b - step_ns),
                    "interval": config.interval, "selectedFields": VALUE_FIELDS,
                    "webIdType": ctx.config.source.web_id_type})
                parts = []
                for point, stream in zip(group, _streams(body, group)):
                    if stream is None or not stream.Items:
                        continue
                    parts.append(_interpolated_rows(ctx, point, stream, config.interval))
                if parts:
                    data = pa.concat_tables(parts)
                    sink.merge(table, data, metadata={"pi-connector.run_id": ctx.run_id})
                    rows += data.num_rows
                version = sink.version(table)
                ctx.checkpoints.commit(table, {p.web_id: b for p in group}, version, ctx.run_id)
                ctx.progress.advance(table.name, values=sum(p.num_rows for p in parts))
            ctx.progress.advance(table.name, done=len(group))
    ctx.progress.finish(table.name)
    seconds = time.perf_counter() - started
    return TableReport(rows=rows, seconds=seconds, values_per_second=rows / seconds if seconds else 0.0)


def _streams(body: bytes, group: list[PointInfo]):
    by_id = {s.WebId: s for s in STREAM_SET.decode(body).Items}
    return [by_id.get(p.web_id) for p in group]


def _interpolated_rows(ctx: RunContext, point: PointInfo, stream, interval: str) -> pa.Table:
    items = stream.Items
    n = len(items)
    ns = timestamps_ns([i.Timestamp for i in items])
    cols = value_columns(items, stream.UnitsAbbreviation or point.engineering_units)
    timestamp = pa.array(ns.to_numpy() // 1000, pa.int64()).cast(pa.timestamp("us", tz="UTC"))
    columns = {"web_id": constant(point.web_id, n), "tag": constant(point.name, n), "timestamp": timestamp,
               "timestamp_ns": ns, "value": cols.value, "string_value": cols.string_value,
               "digital_name": cols.digital_name, "digital_code": cols.digital_code, "is_system": cols.is_system,
               "good": cols.good, "questionable": cols.questionable, "substituted": cols.substituted,
               "annotated": cols.annotated, "units": cols.units, "interval": constant(interval, n),
               "date": timestamp.cast(pa.date32()), **ctx.audit(n)}
    schema = InterpolatedValues.schema
    return pa.Table.from_arrays([columns[f.name].cast(f.type) for f in schema], schema=schema)


def write_summaries(ctx: RunContext, points: list[PointInfo]) -> TableReport:
    started = time.perf_counter()
    config, sink, table = ctx.config.summaries, ctx.sink, SummaryValues
    sink.ensure(table)
    step_ns = int(parse_duration(config.duration).total_seconds() * NS)
    by_start, end_ns = _grid(ctx, points, table, step_ns, config.start, config.end)
    limit = ctx.config.source.max_items_per_call
    types = list(config.types)
    rows = 0
    ctx.progress.start(table.name, len(points))
    for start_ns, members in by_start.items():
        steps = max(1, min((end_ns - start_ns) // step_ns,
                           limit // (len(types) * min(len(members), MAX_URL_WEB_IDS))))
        for group in _groups(members, steps * len(types), limit):
            for a, b in _windows(start_ns, end_ns, step_ns, steps):
                answer = ctx.client.get_json("streamsets/summary", {
                    "webId": [p.web_id for p in group], "startTime": format_ns(a), "endTime": format_ns(b),
                    "summaryType": types, "summaryDuration": config.duration,
                    "calculationBasis": config.calculation_basis,
                    "selectedFields": "Items.WebId;Items.Items.Type;Items.Items.Value",
                    "webIdType": ctx.config.source.web_id_type})
                found = {s.get("WebId"): s for s in answer.get("Items") or []}
                data = []
                for point in group:
                    stream = found.get(point.web_id)
                    if stream is None:
                        continue
                    data.extend(_summary_rows(point, stream, a, step_ns, config))
                if data:
                    sink.merge(table, ctx.rows_table(table, data), metadata={"pi-connector.run_id": ctx.run_id})
                    rows += len(data)
                ctx.checkpoints.commit(table, {p.web_id: b for p in group}, sink.version(table), ctx.run_id)
                ctx.progress.advance(table.name, values=len(data))
            ctx.progress.advance(table.name, done=len(group))
    ctx.progress.finish(table.name)
    seconds = time.perf_counter() - started
    return TableReport(rows=rows, seconds=seconds, values_per_second=rows / seconds if seconds else 0.0)


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



