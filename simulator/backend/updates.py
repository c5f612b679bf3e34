"""simulator.backend.updates: PI's Stream Updates: markers registered per stream, and the events since one.

A marker stands for (stream, the simulated time it was issued at, the write sequence number then).
Retrieving it reports, as DataPipeEvents: the scenario's own changes since it was issued to the
values already reported (late values that became visible: Add, edits: Update with the new value,
deletions: Remove with the old one; the diff of the archive as of then and as of now), then each
write since that changed a time at or before it (Add, Update, Remove, with the value), then the
values the archive holds after that time up to now (they became visible as the clock moved;
written values there included), and issues the next marker. A marker is valid for `lifetime`
seconds of wall-clock time after it was issued (404 "Cache not found" after, as PI answers when its
cache is gone); a string this process never issued is a 409 (so is one expired long ago: markers
are forgotten `2 * lifetime + 600` seconds after they were issued, to bound memory). Markers live
in this process's memory, as PI keeps them in its own: with several gunicorn workers, retrieve
from the worker that registered (the test suite runs one).
"""
from __future__ import annotations

import itertools
import threading
import time
import typing as t
import uuid
from dataclasses import dataclass

import orjson
from flask import current_app

from ..pi import encoder
from ..archive import PointArchive
from ..archive.values import Values
from ..archive.writes import Change
from ..archive.writes import Event
from ..archive.writes import Writes
from ..archive.writes import as_values
from ..pi.errors import ConflictError
from ..pi.errors import UnknownWebIdError
from .streams import Stream

EXTENSION = "pisim.updates"
PREVIOUS = "PreviousEventArchived"


@dataclass(frozen=True)
class Marker:
    web_id: str
    ticks: int  # values after this simulated time are news (the time issued, or where a cut stopped)
    seq: int  # write sequence number then: writes after it are news
    issued: float  # time.monotonic() when issued
    as_of: int  # simulated time issued at: the scenario's changes to values up to `ticks` after it are news


class Registry:
    """The markers this app issued, and the streams registered."""

    def __init__(self, lifetime: float, clock: t.Callable[[], float] = time.monotonic) -> None:
        self.lifetime = lifetime
        self.clock = clock
        self._markers: dict[str, Marker] = {}
        self._registered: dict[str, str] = {}  # web id (upper case) -> registration id
        self._lock = threading.Lock()
        self._count = itertools.count()

    def register(self, web_id: str, now: int, seq: int) -> tuple[str, bool]:
        """A first marker for the stream; whether it was registered already."""
        with self._lock:
            self._expire()
            key = web_id.upper()
            again = key in self._registered
            if not again:
                self._registered[key] = uuid.uuid4().hex
            # values at the registration time itself are news too: a reader of [start, now) lacks them
            return self._issue(self._registered[key], web_id, now - 1, seq, now), again

    def lookup(self, marker: str) -> Marker:
        """The marker's state; 409 for one never issued, 404 for one expired."""
        with self._lock:
            found = self._markers.get(marker)
            if found is None:
                raise ConflictError(f"Invalid marker supplied: '{marker}'.")
            if self.clock() - found.issued > self.lifetime:
                raise UnknownWebIdError(f"Cache not found for marker '{marker}' (it expired after "
                                        f"{self.lifetime:g} s); register the stream again.")
            return found

    def next(self, marker: str, found: Marker, upto: int, seq: int, now: int) -> str:
        with self._lock:
            return self._issue(marker.rsplit("_", 1)[0], found.web_id, upto, seq, now)

    def clear(self) -> None:
        with self._lock:
            self._markers.clear()
            self._registered.clear()

    def _issue(self, registration: str, web_id: str, upto: int, seq: int, now: int) -> str:
        marker = f"{registration}_{next(self._count)}"
        self._markers[marker] = Marker(web_id, upto, seq, self.clock(), now)
        return marker

    def _expire(self) -> None:
        oldest = self.clock() - (2 * self.lifetime + 600)
        for key in [k for k, m in self._markers.items() if m.issued < oldest]:
            del self._markers[key]


def install(app, lifetime: float) -> t.Callable[[], None]:
    """Give `app` its marker registry; returns what clears it (for /__admin/reset)."""
    registry = Registry(lifetime)
    app.extensions[EXTENSION] = registry
    return registry.clear


