"""The simulator's clock: moving by default, pinned by --now / PISIM_NOW / clock.now, fast with
--clock-speed from --clock-start; values appear as it moves and never beyond it, on every read path;
a past window gives the same bytes live and pinned."""
from __future__ import annotations

import orjson
import pytest
import requests

from picommon import pitime
from simulator.backend import Simulator
from simulator.scenario import load_scenario
from simulator.scenario.model import TICKS_PER_SECOND
from simulator.settings import Settings
from simulator.testing import GroundTruth
from simulator.testing import SimulatorProcess

from tests.conftest import PINNED
from tests.conftest import contract_app

NOW = pitime.parse_time(PINNED, now=0)
MINUTE = 60 * TICKS_PER_SECOND
HOUR = 60 * MINUTE


class FakeWall:
    """A wall clock the test moves by hand (monkeypatched into pitime.now_ticks)."""

    def __init__(self, monkeypatch, ticks: int) -> None:
        self.ticks = ticks
        monkeypatch.setattr(pitime, "now_ticks", lambda: self.ticks)

    def advance(self, ticks: int) -> None:
        self.ticks += ticks


def ts(text: str) -> int:
    return pitime.parse_time(text, now=NOW)


def web_id(sim: Simulator, tag: str) -> str:
    return sim.catalog.data_servers[0].by_name[tag.lower()].web_id()


def get(client, path: str, **params) -> dict:
    response = client.get(path, query_string=params or None)
    assert response.status_code == 200, response.get_data(as_text=True)
    return orjson.loads(response.get_data())


# -- which clock -------------------------------------------------------------------------------------

def test_the_default_scenario_follows_the_wall_clock(monkeypatch):
    wall = FakeWall(monkeypatch, ts("2026-12-04T10:00:00Z"))
    sim = Simulator(load_scenario("default"), Settings())
    assert not sim.pinned and sim.now() == wall.ticks
    wall.advance(90 * TICKS_PER_SECOND)
    assert sim.now() == ts("2026-12-04T10:01:30Z")


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-25T00:00:00Z", "2026-11-25T00:00:00Z"),
    ("2026-11-25T11:00:00+11:00", "2026-11-25T00:00:00Z"),
    ("*-1d", "2026-12-03T10:00:00Z"),
    ("t", "2026-12-03T13:00:00Z"),  # today in the scenario's zone (Sydney, +11:00)
])
def test_now_pins_the_clock_in_iso_and_pi_time(monkeypatch, text, expected):
    wall = FakeWall(monkeypatch, ts("2026-12-04T10:00:00Z"))
    app = contract_app("default", now=text)
    sim = app.extensions["pisim"]
    assert sim.pinned and sim.scenario.clock.now == ts(expected)
    wall.advance(HOUR)
    assert sim.now() == ts(expected)
    assert get(app.test_client(), "/piwebapi/system/status")["ServerTime"] == expected


def test_a_fast_clock_runs_from_its_start(monkeypatch):
    wall = FakeWall(monkeypatch, ts("2026-12-04T10:00:00Z"))
    sim = Simulator(load_scenario("default"), Settings(clock_speed=60.0, clock_start="2026-11-25T00:00:00Z"))
    assert sim.now() == NOW
    wall.advance(10 * TICKS_PER_SECOND)
    assert sim.now() == NOW + 10 * MINUTE
    # without --clock-start a pinned scenario's now is the start
    sim = Simulator(load_scenario("qa-tiny"), Settings(clock_speed=3600.0))
    wall.advance(TICKS_PER_SECOND)
    assert sim.now() == NOW + HOUR


@pytest.mark.parametrize(("settings", "words"), [
    (Settings(now=PINNED, clock_speed=2.0), "give one or the other"),
    (Settings(clock_speed=0.0), "expected a number > 0"),
    (Settings(clock_start="whenever"), "whenever"),
])
def test_contradictory_or_bad_clock_settings_are_refused(settings, words):
    with pytest.raises(ValueError, match=words):
        Simulator(load_scenario("qa-tiny"), settings)


def test_one_request_sees_one_now(monkeypatch):
    wall = FakeWall(monkeypatch, NOW)
    app = contract_app("qa-tiny", clock_speed=1.0, clock_start=PINNED)
    sim = app.extensions["pisim"]
    with app.test_request_context("/piwebapi/system"):
        first = sim.now()
        wall.advance(HOUR)
        assert sim.now() == first
    assert sim.now() == first + HOUR


# -- values appear as the clock moves, never beyond it ---------------------------------------------

