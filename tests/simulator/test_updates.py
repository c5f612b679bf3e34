"""Stream Updates: register (streams/{webId}/updates, streamsets/updates), retrieve by marker
(streams/updates/{marker}, streamsets/updates), the values a moving clock makes visible and the
writes since a marker as DataPipeEvents with their Action, chained markers that lose and repeat
nothing, 409 for an invalid marker and 404 for an expired one. `client` checks every response
against the contract; each test has its own app (conftest's `app`) and clock."""
from __future__ import annotations

import dataclasses

import numpy as np
import orjson
import pytest

from picommon import pitime
from simulator.scenario.model import TICKS_PER_SECOND

from tests.conftest import contract_app

CSRF = {"X-Requested-With": "test"}
MINUTE = 60 * TICKS_PER_SECOND
NOW = pitime.parse_time("2026-11-25T00:00:00Z", now=0)


@pytest.fixture()
def server(app):
    return app.extensions["pisim"]


@pytest.fixture()
def wid(server):
    return server.catalog.data_servers[0].by_name["tiny.float32"].web_id()


def truth(server, tag: str, after: int, upto: int) -> list[tuple[str, object]]:
    """(Timestamp, Value) of the generated archive in (after, upto], as PI prints a Float32."""
    point = server.catalog.data_servers[0].by_name[tag.lower()].point
    rows = []
    for chunk in server.archive.of(point).source.generated_chunks(after + 1, upto, now=upto):
        rows += [(pitime.format_time(x), float(str(np.float32(v)))) for x, v in zip(chunk.ticks.tolist(),
                                                                                    chunk.value.tolist())]
    return rows


def register(client, wid: str) -> str:
    response = client.post(f"/piwebapi/streams/{wid}/updates", headers=CSRF)
    assert response.status_code == 200, response.data
    body = response.json
    assert body["Status"] in ("Succeeded", "AlreadyRegistered") and body["Source"] == wid
    assert response.headers["Location"].endswith(f"/piwebapi/streams/updates/{body['LatestMarker']}")
    return body["LatestMarker"]


def retrieve(client, marker: str) -> dict:
    response = client.get(f"/piwebapi/streams/updates/{marker}")
    assert response.status_code == 200, response.data
    body = response.json
    assert body["RequestedMarker"] == marker and body["LatestMarker"] != marker
    return body


def rows(body: dict) -> list[tuple[str, str, object]]:
    return [(e["Action"], e["Timestamp"], e["Value"]) for e in body["Events"]]


def write(client, wid: str, timestamp: str, value: float, option: str = "Replace") -> None:
    response = client.post(f"/piwebapi/streams/{wid}/value", query_string={"updateOption": option},
                           data=orjson.dumps({"Timestamp": timestamp, "Value": value}), headers=CSRF)
    assert response.status_code == 202, response.data


def test_values_appear_as_the_clock_moves_once_each_along_the_marker_chain(client, server, wid):
    marker = register(client, wid)
    first = retrieve(client, marker)  # the value at the registration time itself is news
    assert rows(first) == [("Add", ts, v) for ts, v in truth(server, "TINY.FLOAT32", NOW - 1, NOW)] != []
    assert first["SourceName"] == "TINY.FLOAT32" and first["Status"] == "Updated"
    assert retrieve(client, first["LatestMarker"])["Events"] == []
    server.set_now(NOW + 3 * MINUTE)
    second = retrieve(client, first["LatestMarker"])
    assert rows(second) == [("Add", ts, v) for ts, v in truth(server, "TINY.FLOAT32", NOW, NOW + 3 * MINUTE)]
    assert len(second["Events"]) == 3 and second["Events"][0]["PreviousEventAction"] == "PreviousEventArchived"
    assert set(second["Events"][0]) >= {"UnitsAbbreviation", "Good", "Questionable", "Substituted", "Annotated"}
    server.set_now(NOW + 5 * MINUTE)
    third = retrieve(client, second["LatestMarker"])
    assert rows(third) == [("Add", ts, v) for ts, v in truth(server, "TINY.FLOAT32", NOW + 3 * MINUTE,
                                                              NOW + 5 * MINUTE)]
    # an older marker can be read again (a client retrying) and reports everything since it
    again = retrieve(client, first["LatestMarker"])
    assert rows(again) == rows(second) + rows(third)


