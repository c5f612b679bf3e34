"""connector.jobs.recorded: recorded values of every tag, incremental, exact, into `recorded_values`.

Tags are grouped (many per call) and read window by window from each tag's cursor (minus the
lookback) to the run's end. Windows are read by `Readers` (threads, or processes for big jobs), at
most one in flight per group so each group advances in time order, a bounded number in all; the
calling thread writes: rows older than a tag's cursor (they may already be there) are compared
with the table's (`reconcile`: new keys appended, changed rows MERGEd, rows gone from the archive
deleted), newer rows are appended, then the cursors of the windows just written are committed.
After a crash between a data commit and its checkpoint, the first window is compared whole.
"""
from __future__ import annotations

import time
import typing as t
from concurrent.futures import FIRST_COMPLETED
from concurrent.futures import wait
from dataclasses import dataclass
from dataclasses import field

import pyarrow as pa

from ..context import NS
from ..context import RunContext
from ..context import TableReport
from ..discovery import PointInfo
from ..paging import MAX_URL_WEB_IDS
from ..paging import url_group_size
from ..tables import RecordedValues
from .reading import Readers
from .reconcile import NO_CURSOR
from .reconcile import widen
from .reconcile import write_batch
from .reading import WindowResult
from .reading import WindowTask

INITIAL_WINDOW_NS = 3600 * NS


@dataclass
class _Group:
    points: list[PointInfo]
    start_ns: int
    held_before: dict[str, int]  # web_id -> rows older than this may exist already
    width: int = INITIAL_WINDOW_NS


@dataclass
class _Pending:
    """Rows read but not yet written, and the cursors they will move."""

    older: list[pa.Table] = field(default_factory=list)
    newer: list[pa.Table] = field(default_factory=list)
    cursors: dict[str, int] = field(default_factory=dict)
    reread: dict[str, tuple[int, int]] = field(default_factory=dict)  # web_id -> [lo, hi) read again
    rows: int = 0

    def add(self, result: WindowResult) -> None:
        for part, bucket in ((result.older, self.older), (result.newer, self.newer)):
            if part is not None and part.num_rows:
                bucket.append(part)
                self.rows += part.num_rows
        for web_id in result.read:
            self.cursors[web_id] = result.end_ns
        for web_id, (lo, hi) in result.reread.items():
            widen(self.reread, web_id, lo, hi)


