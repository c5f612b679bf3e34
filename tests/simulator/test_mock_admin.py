"""Tests for simulator.mock.admin and stubs: the /__admin API over a minimal Flask app."""
from __future__ import annotations

import json
import time
import uuid

import pytest
from flask import Flask

from simulator.pi import errors
from simulator import mock
from simulator.pi.errors import UnauthorizedError
from simulator.scenario.model import Fault

RECORDED = "/piwebapi/streams/F1DP/recorded"


@pytest.fixture
def sleeps(monkeypatch):
    waited: list[float] = []
    monkeypatch.setattr(time, "sleep", waited.append)
    return waited


def make_app(faults=(), *, auth=False):
    app = Flask(__name__)
    errors.register(app)
    if auth:  # registered before the mock: the mock's hook must still run first
        @app.before_request
        def require_auth():
            from flask import request

            if not request.path.startswith("/__admin") and "Authorization" not in request.headers:
                raise UnauthorizedError("Authorization has been denied for this request.",
                                        headers={"WWW-Authenticate": 'Basic realm="PI"'})
    mock.init_app(app, seed=3, faults=list(faults))

    @app.get("/piwebapi/streams/<web_id>/recorded")
    def get_recorded(web_id):
        return {"Items": [{"Value": 1.0}], "WebId": web_id}

    @app.get("/piwebapi/system")
    def get_system():
        return {"ProductTitle": "real route"}

    return app


@pytest.fixture
def app():
    return make_app([Fault(name="scenario-rule", path="/piwebapi/flaky", status=503)])


@pytest.fixture
def client(app):
    return app.test_client()


def stub(client, request=None, response=None, **extra):
    mapping = {"request": request or {"method": "GET", "urlPath": RECORDED},
               "response": response or {"status": 200, "jsonBody": {"Items": []}}, **extra}
    answer = client.post("/__admin/mappings", json=mapping)
    assert answer.status_code == 201, answer.json
    return answer.json


def test_stub_overrides_the_route(client):
    assert client.get(RECORDED).json["Items"] == [{"Value": 1.0}]
    created = stub(client, response={"status": 200, "jsonBody": {"Items": ["stubbed"]},
                                     "headers": {"X-Test": ["a", "b"]}})
    assert uuid.UUID(created["id"])
    response = client.get(RECORDED)
    assert response.json == {"Items": ["stubbed"]}
    assert response.headers.getlist("X-Test") == ["a", "b"]
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert client.get("/piwebapi/system").json == {"ProductTitle": "real route"}
    entry = client.get("/__admin/requests?limit=2").json["requests"][1]
    assert entry["wasMatched"] and entry["stubMapping"]["id"] == created["id"]


def test_stub_serves_a_path_no_route_knows(client):
    stub(client, request={"method": "ANY", "urlPathPattern": "/piwebapi/custom/.*"},
         response={"status": 202, "body": "plain text", "headers": {"Content-Type": "text/plain"}})
    response = client.delete("/piwebapi/custom/thing")
    assert (response.status_code, response.data) == (202, b"plain text")


def test_stub_runs_before_auth():
    client = make_app(auth=True).test_client()
    assert client.get(RECORDED).status_code == 401
    stub(client)
    assert client.get(RECORDED).json == {"Items": []}


def test_serving_many_url_stubs_measures_no_distances(client, monkeypatch):
    """A replayed recording holds hundreds of exact-URL stubs; picking one must not cost an edit
    distance per stub (it did: 90 ms each for a 700-character URL, so 500 stubs took 45 s a request)."""
    from simulator.mock.matching import distance

    urls = [f"{RECORDED}?startTime=2026-11-24T{h:02d}%3A00%3A00Z&maxCount=97" for h in range(24)]
    for i, url in enumerate(urls):
        stub(client, request={"method": "GET", "url": url}, response={"status": 200, "jsonBody": {"n": i}})

    def measured(*args):
        raise AssertionError("serving measured a distance")
    monkeypatch.setattr(distance.Levenshtein, "normalized_distance", measured)
    assert [client.get(url).json["n"] for url in urls] == list(range(24))


def test_priority_then_newest_wins(client):
    stub(client, response={"status": 200, "body": "old"})
    stub(client, response={"status": 200, "body": "new"})
    assert client.get(RECORDED).data == b"new"
    stub(client, request={"urlPathPattern": "/piwebapi/.*"}, response={"status": 200, "body": "catch-all"},
         priority=10)
    assert client.get(RECORDED).data == b"new"
    stub(client, request={"urlPathPattern": "/piwebapi/.*"}, response={"status": 200, "body": "first"},
         priority=1)
    assert client.get(RECORDED).data == b"first"
    order = [m["response"]["body"] for m in client.get("/__admin/mappings").json["mappings"]]
    assert order == ["first", "new", "old", "catch-all"]


