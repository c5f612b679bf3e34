"""Admin auth: once a scenario enables auth, every /__admin route (journal, stubs, faults, reset,
recording, settings, scenarios, health) needs admin credentials (the scenario's `admin` users or tokens,
or `--admin-token`), else 401; `admin: {auth: none}` and `--admin-open` opt out; an anonymous scenario
leaves /__admin open unless `admin: {auth: required}`."""
from __future__ import annotations

import base64
import dataclasses
import re
import uuid

import orjson
import pytest
import requests

from simulator import create_app
from simulator.scenario.model import Admin
from simulator.scenario.model import Auth
from simulator.scenario.model import User
from simulator.testing import SimulatorProcess

DATA_USER = "Basic " + base64.b64encode(b"ann:s3cret").decode()
ADMIN_USER = "Basic " + base64.b64encode(b"root:adm1n").decode()
ADMIN_TOKEN = "Bearer adm-tok.1"
FLAG_TOKEN = "flag-token-42"
SECURED = Auth(methods=("basic",), users=(User("ann", "s3cret"),), csrf=True)
ADMIN = Admin(users=(User("root", "adm1n"),), tokens=("adm-tok.1",))


def _app(scenario, auth=SECURED, admin=ADMIN, **settings):
    return create_app(dataclasses.replace(scenario, auth=auth, admin=admin), **settings)


def admin_routes(app) -> list[tuple[str, str]]:
    """(method, concrete path) of every /__admin route of the app."""
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/__admin"):
            continue
        path = re.sub(r"<int:[^>]+>", "1", rule.rule)
        path = re.sub(r"<[^>]+>", str(uuid.UUID(int=7)), path)
        out += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return sorted(out)


@pytest.fixture(scope="module")
def secured(tiny_scenario):
    return _app(tiny_scenario, admin_token=FLAG_TOKEN)


def _call(app, method, path, headers=None):
    return app.test_client().open(path, method=method, headers=headers or {})


def test_the_admin_routes_are_all_listed(secured):
    paths = {path for _, path in admin_routes(secured)}
    for kind in ("/__admin/requests", "/__admin/mappings", "/__admin/faults", "/__admin/reset",
                 "/__admin/recordings/start", "/__admin/recordings/snapshot", "/__admin/health"):
        assert kind in paths
    assert len(admin_routes(secured)) >= 30


@pytest.mark.parametrize("headers", [{}, {"Authorization": DATA_USER}, {"Authorization": "Bearer wrong"},
                                     {"Authorization": "Basic " + base64.b64encode(b"root:guess").decode()},
                                     {"Authorization": "Basic !!!"}, {"Authorization": "Negotiate abc"}],
                         ids=["none", "data-user", "wrong-token", "wrong-password", "garbled", "other-scheme"])
def test_every_admin_route_is_401_without_admin_credentials(secured, headers):
    for method, path in admin_routes(secured):
        response = _call(secured, method, path, headers)
        assert response.status_code == 401, (method, path)
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="pi-sim admin", Basic realm="pi-sim admin"'
        assert response.get_json()["Errors"] == [
            "The admin API requires admin credentials (Basic) or an admin token (Bearer)."]
    assert _call(secured, "GET", "/__admin/nowhere", headers).status_code == 401  # no route map for strangers
    assert _call(secured, "GET", "/__ADMIN/requests", headers).status_code == 401


@pytest.mark.parametrize("credential", [ADMIN_USER, ADMIN_TOKEN, f"Bearer {FLAG_TOKEN}"],
                         ids=["scenario-user", "scenario-token", "admin-token-flag"])
def test_every_admin_route_answers_an_admin(secured, credential):
    for method, path in admin_routes(secured):
        response = _call(secured, method, path, {"Authorization": credential})
        assert response.status_code not in (401, 403) and response.status_code < 500, (method, path)
    headers = {"Authorization": credential}
    for path in ("/__admin/requests", "/__admin/mappings", "/__admin/faults", "/__admin/recordings/status",
                 "/__admin/settings", "/__admin/scenarios", "/__admin/health"):
        assert _call(secured, "GET", path, headers).status_code == 200, path
    assert _call(secured, "POST", "/__admin/reset", headers).status_code == 200


def test_an_admin_works_the_mock_and_the_data_user_does_not(secured):
    client = secured.test_client()
    admin = {"Authorization": ADMIN_TOKEN}
    assert client.post("/__admin/reset", headers=admin).status_code == 200
    assert client.get("/piwebapi/dataservers", headers={"Authorization": DATA_USER}).status_code == 200
    journal = client.get("/__admin/requests", headers=admin).get_json()["requests"]
    assert [e["request"]["url"] for e in journal] == ["/piwebapi/dataservers"]
    stub = {"request": {"method": "GET", "urlPath": "/piwebapi/x"}, "response": {"status": 418}}
    assert client.post("/__admin/mappings", json=stub, headers={"Authorization": DATA_USER}).status_code == 401
    assert client.post("/__admin/mappings", json=stub, headers=admin).status_code == 201
    fault = {"name": "boom", "path": "/piwebapi/dataservers", "status": 503}
    assert client.post("/__admin/faults", json=fault).status_code == 401
    assert client.post("/__admin/faults", json=fault, headers=admin).status_code == 201
    assert client.delete("/__admin/faults", headers=admin).status_code == 200
    assert client.post("/__admin/reset", headers=admin).status_code == 200


