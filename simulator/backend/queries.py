"""simulator.backend.queries: the stream reads (recorded, interpolated, plot, summary, value...) as typed
queries, parsed once from a request and run against one stream or many.

The same query objects serve /streams/{webId}/... and /streamsets/...; each checks PI's
MaxReturnedItemsPerCall limit for the number of streams it will be run against.
"""
from __future__ import annotations

import typing as t
from dataclasses import dataclass

import numpy as np

from ..pi import filters
from picommon import pitime
from ..archive import Boundary
from ..archive import PointArchive
from ..archive import batch
from ..archive import writes
from ..archive.summaries import SUMMARY_TYPES
from ..archive.summaries import SummaryValue
from ..archive.summaries import summarize
from ..archive.summaries import summarize_static
from ..archive.values import Values
from ..pi.errors import InvalidParameterError
from ..pi.params import Args
from ..pi.params import check_limit
from .streams import Stream

BOUNDARY_TYPES = (Boundary.INSIDE, Boundary.OUTSIDE, Boundary.INTERPOLATED)
CALCULATION_BASES = ("TimeWeighted", "EventWeighted", "TimeWeightedContinuous", "TimeWeightedDiscrete",
                     "EventWeightedExcludeMostRecentEvent", "EventWeightedExcludeEarliestEvent",
                     "EventWeightedIncludeBothEnds")
TIME_TYPES = ("Auto", "EarliestTime", "MostRecentTime")
SAMPLE_TYPES = ("ExpressionRecordedValues", "Interval")
RETRIEVAL_MODES = ("Auto", "AtOrBefore", "Before", "AtOrAfter", "After", "Exact")
SORT_ORDERS = ("Ascending", "Descending")
SUMMARY_CHOICES = (*SUMMARY_TYPES, "TotalWithUOM", "All", "AllForNonNumeric")


@dataclass(frozen=True)
class TimeRange:
    """startTime/endTime as given; resolved per stream (event-frame attributes default to the frame)."""

    start_text: str | None
    end_text: str | None
    tz: t.Any  # a ZoneInfo, or the name PI was given
    default_start: str = "*-1d"
    default_end: str = "*"

    @classmethod
    def from_args(cls, args: Args, sim, default_start: str = "*-1d", default_end: str = "*") -> TimeRange:
        rng = cls(args.get("startTime"), args.get("endTime"), args.timezone(sim.timezone), default_start, default_end)
        rng.resolve(None, sim.now())  # reject malformed times before any stream is read
        return rng

    def resolve(self, stream: Stream | None, now: int) -> tuple[int, int]:
        if self.start_text is None and stream is not None and stream.default_start is not None:
            start = stream.default_start
        else:
            start = _time("startTime", self.start_text, self.default_start, now, self.tz, None)
        if self.end_text is None and stream is not None and stream.default_end is not None:
            end = stream.default_end
        else:
            end = _time("endTime", self.end_text, self.default_end, now, self.tz, start)
        return start, end


def _time(name: str, text: str | None, default: str, now: int, tz, relative_to: int | None) -> int:
    value = default if text is None else text
    try:
        return pitime.parse_time(value, now=now, tz=tz, relative_to=relative_to)
    except pitime.TimeParseError as exc:
        raise InvalidParameterError(f"The value '{value}' of parameter '{name}' is not a valid time: {exc}") from None


