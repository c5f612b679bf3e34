"""simulator.pytest_plugin: a `pi_simulator` fixture for any PI client's tests (pytest11 entry point `pi_simulator`).

    @pytest.mark.pi_scenario("qa-tiny", now="2026-11-25T00:00:00Z")
    @pytest.mark.pi_fault(name="busy", path="/piwebapi/streams/*/recorded", status=503, rate=1.0)
    def test_my_client(pi_simulator):
        response = requests.get(pi_simulator.url + "/piwebapi/dataservers")
        assert pi_simulator.admin.count({"method": "GET", "urlPath": "/piwebapi/dataservers"}) == 1

One gunicorn process per (scenario, clock) serves the whole session (reset before every test);
`pi_scenario(..., fresh=True)` or the `pi_simulator_factory` fixture starts one for a single test.
"""
from __future__ import annotations

import datetime as dt
import typing as t

import pytest

if t.TYPE_CHECKING:
    from simulator.backend import Simulator

DEFAULT_SCENARIO = "qa-tiny"
DEFAULT_NOW = "2026-11-25T00:00:00Z"


class GroundTruth:
    """What the served archive holds, computed in-process from the same scenario and clock (no HTTP)."""

    def __init__(self, scenario: str, now: str | None) -> None:
        self.scenario = scenario
        self.now = now
        self._simulator: Simulator | None = None

    @property
    def simulator(self) -> Simulator:
        """The in-process `simulator.backend.Simulator` (catalog, archive, clock)."""
        if self._simulator is None:
            from simulator.backend import Simulator
            from simulator.scenario import load_scenario
            from simulator.settings import Settings

            self._simulator = Simulator(load_scenario(self.scenario), Settings(now=self.now))
        return self._simulator

    def point(self, tag: str):
        """The catalog entry of a tag (case-insensitive); KeyError naming the known tags."""
        for server in self.simulator.catalog.data_servers:
            for entry in server.points:
                if entry.name.lower() == tag.lower():
                    return entry
        known = ", ".join(e.name for s in self.simulator.catalog.data_servers for e in s.points[:20])
        raise KeyError(f"no tag {tag!r} in scenario {self.scenario!r} (it has: {known}...)")

    def web_id(self, tag: str) -> str:
        return self.point(tag).web_id()

    def recorded(self, tag: str, start: str | dt.datetime, end: str | dt.datetime) -> list[dict]:
        """Every recorded value of `tag` with start <= t < end, as PI Web API items (Timestamp,
        Value, Good, Questionable, Substituted, Annotated, UnitsAbbreviation...), in archive order.
        Times are datetimes (naive: UTC), ISO 8601 or PI times ("*-1h") on the served clock."""
        import orjson

        from simulator.pi.encoder import items
        from simulator.backend.streams import open_stream

        sim = self.simulator
        now = sim.now()
        stream = open_stream(self.point(tag), sim.catalog, sim.archive, now)
        assert stream is not None and stream.archive is not None, f"{tag!r} is a PI point: it has an archive"
        lo, hi = _ticks(start, now), _ticks(end, now)
        events = stream.archive.recorded(lo, hi, now, max_count=10**9)
        events = events.take(events.ticks < hi)
        return [orjson.loads(text) for text in items(events, stream.fmt)]


def _ticks(value: str | dt.datetime, now: int) -> int:
    """ISO 8601 (7 fraction digits exact) or a PI time ("*-1h", "t") against the served clock."""
    from picommon import pitime

    if isinstance(value, str):
        return pitime.parse_time(value, now=now)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return pitime.to_ticks(value)


