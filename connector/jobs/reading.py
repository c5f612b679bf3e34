"""connector.jobs.reading: read and convert one window of one group of tags, in threads or processes.

Decoding PI's JSON and building Arrow columns is CPU work that holds Python's GIL, so a big
extraction reads in worker processes (each with its own HTTP session) and hands finished Arrow
tables to the writer; a small one reads in threads of the calling process (no start-up cost). The
work done for a window is the same function either way.
"""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Executor
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..client import PIClient
from ..config import ConnectorConfig
from ..convert import StreamInfo
from ..convert import recorded_rows
from ..discovery import PointInfo
from ..errors import UnknownPointError
from ..paging import RecordedReader
from ..tables import RecordedValues

PROCESS_THRESHOLD = 2_000  # tags; below it threads are cheaper than starting processes


@dataclass(frozen=True)
class WindowTask:
    """Read [start_ns, end_ns) of these tags; rows older than held_before[i] may already exist."""

    group: int
    points: tuple[PointInfo, ...]
    start_ns: int
    end_ns: int
    max_count: int
    held_before: tuple[int, ...]
    run_id: str
    ingested_at_us: int


@dataclass
class WindowResult:
    group: int
    end_ns: int
    read: list[str]  # web_ids read completely up to end_ns
    older: pa.Table | None  # rows before their tag's held_before: compared with the table
    newer: pa.Table | None  # rows that cannot be held yet: appended
    values: int
    skipped: list[tuple[PointInfo, str]]
    densest: int
    reread: dict[str, tuple[int, int]]  # web_id -> [lo, hi): read again, so the table must hold exactly this


def read_window(client: PIClient, config: ConnectorConfig, task: WindowTask) -> WindowResult:
    """Every event of the task's tags in its window, as `recorded_values` rows split for the writer."""
    reader = RecordedReader(client, max_items_per_call=config.source.max_items_per_call,
                            method=config.recorded.method, web_id_type=config.source.web_id_type)
    reads = reader.read([p.web_id for p in task.points], task.start_ns, task.end_ns, task.max_count)
    streams, thresholds, skipped, read, densest, reread = [], [], [], [], 0, {}
    for point, bound in zip(task.points, task.held_before):
        result = reads[point.web_id]
        if isinstance(result.error, UnknownPointError):  # only a real "not found" skips a tag
            skipped.append((point, str(result.error)))
            continue
        if result.error is not None:  # anything else fails the run: no cursor moves past rows not read
            raise result.error
        read.append(point.web_id)
        if task.start_ns < min(task.end_ns, bound):
            reread[point.web_id] = (task.start_ns, min(task.end_ns, bound))
        densest = max(densest, len(result.items))
        if result.items:
            streams.append((StreamInfo(point.web_id, point.name, result.units or point.engineering_units),
                            result.items))
            thresholds.append(bound)
    older, newer = _split(streams, thresholds, task)
    values = sum(t.num_rows for t in (older, newer) if t is not None)
    return WindowResult(task.group, task.end_ns, read, older, newer, values, skipped, densest, reread)


def _split(streams: list, thresholds: list[int], task: WindowTask) -> tuple[pa.Table | None, pa.Table | None]:
    """The window's rows: those that may already be in the table (older than their tag's cursor,
    to compare with it) and those that cannot be (to append)."""
    if not streams:
        return None, None
    rows = recorded_rows(streams, RecordedValues.schema, run_id=task.run_id, ingested_at_us=task.ingested_at_us)
    if max(thresholds) <= task.start_ns:
        return None, rows
    counts = [len(items) for _, items in streams]
    bound = pa.array(np.repeat(np.asarray(thresholds, dtype=np.int64), counts))
    older = pc.less(rows.column("timestamp_ns"), bound)
    return _nonempty(rows.filter(older)), _nonempty(rows.filter(pc.invert(older)))


def _nonempty(table: pa.Table) -> pa.Table | None:
    return table if table.num_rows else None


# -- workers ---------------------------------------------------------------------------------------

_process_state: dict = {}


def _init_process(config: ConnectorConfig) -> None:
    _process_state["config"] = config
    _process_state["client"] = PIClient.from_config(config)


def _in_process(task: WindowTask) -> WindowResult:
    return read_window(_process_state["client"], _process_state["config"], task)


class Readers:
    """Where windows are read: a process pool for big jobs, threads sharing the run's client otherwise."""

    def __init__(self, config: ConnectorConfig, client: PIClient, tags: int, *,
                 processes_allowed: bool = False) -> None:
        """`processes_allowed`: the caller runs under a `__main__` guard (the CLI does), so worker
        processes may start; library calls default to threads unless `recorded.workers` asks."""
        self.config = config
        self.client = client
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        wanted = config.recorded.workers
        if wanted is None:
            # processes pay off where cores are left over for them (measured: on 2 cores, with the
            # PI server on the same machine, threads were as fast)
            processes = min(cpus - 1, 8) if processes_allowed and tags >= PROCESS_THRESHOLD and cpus >= 4 else 0
        else:
            processes = wanted
        self.processes = processes
        self.slots = max(2, 2 * processes) if processes else max(1, config.source.concurrency)
        self._executor: Executor
        if processes:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["connector.jobs.reading"])
            self._executor = ProcessPoolExecutor(processes, mp_context=context, initializer=_init_process,
                                                 initargs=(config,))
        else:
            self._executor = ThreadPoolExecutor(self.slots, thread_name_prefix="pi-read")

    def submit(self, task: WindowTask):
        if self.processes:
            return self._executor.submit(_in_process, task)
        return self._executor.submit(read_window, self.client, self.config, task)

    def close(self, *, cancel: bool = False) -> None:
        self._executor.shutdown(wait=True, cancel_futures=cancel)

    def __enter__(self) -> Readers:
        return self

    def __exit__(self, exc_type, *rest) -> None:
        self.close(cancel=exc_type is not None)
