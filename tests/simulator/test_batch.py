"""POST /piwebapi/batch: keyed sub-requests with absolute, relative and JSONPath resources, {0}
Parameters, RequestTemplate fan-out, parents (409 when one failed), the 400s for bodies that cannot
run, and CSRF. `client` checks the batch response (and its shape) against the contract."""
from __future__ import annotations

import orjson
import pytest

from tests.conftest import contract_app

HEADERS = {"X-Requested-With": "pytest"}
FLOAT32 = "\\\\PISRV01\\TINY.FLOAT32"


@pytest.fixture(scope="module")
def app(tiny_scenario):
    """One app for the module (its tests only read); `client` still checks every response."""
    return contract_app(tiny_scenario)


def batch(client, body: dict, status: int = 207) -> dict:
    response = client.post("/piwebapi/batch", data=orjson.dumps(body), headers=HEADERS,
                           content_type="application/json")
    assert response.status_code == status, response.get_json()
    return response.get_json()


def direct(client, url: str) -> dict:
    response = client.get(url)
    assert response.status_code == 200
    return response.get_json()


def test_resources_absolute_relative_and_rooted(client):
    point = direct(client, f"/piwebapi/points?path={FLOAT32}")
    result = batch(client, {
        "absolute": {"Method": "GET", "Resource": f"https://pi.elsewhere.example:4443/piwebapi/points?path={FLOAT32}"},
        "relative": {"Method": "GET", "Resource": f"points?path={FLOAT32}"},
        "rooted": {"Resource": f"/piwebapi/points/{point['WebId']}"},
    })
    assert list(result) == ["absolute", "relative", "rooted"]
    for key in result:
        assert result[key]["Status"] == 200, key
        assert result[key]["Content"] == point, key  # host ignored: links name the server that was asked
    assert result["absolute"]["Headers"]["Content-Type"].startswith("application/json")


def test_json_path_into_a_parent(client):
    result = batch(client, {
        "a": {"Method": "GET", "Resource": f"points?path={FLOAT32}"},
        "b": {"Method": "GET", "Resource": "$.a.Content.Links.Value", "ParentIds": ["a"]},
        "c": {"Method": "GET", "Resource": "$.a.Content.Links.RecordedData", "ParentIds": ["a"]},
    })
    web_id = result["a"]["Content"]["WebId"]
    assert result["b"]["Status"] == 200
    assert result["b"]["Content"] == direct(client, f"/piwebapi/streams/{web_id}/value")
    assert result["c"]["Content"] == direct(client, f"/piwebapi/streams/{web_id}/recorded")


def test_parameters_fill_placeholders(client):
    result = batch(client, {
        "server": {"Resource": "dataservers?name=PISRV01"},
        "points": {"Resource": "{0}?nameFilter={1}", "ParentIds": ["server"],
                   "Parameters": ["$.server.Content.Links.Points", "$.server.Content.Name"]},
        "recorded": {"Resource": "{0}?startTime=*-5m&maxCount=3", "ParentIds": ["points"],
                     "Parameters": ["$.points.Content.Items[0].Links.RecordedData"]},
    })
    assert result["server"]["Status"] == 200 and result["points"]["Status"] == 200
    assert result["points"]["Content"]["Items"] == []  # nameFilter=PISRV01 names no point
    first = direct(client, "/piwebapi/points?path=\\\\PISRV01\\TINY.FLOAT32")
    assert result["recorded"]["Status"] == 400
    assert "did not select any tokens" in result["recorded"]["Content"]["Errors"][0]
    again = batch(client, {
        "points": {"Resource": "dataservers/{0}/points?nameFilter=TINY.FLOAT*",
                   "Parameters": ["$.server.Content.WebId"], "ParentIds": ["server"]},
        "server": {"Resource": "dataservers?name=PISRV01"},
    })
    assert [p["Name"] for p in again["points"]["Content"]["Items"]] == ["TINY.FLOAT32", "TINY.FLOAT64"]
    assert again["points"]["Content"]["Items"][0] == first


