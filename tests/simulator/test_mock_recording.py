"""Tests for simulator.mock.recording: proxying to a local upstream, mappings, snapshot, files, client."""
from __future__ import annotations

import json
import socket

import pytest
import requests
from flask import Flask
from flask import request

from simulator.pi import errors
from simulator import mock
from simulator.mock import recording
from simulator.mock.journal import LoggedRequest
from tests.conftest import serve

SECRET = "Basic YWxpY2U6czNjcmV0"  # alice:s3cret


def make_upstream():
    """A stand-in for a real PI Web API: echoes what it got, counts calls per path."""
    app = Flask("upstream")
    calls: dict[str, int] = {}
    app.config["calls"] = calls
    app.config["seen_auth"] = []

    @app.route("/piwebapi/<path:rest>", methods=["GET", "POST"])
    def anything(rest):
        calls[rest] = calls.get(rest, 0) + 1
        app.config["seen_auth"].append(request.headers.get("Authorization"))
        body = {"Path": rest, "Query": request.query_string.decode(), "Call": calls[rest],
                "Body": request.get_data(as_text=True), "HasHost": request.host}
        response = app.response_class(json.dumps(body), mimetype="application/json")
        response.set_cookie("session", "upstream-secret")
        response.headers["X-Upstream"] = "yes"
        return response

    return app


def make_sim():
    app = Flask("sim")
    errors.register(app)
    mock.init_app(app, seed=1, faults=[])

    @app.get("/piwebapi/local")
    def local():
        return {"Local": True}

    @app.get("/piwebapi/points/<web_id>")
    def get_point(web_id):
        return {"WebId": web_id, "Name": f"tag-{web_id}"}

    return app


@pytest.fixture
def upstream():
    app = make_upstream()
    with serve(app) as url:
        yield app, url


def test_proxy_records_without_secrets(upstream):
    up, url = upstream
    client = make_sim().test_client()
    started = client.post("/__admin/recordings/start", json={
        "targetBaseUrl": url + "/", "captureHeaders": {"Accept": {}, "Authorization": {}},
        "filters": {"urlPathPattern": "/piwebapi/streams/.*"}})
    assert started.status_code == 200 and started.json["status"] == "Recording"
    response = client.get("/piwebapi/streams/F1DP/value?time=*", headers={"Authorization": SECRET,
                                                                          "Accept": "application/json"})
    assert response.status_code == 200 and response.headers["X-Upstream"] == "yes"
    assert response.json["Path"] == "streams/F1DP/value" and response.json["Query"] == "time=*"
    assert up.config["seen_auth"] == [SECRET]  # forwarded to the target...
    assert response.json["HasHost"] == url.split("//")[1]  # ...with the target's Host, not ours
    assert client.get("/piwebapi/local").json == {"Local": True}  # filtered out: served locally
    assert client.get("/__admin/recordings/status").json["captured"] == 1
    stopped = client.post("/__admin/recordings/stop", json={"persist": True})
    (mapping,) = stopped.json["mappings"]
    text = json.dumps(stopped.json)
    assert "YWxpY2U6czNjcmV0" not in text and "Authorization" not in text and "upstream-secret" not in text
    assert mapping["request"] == {"method": "GET", "url": "/piwebapi/streams/F1DP/value?time=*",
                                  "headers": {"Accept": {"equalTo": "application/json"}}}
    assert mapping["response"]["jsonBody"]["Call"] == 1
    assert "Set-Cookie" not in mapping["response"].get("headers", {})
    journal_text = json.dumps(client.get("/__admin/requests").json)
    assert "YWxpY2U6czNjcmV0" not in journal_text
    assert client.get("/__admin/recordings/status").json == {"status": "Stopped"}
    # persisted: served by the stub now, upstream not called again
    replay = client.get("/piwebapi/streams/F1DP/value?time=*", headers={"Accept": "application/json"})
    assert replay.json["Call"] == 1 and up.config["calls"]["streams/F1DP/value"] == 1


