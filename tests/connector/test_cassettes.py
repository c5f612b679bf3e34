"""PIClient's main calls replayed from vcrpy cassettes recorded from the simulator, network blocked.

Replay (the default, and what CI runs): no simulator starts; every request is answered from
cassettes/test_cassettes/<test>.json and any request not in a cassette fails
(CannotOverwriteExistingCassetteException). The block_network mark also refuses any socket.

Re-record (`make cassettes`, i.e. `pytest tests/connector/test_cassettes.py --record-mode=rewrite`):
the module starts qa-tiny (fixed clock, so the answers are the same every time) and qa-faults (basic
auth) under gunicorn on loopback ports and records against them. Cassettes name the server
https://piwebapi.example whatever port it ran on, hold no Date/Server headers, no Authorization
header and no password.
"""
from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import requests

from connector.client import PIClient
from connector.client import build_auth
from connector.errors import UnknownPointError
from connector.paging import RecordedReader
from connector.paging import format_ns
from connector.paging import parse_ns
from connector.retry import RetryPolicy

from tests.connector.groundtruth import expected_rows
from tests.connector.groundtruth import simulator_for

ROOT = Path(__file__).resolve().parents[2]
CASSETTES = ROOT / "cassettes" / "test_cassettes"
BASE = "https://piwebapi.example"
USERNAME = "qa"
PASSWORD = "s3cret-for-cassette"
BASIC = "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
DROPPED_HEADERS = ("date", "server", "set-cookie", "connection")
#: qa-tiny's points as recorded (name, IDOnly WebID, type). Replay checks against these literals, so a
#: change in the simulator does not break CI; recording checks them against the scenario's catalog.
TINY_POINTS = [
    ("TINY.FLOAT32", "I1DPeuVCnmmhcVaUr-TVmGEnkAAQAAAA", "Float32"),
    ("TINY.FLOAT64", "I1DPeuVCnmmhcVaUr-TVmGEnkAAgAAAA", "Float64"),
    ("TINY.INT32", "I1DPeuVCnmmhcVaUr-TVmGEnkAAwAAAA", "Int32"),
    ("TINY.DIGITAL", "I1DPeuVCnmmhcVaUr-TVmGEnkABAAAAA", "Digital"),
    ("TINY.STRING", "I1DPeuVCnmmhcVaUr-TVmGEnkABQAAAA", "String"),
    ("TINY.STEP", "I1DPeuVCnmmhcVaUr-TVmGEnkABgAAAA", "Float32"),
    ("TINY.SUBSECOND", "I1DPeuVCnmmhcVaUr-TVmGEnkABwAAAA", "Float64"),
    ("TINY.GAP", "I1DPeuVCnmmhcVaUr-TVmGEnkACAAAAA", "Float32"),
]
WEB_ID = {name: web_id for name, web_id, _ in TINY_POINTS}
#: (tag, timestamp, value, digital state) of TINY.FLOAT32, TINY.STRING and TINY.DIGITAL in
#: [2026-11-24T23:50:00Z, 2026-11-25T00:00:00Z): TINY.STRING (15 min spacing) has none there.
RECORDED = [
    ('TINY.DIGITAL', '2026-11-24T23:51:13Z', None, 'Off'),
    ('TINY.DIGITAL', '2026-11-24T23:55:58Z', None, 'Off'),
    ('TINY.FLOAT32', '2026-11-24T23:50:00Z', 19.957428, None),
    ('TINY.FLOAT32', '2026-11-24T23:51:00Z', 19.884653, None),
    ('TINY.FLOAT32', '2026-11-24T23:52:00Z', 20.043324, None),
    ('TINY.FLOAT32', '2026-11-24T23:53:00Z', 19.963886, None),
    ('TINY.FLOAT32', '2026-11-24T23:54:00Z', 20.002472, None),
    ('TINY.FLOAT32', '2026-11-24T23:55:00Z', 20.083162, None),
    ('TINY.FLOAT32', '2026-11-24T23:56:00Z', 20.138027, None),
    ('TINY.FLOAT32', '2026-11-24T23:57:00Z', 20.163902, None),
    ('TINY.FLOAT32', '2026-11-24T23:58:00Z', 20.260603, None),
    ('TINY.FLOAT32', '2026-11-24T23:59:00Z', 20.22348, None),
]

