"""simulator.backend.streams: what a stream WebID reads, a PI point or an AF attribute, as one interface.

A point, or an attribute with a PI Point data reference, reads the point's virtual archive (with the
attribute's units when it has some). An attribute without a data reference is static: one value,
at the time AF stamps static values with (the epoch, or an event frame's start). An event frame's
attributes read the frame's time range by default, and a closed frame's value is its value at the
frame's end (AF's time context), not the point's current value.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import badvalues
from ..archive import Archive
from ..archive import PointArchive
from ..archive.values import NO_STATE
from ..archive.values import Values
from .entries import AttributeEntry
from .catalog import Catalog
from .entries import PointEntry
from ..pi.encoder import ValueFormat
from .entries import EventFrameEntry


@dataclass
class Stream:
    """One readable stream. Exactly one of `archive` and `static` is set."""

    source: PointEntry | AttributeEntry
    archive: PointArchive | None
    fmt: ValueFormat
    static: object = None
    static_time: int = 0
    default_start: int | None = None
    default_end: int | None = None
    context_time: int | None = None  # what a value read without a time refers to (None: the snapshot)

    @property
    def units(self) -> str:
        return self.fmt.units

    @property
    def numeric(self) -> bool:
        if self.archive is not None:
            return self.archive.point.point_type not in ("Digital", "String", "Timestamp")
        return isinstance(self.static, (int, float)) and not isinstance(self.static, bool)

    def static_values(self, ticks) -> Values:
        """The static value at the given times (value column unused: see `static`)."""
        ticks = np.asarray(ticks, np.int64)
        return Values(ticks, np.zeros(len(ticks)), np.full(len(ticks), NO_STATE, np.int32),
                      np.zeros(len(ticks), np.uint8))


def open_stream(source, catalog: Catalog, archive: Archive, now: int) -> Stream | None:
    """The stream behind a point or attribute entry; None when the object has no values."""
    if isinstance(source, PointEntry):
        return open_point_stream(source, catalog, archive)
    if isinstance(source, AttributeEntry):
        owner = source.owner
        start = end = None
        if isinstance(owner, EventFrameEntry):
            start = owner.start
            end = owner.end if owner.end is not None else now
        if source.point is not None:
            stream = _point_stream(source, source.point, catalog, archive,
                                   source.attribute.units or source.point.point.engineering_units)
            stream.default_start, stream.default_end = start, end
            if isinstance(owner, EventFrameEntry) and owner.end is not None:
                stream.context_time = owner.end  # AF's time context: a closed frame's values are at its end
            return stream
        fmt = ValueFormat("Static", source.attribute.units, static=_jsonable(source.value))
        return Stream(source, None, fmt, static=source.value, static_time=source.static_time,
                      default_start=start, default_end=end)
    return None


def open_point_stream(entry: PointEntry, catalog: Catalog, archive: Archive) -> Stream:
    """A point's stream (a point always has values)."""
    return _point_stream(entry, entry, catalog, archive, entry.point.engineering_units)


def _point_stream(source, entry: PointEntry, catalog: Catalog, archive: Archive, units: str) -> Stream:
    point = entry.point
    states = {}
    if point.point_type == "Digital":
        digital = catalog.digital_set(point.digital_set)
        states = dict(digital.states) if digital else {}
    vocabulary = archive.vocabulary(point) if point.point_type == "String" else ()
    fmt = ValueFormat(point.point_type, units, states, vocabulary, bad=badvalues.for_point(point, archive.seed))
    return Stream(source, archive.of(point), fmt)


def _jsonable(value: object) -> object:
    """Static AF values as JSON can carry them (anything else as its text)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
