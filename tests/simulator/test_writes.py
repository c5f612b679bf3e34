"""PI's write paths: POST streams/{webId}/value, streams/{webId}/recorded and streamsets/recorded with
every updateOption and bufferOption, PI's 202/204/207/400/409 answers, and every later read
(recorded either way, maxCount, value, end, interpolated, summary, stream sets, batch) seeing the
written values, compared with the virtual archive value by value. `client` checks every response
against the contract; each test has its own app (conftest's `app`), so writes never leak between tests."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import orjson
import pytest

from picommon import pitime
from simulator.scenario.model import Auth
from simulator.scenario.model import User

from tests.conftest import contract_app

NOW = pitime.parse_time("2026-11-25T00:00:00Z", now=0)
CSRF = {"X-Requested-With": "test"}
START, END = "2026-11-24T10:00:00Z", "2026-11-24T10:05:00Z"  # TINY.FLOAT32 has an event every minute


@pytest.fixture()
def server(app):
    return app.extensions["pisim"]


@pytest.fixture()
def web_id(server):
    return lambda tag: server.catalog.data_servers[0].by_name[tag.lower()].web_id()


def t(text: str) -> int:
    return pitime.parse_time(text, now=NOW)


def truth(server, tag: str, start: str = START, end: str = END) -> list[tuple[str, object]]:
    """(Timestamp, Value) of what the generated archive holds, without writes, as PI prints it."""
    point = server.catalog.data_servers[0].by_name[tag.lower()].point
    events = server.archive.of(point).source.generated_chunks(t(start), t(end), now=NOW)
    rows = []
    for chunk in events:
        for x, v in zip(chunk.ticks.tolist(), chunk.value.tolist()):
            rows.append((pitime.format_time(x), float(str(np.float32(v))) if point.point_type == "Float32" else v))
    return rows


def recorded(client, wid: str, start: str = START, end: str = END, **params) -> list[tuple[str, object]]:
    query = {"startTime": start, "endTime": end, **params}
    response = client.get(f"/piwebapi/streams/{wid}/recorded", query_string=query)
    assert response.status_code == 200, response.data
    return [(i["Timestamp"], i["Value"]) for i in response.json["Items"]]


def post(client, path: str, body, status: int, **params):
    response = client.post(path, data=orjson.dumps(body), query_string=params,
                           headers={**CSRF, "Content-Type": "application/json"})
    assert response.status_code == status, response.data
    return response


# -- updateOption ------------------------------------------------------------------------------------------

def test_replace_is_the_default_and_every_read_sees_the_new_value(client, server, web_id):
    wid = web_id("TINY.FLOAT32")
    before = truth(server, "TINY.FLOAT32")
    assert before[1][0] == "2026-11-24T10:01:00Z"
    response = post(client, f"/piwebapi/streams/{wid}/value",
                    {"Timestamp": "2026-11-24T10:01:00Z", "Value": 99.5}, 202)
    assert response.data == b""
    assert recorded(client, wid) == [before[0], ("2026-11-24T10:01:00Z", 99.5), *before[2:]]
    value = client.get(f"/piwebapi/streams/{wid}/value", query_string={"time": "2026-11-24T10:01:00Z"}).json
    assert value["Value"] == 99.5 and value["Good"] is True
    halfway = client.get(f"/piwebapi/streams/{wid}/interpolated", query_string={
        "startTime": "2026-11-24T10:01:30Z", "endTime": "2026-11-24T10:01:30Z", "interval": "1m"}).json
    assert halfway["Items"][0]["Value"] == pytest.approx(float(np.float32((99.5 + before[2][1]) / 2)), rel=1e-6)
    summary = client.get(f"/piwebapi/streams/{wid}/summary", query_string={
        "startTime": START, "endTime": END, "summaryType": "Maximum"}).json
    assert summary["Items"][0]["Value"]["Value"] == 99.5
    sets = client.get("/piwebapi/streamsets/recorded", query_string=[
        ("webId", wid), ("webId", web_id("TINY.INT32")), ("startTime", START), ("endTime", END)]).json
    assert [(i["Timestamp"], i["Value"]) for i in sets["Items"][0]["Items"]] == recorded(client, wid)


def test_insert_keeps_the_value_already_there_and_adds_one_beside_it(client, server, web_id):
    wid = web_id("TINY.FLOAT32")
    before = truth(server, "TINY.FLOAT32")
    post(client, f"/piwebapi/streams/{wid}/recorded", [
        {"Timestamp": "2026-11-24T10:02:00Z", "Value": 1.5},
        {"Timestamp": "2026-11-24T10:02:30Z", "Value": 2.5}], 202, updateOption="Insert")
    post(client, f"/piwebapi/streams/{wid}/value", {"Timestamp": "2026-11-24T10:03:00Z", "Value": 3.5}, 202,
         updateOption="InsertNoCompression")
    assert recorded(client, wid) == [*before[:3], ("2026-11-24T10:02:00Z", 1.5), ("2026-11-24T10:02:30Z", 2.5),
                                     before[3], ("2026-11-24T10:03:00Z", 3.5), *before[4:]]
    # descending reads and maxCount cut the same merged sequence
    assert recorded(client, wid, END, START) == recorded(client, wid)[::-1]
    assert recorded(client, wid, maxCount=4) == recorded(client, wid)[:4]
    assert recorded(client, wid, END, START, maxCount=3) == recorded(client, wid)[::-1][:3]


def test_remove_deletes_the_value_and_fails_where_there_is_none(client, server, web_id):
    wid = web_id("TINY.FLOAT32")
    before = truth(server, "TINY.FLOAT32")
    response = post(client, f"/piwebapi/streams/{wid}/recorded", [
        {"Timestamp": "2026-11-24T10:04:00Z", "Value": 0},
        {"Timestamp": "2026-11-24T10:04:30Z", "Value": 0}], 207, updateOption="Remove")
    items = response.json["Items"]
    assert items[0] == {"Substatus": 202}
    assert items[1]["Substatus"] == 404 and "no recorded value" in items[1]["Message"]
    assert items[1]["WebException"]["StatusCode"] == 404
    assert recorded(client, wid) == [*before[:4], *before[5:]]
    end = client.get(f"/piwebapi/streams/{wid}/end").json  # the snapshot is untouched
    assert end["Timestamp"] == "2026-11-25T00:00:00Z"


def test_noreplace_and_replaceonly_apply_only_where_they_may(client, server, web_id):
    wid = web_id("TINY.FLOAT32")
    before = truth(server, "TINY.FLOAT32")
    refused = post(client, f"/piwebapi/streams/{wid}/value", {"Timestamp": "2026-11-24T10:01:00Z", "Value": 7},
                   409, updateOption="NoReplace")
    assert "already exists" in refused.json["Errors"][0]
    post(client, f"/piwebapi/streams/{wid}/value", {"Timestamp": "2026-11-24T10:01:10Z", "Value": 7}, 204,
         updateOption="NoReplace", bufferOption="DoNotBuffer")
    missing = post(client, f"/piwebapi/streams/{wid}/value", {"Timestamp": "2026-11-24T10:01:20Z", "Value": 8},
                   404, updateOption="ReplaceOnly")
    assert "no recorded value" in missing.json["Errors"][0]
    post(client, f"/piwebapi/streams/{wid}/value", {"Timestamp": "2026-11-24T10:02:00Z", "Value": 8}, 202,
         updateOption="replaceonly", bufferOption="Buffer")
    assert recorded(client, wid) == [*before[:2], ("2026-11-24T10:01:10Z", 7.0), ("2026-11-24T10:02:00Z", 8.0),
                                     *before[3:]]


def test_value_kinds_digital_string_integer_and_system_states(client, server, web_id):
    noon, after = "2026-11-24T12:00:00.5Z", "2026-11-24T12:00:00.6Z"
    digital = web_id("TINY.DIGITAL")
    post(client, f"/piwebapi/streams/{digital}/recorded", [
        {"Timestamp": noon, "Value": {"Name": "Fault", "Value": 2, "IsSystem": False}},
        {"Timestamp": after, "Value": "on", "Questionable": True}], 202)
    items = client.get(f"/piwebapi/streams/{digital}/recorded",
                       query_string={"startTime": noon, "endTime": after}).json["Items"]
    assert [(i["Value"], i["Questionable"]) for i in items] == [
        ({"Name": "Fault", "Value": 2, "IsSystem": False}, False),
        ({"Name": "On", "Value": 1, "IsSystem": False}, True)]
    text = web_id("TINY.STRING")
    word = server.archive.vocabulary(server.catalog.data_servers[0].by_name["tiny.string"].point)[0]
    post(client, f"/piwebapi/streams/{text}/value", {"Timestamp": noon, "Value": word}, 202)
    assert recorded(client, text, noon, noon) == [(pitime.format_time(t(noon)), word)]
    bad = post(client, f"/piwebapi/streams/{text}/value", {"Timestamp": noon, "Value": "not a batch name"}, 400)
    assert "not one of the strings" in bad.json["Errors"][0]
    counter = web_id("TINY.INT32")
    post(client, f"/piwebapi/streams/{counter}/value", {"Timestamp": noon, "Value": 41}, 202)
    post(client, f"/piwebapi/streams/{counter}/value", {"Timestamp": after, "Value": {"Name": "Shutdown",
                                                                                      "IsSystem": True}}, 202)
    items = client.get(f"/piwebapi/streams/{counter}/recorded",
                       query_string={"startTime": noon, "endTime": after}).json["Items"]
    assert [(i["Value"], i["Good"]) for i in items] == [
        (41, True), ({"Name": "Shutdown", "Value": 254, "IsSystem": True}, False)]
    half = post(client, f"/piwebapi/streams/{counter}/value", {"Timestamp": noon, "Value": 1.5}, 400)
    assert "whole number" in half.json["Errors"][0]


def test_timestamp_defaults_to_now_and_pi_time_strings_work(client, web_id):
    wid = web_id("TINY.FLOAT32")
    post(client, f"/piwebapi/streams/{wid}/value", {"Value": 1234.0}, 202)
    end = client.get(f"/piwebapi/streams/{wid}/end").json
    assert (end["Timestamp"], end["Value"]) == ("2026-11-25T00:00:00Z", 1234.0)
    post(client, f"/piwebapi/streams/{wid}/value", {"Timestamp": "*-30s", "Value": 5.0}, 202)
    assert ("2026-11-24T23:59:30Z", 5.0) in recorded(client, wid, "*-1m", "*")


# -- the answers for bad requests -------------------------------------------------------------------------

@pytest.mark.parametrize("body, message", [
    ({"Timestamp": "2026-11-24T10:00:00Z", "Value": "warm"}, "is not a number"),
    ({"Timestamp": "yesterday-ish", "Value": 1}, "is not a valid time"),
    ({"Timestamp": "2026-11-24T10:00:00Z"}, "needs a 'Value'"),
    ({"Timestamp": 12, "Value": 1}, "must be a string"),
    ({"Timestamp": "2026-11-24T10:00:00Z", "Value": 1, "Good": "yes"}, "'Good' of a TimedValue must be true"),
    ({"Timestamp": "2026-11-24T10:00:00Z", "Value": [1, 2]}, "cannot be an array"),
    ([1], "must be a TimedValue object"),
])
def test_a_bad_value_is_a_400_naming_what_is_wrong(client, web_id, body, message):
    response = post(client, f"/piwebapi/streams/{web_id('TINY.FLOAT32')}/value", body, 400)
    assert message in response.json["Errors"][0]


def test_bad_bodies_and_options_are_400s_and_nothing_is_written(client, server, web_id):
    wid = web_id("TINY.FLOAT32")
    path = f"/piwebapi/streams/{wid}/recorded"
    assert "not valid JSON" in client.post(path, data=b"{", headers=CSRF).json["Errors"][0]
    assert "JSON array" in post(client, path, {"Value": 1}, 400).json["Errors"][0]
    # one malformed item rejects the whole request before anything is written
    post(client, path, [{"Timestamp": "2026-11-24T10:01:00Z", "Value": 5}, {"Value": 1, "Annotated": None}], 400)
    post(client, path, [{"Timestamp": "2026-11-24T10:01:00Z", "Value": 5}], 400, updateOption="Upsert")
    post(client, path, [{"Timestamp": "2026-11-24T10:01:00Z", "Value": 5}], 400, bufferOption="Maybe")
    assert recorded(client, wid) == truth(server, "TINY.FLOAT32")


def test_a_partial_failure_is_a_207_with_one_substatus_per_value_in_order(client, server, web_id):
    wid = web_id("TINY.FLOAT32")
    response = post(client, f"/piwebapi/streams/{wid}/recorded", [
        {"Timestamp": "2026-11-24T10:00:10Z", "Value": 1},
        {"Timestamp": "2026-11-24T10:00:20Z", "Value": "x"},
        {"Timestamp": "2026-11-24T10:00:30Z", "Value": 3}], 207, bufferOption="DoNotBuffer")
    assert [i["Substatus"] for i in response.json["Items"]] == [204, 400, 204]
    assert "is not a number" in response.json["Items"][1]["WebException"]["Errors"][0]
    rows = recorded(client, wid, "2026-11-24T10:00:05Z", "2026-11-24T10:00:35Z")
    assert rows == [("2026-11-24T10:00:10Z", 1.0), ("2026-11-24T10:00:30Z", 3.0)]


def test_a_static_attribute_cannot_be_written(client, server):
    static = next(a for e in server.catalog.asset_servers[0].databases[0].elements for a in e.attributes
                  if a.point is None)
    response = post(client, f"/piwebapi/streams/{static.web_id()}/value", {"Value": 1}, 409)
    assert "data reference" in response.json["Errors"][0]


# -- streamsets/recorded ----------------------------------------------------------------------------------

def test_streamsets_write_each_stream_and_fail_only_the_bad_one(client, server, web_id):
    f32, i32 = web_id("TINY.FLOAT32"), web_id("TINY.INT32")
    post(client, "/piwebapi/streamsets/recorded", [
        {"WebId": f32, "Items": [{"Timestamp": "2026-11-24T10:00:30Z", "Value": 30}]},
        {"WebId": i32, "Items": [{"Timestamp": "2026-11-24T10:00:30Z", "Value": 31}]}], 202)
    assert ("2026-11-24T10:00:30Z", 30.0) in recorded(client, f32)
    assert ("2026-11-24T10:00:30Z", 31) in recorded(client, i32)
    unknown = "F1DPnot-a-web-id"
    response = post(client, "/piwebapi/streamsets/recorded", [
        {"WebId": f32, "Items": [{"Timestamp": "2026-11-24T10:00:40Z", "Value": 40}]},
        {"WebId": unknown, "Items": [{"Timestamp": "2026-11-24T10:00:40Z", "Value": 41},
                                     {"Timestamp": "2026-11-24T10:00:50Z", "Value": 42}]}], 207)
    first, second = response.json["Items"]
    assert first == {"Items": [{"Substatus": 202}]}
    assert [i["Substatus"] for i in second["Items"]] in ([404, 404], [400, 400])
    assert ("2026-11-24T10:00:40Z", 40.0) in recorded(client, f32)
    assert "Items" in post(client, "/piwebapi/streamsets/recorded", [{"WebId": f32}], 400).json["Errors"][0]


def test_a_batch_sub_request_can_write(client, web_id):
    wid = web_id("TINY.FLOAT32")
    body = {"write": {"Method": "POST", "Resource": f"http://localhost/piwebapi/streams/{wid}/value",
                      "Content": orjson.dumps({"Timestamp": "2026-11-24T10:00:45Z", "Value": 45}).decode()},
            "read": {"Method": "GET", "ParentIds": ["write"],
                     "Resource": f"http://localhost/piwebapi/streams/{wid}/recordedattime?time=2026-11-24T10:00:45Z"}}
    result = post(client, "/piwebapi/batch", body, 207).json
    assert result["write"]["Status"] == 202
    assert result["read"]["Content"]["Value"] == 45.0


# -- where writes live, and who may write -------------------------------------------------------------------

def test_admin_reset_clears_writes_and_apps_do_not_share_them(client, server, web_id, tiny_scenario):
    wid = web_id("TINY.FLOAT32")
    post(client, f"/piwebapi/streams/{wid}/value", {"Timestamp": "2026-11-24T10:01:00Z", "Value": 99.5}, 202)
    other = contract_app(tiny_scenario).test_client()
    assert recorded(other, wid) == truth(server, "TINY.FLOAT32")
    assert ("2026-11-24T10:01:00Z", 99.5) in recorded(client, wid)
    assert client.post("/__admin/reset").status_code == 200
    assert recorded(client, wid) == truth(server, "TINY.FLOAT32")


def test_writes_honour_csrf_and_authentication(tiny_scenario):
    from tests.simulator.test_auth import ANN

    app = contract_app(dataclasses.replace(tiny_scenario, auth=Auth(
        methods=("basic",), users=(User("ann", "s3cret"),),
        csrf=True)))
    client = app.test_client()
    wid = app.extensions["pisim"].catalog.data_servers[0].points[0].web_id()
    path = f"/piwebapi/streams/{wid}/value"
    body = orjson.dumps({"Timestamp": "2026-11-24T10:01:00Z", "Value": 1})
    assert client.post(path, data=body, headers=CSRF).status_code == 401
    assert client.post(path, data=body, headers={"Authorization": ANN}).status_code == 403
    assert client.post(path, data=body, headers={"Authorization": ANN, **CSRF}).status_code == 202


def test_under_gunicorn_a_write_is_read_back_and_reset_clears_it(sim_url, server, web_id):
    import requests

    wid = web_id("TINY.FLOAT32")
    url = f"{sim_url}/piwebapi/streams/{wid}"
    query = {"startTime": START, "endTime": END}
    before = requests.get(f"{url}/recorded", params=query, timeout=30).json()["Items"]
    written = requests.post(f"{url}/recorded", params={"updateOption": "Insert"}, headers=CSRF, timeout=30,
                            json=[{"Timestamp": "2026-11-24T10:00:15Z", "Value": 15.25}])
    assert (written.status_code, written.content) == (202, b"")
    after = requests.get(f"{url}/recorded", params=query, timeout=30).json()["Items"]
    assert [(i["Timestamp"], i["Value"]) for i in after] == [
        (before[0]["Timestamp"], before[0]["Value"]), ("2026-11-24T10:00:15Z", 15.25),
        *[(i["Timestamp"], i["Value"]) for i in before[1:]]]
    assert requests.post(f"{sim_url}/__admin/reset", timeout=30).status_code == 200
    assert requests.get(f"{url}/recorded", params=query, timeout=30).json()["Items"] == before


def test_a_scenario_writes_file_keeps_writes_across_restarts(tiny_scenario, tmp_path):
    from simulator.scenario import load_scenario

    text = tmp_path / "tiny.yaml"
    source = Path(tiny_scenario.source).read_text(encoding="utf-8")
    text.write_text(source + "\nwrites: {file: kept.jsonl}\n", encoding="utf-8")
    scenario = load_scenario(str(text))
    assert scenario.writes_file == str(tmp_path / "kept.jsonl")
    first = contract_app(scenario)
    client = first.test_client()
    wid = first.extensions["pisim"].catalog.data_servers[0].points[0].web_id()
    post(client, f"/piwebapi/streams/{wid}/value", {"Timestamp": "2026-11-24T10:01:00Z", "Value": 99.5}, 202)
    post(client, f"/piwebapi/streams/{wid}/value", {"Timestamp": "2026-11-24T10:02:00Z", "Value": 0}, 202,
         updateOption="Remove")
    post(client, f"/piwebapi/streams/{wid}/value", {"Timestamp": "2026-11-24T10:01:30Z", "Value": 0}, 404,
         updateOption="ReplaceOnly")
    assert len((tmp_path / "kept.jsonl").read_text().splitlines()) == 2  # what was refused is not kept
    restarted = contract_app(scenario).test_client()
    assert recorded(restarted, wid) == recorded(client, wid) != truth(first.extensions["pisim"], "TINY.FLOAT32")
    assert restarted.post("/__admin/reset").status_code == 200
    assert (tmp_path / "kept.jsonl").read_text() == ""
    assert recorded(contract_app(scenario).test_client(), wid) == truth(first.extensions["pisim"], "TINY.FLOAT32")


def test_a_writes_file_that_is_not_ours_fails_with_its_line(tiny_scenario, tmp_path):
    from simulator.pi.errors import ScenarioError

    kept = tmp_path / "kept.jsonl"
    kept.write_text('{"WebId": "F1DPnope", "updateOption": "Replace", "Ticks": 1, "Value": 1, "State": -1, '
                    '"Flags": 0}\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"kept.jsonl:1: not a write"):
        contract_app(dataclasses.replace(tiny_scenario, writes_file=str(kept)))
