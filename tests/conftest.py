"""Shared fixtures: the simulator in-process (Flask test client that checks every response against
the contract) and under gunicorn on a free loopback port (for clients that speak HTTP)."""
from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from simulator.testing import SimulatorProcess  # noqa: F401  (re-exported for tests)
from simulator.testing import free_port  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
TINY = "qa-tiny"
PINNED = "2026-11-25T00:00:00Z"  # where tests pin the default scenario's (otherwise moving) clock


class ContractClient(FlaskClient):
    """A test client that validates every response against contracts/piwebapi.yaml."""

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        from simulator.serving.contract import Contract

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

    return load_scenario("default", now=PINNED)


@contextlib.contextmanager
def serve(app):
    """Serve `app` on 127.0.0.1 (a free port) in a thread, in this process; yields the base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def contract_app(scenario, **overrides):
    """A Flask app serving `scenario` whose test clients check every response against the contract."""
    from simulator import create_app

    app = create_app(scenario, **overrides)
    app.test_client_class = ContractClient
    return app


def relative(url: str) -> str:
    """A Links URL as the path and query a test client asks for."""
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


@pytest.fixture()
def app(tiny_scenario):
    return contract_app(tiny_scenario)


@pytest.fixture(scope="session")
def sim(tiny_scenario):
    """The tiny scenario's Simulator (no HTTP), for the ground truth tests compare with."""
    from simulator.backend import Simulator
    from simulator.settings import Settings

    return Simulator(tiny_scenario, Settings())


@pytest.fixture(scope="session")
def ids(sim) -> dict[str, str]:
    """The tiny scenario's point WebIDs by tag name."""
    return {p.name: p.web_id() for p in sim.catalog.data_servers[0].points}


@pytest.fixture()
def client(app):
    return app.test_client()


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
