"""simulator.archive.summaries: PI summaries over intervals, time- or event-weighted.

Definitions (each interval [a, b]; the tests check them against a brute-force loop):
- Time-weighted: the stream is the function through interp(a), the recorded events with a < t < b,
  and interp(b); linear between good points, stepped for step/digital/string points and before a
  bad point. Time from a bad point to the next point is bad time. Total = integral / 1 day (PI's
  per-day rate convention); Average = integral / good time; Minimum/Maximum over the good points
  (boundaries included), stamped with their time; Range = Max - Min; PopulationStdDev = sqrt of the
  time-weighted variance; StdDev = the same (time weighting has no sample size); PercentGood = good
  time / interval length x 100; Count = good events with a <= t < b (t <= b in the last interval).
- Event-weighted: over the good events with a <= t < b (t <= b in the last interval): Total = sum,
  Average = mean, Minimum/Maximum (stamped with their time), Range, StdDev (n - 1), PopulationStdDev
  (n), Count, PercentGood = good events / all events x 100.
- Timestamps: timeType Auto stamps Minimum/Maximum at their occurrence and the rest at the interval
  start; EarliestTime stamps everything at the interval start, MostRecentTime at its end.
  An interval without good data gives the system state "No Data" (Good false), except Count (0).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..scenario.model import TICKS_PER_DAY
from .archive import PointArchive
from .values import NO_STATE
from .values import Values

SUMMARY_TYPES = ("Total", "Average", "Minimum", "Maximum", "Range", "StdDev", "PopulationStdDev",
                 "Count", "PercentGood")
NON_NUMERIC_TYPES = ("Count", "PercentGood")
NO_DATA = 248
CALC_FAILED = 249


@dataclass(frozen=True)
class SummaryValue:
    type: str
    values: Values  # one row


class _Accumulator:
    """Running sums over one interval, fed with points in time order."""

    def __init__(self, stepped: bool) -> None:
        self.stepped = stepped
        self.integral = 0.0
        self.square = 0.0
        self.good_time = 0
        self.last: tuple[int, float, bool] | None = None
        self.min = (math.inf, 0)
        self.max = (-math.inf, 0)

    def feed(self, ticks: np.ndarray, value: np.ndarray, good: np.ndarray) -> None:
        if not len(ticks):
            return
        if self.last is not None:
            ticks = np.r_[self.last[0], ticks]
            value = np.r_[self.last[1], value]
            good = np.r_[self.last[2], good]
        if len(ticks) >= 2:
            d = np.diff(ticks).astype(np.float64)
            v0, v1 = value[:-1], value[1:]
            g0, g1 = good[:-1], good[1:]
            flat = g0 & (self.stepped | ~g1)
            slope = g0 & ~flat
            self.integral += float((v0 * d)[flat].sum() + ((v0 + v1) / 2 * d)[slope].sum())
            self.square += float((v0 * v0 * d)[flat].sum()
                                 + ((v0 * v0 + v0 * v1 + v1 * v1) / 3 * d)[slope].sum())
            self.good_time += int(d[g0].sum())
        mask = good if self.last is None else good[1:]
        t_new = ticks if self.last is None else ticks[1:]
        v_new = value if self.last is None else value[1:]
        if mask.any():
            vals, times = v_new[mask], t_new[mask]
            i, j = int(np.argmin(vals)), int(np.argmax(vals))
            if vals[i] < self.min[0]:
                self.min = (float(vals[i]), int(times[i]))
            if vals[j] > self.max[0]:
                self.max = (float(vals[j]), int(times[j]))
        self.last = (int(ticks[-1]), float(value[-1]), bool(good[-1]))


class _EventStats:
    def __init__(self) -> None:
        self.n_all = 0
        self.n = 0
        self.shift: float | None = None
        self.total = 0.0
        self.sum = 0.0
        self.sumsq = 0.0
        self.min = (math.inf, 0)
        self.max = (-math.inf, 0)

    def feed(self, events: Values) -> None:
        self.n_all += len(events)
        good = events.state == NO_STATE
        vals, times = events.value[good], events.ticks[good]
        self.n += len(vals)
        if len(vals):
            if self.shift is None:
                self.shift = float(vals[0])
            centred = vals - self.shift
            self.total += float(vals.sum())
            self.sum += float(centred.sum())
            self.sumsq += float((centred * centred).sum())
            i, j = int(np.argmin(vals)), int(np.argmax(vals))
            if vals[i] < self.min[0]:
                self.min = (float(vals[i]), int(times[i]))
            if vals[j] > self.max[0]:
                self.max = (float(vals[j]), int(times[j]))


def summarize(archive: PointArchive, start: int, end: int, types: tuple[str, ...], now: int, *,
              basis: str = "TimeWeighted", duration=None, tz=None, time_type: str = "Auto",
              numeric: bool = True) -> list[SummaryValue]:
    """Summary values for each interval of [start, end] (one interval unless `duration`, a pitime
    Interval, cuts it), ordered interval by interval, then by `types` order."""
    edges = _edges(start, end, duration, tz)
    start, end = edges[0], edges[-1]
    time_weighted = basis.lower() != "eventweighted"
    n = len(edges) - 1
    accs = [_Accumulator(archive.stepped) for _ in range(n)]
    stats = [_EventStats() for _ in range(n)]
    bounds = np.asarray(edges, np.int64)
    if time_weighted:  # the interpolated value at every edge, in one read
        at_edges = archive.interpolated_at(bounds, now)
        good_edges = at_edges.state == NO_STATE
        for i in range(n):
            accs[i].feed(at_edges.ticks[i:i + 1], at_edges.value[i:i + 1], good_edges[i:i + 1])
    # one pass over the events: interval i counts a <= t < b (t <= b in the last interval) and, time
    # weighted, integrates the events strictly inside (a, b) between its two edge values
    for chunk in archive.source.chunks(start, min(end, archive.horizon(now)), now=now):
        index = np.minimum(np.searchsorted(bounds, chunk.ticks, side="right") - 1, n - 1)
        cuts = np.flatnonzero(np.r_[True, index[1:] != index[:-1], True])
        for lo, hi in zip(cuts[:-1].tolist(), cuts[1:].tolist()):
            i = int(index[lo])
            part = chunk.take(slice(lo, hi))
            stats[i].feed(part)
            if time_weighted:
                inner = (part.ticks > edges[i]) & (part.ticks < edges[i + 1])
                accs[i].feed(part.ticks[inner], part.value[inner], part.state[inner] == NO_STATE)
    out: list[SummaryValue] = []
    for i in range(n):
        if time_weighted:
            accs[i].feed(at_edges.ticks[i + 1:i + 2], at_edges.value[i + 1:i + 2], good_edges[i + 1:i + 2])
        for kind in types:
            out.append(_result(kind, edges[i], edges[i + 1], accs[i], stats[i], time_weighted, time_type, numeric))
    return out


def summarize_static(value: float, stamp: int, start: int, end: int, types: tuple[str, ...], *,
                     basis: str = "TimeWeighted", duration=None, tz=None, time_type: str = "Auto",
                     numeric: bool = True) -> list[SummaryValue]:
    """Summaries of a static (AF configuration) value: `value` at every time, one event at `stamp`.

    The same definitions as `summarize`: time weighted, the value holds over each whole interval
    (Average, Minimum and Maximum are the value, Total is value x days); event weighted, only an
    interval that holds `stamp` has an event. A non-numeric value has only Count and PercentGood.
    """
    edges = _edges(start, end, duration, tz)
    time_weighted = basis.lower() != "eventweighted"
    event = Values(np.array([stamp], np.int64), np.array([value], np.float64), np.full(1, NO_STATE, np.int32),
                   np.zeros(1, np.uint8))
    out: list[SummaryValue] = []
    for i, (a, b) in enumerate(zip(edges, edges[1:])):
        last = i == len(edges) - 2
        acc, stats = _Accumulator(stepped=True), _EventStats()
        if a <= stamp < b or (last and stamp == b):
            stats.feed(event)
        if time_weighted:
            for t in sorted({a, b} | ({stamp} if a < stamp < b else set())):
                acc.feed(np.array([t], np.int64), np.array([value]), np.array([True]))
        out.extend(_result(kind, a, b, acc, stats, time_weighted, time_type, numeric) for kind in types)
    return out


def _edges(start: int, end: int, duration, tz) -> list[int]:
    """The interval boundaries of [start, end] (either order): start, start + duration, ..., end."""
    if end < start:
        start, end = end, start
    edges = [start]
    if duration is not None:
        t = start
        while True:
            t = duration.add(t, 1, tz)
            if t >= end:
                break
            edges.append(t)
    edges.append(end)
    return edges


def _result(kind: str, a: int, b: int, acc: _Accumulator, stats: _EventStats, time_weighted: bool,
            time_type: str, numeric: bool) -> SummaryValue:
    stamp = a
    value: float | None = None
    if not numeric and kind not in NON_NUMERIC_TYPES:
        return SummaryValue(kind, _one(stamp, 0.0, CALC_FAILED))
    if kind == "Count":
        value = float(stats.n)
    elif kind == "PercentGood":
        if time_weighted:
            value = 100.0 * acc.good_time / (b - a) if b > a else 0.0
        else:
            value = 100.0 * stats.n / stats.n_all if stats.n_all else 0.0
    elif time_weighted:
        value, stamp = _time_weighted(kind, a, acc)
    else:
        value, stamp = _event_weighted(kind, a, stats)
    if time_type.lower() == "mostrecenttime":
        stamp = b
    elif time_type.lower() == "earliesttime":
        stamp = a
    if value is None:
        return SummaryValue(kind, _one(stamp, 0.0, NO_DATA))
    return SummaryValue(kind, _one(stamp, value, NO_STATE))


def _time_weighted(kind: str, a: int, acc: _Accumulator) -> tuple[float | None, int]:
    if acc.min[0] == math.inf:
        return None, a
    if kind in ("Minimum", "Maximum", "Range"):
        if kind == "Minimum":
            return acc.min[0], acc.min[1]
        if kind == "Maximum":
            return acc.max[0], acc.max[1]
        return acc.max[0] - acc.min[0], a
    if kind == "Total":
        return acc.integral / TICKS_PER_DAY, a
    if acc.good_time <= 0:
        if kind == "Average":
            return acc.min[0] if acc.min[0] == acc.max[0] else None, a
        return (0.0, a) if kind in ("StdDev", "PopulationStdDev") else (None, a)
    mean = acc.integral / acc.good_time
    if kind == "Average":
        return mean, a
    variance = max(acc.square / acc.good_time - mean * mean, 0.0)
    return math.sqrt(variance), a


def _event_weighted(kind: str, a: int, stats: _EventStats) -> tuple[float | None, int]:
    if stats.n == 0:
        return None, a
    n = stats.n
    if kind == "Total":
        return stats.total, a
    if kind == "Average":
        return stats.total / n, a
    if kind == "Minimum":
        return stats.min[0], stats.min[1]
    if kind == "Maximum":
        return stats.max[0], stats.max[1]
    if kind == "Range":
        return stats.max[0] - stats.min[0], a
    squares = max(stats.sumsq - stats.sum * stats.sum / n, 0.0)
    if kind == "StdDev":
        return (math.sqrt(squares / (n - 1)) if n > 1 else 0.0), a
    return math.sqrt(squares / n), a


def _one(ticks: int, value: float, state: int) -> Values:
    return Values(np.array([ticks], np.int64), np.array([value], np.float64), np.array([state], np.int32),
                  np.zeros(1, np.uint8))
