"""Shared fixtures: the simulator in-process (Flask test client that checks every response against
the contract) and under gunicorn on a free loopback port (for clients that speak HTTP)."""
from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from simulator.testing import SimulatorProcess  # noqa: F401  (re-exported for tests)
from simulator.testing import free_port  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
TINY = "qa-tiny"


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