class RecordedJob:
    table = RecordedValues

    def __init__(self, ctx: RunContext, points: list[PointInfo], *, processes_allowed: bool = False) -> None:
        self.ctx = ctx
        self.processes_allowed = processes_allowed
        self.points = points
        config = ctx.config
        self.end_ns = ctx.time_ns(config.recorded.end)
        self.default_start_ns = ctx.time_ns(config.recorded.start)
        self.lookback_ns = int(config.recorded.lookback.total_seconds() * NS)
        self.limit = config.source.max_items_per_call
        self.group_size = max(1, min(MAX_URL_WEB_IDS, len(points) or 1, url_group_size(
            ctx.client.base_url, [p.web_id for p in points], config.source.max_url_bytes)))
        self.max_count = config.recorded.max_count or max(1, self.limit // self.group_size)
        self.group_size = max(1, min(self.group_size, self.limit // self.max_count))

    # -- planning ----------------------------------------------------------------------------------

    def plan(self) -> list[_Group]:
        sink, checkpoints = self.ctx.sink, self.ctx.checkpoints
        sink.ensure(self.table)
        cursors = checkpoints.load(self.table)
        dirty = checkpoints.is_dirty(self.table)
        by_start: dict[int, list[PointInfo]] = {}
        held_before: dict[str, int] = {}
        for point in self.points:
            cursor = cursors.get(point.web_id)
            if cursor is None:
                start = self.default_start_ns
                held_before[point.web_id] = NO_CURSOR if dirty else start
            else:
                start = max(0, cursor.cursor_ns - self.lookback_ns)
                held_before[point.web_id] = NO_CURSOR if dirty else cursor.cursor_ns
            if start < self.end_ns:
                by_start.setdefault(start, []).append(point)
        groups = []
        for start, members in sorted(by_start.items()):
            for i in range(0, len(members), self.group_size):
                chunk = members[i:i + self.group_size]
                groups.append(_Group(chunk, start, {p.web_id: held_before[p.web_id] for p in chunk},
                                     min(INITIAL_WINDOW_NS, self.end_ns - start)))
        return groups

    def _task(self, number: int, group: _Group) -> WindowTask:
        end = min(self.end_ns, group.start_ns + max(group.width, NS))
        return WindowTask(number, tuple(group.points), group.start_ns, end, self.max_count,
                          tuple(group.held_before[p.web_id] for p in group.points), self.ctx.run_id,
                          self.ctx.ingested_at_us)

    def _advance(self, group: _Group, result: WindowResult) -> bool:
        """Move the group past a window it finished; True while it has more to read."""
        done = {p.web_id for p, _ in result.skipped}
        group.points = [p for p in group.points if p.web_id not in done]
        span = result.end_ns - group.start_ns
        if result.densest:  # the next window holds about one page per tag at the densest tag's rate
            group.width = max(NS, min(group.width * 8, int(span * (0.8 * self.max_count) / result.densest)))
        else:
            group.width = group.width * 8
        group.start_ns = result.end_ns
        return bool(group.points) and group.start_ns < self.end_ns

    # -- the run ---------------------------------------------------------------------------------

    def run(self) -> TableReport:
        started = time.perf_counter()
        groups = self.plan()
        report = TableReport()
        label = self.table.name
        self.ctx.progress.start(label, len(self.points))
        pending = _Pending()
        waiting = list(range(len(groups)))[::-1]  # groups not started yet (a stack)
        with Readers(self.ctx.config, self.ctx.client, len(self.points),
                     processes_allowed=self.processes_allowed) as readers:
            in_flight: dict[t.Any, int] = {}  # future -> group number
            while waiting and len(in_flight) < readers.slots:
                number = waiting.pop()
                in_flight[readers.submit(self._task(number, groups[number]))] = number
            while in_flight:
                finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in finished:
                    number = in_flight.pop(future)
                    result = future.result()  # a failure stops the run: nothing unwritten is checkpointed
                    group = groups[number]
                    self._note(result, report)
                    pending.add(result)
                    if self._advance(group, result):
                        in_flight[readers.submit(self._task(number, group))] = number
                    else:
                        self.ctx.progress.advance(label, done=len(group.points) + len(result.skipped))
                    while waiting and len(in_flight) < readers.slots:
                        following = waiting.pop()
                        in_flight[readers.submit(self._task(following, groups[following]))] = following
                if pending.rows >= self.ctx.config.recorded.flush_rows:
                    self._flush(pending)
                    pending = _Pending()
        self._flush(pending)
        self.ctx.progress.finish(label)
        report.seconds = time.perf_counter() - started
        report.values_per_second = report.rows / report.seconds if report.seconds else 0.0
        return report

    def _note(self, result: WindowResult, report: TableReport) -> None:
        for point, why in result.skipped:
            report.skipped += 1
            self.ctx.log("tag_skipped", level="warning", table=self.table.name, web_id=point.web_id, tag=point.name,
                         message=why)
        report.rows += result.values
        self.ctx.progress.advance(self.table.name, values=result.values)

    def _flush(self, pending: _Pending) -> None:
        older = pa.concat_tables(pending.older) if pending.older else self.table.schema.empty_table()
        # keys are unique by construction: a window holds every event of its timestamps, numbered
        write_batch(self.ctx, self.table, older, pending.reread, pending.newer, pending.cursors,
                    delete_gone=True, unique_keys=True)
