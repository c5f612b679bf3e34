"""connector.spark.stream: `spark.readStream.format("pi")`, offsets that are per-tag cursors.

An offset is {"origin_ns": where a tag new to the stream starts, "cursors": {web_id: ns}}: every
event of a tag before its cursor has been handed to Spark. `latestOffset` moves each cursor to the
server's clock (ServerTime; the last whole step for interpolated and summary values), at most
`maxWindowPerBatch` past the start when that option is set, and never past the moment
`trigger(availableNow=True)` was prepared. `partitions(start, end)` reads each tag's
[start cursor - lookback, end cursor) with the batch planner, so consecutive micro-batches share
no event when lookback is 0; a lookback re-reads late data, and the re-read rows must then be
MERGEd by the table's key (a foreachBatch with deltalake does). Spark's checkpoint keeps the
offsets: a query restarted from its checkpoint location continues exactly where it stopped.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator

import pyarrow as pa
from pyspark.sql.datasource import DataSourceStreamReader
from pyspark.sql.datasource import InputPartition
from pyspark.sql.streaming.datasource import SupportsTriggerAvailableNow

from picommon.pitime import from_ns
from picommon.pitime import to_ns

from ..config import resolve_time
from . import partitions
from .partitions import PIPartition  # a bare name: the reader's partitions() method hides the module
from .options import ReadOptions

log = logging.getLogger(__name__)


class PIStreamReader(DataSourceStreamReader, SupportsTriggerAvailableNow):
    """Micro-batches of recorded, interpolated or summary values of every selected tag."""

    def __init__(self, options: ReadOptions) -> None:
        self.options = options
        self.until_ns: int | None = None
        self._points: dict = {}
        if not options.lookback_ns:
            log.warning("pi stream of %s: lookback is 0, so values PI receives late (timestamped before a tag's "
                        "cursor) are never read; set the lookback option (e.g. 10m) and MERGE the micro-batches "
                        "by the table's key to keep them", options.table)

    # -- offsets ---------------------------------------------------------------------------------

    def _step(self) -> int:
        return 1 if self.options.table == partitions.RECORDED else self.options.step_ns

    def _now(self) -> tuple[dict, int]:
        client = partitions.client_for(self.options)
        server, now_ns = partitions.server_now_ns(client, self.options)
        if self.until_ns is not None:
            now_ns = min(now_ns, self.until_ns)
        return server, now_ns // self._step() * self._step()

    def _discover(self, server: dict) -> dict:
        points = partitions.find_points(partitions.client_for(self.options), server, self.options)
        self._points = {p.web_id: p for p in points}
        return self._points

    def initialOffset(self) -> dict:
        server, now_ns = self._now()
        origin = to_ns(resolve_time(self.options.start, from_ns(now_ns)))
        origin = origin // self._step() * self._step()
        return {"origin_ns": origin, "cursors": {w: origin for w in self._discover(server)}}

    def latestOffset(self, start: dict, limit=None) -> dict:
        server, now_ns = self._now()
        origin = int(start["origin_ns"])
        cursors = dict(start["cursors"])
        for web_id in self._discover(server):
            lo = int(cursors.get(web_id, origin))
            hi = now_ns
            if self.options.batch_window_ns:
                step = self._step()
                hi = min(hi, lo + max(step, self.options.batch_window_ns // step * step))
            cursors[web_id] = max(lo, hi)
        return {"origin_ns": origin, "cursors": cursors}

    def prepareForTriggerAvailableNow(self) -> None:
        """Trigger.AvailableNow: read what exists now, then stop."""
        self.until_ns = None
        self.until_ns = self._now()[1]

    # -- micro-batches ---------------------------------------------------------------------------

    def partitions(self, start: dict, end: dict) -> list[PIPartition]:
        origin = int(start["origin_ns"])
        known = start["cursors"]
        points = self._points or self._discover(self._now()[0])
        spans = {}
        for web_id, hi in end["cursors"].items():
            if web_id not in points:
                continue  # gone from PI since the offset was made
            lo = int(known.get(web_id, origin))
            if web_id in known and self.options.lookback_ns:
                step = self._step()
                lo = max(origin, (lo - self.options.lookback_ns) // step * step)
            spans[web_id] = (lo, int(hi))
        chosen = [points[w] for w in spans if spans[w][0] < spans[w][1]]
        return partitions.plan(self.options, chosen, spans)

    def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
        return partitions.read(self.options, partition)

    def commit(self, end: dict) -> None:
        """Nothing to release: PI keeps its archive, and the offsets are Spark's checkpoint."""