pytestmark = [pytest.mark.block_network]

#: The loopback URLs of the simulators of this module (recording only), rewritten to BASE.
LIVE: list[str] = []


def _to_base(text: str) -> str:
    for url in LIVE:
        text = text.replace(url, BASE)
    return text


def _scrub_request(request):
    request.uri = _to_base(request.uri)
    return request


def _scrub_response(response):
    response["headers"] = {k: v for k, v in sorted(response["headers"].items(), key=lambda kv: kv[0].lower())
                           if k.lower() not in DROPPED_HEADERS}  # sorted: the order varies between recordings
    body = response["body"].get("string")
    if isinstance(body, bytes):
        response["body"]["string"] = _to_base(body.decode("utf-8")).encode("utf-8")
    elif isinstance(body, str):
        response["body"]["string"] = _to_base(body)
    if "Content-Length" in response["headers"]:
        response["headers"]["Content-Length"] = [str(len(response["body"]["string"]))]
    return response


@pytest.fixture(scope="module")
def vcr_cassette_dir():
    return str(CASSETTES)


@pytest.fixture(scope="module")
def vcr_config(record_mode):
    return {
        # CI replays only; `--record-mode=rewrite` (make cassettes) records again
        "record_mode": record_mode,
        "filter_headers": [("authorization", "REDACTED"), "cookie", "x-requested-with", "user-agent"],
        "filter_sensitive_data": {"<PASSWORD>": PASSWORD, "<BASIC-AUTH>": BASIC},
        "before_record_request": _scrub_request,
        "before_record_response": _scrub_response,
        "match_on": ["method", "path", "query", "body"],  # not scheme/host/port: recorded on any port
        "serializer": "json",
        "decode_compressed_response": True,
        "record_on_exception": False,
    }


def recording(record_mode: str) -> bool:
    return record_mode != "none"


@pytest.fixture(scope="module")
def tiny_url(record_mode):
    """qa-tiny's URL: a simulator under gunicorn when recording, the cassettes' fixed name otherwise."""
    if not recording(record_mode):
        yield BASE
        return
    from simulator.testing import SimulatorProcess

    with SimulatorProcess("qa-tiny") as sim:
        LIVE.append(sim.url)
        yield sim.url
        LIVE.remove(sim.url)


@pytest.fixture(scope="module")
def faults_url(record_mode):
    """qa-faults (basic auth) with a known password and its injected faults switched off, when recording."""
    if not recording(record_mode):
        yield BASE
        return
    from simulator.testing import SimulatorProcess

    with SimulatorProcess("qa-faults", env={"PISIM_QA_PASSWORD": PASSWORD}) as sim:
        assert requests.delete(sim.url + "/__admin/faults", timeout=10).status_code in (200, 204)
        LIVE.append(sim.url)
        yield sim.url
        LIVE.remove(sim.url)


def client(url: str, **kwargs) -> PIClient:
    policy = RetryPolicy(attempts=2, backoff=0.01, max_backoff=0.01)
    return PIClient(url + "/piwebapi", retry=policy, timeout=10, web_id_type="IDOnly", **kwargs)


def replayed_everything(cassette, record_mode) -> None:
    if not recording(record_mode):
        assert cassette.play_count == len(cassette) > 0
        assert cassette.all_played


# -------------------------------------------------------------------------------------- replays


