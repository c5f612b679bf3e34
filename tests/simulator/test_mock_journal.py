"""Tests for simulator.mock.journal: the ring buffer, redaction, caps, queries and what gets journaled."""
from __future__ import annotations

import itertools
import time

import pytest
from flask import Flask

from simulator.pi import errors
from simulator import mock
from simulator.pi.errors import InvalidParameterError
from simulator.pi.errors import UnknownWebIdError
from simulator.mock.journal import Journal
from simulator.mock.journal import LoggedRequest
from simulator.mock.journal import redact
from simulator.mock.matching import RequestPattern
from simulator.scenario.model import Fault


def entry(path="/piwebapi/x", method="GET", **kwargs):
    return LoggedRequest(method=method, path=path, **kwargs)


def test_ring_buffer_keeps_the_newest():
    journal = Journal(size=3)
    for i in range(5):
        journal.append(entry(f"/p/{i}"))
    assert [e.path for e in journal.entries()] == ["/p/4", "/p/3", "/p/2"]
    assert [e.id for e in journal.entries()] == [5, 4, 3]
    journal.resize(2)
    assert [e.path for e in journal.entries()] == ["/p/4", "/p/3"]


def test_ids_never_restart():
    journal = Journal()
    journal.append(entry())
    journal.clear()
    assert journal.append(entry()).id == 2 and len(journal) == 1


def test_limit_and_since():
    journal = Journal()
    for i in range(6):
        journal.append(entry(f"/p/{i}", timestamp=1000 * i))
    assert [e.id for e in journal.entries(limit=2)] == [6, 5]
    assert [e.id for e in journal.entries(since=4)] == [6, 5]
    assert [e.id for e in journal.entries(since_ticks=3000)] == [6, 5, 4]
    assert journal.get(3).path == "/p/2" and journal.get(99) is None


def test_size_must_be_positive():
    with pytest.raises(InvalidParameterError, match="journal size must be >= 1, got 0"):
        Journal(size=0)


def test_redact():
    headers = [("Authorization", "Basic c2VjcmV0"), ("cookie", "a=b"), ("Proxy-Authorization", "x"),
               ("Accept", "application/json")]
    assert redact(headers) == (("Authorization", "REDACTED"), ("cookie", "REDACTED"),
                               ("Proxy-Authorization", "REDACTED"), ("Accept", "application/json"))


def test_find_count_remove_and_closest():
    journal = Journal()
    for path, method in [("/piwebapi/a", "GET"), ("/piwebapi/b", "GET"), ("/piwebapi/a", "POST")]:
        journal.append(entry(path, method))
    get_a = RequestPattern.parse({"method": "GET", "urlPath": "/piwebapi/a"})
    any_a = RequestPattern.parse({"urlPath": "/piwebapi/a"})
    assert journal.count(get_a) == 1 and journal.count(any_a) == 2
    assert [e.method for e in journal.find(any_a)] == ["GET", "POST"]  # oldest first
    (closest, distance), *_ = journal.closest(RequestPattern.parse({"method": "GET", "urlPath": "/piwebapi/c"}))
    assert closest.path in ("/piwebapi/a", "/piwebapi/b") and 0 < distance < 1
    assert journal.remove(any_a) == 2 and len(journal) == 1


def test_entry_json():
    e = entry(query_string="a=1", headers=(("Accept", "x"), ("Accept", "y")), body=b"\xff\x00", body_size=4,
              status=200, response_body=b'{"x":1}', response_size=7, timestamp=17_000_000_000_000_000)
    document = e.to_json()
    assert document["request"]["url"] == "/piwebapi/x?a=1"
    assert document["request"]["headers"] == {"Accept": ["x", "y"]}
    assert document["request"]["base64Body"] == "/wA=" and document["request"]["bodyTruncated"] is True
    assert document["response"]["body"] == '{"x":1}' and document["response"]["bodyTruncated"] is False
    assert document["request"]["loggedDateString"] == "2023-11-14T22:13:20.000Z"
    assert "body" not in e.to_json(bodies=False)["request"]


# ---- through a Flask app


@pytest.fixture
def app():
    app = Flask(__name__)
    errors.register(app)
    ticks = itertools.count(17_000_000_000_000_000, 10_000_000)
    mock.init_app(app, seed=1, faults=[Fault(name="down", path="/piwebapi/down", status=503)],
                  now=lambda: next(ticks))

    @app.get("/piwebapi/points/<web_id>")
    def get_point(web_id):
        if web_id == "missing":
            raise UnknownWebIdError(f"Unknown WebId {web_id!r}")
        return {"WebId": web_id}

    @app.post("/piwebapi/echo")
    def post_echo():
        return {"size": len(app_request().get_data())}

    @app.get("/piwebapi/down")
    def get_down():
        return {}

    return app


