"""End to end: event_frames and event_frame_attributes.

With tests/scenarios/realtime-frames.yaml (a 3 s frame every 5 s, served in process with a pinned
clock that each test moves between runs, so nothing waits for the wall clock), a frame the first
run saw open has closed by the second run: its row is updated in place, not duplicated, and a
later run reads only the frames of its own window. With qa-tiny (fixed clock) the explicit frames
land with the attribute values the simulator serves."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import orjson
import pytest
import requests

from connector.config import ConnectorConfig
from connector.context import NS
from connector.paging import format_ns, parse_ns
from connector.runner import extract
from connector.sink import DeltaSink
from connector.state import Checkpoints
from picommon import pitime
from simulator.scenario import load_scenario
from tests.conftest import contract_app
from tests.conftest import serve

pytestmark = pytest.mark.e2e

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "realtime-frames.yaml"
OPEN_END = "9999-12-31T23:59:59Z"
UTC = dt.timezone.utc
DATABASE = "\\\\PIAF01\\RealtimeDB"
# the scenario loads at LOADED: its schedule ("*-1m", every 5 s, 3 s long) starts a frame at LOADED
LOADED = "2026-11-25T06:00:00Z"
SECOND = pitime.TICKS_PER_SECOND


class Realtime:
    """realtime-frames.yaml served on a loopback port (`url`), its clock pinned and moved by the test."""

    def __init__(self, app, url: str) -> None:
        self.backend = app.extensions["pisim"]
        self.loaded = self.backend.now()
        self.url = url

    def at(self, seconds: float) -> None:
        """Set the server's clock to LOADED + `seconds`."""
        self.backend.set_now(self.loaded + int(seconds * SECOND))


@pytest.fixture()
def realtime():
    app = contract_app(load_scenario(SCENARIO, now=LOADED))
    with serve(app) as url:
        yield Realtime(app, url)


def config(url: str, lake, **frames) -> ConnectorConfig:
    return ConnectorConfig.from_dict({
        "source": {"url": url + "/piwebapi", "retry": {"attempts": 4, "backoff": 0.01, "max_backoff": 0.1}},
        "destination": {"uri": str(lake)},
        "recorded": {"enabled": False},
        "af": {"enabled": False},
        "event_frames": {"enabled": True, **frames},
    })


def frames(sink: DeltaSink) -> list[dict]:
    return sink.read("event_frames").to_pylist()


def attributes(sink: DeltaSink) -> list[dict]:
    return sink.read("event_frame_attributes").to_pylist()


def served(url: str, resource: str, **params) -> dict:
    answer = requests.get(f"{url}/piwebapi/{resource}", params=params, timeout=10)
    answer.raise_for_status()
    return answer.json()


def server_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def check_unique(sink: DeltaSink) -> None:
    rows = frames(sink)
    assert len({r["web_id"] for r in rows}) == len(rows)
    keys = [(r["event_frame_web_id"], r["name"]) for r in attributes(sink)]
    assert len(set(keys)) == len(keys)


# ---------------------------------------------------------------------------------- real time