def test_request_template_fans_out_over_items(client):
    result = batch(client, {
        "points": {"Resource": "dataservers?name=PISRV01"},
        "list": {"Resource": "{0}?nameFilter=TINY.S*", "Parameters": ["$.points.Content.Links.Points"],
                 "ParentIds": ["points"]},
        "values": {"Method": "GET", "ParentIds": ["list"],
                   "RequestTemplate": {"Resource": "{0}?selectedFields=Timestamp;Value"},
                   "Parameters": ["$.list.Content.Items[*].Links.Value"]},
    })
    listed = result["list"]["Content"]["Items"]
    assert [p["Name"] for p in listed] == ["TINY.STRING", "TINY.STEP", "TINY.SUBSECOND"]
    fanned = result["values"]
    assert fanned["Status"] == 207
    assert [item["Status"] for item in fanned["Content"]["Items"]] == [200, 200, 200]
    for item, point in zip(fanned["Content"]["Items"], listed):
        expected = direct(client, f"/piwebapi/streams/{point['WebId']}/value?selectedFields=Timestamp;Value")
        assert item["Content"] == expected and set(item["Content"]) == {"Timestamp", "Value"}


def test_children_of_a_failed_parent_get_409(client):
    result = batch(client, {
        "missing": {"Resource": "points?path=\\\\PISRV01\\NO.SUCH.TAG"},
        "child": {"Resource": "$.missing.Content.Links.Value", "ParentIds": ["missing"]},
        "grandchild": {"Resource": "points?path=\\\\PISRV01\\TINY.GAP", "ParentIds": ["child"]},
        "sibling": {"Resource": "points?path=\\\\PISRV01\\TINY.GAP"},
    })
    assert result["missing"]["Status"] == 404 and "NO.SUCH.TAG" in result["missing"]["Content"]["Errors"][0]
    assert result["child"]["Status"] == 409 and "missing" in result["child"]["Content"]["Errors"][0]
    assert result["grandchild"]["Status"] == 409
    assert result["sibling"]["Status"] == 200


def test_a_json_path_that_selects_nothing_is_a_400_sub_response(client):
    result = batch(client, {
        "a": {"Resource": f"points?path={FLOAT32}"},
        "b": {"Resource": "$.a.Content.Links.NoSuchLink", "ParentIds": ["a"]},
        "c": {"Resource": "{0}", "Parameters": ["$.a.Content.Nothing[*]"], "ParentIds": ["a"]},
        "d": {"RequestTemplate": {"Resource": "{0}"}, "Parameters": ["$.a.Content.Items[*].Links.Value"],
              "ParentIds": ["a"]},
        "e": {"Resource": "$.a.Content[", "ParentIds": ["a"]},
    })
    for key in "bcd":
        assert result[key]["Status"] == 400, key
        assert "did not select any tokens" in result[key]["Content"]["Errors"][0], key
    assert result["e"]["Status"] == 400 and "not valid" in result["e"]["Content"]["Errors"][0]


def test_sub_request_errors_pass_through(client):
    result = batch(client, {
        "bad_time": {"Resource": f"points?path={FLOAT32}"},
        "recorded": {"Resource": "{0}?startTime=someday", "Parameters": ["$.bad_time.Content.Links.RecordedData"],
                     "ParentIds": ["bad_time"]},
        "nowhere": {"Resource": "/piwebapi/nothing/here"},
        "method": {"Method": "DELETE", "Resource": "dataservers"},
    })
    assert result["recorded"]["Status"] == 400 and "startTime" in result["recorded"]["Content"]["Errors"][0]
    assert result["nowhere"]["Status"] == 404
    assert result["method"]["Status"] == 405 and "GET" in result["method"]["Headers"]["Allow"]


def test_nested_batch_with_content(client):
    inner = {"x": {"Resource": f"points?path={FLOAT32}&selectedFields=Name"}}
    result = batch(client, {"outer": {"Method": "POST", "Resource": "batch",
                                      "Content": orjson.dumps(inner).decode()}})
    assert result["outer"]["Status"] == 207
    assert result["outer"]["Content"] == {"x": {"Status": 200, "Headers": result["outer"]["Content"]["x"]["Headers"],
                                                "Content": {"Name": "TINY.FLOAT32"}}}


