"""connector.jobs.eventframes: event frames and their attribute values, upserted by WebID.

Each database is searched (searchMode Overlapped by default) from its cursor minus the lookback to
the server's now. An open frame overlaps every later window, so it is read again on every run and
its row updated in place until it closes: a frame that gets its end time later is updated, never
duplicated. The cursor per database moves only after both tables are written.
"""
from __future__ import annotations

import time

import msgspec

from ..context import NS
from ..context import RunContext
from ..context import TableReport
from picommon.pitime import timestamp as parse_server_time
from ..paging import format_ns
from ..tables import EventFrameAttributes
from ..tables import EventFrames
from .assets import databases

OPEN_END = "9999-12-31"
FRAME_FIELDS = ("Items.WebId;Items.Id;Items.Name;Items.Description;Items.Path;Items.TemplateName;Items.StartTime;"
                "Items.EndTime;Items.Severity;Items.CategoryNames;Items.RefElementWebIds")
ATTRIBUTE_FIELDS = ("Items.WebId;Items.Name;Items.Path;Items.Type;Items.DefaultUnitsNameAbbreviation;"
                    "Items.DataReferencePlugIn")
VALUE_FIELDS = "Items.WebId;Items.Value.Timestamp;Items.Value.Value;Items.Value.Good;Items.Value.UnitsAbbreviation"
BATCH_FRAMES = 50


def write_event_frames(ctx: RunContext) -> dict[str, TableReport]:
    started = time.perf_counter()
    config = ctx.config.event_frames
    client, sink, checkpoints = ctx.client, ctx.sink, ctx.checkpoints
    for table in (EventFrames, EventFrameAttributes):
        sink.ensure(table)
    cursors = checkpoints.load(EventFrames)
    lookback_ns = int(config.lookback.total_seconds() * NS)
    frame_total = attribute_total = 0
    dbs = databases(ctx, config.databases)
    ctx.progress.start("event_frames", len(dbs))
    for db in dbs:
        key = db["Path"]
        cursor = cursors.get(key)
        start_ns = max(0, cursor.cursor_ns - lookback_ns) if cursor else ctx.time_ns(config.start)
        end_ns = ctx.now_ns
        frames = list(client.paged(f"assetdatabases/{db['WebId']}/eventframes", {
            "searchMode": config.search_mode, "startTime": format_ns(start_ns), "endTime": format_ns(end_ns),
            "searchFullHierarchy": "true", "selectedFields": FRAME_FIELDS}))
        frame_rows = [_frame_row(db, f) for f in frames]
        attribute_rows = _attribute_rows(ctx, frames)
        version = sink.ensure(EventFrames)  # created above: its latest version
        if frame_rows:
            version = sink.merge(EventFrames, ctx.rows_table(EventFrames, frame_rows),
                                 metadata={"pi-connector.run_id": ctx.run_id})
        if attribute_rows:
            sink.merge(EventFrameAttributes, ctx.rows_table(EventFrameAttributes, attribute_rows),
                       metadata={"pi-connector.run_id": ctx.run_id})
        checkpoints.commit(EventFrames, {key: end_ns}, version, ctx.run_id)
        frame_total += len(frame_rows)
        attribute_total += len(attribute_rows)
        ctx.progress.advance("event_frames", done=1, values=len(frame_rows))
    ctx.progress.finish("event_frames")
    seconds = time.perf_counter() - started
    return {EventFrames.name: TableReport(rows=frame_total, seconds=seconds),
            EventFrameAttributes.name: TableReport(rows=attribute_total, seconds=seconds)}


def _frame_row(db: dict, frame: dict) -> dict:
    end = frame.get("EndTime") or ""
    is_open = not end or end.startswith(OPEN_END)
    references = frame.get("RefElementWebIds") or []
    return {
        "web_id": frame["WebId"], "id": frame.get("Id"), "database": db.get("Name"), "name": frame.get("Name"),
        "description": frame.get("Description"), "path": frame.get("Path"),
        "template": frame.get("TemplateName") or None,
        "start_time": parse_server_time(frame["StartTime"]),
        "end_time": None if is_open else parse_server_time(end), "is_open": is_open,
        "severity": frame.get("Severity"), "categories": frame.get("CategoryNames") or [],
        "ref_element_web_ids": references, "primary_element_web_id": references[0] if references else None,
    }


def _attribute_rows(ctx: RunContext, frames: list[dict]) -> list[dict]:
    """Each frame's attributes with their values: two sub-requests per frame in one batch call."""
    client = ctx.client
    web_id_type = ctx.config.source.web_id_type
    rows: list[dict] = []
    for start in range(0, len(frames), BATCH_FRAMES):
        chunk = frames[start:start + BATCH_FRAMES]
        requests = {}
        for i, frame in enumerate(chunk):
            requests[f"a{i}"] = {"Method": "GET", "Resource": f"eventframes/{frame['WebId']}/attributes?"
                                 f"selectedFields={ATTRIBUTE_FIELDS}&webIdType={web_id_type}"}
            requests[f"v{i}"] = {"Method": "GET", "Resource": f"streamsets/{frame['WebId']}/value?"
                                 f"selectedFields={VALUE_FIELDS}&webIdType={web_id_type}"}
        answers = client.batch(requests)
        for i, frame in enumerate(chunk):
            attributes, values = answers[f"a{i}"], answers[f"v{i}"]
            if attributes.get("Status", 500) >= 400:
                ctx.log("event_frame_attributes_failed", level="warning", table=EventFrameAttributes.name,
                        web_id=frame["WebId"], message=f"HTTP {attributes.get('Status')}")
                continue
            by_id = {}
            if values.get("Status", 500) < 400:
                by_id = {v.get("WebId"): v.get("Value") or {} for v in (values.get("Content") or {}).get("Items") or []}
            for a in (attributes.get("Content") or {}).get("Items") or []:
                rows.append(_attribute_row(frame, a, by_id.get(a["WebId"])))
    return rows


def _attribute_row(frame: dict, attribute: dict, value: dict | None) -> dict:
    raw = (value or {}).get("Value")
    numeric = float(raw) if isinstance(raw, (int, float)) and not isinstance(raw, bool) else None
    text: str | None
    if isinstance(raw, str):
        text = raw
    elif isinstance(raw, dict):
        text = raw.get("Name")
    else:
        text = None
    stamp = (value or {}).get("Timestamp")
    return {
        "event_frame_web_id": frame["WebId"], "name": attribute.get("Name"), "web_id": attribute.get("WebId"),
        "path": attribute.get("Path"), "type": attribute.get("Type"),
        "units": (value or {}).get("UnitsAbbreviation") or attribute.get("DefaultUnitsNameAbbreviation"),
        "data_reference": attribute.get("DataReferencePlugIn") or None,
        "value_json": msgspec.json.encode(raw).decode() if value is not None else None, "value_numeric": numeric,
        "value_string": text, "timestamp": parse_server_time(stamp) if stamp else None,
        "good": (value or {}).get("Good") if value is not None else None,
    }
