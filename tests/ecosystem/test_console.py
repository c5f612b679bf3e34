"""The web console at /__console: its JSON (Flask test client) and the page in headless Chromium (playwright)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import requests

from simulator import create_app
from simulator.pytest_plugin import GroundTruth

START, END = "2026-11-24T09:00:00Z", "2026-11-24T13:00:00Z"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def console():
    return create_app("qa-tiny", now="2026-11-25T00:00:00Z").test_client()


@pytest.fixture(scope="module")
def truth():
    return GroundTruth("qa-tiny", "2026-11-25T00:00:00Z")


def recorded_truth(truth: GroundTruth, tag: str) -> list[dict]:
    """Events in [START, END]: the console shows the end's events too (boundaryType Inside)."""
    return truth.recorded(tag, START, "2026-11-24T13:00:00.0000001Z")


def test_summary(console):
    summary = console.get("/__console/api/summary").get_json()
    assert summary["name"] == "qa-tiny" and summary["seed"] == 42
    assert summary["now"] == "2026-11-25T00:00:00Z" and summary["pinned"] is True
    assert summary["data_servers"] == [{"name": "PISRV01", "points": 8}]


def test_tag_search_uses_pi_wildcards(console):
    found = console.get("/__console/api/tags?q=tiny.f*").get_json()
    assert found["total"] == 2 and [t["name"] for t in found["tags"]] == ["TINY.FLOAT32", "TINY.FLOAT64"]
    assert found["tags"][0]["units"] == "degC"


def test_values_are_the_archive_s(console, truth):
    data = console.get(f"/__console/api/values?tag=TINY.GAP&start={START}&end={END}&interval=10m").get_json()
    assert data["recorded"] == recorded_truth(truth, "TINY.GAP")
    assert len(data["interpolated"]) == 25 and data["interpolated"][0]["Timestamp"] == START
    states = {item["Value"]["Name"] for item in data["recorded"] if isinstance(item["Value"], dict)}
    assert states == {"I/O Timeout"}
    digital = console.get(f"/__console/api/values?tag=TINY.DIGITAL&start={START}&end={END}").get_json()
    assert digital["states"] == {"0": "Off", "1": "On", "2": "Fault"}


def test_bad_requests_say_what_is_wrong(console):
    response = console.get("/__console/api/values?tag=NOPE")
    assert response.status_code == 400 and "NOPE" in response.get_json()["Errors"][0]
    response = console.get("/__console/api/values?tag=TINY.GAP&start=soon")
    assert response.status_code == 400


def test_the_console_is_not_journaled_nor_faulted():
    client = create_app("qa-tiny").test_client()
    client.post("/__admin/faults", json={"name": "all", "path": "*", "status": 503, "rate": 1.0})
    assert client.get("/__console/").status_code == 200
    assert client.get("/__console/api/tags").status_code == 200
    assert client.get("/piwebapi/dataservers").status_code == 503
    urls = [e["request"]["url"] for e in client.get("/__admin/requests").get_json()["requests"]]
    assert urls == ["/piwebapi/dataservers"]


def test_the_console_has_the_admin_api_s_auth_rules():
    client = create_app("qa-faults").test_client()  # basic auth on /piwebapi
    assert client.get("/piwebapi/dataservers").status_code == 401
    admin = client.get("/__admin/requests").status_code
    assert client.get("/__console/").status_code == admin
    assert client.get("/__console/api/summary").status_code == admin


# -- in a browser ----------------------------------------------------------------------------------

def _chromium() -> str | None:
    """Debian's chromium, or None to use playwright's own download if present."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    with sync_api.sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        except Exception as exc:  # noqa: BLE001 - no browser: skip with the reason
            pytest.skip(f"no headless Chromium (apt-get install chromium, or python -m playwright install "
                        f"chromium): {str(exc).splitlines()[0]}")
        yield launched
        launched.close()


@pytest.mark.e2e
@pytest.mark.browser
@pytest.mark.pi_fault(name="system-down", method="GET", path="/piwebapi/system", status=503)
def test_the_page_plots_a_tag_and_shows_the_journal_live(browser, pi_simulator, tmp_path):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(pi_simulator.url + "/__console/")
    page.wait_for_selector("#summary-list dd")
    assert page.locator("#scenario-name").inner_text() == "qa-tiny"
    page.fill("#tag-query", "TINY.G*")
    page.click("#tag-search button")
    page.wait_for_function("document.querySelectorAll('#tag-list li').length == 1")
    page.fill("#start", START)
    page.fill("#end", END)
    page.fill("#interval", "10m")
    page.click("li[data-tag='TINY.GAP']")
    page.wait_for_selector("#chart svg")
    expected = recorded_truth(pi_simulator.truth, "TINY.GAP")
    assert page.locator("circle.recorded").count() == len(expected) > 100
    bad = [i for i in expected if not i["Good"]]
    assert page.locator("circle.recorded.bad").count() == len(bad) > 0  # the outage's system states
    assert page.locator("text.state").first.text_content() == "I/O Timeout"
    assert page.locator("circle.interp").count() == 25

    web_id = pi_simulator.truth.web_id("TINY.FLOAT32")
    assert requests.get(f"{pi_simulator.piwebapi}/streams/{web_id}/value").status_code == 200
    assert requests.get(f"{pi_simulator.piwebapi}/system").status_code == 503
    page.wait_for_function(f"document.querySelector('#journal-rows').innerText.includes('{web_id}/value')",
                           timeout=10_000)
    page.wait_for_function("[...document.querySelectorAll('#fault-rows tr')].some("
                           "r => r.innerText.includes('system-down') && r.cells[4].innerText === '1')", timeout=10_000)
    assert errors == []
    page.screenshot(path=str(tmp_path / "console.png"), full_page=True)
    if os.environ.get("PISIM_CONSOLE_SCREENSHOT"):  # make docs/console.png: PISIM_CONSOLE_SCREENSHOT=1 pytest -k page
        shutil.copy(tmp_path / "console.png", ROOT / "docs" / "console.png")
    page.close()