@pytest.mark.parametrize(("body", "words"), [
    ({"a": {"Resource": "dataservers", "ParentIds": ["b"]}, "b": {"Resource": "dataservers", "ParentIds": ["a"]}},
     "circular"),
    ({"a": {"Resource": "dataservers", "ParentIds": ["a"]}}, "circular"),
    ({"a": {"Resource": "dataservers", "ParentIds": ["ghost"]}}, "unknown parent 'ghost'"),
    ({"a": {"Resource": "dataservers", "Content": {"not": "a string"}}}, "Content must be a string"),
    ({"a": {"Resource": 42}}, "Resource must be a string"),
    ({"a": {"Resource": "dataservers", "Headers": {"X": 1}}}, "Headers must map names to strings"),
    ({"a": {"RequestTemplate": "dataservers"}}, "RequestTemplate must be an object"),
    ({"a": {"Resource": "dataservers", "Parameters": "$.b"}}, "Parameters"),
    ({"a": "dataservers"}, "must be an object"),
    ([{"Resource": "dataservers"}], "JSON object of keyed requests"),
])
def test_bodies_that_cannot_run_are_400(client, body, words):
    [message] = batch(client, body, 400)["Errors"]
    assert words in message


def test_sub_requests_that_cannot_run_answer_on_their_own(client):
    result = batch(client, {"fetch": {"Method": "FETCH", "Resource": "dataservers"},
                            "garbled": {"Method": "G E T", "Resource": "dataservers"},
                            "nothing": {"Method": "GET"},
                            "extra": {"Resource": "dataservers", "Colour": "blue"},
                            "child": {"Resource": "dataservers", "ParentIds": ["nothing"]}})
    assert result["fetch"]["Status"] == 405 and "GET" in result["fetch"]["Headers"]["Allow"]
    assert result["garbled"]["Status"] == 400 and "Method" in result["garbled"]["Content"]["Errors"][0]
    assert result["nothing"]["Status"] == 400 and "Resource" in result["nothing"]["Content"]["Errors"][0]
    assert result["extra"]["Status"] == 200  # unknown fields are ignored, as Json.NET does
    assert result["child"]["Status"] == 409


def test_an_empty_batch_runs_nothing(client):
    assert batch(client, {}) == {}


def test_null_fields_are_absent(client):
    result = batch(client, {"a": {"Method": None, "Resource": "dataservers", "Parameters": None, "ParentIds": None,
                                  "Headers": None, "Content": None, "RequestTemplate": None}})
    assert result["a"]["Status"] == 200 and result["a"]["Content"]["Items"][0]["Name"] == "PISRV01"


def test_a_body_that_is_not_json_is_400(client):
    response = client.post("/piwebapi/batch", data=b"{not json", headers=HEADERS, content_type="application/json")
    assert response.status_code == 400 and "not valid JSON" in response.get_json()["Errors"][0]
    response = client.post("/piwebapi/batch", data=b"\xff\xfe\x00", headers=HEADERS, content_type="application/json")
    assert response.status_code == 400


def test_csrf_defence_needs_x_requested_with(client):
    body = orjson.dumps({"a": {"Resource": "dataservers"}})
    response = client.post("/piwebapi/batch", data=body, content_type="application/json")
    assert response.status_code == 403 and "X-Requested-With" in response.get_json()["Errors"][0]
    assert client.post("/piwebapi/batch", data=body, content_type="application/json",
                       headers={"X-Requested-With": "anything"}).status_code == 207
    assert client.get("/piwebapi/batch").status_code == 405


def test_batch_without_csrf_defence(tiny_scenario):
    import dataclasses

    app = contract_app(dataclasses.replace(tiny_scenario, auth=dataclasses.replace(tiny_scenario.auth, csrf=False)))
    response = app.test_client().post("/piwebapi/batch", data=orjson.dumps({"a": {"Resource": "dataservers"}}),
                                      content_type="application/json")
    assert response.status_code == 207 and response.get_json()["a"]["Status"] == 200