@pytest.mark.vcr
def test_home_and_data_servers(tiny_url, vcr, record_mode):
    with client(tiny_url) as pi:
        home = pi.home()
        servers = pi.data_servers()
    assert home["Links"]["DataServers"] == f"{tiny_url}/piwebapi/dataservers"  # BASE when replayed
    assert [s["Name"] for s in servers] == ["PISRV01"]
    assert servers[0]["ServerTime"] == "2026-11-25T00:00:00Z"
    assert servers[0]["WebId"].startswith("I1DS")  # IDOnly
    assert servers[0]["Path"] == "\\\\PIServers[PISRV01]"
    replayed_everything(vcr, record_mode)


@pytest.mark.vcr
def test_points_paging(tiny_url, vcr, record_mode):
    with client(tiny_url) as pi:
        server = pi.data_server("PISRV01")
        points = list(pi.points(server["WebId"], "TINY.*", page_size=3,
                                selected_fields="Items.WebId;Items.Name;Items.PointType;Items.EngineeringUnits"))
    assert [(p["Name"], p["WebId"], p["PointType"]) for p in points] == TINY_POINTS
    if recording(record_mode):  # the literals above are still what the scenario says
        catalog = simulator_for("qa-tiny").catalog
        assert TINY_POINTS == [(p.name, p.web_id("IDOnly"), p.point.point_type)
                               for p in catalog.data_servers[0].points]
    assert {p["Name"]: p["EngineeringUnits"] for p in points}["TINY.FLOAT64"] == "kPa"
    # pages of 3, 3 and 2 (a short page ends the listing), after the data server look-up
    pages = [r for r in vcr.requests if r.path.endswith("/points")]
    assert [dict(r.query)["startIndex"] for r in pages] == ["0", "3", "6"]
    replayed_everything(vcr, record_mode)


@pytest.mark.vcr
def test_stream_set_recorded_read_with_batch_continuations(tiny_url, vcr, record_mode):
    start, end = "2026-11-24T23:50:00Z", "2026-11-25T00:00:00Z"
    names = ["TINY.FLOAT32", "TINY.STRING", "TINY.DIGITAL"]
    web_ids = {WEB_ID[name]: name for name in names}
    with client(tiny_url) as pi:
        reads = RecordedReader(pi, web_id_type="IDOnly").read(list(web_ids), parse_ns(start), parse_ns(end), 4)
    got = []
    for web_id, read in reads.items():
        assert read.error is None
        for item in read.items:
            value = item.Value
            got.append((web_ids[web_id], item.Timestamp,
                        float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None,
                        getattr(value, "Name", None)))
    assert sorted(got) == RECORDED
    if recording(record_mode):  # and the literals are what the simulator's archive holds
        truth = expected_rows(simulator_for("qa-tiny"), parse_ns(start), parse_ns(end), names)
        assert sorted(got) == [(r[0], format_ns(r[1]), r[3], r[5]) for r in truth]
    float32 = [g for g in got if g[0] == "TINY.FLOAT32"]
    assert len(float32) == 10  # one a minute, read 4 + 4 + 2 across three pages
    assert reads[next(w for w, n in web_ids.items() if n == "TINY.FLOAT32")].units == "degC"
    methods = [r.method for r in vcr.requests]
    assert methods[0] == "GET" and "POST" in methods  # the stream set, then batch continuations
    replayed_everything(vcr, record_mode)


@pytest.mark.vcr
def test_batch(tiny_url, vcr, record_mode):
    with client(tiny_url) as pi:
        answers = pi.batch({
            "value": {"Method": "GET", "Resource": f"streams/{WEB_ID['TINY.STEP']}/value"
                                                   "?time=2026-11-24T12:00:00Z&selectedFields=Timestamp;Value"},
            "point": {"Method": "GET", "Resource": "points?path=\\\\PISRV01\\TINY.INT32&selectedFields=Name;PointType"},
            "missing": {"Method": "GET", "Resource": "points?path=\\\\PISRV01\\NO.SUCH.TAG"},
        })
    assert list(answers) == ["value", "point", "missing"]
    assert answers["value"]["Status"] == 200
    assert answers["value"]["Content"] == {"Timestamp": "2026-11-24T12:00:00Z", "Value": 60.0}  # square wave 50 +/- 10
    assert answers["point"]["Status"] == 200 and answers["point"]["Content"] == {"Name": "TINY.INT32",
                                                                               "PointType": "Int32"}
    assert answers["missing"]["Status"] == 404 and answers["missing"]["Content"]["Errors"]
    replayed_everything(vcr, record_mode)


