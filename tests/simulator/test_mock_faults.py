"""Tests for simulator.mock.faults: seeded rules, every/times/scope, delays, globs, socket faults."""
from __future__ import annotations

import time

import pytest
from flask import Flask

from simulator.pi import errors
from simulator import mock
from simulator.pi.errors import InjectedFault
from simulator.pi.errors import InvalidParameterError
from simulator.mock import faults
from simulator.mock.faults import FaultRules
from simulator.scenario.model import Delay
from simulator.scenario.model import Fault

PATH = "/piwebapi/streams/F1DP/recorded"


@pytest.fixture
def sleeps(monkeypatch):
    """Replace time.sleep; the list receives every requested wait in seconds."""
    waited: list[float] = []
    monkeypatch.setattr(time, "sleep", waited.append)
    return waited


def fired(rules: FaultRules, count: int, *, path: str = PATH, method: str = "GET", batch: bool = False):
    """Indices (1-based) of the requests on which some rule answered a status."""
    out = []
    for i in range(1, count + 1):
        if any(hit.error is not None for hit in rules.evaluate(method, path, batch=batch)):
            out.append(i)
    return out


def test_splitmix64_reference_value():
    assert faults.splitmix64(0) == 0xE220A8397B1DCDAF
    assert faults.fnv1a64("") == 0xCBF29CE484222325


def test_unit_is_a_pure_function_in_range():
    draws = [faults.unit(7, "flaky", n) for n in range(1, 2001)]
    assert draws == [faults.unit(7, "flaky", n) for n in range(1, 2001)]
    assert all(0.0 <= d < 1.0 for d in draws)
    assert draws != [faults.unit(8, "flaky", n) for n in range(1, 2001)]
    assert draws != [faults.unit(7, "other", n) for n in range(1, 2001)]
    assert 0.45 < sum(draws) / len(draws) < 0.55


def test_rate_is_deterministic_for_a_seed():
    rule = Fault(name="flaky", path="/piwebapi/streams/*/recorded", rate=0.2)
    first = fired(FaultRules(42, [rule]), 1000)
    again = fired(FaultRules(42, [rule]), 1000)
    other = fired(FaultRules(43, [rule]), 1000)
    assert first == again
    assert first != other
    assert 150 < len(first) < 250
    assert first == [n for n in range(1, 1001) if faults.unit(42, "flaky", n) < 0.2]


def test_every_and_times():
    rules = FaultRules(1, [Fault(name="third", every=3, times=2)])
    assert fired(rules, 12) == [3, 6]
    rule = rules.rules()[0]
    assert (rule.matched, rule.fired) == (12, 2)


def test_rate_zero_and_one_and_no_rate():
    assert fired(FaultRules(1, [Fault(name="never", rate=0.0)]), 50) == []
    assert fired(FaultRules(1, [Fault(name="always", rate=1.0)]), 5) == [1, 2, 3, 4, 5]
    assert fired(FaultRules(1, [Fault(name="plain", times=1)]), 3) == [1]


def test_scope_method_and_glob():
    rules = FaultRules(1, [Fault(name="b", path="/piwebapi/**", scope="batch"),
                           Fault(name="r", method="POST", path="/piwebapi/batch", scope="request")])
    assert fired(rules, 2, path="/piwebapi/points/x", batch=True) == [1, 2]
    assert fired(rules, 2, path="/piwebapi/points/x") == []
    assert fired(rules, 1, path="/piwebapi/batch", method="POST") == [1]
    assert fired(rules, 1, path="/piwebapi/batch", method="GET") == []
    anyscope = FaultRules(1, [Fault(name="a", scope="any")])
    assert fired(anyscope, 1, batch=True) == [1] and fired(anyscope, 1) == [1]


@pytest.mark.parametrize("glob, path, matches", [
    ("/piwebapi/streams/*/recorded", "/piwebapi/streams/F1DP/recorded", True),
    ("/piwebapi/streams/*/recorded", "/PIWebAPI/Streams/F1DP/Recorded", True),
    ("/piwebapi/streams/*/recorded", "/piwebapi/streams/a/b/recorded", False),
    ("/piwebapi/streams/*/recorded", "/piwebapi/streams//recorded", False),
    ("/piwebapi/**", "/piwebapi", True),
    ("/piwebapi/**", "/piwebapi/a/b/c", True),
    ("/piwebapi/**/value", "/piwebapi/streams/x/value", True),
    ("**/value", "/piwebapi/streams/x/value", True),
    ("/piwebapi/streams/*/rec*", "/piwebapi/streams/x/recorded", True),
    ("*", "/anything/at/all", True),
    ("piwebapi/system", "/piwebapi/system/", True),
    ("/piwebapi/system", "/piwebapi/systems", False),
])
def test_globs(glob, path, matches):
    assert (faults.compile_glob(glob).fullmatch(path) is not None) is matches