def test_a_batch_sub_request_to_the_admin_api_needs_admin_credentials_too(secured):
    body = orjson.dumps({"j": {"Method": "GET", "Resource": "http://localhost/__admin/requests"}})
    answer = secured.test_client().post("/piwebapi/batch", data=body, content_type="application/json",
                                        headers={"Authorization": DATA_USER, "X-Requested-With": "t"})
    assert answer.status_code == 207 and answer.get_json()["j"]["Status"] == 401


@pytest.mark.parametrize(("admin", "settings"), [(Admin(auth="none"), {}), (Admin(), {"admin_open": True}),
                                                 (ADMIN, {"admin_open": True})],
                         ids=["scenario-opt-out", "flag-opt-out", "flag-wins-over-credentials"])
def test_the_opt_out_opens_every_admin_route(tiny_scenario, admin, settings):
    app = _app(tiny_scenario, admin=admin, **settings)
    for method, path in admin_routes(app):
        response = _call(app, method, path)
        assert response.status_code not in (401, 403) and response.status_code < 500, (method, path)
    assert _call(app, "GET", "/piwebapi/dataservers").status_code == 401  # the data routes stay closed


def test_an_anonymous_scenario_leaves_admin_open_unless_required(tiny_scenario):
    anonymous = Auth()
    assert _call(_app(tiny_scenario, auth=anonymous, admin=Admin()), "GET", "/__admin/requests").status_code == 200
    # an admin token alone does not close it; admin: {auth: required} does
    opened = _app(tiny_scenario, auth=anonymous, admin=Admin(), admin_token=FLAG_TOKEN)
    assert _call(opened, "GET", "/__admin/requests").status_code == 200
    required = _app(tiny_scenario, auth=anonymous, admin=Admin(auth="required"), admin_token=FLAG_TOKEN)
    assert _call(required, "GET", "/__admin/requests").status_code == 401
    assert _call(required, "GET", "/__admin/requests", {"Authorization": f"Bearer {FLAG_TOKEN}"}).status_code == 200
    assert _call(required, "GET", "/piwebapi/dataservers").status_code == 200


def test_auth_without_admin_credentials_closes_admin_to_everyone(tiny_scenario):
    app = _app(tiny_scenario, admin=Admin())
    for method, path in admin_routes(app):
        assert _call(app, method, path, {"Authorization": DATA_USER}).status_code == 401, (method, path)
    assert _call(app, "GET", "/health").status_code == 200


def test_the_scenario_file_names_admin_credentials(tmp_path):
    from simulator.scenario import load_scenario

    path = tmp_path / "admin.yaml"
    path.write_text("name: admin\nauth: {methods: [bearer], tokens: [data-tok]}\n"
                    "admin:\n  users: [{username: root, password: '${PISIM_TEST_ADMIN_PW:-pw}'}]\n"
                    "  tokens: [adm-1]\n", encoding="utf-8")
    scenario = load_scenario(str(path), env={})
    assert scenario.admin == Admin(auth="auto", users=(User("root", "pw"),), tokens=("adm-1",))
    assert load_scenario("qa-faults").admin.auth == "none"  # a QA scenario whose tests drive /__admin
    assert load_scenario("default").admin == Admin()


def test_serve_passes_admin_token_and_admin_open_to_the_settings(monkeypatch):
    from click.testing import CliRunner

    from simulator.serving import gunicorn_app
    from simulator.cli import main

    seen = []
    monkeypatch.setattr(gunicorn_app, "serve", seen.append)
    result = CliRunner().invoke(main, ["serve", "-s", "qa-tiny", "--admin-token", "t0k", "--admin-open"],
                                env={"PISIM_ADMIN_TOKEN": None}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert seen[0].admin_token == "t0k" and seen[0].admin_open is True
    CliRunner().invoke(main, ["serve", "-s", "qa-tiny"], env={"PISIM_ADMIN_TOKEN": "from-env"},
                       catch_exceptions=False)
    assert seen[1].admin_token == "from-env" and seen[1].admin_open is False


def test_under_gunicorn_the_admin_token_reaches_every_worker(tmp_path):
    path = tmp_path / "secured.yaml"
    path.write_text("name: secured\nclock: {now: '2026-11-25T00:00:00Z'}\nauth: {methods: [bearer], tokens: [d]}\n"
                    "data_servers: [{name: PISRV01, points: [{name: T1}]}]\n", encoding="utf-8")
    with SimulatorProcess(str(path), workers=2, admin_token="gunicorn-admin") as sim:
        sim.reset()  # sends the token
        for _ in range(4):  # either worker
            assert requests.get(sim.url + "/__admin/requests", timeout=10).status_code == 401
            ok = requests.get(sim.url + "/__admin/requests", headers={"Authorization": "Bearer gunicorn-admin"},
                              timeout=10)
            assert ok.status_code == 200


def test_the_contract_documents_the_admin_401(secured):
    from simulator.serving.contract import Contract

    contract = Contract.load()
    admin_operations = [(m, p) for m, p, _ in contract.operations() if p.startswith("/__admin")]
    assert len(admin_operations) >= 20
    for method, path in admin_operations:
        concrete = path.replace("{id}", str(uuid.UUID(int=7))).replace("{name}", "x")
        response = _call(secured, method, concrete)
        assert response.status_code == 401
        contract.validate_response(method, concrete, 401, dict(response.headers), response.data)