def test_repeats_become_a_scenario(upstream):
    up, url = upstream
    client = make_sim().test_client()
    client.post("/__admin/recordings/start", json={"targetBaseUrl": url})
    calls = [client.get("/piwebapi/streams/X/recorded").json["Call"] for _ in range(3)]
    client.post("/piwebapi/batch", data=b'{"A": {"Method": "GET"}}', content_type="application/json")
    assert calls == [1, 2, 3]
    mappings = client.post("/__admin/recordings/stop", json={"persist": True}).json["mappings"]
    sequence = [m for m in mappings if m["request"]["url"] == "/piwebapi/streams/X/recorded"]
    assert [m["requiredScenarioState"] for m in sequence] == ["Started", f"{sequence[0]['scenarioName']}-2",
                                                             f"{sequence[0]['scenarioName']}-3"]
    assert "newScenarioState" not in sequence[-1]
    batch = next(m for m in mappings if m["request"]["url"] == "/piwebapi/batch")
    assert batch["request"]["bodyPatterns"] == [{"equalToJson": {"A": {"Method": "GET"}}}]
    replay = [client.get("/piwebapi/streams/X/recorded").json["Call"] for _ in range(4)]
    assert replay == [1, 2, 3, 3]  # in order, then the last one repeats


def test_mappings_round_trip_through_files(upstream, tmp_path):
    _, url = upstream
    client = make_sim().test_client()
    client.post("/__admin/recordings/start", json={"targetBaseUrl": url, "captureHeaders": {"Cookie": {}}})
    client.set_cookie("auth", "cookie-secret")
    client.get("/piwebapi/points/A", headers={"Authorization": SECRET})
    stopped = client.post("/__admin/recordings/stop", json={"directory": str(tmp_path)}).json
    (name,) = stopped["files"]
    text = (tmp_path / name).read_text()
    assert "cookie-secret" not in text and "YWxpY2U6czNjcmV0" not in text and "upstream-secret" not in text
    fresh = make_sim()
    assert fresh.extensions["pisim.mock"].load_mappings(tmp_path) == 1
    assert fresh.test_client().get("/piwebapi/points/A").json["Path"] == "points/A"  # the recording, not the route


def test_write_mappings_redacts():
    mapping = {"id": "6a1f3c1e-0000-4000-8000-000000000000", "name": "GET /x",
               "request": {"url": "/x", "headers": {"Authorization": {"equalTo": SECRET}}},
               "response": {"status": 200, "headers": {"Set-Cookie": "a=b", "X-Ok": "1"}}}
    clean = recording.redact_mapping(mapping)
    assert "headers" not in clean["request"] and clean["response"]["headers"] == {"X-Ok": "1"}
    assert mapping["request"]["headers"]  # the original is untouched


def test_snapshot_from_the_journal():
    sim = make_sim()
    client = sim.test_client()
    for web_id in ("A", "B", "A"):
        client.get(f"/piwebapi/points/{web_id}", headers={"Authorization": SECRET})
    client.get("/piwebapi/nothing")  # router 404s are left out
    client.get("/piwebapi/points/C", environ_overrides={"pisim.batch": True})  # so are sub-requests
    shot = client.post("/__admin/recordings/snapshot",
                       json={"filters": {"urlPathPattern": "/piwebapi/points/.*"}, "persist": True}).json
    assert shot["skipped"] == 0
    assert sorted(m["request"]["url"] for m in shot["mappings"]) == ["/piwebapi/points/A", "/piwebapi/points/B"]
    assert "YWxpY2U6czNjcmV0" not in json.dumps(shot)
    assert all("scenarioName" not in m for m in shot["mappings"])  # same answers: one stub each
    assert client.get("/__admin/mappings").json["meta"]["total"] == 2
    client.delete("/__admin/requests")
    assert client.get("/piwebapi/points/A").json == {"WebId": "A", "Name": "tag-A"}  # now from the stub
    assert client.get("/__admin/requests").json["requests"][0]["wasMatched"]
    assert client.post("/__admin/recordings/snapshot", json={}).json["mappings"] == []  # stubbed: left out
    included = client.post("/__admin/recordings/snapshot", json={"includeStubbed": True}).json["mappings"]
    assert [m["request"]["url"] for m in included] == ["/piwebapi/points/A"]