def test_error_carries_status_message_and_retry_after():
    rules = FaultRules(1, [Fault(name="slow-down", status=429, retry_after=1.5),
                           Fault(name="custom", path="/x", status=500, message="boom")])
    (hit,) = rules.evaluate("GET", PATH)
    assert isinstance(hit.error, InjectedFault) and hit.error.status == 429
    assert hit.error.headers == {"Retry-After": "2", "X-PISim-Fault": "slow-down"}
    assert "Retry the request" in hit.error.messages[0]
    (hit,) = rules.evaluate("GET", "/x")
    assert hit.rule == "slow-down" and hit.error.status == 429  # first rule wins and stops the list


def test_delays_drawn_within_bounds(sleeps):
    uniform = FaultRules(5, [Fault(name="u", status=None, delay=Delay("uniform", lower=100, upper=300))])
    lognormal = FaultRules(5, [Fault(name="l", status=None, delay=Delay("lognormal", median=50, sigma=1.5,
                                                                          cap=400))])
    for _ in range(300):
        faults.apply(uniform.evaluate("GET", PATH))
        faults.apply(lognormal.evaluate("GET", PATH))
    uniform_ms = [s * 1000 for s in sleeps[0::2]]
    lognormal_ms = [s * 1000 for s in sleeps[1::2]]
    assert all(100 <= ms <= 300 for ms in uniform_ms)
    assert max(uniform_ms) - min(uniform_ms) > 150
    assert all(0 < ms <= 400 for ms in lognormal_ms)
    assert 30 < sorted(lognormal_ms)[150] < 80  # the median stays near 50 ms
    again: list[float] = []
    for n in range(1, 301):
        again.append(faults.sample_delay(Delay("uniform", lower=100, upper=300), 5, "u", n))
    assert again == pytest.approx(uniform_ms)


def test_delay_then_status(sleeps):
    rules = FaultRules(1, [Fault(name="slow", status=None, delay=Delay("fixed", ms=250)),
                           Fault(name="down", status=503, delay=Delay("fixed", ms=10))])
    with pytest.raises(InjectedFault):
        faults.apply(rules.evaluate("GET", PATH))
    assert sleeps == [0.25, 0.01]


def test_switch_and_runtime_rules():
    rules = FaultRules(1, [Fault(name="s")])
    rules.add(Fault(name="r", path="/other"))
    with pytest.raises(InvalidParameterError, match="'s' already exists"):
        rules.add(Fault(name="s"))
    rules.enabled = False
    assert fired(rules, 3) == []
    rules.reset()
    assert [r.fault.name for r in rules.rules()] == ["s"] and rules.enabled
    assert rules.remove("s") and not rules.remove("s")


@pytest.mark.parametrize("spec, message", [
    ({"path": "/x"}, "fault.name: is required"),
    ({"name": "a", "rate": 1.5}, "rate: must be between 0 and 1, got 1.5"),
    ({"name": "a", "rate": 0.1, "every": 2}, "give rate or every, not both"),
    ({"name": "a", "every": 0}, "every: must be a finite number >= 1"),
    ({"name": "a", "times": 1.5}, "times: must be an integer, got 1.5"),
    ({"name": "a", "status": 99}, "status: must be an HTTP status 100-599, got 99"),
    ({"name": "a", "status": None}, "needs a status, a delay or a socket fault"),
    ({"name": "a", "socket": "EXPLODE"}, "socket: must be one of EMPTY_RESPONSE, CONNECTION_RESET_BY_PEER"),
    ({"name": "a", "socket": "EMPTY_RESPONSE", "status": 503}, "give a status or a socket fault, not both"),
    ({"name": "a", "socket": "EMPTY_RESPONSE", "scope": "batch"}, "socket: breaks a connection, so scope must be"),
    ({"name": "a", "scope": "all"}, "scope: must be one of request, batch, any, got 'all'"),
    ({"name": "a", "method": "GET /"}, "method: must be an HTTP method"),
    ({"name": "a", "delay": {"kind": "normal"}}, "delay.kind: must be one of fixed, uniform, lognormal"),
    ({"name": "a", "delay": {"kind": "uniform", "lower": 5, "upper": 1}}, "upper: 1 is below lower 5"),
    ({"name": "a", "delay": -1}, "delay: must be a finite number >= 0"),
    ({"name": "a", "colour": "red"}, r"unknown key\(s\) \['colour'\]"),
])
def test_parse_fault_rejects_bad_fields(spec, message):
    with pytest.raises(InvalidParameterError, match=message):
        faults.parse_fault(spec)


