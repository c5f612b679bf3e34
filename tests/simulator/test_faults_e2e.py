"""Injected faults end to end, under gunicorn (qa-faults: Basic auth, seeded fault rules).

A rate fault fires on the same request numbers after a reset and after a restart, and on exactly the
numbers its seeded hash predicts; 429 carries Retry-After; delays are applied; batch-scope faults fail
sub-requests only; runtime faults added through /__admin/faults behave the same way.
"""
from __future__ import annotations

import time

import pytest
import requests

from simulator.mock.faults import sample_delay
from simulator.mock.faults import unit
from simulator.scenario.model import Delay

pytestmark = pytest.mark.e2e

AUTH = ("qa", "qa-secret")
SEED = 503  # qa-faults.yaml
WRITE = {"X-Requested-With": "pytest"}


class Server:
    """The module's one gunicorn (qa-faults), which a test may restart."""

    def __init__(self) -> None:
        from simulator.testing import SimulatorProcess

        self._start = lambda: SimulatorProcess("qa-faults")
        self.process = self._start()

    @property
    def url(self) -> str:
        return self.process.url

    def reset(self) -> None:
        self.process.reset()

    def restart(self) -> None:
        self.process.stop()
        self.process = self._start()

    def stop(self) -> None:
        self.process.stop()


@pytest.fixture(scope="module")
def server():
    running = Server()
    yield running
    running.stop()


@pytest.fixture()
def url(server) -> str:
    server.reset()
    return server.url


@pytest.fixture(scope="module")
def tag(server) -> str:
    server.reset()
    response = requests.get(server.url + "/piwebapi/points", params={"path": "\\\\PISRV01\\FAULT.TAG01"}, auth=AUTH,
                            timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["WebId"]


def recorded_statuses(url: str, tag: str, n: int = 60) -> list[int]:
    session = requests.Session()
    session.auth = AUTH
    return [session.get(f"{url}/piwebapi/streams/{tag}/recorded", params={"startTime": "*-5m"}, timeout=10).status_code
            for _ in range(n)]


def test_a_rate_fault_fires_on_the_predicted_requests_after_reset_and_restart(server, url, tag):
    first = recorded_statuses(url, tag)
    predicted = [503 if unit(SEED, "recorded-503", n) < 0.1 else 200 for n in range(1, 61)]
    assert first == predicted
    assert 2 <= first.count(503) <= 15
    server.reset()
    assert recorded_statuses(url, tag) == first
    for _ in range(2):  # a fresh process, twice: same seed, same request sequence, same failures
        server.restart()
        assert recorded_statuses(server.url, tag) == first


def test_throttling_answers_429_with_retry_after(url):
    session = requests.Session()
    session.auth = AUTH
    answers = [session.get(f"{url}/piwebapi/dataservers", timeout=10) for _ in range(14)]
    statuses = [r.status_code for r in answers]
    assert statuses == [200] * 6 + [429] + [200] * 6 + [429]  # every 7th request
    throttled = answers[6]
    assert throttled.headers["Retry-After"] == "2"
    assert throttled.json() == {"Errors": ["Too many requests."]}
    assert throttled.headers["X-PISim-Fault"] == "throttle-429"


def test_a_fault_counts_only_the_requests_it_matches(url, tag):
    session = requests.Session()
    session.auth = AUTH
    # the first three point look-ups fail with 500, later ones succeed
    statuses = [session.get(f"{url}/piwebapi/points/{tag}", timeout=10).status_code for _ in range(5)]
    assert statuses == [500, 500, 500, 200, 200]
    # every 10th interpolated read is a 504 with Retry-After rounded up to whole seconds
    answers = [session.get(f"{url}/piwebapi/streams/{tag}/interpolated", params={"startTime": "*-1h"}, timeout=10)
               for _ in range(20)]
    assert [r.status_code for r in answers] == ([200] * 9 + [504]) * 2
    assert answers[9].headers["Retry-After"] == "1"


def test_latency_is_applied(url, tag):
    session = requests.Session()
    session.auth = AUTH
    plot = Delay("uniform", lower=50, upper=250)
    for n in range(1, 6):
        started = time.perf_counter()
        response = session.get(f"{url}/piwebapi/streams/{tag}/plot", params={"startTime": "*-1h"}, timeout=10)
        elapsed_ms = (time.perf_counter() - started) * 1000
        expected = sample_delay(plot, SEED, "plot-latency", n)
        assert response.status_code == 200
        assert 50 <= expected <= 250
        assert expected <= elapsed_ms < expected + 1000, (n, expected, elapsed_ms)
    started = time.perf_counter()
    assert session.get(f"{url}/piwebapi/dataservers", timeout=10).status_code == 200
    assert (time.perf_counter() - started) * 1000 >= 20


def test_batch_scope_faults_fail_only_sub_requests(url, tag):
    session = requests.Session()
    session.auth = AUTH
    body = {f"v{i:02d}": {"Method": "GET", "Resource": f"streams/{tag}/value"} for i in range(30)}
    response = session.post(f"{url}/piwebapi/batch", json=body, headers=WRITE, timeout=30)
    assert response.status_code == 207
    result = response.json()
    statuses = [result[key]["Status"] for key in body]
    predicted = [502 if unit(SEED, "batch-502", n) < 0.2 else 200 for n in range(1, 31)]
    assert statuses == predicted and 502 in statuses
    failed = next(result[key] for key in body if result[key]["Status"] == 502)
    assert failed["Content"]["Errors"]
    # the same reads outside a batch never fail
    direct = [session.get(f"{url}/piwebapi/streams/{tag}/value", timeout=10).status_code for _ in range(30)]
    assert set(direct) == {200}


def test_runtime_faults_via_the_admin_api(url, tag):
    session = requests.Session()
    session.auth = AUTH
    fault = {"name": "runtime-503", "method": "GET", "path": "/piwebapi/streams/*/end", "every": 3, "status": 503,
             "retry_after": 4}
    created = requests.post(f"{url}/__admin/faults", json=fault, timeout=10)
    assert created.status_code == 201 and created.json()["origin"] == "runtime"
    answers = [session.get(f"{url}/piwebapi/streams/{tag}/end", timeout=10) for _ in range(6)]
    assert [r.status_code for r in answers] == [200, 200, 503, 200, 200, 503]
    assert answers[2].headers["Retry-After"] == "4"
    assert requests.delete(f"{url}/__admin/faults/runtime-503", timeout=10).status_code == 200
    assert {session.get(f"{url}/piwebapi/streams/{tag}/end", timeout=10).status_code for _ in range(6)} == {200}
    # switching all faults off, then a reset switches them back on
    assert requests.delete(f"{url}/__admin/faults", timeout=10).status_code == 200
    assert set(recorded_statuses(url, tag, 30)) == {200}
    requests.post(f"{url}/__admin/reset", timeout=10)
    assert 503 in recorded_statuses(url, tag, 60)


def test_faults_do_not_bypass_authentication(url, tag):
    # a request that no fault hits still needs credentials; the journal shows what happened
    response = requests.get(f"{url}/piwebapi/streams/{tag}/end", timeout=10)
    assert response.status_code == 401 and "Basic" in response.headers["WWW-Authenticate"]
    journal = requests.get(f"{url}/__admin/requests", timeout=10).json()
    assert [entry["response"]["status"] for entry in journal["requests"]] == [401]
