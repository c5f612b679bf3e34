"""simulator: a PI Web API simulator driven by YAML scenario files."""
from __future__ import annotations

from .app import create_app as create_app

__version__ = "0.1.0"
