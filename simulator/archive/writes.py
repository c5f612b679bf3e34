"""simulator.archive.writes: values written through PI's write paths, kept per server process and
applied to a point's recorded events whenever they are read.

Each write is an operation (PI's AFUpdateOption) at one timestamp of one point. Operations are kept
in the order they were accepted and replayed over the events the virtual archive holds at that
timestamp, at read time, so a write composes with whatever the archive shows there (a value that
arrives later, an edit). `overlaid` is the one hook: the per-point read path passes its chunks of
events through it. A point nobody wrote to costs one dictionary lookup.

Writes live in this process's memory only: under gunicorn with several workers each worker has its
own (the test suite runs one). `/__admin/reset` clears them. Every accepted write is also logged
with a sequence number, as an Add, Update or Remove, for Stream Updates (simulator/backend/updates.py).
"""
from __future__ import annotations

import bisect
import threading
import typing as t
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field

import numpy as np

from .values import Values

UPDATE_OPTIONS = ("Replace", "Insert", "NoReplace", "ReplaceOnly", "InsertNoCompression", "Remove")
BUFFER_OPTIONS = ("Buffer", "BufferIfPossible", "DoNotBuffer")


@dataclass(frozen=True)
class Event:
    """One recorded event: the row of `Values` it stands for."""

    ticks: int
    value: float
    state: int
    flags: int

    @staticmethod
    def rows(values: Values) -> list[Event]:
        return [Event(int(t), float(v), int(s), int(f)) for t, v, s, f in
                zip(values.ticks.tolist(), values.value.tolist(), values.state.tolist(), values.flags.tolist())]

    def same_value(self, other: Event) -> bool:
        return self.state == other.state and (self.state >= 0 or self.value == other.value)


def as_values(events: list[Event]) -> Values:
    if not events:
        return Values.empty()
    return Values(np.array([e.ticks for e in events], np.int64), np.array([e.value for e in events], np.float64),
                  np.array([e.state for e in events], np.int32), np.array([e.flags for e in events], np.uint8))


@dataclass(frozen=True)
class Change:
    """One accepted write, as Stream Updates reports it."""

    seq: int
    action: str  # Add, Update, Remove
    event: Event


