"""simulator.archive.events: which recorded events a point has, and when.

Time is cut into slots of `events.spacing` ticks counted from the epoch. Slot k may hold an event at
k*spacing + offset (jitter), sometimes two at the same timestamp (duplicates); outages remove the
events of a stretch of time and leave a system-state event at its start. Every draw is a hash of
(seed, point, purpose, slot), so any window can be computed alone, in any order, in chunks.

THE HOOK: `EventSource.events(t_lo, t_hi, now)` is the one place where a point's recorded events
for [t_lo, t_hi], as the archive held them at `now`, are produced (`_slots` generates them, the
scenario's changes (late, edited, deleted, buffered: `changes.as_of`) and outages apply there).
Every read of one point (recorded, value, end, interpolated, summary, plot, filters) goes through
it via `chunks`/`window`; the batch path (`batch.window`, many points at once) sends every source
that `batch._touched` names through `_apply_outages_and_creation` of the same class, so an overlay
that changes a point's events (written values) applies in `events` and marks its sources touched.
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..scenario.model import TICKS_PER_DAY
from ..scenario.model import TICKS_PER_SECOND
from ..scenario.model import Point
from . import changes as changing
from . import hashing
from . import writes
from .signals import Signal
from .signals import point_key
from .values import ANNOTATED
from .values import NO_STATE
from .values import QUESTIONABLE
from .values import SUBSTITUTED
from .values import Values

PT_CREATED = 253
CHUNK_SLOTS = 1 << 16


class EventSource:
    """The recorded events of one point, generated on demand for any window."""

    __slots__ = ("point", "signal", "spacing", "jitter", "keep", "duplicates", "subsecond", "outage_blocks",
                 "max_outage", "q_edges", "created", "k_keep", "k_offset", "k_dup", "k_quality", "k_sys",
                 "k_sys_pick", "k_outage", "k_outage_start", "k_outage_length", "changes", "_change_args")

    PURPOSES = ("keep", "offset", "dup", "quality", "system-state", "system-state-pick", "outage", "outage-start",
                "outage-length")

    def __init__(self, point: Point, seed: int, signal: Signal, keys: list[int] | None = None,
                 changes: changing.PointChanges | None = None) -> None:
        self.point = point
        self.changes = changes
        self._change_args = changing.one(changes)
        self.signal = signal
        spec = point.events
        spacing = max(1, int(spec.spacing))
        if not spec.subsecond:
            spacing = max(TICKS_PER_SECOND, -(-spacing // TICKS_PER_SECOND) * TICKS_PER_SECOND)
        self.spacing = spacing
        self.jitter = min(max(spec.jitter, 0.0), 0.999999)
        self.keep = spec.keep
        self.duplicates = spec.duplicates
        self.subsecond = spec.subsecond
        if keys is None:
            keys = hashing.derive([point_key(seed, point)], self.PURPOSES)[0].tolist()
        self.k_keep: int
        self.k_offset: int
        self.k_dup: int
        self.k_quality: int
        self.k_sys: int
        self.k_sys_pick: int
        self.k_outage: int
        self.k_outage_start: int
        self.k_outage_length: int
        (self.k_keep, self.k_offset, self.k_dup, self.k_quality, self.k_sys, self.k_sys_pick, self.k_outage,
         self.k_outage_start, self.k_outage_length) = keys
        outages = point.outages
        self.outage_blocks = max(1, int(np.ceil(outages.per_day))) if outages.per_day > 0 else 0
        self.max_outage = max([g.end - g.start for g in point.gaps]
                              + [outages.max_duration if self.outage_blocks else 0])
        q = point.quality
        self.q_edges = (q.questionable, q.questionable + q.substituted, q.questionable + q.substituted + q.annotated)
        self.created = point.created

    # -- windows ---------------------------------------------------------------------------------

    def window(self, start: int, end: int, *, now: int) -> Values:
        """All events with start <= t <= end as of `now`, ascending (same-timestamp events in archive order)."""
        return Values.concat(list(self.chunks(start, end, now=now)))

    def chunks(self, start: int, end: int, *, now: int, descending: bool = False,
               chunk_slots: int = CHUNK_SLOTS, first_slots: int | None = None) -> Iterator[Values]:
        """`generated_chunks` with the values written to the point in this process applied on top."""
        generated = self.generated_chunks(start, end, now=now, descending=descending, chunk_slots=chunk_slots,
                                          first_slots=first_slots)
        return writes.overlaid(self, generated, start, end, descending)

    def generated_chunks(self, start: int, end: int, *, now: int, descending: bool = False,
                         chunk_slots: int = CHUNK_SLOTS, first_slots: int | None = None) -> Iterator[Values]:
        """The events of [start, end] as the archive held them at `now` (late, edited and deleted values
        applied), in chunks of at most `chunk_slots` slots, in time order (or reverse time order), each
        chunk itself ordered the same way.

        With `first_slots` the first chunk is that small and each next one twice as large (up to
        `chunk_slots`), so a reader that needs only the first few events generates few slots.
        """
        if self.created is not None:
            start = max(start, self.created)
        if end < start:
            return
        s = self.spacing
        first, last = start // s, end // s
        size = max(1, min(chunk_slots, first_slots or chunk_slots))
        if not descending:
            k = first
            while k <= last:
                k_hi = min(last, k + size - 1)
                chunk = self.events(k, k_hi, max(start, k * s), min(end, (k_hi + 1) * s - 1), now)
                if len(chunk):
                    yield chunk
                k = k_hi + 1
                size = min(chunk_slots, size * 2)
        else:
            k = last
            while k >= first:
                k_lo = max(first, k - size + 1)
                chunk = self.events(k_lo, k, max(start, k_lo * s), min(end, (k + 1) * s - 1), now)
                if len(chunk):
                    yield chunk.reversed()
                k = k_lo - 1
                size = min(chunk_slots, size * 2)

    def slots_for(self, count: int) -> int:
        """About how many slots hold `count` events (for the first chunk of a bounded read)."""
        per_slot = max(self.keep, 0.01) * (1.0 + self.duplicates)
        return int(count / per_slot * 1.05) + 8

    # -- one range of slots ----------------------------------------------------------------------

    def events(self, k_lo: int, k_hi: int, t_lo: int, t_hi: int, now: int) -> Values:
        """THE HOOK: the events of slots k_lo..k_hi that fall in [t_lo, t_hi] as the archive held
        them at `now`: generated, then changed (late, edited, deleted, buffered), then outages and
        creation applied."""
        events, ident = self._slots(k_lo, k_hi, t_lo, t_hi)
        if self.changes is not None:
            events, _ = changing.as_of(events, ident, np.zeros(len(events), np.int64), *self._change_args, now)
        return self._apply_outages_and_creation(events, t_lo, t_hi)

    def changed_between(self, t_lo: int, t_hi: int, before: int, after: int) -> list[tuple[str, Values]]:
        """The scenario's own changes to the events of [t_lo, t_hi] between the archive as of `before`
        and as of `after`: ("Add", one event) for one that became visible (late, backfilled),
        ("Update", the event as edited), ("Remove", the event as it was), in time order (archive
        order within one timestamp). An event appears, is edited and deleted only within
        `changes.reach` of its timestamp, so a caller passes t_lo = before - reach."""
        if self.changes is None:
            return []
        if self.created is not None:
            t_lo = max(t_lo, self.created)
        if t_hi < t_lo:
            return []
        events, ident = self._slots(t_lo // self.spacing, t_hi // self.spacing, t_lo, t_hi)
        starts, ends, _ = self.outages(t_lo - self.max_outage, t_hi)
        if len(starts):
            outside = ~_inside(starts, ends, events.ticks)
            events, ident = events.take(outside), ident[outside]
        old, old_rows = self._as_of_rows(events, ident, before)
        new, new_rows = self._as_of_rows(events, ident, after)
        out: list[tuple[int, str, Values]] = []
        for row in np.setdiff1d(new_rows, old_rows).tolist():
            out.append((row, "Add", new.take(np.flatnonzero(new_rows == row))))
        for row in np.setdiff1d(old_rows, new_rows).tolist():
            out.append((row, "Remove", old.take(np.flatnonzero(old_rows == row))))
        both, at_old, at_new = np.intersect1d(old_rows, new_rows, assume_unique=True, return_indices=True)
        differ = ((old.value[at_old] != new.value[at_new]) | (old.state[at_old] != new.state[at_new])
                  | (old.flags[at_old] != new.flags[at_new]))
        for row, i in zip(both[differ].tolist(), at_new[differ].tolist()):
            out.append((row, "Update", new.take(np.array([i]))))
        out.sort(key=lambda x: x[0])  # rows are in time (archive) order
        return [(action, values) for _, action, values in out]

    def _as_of_rows(self, events: Values, ident: np.ndarray, now: int) -> tuple[Values, np.ndarray]:
        """`changes.as_of` of these events, with the row number each kept event came from."""
        held, keep = changing.as_of(events, ident, np.zeros(len(events), np.int64), *self._change_args, now)
        rows = np.arange(len(events)) if keep is None else np.flatnonzero(keep)
        return held, rows

    def _slots(self, k_lo: int, k_hi: int, t_lo: int, t_hi: int) -> tuple[Values, np.ndarray]:
        """Events of slots k_lo..k_hi that fall in [t_lo, t_hi] as generated, and their identities."""
        k = np.arange(k_lo, k_hi + 1, dtype=np.int64)
        if self.keep < 1.0:
            k = k[hashing.uniform(self.k_keep, k) < self.keep]
        ticks = k * self.spacing
        if self.jitter > 0:
            offset = (hashing.uniform(self.k_offset, k) * (self.jitter * self.spacing)).astype(np.int64)
            if not self.subsecond:
                offset -= offset % TICKS_PER_SECOND
            ticks = ticks + offset
        dup = None
        if self.duplicates > 0:
            repeat = 1 + (hashing.uniform(self.k_dup, k) < self.duplicates).astype(np.int64)
            if (repeat > 1).any():
                ticks = np.repeat(ticks, repeat)
                k = np.repeat(k, repeat)
                starts = np.cumsum(repeat) - repeat
                dup = np.arange(len(k)) - np.repeat(starts, repeat)
        ident = k * 2 if dup is None else k * 2 + dup
        inside = (ticks >= t_lo) & (ticks <= t_hi)
        if not inside.all():
            ticks, ident = ticks[inside], ident[inside]
        n = len(ticks)
        values = self.signal.values(ticks, ident) if n else np.empty(0)
        state = np.full(n, NO_STATE, np.int32)
        flags = np.zeros(n, np.uint8)
        if n and self.q_edges[2] > 0:
            u = hashing.uniform(self.k_quality, ident)
            flags[u < self.q_edges[0]] = QUESTIONABLE
            flags[(u >= self.q_edges[0]) & (u < self.q_edges[1])] = SUBSTITUTED
            flags[(u >= self.q_edges[1]) & (u < self.q_edges[2])] = ANNOTATED
        sys_spec = self.point.system_states
        if n and sys_spec.rate > 0 and sys_spec.states:
            bad = hashing.uniform(self.k_sys, ident) < sys_spec.rate
            if bad.any():
                pick = hashing.uniform(self.k_sys_pick, ident[bad])
                codes = np.asarray(sys_spec.states, np.int32)
                state[bad] = codes[np.minimum((pick * len(codes)).astype(np.int64), len(codes) - 1)]
                flags[bad] = 0
        return Values(ticks, values, state, flags), ident

    def _apply_outages_and_creation(self, events: Values, t_lo: int, t_hi: int) -> Values:
        extra_t: list[int] = []
        extra_code: list[int] = []
        starts, ends, codes = self.outages(t_lo - self.max_outage, t_hi)
        if len(starts):
            inside = _inside(starts, ends, events.ticks)
            reach = np.maximum.accumulate(ends)
            if inside.any():
                events = events.take(~inside)
            prior_reach = np.concatenate([[np.iinfo(np.int64).min], reach[:-1]])
            for s, code, before in zip(starts.tolist(), codes.tolist(), prior_reach.tolist()):
                if t_lo <= s <= t_hi and s >= before:
                    extra_t.append(s)
                    extra_code.append(code)
        if self.created is not None and t_lo <= self.created <= t_hi:
            extra_t.append(self.created)
            extra_code.append(PT_CREATED)
        if not extra_t:
            return events
        extra = Values.of_state(np.asarray(extra_t, np.int64), 0)
        extra.state[:] = extra_code
        merged = Values.concat([extra, events])
        order = np.argsort(merged.ticks, kind="stable")
        return merged.take(order)

    def outages(self, t_lo: int, t_hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Outages (explicit gaps and random ones) that start in [t_lo, t_hi], sorted by start."""
        starts = [g.start for g in self.point.gaps if t_lo <= g.start <= t_hi]
        ends = [g.end for g in self.point.gaps if t_lo <= g.start <= t_hi]
        codes = [g.state for g in self.point.gaps if t_lo <= g.start <= t_hi]
        if self.outage_blocks:
            spec = self.point.outages
            block = TICKS_PER_DAY // self.outage_blocks
            j = np.arange(max(0, t_lo // block), t_hi // block + 1, dtype=np.int64)
            hit = hashing.uniform(self.k_outage, j) < spec.per_day / self.outage_blocks
            j = j[hit]
            s = j * block + (hashing.uniform(self.k_outage_start, j) * block).astype(np.int64)
            s -= s % TICKS_PER_SECOND
            length = spec.min_duration + (hashing.uniform(self.k_outage_length, j)
                                          * (spec.max_duration - spec.min_duration)).astype(np.int64)
            length -= length % TICKS_PER_SECOND
            keep = (s >= t_lo) & (s <= t_hi)
            starts += s[keep].tolist()
            ends += (s + np.maximum(length, TICKS_PER_SECOND))[keep].tolist()
            codes += [spec.state] * int(keep.sum())
        if not starts:
            empty = np.empty(0, np.int64)
            return empty, empty, empty
        order = np.argsort(np.asarray(starts, np.int64), kind="stable")
        return (np.asarray(starts, np.int64)[order], np.asarray(ends, np.int64)[order],
                np.asarray(codes, np.int64)[order])


def _inside(starts: np.ndarray, ends: np.ndarray, ticks: np.ndarray) -> np.ndarray:
    """Which of `ticks` fall inside one of the outages (starts sorted ascending)."""
    idx = np.searchsorted(starts, ticks, side="right") - 1
    reach = np.maximum.accumulate(ends)
    return (idx >= 0) & (ticks < reach[np.maximum(idx, 0)])