def test_times_then_fall_through(client):
    stub(client, response={"status": 503, "body": "busy"}, times=2)
    assert [client.get(RECORDED).status_code for _ in range(3)] == [503, 503, 200]
    client.post("/__admin/reset")
    stub(client, response={"status": 503, "body": "busy"}, times=1)
    assert [client.get(RECORDED).status_code for _ in range(2)] == [503, 200]


def test_scenarios(client):
    common = {"scenarioName": "retry"}
    stub(client, response={"status": 503}, requiredScenarioState="Started", newScenarioState="recovered",
         **common)
    stub(client, response={"status": 200, "body": "ok"}, requiredScenarioState="recovered", **common)
    assert [client.get(RECORDED).status_code for _ in range(3)] == [503, 200, 200]
    (scenario,) = client.get("/__admin/scenarios").json["scenarios"]
    assert scenario["name"] == "retry" and scenario["state"] == "recovered"
    assert scenario["possibleStates"] == ["Started", "recovered"]
    assert client.post("/__admin/scenarios/reset").status_code == 200
    assert client.get(RECORDED).status_code == 503
    assert client.put("/__admin/scenarios/retry/state", json={"state": "recovered"}).status_code == 200
    assert client.get(RECORDED).status_code == 200
    assert client.put("/__admin/scenarios/retry/state").status_code == 200  # no body: back to Started
    assert client.get(RECORDED).status_code == 503
    missing = client.put("/__admin/scenarios/nope/state", json={"state": "x"})
    assert missing.status_code == 404 and missing.json == {"Errors": ["no scenario named 'nope'"]}
    bad = client.put("/__admin/scenarios/retry/state", json={"state": "bogus"})
    assert bad.status_code == 400 and "'bogus' is not a state of scenario 'retry'" in bad.json["Errors"][0]


def test_mapping_crud(client):
    created = stub(client, name="first")
    stub_id = created["id"]
    assert client.get(f"/__admin/mappings/{stub_id}").json["name"] == "first"
    replaced = client.put(f"/__admin/mappings/{stub_id}",
                          json={"request": {"urlPath": RECORDED}, "response": {"body": "edited"}})
    assert replaced.status_code == 200 and replaced.json["id"] == stub_id
    assert client.get(RECORDED).data == b"edited"
    assert client.delete(f"/__admin/mappings/{stub_id}").status_code == 200
    assert client.get(f"/__admin/mappings/{stub_id}").status_code == 404
    assert client.put(f"/__admin/mappings/{stub_id}", json={}).status_code == 404
    given = str(uuid.uuid4())
    assert stub(client, id=given)["id"] == given
    page = client.get("/__admin/mappings?limit=1&offset=0").json
    assert page["meta"]["total"] == 1 and len(page["mappings"]) == 1
    assert client.delete("/__admin/mappings").status_code == 200
    assert client.get("/__admin/mappings").json["mappings"] == []


@pytest.mark.parametrize("mapping, message", [
    ({"request": {"urlPath": "/x"}}, "mapping: needs both request and response"),
    ({"request": {"urlPath": "/x"}, "response": {"status": 99}}, "mapping.response.status: must be an HTTP status"),
    ({"request": {"urlPath": "/x"}, "response": {}, "priority": 0}, "mapping.priority: must be an integer >= 1"),
    ({"request": {"urlPath": "/x"}, "response": {}, "id": "nope"}, "mapping.id: must be a UUID, got 'nope'"),
    ({"request": {"urlPath": "/x"}, "response": {"fault": "EXPLODE"}}, "mapping.response.fault: must be one of"),
    ({"request": {"urlPath": "/x"}, "response": {"jsonBody": 1, "body": "x"}}, "give one of jsonBody"),
    ({"request": {"urlPath": "/x"}, "response": {}, "requiredScenarioState": "a"}, "need scenarioName"),
    ({"request": {"urlPath": "/x"}, "response": {}, "colour": 1}, "unknown key"),
    ({"request": {"headers": {"A": {"matches": "("}}}, "response": {}}, "mapping.request.headers.A.matches"),
])
def test_bad_mappings_are_400_naming_the_field(client, mapping, message):
    response = client.post("/__admin/mappings", json=mapping)
    assert response.status_code == 400
    assert message in response.json["Errors"][0]


