"""simulator.app: create_app() wires settings, scenario, backend, routes, auth, mock and errors."""
from __future__ import annotations

from flask import Flask

from . import auth
from . import console
from . import errors
from . import mock
from . import routes
from .backend import Simulator
from .paths import CaseInsensitivePaths
from .scenario import load_scenario
from .scenario.model import Scenario
from .settings import Settings


def create_app(scenario: Scenario | str | None = None, **overrides: object) -> Flask:
    """A Flask app serving one scenario (a Scenario, a file path or a bundled name)."""
    settings = Settings.load(**overrides)
    loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario or settings.scenario)
    simulator = Simulator(loaded, settings)
    app = Flask("simulator")
    app.url_map.strict_slashes = False
    app.json.sort_keys = False
    app.extensions["pisim"] = simulator
    errors.register(app)
    mock.init_app(app, seed=loaded.seed, faults=loaded.faults, now=simulator.now)
    auth.init_app(app, loaded.auth)
    for blueprint in routes.BLUEPRINTS:
        app.register_blueprint(blueprint)
    app.register_blueprint(console.bp)
    if settings.validate_responses:
        from .contract import install_validation

        install_validation(app)
    app.wsgi_app = CaseInsensitivePaths(app.wsgi_app, app.url_map)
    return app
