"""connector.jobs.recorded: recorded values of every tag, incremental, exact, into `recorded_values`.

Tags are grouped (many per call) and read window by window from each tag's cursor (minus the
lookback) to the run's end. Reader threads (at most `source.concurrency`) fetch and convert; the
calling thread writes: rows older than a tag's cursor are MERGEd (they may already be there), newer
rows are appended, then the cursors of the windows just written are committed. After a crash
between a data commit and its checkpoint, the first window is MERGEd whole.
"""
from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..context import NS
from ..context import RunContext
from ..context import TableReport
from ..convert import StreamInfo
from ..convert import recorded_rows
from ..discovery import PointInfo
from ..errors import ConnectorError
from ..paging import RecordedReader
from ..tables import RecordedValues

INITIAL_WINDOW_NS = 3600 * NS
MAX_URL_WEB_IDS = 200
_DONE = object()


@dataclass
class _Group:
    points: list[PointInfo]
    start_ns: int
    merge_before: dict[str, int]  # web_id -> rows older than this may exist already


@dataclass
class _Window:
    """One window of one group, read and converted."""

    group: int
    end_ns: int
    web_ids: list[str]
    merge: pa.Table | None
    append: pa.Table | None
    values: int
    skipped: list[tuple[PointInfo, str]]
    finished: bool


