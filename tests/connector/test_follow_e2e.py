"""Follow mode end to end: the connector keeps `recorded_values` current from Stream Updates
against a living archive (living.yaml: late values, edits, deletions, buffered backfills) whose
pinned clock the test moves between runs; after every run the table equals, value by value, the
archive as of that run's time. An expired marker falls back to the lookback re-read, still exact."""
from __future__ import annotations

import dataclasses

import pytest
from click.testing import CliRunner

from connector.cli import main
from connector.config import ConnectorConfig
from connector.config import load_config
from connector.errors import ConfigError
from connector.runner import extract
from connector.sink import DeltaSink
from picommon import pitime
from simulator.backend import Simulator
from simulator.scenario import load_scenario
from simulator.settings import Settings

from tests.conftest import contract_app
from tests.conftest import serve
from tests.connector.groundtruth import NS_PER_TICK
from tests.connector.groundtruth import expected_rows
from tests.connector.groundtruth import table_rows

pytestmark = pytest.mark.e2e

START = "2026-11-25T03:00:00Z"
TAGS = ["LIVE.FLOW", "LIVE.TEMP", "LIVE.COUNT", "LIVE.STATE", "LIVE.BATCH", "CONTROL.SINE"]
MINUTE = 60 * 10**7


@pytest.fixture()
def living():
    scenario = load_scenario("living", now="2026-11-25T06:00:00Z")
    app = contract_app(scenario)
    with serve(app) as url:
        yield scenario, app, url


def config(url: str, lake) -> ConnectorConfig:
    return ConnectorConfig.from_dict({
        "source": {"url": url + "/piwebapi", "retry": {"attempts": 3, "backoff": 0.01, "max_backoff": 0.1}},
        "destination": {"uri": str(lake)},
        "tags": [{"names": TAGS}],
        # the lookback (used only when a marker is lost) covers the scenario's longest change (1 h)
        "recorded": {"start": START, "end": "*", "lookback": "2h", "mode": "follow"},
        "af": {"enabled": False},
        "event_frames": {"enabled": False},
    })


def truth_at(scenario, ticks: int) -> list[tuple]:
    pinned = dataclasses.replace(scenario, clock=dataclasses.replace(scenario.clock, now=ticks))
    start = pitime.parse_time(START, now=0) * NS_PER_TICK
    return expected_rows(Simulator(pinned, Settings()), start, ticks * NS_PER_TICK, TAGS)


def held(lake, scenario, ticks: int) -> list[tuple]:
    start = pitime.parse_time(START, now=0) * NS_PER_TICK
    return [r for r in table_rows(DeltaSink(str(lake)), TAGS) if start <= r[1] < ticks * NS_PER_TICK]


def test_follow_runs_keep_the_table_equal_to_the_archive_as_of_each_run(living, tmp_path):
    scenario, app, url = living
    server = app.extensions["pisim"]
    cfg = config(url, tmp_path)
    when = server.now()
    first = extract(cfg)
    assert first.status == "succeeded" and (tmp_path / "_follow_markers.json").exists()
    assert held(tmp_path, scenario, when) == truth_at(scenario, when)
    changed = 0
    for step in range(5):
        before = truth_at(scenario, when)
        when += 9 * MINUTE + step * 17 * 10**7
        server.set_now(when)
        report = extract(cfg)
        assert report.status == "succeeded"
        expected = truth_at(scenario, when)
        changed += len(set(before) - set(expected))  # rows edited or deleted since the last run
        assert held(tmp_path, scenario, when) == expected
    assert changed > 0  # the archive did change under the table, not only grow


def test_an_expired_marker_falls_back_to_the_lookback_and_stays_exact(living, tmp_path):
    scenario, app, url = living
    server, registry = app.extensions["pisim"], app.extensions["pisim.updates"]
    cfg = config(url, tmp_path)
    when = server.now()
    extract(cfg)
    when += 25 * MINUTE
    server.set_now(when)
    lifetime = registry.lifetime
    registry.lifetime = -1  # every marker issued so far has expired: 404 "Cache not found"
    report = extract(cfg)
    registry.lifetime = lifetime
    assert report.status == "succeeded"
    assert held(tmp_path, scenario, when) == truth_at(scenario, when)
    when += 11 * MINUTE
    server.set_now(when)
    extract(cfg)  # the markers registered again by the fallback work
    assert held(tmp_path, scenario, when) == truth_at(scenario, when)


def test_run_follow_on_the_command_line_registers_and_later_applies_updates(living, tmp_path):
    scenario, app, url = living
    server = app.extensions["pisim"]
    path = tmp_path / "c.yaml"
    lake = tmp_path / "lake"
    path.write_text(f"source: {{url: '{url}/piwebapi'}}\ndestination: {{uri: '{lake}'}}\n"
                    f"tags: [{{names: [LIVE.FLOW]}}]\nrecorded: {{start: '{START}', end: '*', lookback: 2h}}\n"
                    "af: {enabled: false}\nevent_frames: {enabled: false}\n")
    for minutes in (0, 13):
        server.set_now(server.now() + minutes * MINUTE)
        result = CliRunner().invoke(main, ["run", str(path), "--follow", "--no-progress"])
        assert result.exit_code == 0, result.output
        assert (lake / "_follow_markers.json").exists()
        when = server.now()
        assert held(lake, scenario, when) == [r for r in truth_at(scenario, when) if r[0] == "LIVE.FLOW"]


def test_a_bad_recorded_mode_names_its_line_and_field(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("source: {url: 'http://127.0.0.1:1/piwebapi'}\ndestination: {uri: x}\n"
                    "recorded:\n  mode: sideways\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert str(info.value).startswith(f"{path}:4: recorded.mode: must be one of: lookback, follow")


def test_events_retrieved_again_after_a_crash_before_the_markers_were_saved_change_nothing(living, tmp_path):
    scenario, app, url = living
    server = app.extensions["pisim"]
    cfg = config(url, tmp_path)
    extract(cfg)
    markers = tmp_path / "_follow_markers.json"
    when = server.now() + 20 * MINUTE
    server.set_now(when)
    saved = markers.read_text()
    extract(cfg)
    exact = held(tmp_path, scenario, when)
    assert exact == truth_at(scenario, when)
    markers.write_text(saved)  # as if the run had died between its Delta commit and the marker file
    report = extract(cfg)
    assert report.tables["recorded_values"].rows > 0  # the same events came again and were applied again
    assert held(tmp_path, scenario, when) == exact
