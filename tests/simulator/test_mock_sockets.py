"""End-to-end: WireMock socket faults from simulator.mock are real under gunicorn (sync and gthread)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
APP = '''
from flask import Flask
from simulator import mock
from simulator.pi import errors
from simulator.mock.faults import parse_fault

app = Flask("sockets")
errors.register(app)
m = mock.init_app(app, seed=1, faults=[])
m.faults.add(parse_fault({"name": "reset-every-2nd", "path": "/flaky", "every": 2,
                                      "socket": "CONNECTION_RESET_BY_PEER"}))
for kind in ("EMPTY_RESPONSE", "CONNECTION_RESET_BY_PEER", "RANDOM_DATA_THEN_CLOSE", "MALFORMED_RESPONSE_CHUNK"):
    m.add_stub({"request": {"urlPath": "/f/" + kind}, "response": {"fault": kind}})


@app.get("/flaky")
def flaky():
    return {"ok": True}


@app.get("/ok")
def ok():
    return {"ok": True}
'''


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(params=["sync", "gthread"])
def server(request, tmp_path):
    (tmp_path / "sockapp.py").write_text(APP)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)])}
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-k", request.param, "--threads", "2", "-w", "1",
                             "-b", f"127.0.0.1:{port}", "sockapp:app"], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(base + "/__admin/health", timeout=5)
                break
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or a loaded machine
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("gunicorn did not start")
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def raw_get(port: int, path: str) -> tuple[str, bytes]:
    """("fin" | "rst", bytes received) for a GET over a plain socket."""
    data = b""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: sim\r\n\r\n".encode())
        try:
            while chunk := conn.recv(65536):
                data += chunk
        except ConnectionResetError:
            return "rst", data
    return "fin", data


@pytest.mark.e2e
def test_socket_faults_under_gunicorn(server):
    assert raw_get(server, "/f/EMPTY_RESPONSE") == ("fin", b"")
    assert raw_get(server, "/f/CONNECTION_RESET_BY_PEER") == ("rst", b"")
    how, data = raw_get(server, "/f/RANDOM_DATA_THEN_CLOSE")
    assert how == "fin" and len(data) == 256 and not data.startswith(b"HTTP/")
    how, data = raw_get(server, "/f/MALFORMED_RESPONSE_CHUNK")
    assert how == "fin" and data.startswith(b"HTTP/1.1 200 OK") and b"lorem ipsum" in data
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(f"http://127.0.0.1:{server}/f/MALFORMED_RESPONSE_CHUNK", timeout=5).content
    with pytest.raises(requests.ConnectionError, match="reset"):
        requests.get(f"http://127.0.0.1:{server}/f/CONNECTION_RESET_BY_PEER", timeout=5)
    assert requests.get(f"http://127.0.0.1:{server}/ok", timeout=5).json() == {"ok": True}  # the worker lives on


@pytest.mark.e2e
def test_a_fault_rule_can_reset_the_connection(server):
    """A seeded rule (scenario `faults:` or the admin API) with `socket:` breaks every 2nd matching request."""
    def outcome():
        try:
            return requests.get(f"http://127.0.0.1:{server}/flaky", timeout=5).json()
        except requests.ConnectionError as exc:
            return "reset" if "reset" in str(exc).lower() else str(exc)
    assert [outcome() for _ in range(4)] == [{"ok": True}, "reset", {"ok": True}, "reset"]
    rules = requests.get(f"http://127.0.0.1:{server}/__admin/faults", timeout=5).json()["faults"]
    assert [(r["name"], r["socket"], r["status"], r["fired"]) for r in rules] == [
        ("reset-every-2nd", "CONNECTION_RESET_BY_PEER", None, 2)]