class WriteRefused(Exception):
    """The operation cannot apply to what the archive holds at that time (PI answers it per value)."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


def apply(option: str, current: list[Event], event: Event) -> tuple[list[Event], str, Event]:
    """The events at one timestamp after `option` with `event`; with the action and the event
    Stream Updates reports. Raises WriteRefused when PI would refuse it."""
    if option in ("Insert", "InsertNoCompression"):
        return [*current, event], "Add", event
    if option == "Remove":
        if not current:
            raise WriteRefused("There is no recorded value at that time to remove (updateOption Remove).", 404)
        victim = next((i for i in range(len(current) - 1, -1, -1) if current[i].same_value(event)), len(current) - 1)
        removed = current[victim]
        return current[:victim] + current[victim + 1:], "Remove", removed
    if current:
        if option == "NoReplace":
            raise WriteRefused("A recorded value already exists at that time (updateOption NoReplace).")
        return [*current[:-1], event], "Update", event  # Replace, ReplaceOnly: the last event at that time
    if option == "ReplaceOnly":
        raise WriteRefused("There is no recorded value at that time to replace (updateOption ReplaceOnly).", 404)
    return [event], "Add", event  # Replace, NoReplace


def replay(ops: list[tuple[str, Event]], current: list[Event]) -> list[Event]:
    """The events at one timestamp after every accepted operation, in order (one that no longer
    applies, e.g. a Remove whose value is gone, changes nothing)."""
    for option, event in ops:
        try:
            current = apply(option, current, event)[0]
        except WriteRefused:
            pass
    return current


@dataclass
class PointWrites:
    """The operations written to one point, by timestamp, and the log of changes."""

    source: object  # the point's EventSource (kept alive while its writes are)
    ops: dict[int, list[tuple[str, Event]]] = field(default_factory=dict)
    times: list[int] = field(default_factory=list)  # sorted keys of `ops`
    log: list[Change] = field(default_factory=list)

    def add(self, option: str, event: Event) -> None:
        if event.ticks not in self.ops:
            bisect.insort(self.times, event.ticks)
            self.ops[event.ticks] = []
        self.ops[event.ticks].append((option, event))

    def merge(self, chunks: Iterator[Values], start: int, end: int, descending: bool) -> Iterator[Values]:
        """`chunks` (every event of [start, end], in order) with the written operations applied."""
        times = self.times[bisect.bisect_left(self.times, start):bisect.bisect_right(self.times, end)]
        if descending:
            times = times[::-1]
        i = 0
        for chunk in chunks:
            edge = int(chunk.ticks[-1])
            j = i
            while j < len(times) and (times[j] >= edge if descending else times[j] <= edge):
                j += 1
            if j > i:
                chunk = self._patched(chunk, times[i:j], descending)
                i = j
            if len(chunk):
                yield chunk
        if i < len(times):
            rest = self._patched(Values.empty(), times[i:], descending)
            if len(rest):
                yield rest

    def _patched(self, chunk: Values, times: list[int], descending: bool) -> Values:
        """One chunk with the operations at `times` applied (the events there replaced)."""
        touched = np.isin(chunk.ticks, np.asarray(times, np.int64))
        parts = [chunk.take(~touched)] if len(chunk) else []
        for tick in times:
            here = chunk.take(chunk.ticks == tick) if touched.any() else Values.empty()
            if descending:  # a descending chunk holds the events of one time in reverse archive order
                parts.append(as_values(replay(self.ops[tick], Event.rows(here.reversed()))).reversed())
            else:
                parts.append(as_values(replay(self.ops[tick], Event.rows(here))))
        merged = Values.concat(parts)
        if descending:
            order = np.argsort(-merged.ticks, kind="stable")
        else:
            order = np.argsort(merged.ticks, kind="stable")
        return merged.take(order)


# Every point written to in this process, by the identity of its EventSource: each app's Archive
# has its own, so two apps in one process (tests) never see each other's writes, even when they
# serve the same Scenario object.
_LIVE: dict[int, PointWrites] = {}
_LOCK = threading.RLock()


def overlaid(source: object, chunks: Iterator[Values], start: int, end: int,
             descending: bool = False) -> Iterator[Values]:
    """The read path's hook: `chunks` of [start, end] with this process's writes to the point whose
    EventSource is `source` applied."""
    found = _LIVE.get(id(source))
    if found is None:
        return chunks
    return found.merge(chunks, start, end, descending)


def written(source: object) -> bool:
    """Whether the point of EventSource `source` has writes (the batched read path leaves such
    points to the per-point one)."""
    return id(source) in _LIVE


class WriteLog(t.Protocol):
    """Where accepted writes are also kept (simulator.backend.write_paths.WriteFile: the scenario's file)."""

    def append(self, web_id: str, option: str, event: Event) -> None: ...

    def truncate(self) -> None: ...


class Writes:
    """The writes one served app accepted: write, look up the change log, clear."""

    def __init__(self) -> None:
        self._points: dict[int, PointWrites] = {}
        self.seq = 0
        self.file: WriteLog | None = None  # when the scenario names one

    def write(self, source: object, option: str, event: Event, current: list[Event]) -> Change:
        """Apply one operation to the point of EventSource `source` over `current` (what a read at
        that time shows now); raises WriteRefused."""
        _, action, reported = apply(option, current, event)
        with _LOCK:
            found = self._points.get(id(source))
            if found is None:
                found = self._points[id(source)] = _LIVE[id(source)] = PointWrites(source)
            found.add(option, event)
            self.seq += 1
            change = Change(self.seq, action, reported)
            found.log.append(change)
        return change

    def changes(self, source: object, after_seq: int) -> list[Change]:
        """The changes written to the point of EventSource `source` after `after_seq`, in order."""
        found = self._points.get(id(source))
        if found is None:
            return []
        return [c for c in found.log if c.seq > after_seq]

    def clear(self) -> None:
        with _LOCK:
            for key in self._points:
                _LIVE.pop(key, None)
            self._points.clear()
