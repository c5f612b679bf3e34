"""simulator.archive.batch: the events of many points over one window, generated together.

A stream-set call over 30,000 tags cannot afford a hundred small numpy calls per tag. Here every
draw of `EventSource._slots` and `Signal.values` is made once for all the points' slots, with the
per-point keys and parameters spread over the rows, so the cost is per value, not per point. The
numbers are bit for bit those of the one-point path (tests/simulator/test_batch_archive.py checks
it); the rare points that have an outage or a creation inside the window are finished by that
path's own code.
"""
from __future__ import annotations

import numpy as np

from ..scenario.model import TICKS_PER_SECOND
from . import changes as changing
from . import hashing
from .events import EventSource
from .values import ANNOTATED
from .values import NO_STATE
from .values import QUESTIONABLE
from .values import SUBSTITUTED
from .values import Values

_TICKS_PER_HOUR = 3600 * TICKS_PER_SECOND
_SHAPED = ("daily", "sine", "square", "sawtooth", "ramp", "counter", "random_walk", "constant")


def _u64(values: list[int]) -> np.ndarray:
    return np.array(values, dtype=np.uint64)


def _uniform(keys: np.ndarray, counters: np.ndarray) -> np.ndarray:
    return hashing.uniform(keys, counters)


def _normal(keys: np.ndarray, counters: np.ndarray) -> np.ndarray:
    u1 = hashing.uniform(keys, counters)
    u2 = hashing.uniform(keys ^ np.uint64(0x5851F42D4C957F2D), counters)
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)


def _smooth_noise(keys: np.ndarray, ticks: np.ndarray, timescale: np.ndarray) -> np.ndarray:
    """Signal's value noise for rows grouped by point and ordered by time within a point: each
    (point, knot) pair is drawn once, as the one-point path does for a window."""
    knot = ticks // timescale
    frac = (ticks - knot * timescale) / timescale
    s = frac * frac * (3.0 - 2.0 * frac)
    if not len(knot):
        return s
    new = np.empty(len(knot), bool)
    new[0] = True
    np.not_equal(knot[1:], knot[:-1], out=new[1:])
    new[1:] |= keys[1:] != keys[:-1]
    slot = np.cumsum(new) - 1
    pair_keys, pair_knots = keys[new], knot[new]
    left = _normal(pair_keys, pair_knots)[slot]
    right = _normal(pair_keys, pair_knots + 1)[slot]
    return left + (right - left) * s


class _Params:
    """The per-point numbers of a batch, as arrays indexed by point."""

    def __init__(self, sources: list[EventSource]) -> None:
        self.sources = sources
        self.spacing = np.array([s.spacing for s in sources], np.int64)
        self.keep = np.array([s.keep for s in sources], np.float64)
        self.reach = np.array([s.jitter * s.spacing if s.jitter > 0 else 0.0 for s in sources], np.float64)
        self.whole = np.array([not s.subsecond for s in sources], bool)
        self.duplicates = np.array([s.duplicates for s in sources], np.float64)
        self.k_keep = _u64([s.k_keep for s in sources])
        self.k_offset = _u64([s.k_offset for s in sources])
        self.k_dup = _u64([s.k_dup for s in sources])
        self.k_quality = _u64([s.k_quality for s in sources])
        edges = np.array([s.q_edges for s in sources], np.float64).reshape(len(sources), 3)
        self.q0, self.q1, self.q2 = edges[:, 0], edges[:, 1], edges[:, 2]


