"""simulator.archive.archive: the reads PI offers over a point's recorded events.

recorded (with boundary types, maxCount and direction), value at a time, end (snapshot), interpolated
values at times, recorded at a time, plot. `now` is passed in by the caller: no events exist after it
unless the point is a Future point, and every read answers what the archive held at `now` (late,
edited, deleted and buffered events: see archive.changes).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..scenario.model import TICKS_PER_DAY
from ..scenario.model import TICKS_PER_SECOND
from ..scenario.model import Point
from .events import EventSource
from .values import NO_STATE
from .values import QUESTIONABLE
from .values import Values

NO_DATA = 248
LOOKAROUND_LIMIT = 3650 * TICKS_PER_DAY
FUTURE_HOLD = 10 * 60 * TICKS_PER_SECOND
STEPPED_TYPES = ("Digital", "String", "Timestamp")


@dataclass(frozen=True)
class Boundary:
    INSIDE = "Inside"
    OUTSIDE = "Outside"
    INTERPOLATED = "Interpolated"


class PointArchive:
    """Reads over one point's virtual archive."""

    __slots__ = ("point", "source", "stepped")

    def __init__(self, point: Point, source: EventSource) -> None:
        self.point = point
        self.source = source
        self.stepped = point.step or point.point_type in STEPPED_TYPES

    # -- helpers ---------------------------------------------------------------------------------

    def horizon(self, now: int) -> int:
        """The last instant that can hold an event."""
        return np.iinfo(np.int64).max // 2 if self.point.future else now

    def at_or_before(self, t: int, now: int) -> Values:
        """The last event at or before t (0 or 1 rows; the last of several at the same time)."""
        t = min(t, self.horizon(now))
        floor = max(self.point.created if self.point.created is not None else 0, t - LOOKAROUND_LIMIT)
        width = 8 * self.source.spacing
        while True:
            lo = max(floor, t - width)
            for chunk in self.source.chunks(lo, t, now=now, descending=True, first_slots=16):
                return chunk.take(slice(0, 1))
            if lo <= floor:
                return Values.empty()
            width *= 8

    def after(self, t: int, now: int) -> Values:
        """The first event strictly after t (0 or 1 rows)."""
        limit = min(self.horizon(now), t + LOOKAROUND_LIMIT)
        width = 8 * self.source.spacing
        while True:
            hi = min(limit, t + width)
            for chunk in self.source.chunks(t + 1, hi, now=now, first_slots=16):
                return chunk.take(slice(0, 1))
            if hi >= limit:
                return Values.empty()
            width *= 8

    def before(self, t: int, now: int) -> Values:
        """The last event strictly before t."""
        return self.at_or_before(t - 1, now)

    def at_or_after(self, t: int, now: int) -> Values:
        return self.after(t - 1, now)

    # -- recorded --------------------------------------------------------------------------------

    def recorded(self, start: int, end: int, now: int, *, boundary: str = Boundary.INSIDE,
                 max_count: int = 1000) -> Values:
        """Recorded events between start and end (descending when end < start), at most max_count."""
        descending = end < start
        lo, hi = (end, start) if descending else (start, end)
        hi_capped = min(hi, self.horizon(now))
        parts: list[Values] = []
        first_t, last_t = (hi, lo) if descending else (lo, hi)
        if boundary == Boundary.OUTSIDE:
            edge = self.at_or_after(first_t, now) if descending else self.at_or_before(first_t, now)
            if len(edge) and int(edge.ticks[0]) != first_t:
                parts.append(edge)
        elif boundary == Boundary.INTERPOLATED and not self._has_event_at(first_t, now):
            parts.append(self.interpolated_at(np.array([first_t], np.int64), now))
        count = len(parts)
        if lo <= hi_capped and count < max_count:
            for chunk in self.source.chunks(lo, hi_capped, now=now, descending=descending,
                                            first_slots=self.source.slots_for(max_count - count)):
                parts.append(chunk)
                count += len(chunk)
                if count >= max_count:
                    break
        if count < max_count:
            if boundary == Boundary.OUTSIDE:
                edge = self.at_or_before(last_t, now) if descending else self.at_or_after(last_t, now)
                if len(edge) and int(edge.ticks[0]) != last_t:
                    parts.append(edge)
            elif boundary == Boundary.INTERPOLATED and not self._has_event_at(last_t, now):
                parts.append(self.interpolated_at(np.array([last_t], np.int64), now))
        values = Values.concat(parts)
        if len(values) > max_count:
            values = values.take(slice(0, max_count))
        return values

    def _has_event_at(self, t: int, now: int) -> bool:
        last = self.at_or_before(t, now)
        return bool(len(last)) and int(last.ticks[0]) == t

    # -- single values ---------------------------------------------------------------------------

    def end(self, now: int) -> Values:
        """The snapshot: the last event at or before now (No Data at now when there is none)."""
        last = self.at_or_before(self.horizon(now), now)
        return last if len(last) else Values.of_state(np.array([now], np.int64), NO_DATA)

    def value_at(self, t: int, now: int) -> Values:
        """`value` at a time: the interpolated (or stepped) value there."""
        return self.interpolated_at(np.array([t], np.int64), now)

    def recorded_at(self, t: int, now: int, mode: str = "Auto") -> Values:
        """recordedattime: the event at t, else by retrievalMode (Auto/AtOrBefore = before)."""
        mode = mode.lower()
        if mode == "exact":
            last = self.at_or_before(t, now)
            return last if len(last) and int(last.ticks[0]) == t else Values.of_state(np.array([t]), NO_DATA)
        if mode in ("auto", "atorbefore"):
            found = self.at_or_before(t, now)
        elif mode == "before":
            found = self.before(t, now)
        elif mode == "atorafter":
            found = self.at_or_after(t, now)
        else:  # after
            found = self.after(t, now)
        return found if len(found) else Values.of_state(np.array([t], np.int64), NO_DATA)

    # -- interpolation ---------------------------------------------------------------------------

    def neighbours(self, times: np.ndarray, now: int) -> tuple[Values, np.ndarray, Values, np.ndarray]:
        """For each time: the last event at or before it and the first event after it.

        Returns (prev, has_prev, next, has_next); rows of prev/next line up with `times` (rows
        where has_* is false hold placeholders).
        """
        times = np.asarray(times, np.int64)
        n = len(times)
        if n == 0:
            return Values.empty(), np.zeros(0, bool), Values.empty(), np.zeros(0, bool)
        lo, hi = int(times.min()), int(times.max())
        first_prev = self.at_or_before(lo, now)
        last_next = self.after(hi, now)
        span_lo = int(first_prev.ticks[0]) if len(first_prev) else lo
        span_hi = int(last_next.ticks[0]) if len(last_next) else min(hi, self.horizon(now))
        slots = (span_hi - span_lo) // self.source.spacing
        if slots <= max(200_000, 64 * n):
            events = self.source.window(span_lo, max(span_lo, span_hi), now=now)
            idx = np.searchsorted(events.ticks, times, side="right") - 1
            has_prev = idx >= 0
            nxt = idx + 1
            has_next = nxt < len(events)
            prev = events.take(np.clip(idx, 0, max(len(events) - 1, 0))) if len(events) else _blank(n)
            next_ = events.take(np.clip(nxt, 0, max(len(events) - 1, 0))) if len(events) else _blank(n)
            if not len(events):
                has_prev = np.zeros(n, bool)
                has_next = np.zeros(n, bool)
            return prev, has_prev, next_, has_next
        prevs, nexts = [], []
        has_prev = np.zeros(n, bool)
        has_next = np.zeros(n, bool)
        for i, t in enumerate(times.tolist()):
            p = self.at_or_before(t, now)
            q = self.after(t, now)
            has_prev[i], has_next[i] = bool(len(p)), bool(len(q))
            prevs.append(p if len(p) else _blank(1))
            nexts.append(q if len(q) else _blank(1))
        return Values.concat(prevs), has_prev, Values.concat(nexts), has_next

    def interpolated_at(self, times: np.ndarray, now: int) -> Values:
        """Interpolated values at `times` (linear between events, stepped for step/digital/string
        points); No Data before the first event and beyond now (+10 minutes for a held snapshot)."""
        times = np.asarray(times, np.int64)
        n = len(times)
        if n == 0:
            return Values.empty()
        prev, has_prev, next_, has_next = self.neighbours(times, now)
        value = prev.value.copy()
        state = prev.state.copy()
        flags = prev.flags.copy()
        if not self.stepped:
            both = has_prev & has_next & (prev.state < 0) & (next_.state < 0) & (next_.ticks > prev.ticks)
            if both.any():
                span = (next_.ticks[both] - prev.ticks[both]).astype(np.float64)
                frac = (times[both] - prev.ticks[both]) / span
                v = prev.value[both] + (next_.value[both] - prev.value[both]) * frac
                value[both] = _as_point_type(v, self.point.point_type)
                flags[both] = (prev.flags[both] | next_.flags[both]) & QUESTIONABLE
        exact = has_prev & (prev.ticks == times)
        flags = np.where(exact, prev.flags, flags).astype(np.uint8)
        no_data = ~has_prev | (times > self.horizon(now) + (0 if self.point.future else FUTURE_HOLD))
        state[no_data] = NO_DATA
        value[no_data] = 0.0
        flags[no_data] = 0
        return Values(times.copy(), value, state.astype(np.int32), flags)

    # -- plot ------------------------------------------------------------------------------------

    def plot(self, start: int, end: int, intervals: int, now: int) -> Values:
        """Up to 5 values per interval: first, last, min, max and one exceptional (bad) value."""
        descending = end < start
        lo, hi = (end, start) if descending else (start, end)
        hi_c = min(hi, self.horizon(now))
        if hi_c < lo or intervals < 1:
            return Values.empty()
        width = max(1, -(-(hi - lo) // intervals))
        last = intervals - 1  # an event exactly at the end belongs to the last interval
        candidates = [self._plot_pick(chunk, lo, width, last) for chunk in self.source.chunks(lo, hi_c, now=now)]
        picked = self._plot_pick(Values.concat(candidates), lo, width, last)
        return picked.reversed() if descending else picked

    def _plot_pick(self, events: Values, lo: int, width: int, last: int) -> Values:
        if not len(events):
            return events
        bucket = np.minimum((events.ticks - lo) // width, last)
        order = np.arange(len(events))
        starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
        ends = np.r_[starts[1:], len(events)] - 1
        keep = np.zeros(len(events), bool)
        keep[starts] = True
        keep[ends] = True
        good = events.state < 0
        numeric = not self.stepped or self.point.point_type not in STEPPED_TYPES
        if numeric and good.any():
            masked_min = np.where(good, events.value, np.inf)
            masked_max = np.where(good, events.value, -np.inf)
            mins = np.minimum.reduceat(masked_min, starts)
            maxs = np.maximum.reduceat(masked_max, starts)
            seg = np.repeat(np.arange(len(starts)), ends - starts + 1)
            is_min = good & (events.value == mins[seg])
            is_max = good & (events.value == maxs[seg])
            for mask in (is_min, is_max):
                first_hit = np.full(len(starts), -1)
                hits = order[mask]
                if len(hits):
                    segs = seg[hits]
                    first = np.r_[True, segs[1:] != segs[:-1]]
                    first_hit[segs[first]] = hits[first]
                keep[first_hit[first_hit >= 0]] = True
        bad = order[~good]
        if len(bad):
            segs = bucket[bad]
            first = np.r_[True, segs[1:] != segs[:-1]]
            keep[bad[first]] = True
        return events.take(keep)


def _blank(n: int) -> Values:
    return Values(np.zeros(n, np.int64), np.zeros(n), np.full(n, NO_STATE, np.int32), np.zeros(n, np.uint8))


def _as_point_type(values: np.ndarray, point_type: str) -> np.ndarray:
    if point_type in ("Int16", "Int32"):
        return np.rint(values)
    if point_type == "Float32":
        return values.astype(np.float32).astype(np.float64)
    if point_type == "Float16":
        return values.astype(np.float16).astype(np.float64)
    return values
