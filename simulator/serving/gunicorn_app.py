"""simulator.serving.gunicorn_app: serve the app with gunicorn from Python (what `pi-sim serve` runs).

The app is built once in the master (preload), so a bad scenario fails before any worker forks,
and workers share the loaded scenario copy-on-write. The mock's state (stubs, journal, runtime
faults, recordings, request counters) lives in each worker process: WireMock-style tests want one
worker, with threads for requests served side by side.
"""
from __future__ import annotations

import sys

from gunicorn.app.base import BaseApplication

from ..settings import Settings

# gunicorn's default: a request line (method, URL, version) longer than this gets 414 URI Too Long before
# the app sees it, as a real PI Web API (HTTP.sys) answers 414 to a too-long URL. Clients that name many
# WebIDs in one URL must split their requests (or POST a batch).
LIMIT_REQUEST_LINE = 4094


class _Server(BaseApplication):
    def __init__(self, app, options: dict) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.application


def serve(settings: Settings) -> None:
    """Serve `settings.scenario` until stopped. ValueError for a worker or thread count below 1."""
    from .app import create_app

    for name in ("workers", "threads"):
        if getattr(settings, name) < 1:
            raise ValueError(f"--{name}: expected a whole number >= 1, got {getattr(settings, name)}")

    app = create_app(settings.scenario, **{k: getattr(settings, k)
                                           for k in ("now", "clock_speed", "clock_start", "validate_responses",
                                                     "admin_token", "admin_open")})
    app.extensions["pisim"].warm()  # before the workers fork: they share the opened streams
    options = {
        "bind": f"{settings.host}:{settings.port}",
        "workers": settings.workers,
        "threads": settings.threads,
        "preload_app": True,
        "timeout": 300,
        "limit_request_line": LIMIT_REQUEST_LINE,
        "accesslog": "-",
        "access_log_format": '%(h)s "%(r)s" %(s)s %(b)s %(M)sms',
    }
    admin = app.extensions["pisim.admin"]
    if not admin.open and not (admin.users or admin.tokens):
        print("pi-sim: note: the scenario enables auth and names no admin credentials, so /__admin answers 401 "
              "to everyone: give admin: {users, tokens} in the scenario, --admin-token (PISIM_ADMIN_TOKEN), "
              "or --admin-open for local QA.", file=sys.stderr, flush=True)
    if settings.workers > 1:
        print(f"pi-sim: note: {settings.workers} workers, each with its own mock state (stubs, journal, runtime "
              "faults, recordings, request counters): an admin call reaches one of them. For WireMock-style "
              "tests serve with --workers 1 (and --threads N).", file=sys.stderr, flush=True)
    _Server(app, options).run()