def test_a_frame_seen_open_is_updated_when_it_closes_not_duplicated(realtime, tmp_path):
    cfg = config(realtime.url, tmp_path, start="*-30s", lookback="2s")
    sink = DeltaSink(str(tmp_path))

    realtime.at(1)  # the frame that started at LOADED is in progress (it ends at LOADED + 3 s)
    extract(cfg)
    open_rows = [r for r in frames(sink) if r["is_open"]]
    assert len(open_rows) == 1
    check_unique(sink)
    frame = open_rows[0]
    assert frame["end_time"] is None and frame["name"].startswith("CYCLE-")
    first_cursor = Checkpoints(sink).load("event_frames")[DATABASE].cursor_ns
    mine = [a for a in attributes(sink) if a["event_frame_web_id"] == frame["web_id"]]
    assert sorted(a["name"] for a in mine) == ["Product", "Target", "Temperature"]
    assert len(attributes(sink)) == 3 * len(frames(sink))

    assert served(realtime.url, f"eventframes/{frame['web_id']}", selectedFields="EndTime")["EndTime"] == OPEN_END
    realtime.at(4.5)  # it has ended
    end_text = served(realtime.url, f"eventframes/{frame['web_id']}", selectedFields="EndTime")["EndTime"]
    assert server_time(end_text) == server_time(LOADED) + dt.timedelta(seconds=3)

    extract(cfg)
    check_unique(sink)
    after = [r for r in frames(sink) if r["web_id"] == frame["web_id"]]
    assert len(after) == 1
    closed = after[0]
    assert closed["is_open"] is False
    assert closed["end_time"] == server_time(end_text)
    assert closed["end_time"] - closed["start_time"] == dt.timedelta(seconds=3)
    assert (closed["name"], closed["start_time"]) == (frame["name"], frame["start_time"])
    # the frame's attribute rows were replaced by key, not added to
    mine_after = [a for a in attributes(sink) if a["event_frame_web_id"] == frame["web_id"]]
    assert sorted(a["name"] for a in mine_after) == ["Product", "Target", "Temperature"]
    assert len(attributes(sink)) == 3 * len(frames(sink))
    by_name = {a["name"]: a for a in mine_after}
    assert by_name["Product"]["value_string"] in ("Apple", "Banana", "Cherry")
    assert 10 <= by_name["Target"]["value_numeric"] <= 20 and by_name["Target"]["units"] == "kg"
    assert by_name["Temperature"]["data_reference"] == "PI Point" and by_name["Temperature"]["units"] == "degC"
    assert 44.0 <= by_name["Temperature"]["value_numeric"] <= 56.0
    assert by_name["Product"]["value_string"] == {a["name"]: a for a in mine}["Product"]["value_string"]
    # the search window of the database moved on
    second_cursor = Checkpoints(sink).load("event_frames")[DATABASE].cursor_ns
    assert second_cursor > first_cursor
    assert second_cursor >= parse_ns(end_text)


def test_frames_that_ended_before_the_lookback_are_not_read_again(realtime, tmp_path):
    cfg = config(realtime.url, tmp_path, start="*-40s", lookback="1s")
    sink = DeltaSink(str(tmp_path))
    realtime.at(1)
    report = extract(cfg)
    first = {r["web_id"]: r for r in frames(sink)}
    assert report.tables["event_frames"].rows == len(first) == 9  # LOADED - 40 s .. LOADED + 1 s
    cursor_ns = Checkpoints(sink).load("event_frames")[DATABASE].cursor_ns
    assert cursor_ns == parse_ns(LOADED) + NS
    realtime.at(2.2)
    report = extract(cfg)
    # the second run reads exactly what overlaps [cursor - 1 s, its server time], not the 40 s again
    database = served(realtime.url, "assetdatabases", path=DATABASE, selectedFields="WebId")["WebId"]
    end = report.server_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    window = served(realtime.url, f"assetdatabases/{database}/eventframes", searchMode="Overlapped",
                    startTime=format_ns(cursor_ns - NS), endTime=end,
                    selectedFields="Items.Name")["Items"]
    assert report.tables["event_frames"].rows == len(window) == 1  # the frame that started at LOADED
    check_unique(sink)
    rows = {r["web_id"]: r for r in frames(sink)}
    assert set(first) <= set(rows)
    assert {w["Name"] for w in window} <= {r["name"] for r in rows.values()}
    old = [w for w, r in first.items() if not r["is_open"]]
    assert all(rows[w]["end_time"] == first[w]["end_time"] for w in old)


# ------------------------------------------------------------------------------------ qa-tiny


