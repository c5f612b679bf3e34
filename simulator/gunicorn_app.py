"""simulator.gunicorn_app: serve the app with gunicorn from Python (what `pi-sim serve` runs).

The app is built once in the master (preload), so a bad scenario fails before any worker forks,
and workers share the loaded scenario copy-on-write.
"""
from __future__ import annotations

from gunicorn.app.base import BaseApplication

from .settings import Settings


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
    from .app import create_app

    app = create_app(settings.scenario, **{k: getattr(settings, k) for k in ("now", "validate_responses")})
    app.extensions["pisim"].warm()  # before the workers fork: they share the opened streams
    options = {
        "bind": f"{settings.host}:{settings.port}",
        "workers": settings.workers,
        "preload_app": True,
        "timeout": 300,
        "limit_request_line": 0,  # stream sets name many WebIDs in one URL
        "accesslog": "-",
        "access_log_format": '%(h)s "%(r)s" %(s)s %(b)s %(M)sms',
    }
    _Server(app, options).run()