class PISimulator:
    """A running simulator: `url` (its root; PI Web API under `url + "/piwebapi"`), `admin` (the
    /__admin client: stubs, faults, journal, reset) and `truth` (the archive's ground truth)."""

    def __init__(self, scenario: str, now: str | None) -> None:
        from simulator.mock.admin import AdminClient
        from simulator.testing import SimulatorProcess

        env = {"PISIM_NOW": now} if now else {}
        self.scenario = scenario
        self.now = now
        self.process = SimulatorProcess(scenario, env=env)
        self.url = self.process.url
        self.piwebapi = self.url + "/piwebapi"
        self.admin = AdminClient(self.url)
        self.truth = GroundTruth(scenario, now)

    def fault(self, **fields: object) -> dict:
        """Add a runtime fault rule (the scenario's `faults:` fields; `name` required)."""
        return self.admin.add_fault(**fields)

    def stub(self, mapping: dict) -> dict:
        """Add a WireMock-style stub mapping ({"request": {...}, "response": {...}})."""
        return self.admin.stub(mapping)

    def reset(self) -> None:
        self.admin.reset()

    def stop(self) -> None:
        self.admin.session.close()
        self.process.stop()

    def __repr__(self) -> str:
        return f"PISimulator({self.scenario!r}, now={self.now!r}, url={self.url!r})"


class Factory:
    """Starts simulators: shared ones (per scenario and clock, stopped at the session's end) and
    fresh ones (stopped by `close`)."""

    def __init__(self) -> None:
        self.shared: dict[tuple[str, str | None], PISimulator] = {}
        self.fresh: list[PISimulator] = []

    def __call__(self, scenario: str = DEFAULT_SCENARIO, now: str | None = DEFAULT_NOW, *,
                 fresh: bool = True) -> PISimulator:
        if not fresh:
            key = (scenario, now)
            if key not in self.shared:
                self.shared[key] = PISimulator(scenario, now)
            return self.shared[key]
        started = PISimulator(scenario, now)
        self.fresh.append(started)
        return started

    def close(self, everything: bool = False) -> None:
        for running in self.fresh:
            running.stop()
        self.fresh = []
        if everything:
            for running in self.shared.values():
                running.stop()
            self.shared = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("pi_scenario", f"scenario pi_simulator serves by default ({DEFAULT_SCENARIO})",
                  default=DEFAULT_SCENARIO)
    parser.addini("pi_now", f"pinned clock of pi_simulator ({DEFAULT_NOW}; 'live' for the real clock)",
                  default=DEFAULT_NOW)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "pi_scenario(name, now=..., fresh=False): the scenario and pinned clock "
                            "pi_simulator serves (fresh=True: a process for this test alone)")
    config.addinivalue_line("markers", "pi_fault(**rule): a fault rule added before the test (name, path, status...)")
    config.addinivalue_line("markers", "pi_stub(mapping): a stub mapping added before the test")


@pytest.fixture(scope="session")
def _pi_simulators() -> t.Iterator[Factory]:
    factory = Factory()
    yield factory
    factory.close(everything=True)


@pytest.fixture()
def pi_simulator_factory(_pi_simulators: Factory) -> t.Iterator[Factory]:
    """Call it to start a simulator for this test alone: `pi_simulator_factory("default", now=None)`."""
    yield _pi_simulators
    _pi_simulators.close()


@pytest.fixture()
def pi_simulator(request: pytest.FixtureRequest, _pi_simulators: Factory) -> t.Iterator[PISimulator]:
    """A simulator under gunicorn on a free loopback port, reset, with the test's faults and stubs."""
    marker = request.node.get_closest_marker("pi_scenario")
    scenario = request.config.getini("pi_scenario")
    now: str | None = request.config.getini("pi_now")
    fresh = False
    if marker is not None:
        scenario = marker.args[0] if marker.args else marker.kwargs.get("name", scenario)
        now = marker.kwargs.get("now", now)
        fresh = bool(marker.kwargs.get("fresh", False))
    if now in ("", "live"):
        now = None
    running = PISimulator(scenario, now) if fresh else _pi_simulators(scenario, now, fresh=False)
    running.reset()
    for mark in reversed(list(request.node.iter_markers("pi_fault"))):
        running.fault(**mark.kwargs)
    for mark in reversed(list(request.node.iter_markers("pi_stub"))):
        for mapping in mark.args:
            running.stub(mapping)
    yield running
    if fresh:
        running.stop()