class RecordedJob:
    table = RecordedValues

    def __init__(self, ctx: RunContext, points: list[PointInfo]) -> None:
        self.ctx = ctx
        self.points = points
        config = ctx.config
        self.end_ns = ctx.time_ns(config.recorded.end)
        self.default_start_ns = ctx.time_ns(config.recorded.start)
        self.lookback_ns = int(config.recorded.lookback.total_seconds() * NS)
        self.limit = config.source.max_items_per_call
        self.group_size = max(1, min(MAX_URL_WEB_IDS, len(points) or 1))
        self.max_count = config.recorded.max_count or max(1, self.limit // self.group_size)
        self.group_size = max(1, min(self.group_size, self.limit // self.max_count))
        self.method = config.recorded.method
        self._stop = threading.Event()

    # -- planning ----------------------------------------------------------------------------------

    def plan(self) -> list[_Group]:
        sink, checkpoints = self.ctx.sink, self.ctx.checkpoints
        sink.ensure(self.table)
        cursors = checkpoints.load(self.table)
        dirty = checkpoints.is_dirty(self.table)
        by_start: dict[int, list[PointInfo]] = {}
        merge_before: dict[str, int] = {}
        for point in self.points:
            cursor = cursors.get(point.web_id)
            if cursor is None:
                start = self.default_start_ns
                merge_before[point.web_id] = 2**62 if dirty else start
            else:
                start = max(0, cursor.cursor_ns - self.lookback_ns)
                merge_before[point.web_id] = 2**62 if dirty else cursor.cursor_ns
            if start < self.end_ns:
                by_start.setdefault(start, []).append(point)
        groups = []
        for start, members in sorted(by_start.items()):
            for i in range(0, len(members), self.group_size):
                chunk = members[i:i + self.group_size]
                groups.append(_Group(chunk, start, {p.web_id: merge_before[p.web_id] for p in chunk}))
        return groups

    # -- reading (worker threads) -------------------------------------------------------------------

    def _read_group(self, number: int, group: _Group, out: queue.Queue) -> None:
        reader = RecordedReader(self.ctx.client, max_items_per_call=self.limit, method=self.method,
                                web_id_type=self.ctx.config.source.web_id_type)
        active = list(group.points)
        start = group.start_ns
        width = min(INITIAL_WINDOW_NS, self.end_ns - start)
        while active and start < self.end_ns and not self._stop.is_set():
            end = min(self.end_ns, start + max(width, NS))
            reads = reader.read([p.web_id for p in active], start, end, self.max_count)
            streams, thresholds, skipped, densest = [], [], [], 0
            for point in active:
                read = reads[point.web_id]
                if read.error is not None:
                    skipped.append((point, str(read.error)))
                    continue
                densest = max(densest, len(read.items))
                if read.items:
                    streams.append((StreamInfo(point.web_id, point.name, read.units or point.engineering_units),
                                    read.items))
                    thresholds.append(group.merge_before[point.web_id])
            merge, append = self._split(streams, thresholds, start)
            values = (merge.num_rows if merge is not None else 0) + (append.num_rows if append is not None else 0)
            done = {p.web_id for p, _ in skipped}
            active = [p for p in active if p.web_id not in done]
            out.put(_Window(number, end, [p.web_id for p in active], merge, append, values, skipped,
                            end >= self.end_ns or not active))
            # the next window holds about one page per tag at the densest tag's rate
            if densest:
                width = max(NS, min(width * 8, int((end - start) * (0.8 * self.max_count) / densest)))
            else:
                width = min(width * 8, self.end_ns - end) if end < self.end_ns else width
            start = end

    def _split(self, streams: list, thresholds: list[int], start: int) -> tuple[pa.Table | None, pa.Table | None]:
        """The window's rows, split into those that may already be in the table (older than their
        tag's cursor: MERGE) and those that cannot be (append)."""
        if not streams:
            return None, None
        rows = recorded_rows(streams, self.table.schema, run_id=self.ctx.run_id,
                             ingested_at_us=self.ctx.ingested_at_us)
        if max(thresholds) <= start:
            return None, rows
        counts = [len(items) for _, items in streams]
        bound = pa.array(np.repeat(np.asarray(thresholds, dtype=np.int64), counts))
        older = pc.less(rows.column("timestamp_ns"), bound)
        return _nonempty(rows.filter(older)), _nonempty(rows.filter(pc.invert(older)))

    # -- writing (calling thread) -----------------------------------------------------------------

    def run(self) -> TableReport:
        started = time.perf_counter()
        groups = self.plan()
        report = TableReport()
        label = self.table.name
        self.ctx.progress.start(label, len(self.points))
        results: queue.Queue = queue.Queue(maxsize=max(2, 2 * self.ctx.config.source.concurrency))
        errors: list[BaseException] = []

        def work(number: int, group: _Group) -> None:
            try:
                self._read_group(number, group, results)
            except BaseException as exc:  # reported by the writer, which stops the run
                errors.append(exc)
                self._stop.set()

        workers = max(1, min(self.ctx.config.source.concurrency, len(groups)))
        pool = ThreadPoolExecutor(workers, thread_name_prefix="pi-read")
        futures = [pool.submit(work, i, g) for i, g in enumerate(groups)]
        watcher = threading.Thread(target=lambda: ([f.result() for f in futures], results.put(_DONE)), daemon=True)
        watcher.start()
        pending_merge: list[pa.Table] = []
        pending_append: list[pa.Table] = []
        pending_cursors: dict[str, int] = {}
        pending_rows = 0
        try:
            while True:
                item = results.get()
                if item is _DONE:
                    break
                if errors:
                    break
                for point, why in item.skipped:
                    report.skipped += 1
                    self.ctx.log("tag_skipped", level="warning", table=label, web_id=point.web_id, tag=point.name,
                                 message=why)
                for part, bucket in ((item.merge, pending_merge), (item.append, pending_append)):
                    if part is not None and part.num_rows:
                        bucket.append(part)
                        pending_rows += part.num_rows
                for web_id in item.web_ids:
                    pending_cursors[web_id] = item.end_ns
                report.rows += item.values
                self.ctx.progress.advance(label, done=len(item.web_ids) + len(item.skipped) if item.finished else 0,
                                          values=item.values)
                if pending_rows >= self.ctx.config.recorded.flush_rows:
                    self._flush(pending_merge, pending_append, pending_cursors)
                    pending_merge, pending_append, pending_cursors, pending_rows = [], [], {}, 0
            if errors:
                raise errors[0]
            self._flush(pending_merge, pending_append, pending_cursors)
        finally:
            self._stop.set()
            while watcher.is_alive():  # unblock readers waiting on a full queue
                try:
                    results.get(timeout=0.05)
                except queue.Empty:
                    pass
            pool.shutdown(wait=True)
            self.ctx.progress.finish(label)
        report.seconds = time.perf_counter() - started
        report.values_per_second = report.rows / report.seconds if report.seconds else 0.0
        return report

    def _flush(self, merge: list[pa.Table], append: list[pa.Table], cursors: dict[str, int]) -> None:
        sink = self.ctx.sink
        version = sink.version(self.table)
        metadata = {"pi-connector.run_id": self.ctx.run_id}
        if merge:
            version = sink.merge(self.table, pa.concat_tables(merge), metadata=metadata)
        if append:
            version = sink.append(self.table, pa.concat_tables(append), metadata=metadata)
        if cursors:
            if version is None:
                raise ConnectorError(f"table {self.table.name}: no version after writing")
            self.ctx.checkpoints.commit(self.table, cursors, version, self.ctx.run_id)


def _nonempty(table: pa.Table) -> pa.Table | None:
    return table if table.num_rows else None