def test_qa_tiny_frames_and_their_attribute_values(sim_url, tmp_path):
    cfg = config(sim_url, tmp_path, start="2026-11-23T00:00:00Z")
    sink = DeltaSink(str(tmp_path))
    report = extract(cfg)
    assert report.tables["event_frames"].rows == 3
    assert report.tables["event_frame_attributes"].rows == 6
    rows = {r["name"]: r for r in frames(sink)}
    assert sorted(rows) == ["BATCH-001", "BATCH-002", "BATCH-003"]
    assert (rows["BATCH-001"]["start_time"], rows["BATCH-001"]["end_time"]) == (
        dt.datetime(2026, 11, 24, 1, tzinfo=UTC), dt.datetime(2026, 11, 24, 5, 30, tzinfo=UTC))
    assert rows["BATCH-003"]["is_open"] is True and rows["BATCH-003"]["end_time"] is None
    assert rows["BATCH-003"]["severity"] == "Information" and rows["BATCH-001"]["severity"] == "None"
    assert {r["database"] for r in rows.values()} == {"TinyDB"} and {r["template"] for r in rows.values()} == {"Batch"}
    assert rows["BATCH-001"]["path"] == "\\\\PIAF01\\TinyDB\\EventFrames[BATCH-001]"

    # referenced elements are the AF elements' WebIDs, the first one primary
    tanks = {}
    for name in ("Tank1", "Tank2"):
        tanks[name] = served(sim_url, "elements", path=f"\\\\PIAF01\\TinyDB\\Plant\\{name}", webIdType="IDOnly",
                             selectedFields="WebId")["WebId"]
    assert rows["BATCH-001"]["ref_element_web_ids"] == [tanks["Tank1"]]
    assert rows["BATCH-003"]["ref_element_web_ids"] == [tanks["Tank1"], tanks["Tank2"]]
    assert rows["BATCH-003"]["primary_element_web_id"] == tanks["Tank1"]

    # every attribute row equals what GET streamsets/{frame}/value serves
    stored = {(a["event_frame_web_id"], a["name"]): a for a in attributes(sink)}
    assert len(stored) == 6
    for frame in rows.values():
        values = served(sim_url, f"streamsets/{frame['web_id']}/value", webIdType="IDOnly")["Items"]
        assert sorted(v["Name"] for v in values) == ["Operator", "Product"]
        for v in values:
            row = stored[(frame["web_id"], v["Name"])]
            value = v["Value"]
            assert row["web_id"] == v["WebId"] and row["path"] == v["Path"]
            assert orjson.loads(row["value_json"]) == value["Value"]
            assert row["value_string"] == value["Value"] and row["value_numeric"] is None
            assert row["timestamp"] == server_time(value["Timestamp"])
            assert row["good"] is value["Good"]
            assert row["units"] == (value.get("UnitsAbbreviation") or v.get("UnitsAbbreviation") or "")
            assert row["data_reference"] is None and row["type"] == "String"
    assert {(n, a["value_string"]) for (w, n), a in stored.items() if w == rows["BATCH-002"]["web_id"]} == {
        ("Product", "Bravo"), ("Operator", "Bob")}


def test_qa_tiny_second_run_keeps_everything_once(sim_url, tmp_path):
    cfg = config(sim_url, tmp_path, start="2026-11-23T00:00:00Z", lookback="12h")
    sink = DeltaSink(str(tmp_path))
    extract(cfg)
    before = sorted((r["web_id"], r["is_open"], r["end_time"]) for r in frames(sink))
    cursor = Checkpoints(sink).load("event_frames")
    assert {k: c.cursor_ns for k, c in cursor.items()} == {"\\\\PIAF01\\TinyDB": parse_ns("2026-11-25T00:00:00Z")}
    report = extract(cfg)
    # lookback 12 h from the fixed now: BATCH-002 (ended 14:00) and BATCH-003 (open) are read again
    assert report.tables["event_frames"].rows == 2
    assert sorted((r["web_id"], r["is_open"], r["end_time"]) for r in frames(sink)) == before
    assert len(attributes(sink)) == 6
    check_unique(sink)


def test_a_closed_frames_pi_point_attribute_is_its_value_at_the_frame_end(realtime, tmp_path):
    cfg = config(realtime.url, tmp_path, start="*-20s", lookback="1s")
    extract(cfg)
    sink = DeltaSink(str(tmp_path))
    closed = {r["web_id"]: r for r in frames(sink) if not r["is_open"]}
    assert closed
    temperatures = [a for a in attributes(sink) if a["name"] == "Temperature" and a["event_frame_web_id"] in closed]
    assert temperatures
    for row in temperatures:
        assert row["timestamp"] <= closed[row["event_frame_web_id"]]["end_time"]
