"""simulator.backend: the Simulator object, everything a request needs and nothing of HTTP.

Holds the scenario, catalog, archive and clock. Routes find it at app.extensions["pisim"].
"""
from __future__ import annotations

from . import pitime
from .archive import Archive
from .catalog import Catalog
from .catalog import PointEntry
from .errors import InvalidParameterError
from .scenario.model import Scenario
from .settings import Settings
from .streams import Stream
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
        if settings.now:
            self._now_override = pitime.parse_time(settings.now, now=pitime.now_ticks())
        self.started = pitime.now_ticks()

    def warm(self) -> None:
        """Open every point's stream now (a few microseconds each), so that worker processes forked
        from this one (gunicorn --preload) share them instead of each building its own on first use."""
        for server in self.catalog.data_servers:
            for entry in server.points:
                self._point_streams[entry.path] = open_stream(entry, self.catalog, self.archive, 0)

    # -- clock -----------------------------------------------------------------------------------

    def now(self) -> int:
        """The simulated now: an override, the scenario's fixed clock, or real time."""
        if self._now_override is not None:
            return self._now_override
        if self.scenario.clock.now is not None:
            return self.scenario.clock.now
        return pitime.now_ticks()

    def set_now(self, ticks: int | None) -> None:
        """Freeze the clock at `ticks` (None returns to the scenario's clock)."""
        self._now_override = ticks

    # -- lookups ---------------------------------------------------------------------------------

    def resolve(self, web_id: str):
        return self.catalog.resolve(web_id, self.now())

    def stream(self, web_id: str) -> Stream:
        """The stream a point or attribute WebID reads; 400 for other objects."""
        source = self.resolve(web_id)
        if isinstance(source, PointEntry):  # a point's stream never changes: keep it
            stream = self._point_streams.get(source.path)
            if stream is None:
                stream = self._point_streams[source.path] = open_stream(source, self.catalog, self.archive, 0)
            return stream
        stream = open_stream(source, self.catalog, self.archive, self.now())
        if stream is None:
            raise InvalidParameterError(f"The WebID '{web_id}' does not name a point or attribute.")
        return stream
