"""simulator.serving.app: create_app() wires settings, scenario, backend, routes, auth, mock and errors."""
from __future__ import annotations

import typing as t
from dataclasses import replace

from flask import Flask

from . import auth
from .. import console
from ..pi import errors
from picommon import pitime
from .. import mock
from .. import routes
from ..backend import updates
from ..backend import write_paths
from ..backend.simulator import Simulator
from .paths import CaseInsensitivePaths
from ..scenario import load_scenario
from ..scenario.model import Scenario
from ..settings import Settings


def create_app(scenario: Scenario | str | None = None, **overrides: t.Any) -> Flask:
    """A Flask app serving one scenario (a Scenario, a file path or a bundled name)."""
    settings = Settings.load(**overrides)
    if isinstance(scenario, Scenario):
        loaded = scenario
    else:  # a pinned or started clock is the scenario's now too (its relative times count from it)
        loaded = load_scenario(scenario or settings.scenario, now=settings.now or settings.clock_start)
        exact = pitime.format_time(loaded.clock.now) if loaded.clock.now is not None else None
        settings = replace(settings, now=exact if settings.now else None,
                           clock_start=exact if settings.clock_start else None)
    simulator = Simulator(loaded, settings)
    app = Flask("simulator")
    app.url_map.strict_slashes = False
    app.json.sort_keys = False  # type: ignore[attr-defined]  # DefaultJSONProvider's setting
    app.extensions["pisim"] = simulator
    errors.register(app)
    mocked = mock.init_app(app, seed=loaded.seed, faults=loaded.faults)  # the journal keeps wall-clock times
    mocked.reset_hooks.append(write_paths.install(app, simulator))
    mocked.reset_hooks.append(updates.install(app, settings.updates_lifetime))
    auth.init_app(app, loaded.auth, auth.admin_access(loaded.auth, loaded.admin, token=settings.admin_token,
                                                      open_=settings.admin_open))
    for blueprint in routes.BLUEPRINTS:
        app.register_blueprint(blueprint)
    app.register_blueprint(console.bp)
    if settings.validate_responses:
        from .contract import install_validation

        install_validation(app)
    app.wsgi_app = CaseInsensitivePaths(app.wsgi_app, app.url_map)  # type: ignore[method-assign]  # Flask's way
    return app