def test_parse_fault_accepts_ms_shorthand():
    fault = faults.parse_fault({"name": "a", "status": None, "delay": 125})
    assert fault.delay == Delay("fixed", ms=125.0) and fault.status is None
    assert faults.fault_to_json(fault)["delay"]["ms"] == 125.0


def test_parse_distribution():
    assert faults.parse_distribution({"type": "lognormal", "median": 80, "sigma": 0.4, "maxValue": 500}) == Delay(
        "lognormal", median=80, sigma=0.4, cap=500)
    assert faults.parse_distribution({"type": "uniform", "lower": 1, "upper": 2}).kind == "uniform"
    with pytest.raises(InvalidParameterError, match="delayDistribution.type"):
        faults.parse_distribution({"type": "gauss"})


def test_dribble_spreads_the_body(sleeps):
    chunks = list(faults.dribble(b"0123456789", 4, 1000))
    assert chunks[0] == b"" and b"".join(chunks) == b"0123456789" and len(chunks) == 5
    assert sum(sleeps) == pytest.approx(1.0)


def test_socket_fault_without_a_socket_raises_connection_reset():
    for kind in ("EMPTY_RESPONSE", "CONNECTION_RESET_BY_PEER", "RANDOM_DATA_THEN_CLOSE"):
        with pytest.raises(ConnectionResetError):
            next(iter(faults.SocketFault(kind, {}, b"x")))
    malformed = faults.SocketFault("MALFORMED_RESPONSE_CHUNK", {}, b"x")
    assert next(malformed)
    with pytest.raises(ConnectionResetError):
        next(malformed)


def test_garbage_is_seeded():
    assert faults.garbage(1, "k") == faults.garbage(1, "k") != faults.garbage(2, "k")


# ---- through a Flask app


def make_app(rules, seed=1):
    app = Flask(__name__)
    errors.register(app)
    mock.init_app(app, seed=seed, faults=rules)

    @app.get("/piwebapi/streams/<web_id>/recorded")
    def get_recorded(web_id):
        return {"WebId": web_id}

    return app


def statuses(client, count, **kwargs):
    return [client.get(PATH, **kwargs).status_code for _ in range(count)]


def test_app_same_seed_same_sequence_same_faults():
    rule = Fault(name="flaky", path="/piwebapi/streams/*/recorded", rate=0.3, status=503, retry_after=1)
    first = statuses(make_app([rule], seed=9).test_client(), 60)
    second = statuses(make_app([rule], seed=9).test_client(), 60)
    assert first == second and 503 in first and 200 in first
    response = make_app([Fault(name="x", status=503, retry_after=3)]).test_client().get(PATH)
    assert response.status_code == 503 and response.headers["Retry-After"] == "3"
    assert response.json == {"Errors": ["The service is temporarily unavailable. Try the request again later."]}


def test_app_scope_follows_the_batch_flag():
    client = make_app([Fault(name="b", scope="batch", status=500)]).test_client()
    assert statuses(client, 2) == [200, 200]
    assert statuses(client, 2, environ_overrides={"pisim.batch": True}) == [500, 500]


def test_app_delay_only_rule_serves_normally(sleeps):
    client = make_app([Fault(name="slow", status=None, delay=Delay("fixed", ms=40))]).test_client()
    response = client.get(PATH)
    assert response.status_code == 200 and response.json == {"WebId": "F1DP"}
    assert sleeps == [0.04]


def test_app_admin_and_health_are_never_faulted():
    app = make_app([Fault(name="all", path="**", status=503)])

    @app.get("/health")
    def health():
        return {"ok": True}

    client = app.test_client()
    assert client.get("/health").status_code == 200
    assert client.get("/__admin/health").status_code == 200
    assert client.get(PATH).status_code == 503


def test_admin_delays_accept_the_scenario_file_forms():
    from simulator.mock.faults import parse_delay

    assert parse_delay({"fixed": 30}) == parse_delay({"kind": "fixed", "ms": 30})
    assert parse_delay({"uniform": [5, 10]}) == parse_delay({"kind": "uniform", "lower": 5, "upper": 10})
    lognormal = parse_delay({"lognormal": {"median": 50, "sigma": 0.4, "cap": 400}})
    assert (lognormal.kind, lognormal.median, lognormal.sigma, lognormal.cap) == ("lognormal", 50, 0.4, 400)
    with pytest.raises(Exception, match="uniform"):
        parse_delay({"uniform": [5]})