@pytest.mark.vcr
def test_af_elements_page(tiny_url, vcr, record_mode):
    with client(tiny_url) as pi:
        database = pi.get_json("assetdatabases", {"path": "\\\\PIAF01\\TinyDB", "selectedFields": "WebId;Name"})
        elements = list(pi.paged(f"assetdatabases/{database['WebId']}/elements",
                                 {"searchFullHierarchy": "true",
                                  "selectedFields": "Items.Name;Items.Path;Items.TemplateName;Items.HasChildren"},
                                 page_size=2))
    assert database["Name"] == "TinyDB"
    assert [(e["Path"], e["TemplateName"], e["HasChildren"]) for e in elements] == [
        ("\\\\PIAF01\\TinyDB\\Plant", "", True), ("\\\\PIAF01\\TinyDB\\Plant\\Tank1", "Tank", False),
        ("\\\\PIAF01\\TinyDB\\Plant\\Tank2", "Tank", False)]
    replayed_everything(vcr, record_mode)


@pytest.mark.vcr
def test_an_unknown_point_is_a_404(tiny_url, vcr, record_mode):
    with client(tiny_url) as pi, pytest.raises(UnknownPointError) as caught:
        pi.point_by_path("\\\\PISRV01\\NO.SUCH.TAG")
    assert caught.value.status == 404
    replayed_everything(vcr, record_mode)


@pytest.mark.vcr
def test_basic_auth_userinfo(faults_url, vcr, record_mode):
    with client(faults_url, auth=build_auth("basic", username=USERNAME, password=PASSWORD)) as pi:
        who = pi.userinfo()
    assert who["Name"] == USERNAME and who["IsAuthenticated"] is True
    assert who["IdentityType"]
    replayed_everything(vcr, record_mode)


# ----------------------------------------------------------------------- what the cassettes hold


def cassette(name: str) -> tuple[str, dict]:
    path = CASSETTES / f"{name}.json"
    assert path.exists(), f"{path} is missing: run `make cassettes` with the simulator importable"
    text = path.read_text(encoding="utf-8")
    return text, json.loads(text)


def test_the_basic_auth_cassette_holds_no_credentials():
    text, data = cassette("test_basic_auth_userinfo")
    assert PASSWORD not in text
    assert BASIC not in text and BASIC.split()[1] not in text
    (interaction,) = data["interactions"]
    headers = {k.lower(): v for k, v in interaction["request"]["headers"].items()}
    assert headers["authorization"] == ["REDACTED"]
    assert interaction["response"]["status"]["code"] == 200


@pytest.mark.parametrize("name", ["test_home_and_data_servers", "test_points_paging",
                                  "test_stream_set_recorded_read_with_batch_continuations", "test_batch",
                                  "test_af_elements_page", "test_an_unknown_point_is_a_404",
                                  "test_basic_auth_userinfo"])
def test_cassettes_are_deterministic_and_small(name):
    text, data = cassette(name)
    assert "127.0.0.1" not in text and "localhost" not in text
    assert len(text) < 60_000
    for interaction in data["interactions"]:
        assert interaction["request"]["uri"].startswith(BASE + "/piwebapi")
        headers = {k.lower() for k in interaction["response"]["headers"]}
        assert not headers & {"date", "server", "set-cookie"}
        assert "user-agent" not in {k.lower() for k in interaction["request"]["headers"]}