def window(sources: list[EventSource], start: int, end: int, *, now: int, max_slots=None
           ) -> tuple[Values, np.ndarray, np.ndarray]:
    """Every event with start <= t <= end of every source as the archive held it at `now`, grouped
    by source in input order (the scenario's changes applied to all the rows at once).

    Returns (values, bounds, covered): rows of source i are values[bounds[i]:bounds[i+1]];
    covered[i] is the last instant source i's rows are complete up to (end, unless `max_slots` (one
    number, or one per source) cut its window short: then the caller reads the rest by other means).
    """
    n_sources = len(sources)
    p = _Params(sources)
    lo = np.array([max(start, s.created) if s.created is not None else start for s in sources], np.int64)
    first = lo // p.spacing
    last = np.full(n_sources, end, np.int64) // p.spacing
    if max_slots is not None:
        last = np.minimum(last, first + np.asarray(max_slots, np.int64) - 1)
    covered = np.where(last >= end // p.spacing, end, (last + 1) * p.spacing - 1)
    count = np.maximum(last - first + 1, 0)
    count[lo > end] = 0
    src = np.repeat(np.arange(n_sources), count)
    offsets = np.cumsum(count) - count
    k = first[src] + (np.arange(len(src), dtype=np.int64) - offsets[src])
    # -- slots: keep, offset, duplicates (as EventSource._slots)
    kept = _uniform(p.k_keep[src], k) < p.keep[src]
    k, src = k[kept], src[kept]
    ticks = k * p.spacing[src]
    offset = (_uniform(p.k_offset[src], k) * p.reach[src]).astype(np.int64)
    offset -= np.where(p.whole[src], offset % TICKS_PER_SECOND, 0)
    ticks = ticks + offset
    repeat = 1 + (_uniform(p.k_dup[src], k) < p.duplicates[src]).astype(np.int64)
    if (repeat > 1).any():
        ticks, k, src = np.repeat(ticks, repeat), np.repeat(k, repeat), np.repeat(src, repeat)
        starts = np.cumsum(repeat) - repeat
        ident = k * 2 + (np.arange(len(k)) - np.repeat(starts, repeat))
    else:
        ident = k * 2
    inside = (ticks >= lo[src]) & (ticks <= np.minimum(covered[src], end))
    ticks, ident, src = ticks[inside], ident[inside], src[inside]
    values = _values(sources, src, ticks, ident)
    flags = np.zeros(len(ticks), np.uint8)
    u = _uniform(p.k_quality[src], ident)
    q0, q1, q2 = p.q0[src], p.q1[src], p.q2[src]
    flags[u < q0] = QUESTIONABLE
    flags[(u >= q0) & (u < q1)] = SUBSTITUTED
    flags[(u >= q1) & (u < q2)] = ANNOTATED
    state = np.full(len(ticks), NO_STATE, np.int32)
    _system_states(sources, src, ident, state, flags)
    merged = Values(ticks, values, state, flags)
    changes = [source.changes for source in sources]
    merged, visible = changing.as_of(merged, ident, src, changes, changing.table(changes), now)
    if visible is not None:
        src = src[visible]
    return _finish(sources, merged, src, lo, covered)


def _values(sources: list[EventSource], src: np.ndarray, ticks: np.ndarray, ident: np.ndarray) -> np.ndarray:
    """Signal.values for every row, kind by kind."""
    out = np.zeros(len(ticks), np.float64)
    signals = [s.signal for s in sources]
    names = sorted({sig.spec.kind for sig in signals})
    code = {name: number for number, name in enumerate(names)}
    row_kind = np.array([code[sig.spec.kind] for sig in signals], np.int16)[src]
    for number, kind in enumerate(names):
        rows = np.flatnonzero(row_kind == number) if len(names) > 1 else np.arange(len(src))
        if not len(rows):
            continue
        if kind in _SHAPED:
            out[rows] = _shaped(kind, signals, src[rows], ticks[rows], ident[rows])
        else:  # digital and string points are few: their own code, point by point
            for i in np.unique(src[rows]).tolist():
                mine = rows[src[rows] == i]
                out[mine] = signals[i].values(ticks[mine], ident[mine])
    return out


def _shaped(kind: str, signals, src: np.ndarray, ticks: np.ndarray, ident: np.ndarray) -> np.ndarray:
    """Signal._shape plus noise, anomalies, clipping, rounding and the point type, vectorised."""
    specs = [sig.spec for sig in signals]
    mean = np.array([s.mean for s in specs], np.float64)[src]
    amplitude = np.array([s.amplitude for s in specs], np.float64)[src]
    period = np.array([max(1, s.period) for s in specs], np.int64)[src]
    phase = np.array([s.phase for s in specs], np.float64)[src]
    cycle = (ticks % period) / period + phase
    if kind in ("daily", "sine"):
        values = mean + amplitude * np.sin(2.0 * np.pi * cycle)
    elif kind == "square":
        values = mean + amplitude * np.where((cycle % 1.0) < 0.5, 1.0, -1.0)
    elif kind == "sawtooth":
        values = mean + amplitude * (2.0 * (cycle % 1.0) - 1.0)
    elif kind in ("ramp", "counter"):
        has_period = np.array([bool(s.period) for s in specs])[src]
        created = np.array([sig.point.created or 0 for sig in signals], np.int64)[src]
        since = np.where(has_period, ticks % period, ticks - created)
        rate = np.array([s.rate for s in specs], np.float64)[src]
        values = mean + rate * (since / _TICKS_PER_HOUR)
    elif kind == "random_walk":
        keys = _u64([sig.k_noise ^ 0x1234 for sig in signals])[src]
        scale = np.array([max(1, s.timescale) * 8 for s in specs], np.int64)[src]
        values = mean + amplitude * _smooth_noise(keys, ticks, scale)
    else:
        values = mean.copy()
    noise = np.array([s.noise for s in specs], np.float64)[src]
    noisy = np.flatnonzero(noise != 0)
    if len(noisy):
        s_n = src[noisy]
        t_n = ticks[noisy]
        timescale = np.array([max(1, s.timescale) for s in specs], np.int64)[s_n]
        timescale5 = np.array([max(1, s.timescale // 5) for s in specs], np.int64)[s_n]
        total = _smooth_noise(_u64([sig.k_noise for sig in signals])[s_n], t_n, timescale)
        total += 0.5 * _smooth_noise(_u64([sig.k_noise2 for sig in signals])[s_n], t_n, timescale5)
        total += 0.25 * _normal(_u64([sig.k_white for sig in signals])[s_n], ident[noisy])
        values[noisy] = values[noisy] + total * (noise[noisy] / 1.1456)
    anomalies = np.array([s.anomalies for s in specs], np.float64)[src]
    candidates = np.flatnonzero(anomalies != 0)
    if len(candidates):
        keys = _u64([sig.k_anomaly for sig in signals])[src[candidates]]
        hit = candidates[_uniform(keys, ident[candidates]) < anomalies[candidates]]
        if len(hit):
            size = _uniform(_u64([sig.k_anomaly_size for sig in signals])[src[hit]], ident[hit])
            scale = np.array([max(s.noise, abs(s.amplitude) * 0.2, abs(s.mean) * 0.05, 1e-3) for s in specs])[src[hit]]
            sign = np.where(size < 0.5, -1.0, 1.0)
            values[hit] += sign * (4.0 + 8.0 * np.abs(size - 0.5)) * scale
    lower = np.array([-np.inf if s.minimum is None else s.minimum for s in specs], np.float64)[src]
    upper = np.array([np.inf if s.maximum is None else s.maximum for s in specs], np.float64)[src]
    values = np.clip(values, lower, upper)
    integer_points = np.array([sig.integer for sig in signals])
    if integer_points.any():
        rows = integer_points[src]
        values[rows] = np.rint(values[rows])
    places_of = [-1 if s.decimals is None or sig.integer else s.decimals for s, sig in zip(specs, signals)]
    for places in sorted(set(places_of) - {-1}):
        rows = np.array([p == places for p in places_of])[src]
        values[rows] = np.round(values[rows], places)
    for name, dtype in (("Float32", np.float32), ("Float16", np.float16)):
        of_type = np.array([sig.point.point_type == name for sig in signals])
        if of_type.any():
            rows = of_type[src]
            values[rows] = values[rows].astype(dtype).astype(np.float64)
    return values


def _system_states(sources, src, ident, state, flags) -> None:
    rates = np.array([s.point.system_states.rate if s.point.system_states.states else 0.0 for s in sources])
    if not (rates > 0).any():
        return
    starts = np.searchsorted(src, np.arange(len(sources) + 1))
    for i in np.flatnonzero(rates > 0).tolist():
        source = sources[i]
        rows = np.arange(starts[i], starts[i + 1])
        if not len(rows):
            continue
        bad = rows[hashing.uniform(source.k_sys, ident[rows]) < rates[i]]
        if len(bad):
            pick = hashing.uniform(source.k_sys_pick, ident[bad])
            codes = np.asarray(source.point.system_states.states, np.int32)
            state[bad] = codes[np.minimum((pick * len(codes)).astype(np.int64), len(codes) - 1)]
            flags[bad] = 0


def _finish(sources, values: Values, src: np.ndarray, lo: np.ndarray, covered: np.ndarray):
    """Outages and creation (rare) through the one-point code; then bounds per source."""
    n = len(sources)
    bounds = np.searchsorted(src, np.arange(n + 1))
    touched = _touched(sources, lo, covered)
    if touched:
        pieces, cursor = [], 0
        for i in touched:
            a, b = int(bounds[i]), int(bounds[i + 1])
            pieces.append(values.take(slice(cursor, a)))
            pieces.append(sources[i]._apply_outages_and_creation(values.take(slice(a, b)), int(lo[i]),
                                                                  int(covered[i])))
            cursor = b
        pieces.append(values.take(slice(cursor, len(values))))
        sizes = np.diff(bounds)
        for i, piece in zip(touched, pieces[1::2]):
            sizes[i] = len(piece)
        values = Values.concat(pieces)
        bounds = np.r_[0, np.cumsum(sizes)]
    return values, bounds, covered


def _touched(sources, lo: np.ndarray, hi: np.ndarray) -> list[int]:
    """The sources whose window may hold an outage start, a gap start or the point's creation
    (a superset: the one-point code decides exactly)."""
    found = set()
    blocked = []
    for i, source in enumerate(sources):
        if hi[i] < lo[i]:
            continue
        if source.created is not None and lo[i] <= source.created <= hi[i]:
            found.add(i)
        elif source.point.gaps:
            found.add(i)
        elif source.outage_blocks:
            blocked.append(i)
    if blocked:
        index = np.array(blocked)
        block = np.array([86_400 * TICKS_PER_SECOND // sources[i].outage_blocks for i in blocked], np.int64)
        max_outage = np.array([sources[i].max_outage for i in blocked], np.int64)
        j_first = np.maximum(0, (lo[index] - max_outage) // block)
        j_last = hi[index] // block
        count = j_last - j_first + 1
        owner = np.repeat(np.arange(len(blocked)), count)
        j = j_first[owner] + (np.arange(len(owner)) - (np.cumsum(count) - count)[owner])
        keys = _u64([sources[i].k_outage for i in blocked])[owner]
        chance = np.array([sources[i].point.outages.per_day / sources[i].outage_blocks for i in blocked])[owner]
        hit = _uniform(keys, j) < chance
        found.update(index[np.unique(owner[hit])].tolist())
    return sorted(found)
