"""simulator.archive.changes: what the archive held as of a time, given the scenario's `changes:`.

Every generated event has a timestamp t and an identity (its slot and duplicate number). From them
and the point's keys alone, hashed like every other draw, follow:
- when it appeared: t, or t + a delay (late arrival), or the backfill time of a buffered outage
  window it falls in (the window's end + a delay), whichever is latest;
- whether and when it was edited (appeared + `after`): from then on its value is another good value,
  flagged Substituted, as PI flags values a person changed;
- whether and when it was deleted (appeared + `after`): from then on it is gone.
`as_of(now)` keeps the events that had appeared and were not deleted by `now`, edited if their edit
time had passed. Rows of many points are done together (the batch path); one point is the same
code with one row per event of one source.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..scenario.model import TICKS_PER_DAY
from ..scenario.model import TICKS_PER_SECOND
from ..scenario.model import Changes
from ..scenario.model import Point
from . import hashing
from .values import NO_STATE
from .values import SUBSTITUTED
from .values import Values

PURPOSES = ("late", "late-delay", "edit", "edit-after", "edit-value", "edit-sign", "delete", "delete-after",
            "buffer", "buffer-start", "buffer-length", "backfill")
FLOAT, INTEGER, CODED = 0, 1, 2
_CAST = {"Float32": np.float32, "Float16": np.float16}


class PointChanges:
    """One point's changes, its random keys and what an edited value may become."""

    __slots__ = ("point", "spec", "keys", "kind", "codes", "by", "blocks", "reach")

    def __init__(self, point: Point, spec: Changes, keys: list[int], codes: tuple[int, ...] = (),
                 vocabulary_size: int = 0) -> None:
        self.point = point
        self.spec = spec
        self.keys = dict(zip(PURPOSES, keys))
        if point.point_type == "Digital":
            self.kind, self.codes = CODED, tuple(sorted(codes))
        elif point.point_type == "String":
            self.kind, self.codes = CODED, tuple(range(vocabulary_size))
        else:
            self.kind = INTEGER if point.point_type in ("Int16", "Int32") else FLOAT
            self.codes = ()
        signal = point.signal
        edits = spec.edits
        self.by = edits.by if edits is not None and edits.by is not None else max(
            3.0 * signal.noise, abs(signal.amplitude) * 0.2, abs(signal.mean) * 0.05, 1.0)
        buffered = spec.buffered
        self.blocks = max(1, int(np.ceil(buffered.per_day))) if buffered is not None else 0
        late = spec.late.delay[1] if spec.late is not None else 0
        backfill = buffered.max_duration + buffered.backfill[1] if buffered is not None else 0
        after = max(spec.edits.after[1] if spec.edits is not None else 0,
                    spec.deletions.after[1] if spec.deletions is not None else 0)
        self.reach = max(late, backfill) + after  # after t + reach an event's answer no longer changes

    def windows(self, t_lo: int, t_hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Buffered windows (start, end, backfill time) that start in [t_lo, t_hi], sorted by start."""
        spec = self.spec.buffered
        assert spec is not None, "only points with buffered outages have windows"
        block = TICKS_PER_DAY // self.blocks
        j = np.arange(max(0, t_lo // block), t_hi // block + 1, dtype=np.int64)
        j = j[hashing.uniform(self.keys["buffer"], j) < spec.per_day / self.blocks]
        start = j * block + (hashing.uniform(self.keys["buffer-start"], j) * block).astype(np.int64)
        start -= start % TICKS_PER_SECOND
        length = spec.min_duration + (hashing.uniform(self.keys["buffer-length"], j)
                                      * (spec.max_duration - spec.min_duration)).astype(np.int64)
        end = start + np.maximum(length, TICKS_PER_SECOND)
        low, high = spec.backfill
        backfill = end + low + (hashing.uniform(self.keys["backfill"], j) * (high - low)).astype(np.int64)
        keep = (start >= t_lo) & (start <= t_hi)
        return start[keep], end[keep], backfill[keep]


@dataclass
class _Table:
    """The per-source numbers of a set of sources (index = source), zero where a kind is absent:
    for "late", "edit" and "delete" the share of events picked and the [low, high] delay range."""

    share: dict[str, np.ndarray]
    low: dict[str, np.ndarray]
    high: dict[str, np.ndarray]
    keys: dict[str, np.ndarray]
    buffered: list[int]
    changed: np.ndarray  # bool: the source has changes (the others' rows pass untouched)


_KINDS = {"late": ("late", "delay"), "edit": ("edits", "after"), "delete": ("deletions", "after")}


def table(changes: list[PointChanges | None]) -> _Table | None:
    """The arrays `as_of` reads for these sources; None when none of them changes."""
    if all(c is None for c in changes):
        return None
    specs = {kind: [getattr(c.spec, name) if c is not None else None for c in changes]
             for kind, (name, _) in _KINDS.items()}
    share, low, high = {}, {}, {}
    for kind, (_, delay) in _KINDS.items():
        share[kind] = np.array([x.fraction if x is not None else 0.0 for x in specs[kind]], np.float64)
        low[kind] = np.array([getattr(x, delay)[0] if x is not None else 0 for x in specs[kind]], np.int64)
        high[kind] = np.array([getattr(x, delay)[1] if x is not None else 0 for x in specs[kind]], np.int64)
    keys = {p: np.array([c.keys[p] if c is not None else 0 for c in changes], np.uint64) for p in PURPOSES}
    return _Table(share=share, low=low, high=high, keys=keys,
                  buffered=[i for i, c in enumerate(changes) if c is not None and c.spec.buffered is not None],
                  changed=np.array([c is not None for c in changes], bool))


def _picked(tab: _Table, kind: str, candidates: np.ndarray, src: np.ndarray, ident: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """The rows (of the candidate mask) that `kind` picks, and each one's delay (ticks)."""
    rows = np.flatnonzero(candidates & (tab.share[kind][src] > 0))
    s = src[rows]
    hit = rows[hashing.uniform(tab.keys[kind][s], ident[rows]) < tab.share[kind][s]]
    s = src[hit]
    low, high = tab.low[kind][s], tab.high[kind][s]
    delay = low + (hashing.uniform(tab.keys[f"{kind}-{'delay' if kind == 'late' else 'after'}"][s], ident[hit])
                   * (high - low)).astype(np.int64)
    return hit, delay


def as_of(events: Values, ident: np.ndarray, src: np.ndarray, changes: list[PointChanges | None],
          tab: _Table | None, now: int) -> tuple[Values, np.ndarray | None]:
    """The events as the archive held them at `now`, and the mask of the rows kept (None: all).

    `src[i]` is the source (index into `changes`) of row i; rows of one source are contiguous and
    sources come in ascending order.
    """
    if tab is None or not len(events):
        return events, None
    ticks = events.ticks
    appear = ticks.copy()
    hit, delay = _picked(tab, "late", tab.changed[src], src, ident)
    appear[hit] += delay
    if tab.buffered:
        _backfill(appear, ticks, src, changes, tab.buffered)
    keep = (appear <= now) | ~tab.changed[src]
    hit, delay = _picked(tab, "delete", keep, src, ident)
    keep[hit[appear[hit] + delay <= now]] = False
    hit, delay = _picked(tab, "edit", keep, src, ident)
    hit = hit[appear[hit] + delay <= now]
    if len(hit):
        events = _edited(events, ident, src, hit, changes, tab)
    if keep.all():
        return events, None
    return events.take(keep), keep


def _backfill(appear: np.ndarray, ticks: np.ndarray, src: np.ndarray, changes: list[PointChanges | None],
              buffered: list[int]) -> None:
    """Move the appearance of events inside buffered windows to the windows' backfill times."""
    bounds = np.searchsorted(src, np.arange(len(changes) + 1))
    for i in buffered:
        a, b = int(bounds[i]), int(bounds[i + 1])
        if a == b:
            continue
        mine = changes[i]
        assert mine is not None and mine.spec.buffered is not None, "`buffered` lists points with outages"
        t = ticks[a:b]
        start, end, backfill = mine.windows(int(t.min()) - mine.spec.buffered.max_duration, int(t.max()))
        if not len(start):
            continue
        idx = np.searchsorted(start, t, side="right") - 1
        reach = np.maximum.accumulate(end)
        latest = np.maximum.accumulate(backfill)
        held = np.flatnonzero((idx >= 0) & (t < reach[np.maximum(idx, 0)]))
        appear[a + held] = np.maximum(appear[a + held], latest[idx[held]])


def _edited(events: Values, ident: np.ndarray, src: np.ndarray, hit: np.ndarray,
            changes: list[PointChanges | None], tab: _Table) -> Values:
    """The events with rows `hit` replaced by their edited values (good, Substituted)."""
    value = events.value.copy()
    state = events.state.copy()
    flags = events.flags.copy()
    s = src[hit]
    u = hashing.uniform(tab.keys["edit-value"][s], ident[hit])
    sign = np.where(hashing.uniform(tab.keys["edit-sign"][s], ident[hit]) < 0.5, -1.0, 1.0)
    for i in np.unique(s).tolist():
        mine = changes[i]
        rows = np.flatnonzero(s == i)
        at = hit[rows]
        old = value[at]
        if mine.kind == CODED:
            if len(mine.codes) < 2:
                continue
            codes = np.asarray(mine.codes, np.int64)
            position = np.searchsorted(codes, old.astype(np.int64)) if mine.point.point_type == "Digital" \
                else old.astype(np.int64)
            step = 1 + (u[rows] * (len(codes) - 1)).astype(np.int64)
            new = codes[(np.clip(position, 0, len(codes) - 1) + step) % len(codes)].astype(np.float64)
        else:
            shift = mine.by * (0.25 + 0.75 * u[rows]) * sign[rows]
            if mine.kind == INTEGER:
                new = np.rint(old) + sign[rows] * np.maximum(1.0, np.rint(np.abs(shift)))
            else:
                new = old + shift
                cast = _CAST.get(mine.point.point_type)
                if cast is not None:
                    new = new.astype(cast).astype(np.float64)
        value[at] = new
        state[at] = NO_STATE
        flags[at] = SUBSTITUTED
    return Values(events.ticks, value, state, flags)


def one(changes: PointChanges | None) -> tuple[list[PointChanges | None], _Table | None]:
    """The `as_of` arguments of a single source."""
    return [changes], table([changes])
