"""simulator: a PI Web API simulator driven by YAML scenario files."""
from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__", "create_app"]


def __getattr__(name: str):
    # create_app is imported on first use, so the pure modules (pitime, webid, archive) import
    # without Flask and without loading the whole app.
    if name == "create_app":
        from .serving.app import create_app

        return create_app
    raise AttributeError(name)