@dataclass(frozen=True)
class RecordedQuery:
    range: TimeRange
    boundary: str
    max_count: int
    filter: filters.Filter | None
    include_filtered: bool

    @classmethod
    def from_args(cls, args: Args, sim, streams: int = 1) -> RecordedQuery:
        max_count = args.integer("maxCount", sim.limits.default_max_count, minimum=1)
        check_limit("maxCount", max_count * max(1, streams), sim.limits.max_returned_items_per_call)
        return cls(TimeRange.from_args(args, sim), args.choice("boundaryType", BOUNDARY_TYPES, Boundary.INSIDE),
                   max_count, filters.parse(args.get("filterExpression")),
                   args.boolean("includeFilteredValues", False))

    def run(self, stream: Stream, now: int) -> Values:
        start, end = self.range.resolve(stream, now)
        if stream.archive is None:
            return _static_in(stream, start, end)
        if self.filter is None:
            return stream.archive.recorded(start, end, now, boundary=self.boundary, max_count=self.max_count)
        return self._filtered(stream, start, end, now)

    def run_many(self, streams: list[Stream], now: int) -> list[Values]:
        """`run` for each stream; the plain ascending reads of archive points go through the batched
        archive together (bit-identical, much cheaper per stream), the rest one by one."""
        results: list[Values | None] = [None] * len(streams)
        groups: dict[tuple[int, int], list[tuple[int, PointArchive]]] = {}
        plain = self.range.resolve(None, now)
        for i, stream in enumerate(streams):
            if stream.archive is None or self.filter is not None or self.boundary != Boundary.INSIDE:
                continue
            if writes.written(stream.archive.source):  # the batched archive knows no writes
                continue
            own = stream.default_start is not None or stream.default_end is not None
            start, end = self.range.resolve(stream, now) if own else plain
            end = min(end, stream.archive.horizon(now))
            if start <= end:
                groups.setdefault((start, end), []).append((i, stream.archive))
        for (start, end), members in groups.items():
            sources = [archive.source for _, archive in members]
            slots = [source.slots_for(self.max_count) for source in sources]
            values, bounds, covered = batch.window(sources, start, end, now=now, max_slots=slots)
            for j, (i, _) in enumerate(members):
                got = values.take(slice(int(bounds[j]), int(bounds[j + 1])))
                if len(got) >= self.max_count:
                    results[i] = got.take(slice(0, self.max_count))
                elif covered[j] >= end:
                    results[i] = got
        return [r if r is not None else self.run(stream, now) for r, stream in zip(results, streams)]

    def _filtered(self, stream: Stream, start: int, end: int, now: int) -> Values:
        """Recorded values passing the filter; `includeFilteredValues` marks each run of rejected
        values with one "Filtered" (244) state at the first rejected time, as PI does."""
        archive, keeps = stream.archive, self.filter
        assert archive is not None and keeps is not None, "run() reads static streams and unfiltered ones itself"
        out: list[Values] = []
        count = 0
        descending = end < start
        lo, hi = (end, start) if descending else (start, end)
        for chunk in archive.source.chunks(lo, min(hi, archive.horizon(now)), now=now, descending=descending,
                                           first_slots=archive.source.slots_for(self.max_count)):
            keep = keeps.evaluate(chunk)
            if self.include_filtered:
                rejected_start = ~keep & np.r_[True, keep[:-1]]
                marks = Values.of_state(chunk.ticks[rejected_start], 244)
                merged = Values.concat([chunk.take(keep), marks])
                order = np.argsort(merged.ticks, kind="stable")
                if descending:
                    order = order[::-1]
                chunk = merged.take(order)
            else:
                chunk = chunk.take(keep)
            out.append(chunk)
            count += len(chunk)
            if count >= self.max_count:
                break
        values = Values.concat(out)
        return values.take(slice(0, self.max_count)) if len(values) > self.max_count else values


def _static_in(stream: Stream, start: int, end: int) -> Values:
    lo, hi = min(start, end), max(start, end)
    if lo <= stream.static_time <= hi or stream.static_time == 0:
        return stream.static_values([stream.static_time])
    return Values.empty()


@dataclass(frozen=True)
class InterpolatedQuery:
    range: TimeRange
    interval: pitime.Interval
    sync_time: int | None
    sync_outside: bool
    filter: filters.Filter | None

    @classmethod
    def from_args(cls, args: Args, sim, streams: int = 1) -> InterpolatedQuery:
        rng = TimeRange.from_args(args, sim)
        interval = args.interval("interval", "1h")
        if interval.zero or interval.negative:
            raise InvalidParameterError(f"The value '{args.get('interval')}' of parameter 'interval' must be positive.")
        sync = args.get("syncTime")
        sync_time = args.time("syncTime", None, now=sim.now(), tz=rng.tz) if sync else None
        outside = args.choice("syncTimeBoundaryType", ("Inside", "Outside"), "Inside") == "Outside"
        args.boolean("includeFilteredValues", False)  # accepted; interpolation marks no filtered values
        query = cls(rng, interval, sync_time, outside, filters.parse(args.get("filterExpression")))
        start, end = rng.resolve(None, sim.now())
        count = abs(end - start) // max(1, interval.approx_ticks) + 1
        check_limit("interval", count * max(1, streams), sim.limits.max_returned_items_per_call)
        return query

    def times(self, stream: Stream, now: int) -> np.ndarray:
        start, end = self.range.resolve(stream, now)
        descending = end < start
        lo, hi = (end, start) if descending else (start, end)
        anchor = lo
        if self.sync_time is not None:
            # align the grid to syncTime, as AF does: first grid time at or after (or before) lo
            step = max(1, self.interval.approx_ticks)
            k = (lo - self.sync_time) // step
            anchor = self.sync_time + k * step
            if anchor < lo and not self.sync_outside:
                anchor += step
        times = pitime.interval_times(anchor, hi, self.interval, self.range.tz)
        if self.sync_time is not None and self.sync_outside and len(times) and times[-1] < hi:
            times = np.r_[times, self.interval.add(int(times[-1]), 1, self.range.tz)]
        return times[::-1].copy() if descending else times

    def run(self, stream: Stream, now: int) -> Values:
        times = self.times(stream, now)
        if stream.archive is None:
            return stream.static_values(times)
        values = stream.archive.interpolated_at(times, now)
        if self.filter is not None:
            values = values.take(self.filter.evaluate(values))
        return values


