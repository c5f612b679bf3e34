"""A world that changes with the clock (tests/scenarios/changing-world.yaml): points exist from
`created` to `deleted` (lists, search and paths reflect the clock; a deleted point's WebID is PI's
404), and scheduled event frames close late (EndTime shows a drawn delay after the end) and get
their attributes edited some time later. Deterministic in (seed, clock)."""
from __future__ import annotations

from pathlib import Path

import pytest

from picommon import pitime
from simulator.scenario import load_scenario

from tests.conftest import contract_app

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "changing-world.yaml"
OPEN_END = "9999-12-31T23:59:59Z"
MINUTE = 60 * 10**7


@pytest.fixture(scope="module")
def app():
    return contract_app(load_scenario(str(SCENARIO)))


@pytest.fixture()
def at(app):
    """Move the app's clock: at("2026-11-24T10:00:00Z") returns a test client; the clock is restored after."""
    simulator = app.extensions["pisim"]

    def move(when: str | int):
        simulator.set_now(when if isinstance(when, int) else pitime.parse_time(when, now=0))
        return app.test_client()

    yield move
    simulator.set_now(None)


@pytest.fixture(scope="module")
def ids(app):
    catalog = app.extensions["pisim"].catalog
    return {"server": catalog.data_servers[0].web_id(), "db": catalog.asset_servers[0].databases[0].web_id(),
            **{p.name: p.web_id() for p in catalog.data_servers[0].points}}


def listed(client, ids) -> list[str]:
    return [p["Name"] for p in client.get(f"/piwebapi/dataservers/{ids['server']}/points").get_json()["Items"]]


def searched(client) -> list[str]:
    return [p["Name"] for p in client.get("/piwebapi/points/search?query=Tag:=P.*").get_json()["Items"]]


@pytest.mark.parametrize(("when", "names"), [
    ("2026-11-24T05:00:00Z", ["P.OLD", "P.GONE"]),
    ("2026-11-24T06:00:00Z", ["P.OLD", "P.GONE", "P.BRIEF"]),
    ("2026-11-24T08:59:59Z", ["P.OLD", "P.GONE", "P.BRIEF"]),
    ("2026-11-24T09:00:00Z", ["P.OLD", "P.GONE"]),
    ("2026-11-24T12:00:00Z", ["P.OLD", "P.NEW", "P.GONE"]),
    ("2026-11-24T18:00:00Z", ["P.OLD", "P.NEW"]),
    ("2026-11-25T00:00:00Z", ["P.OLD", "P.NEW"]),
])
def test_point_lists_and_search_reflect_the_clock(at, ids, when, names):
    client = at(when)
    assert listed(client, ids) == names
    assert searched(client) == names
    for name in ("P.OLD", "P.NEW", "P.GONE", "P.BRIEF"):
        by_path = client.get(f"/piwebapi/points?path=\\\\PISRV01\\{name}")
        by_web_id = client.get(f"/piwebapi/points/{ids[name]}")
        values = client.get(f"/piwebapi/streams/{ids[name]}/recorded?startTime=*-1h&endTime=*")
        expected = 200 if name in names else 404
        assert (by_path.status_code, by_web_id.status_code, values.status_code) == (expected,) * 3, name


def test_a_deleted_point_answers_pis_not_found(at, ids):
    client = at("2026-11-24T20:00:00Z")
    gone = client.get(f"/piwebapi/points/{ids['P.GONE']}")
    assert gone.status_code == 404
    assert gone.get_json() == {"Errors": [f"The WebID '{ids['P.GONE']}' does not name an object in this system."]}
    query = f"webId={ids['P.OLD']}&webId={ids['P.GONE']}"
    old, failed = client.get(f"/piwebapi/streamsets/value?{query}").get_json()["Items"]
    assert old["Name"] == "P.OLD" and failed["WebException"]["StatusCode"] == 404
    multiple = client.get(f"/piwebapi/points/multiple?webId={ids['P.OLD']}&webId={ids['P.GONE']}")
    assert multiple.status_code == 207


