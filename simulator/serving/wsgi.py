"""simulator.serving.wsgi: the app object gunicorn serves (`gunicorn simulator.serving.wsgi:app`).

The scenario and other settings come from PISIM_* environment variables (see settings.py).
"""
from __future__ import annotations

from .. import create_app

app = create_app()
app.extensions["pisim"].warm()  # in the gunicorn master (--preload): shared by every worker
