"""simulator.entry: the `pi-sim` command, which says which extra to install when the simulator's are missing."""
from __future__ import annotations

import sys


def main() -> None:
    try:
        import flask  # noqa: F401
        import gunicorn  # noqa: F401
    except ImportError as missing:
        sys.exit(f"pi-sim: {missing.name} is not installed; the simulator needs: pip install 'pi-lakehouse[simulator]'")
    from .cli import main as cli

    cli()
