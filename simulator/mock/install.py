"""simulator.mock.install: puts the mock on a Flask app (its hooks, the /__admin blueprint, the Mock).

Its own module so that the store (what the hooks do) and the admin API (what /__admin serves, which
reads the store) do not import each other.
"""
from __future__ import annotations

import typing as t

from flask import Flask

from .admin import bp
from .store import EXTENSION
from .store import Mock

if t.TYPE_CHECKING:
    from ..scenario.model import Fault


def init_app(app: Flask, *, seed: int, faults: t.Sequence[Fault],
             now: t.Callable[[], int] | None = None) -> Mock:
    """Install the mock on `app`: hooks first in line, the /__admin blueprint, and the Mock object.

    The before_request hook is inserted at the head of the app's list, so it runs before any hook
    registered earlier or later (auth included); the after_request hook at the head too, which makes
    it run last and journal the final response.
    """
    mock = Mock(seed=seed, faults=faults, now=now)
    app.extensions[EXTENSION] = mock
    app.before_request_funcs.setdefault(None, []).insert(0, mock.before_request)
    app.after_request_funcs.setdefault(None, []).insert(0, mock.after_request)
    app.register_blueprint(bp)
    return mock
