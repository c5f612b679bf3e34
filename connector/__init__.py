"""connector: PI Web API to bronze Delta tables, incremental and exact."""
from __future__ import annotations

__version__ = "0.1.0"
