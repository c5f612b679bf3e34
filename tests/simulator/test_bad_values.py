"""PI bad values (tests/scenarios/bad-values.yaml): a share of values come back as PI reports errors
(Value {"Name", "Value"}, Value {"Errors": [...]}, or Value null with the TimedValue's Errors), all
Good false; an array-valued point; one stream failing inside stream sets while the others succeed.
Deterministic in (seed, point, time); every response checked against the contract (`contract_app`)."""
from __future__ import annotations

from pathlib import Path

import pytest

from simulator.scenario import load_scenario

from tests.conftest import contract_app

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "bad-values.yaml"
HOUR = "startTime=2026-11-24T23:00:00Z&endTime=2026-11-25T00:00:00Z"
MESSAGE = "[-11059] No Good Data For Calculation"


@pytest.fixture(scope="module")
def app():
    return contract_app(load_scenario(str(SCENARIO)))


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def ids(app):
    return {p.name: p.web_id() for p in app.extensions["pisim"].catalog.data_servers[0].points}


def recorded(client, web_id, query=HOUR) -> list[dict]:
    response = client.get(f"/piwebapi/streams/{web_id}/recorded?{query}&maxCount=10000")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["Items"]


def kind_of(item: dict) -> str:
    value = item["Value"]
    if "Errors" in item:
        return "field"
    if isinstance(value, dict) and "Errors" in value:
        return "errors"
    if isinstance(value, dict) and "IsSystem" not in value:
        return "object"
    if isinstance(value, dict):
        return "system"
    return "good"


def test_a_share_of_values_come_back_as_each_kind_of_pi_error(client, ids):
    items = recorded(client, ids["BAD.ERR1"])
    assert len(items) == 361  # both ends inside
    kinds = [kind_of(i) for i in items]
    counts = {k: kinds.count(k) for k in set(kinds)}
    assert set(counts) == {"good", "object", "errors", "field", "system"}
    assert 0.12 < (counts["object"] + counts["errors"] + counts["field"]) / len(items) < 0.28
    for item, kind in zip(items, kinds):
        if kind == "good":
            assert isinstance(item["Value"], float) and item["Good"] is True and item["UnitsAbbreviation"] == "degC"
            continue
        assert item["Good"] is False and item["UnitsAbbreviation"] == ""
        if kind == "object":
            assert item["Value"] == {"Name": "Error", "Value": -11059}
        elif kind == "errors":
            assert item["Value"] == {"Errors": [MESSAGE]}
        elif kind == "field":
            assert item["Value"] is None and item["Errors"] == [{"FieldName": "Value", "Message": [MESSAGE]}]
    assert all("Errors" not in i for i, k in zip(items, kinds) if k != "field")


def test_bad_values_are_a_function_of_seed_point_and_time(client, ids):
    whole = {i["Timestamp"]: i for i in recorded(client, ids["BAD.ERR1"])}
    late = recorded(client, ids["BAD.ERR1"], "startTime=2026-11-24T23:30:00Z&endTime=2026-11-25T00:00:00Z")
    assert late and all(whole[i["Timestamp"]] == i for i in late)
    descending = recorded(client, ids["BAD.ERR1"], "startTime=2026-11-25T00:00:00Z&endTime=2026-11-24T23:00:00Z")
    assert descending == list(reversed(list(whole.values())))
    # a stream set (one vectorised pass for many streams) gives the same items
    query = f"webId={ids['BAD.ERR1']}&webId={ids['BAD.ERR2']}&{HOUR}&maxCount=10000"
    members = client.get(f"/piwebapi/streamsets/recorded?{query}").get_json()["Items"]
    assert members[0]["Items"] == list(whole.values())
    other = [kind_of(i) for i in members[1]["Items"]]
    assert other != [kind_of(i) for i in whole.values()] and "object" in other  # another point, other values
    # the value at a bad timestamp is bad in recordedattime too
    stamp = next(t for t, i in whole.items() if kind_of(i) == "object")
    at = client.get(f"/piwebapi/streams/{ids['BAD.ERR1']}/recordedattime?time={stamp}").get_json()
    assert at == whole[stamp]


def test_selected_fields_keep_or_drop_the_errors(client, ids):
    field = next(i for i in recorded(client, ids["BAD.ERR1"]) if kind_of(i) == "field")
    query = f"{HOUR}&maxCount=10000&selectedFields=Items.Timestamp;Items.Value"
    trimmed = client.get(f"/piwebapi/streams/{ids['BAD.ERR1']}/recorded?{query}").get_json()["Items"]
    assert {"Timestamp": field["Timestamp"], "Value": None} in trimmed and all("Errors" not in i for i in trimmed)
    kept = client.get(f"/piwebapi/streams/{ids['BAD.ERR1']}/recorded?{query};Items.Errors").get_json()["Items"]
    assert {"Timestamp": field["Timestamp"], "Value": None, "Errors": field["Errors"]} in kept


def test_an_array_valued_point(client, ids):
    items = recorded(client, ids["BAD.ARRAY"])
    assert len(items) == 61
    for item in items:
        first = item["Value"][0]
        assert item["Value"] == [first, first + 1, first + 2] and item["Good"] is True
        assert all(isinstance(v, int) for v in item["Value"])
    value = client.get(f"/piwebapi/streams/{ids['BAD.ARRAY']}/value").get_json()
    assert isinstance(value["Value"], list) and len(value["Value"]) == 3


@pytest.mark.parametrize("read", ["recorded", "interpolated", "plot", "value", "end"])
def test_one_stream_fails_inside_a_stream_set_while_the_others_succeed(client, ids, read):
    names = ("GOOD.PLAIN", "BAD.STREAM", "BAD.ERR1")
    query = "&".join(f"webId={ids[n]}" for n in names)
    extra = f"&{HOUR}" + ("&intervals=10" if read == "plot" else "") if read not in ("value", "end") else ""
    response = client.get(f"/piwebapi/streamsets/{read}?{query}{extra}")
    assert response.status_code == 200
    good, failed, bad = response.get_json()["Items"]
    assert failed["WebId"] == ids["BAD.STREAM"]
    assert failed["WebException"] == {"StatusCode": 502, "Errors": ["The request was cancelled."]}
    assert "WebException" not in good and "WebException" not in bad
    assert good["Name"] == "GOOD.PLAIN" and bad["Name"] == "BAD.ERR1"
    # read on its own, the stream answers
    alone = client.get(f"/piwebapi/streams/{ids['BAD.STREAM']}/{read}?{extra.lstrip('&')}")
    assert alone.status_code == 200


def test_bad_values_load_per_point_and_group():
    scenario = load_scenario(str(SCENARIO))
    by_name = {p.name: p for p in scenario.data_servers[0].points}
    assert by_name["BAD.ERR1"].bad_values == by_name["BAD.ERR2"].bad_values
    assert by_name["BAD.ERR1"].bad_values.kinds == ("object", "errors", "field")
    assert by_name["BAD.ARRAY"].bad_values.array == 3 and by_name["GOOD.PLAIN"].bad_values is None
    assert by_name["BAD.STREAM"].bad_values.stream_errors.status == 502
