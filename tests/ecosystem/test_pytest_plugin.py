"""The pytest plugin (entry point pytest11 `pi_simulator`), run by pytester as a client's suite would."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e

pytest_plugins = ["pytester"]

CLIENT_TESTS = '''
import requests
import pytest

START, END = "2026-11-24T00:00:00Z", "2026-11-24T06:00:00Z"


def recorded(sim, tag):
    web_id = sim.truth.web_id(tag)
    response = requests.get(f"{sim.piwebapi}/streams/{web_id}/recorded",
                            params={"startTime": START, "endTime": END, "maxCount": 10000})
    response.raise_for_status()
    return response.json()["Items"]


def test_values_equal_the_ground_truth(pi_simulator):
    items = recorded(pi_simulator, "TINY.DIGITAL")
    truth = pi_simulator.truth.recorded("TINY.DIGITAL", START, END)
    assert len(items) == len(truth) > 10
    assert [(i["Timestamp"], i["Value"]) for i in items] == [(i["Timestamp"], i["Value"]) for i in truth]
    assert items[0]["Value"]["Name"] in ("Off", "On", "Fault")
    journal = pi_simulator.admin.requests()
    assert [e["request"]["url"].split("?")[0] for e in journal] == [
        f"/piwebapi/streams/{pi_simulator.truth.web_id('TINY.DIGITAL')}/recorded"]


def test_the_journal_was_reset(pi_simulator):
    assert pi_simulator.admin.requests() == []


@pytest.mark.pi_fault(name="down", path="/piwebapi/dataservers", status=503, retry_after=2)
def test_fault_marker(pi_simulator):
    response = requests.get(pi_simulator.piwebapi + "/dataservers")
    assert response.status_code == 503 and response.headers["Retry-After"] == "2"


def test_faults_do_not_leak_into_the_next_test(pi_simulator):
    assert requests.get(pi_simulator.piwebapi + "/dataservers").status_code == 200


@pytest.mark.pi_stub({"request": {"method": "GET", "urlPath": "/piwebapi/system"},
                      "response": {"status": 200, "jsonBody": {"ProductTitle": "Stubbed"}}})
def test_stub_marker(pi_simulator):
    assert requests.get(pi_simulator.piwebapi + "/system").json() == {"ProductTitle": "Stubbed"}


@pytest.mark.pi_scenario("qa-tiny", now="2026-11-20T00:00:00Z", fresh=True)
def test_fresh_process_with_another_clock(pi_simulator, request):
    assert pi_simulator.now == "2026-11-20T00:00:00Z"
    shared = request.getfixturevalue("pi_simulator_factory")("qa-tiny", fresh=False)
    assert shared.url != pi_simulator.url
    server = requests.get(pi_simulator.piwebapi + "/dataservers").json()["Items"][0]
    assert server["ServerTime"].startswith("2026-11-20T00:00:00")
    assert pi_simulator.truth.recorded("TINY.FLOAT32", "2026-11-20T00:00:01Z", "2026-11-21T00:00:00Z") == []
    assert len(pi_simulator.truth.recorded("TINY.FLOAT32", "2026-11-19T23:00:00Z", "2026-11-20T00:00:00Z")) == 60


def test_one_shared_process(pi_simulator, pi_simulator_factory):
    assert pi_simulator_factory("qa-tiny", fresh=False) is pi_simulator
'''


def test_a_client_suite_uses_the_fixture(pytester):
    pytester.makepyfile(test_client=CLIENT_TESTS)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", "--strict-markers")
    result.assert_outcomes(passed=7)


def test_unknown_tag_in_truth_is_a_clear_error(pytester):
    pytester.makepyfile(test_client='''
import pytest

def test_it(pi_simulator):
    with pytest.raises(KeyError, match="no tag 'NOPE' in scenario 'qa-tiny'"):
        pi_simulator.truth.recorded("NOPE", "2026-11-24T00:00:00Z", "2026-11-24T01:00:00Z")
''')
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_the_readme_example_passes(pytester):
    readme = (ROOT / "README.md").read_text()
    example = readme.split("```python\nimport pytest, requests\n", 1)[1].split("```", 1)[0]
    pytester.makepyfile(test_readme="import pytest, requests\n" + example)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", "--strict-markers")
    result.assert_outcomes(passed=1)