def app_request():
    from flask import request

    return request


def journal_of(app) -> Journal:
    return app.extensions["pisim.mock"].journal


def test_exchanges_are_journaled_with_redacted_secrets(app):
    client = app.test_client()
    client.set_cookie("session", "cookie-secret")
    client.get("/piwebapi/points/P1?selectedFields=Name", headers={"Authorization": "Bearer tok-123"})
    (e,) = journal_of(app).entries()
    assert (e.method, e.path, e.query_string, e.status) == ("GET", "/piwebapi/points/P1", "selectedFields=Name", 200)
    headers = dict(e.headers)
    assert headers["Authorization"] == "REDACTED" and headers["Cookie"] == "REDACTED"
    assert "tok-123" not in str(e.to_json()) and "cookie-secret" not in str(e.to_json())
    assert e.response_body == b'{"WebId":"P1"}\n' and e.response_size == len(e.response_body)
    assert e.duration_ms >= 0 and e.timestamp == 17_000_000_000_000_000
    assert not (e.unmatched or e.batch or e.proxied) and e.stub_id is None


def test_body_cap(app):
    app.extensions["pisim.mock"].configure(body_cap=20)
    response = app.test_client().post("/piwebapi/echo", data=b"x" * 50)
    assert response.json == {"size": 50}  # the route still reads the whole body
    (e,) = journal_of(app).entries()
    assert e.body == b"x" * 20 and e.body_size == 50 and e.body_truncated
    assert e.to_json()["response"]["bodyTruncated"] is False  # {"size":50} fits the cap
    app.test_client().post("/piwebapi/echo", data=b"x" * 10**6)
    assert journal_of(app).entries()[0].response_complete


def test_unmatched_means_the_router_found_nothing(app):
    client = app.test_client()
    client.get("/piwebapi/nothing/here")
    client.get("/piwebapi/points/missing")  # a route that answers 404 itself is not unmatched
    unknown, routed = journal_of(app).entries()[::-1]
    assert unknown.status == 404 and unknown.unmatched
    assert routed.status == 404 and not routed.unmatched
    assert [e.path for e in journal_of(app).unmatched()] == ["/piwebapi/nothing/here"]


def test_faults_batch_and_admin(app):
    client = app.test_client()
    client.get("/piwebapi/down")
    client.get("/piwebapi/points/P2", environ_overrides={"pisim.batch": True})
    client.get("/__admin/requests")
    down, sub = journal_of(app).entries()[::-1]
    assert down.status == 503 and down.fault == "down"
    assert sub.batch and sub.to_json()["batch"] is True
    assert len(journal_of(app)) == 2  # admin calls are not journaled


def test_admin_journal_endpoints(app):
    client = app.test_client()
    for web_id in ("A", "B", "C"):
        client.get(f"/piwebapi/points/{web_id}")
    listed = client.get("/__admin/requests?limit=2").json
    assert [r["request"]["path"] for r in listed["requests"]] == ["/piwebapi/points/C", "/piwebapi/points/B"]
    assert listed["meta"]["total"] == 3
    first_id = listed["requests"][1]["id"] - 1
    assert len(client.get(f"/__admin/requests?since={first_id}").json["requests"]) == 2
    assert len(client.get("/__admin/requests?since=2023-11-14T22:13:21Z").json["requests"]) == 2
    assert client.get("/__admin/requests?since=yesterday").status_code == 400
    assert client.get(f"/__admin/requests/{first_id}").json["request"]["path"] == "/piwebapi/points/A"
    assert client.get("/__admin/requests/9999").status_code == 404
    assert client.post("/__admin/requests/count", json={"urlPathPattern": "/piwebapi/points/[AB]"}).json == {
        "count": 2}
    found = client.post("/__admin/requests/find", json={"method": "GET", "urlPath": "/piwebapi/points/C"}).json
    assert [r["request"]["path"] for r in found["requests"]] == ["/piwebapi/points/C"]
    assert client.post("/__admin/requests/remove", json={"urlPath": "/piwebapi/points/C"}).json == {"removed": 1}
    assert client.delete("/__admin/requests").status_code == 200
    assert client.get("/__admin/requests").json["requests"] == []


def test_logged_date_is_the_wall_clock_time_of_the_request_not_the_scenario_clock(tiny_scenario):
    from simulator import create_app

    app = create_app(tiny_scenario, now="2026-11-25T00:00:00Z")
    client = app.test_client()
    before = time.time()
    assert client.get("/piwebapi/dataservers").status_code == 200
    after = time.time()
    (logged,) = client.get("/__admin/requests").get_json()["requests"]
    assert before - 0.001 <= logged["request"]["loggedDate"] / 1000 <= after + 0.001
    assert logged["request"]["loggedDateString"] != "2026-11-25T00:00:00.000Z"