def test_writes_since_the_marker_come_with_their_action(client, server, wid):
    marker = register(client, wid)
    write(client, wid, "2026-11-24T23:58:00Z", 1.5)  # an event exists there: Update
    write(client, wid, "2026-11-24T23:58:30Z", 2.5, "Insert")  # a new event: Add
    removed = truth(server, "TINY.FLOAT32", NOW - 2 * MINUTE - 1, NOW - 2 * MINUTE)
    assert removed[0][0] == "2026-11-24T23:58:00Z"
    old_value = truth(server, "TINY.FLOAT32", NOW - 3 * MINUTE - 1, NOW - 3 * MINUTE)[0]
    write(client, wid, "2026-11-24T23:57:00Z", 0, "Remove")  # Remove, with the value removed
    server.set_now(NOW + 2 * MINUTE)
    write(client, wid, "2026-11-25T00:00:30Z", 3.5, "Insert")  # after the marker's time: a new value
    body = retrieve(client, marker)
    news = truth(server, "TINY.FLOAT32", NOW - 1, NOW + 2 * MINUTE)  # from the registration time on
    assert rows(body) == [("Update", "2026-11-24T23:58:00Z", 1.5), ("Add", "2026-11-24T23:58:30Z", 2.5),
                          ("Remove", old_value[0], old_value[1]), ("Add", *news[0]),
                          ("Add", "2026-11-25T00:00:30Z", 3.5), *[("Add", ts, v) for ts, v in news[1:]]]
    assert len(news) == 3 and news[0][0] == "2026-11-25T00:00:00Z"
    assert retrieve(client, body["LatestMarker"])["Events"] == []  # nothing is reported twice


def test_a_cut_at_max_returned_items_resumes_without_loss_or_repeat(tiny_scenario):
    limits = dataclasses.replace(tiny_scenario.limits, max_returned_items_per_call=4)
    app = contract_app(dataclasses.replace(tiny_scenario, limits=limits))
    client, server = app.test_client(), app.extensions["pisim"]
    subsecond = server.catalog.data_servers[0].by_name["tiny.subsecond"]  # 20% duplicated timestamps
    marker = register(client, subsecond.web_id())
    server.set_now(NOW + 5 * TICKS_PER_SECOND)
    seen = []
    for _ in range(40):
        body = retrieve(client, marker)
        assert len(body["Events"]) <= 4
        seen += [(e["Timestamp"], e["Value"]) for e in body["Events"]]
        marker = body["LatestMarker"]
        if not body["Events"]:
            break
    point = subsecond.point
    expected = []
    upto = NOW + 5 * TICKS_PER_SECOND
    for chunk in server.archive.of(point).source.generated_chunks(NOW + 1, upto, now=upto):
        expected += [pitime.format_time(x) for x in chunk.ticks.tolist()]
    assert [ts for ts, _ in seen] == expected and len(expected) > 12


def test_invalid_marker_is_409_and_expired_marker_is_404(client, app, wid):
    assert client.get("/piwebapi/streams/updates/0cbbec466f3a42288c8c47112f54b852_12").status_code == 409
    marker = register(client, wid)
    registry = app.extensions["pisim.updates"]
    start = registry.clock()
    registry.clock = lambda: start + registry.lifetime + 1
    expired = client.get(f"/piwebapi/streams/updates/{marker}")
    assert expired.status_code == 404 and "Cache not found" in expired.json["Errors"][0]


def test_register_again_static_attribute_csrf_and_reset(client, app, server, wid):
    register(client, wid)
    again = client.post(f"/piwebapi/streams/{wid}/updates", headers=CSRF).json
    assert again["Status"] == "AlreadyRegistered"
    static = next(a for e in server.catalog.asset_servers[0].databases[0].elements for a in e.attributes
                  if a.point is None)
    assert client.post(f"/piwebapi/streams/{static.web_id()}/updates", headers=CSRF).status_code == 409
    assert client.post(f"/piwebapi/streams/{wid}/updates").status_code == 403
    assert client.post("/__admin/reset").status_code == 200
    assert client.get(f"/piwebapi/streams/updates/{again['LatestMarker']}").status_code == 409


