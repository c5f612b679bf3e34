"""connector.plan: a read split into parts (tag groups x time windows) and the reading of one part.

A part is one or a few PI calls: at most `MAX_URL_WEB_IDS` tags, with a `max_count` per tag such
that tags x max_count stays within the server's MaxReturnedItemsPerCall (150,000 by default);
recorded windows are half-open [start, end) so adjacent parts never share an event, and a tag
denser than the window's budget is paged exactly (`paging.RecordedReader`) inside its part. Grid
tables (interpolated, summary) are cut into whole steps aligned to the epoch, as the jobs read
them, so a part's values are known before it is read. Parts are plain JSON (Spark input
partitions, Lakeflow partition dicts) and are read by the jobs' own readers.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass

import pyarrow as pa

from .config import ConnectorConfig
from .config import SourceConfig
from .context import NS
from .context import RunContext
from .discovery import PointInfo
from .errors import PIRequestError
from .paging import MAX_URL_WEB_IDS
from .paging import url_group_size

RECORDED, INTERPOLATED, SUMMARY = "recorded_values", "interpolated_values", "summary_values"


@dataclass(frozen=True)
class Part:
    """Read [start_ns, end_ns) of these tags ((web_id, name, units) each), max_count per tag and call."""

    table: str
    tags: tuple[tuple[str, str, str], ...]
    start_ns: int
    end_ns: int
    max_count: int

    def to_dict(self) -> dict:
        """Primitive values only (Lakeflow's rule for partition dicts): the tags as JSON text."""
        return {"table": self.table, "tags": json.dumps([list(t) for t in self.tags]), "start_ns": self.start_ns,
                "end_ns": self.end_ns, "max_count": self.max_count}

    @classmethod
    def from_dict(cls, data: dict) -> Part:
        tags = tuple(tuple(t) for t in json.loads(data["tags"]))
        return cls(data["table"], tags, int(data["start_ns"]), int(data["end_ns"]), int(data["max_count"]))

    @property
    def points(self) -> tuple[PointInfo, ...]:
        return tuple(PointInfo(web_id, 0, "", name, "", engineering_units=units) for web_id, name, units in self.tags)


def budget(tags: int, limit: int, tags_per_part: int | None = None, max_count: int | None = None) -> tuple[int, int]:
    """(tags per call, values per tag per call) with tags x values <= limit."""
    group = max(1, min(MAX_URL_WEB_IDS, tags_per_part or MAX_URL_WEB_IDS, tags or 1))
    count = max(1, max_count or limit // group)
    return max(1, min(group, limit // count)), min(count, limit)


def plan_recorded(points: list[PointInfo], spans: dict[str, tuple[int, int]], *, window_ns: int,
                  limit: int = 150_000, tags_per_part: int | None = None, max_count: int | None = None) -> list[Part]:
    """Parts covering each tag's [lo, hi) exactly once: tags sharing a span are grouped, spans cut in windows."""
    group, count = budget(len(points), limit, tags_per_part, max_count)
    by_span: dict[tuple[int, int], list[PointInfo]] = {}
    for point in points:
        lo, hi = spans[point.web_id]
        if lo < hi:
            by_span.setdefault((lo, hi), []).append(point)
    parts = []
    for (lo, hi), members in sorted(by_span.items()):
        for i in range(0, len(members), group):
            tags = tuple((p.web_id, p.name, p.engineering_units) for p in members[i:i + group])
            a = lo
            while a < hi:
                b = min(hi, a + max(1, window_ns))
                parts.append(Part(RECORDED, tags, a, b, count))
                a = b
    return parts


def plan_grid(table: str, points: list[PointInfo], start_ns: int, end_ns: int, *, step_ns: int,
              values_per_step: int = 1, limit: int = 150_000, tags_per_part: int | None = None,
              window_ns: int | None = None) -> list[Part]:
    """Parts of whole steps (aligned to the epoch), at most `window_ns` long, with at most `limit` values per call."""
    start_ns, end_ns = start_ns // step_ns * step_ns, end_ns // step_ns * step_ns
    group, _ = budget(len(points), limit, tags_per_part)
    group = max(1, min(group, limit // (2 * values_per_step)))  # a call asks for one step more than it keeps
    steps = max(1, min((end_ns - start_ns) // step_ns or 1, limit // (values_per_step * group) - 1,
                       (window_ns or end_ns - start_ns) // step_ns or 1))
    parts = []
    for i in range(0, len(points), group):
        tags = tuple((p.web_id, p.name, p.engineering_units) for p in points[i:i + group])
        a = start_ns
        while a < end_ns:
            b = min(end_ns, a + steps * step_ns)
            parts.append(Part(table, tags, a, b, steps * values_per_step))
            a = b
    return parts


def plan_spans(table: str, points: list[PointInfo], spans: dict[str, tuple[int, int]], *, source: SourceConfig,
               window_ns: int, step_ns: int = 1, values_per_step: int = 1, tags_per_part: int | None = None,
               max_count: int | None = None) -> list[Part]:
    """Parts of any value table covering each tag's [lo, hi): `plan_recorded`, or `plan_grid` per shared span.

    `source` bounds each call: at most max_items_per_call values, and no more tags than fit a URL of
    max_url_bytes (a stream set GET names every WebID in its query)."""
    limit = source.max_items_per_call
    fits = url_group_size(source.url.rstrip("/"), [p.web_id for p in points], source.max_url_bytes)
    tags_per_part = min(tags_per_part or fits, fits)
    if table == RECORDED:
        return plan_recorded(points, spans, window_ns=window_ns, limit=limit, tags_per_part=tags_per_part,
                             max_count=max_count)
    by_span: dict[tuple[int, int], list[PointInfo]] = {}
    for point in points:
        by_span.setdefault(spans[point.web_id], []).append(point)
    return [part for (lo, hi), members in sorted(by_span.items()) if lo < hi
            for part in plan_grid(table, members, lo, hi, step_ns=step_ns, values_per_step=values_per_step,
                                  limit=limit, tags_per_part=tags_per_part, window_ns=window_ns)]


def read_part(client, config: ConnectorConfig, part: Part, *, run_id: str) -> pa.Table | None:
    """The part's rows in its table's schema, read with the jobs' readers; a tag that fails raises."""
    from .jobs import computed
    from .jobs.reading import WindowTask
    from .jobs.reading import read_window

    ingested_at_us = int(time.time() * 1_000_000)
    if part.table == RECORDED:
        points = part.points
        task = WindowTask(0, points, part.start_ns, part.end_ns, part.max_count, (part.start_ns,) * len(points),
                          run_id, ingested_at_us)
        result = read_window(client, config, task)
        if result.skipped:  # a part is all or nothing: its rows must not come back with a tag missing
            raise PIRequestError("; ".join(f"{p.name}: {why}" for p, why in result.skipped))
        return result.newer
    ctx = RunContext(config, client, None, run_id, None)  # type: ignore[arg-type]  # no sink: read only
    ctx.ingested_at_us = ingested_at_us
    fetch = computed.fetch_interpolated if part.table == INTERPOLATED else computed.fetch_summaries
    data, skipped = fetch(ctx, list(part.points), part.start_ns, part.end_ns)
    if skipped:  # all or nothing, as for recorded parts
        raise PIRequestError("; ".join(f"{p.name}: {skipped[p.web_id]}" for p in part.points if p.web_id in skipped))
    return data


def window_ns(text: str) -> int:
    """A duration option ("1h") in nanoseconds."""
    from .config import parse_duration

    return int(parse_duration(text).total_seconds() * NS)