def test_snapshot_sequences_and_skips():
    entries = []
    for i, (path, status) in enumerate([("/a", 503), ("/a", 200), ("/b", 200)], 1):
        entries.append(LoggedRequest("GET", path, status=status, response_body=b"{}", response_size=2, id=i,
                                     response_headers=(("Content-Type", "application/json"),)))
    entries.append(LoggedRequest("GET", "/c", status=200, response_body=b"{", response_size=9, id=4))
    mappings, skipped = recording.snapshot(entries, recording.RecordSpec())
    assert skipped == 1
    a = [m for m in mappings if m["request"]["url"] == "/a"]
    assert [m["response"]["status"] for m in a] == [503, 200] and a[0]["newScenarioState"].endswith("-2")
    flat, _ = recording.snapshot(entries, recording.RecordSpec(repeats_as_scenarios=False))
    assert [m["response"]["status"] for m in flat if m["request"]["url"] == "/a"] == [200]
    assert recording.snapshot(entries, recording.RecordSpec(ids=(3,)))[0][0]["request"]["url"] == "/b"


@pytest.mark.parametrize("spec, message", [
    ({}, "targetBaseUrl: is required"),
    ({"targetBaseUrl": "ftp://x"}, "must be an http(s) URL"),
    ({"targetBaseUrl": "http://u:p@x"}, "must not carry"),
    ({"targetBaseUrl": "http://x", "speed": 1}, "unknown key"),
    ({"targetBaseUrl": "http://x", "timeout": 0}, "timeout: must be a number of seconds > 0"),
])
def test_bad_record_specs(spec, message):
    response = make_sim().test_client().post("/__admin/recordings/start", json=spec)
    assert response.status_code == 400 and message in response.json["Errors"][0]


def test_stop_without_start_and_double_start():
    client = make_sim().test_client()
    assert client.get("/__admin/recordings/status").json == {"status": "NeverStarted"}
    assert client.post("/__admin/recordings/stop").status_code == 400
    client.post("/__admin/recordings/start", json={"targetBaseUrl": "http://127.0.0.1:9"})
    assert client.post("/__admin/recordings/start", json={"targetBaseUrl": "http://127.0.0.1:9"}).status_code == 400


def test_unreachable_target_is_a_502():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_sim().test_client()
    client.post("/__admin/recordings/start", json={"targetBaseUrl": f"http://127.0.0.1:{port}", "timeout": 2})
    response = client.get("/piwebapi/streams/X/value")
    assert response.status_code == 502 and f"127.0.0.1:{port}" in response.json["Errors"][0]


def test_admin_client_and_socket_faults_over_tcp():
    with serve(make_sim()) as url:
        admin = mock.AdminClient(url)
        admin.reset()
        created = admin.stub({"request": {"urlPath": "/piwebapi/empty"}, "response": {"fault": "EMPTY_RESPONSE"}})
        assert admin.stubs()[0]["id"] == created["id"]
        with pytest.raises(requests.ConnectionError):
            requests.get(url + "/piwebapi/empty", timeout=5)
        admin.stub({"request": {"urlPath": "/piwebapi/garbage"}, "response": {"fault": "RANDOM_DATA_THEN_CLOSE"}})
        with pytest.raises(requests.ConnectionError):
            requests.get(url + "/piwebapi/garbage", timeout=5)
        admin.stub({"request": {"urlPath": "/piwebapi/chunk"}, "response": {"fault": "MALFORMED_RESPONSE_CHUNK"}})
        with pytest.raises(requests.RequestException):
            requests.get(url + "/piwebapi/chunk", timeout=5)
        assert requests.get(url + "/piwebapi/local", timeout=5).json() == {"Local": True}
        assert admin.count({"urlPath": "/piwebapi/empty"}) == 1
        assert [r["request"]["path"] for r in admin.requests(limit=1)] == ["/piwebapi/local"]
        admin.add_fault(name="down", path="/piwebapi/local", status=503)
        assert requests.get(url + "/piwebapi/local", timeout=5).status_code == 503
        assert admin.faults()["faults"][0]["fired"] == 1
        admin.faults_off()
        assert requests.get(url + "/piwebapi/local", timeout=5).status_code == 200
        assert admin.settings(faultsEnabled=True)["faultsEnabled"] is True
        admin.remove_fault("down")
        with pytest.raises(errors.PIError, match="404"):
            admin.remove_fault("down")