def test_recorded_values_appear_as_the_clock_moves(monkeypatch):
    wall = FakeWall(monkeypatch, NOW)
    app = contract_app("qa-tiny", clock_speed=1.0, clock_start=PINNED)
    client, sim = app.test_client(), app.extensions["pisim"]
    path = f"/piwebapi/streams/{web_id(sim, 'TINY.FLOAT64')}/recorded"
    window = {"startTime": "2026-11-25T00:00:00Z", "endTime": "2026-11-25T01:00:00Z", "maxCount": 10000}
    seen = []
    for _ in range(6):
        wall.advance(10 * MINUTE)
        items = get(client, path, **window)["Items"]
        now = pitime.format_time(sim.now())
        assert items and all(item["Timestamp"] <= now for item in items)
        assert items[:len(seen)] == seen  # what was there stays there
        assert len(items) > len(seen)
        seen = items
    snapshot = get(client, f"/piwebapi/streams/{web_id(sim, 'TINY.FLOAT64')}/end")
    assert snapshot == seen[-1]
    assert get(client, "/piwebapi/system/status")["ServerTime"] == "2026-11-25T01:00:00Z"


def read_paths(sim: Simulator, tag: str, start: str, end: str) -> dict[str, str]:
    """Every read path over one window (and the snapshot), as path -> query."""
    w = web_id(sim, tag)
    window = f"startTime={start}&endTime={end}"
    return {
        "recorded": f"/piwebapi/streams/{w}/recorded?{window}&maxCount=100000",
        "interpolated": f"/piwebapi/streams/{w}/interpolated?{window}&interval=1m",
        "summary": f"/piwebapi/streams/{w}/summary?{window}&summaryType=All&summaryDuration=10m",
        "plot": f"/piwebapi/streams/{w}/plot?{window}&intervals=20",
        "streamsets": f"/piwebapi/streamsets/recorded?webId={w}&{window}&maxCount=100000",
        "streamsets-interpolated": f"/piwebapi/streamsets/interpolated?webId={w}&{window}&interval=1m",
        "streamsets-summary": f"/piwebapi/streamsets/summary?webId={w}&{window}&summaryType=Average",
        "value": f"/piwebapi/streams/{w}/value?time={end}",
        "recordedattime": f"/piwebapi/streams/{w}/recordedattime?time={end}&retrievalMode=AtOrBefore",
    }


def timestamps(body: object) -> list[str]:
    found = []
    if isinstance(body, dict):
        for key, value in body.items():
            if key == "Timestamp":
                found.append(value)
            else:
                found += timestamps(value)
    elif isinstance(body, list):
        for item in body:
            found += timestamps(item)
    return found


@pytest.mark.parametrize("tag", ["TINY.FLOAT64", "TINY.STEP", "TINY.DIGITAL", "TINY.SUBSECOND"])
def test_no_read_path_shows_a_recorded_value_after_now(monkeypatch, tag):
    FakeWall(monkeypatch, NOW)
    app = contract_app("qa-tiny", clock_speed=1.0, clock_start="2026-11-24T12:00:00Z")
    client, sim = app.test_client(), app.extensions["pisim"]
    now = "2026-11-24T12:00:00Z"
    paths = read_paths(sim, tag, "2026-11-24T11:00:00Z", "2026-11-24T13:00:00Z")
    for name in ("recorded", "plot", "streamsets"):
        stamps = timestamps(get(client, paths[name]))
        assert stamps and max(stamps) <= now, name
    # the computed reads answer No Data for times more than the snapshot's 10 minutes after now
    late = [item for item in get(client, paths["interpolated"])["Items"] if item["Timestamp"] > "2026-11-24T12:10:00Z"]
    assert late and all(item["Value"]["Name"] == "No Data" for item in late)
    value = get(client, paths["value"])
    assert value["Value"]["Name"] == "No Data"
    at = get(client, paths["recordedattime"])
    assert at["Timestamp"] <= now
    batch = client.post("/piwebapi/batch", data=orjson.dumps({"r": {"Method": "GET", "Resource": paths["recorded"]}}),
                        headers={"X-Requested-With": "test"}, content_type="application/json")
    stamps = timestamps(orjson.loads(batch.get_data())["r"]["Content"])
    assert stamps and max(stamps) <= now