def test_streamsets_register_and_retrieve_with_a_failed_item_in_place(client, server, wid):
    other = server.catalog.data_servers[0].by_name["tiny.int32"].web_id()
    response = client.post("/piwebapi/streamsets/updates", headers=CSRF,
                           query_string=[("webId", wid), ("webId", "F1DPnot-a-web-id"), ("webId", other)])
    assert response.status_code == 200
    first, bad, third = response.json["Items"]
    assert (first["Status"], bad["Status"], third["Status"]) == ("Succeeded", "Failed", "Succeeded")
    assert bad["Source"] == "F1DPnot-a-web-id" and bad["Exception"]["Errors"]
    server.set_now(NOW + 2 * MINUTE)
    response = client.get("/piwebapi/streamsets/updates", query_string=[
        ("marker", first["LatestMarker"]), ("marker", "nonsense"), ("marker", third["LatestMarker"])])
    assert response.status_code == 200
    a, b, c = response.json["Items"]
    assert [(e["Timestamp"], e["Value"]) for e in a["Events"]] == truth(server, "TINY.FLOAT32", NOW - 1,
                                                                          NOW + 2 * MINUTE)
    assert b["Status"] == "Failed" and "Invalid marker" in b["Exception"]["Errors"][0]
    int32 = [ts for ts, _ in truth(server, "TINY.INT32", NOW - 1, NOW + 2 * MINUTE)]
    assert c["SourceName"] == "TINY.INT32" and [e["Timestamp"] for e in c["Events"]] == int32
    assert client.get("/piwebapi/streamsets/updates").status_code == 400


LIVING_TAGS = ("LIVE.FLOW", "LIVE.TEMP", "LIVE.COUNT", "LIVE.STATE", "LIVE.BATCH")


@pytest.fixture(scope="module")
def living():
    from simulator.scenario import load_scenario

    return load_scenario("living", now="2026-11-25T06:00:00Z")


def replayed(start: list[dict], bodies: list[dict], after: int) -> list[tuple[str, object, bool]]:
    """The events of `start` with the Events of `bodies` applied in order (Add inserts, Update
    replaces, Remove deletes the event at that timestamp), those after `after` only."""
    held: dict[str, tuple[object, bool]] = {i["Timestamp"]: (i["Value"], i["Substituted"]) for i in start}
    for body in bodies:
        for e in body["Events"]:
            if pitime.parse_time(e["Timestamp"], now=0) <= after:
                continue
            if e["Action"] == "Remove":
                assert e["Timestamp"] in held, e
                del held[e["Timestamp"]]
            else:
                assert (e["Timestamp"] in held) == (e["Action"] == "Update"), e
                held[e["Timestamp"]] = (e["Value"], e["Substituted"])
    return sorted((ts, v, s) for ts, (v, s) in held.items())


@pytest.mark.parametrize("tag", LIVING_TAGS)
def test_the_scenarios_own_changes_come_once_each_and_rebuild_the_archive_as_of_now(living, tag):
    """Late values that became visible (Add), edits (Update, the new value) and deletions (Remove)
    since each marker: replaying them on the archive as of the registration gives, value by value,
    the ground truth as of each later time, and nothing is reported twice."""
    from simulator.testing import GroundTruth

    app = contract_app(living)
    client, server = app.test_client(), app.extensions["pisim"]
    start = server.now()
    truth = GroundTruth(living)
    window = start - 3 * 60 * MINUTE
    reported = truth.items(tag, window + 1, start - 1, as_of=start)  # values at `start` are news
    marker = register(client, server.catalog.data_servers[0].by_name[tag.lower()].web_id())
    bodies = []
    actions = set()
    when = start
    for step in range(12):
        when += 7 * MINUTE + step * 13 * TICKS_PER_SECOND
        server.set_now(when)
        body = retrieve(client, marker)
        bodies.append(body)
        actions |= {e["Action"] for e in body["Events"]}
        marker = body["LatestMarker"]
        expected = truth.items(tag, window + 1, when, as_of=when)
        assert replayed(reported, bodies, window) == sorted((i["Timestamp"], i["Value"], i["Substituted"])
                                                            for i in expected)
    assert retrieve(client, marker)["Events"] == []
    assert "Add" in actions
    if tag in ("LIVE.FLOW", "LIVE.COUNT"):
        assert {"Update", "Remove"} <= actions
    if tag == "LIVE.STATE":
        assert "Update" in actions


def test_scenario_changes_come_in_a_deterministic_order_with_pis_action_names(living):
    answers = []
    for _ in range(2):
        app = contract_app(living)
        client, server = app.test_client(), app.extensions["pisim"]
        marker = register(client, server.catalog.data_servers[0].by_name["live.flow"].web_id())
        server.set_now(server.now() + 40 * MINUTE)
        answers.append(rows(retrieve(client, marker)))
    assert answers[0] == answers[1]
    first_add = next(i for i, r in enumerate(answers[0]) if r[0] == "Add")
    changed_times = [pitime.parse_time(ts, now=0) for _, ts, _ in answers[0][:first_add]]
    assert changed_times == sorted(changed_times)
    assert {a for a, _, _ in answers[0]} == {"Add", "Update", "Remove"}
