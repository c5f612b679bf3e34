"""Authentication and CSRF: anonymous, Basic and Bearer; a 401 with WWW-Authenticate on every
/piwebapi operation of the contract; /health stays open (and /__admin is closed: test_admin_auth.py);
no 500 anywhere."""
from __future__ import annotations

import base64
import dataclasses

import orjson
import pytest

from simulator.serving.contract import Contract
from simulator.scenario.model import Auth
from simulator.scenario.model import User

REALM = "Test realm"
ANN = "Basic " + base64.b64encode(b"ann:s3cret").decode()
WRONG = "Basic " + base64.b64encode(b"ann:guess").decode()
TOKEN = "Bearer tok-123.abc"


@pytest.fixture(scope="module")
def secured(tiny_scenario):
    """qa-tiny behind Basic and Bearer authentication, with CSRF defence."""
    from tests.conftest import contract_app

    auth = Auth(methods=("basic", "bearer"), users=(User("ann", "s3cret"), User("bob", "pa:ss")),
                tokens=("tok-123.abc",), csrf=True, realm=REALM)
    return contract_app(dataclasses.replace(tiny_scenario, auth=auth))


@pytest.fixture()
def client_(secured):
    return secured.test_client()


@pytest.fixture(scope="module")
def point_web_id(secured) -> str:
    return secured.extensions["pisim"].catalog.data_servers[0].points[0].web_id()


def pi_operations():
    return [(method, path) for method, path, _ in Contract.load().operations() if path.startswith("/piwebapi")]


def concrete(path: str, web_id: str) -> str:
    return path.replace("{webId}", web_id)


def challenge_ok(response) -> None:
    assert response.status_code == 401
    challenges = response.headers["WWW-Authenticate"]
    assert f'Basic realm="{REALM}"' in challenges and f'Bearer realm="{REALM}"' in challenges
    assert response.get_json() == {"Errors": ["Authorization has been denied for this request."]}


@pytest.mark.parametrize(("method", "path"), pi_operations())
def test_every_pi_operation_challenges_without_credentials(client_, point_web_id, method, path):
    url = concrete(path, point_web_id)
    for headers in ({}, {"Authorization": WRONG}, {"Authorization": "Bearer nope"}, {"Authorization": "Negotiate xyz"},
                    {"Authorization": "Basic !!!not-base64"}, {"X-Requested-With": "t"}):
        response = client_.open(url, method=method, headers=headers, data=b"{}" if method == "POST" else None,
                                content_type="application/json" if method == "POST" else None)
        challenge_ok(response)


@pytest.mark.parametrize(("method", "path"), pi_operations())
def test_every_pi_operation_answers_valid_credentials_without_a_500(client_, point_web_id, method, path):
    url = concrete(path, point_web_id)
    for authorization in (ANN, TOKEN):
        headers = {"Authorization": authorization, "X-Requested-With": "t"}
        body = orjson.dumps({"a": {"Resource": "dataservers"}}) if method == "POST" else None
        response = client_.open(url, method=method, headers=headers, data=body,
                                content_type="application/json" if body else None)
        assert response.status_code not in (401, 403) and response.status_code < 500, (url, response.get_json())


def test_basic_and_bearer_identify_the_caller(client_):
    user = client_.get("/piwebapi/system/userinfo", headers={"Authorization": ANN}).get_json()
    assert user["Name"] == "ann" and user["IsAuthenticated"] is True
    other = client_.get("/piwebapi/system/userinfo",
                        headers={"Authorization": "Basic " + base64.b64encode(b"BOB:pa:ss").decode()}).get_json()
    assert other["Name"] == "bob"  # user names match case-insensitively; a ':' may be in the password
    bearer = client_.get("/piwebapi/system/userinfo", headers={"Authorization": TOKEN}).get_json()
    assert bearer["IsAuthenticated"] is True
    challenge_ok(client_.get("/piwebapi/system/userinfo",
                             headers={"Authorization": "Basic " + base64.b64encode(b"ann:S3CRET").decode()}))


def test_health_stays_open_and_admin_needs_admin_credentials(client_, secured):
    assert client_.get("/health").status_code == 200
    plain = secured.test_client_class.__mro__[1](secured)  # the admin API is outside the PI contract
    assert plain.get("/__admin/requests").status_code == 401
    assert plain.post("/__admin/reset", headers={"Authorization": ANN}).status_code == 401


def test_csrf_comes_after_authentication(client_):
    body = orjson.dumps({"a": {"Resource": "dataservers"}})
    challenge_ok(client_.post("/piwebapi/batch", data=body, content_type="application/json"))
    forbidden = client_.post("/piwebapi/batch", data=body, content_type="application/json",
                             headers={"Authorization": ANN})
    assert forbidden.status_code == 403 and "X-Requested-With" in forbidden.get_json()["Errors"][0]
    ok = client_.post("/piwebapi/batch", data=body, content_type="application/json",
                      headers={"Authorization": ANN, "X-Requested-With": "t"})
    assert ok.status_code == 207 and ok.get_json()["a"]["Status"] == 200


def test_batch_sub_requests_carry_the_callers_credentials(client_):
    body = orjson.dumps({"mine": {"Resource": "system/userinfo"},
                         "theirs": {"Resource": "system/userinfo", "Headers": {"Authorization": WRONG}},
                         "token": {"Resource": "system/userinfo", "Headers": {"Authorization": TOKEN}}})
    result = client_.post("/piwebapi/batch", data=body, content_type="application/json",
                          headers={"Authorization": ANN, "X-Requested-With": "t"}).get_json()
    assert result["mine"]["Status"] == 200 and result["mine"]["Content"]["Name"] == "ann"
    assert result["theirs"]["Status"] == 401 and "WWW-Authenticate" in result["theirs"]["Headers"]
    assert result["token"]["Status"] == 200


def test_anonymous_lets_everyone_in(client):
    for headers in ({}, {"Authorization": WRONG}):
        response = client.get("/piwebapi/dataservers", headers=headers)
        assert response.status_code == 200
    user = client.get("/piwebapi/system/userinfo").get_json()
    assert user["IsAuthenticated"] is False


def test_basic_only_challenges_basic_only(tiny_scenario):
    from simulator import create_app

    app = create_app(dataclasses.replace(tiny_scenario, auth=Auth(methods=("basic",), users=(User("a", "b"),))))
    response = app.test_client().get("/piwebapi")
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == 'Basic realm="PI Web API"'


def test_qa_faults_scenario_uses_basic_auth():
    from simulator.scenario import load_scenario

    scenario = load_scenario("qa-faults")
    assert scenario.auth.methods == ("basic",) and scenario.auth.csrf is True
    assert {u.username for u in scenario.auth.users} == {"qa", "readonly"}