def test_a_past_window_gives_the_same_bytes_live_and_pinned(monkeypatch):
    FakeWall(monkeypatch, ts("2026-12-04T10:00:00Z"))
    live = contract_app("default")
    pinned = contract_app("default", now=PINNED)
    assert not live.extensions["pisim"].pinned and pinned.extensions["pisim"].pinned
    for tag in ("SYD.U1.P01.FT", "MEL.U1.STATUS", "BNE.OPERATOR", "MEL.U2.P01.PT"):  # MEL has a shutdown then
        for name, path in read_paths(live.extensions["pisim"], tag, "2026-11-21T18:00:00Z",
                                     "2026-11-22T03:00:00Z").items():
            a, b = live.test_client().get(path), pinned.test_client().get(path)
            assert a.status_code == b.status_code == 200, (name, a.get_data(as_text=True))
            assert a.get_data() == b.get_data(), (tag, name)


def test_make_simulate_serves_the_wall_clocks_last_hour():
    """The issue's new user: the default scenario under gunicorn, a client asking for the last hour
    of real time by absolute times gets values, none after ServerTime."""
    with SimulatorProcess("default") as server:
        before = pitime.now_ticks()
        system = requests.get(server.url + "/piwebapi/system/status", timeout=30).json()
        server_time = pitime.parse_time(system["ServerTime"], now=0)
        assert abs(server_time - before) < 60 * TICKS_PER_SECOND
        points = requests.get(server.url + "/piwebapi/dataservers", timeout=30).json()["Items"][0]["Links"]["Points"]
        tag = requests.get(points, params={"nameFilter": "SYD.U1.P01.FT"}, timeout=30).json()["Items"][0]
        start, end = pitime.format_time(before - HOUR), pitime.format_time(before)
        items = requests.get(server.url + f"/piwebapi/streams/{tag['WebId']}/recorded",
                             params={"startTime": start, "endTime": end}, timeout=30).json()["Items"]
        truth = GroundTruth("default", now=pitime.now_ticks()).items("SYD.U1.P01.FT", start, end)
        assert items == truth and len(items) > 300  # 5 s spacing, 95% kept: ~680 an hour, fewer in an outage
        stamps = [pitime.parse_time(item["Timestamp"], now=0) for item in items]
        assert all(before - HOUR <= stamp <= before for stamp in stamps)  # as times: strings mis-order ".5Z" and "Z"


def test_a_fast_clock_under_gunicorn_moves_server_time():
    env = {"PISIM_CLOCK_SPEED": "100000", "PISIM_CLOCK_START": PINNED}
    with SimulatorProcess("qa-tiny", env=env) as server:
        first = requests.get(server.url + "/piwebapi/system/status", timeout=30).json()["ServerTime"]
        second = first
        for _ in range(100):  # each round trip takes real time, and a real ms is 100 simulated s
            second = requests.get(server.url + "/piwebapi/system/status", timeout=30).json()["ServerTime"]
            if second > first:
                break
        assert PINNED < first < second


def test_pi_sim_serve_flags_pin_or_speed_up_the_clock():
    import subprocess
    import sys

    from simulator.testing import ROOT
    from simulator.testing import free_port
    from simulator.testing import wait_for_health

    for flags, check in ((["--now", "2026-11-20T06:00:00Z"], lambda a, b: a == b == "2026-11-20T06:00:00Z"),
                         (["--clock-speed", "100000", "--clock-start", "2026-11-20T06:00:00Z"],
                          lambda a, b: "2026-11-20T06:00:00Z" < a < b)):
        port = free_port()
        process = subprocess.Popen([sys.executable, "-m", "simulator.cli", "serve", "-s", "qa-tiny", "-p", str(port),
                                    *flags], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_for_health(url, process)
            first = requests.get(url + "/piwebapi/system/status", timeout=30).json()["ServerTime"]
            requests.get(url + "/piwebapi/dataservers", timeout=30)
            second = requests.get(url + "/piwebapi/system/status", timeout=30).json()["ServerTime"]
            assert check(first, second), (flags, first, second)
        finally:
            process.terminate()
            process.wait(10)


@pytest.mark.parametrize(("flags", "words"), [
    (["--now", "whenever"], "'whenever' is not valid"),
    (["--now", PINNED, "--clock-speed", "2"], "give one or the other"),
    (["--clock-speed", "-1"], "expected a number > 0"),
])
def test_pi_sim_serve_refuses_a_bad_clock_with_exit_2(flags, words):
    from click.testing import CliRunner

    from simulator.cli import main

    result = CliRunner().invoke(main, ["serve", "-s", "qa-tiny", "-p", "1", *flags])
    assert result.exit_code == 2 and words in result.output, result.output