def frames(client, ids, query="startTime=2026-11-23T00:00:00Z&endTime=*&searchMode=Overlapped") -> dict:
    body = client.get(f"/piwebapi/assetdatabases/{ids['db']}/eventframes?{query}").get_json()
    return {f["Name"]: f for f in body["Items"]}


def attributes(client, frame: dict) -> dict:
    items = client.get(f"/piwebapi/streamsets/{frame['WebId']}/value").get_json()["Items"]
    return {m["Name"]: m["Value"]["Value"] for m in items}


@pytest.fixture(scope="module")
def truth(app):
    """Every run's end, late close, edit time and attribute values, from the index itself."""
    catalog = app.extensions["pisim"].catalog
    index = catalog.event_frames(catalog.asset_servers[0].databases[0])
    out = {}
    for i in range(12):
        frame = index._make(0, index.schedules[0], i)
        out[frame.name] = frame
    return out


def test_frames_close_late_and_show_their_true_end(at, ids, truth):
    late = [f for f in truth.values() if f.closed_at is not None]
    assert len(late) == 12
    for frame in late:
        delay = frame.closed_at - frame.end
        assert 10 * MINUTE <= delay <= 30 * MINUTE
        name, end = frame.name, pitime.format_time(frame.end)
        assert frames(at(frame.end - 1), ids)[name]["EndTime"] == OPEN_END
        assert frames(at(frame.end), ids)[name]["EndTime"] == OPEN_END  # ended, not closed yet
        assert frames(at(frame.closed_at - 1), ids)[name]["EndTime"] == OPEN_END
        closed = frames(at(frame.closed_at), ids)[name]
        assert closed["EndTime"] == end and closed["AreValuesCaptured"] is True
    assert len({f.closed_at - f.end for f in late}) > 3  # drawn per frame


def test_frames_found_in_progress_while_they_wait_to_close(at, ids, truth):
    frame = truth["RUN-001"]
    client = at(frame.end + (frame.closed_at - frame.end) // 2)
    in_progress = frames(client, ids, "startTime=2026-11-23T00:00:00Z&endTime=*&searchMode=InProgress")
    assert "RUN-001" in in_progress
    after = frames(at(frame.closed_at), ids, "startTime=2026-11-23T00:00:00Z&endTime=*&searchMode=InProgress")
    assert "RUN-001" not in after


def test_some_frames_are_edited_after_they_close(at, ids, truth):
    edited = [f for f in truth.values() if f.edit_at is not None]
    assert 2 <= len(edited) <= 10
    for frame in edited:
        assert frame.closed_at + 60 * MINUTE <= frame.edit_at <= frame.closed_at + 120 * MINUTE
        before = attributes(at(frame.edit_at - 1), frames(at(frame.edit_at - 1), ids)[frame.name])
        after = attributes(at(frame.edit_at), frames(at(frame.edit_at), ids)[frame.name])
        assert before["Grade"] == "A" and before["Product"] in ("Alpha", "Bravo")
        assert after["Grade"] == "B" and after["Product"] in ("Corrected-X", "Corrected-Y")
    for frame in truth.values():
        if frame.edit_at is None:
            values = attributes(at("2026-11-25T00:00:00Z"), frames(at("2026-11-25T00:00:00Z"), ids)[frame.name])
            assert values["Grade"] == "A"


def test_the_changing_world_is_the_same_in_another_process(app, truth):
    again = contract_app(load_scenario(str(SCENARIO))).extensions["pisim"].catalog
    index = again.event_frames(again.asset_servers[0].databases[0])
    for i, (name, frame) in enumerate(sorted(truth.items())):
        other = index._make(0, index.schedules[0], i)
        assert (other.name, other.end, other.closed_at, other.edit_at) == (name, frame.end, frame.closed_at,
                                                                          frame.edit_at)
        assert [(a.name, a.value) for a in other.edited or ()] == [(a.name, a.value) for a in frame.edited or ()]
