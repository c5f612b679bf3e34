"""connector: PI Web API to bronze Delta tables, incremental and exact."""
from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["PI", "__version__"]


def __getattr__(name: str):
    """`PI` (connector.notebook) is imported on first use: the extractor does not need pandas."""
    if name == "PI":
        from .notebook import PI

        return PI
    raise AttributeError(f"module 'connector' has no attribute {name!r}")
