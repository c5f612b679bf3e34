"""simulator.backend.simulator: the Simulator object, everything a request needs and nothing of HTTP.

Holds the scenario, catalog, archive and clock. Routes find it at app.extensions["pisim"].

The clock: pinned by `--now` (Settings.now) or the scenario's `clock.now`; otherwise it moves, at
real time from the wall clock, or `clock_speed` times faster from `clock_start` (default: the
scenario's pinned now, else the wall clock at start-up). One request sees one `now` however often
it asks (the first answer is kept for the rest of the request).
"""
from __future__ import annotations

from flask import g
from flask import has_request_context

from picommon import pitime
from ..archive import Archive
from .catalog import Catalog
from .entries import PointEntry
from ..pi.errors import InvalidParameterError
from ..scenario.model import Scenario
from ..settings import Settings
from .streams import Stream
from .streams import open_point_stream
from .streams import open_stream


class Simulator:
    """One scenario, served."""

    def __init__(self, scenario: Scenario, settings: Settings) -> None:
        self.scenario = scenario
        self.settings = settings
        self.limits = scenario.limits
        self.timezone = pitime.resolve_timezone(scenario.clock.timezone)
        self.catalog = Catalog(scenario)
        self.archive = Archive(scenario)
        # made here, so that under gunicorn --preload the master makes it once for every worker
        self.catalog.point_web_ids()
        self._now_override: int | None = None
        self._point_streams: dict[str, Stream] = {}
        self.started = pitime.now_ticks()
        self._origin: int | None = None  # a moving clock's simulated start (None: the wall clock)
        self._speed = float(settings.clock_speed)
        moving = settings.clock_start is not None or self._speed != 1.0
        if settings.now and moving:
            raise ValueError("--now pins the clock and --clock-speed/--clock-start run it: give one or the other")
        if not self._speed > 0:
            raise ValueError(f"--clock-speed: expected a number > 0, got {settings.clock_speed}")
        if settings.now:
            self._now_override = pitime.parse_time(settings.now, now=self.started, tz=self.timezone)
        elif moving:
            start = settings.clock_start
            self._origin = (pitime.parse_time(start, now=self.started, tz=self.timezone) if start
                            else scenario.clock.now if scenario.clock.now is not None else self.started)

    def warm(self) -> None:
        """Open every point's stream now (a few microseconds each), so that worker processes forked
        from this one (gunicorn --preload) share them instead of each building its own on first use."""
        for server in self.catalog.data_servers:
            for entry in server.points:
                self._point_streams[entry.path] = open_point_stream(entry, self.catalog, self.archive)

    # -- clock -----------------------------------------------------------------------------------

    def now(self) -> int:
        """The simulated now (ticks), the same for the whole of one request."""
        if has_request_context():
            found = g.get("pisim_now")
            if found is None:
                found = g.pisim_now = self.clock()
            return found
        return self.clock()

    def clock(self) -> int:
        """The clock as of this instant: an override, a moving clock, the scenario's fixed clock, or real time."""
        if self._now_override is not None:
            return self._now_override
        if self._origin is not None:
            return self._origin + int((pitime.now_ticks() - self.started) * self._speed)
        if self.scenario.clock.now is not None:
            return self.scenario.clock.now
        return pitime.now_ticks()

    @property
    def pinned(self) -> bool:
        """Whether the clock stands still."""
        return self._now_override is not None or (self._origin is None and self.scenario.clock.now is not None)

    def set_now(self, ticks: int | None) -> None:
        """Freeze the clock at `ticks` (None returns to the configured clock)."""
        self._now_override = ticks
        if has_request_context():
            g.pop("pisim_now", None)

    # -- lookups ---------------------------------------------------------------------------------

    def resolve(self, web_id: str):
        return self.catalog.resolve(web_id, self.now())

    def stream(self, web_id: str) -> Stream:
        """The stream a point or attribute WebID reads; 400 for other objects."""
        source = self.resolve(web_id)
        if isinstance(source, PointEntry):  # a point's stream never changes: keep it
            stream = self._point_streams.get(source.path)
            if stream is None:
                stream = self._point_streams[source.path] = open_point_stream(source, self.catalog, self.archive)
            return stream
        stream = open_stream(source, self.catalog, self.archive, self.now())
        if stream is None:
            raise InvalidParameterError(f"The WebID '{web_id}' does not name a point or attribute.")
        return stream
