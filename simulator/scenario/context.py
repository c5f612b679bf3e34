"""simulator.scenario.context: what the schemas need besides the data, set once per build."""
from __future__ import annotations

import contextvars
import typing as t

from picommon import pitime
from . import model

if t.TYPE_CHECKING:
    from marshmallow import ValidationError


class Context:
    """The clock, the digital sets and the cache of loaded recipes of the build in progress."""

    def __init__(self) -> None:
        self.real_now = pitime.now_ticks()
        self.now = self.real_now
        self.tz = "UTC"
        self.digital_sets: dict[str, model.DigitalSet] = {}
        self.recipes: dict[tuple, tuple[object, dict | ValidationError]] = {}


#: The context of the build in progress; `schema.build` sets it, fields and schemas read it.
CTX: contextvars.ContextVar[Context] = contextvars.ContextVar("scenario_schema_context")
