"""connector.jobs.follow: `recorded_values` kept current from PI's Stream Updates (`recorded.mode: follow`).

A tag without a marker is registered (streamsets/updates) and then read the normal way (the
recorded job: from its cursor minus the lookback, or `recorded.start`), so nothing between the
read and the marker is missed; its marker is saved after that job's Delta commit. A tag with a
marker has its updates retrieved (chained while they bring events), and each Add, Update and
Remove applied to the rows the table holds at its timestamp; the span of timestamps they touch is
then written by the lookback path's `write_batch` (new keys appended, changed rows MERGEd, rows
gone deleted), and the next markers are saved only after that commit. A marker the server no
longer knows (404 expired, 409 invalid: a Failed item) sends its tag back to the registration and
recorded read, which re-reads from its cursor minus the lookback.

Markers are kept in `_follow_markers.json` in the lakehouse root (local lakehouses only). After a
crash between the Delta commit and the marker file, the old markers bring events already applied
again: applying is idempotent (an Add of a row held already changes nothing).
"""
from __future__ import annotations

import json
import os
import time
from collections import defaultdict

import msgspec
import pyarrow as pa

from ..context import RunContext
from ..context import TableReport
from ..convert import StreamInfo
from ..convert import recorded_rows
from .. import updates
from ..discovery import PointInfo
from ..errors import ConnectorError
from ..tables import RecordedValues
from ..wire import TimedValue
from .recorded import RecordedJob
from .reconcile import held_rows
from .reconcile import write_batch

MARKERS_FILE = "_follow_markers.json"
SAME = ("value", "string_value", "digital_code", "is_system", "good", "questionable", "substituted", "annotated")


class MarkerStore:
    """The latest marker of each tag, as a JSON file written atomically."""

    def __init__(self, sink) -> None:
        if not sink.local:
            raise ConnectorError("recorded.mode follow keeps its markers in the lakehouse root: it needs a local "
                                 f"destination.uri, not {sink.root!r}")
        self.path = os.path.join(sink.root, MARKERS_FILE)

    def load(self) -> dict[str, str]:
        if not os.path.exists(self.path):
            return {}
        with open(self.path, encoding="utf-8") as handle:
            return json.load(handle)

    def save(self, markers: dict[str, str]) -> None:
        temporary = self.path + ".tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(markers, handle, indent=0, sort_keys=True)
        os.replace(temporary, self.path)


class FollowJob:
    """`recorded_values` of these tags brought up to date from their Stream Updates markers."""

    table = RecordedValues

    def __init__(self, ctx: RunContext, points: list[PointInfo], *, processes_allowed: bool = False) -> None:
        self.ctx = ctx
        self.points = points
        self.processes_allowed = processes_allowed
        self.store = MarkerStore(ctx.sink)

    def run(self) -> TableReport:
        started = time.perf_counter()
        markers = self.store.load()
        known = [p for p in self.points if p.web_id in markers]
        report = TableReport()
        if known:
            self._follow(known, markers, report)  # drops the markers the server lost
        fresh = [p for p in self.points if p.web_id not in markers]
        if fresh:
            registered = self._register(fresh)
            read = RecordedJob(self.ctx, fresh, processes_allowed=self.processes_allowed).run()
            report.rows += read.rows
            report.skipped += read.skipped
            markers.update(registered)
            self.store.save(markers)
        report.seconds = time.perf_counter() - started
        return report

    # -- markers --------------------------------------------------------------------------------

    def _register(self, points: list[PointInfo]) -> dict[str, str]:
        return updates.register(self.ctx.client, {p.web_id: p.name for p in points},
                                self.ctx.config.source.max_url_bytes)

    def _retrieve(self, markers: dict[str, str]) -> tuple[dict[str, list[dict]], dict[str, str], list[str]]:
        """Every event since the markers (chained), the next markers, and the tags whose marker failed."""
        found = updates.retrieve(self.ctx.client, markers, self.ctx.config.source.max_url_bytes)
        for web_id, message in found.failed.items():
            self.ctx.log("marker_lost", level="warning", table=self.table.name, web_id=web_id,
                         message=message + " (read again from the cursor minus the lookback)")
        return found.events, found.markers, list(found.failed)

    # -- applying -------------------------------------------------------------------------------

    def _follow(self, points: list[PointInfo], markers: dict[str, str], report: TableReport) -> None:
        mine = {p.web_id: markers[p.web_id] for p in points}
        events, latest, failed = self._retrieve(mine)
        by_id = {p.web_id: p for p in points}
        new = {web_id: self._rows(by_id[web_id], changes) for web_id, changes in events.items()}
        spans = {web_id: (min(r["timestamp_ns"] for r in rows), max(r["timestamp_ns"] for r in rows) + 1)
                 for web_id, rows in new.items()}
        if spans:
            held: dict[str, list[dict]] = defaultdict(list)
            for row in held_rows(self.ctx.sink, self.table, spans).sort_by("ordinal").to_pylist():  # one read
                held[row["web_id"]].append(row)
            cursors = self.ctx.checkpoints.load(self.table)
            moved = {}
            for web_id, (_, hi) in spans.items():
                cursor = cursors.get(web_id)
                moved[web_id] = max(hi, cursor.cursor_ns if cursor is not None else 0)
                report.rows += len(events[web_id])
            older = pa.concat_tables([_applied(held[w], events[w], new[w], self.table.schema) for w in spans])
            write_batch(self.ctx, self.table, older, spans, [], moved, delete_gone=True, unique_keys=True)
        for web_id in failed:
            markers.pop(web_id, None)
        markers.update(latest)
        self.store.save(markers)  # after the Delta commit: a crash before it retrieves the same events again

    def _rows(self, point: PointInfo, changes: list[dict]) -> list[dict]:
        """Each event as the `recorded_values` row it stands for (ordinal still to number)."""
        stream = StreamInfo(point.web_id, point.name, point.engineering_units)
        items = [msgspec.convert(e, TimedValue) for e in changes]
        return recorded_rows([(stream, [item]) for item in items], self.table.schema, run_id=self.ctx.run_id,
                             ingested_at_us=self.ctx.ingested_at_us).to_pylist()


def _applied(held: list[dict], changes: list[dict], new: list[dict], schema: pa.Schema) -> pa.Table:
    """The rows one tag must hold over the span its changes touch: the rows held there with each
    change applied in order, numbered again per timestamp."""
    at: dict[int, list[dict]] = defaultdict(list)
    for row in held:
        at[row["timestamp_ns"]].append(row)
    for change, row in zip(changes, new):
        _apply(at[row["timestamp_ns"]], change["Action"], row)
    rows = [{**row, "ordinal": ordinal} for ns in sorted(at) for ordinal, row in enumerate(at[ns])]
    return pa.Table.from_pylist(rows, schema=schema)


def _apply(here: list[dict], action: str, row: dict) -> None:
    """One event's action on the rows held at its timestamp (archive order)."""
    same = [i for i, old in enumerate(here) if all(old[k] == row[k] for k in SAME)]
    if action == "Remove":
        if here:
            del here[same[-1] if same else len(here) - 1]
    elif action == "Update":
        if here:
            here[len(here) - 1] = row
        else:
            here.append(row)
    elif action == "Add":
        if same:
            return  # held already (applied before a crash, or read by the recorded job)
        if len(here) == 1:
            here[0] = row  # one event there, reported again as it is now
        else:
            here.append(row)
    else:
        raise ConnectorError(f"tag {row['tag']}: Stream Updates event with unknown Action {action!r}")
