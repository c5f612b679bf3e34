"""A real URL-length limit: gunicorn's default request line (4094 bytes) under `SimulatorProcess` and
`pi-sim serve`; a longer URL gets 414 URI Too Long (as PI Web API's HTTP.sys answers) before the app."""
from __future__ import annotations

import subprocess
import sys

import requests

from simulator.serving.gunicorn_app import LIMIT_REQUEST_LINE
from simulator.testing import ROOT
from simulator.testing import free_port
from simulator.testing import wait_for_health


def _stream_set_url(base: str, web_id: str, length: int) -> str:
    """A streamsets/value URL repeating `web_id` so that its request line is about `length` bytes."""
    path = "/piwebapi/streamsets/value?"
    count = max(1, (length - len("GET  HTTP/1.1") - len(path)) // len(f"webId={web_id}&"))
    return base + path + "&".join([f"webId={web_id}"] * count)


def _request_line(url: str, base: str) -> int:
    return len(f"GET {url[len(base):]} HTTP/1.1")


def _check_limit(base: str, web_id: str) -> None:
    under = _stream_set_url(base, web_id, LIMIT_REQUEST_LINE - 100)
    assert _request_line(under, base) <= LIMIT_REQUEST_LINE
    answer = requests.get(under, timeout=30)
    assert answer.status_code == 200, answer.text[:200]
    assert {m["WebId"] for m in answer.json()["Items"]} == {web_id}
    over = _stream_set_url(base, web_id, LIMIT_REQUEST_LINE + 200)
    assert _request_line(over, base) > LIMIT_REQUEST_LINE
    refused = requests.get(over, timeout=30)
    assert refused.status_code == 414 and "too large" in refused.text.lower()


def test_simulator_process_refuses_a_url_longer_than_the_limit(simulator_server, ids):
    assert LIMIT_REQUEST_LINE == 4094
    _check_limit(simulator_server.url, ids["TINY.FLOAT32"])


def test_pi_sim_serve_refuses_a_url_longer_than_the_limit(ids):
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "simulator.cli", "serve", "--scenario", "qa-tiny",
                                "--port", str(port), "--now", "2026-11-25T00:00:00Z"], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_health(base, process)
        _check_limit(base, ids["TINY.FLOAT32"])
    finally:
        process.terminate()
        process.wait(10)