def test_bad_json_body(client):
    response = client.post("/__admin/mappings", data=b"{nope", content_type="application/json")
    assert response.status_code == 400 and "not valid JSON" in response.json["Errors"][0]
    assert client.post("/__admin/mappings").status_code == 400


def test_startup_mappings_survive_resets(app, client, tmp_path):
    (tmp_path / "one.json").write_text(json.dumps(
        {"request": {"urlPath": "/piwebapi/system"}, "response": {"body": "from file"}}))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "many.json").write_text(json.dumps({"mappings": [
        {"request": {"urlPath": "/piwebapi/a"}, "response": {"body": "a"}}]}))
    assert app.extensions["pisim.mock"].load_mappings(tmp_path) == 2
    stub(client, request={"urlPath": "/piwebapi/b"}, response={"body": "runtime"})
    assert client.get("/piwebapi/system").data == b"from file"
    client.post("/__admin/mappings/reset")
    assert client.get("/piwebapi/b").status_code == 404
    assert client.get("/piwebapi/a").data == b"a"
    client.delete("/__admin/mappings")
    assert client.get("/piwebapi/system").json == {"ProductTitle": "real route"}
    client.post("/__admin/reset")
    assert client.get("/piwebapi/system").data == b"from file"


def test_load_mappings_errors_name_the_file(tmp_path):
    (tmp_path / "bad.json").write_text('{"request": {}, "response": {"status": "x"}}')
    with pytest.raises(errors.InvalidParameterError, match=r"bad.json: mappings\[0\].response.status"):
        mock.load_mappings(tmp_path)
    with pytest.raises(errors.InvalidParameterError, match="does not exist"):
        mock.load_mappings(tmp_path / "missing")


def test_save_and_import(client, tmp_path):
    stub(client, name="saved", request={"urlPath": RECORDED, "headers": {"Authorization": {"equalTo": "Basic x"}}})
    answer = client.post("/__admin/mappings/save", json={"directory": str(tmp_path / "out")})
    assert answer.status_code == 200 and len(answer.json["files"]) == 1
    text = (tmp_path / "out" / answer.json["files"][0]).read_text()
    assert "Basic x" not in text and "Authorization" not in text
    assert client.post("/__admin/mappings/save", json={}).status_code == 400
    specs = mock.load_mappings(tmp_path / "out")
    client.delete("/__admin/mappings")
    imported = client.post("/__admin/mappings/import", json={"mappings": specs})
    assert imported.status_code == 200 and len(imported.json["ids"]) == 1
    assert client.post("/__admin/mappings/import", json={"mappings": [{"request": {}}]}).status_code == 400


def test_near_misses(client):
    stub(client, request={"method": "GET", "urlPath": "/piwebapi/streams/F1DP/value"})
    stub(client, request={"method": "POST", "urlPath": "/piwebapi/batch"})
    client.get("/piwebapi/Streams/F1DP/value")  # a case slip: no route, no stub
    (entry,) = client.get("/__admin/requests/unmatched").json["requests"]
    assert entry["request"]["path"] == "/piwebapi/Streams/F1DP/value" and entry["response"]["status"] == 404
    misses = client.get("/__admin/requests/unmatched/near-misses").json["nearMisses"]
    assert misses[0]["stubMapping"]["request"]["urlPath"] == "/piwebapi/streams/F1DP/value"
    assert 0 < misses[0]["matchResult"]["distance"] < misses[1]["matchResult"]["distance"]
    assert misses[0]["requestId"] == entry["id"]
    direct = client.post("/__admin/near-misses/request", json={"method": "POST", "url": "/piwebapi/batchx"})
    assert direct.json["nearMisses"][0]["stubMapping"]["request"]["urlPath"] == "/piwebapi/batch"
    by_pattern = client.post("/__admin/near-misses/request-pattern", json={"urlPath": "/piwebapi/streams/F1DP/value"})
    assert by_pattern.json["nearMisses"][0]["request"]["request"]["path"] == "/piwebapi/Streams/F1DP/value"