@dataclass(frozen=True)
class AtTimesQuery:
    """interpolatedattimes / recordedattime(s): explicit times."""

    times: tuple[int, ...]
    descending: bool
    mode: str

    @classmethod
    def from_args(cls, args: Args, sim, *, single: bool = False) -> AtTimesQuery:
        tz = args.timezone(sim.timezone)
        if single:
            args.required("time")
            times = [args.time("time", None, now=sim.now(), tz=tz)]
        else:
            times = args.times("time", now=sim.now(), tz=tz)
        check_limit("time", len(times), sim.limits.max_returned_items_per_call)
        order = args.choice("sortOrder", SORT_ORDERS, "Ascending")
        mode = args.choice("retrievalMode", RETRIEVAL_MODES, "Auto")
        return cls(tuple(times), order == "Descending", mode)

    def interpolated(self, stream: Stream, now: int) -> Values:
        times = np.sort(np.asarray(self.times, np.int64))
        if self.descending:
            times = times[::-1].copy()
        if stream.archive is None:
            return stream.static_values(times)
        return stream.archive.interpolated_at(times, now)

    def recorded(self, stream: Stream, now: int) -> Values:
        if stream.archive is None:
            return stream.static_values([stream.static_time])
        return Values.concat([stream.archive.recorded_at(t, now, self.mode) for t in self.times])


@dataclass(frozen=True)
class PlotQuery:
    range: TimeRange
    intervals: int

    @classmethod
    def from_args(cls, args: Args, sim, streams: int = 1) -> PlotQuery:
        intervals = args.integer("intervals", 24, minimum=1)
        check_limit("intervals", intervals * 5 * max(1, streams), sim.limits.max_returned_items_per_call)
        return cls(TimeRange.from_args(args, sim), intervals)

    def run(self, stream: Stream, now: int) -> Values:
        start, end = self.range.resolve(stream, now)
        if stream.archive is None:
            return _static_in(stream, start, end)
        return stream.archive.plot(start, end, self.intervals, now)


@dataclass(frozen=True)
class SummaryQuery:
    range: TimeRange
    types: tuple[str, ...]
    basis: str
    time_type: str
    duration: pitime.Interval | None
    filter: filters.Filter | None

    @classmethod
    def from_args(cls, args: Args, sim, streams: int = 1) -> SummaryQuery:
        rng = TimeRange.from_args(args, sim)
        chosen = args.choices("summaryType", SUMMARY_CHOICES, ("Total",))
        types: list[str] = []
        for kind in chosen:
            expanded: tuple[str, ...]
            if kind in ("All", "AllForNonNumeric"):
                expanded = SUMMARY_TYPES
            else:
                expanded = ("Total",) if kind == "TotalWithUOM" else (kind,)
            if kind == "AllForNonNumeric":
                expanded = ("Count", "PercentGood")
            types.extend(k for k in expanded if k not in types)
        duration = args.interval("summaryDuration")
        if duration is not None and (duration.zero or duration.negative):
            raise InvalidParameterError("The parameter 'summaryDuration' must be a positive interval.")
        args.choice("sampleType", SAMPLE_TYPES, "ExpressionRecordedValues")
        args.interval("sampleInterval")
        query = cls(rng, tuple(types), args.choice("calculationBasis", CALCULATION_BASES, "TimeWeighted"),
                    args.choice("timeType", TIME_TYPES, "Auto"), duration,
                    filters.parse(args.get("filterExpression")))
        start, end = rng.resolve(None, sim.now())
        intervals = 1 if duration is None else abs(end - start) // max(1, duration.approx_ticks) + 1
        check_limit("summaryDuration", intervals * len(types) * max(1, streams),
                    sim.limits.max_returned_items_per_call)
        return query

    def run(self, stream: Stream, now: int) -> list[SummaryValue]:
        start, end = self.range.resolve(stream, now)
        basis = "EventWeighted" if self.basis.startswith("EventWeighted") else "TimeWeighted"
        if stream.archive is None:
            value = float(t.cast(float, stream.static)) if stream.numeric else 0.0
            return summarize_static(value, stream.static_time, start, end, self.types, basis=basis,
                                    duration=self.duration, tz=self.range.tz, time_type=self.time_type,
                                    numeric=stream.numeric)
        return summarize(stream.archive, start, end, self.types, now, basis=basis, duration=self.duration,
                         tz=self.range.tz, time_type=self.time_type, numeric=stream.numeric)
