"""simulator.backend.badvalues: the values a scenario makes PI report as errors, arrays and failed streams.

Whether a value is bad, and how, is a pure function of (seed, point, timestamp): the same whichever
window, page, worker or stream set reads it. A stream set member fails (a WebException in its
place while the others succeed) by (seed, point, server clock second): always under a pinned
clock, now and then under a moving one.
"""
from __future__ import annotations

import numpy as np
import orjson

from ..archive import hashing
from ..scenario.model import TICKS_PER_SECOND
from ..scenario.model import BadValues
from ..scenario.model import Point

KINDS = ("object", "errors", "field")
GOOD = -1
_KIND_SALT = 0x2545F4914F6CDD1D


class BadValueRule:
    """One point's bad values (see scenario.model.BadValues)."""

    __slots__ = ("spec", "key", "codes", "texts", "field_errors", "array")

    def __init__(self, spec: BadValues, seed: int, point: Point) -> None:
        self.spec = spec
        self.key = hashing.key(seed, point.server.upper(), point.id, "bad values")
        self.codes = np.array([KINDS.index(k) for k in spec.kinds], np.int8)
        self.texts = (orjson.dumps({"Name": spec.name, "Value": spec.code}).decode(),
                      orjson.dumps({"Errors": [spec.message]}).decode(), "null")
        self.field_errors = orjson.dumps([{"FieldName": "Value", "Message": [spec.message]}]).decode()
        self.array = spec.array

    def kinds(self, ticks: np.ndarray) -> np.ndarray:
        """Per timestamp: GOOD, or the index in KINDS of how that value is reported."""
        ticks = np.asarray(ticks, np.int64)
        if self.spec.rate <= 0 or len(ticks) == 0:
            return np.full(len(ticks), GOOD, np.int8)
        hit = hashing.uniform(self.key, ticks) < self.spec.rate
        pick = (hashing.uniform(self.key ^ _KIND_SALT, ticks) * len(self.codes)).astype(np.int64)
        return np.where(hit, self.codes[np.minimum(pick, len(self.codes) - 1)], GOOD).astype(np.int8)

    def stream_fails(self, now: int) -> bool:
        """Whether this stream fails inside a stream set read at server time `now`."""
        rate = self.spec.stream_errors.rate
        return rate > 0 and hashing.uniform1(self.key ^ 0x3C6EF372FE94F82B, int(now) // TICKS_PER_SECOND) < rate

    def stream_exception(self) -> dict:
        errors = self.spec.stream_errors
        return {"StatusCode": errors.status, "Errors": [errors.message]}


def for_point(point: Point, seed: int) -> BadValueRule | None:
    """The point's rule, or None when its scenario declares no bad values."""
    return BadValueRule(point.bad_values, seed, point) if point.bad_values is not None else None