def registry() -> Registry:
    return current_app.extensions[EXTENSION]


def subscribable(stream: Stream) -> PointArchive:
    """The archive whose updates `stream` reports; 409 for a static attribute, as PI answers (its value
    never changes)."""
    if stream.archive is None:
        raise ConflictError(f"The attribute '{stream.source.name}' is static: it has no stream updates.")
    return stream.archive


def events(stream: Stream, writes: Writes, since: Marker, now: int, limit: int) -> tuple[list[dict], int]:
    """The DataPipeEvents of `stream` since `since`, at most `limit` new values; with the time the
    next marker starts at (now, or the last time fully reported when the limit cut the values)."""
    archive = subscribable(stream)
    end = min(now, archive.horizon(now))
    parts: list[Values] = []
    count = 0
    if since.ticks < end:
        for chunk in archive.source.chunks(since.ticks + 1, end, now=now):
            parts.append(chunk)
            count += len(chunk)
            if count > limit:
                break
    news = Values.concat(parts)
    upto = now
    if len(news) > limit:
        cut = int(news.ticks[limit])  # keep whole timestamps: the next marker resumes at `cut`
        news = news.take(news.ticks < cut)
        upto = cut - 1
    changed = [c for c in writes.changes(archive.source, since.seq) if c.event.ticks <= since.ticks]
    return _shaped(stream, scenario_changes(stream, writes, since, now) + changed, news), upto


def scenario_changes(stream: Stream, writes: Writes, since: Marker, now: int) -> list[Change]:
    """The scenario's own changes (late, edited, deleted values) between the archive as of the
    marker's issue time and as of `now`, to the values the marker's chain reported already (those up
    to `since.ticks`). Only values within the changes' reach of `since.as_of` can change, which
    bounds the cost; a time a write touched is left to the writes (they shadow the archive there)."""
    source = subscribable(stream).source
    if source.changes is None or now <= since.as_of:
        return []
    found = source.changed_between(since.as_of - source.changes.reach, since.ticks, since.as_of, now)
    shadowed = {c.event.ticks for c in writes.changes(source, 0)}
    return [Change(since.seq, action, event) for action, values in found for event in Event.rows(values)
            if event.ticks not in shadowed]


def _shaped(stream: Stream, changed: list[Change], news: Values) -> list[dict]:
    rows = [(c.action, c.event) for c in changed]
    texts = encoder.items(as_values([e for _, e in rows]), stream.fmt) + encoder.items(news, stream.fmt)
    actions = [a for a, _ in rows] + ["Add"] * len(news)
    out = []
    for action, text in zip(actions, texts):
        item = orjson.loads(text)
        out.append({"Action": action, "PreviousEventAction": PREVIOUS, **item})
    return out


def register(sim, writes: Writes, web_id: str, web_id_type: str) -> dict:
    """StreamUpdatesRegister of one stream (raises the PIError a bad or static stream gets)."""
    stream = sim.stream(web_id)
    subscribable(stream)
    marker, again = registry().register(web_id, sim.now(), writes.seq)
    return {**_identity(stream, web_id_type), "Status": "AlreadyRegistered" if again else "Succeeded",
            "LatestMarker": marker}


def retrieve(sim, writes: Writes, marker: str, web_id_type: str) -> dict:
    """StreamUpdatesRetrieve for one marker (raises 409 invalid / 404 expired), with the next marker."""
    found = registry().lookup(marker)
    stream = sim.stream(found.web_id)
    now, seq = sim.now(), writes.seq
    changes, upto = events(stream, writes, found, now, sim.limits.max_returned_items_per_call)
    latest = registry().next(marker, found, upto, seq, now)
    return {**_identity(stream, web_id_type), "RequestedMarker": marker, "LatestMarker": latest,
            "Status": "Updated", "Events": changes}


def _identity(stream: Stream, web_id_type: str) -> dict:
    source = stream.source
    return {"Source": source.web_id(web_id_type), "SourceName": source.name, "SourcePath": source.path}


def failed(exc, **fields) -> dict:
    """The item of a stream-set answer for one stream or marker that failed."""
    return {**fields, "Status": "Failed", "Exception": {"Errors": list(exc.messages)}}