def test_faults_through_admin(client):
    assert client.get("/piwebapi/flaky").status_code == 503  # the scenario rule (no route behind it: still 503)
    created = client.post("/__admin/faults", json={"name": "every-2nd", "path": "/piwebapi/streams/*/recorded",
                                                   "every": 2, "status": 429, "retry_after": 2})
    assert created.status_code == 201 and created.json["origin"] == "runtime"
    codes = [client.get(RECORDED).status_code for _ in range(4)]
    assert codes == [200, 429, 200, 429]
    listed = {f["name"]: f for f in client.get("/__admin/faults").json["faults"]}
    assert listed["every-2nd"]["matched"] == 4 and listed["every-2nd"]["fired"] == 2
    assert listed["scenario-rule"]["origin"] == "scenario"
    bad = client.post("/__admin/faults", json={"name": "x", "rate": 2})
    assert bad.status_code == 400 and bad.json["Errors"][0].startswith("fault 'x'.rate: must be between 0 and 1")
    assert client.post("/__admin/faults", json={"name": "every-2nd"}).status_code == 400
    assert client.delete("/__admin/faults/every-2nd").status_code == 200
    assert client.delete("/__admin/faults/every-2nd").status_code == 404
    assert client.delete("/__admin/faults").json["enabled"] is False
    assert client.get("/piwebapi/flaky").status_code == 404  # switched off: the router answers
    assert client.post("/__admin/settings", json={"faultsEnabled": True}).json["faultsEnabled"] is True
    assert client.get("/piwebapi/flaky").status_code == 503


def test_fault_runs_before_stubs(client):
    stub(client, request={"urlPath": "/piwebapi/flaky"}, response={"body": "stub"})
    assert client.get("/piwebapi/flaky").status_code == 503


def test_reset_restores_the_start(client):
    stub(client)
    client.post("/__admin/faults", json={"name": "runtime", "status": 500})
    client.post("/__admin/settings", json={"fixedDelay": 5})
    client.get(RECORDED)
    assert client.post("/__admin/reset").status_code == 200
    assert client.get("/__admin/mappings").json["mappings"] == []
    assert [f["name"] for f in client.get("/__admin/faults").json["faults"]] == ["scenario-rule"]
    assert client.get("/__admin/faults").json["faults"][0]["matched"] == 0
    assert client.get("/__admin/requests").json["requests"] == []
    assert client.get("/__admin/settings").json["fixedDelay"] == 0


def test_settings_and_delays(client, sleeps):
    assert client.post("/__admin/settings", json={"fixedDelay": 20, "journalSize": 5}).json["journalSize"] == 5
    client.get("/piwebapi/system")
    assert sleeps == [0.02]
    stub(client, response={"status": 200, "fixedDelayMilliseconds": 100,
                           "delayDistribution": {"type": "uniform", "lower": 10, "upper": 20}})
    client.get(RECORDED)
    assert 0.11 <= sleeps[-1] <= 0.12
    assert client.post("/__admin/settings", json={"fixedDelay": -1}).status_code == 400
    assert client.post("/__admin/settings", json={"faultsEnabled": "yes"}).status_code == 400
    assert client.post("/__admin/settings", json={"speed": 1}).status_code == 400
    assert client.post("/__admin/settings", json={"settings": {"fixedDelay": 0}}).json["fixedDelay"] == 0


def test_body_kinds_and_dribble(client, sleeps):
    stub(client, request={"urlPath": "/piwebapi/bin"}, response={"base64Body": "AAEC"})
    assert client.get("/piwebapi/bin").data == b"\x00\x01\x02"
    stub(client, request={"urlPath": "/piwebapi/slow"},
         response={"body": "x" * 100, "chunkedDribbleDelay": {"numberOfChunks": 5, "totalDuration": 500}})
    response = client.get("/piwebapi/slow")
    assert response.data == b"x" * 100
    assert sum(sleeps) == pytest.approx(0.5) and len(sleeps) == 5


def test_socket_faults_under_the_test_client(client):
    stub(client, request={"urlPath": "/piwebapi/reset"}, response={"fault": "CONNECTION_RESET_BY_PEER"})
    with pytest.raises(ConnectionResetError):
        client.get("/piwebapi/reset")
    stub(client, request={"urlPath": "/piwebapi/chunk"}, response={"fault": "MALFORMED_RESPONSE_CHUNK"})
    response = client.get("/piwebapi/chunk")
    assert response.status_code == 200
    with pytest.raises(ConnectionResetError):
        response.get_data()
    reset, chunk = client.get("/__admin/requests").json["requests"][::-1]
    assert reset["fault"] == "CONNECTION_RESET_BY_PEER" and reset["response"]["status"] is None
    assert chunk["fault"] == "MALFORMED_RESPONSE_CHUNK" and chunk["response"]["status"] == 200


def test_health_and_unknown_admin_route(client):
    assert client.get("/__admin/health").json["status"] == "healthy"
    missing = client.get("/__admin/nothing")
    assert missing.status_code == 404 and "Errors" in missing.json
