"""End to end: event_frames and event_frame_attributes.

With tests/scenarios/realtime-frames.yaml (real-time clock, a 3 s frame every 5 s), a frame the
first run saw open has closed by the second run: its row is updated in place, not duplicated. With
qa-tiny (fixed clock) the explicit frames land with the attribute values the simulator serves."""
from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import orjson
import pytest
import requests

from connector.config import ConnectorConfig
from connector.paging import parse_ns
from connector.runner import extract
from connector.sink import DeltaSink
from connector.state import Checkpoints
from simulator.testing import SimulatorProcess

pytestmark = pytest.mark.e2e

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "realtime-frames.yaml"
OPEN_END = "9999-12-31T23:59:59Z"
UTC = dt.timezone.utc


@pytest.fixture(scope="module")
def realtime():
    with SimulatorProcess(str(SCENARIO)) as sim:
        yield sim


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
    database = "\\\\PIAF01\\RealtimeDB"

    # run until a run catches a frame in progress (60% of the time one is)
    open_rows = []
    for _ in range(8):
        extract(cfg)
        open_rows = [r for r in frames(sink) if r["is_open"]]
        if open_rows:
            break
        time.sleep(0.7)
    assert open_rows, "no run saw a frame in progress"
    check_unique(sink)
    frame = open_rows[0]
    assert frame["end_time"] is None and frame["name"].startswith("CYCLE-")
    first_cursor = Checkpoints(sink).load("event_frames")[database].cursor_ns
    mine = [a for a in attributes(sink) if a["event_frame_web_id"] == frame["web_id"]]
    assert sorted(a["name"] for a in mine) == ["Product", "Target", "Temperature"]
    assert len(attributes(sink)) == 3 * len(frames(sink))

    # wait (a few seconds of real time) until the simulator says the frame has ended
    deadline = time.monotonic() + 15
    while True:
        end_text = served(realtime.url, f"eventframes/{frame['web_id']}", selectedFields="EndTime")["EndTime"]
        if not end_text.startswith("9999"):
            break
        assert time.monotonic() < deadline, "the frame never closed"
        time.sleep(0.25)

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
    second_cursor = Checkpoints(sink).load("event_frames")[database].cursor_ns
    assert second_cursor > first_cursor
    assert second_cursor >= parse_ns(end_text)


def test_frames_that_ended_before_the_lookback_are_not_read_again(realtime, tmp_path):
    cfg = config(realtime.url, tmp_path, start="*-20s", lookback="1s")
    sink = DeltaSink(str(tmp_path))
    report = extract(cfg)
    first = {r["web_id"]: r for r in frames(sink)}
    assert report.tables["event_frames"].rows == len(first) >= 3
    time.sleep(1.2)
    report = extract(cfg)
    # the second run reads only what overlaps [cursor - 1 s, now]: one or two frames, not the 20 s again
    assert 0 < report.tables["event_frames"].rows <= 2 < len(first)
    check_unique(sink)
    rows = {r["web_id"]: r for r in frames(sink)}
    assert set(first) <= set(rows)
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
