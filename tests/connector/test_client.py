"""Tests of connector.client.PIClient against the simulator under gunicorn (127.0.0.1 only)."""
from __future__ import annotations

import base64
import gzip
import logging
import random
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import orjson
import pytest

from connector.client import PIClient
from connector.client import build_auth
from connector.config import ConnectorConfig
from connector.errors import AuthError
from connector.errors import BadRequestError
from connector.errors import ConfigError
from connector.errors import ConnectionFailedError
from connector.errors import FatalError
from connector.errors import RetriableError
from connector.errors import UnknownPointError
from connector.retry import RetryPolicy
from simulator.mock.admin import AdminClient

from tests.conftest import SimulatorProcess

pytestmark = pytest.mark.e2e

UNKNOWN_PATH = "\\\\PISRV01\\NO.SUCH.TAG"
QA_PASSWORD = "qa-Pa55word-for-tests"


class Sleeps(list):
    """A sleep() that records what it was asked to wait and returns at once."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture()
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture()
def admin(sim_url):
    client = AdminClient(sim_url)
    yield client
    client.session.close()


@pytest.fixture()
def client(sim_url, sleeps):
    policy = RetryPolicy(attempts=4, backoff=0.01, max_backoff=0.05, rng=random.Random(3))
    with PIClient(sim_url + "/piwebapi", retry=policy, timeout=10, sleep=sleeps) as pi:
        yield pi


def top_level(admin: AdminClient, path: str, method: str = "GET") -> list[dict]:
    """Journaled top-level requests (not batch sub-requests) for a path, oldest first."""
    found = [e for e in admin.requests() if not e["batch"] and e["request"]["path"] == path
             and e["request"]["method"] == method]
    return sorted(found, key=lambda e: e["id"])


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- reading


def test_home_userinfo_and_data_servers(client):
    assert "DataServers" in client.home()["Links"]
    user = client.check()
    assert user["IsAuthenticated"] is False and "ANONYMOUS" in user["Name"]
    servers = client.data_servers()
    assert [s["Name"] for s in servers] == ["PISRV01"]
    assert client.data_server()["Name"] == "PISRV01"
    assert client.data_server("pisrv01")["WebId"] == servers[0]["WebId"]
    with pytest.raises(FatalError, match=r"data server 'NOPE' not found at http://127\.0\.0\.1:\d+/piwebapi; "
                                         r"it has: PISRV01"):
        client.data_server("NOPE")


def test_points_page_with_start_index_until_a_short_page(client, admin):
    server = client.data_server()
    names = [p["Name"] for p in client.points(server["WebId"], "TINY.*", page_size=3)]
    assert len(names) == 8 and len(set(names)) == 8 and "TINY.SUBSECOND" in names
    pages = top_level(admin, f"/piwebapi/dataservers/{server['WebId']}/points")
    assert [p["request"]["query"] for p in pages] == [
        f"nameFilter=TINY.%2A&startIndex={start}&maxCount=3" for start in (0, 3, 6)]
    exact = list(client.points(server["WebId"], "TINY.*", page_size=4,
                               selected_fields="Items.Name;Items.WebId"))
    assert len(exact) == 8 and set(exact[0]) == {"Name", "WebId"}  # pages of 4, 4, then an empty one
    assert [p["Name"] for p in client.points(server["WebId"], "TINY.F*")] == ["TINY.FLOAT32", "TINY.FLOAT64"]


def test_paged_generic_with_boolean_parameters(client, admin):
    database = client.get_json("assetdatabases", {"path": "\\\\PIAF01\\TinyDB"})
    elements = list(client.paged(database["Links"]["Elements"], {"searchFullHierarchy": True}, page_size=2))
    assert sorted(e["Name"] for e in elements) == ["Plant", "Tank1", "Tank2"]
    path = f"/piwebapi/assetdatabases/{database['WebId']}/elements"
    queries = [e["request"]["query"] for e in top_level(admin, path)]
    assert queries[0] == "searchFullHierarchy=true&startIndex=0&maxCount=2" and len(queries) == 2


def test_point_by_path_and_404(client, admin):
    point = client.point_by_path("\\\\PISRV01\\TINY.FLOAT32")
    assert point["Name"] == "TINY.FLOAT32"
    with pytest.raises(UnknownPointError) as info:
        client.point_by_path(UNKNOWN_PATH)
    message = str(info.value)
    assert message.startswith("GET http://127.0.0.1:") and "/piwebapi/points?path=" in message
    assert ": 404" in message and info.value.status == 404 and info.value.errors
    assert info.value.errors[0] in message
    assert len(top_level(admin, "/piwebapi/points")) == 2  # a 404 is not retried


def test_bad_request_carries_pi_errors(client):
    with pytest.raises(BadRequestError) as info:
        client.get_json("points/NOT-A-WEBID")
    assert "The specified WebID is not valid" in str(info.value) and info.value.status == 400


def test_raw_bytes_and_web_id_type(sim_url, client, admin):
    raw = client.get_bytes("dataservers")
    assert isinstance(raw, bytes) and orjson.loads(raw)["Items"][0]["Name"] == "PISRV01"
    with PIClient(sim_url + "/piwebapi", web_id_type="IDOnly") as short:
        server = short.data_servers()[0]
    assert server["WebId"].startswith("I1DS")
    assert top_level(admin, "/piwebapi/dataservers")[-1]["request"]["query"] == "webIdType=IDOnly"


# --------------------------------------------------------------------------- headers


def test_headers_sent_on_every_request(client, admin):
    client.home()
    headers = {k.lower(): v for k, v in top_level(admin, "/piwebapi/")[-1]["request"]["headers"].items()}
    assert headers["accept-encoding"] == "gzip, deflate"
    assert headers["accept"] == "application/json"
    assert headers["x-requested-with"] == "XMLHttpRequest"
    assert headers["user-agent"].startswith("pi-connector/0.")


def test_gzip_answers_are_decompressed(client, admin):
    body = gzip.compress(orjson.dumps({"Items": [{"Name": "zipped"}]}))
    admin.stub({"request": {"method": "GET", "urlPath": "/piwebapi/zipped"},
                "response": {"status": 200, "base64Body": base64.b64encode(body).decode(),
                             "headers": {"Content-Type": "application/json", "Content-Encoding": "gzip"}}})
    assert client.get_json("zipped") == {"Items": [{"Name": "zipped"}]}


def test_post_batch_passes_csrf_defence(client, admin):
    result = client.batch({"home": {"Method": "GET", "Resource": client.url_for("")},
                           "servers": {"Method": "GET", "Resource": "dataservers"}})
    assert result["home"]["Status"] == 200 and result["servers"]["Status"] == 200
    posted = top_level(admin, "/piwebapi/batch", "POST")[-1]["request"]["headers"]
    assert posted.get("X-Requested-With") == "XMLHttpRequest"
    assert posted.get("Content-Type") == "application/json"


# --------------------------------------------------------------------------- retries


def test_503_every_second_request_is_retried(client, admin, sleeps):
    admin.add_fault(name="flaky", method="GET", path="/piwebapi/system/userinfo", every=2, status=503,
                    retry_after=1)
    for _ in range(3):
        assert client.userinfo()["IsAuthenticated"] is False
    assert sleeps == [1.0, 1.0]  # requests 2 and 4 failed; Retry-After: 1 honoured
    statuses = [e["response"]["status"] for e in top_level(admin, "/piwebapi/system/userinfo")]
    assert statuses == [200, 503, 200, 503, 200]


def test_429_retry_after_is_honoured(client, admin, sleeps):
    admin.add_fault(name="throttle", method="GET", path="/piwebapi/dataservers", every=1, times=2,
                    status=429, retry_after=3)
    assert client.data_servers()[0]["Name"] == "PISRV01"
    assert sleeps == [3.0, 3.0]


def test_retries_exhausted_raise_the_retriable_error(client, admin, sleeps):
    admin.add_fault(name="down", method="GET", path="/piwebapi/**", every=1, status=503)
    with pytest.raises(RetriableError) as info:
        client.home()
    assert info.value.status == 503 and info.value.attempts == 4 and len(sleeps) == 3
    assert "503" in str(info.value) and "temporarily unavailable" in str(info.value)
    assert all(0 <= s <= 0.05 for s in sleeps)


def test_connection_reset_is_retried(client, admin, sleeps):
    admin.stub({"request": {"method": "GET", "urlPath": "/piwebapi/system/userinfo"}, "times": 1,
                "response": {"fault": "CONNECTION_RESET_BY_PEER"}})
    assert client.userinfo()["IsAuthenticated"] is False
    assert len(sleeps) == 1


def test_web_exception_in_a_200_is_an_error(client, admin, sleeps):
    admin.stub({"request": {"method": "GET", "urlPath": "/piwebapi/broken"},
                "response": {"status": 200, "jsonBody": {"Items": [], "WebException": {
                    "Errors": ["Error occurred during writing of the output stream."], "StatusCode": 500}}}})
    with pytest.raises(RetriableError, match="WebException 500 in a 200 answer") as info:
        client.get_json("broken")
    assert info.value.status == 500 and len(sleeps) == 3


# --------------------------------------------------------------------------- batch


def test_failing_batch_sub_request_is_resent_with_its_dependants(client, admin, sleeps):
    admin.add_fault(name="sub-503", method="GET", path="/piwebapi/dataservers", every=1, times=1,
                    status=503, retry_after=1, scope="batch")
    requests = {
        "servers": {"Method": "GET", "Resource": "dataservers"},
        "points": {"Method": "GET", "Resource": "$.servers.Content.Items[0].Links.Points",
                   "ParentIds": ["servers"]},
        "home": {"Method": "GET", "Resource": client.url_for("system/userinfo")},
        "missing": {"Method": "GET", "Resource": "points?path=" + UNKNOWN_PATH},
    }
    result = client.batch(requests)
    assert list(result) == ["servers", "points", "home", "missing"]
    assert result["servers"]["Status"] == 200 and result["points"]["Status"] == 200
    assert len(result["points"]["Content"]["Items"]) == 8
    assert result["home"]["Status"] == 200
    assert result["missing"]["Status"] == 404  # not retried: the caller decides
    posts = top_level(admin, "/piwebapi/batch", "POST")
    assert len(posts) == 2
    assert set(orjson.loads(posts[1]["request"]["body"])) == {"servers", "points"}
    assert sleeps == [1.0]


def test_batch_sub_request_that_keeps_failing_keeps_its_status(client, admin, sleeps):
    admin.add_fault(name="sub-502", method="GET", path="/piwebapi/system/userinfo", every=1, status=502,
                    scope="batch")
    result = client.batch({"user": {"Method": "GET", "Resource": "system/userinfo"},
                           "servers": {"Method": "GET", "Resource": "dataservers"}})
    assert result["user"]["Status"] == 502 and result["servers"]["Status"] == 200
    assert len(top_level(admin, "/piwebapi/batch", "POST")) == 4 and len(sleeps) == 3


# --------------------------------------------------------------------------- failures


def test_unreachable_server_fails_fast():
    url = f"http://127.0.0.1:{closed_port()}/piwebapi"
    started = time.monotonic()
    with PIClient(url, retry=RetryPolicy(attempts=3, backoff=0.01), timeout=2, sleep=lambda s: None) as pi:
        with pytest.raises(ConnectionFailedError) as info:
            pi.check()
    assert time.monotonic() - started < 3
    assert f"cannot reach {url}/system/userinfo after 3 attempts: connection refused" == str(info.value)


def test_missing_optional_auth_packages(monkeypatch):
    monkeypatch.setitem(sys.modules, "requests_kerberos", None)
    monkeypatch.setitem(sys.modules, "requests_ntlm", None)
    with pytest.raises(ConfigError, match=r"pip install pi-lakehouse\[kerberos\]") as info:
        build_auth("kerberos", where=("c.yaml", 7))
    assert str(info.value).startswith("c.yaml:7: source.auth.type: ")
    with pytest.raises(ConfigError, match=r"pip install pi-lakehouse\[ntlm\]"):
        build_auth("ntlm", username="DOM\\u", password="p")


def test_links_to_another_host_are_moved_onto_the_configured_one(client):
    base = client.base_url
    assert client.url_for("points/X") == base + "/points/X"
    assert client.url_for("/points/X") == base + "/points/X"
    assert client.url_for(base + "/points/X?a=1") == base + "/points/X?a=1"
    assert client.url_for("https://PISRV-INTERNAL.corp/piwebapi/points/X?a=1") == base + "/points/X?a=1"
    with pytest.raises(FatalError, match="not under the PI Web API root"):
        client.url_for("https://elsewhere.example.com/other/api")
    assert client.logged_url("https://u:p@h/piwebapi/x?token=t") == "https://h/piwebapi/x?token=***"


def test_debug_log_line_per_request(client, caplog):
    with caplog.at_level(logging.DEBUG, logger="connector.client"):
        client.home()
    [record] = [r for r in caplog.records if r.name == "connector.client"]
    assert record.levelno == logging.DEBUG
    assert record.getMessage().startswith(f"GET {client.base_url}/ -> 200 in ")
    assert record.getMessage().endswith(" bytes")


def test_one_client_serves_a_thread_pool(sim_url):
    with PIClient(sim_url + "/piwebapi", concurrency=4) as pi:
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda _: pi.userinfo()["IsAuthenticated"], range(16)))
    assert results == [False] * 16


# --------------------------------------------------------------------------- credentials


@pytest.fixture(scope="module")
def basic_server():
    """The qa-faults scenario under gunicorn: basic auth (user qa) and CSRF defence."""
    server = SimulatorProcess("qa-faults", env={"PISIM_QA_PASSWORD": QA_PASSWORD})
    yield server
    server.stop()


@pytest.fixture()
def basic_url(basic_server):
    """The qa-faults root, reset, with its scripted faults (429s, 5xx, delays) switched off."""
    basic_server.reset()
    admin = AdminClient(basic_server.url)
    admin.faults_off()
    admin.session.close()
    return basic_server.url + "/piwebapi"


def config_for(url: str, auth: dict, environ: dict) -> ConnectorConfig:
    """A configuration for url with this source.auth (three attempts, no backoff)."""
    return ConnectorConfig.from_dict({
        "source": {"url": url, "auth": auth, "retry": {"attempts": 3, "backoff": 0}},
        "destination": {"uri": "lake"}, "tags": [{"name_filter": "*"}]}, environ=environ)


def test_right_credentials_from_config(basic_url):
    config = config_for(basic_url, {"type": "basic", "username": "qa", "password": "${QA_PW}"},
                        {"QA_PW": QA_PASSWORD})
    with PIClient.from_config(config) as pi:
        assert pi.check()["IsAuthenticated"] is True
        assert pi.batch({"user": {"Method": "GET", "Resource": "system/userinfo"}})["user"]["Status"] == 200
        assert QA_PASSWORD not in repr(pi)


def test_wrong_password_is_an_auth_error_that_never_shows_the_password(basic_url, caplog):
    wrong = "Wr0ng-S3cret-Never-Logged"
    encoded = base64.b64encode(f"qa:{wrong}".encode()).decode()
    caplog.set_level(logging.DEBUG)
    auth = {"type": "basic", "username": "qa", "password": "${QA_PW}"}
    config = config_for(basic_url, auth, {"QA_PW": wrong})
    with PIClient.from_config(config, sleep=lambda s: None) as pi:
        with pytest.raises(AuthError) as info:
            pi.check()
    error = info.value
    assert error.status == 401 and "401" in str(error) and "authentication: basic" in str(error)
    assert "Authorization has been denied" in str(error)
    for text in (str(error), repr(error), caplog.text, *map(str, error.args)):
        assert wrong not in text and encoded not in text
    assert not any(r.getMessage().startswith("attempt") for r in caplog.records)  # a 401 is not retried


def test_wrong_bearer_token_never_shows_the_token(basic_url, caplog):
    token = "eyJ-secret-token-value"
    caplog.set_level(logging.DEBUG)
    config = config_for(basic_url + "/", {"type": "bearer", "token": token}, {})
    with PIClient.from_config(config, sleep=lambda s: None) as pi:
        assert token not in repr(pi) and token not in repr(pi.session.auth)
        with pytest.raises(AuthError) as info:
            pi.get_json("system/userinfo", {"access_token": token})
    assert token not in str(info.value) and token not in caplog.text
    assert "access_token=***" in str(info.value)


def test_post_without_csrf_header_is_refused(basic_url):
    with PIClient(basic_url, auth=build_auth("basic", username="qa", password=QA_PASSWORD)) as pi:
        del pi.session.headers["X-Requested-With"]
        with pytest.raises(AuthError, match="403"):
            pi.post_json("batch", {"a": {"Method": "GET", "Resource": "system/userinfo"}})


def test_paging_survives_a_server_that_pages_below_max_count(monkeypatch):
    """A server capping pages at 4 while asked for 10 must not end the listing after 4 items."""
    items = [{"Name": f"T{i}"} for i in range(11)]
    asked = []

    def get_json(self, path, params=None):
        asked.append(params["startIndex"])
        start = params["startIndex"]
        return {"Items": items[start:start + min(4, params["maxCount"])]}

    monkeypatch.setattr(PIClient, "get_json", get_json)
    with PIClient("http://127.0.0.1:9/piwebapi") as pi:
        got = [item["Name"] for item in pi.paged("dataservers/x/points", page_size=10)]
    assert got == [f"T{i}" for i in range(11)]
    assert asked == [0, 4, 8]


def test_each_thread_reads_through_its_own_session_and_close_closes_them_all(sim_url):
    with PIClient(sim_url + "/piwebapi", concurrency=4) as pi:
        def read(_):
            answer = pi.get_json("system")
            return id(pi.session), answer["ProductTitle"]

        with ThreadPoolExecutor(4, thread_name_prefix="t") as pool:
            results = list(pool.map(read, range(16)))
        sessions = {s for s, _ in results}
        assert 1 < len(sessions) <= 4 and {title for _, title in results} == {results[0][1]}
        assert pi.session is pi.session and id(pi.session) not in sessions  # the main thread's own
        assert len(pi._sessions) == len(sessions) + 1
    assert pi._sessions == []
