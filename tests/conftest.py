"""Shared fixtures: the simulator in-process (Flask test client that checks every response against
the contract) and under gunicorn on a free loopback port (for clients that speak HTTP)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parents[1]
TINY = "qa-tiny"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ContractClient(FlaskClient):
    """A test client that validates every response against contracts/piwebapi.yaml."""

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        from simulator.contract import Contract

        request = response.request
        Contract.load().validate_response(request.method, request.path, response.status_code, response.headers,
                                          response.get_data(), query=request.args)
        return response


@pytest.fixture(scope="session")
def tiny_scenario():
    from simulator.scenario import load_scenario

    return load_scenario(TINY)


@pytest.fixture(scope="session")
def default_scenario():
    from simulator.scenario import load_scenario

    return load_scenario("default")


@pytest.fixture()
def app(tiny_scenario):
    from simulator import create_app

    app = create_app(tiny_scenario)
    app.test_client_class = ContractClient
    return app


@pytest.fixture()
def client(app):
    return app.test_client()


class SimulatorProcess:
    """gunicorn serving a scenario on 127.0.0.1:<free port>."""

    def __init__(self, scenario: str, workers: int = 1, env: dict | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = dict(os.environ, PISIM_SCENARIO=scenario, **(env or {}))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "simulator.wsgi:app", "-b", f"127.0.0.1:{self.port}",
             "-w", str(workers), "--preload", "--timeout", "120", "--log-level", "warning"],
            cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.process.stdout.read().decode(errors="replace")
                raise RuntimeError(f"the simulator exited: {output}")
            try:
                if requests.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the simulator did not answer /health within 60 s")

    def reset(self) -> None:
        requests.post(self.url + "/__admin/reset", timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture(scope="session")
def simulator_server():
    """The tiny scenario under gunicorn, shared by the session; reset before each user."""
    server = SimulatorProcess(TINY)
    yield server
    server.stop()


@pytest.fixture()
def sim_url(simulator_server):
    simulator_server.reset()
    return simulator_server.url
