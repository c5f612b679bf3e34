"""simulator.scenario.faults: injected faults (status, Retry-After, delay) and when they fire."""
from __future__ import annotations

from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import post_load
from marshmallow import validates_schema

from . import model
from .model import SOCKET_FAULTS
from .fields import REQUIRED
from .fields import Base
from .fields import Choice
from .fields import Int
from .fields import Name
from .fields import Num
from .fields import Str

FAULT_STATUSES = (429, 500, 502, 503, 504)
HTTP_METHODS = ("*", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


class DelayField(fields.Field):
    """{fixed: ms} | {uniform: [low, high]} | {lognormal: {median, sigma, cap}} -> Delay."""

    default_error_messages = {**REQUIRED,
                              "invalid": "expected one of {{fixed: ms}}, {{uniform: [low_ms, high_ms]}} or "
                                         "{{lognormal: {{median: ms, sigma: s, cap: ms}}}}"}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in ("fixed", "uniform",
                                                                                        "lognormal"):
            raise self.make_error("invalid")
        kind, body = next(iter(value.items()))
        number = Num(low=0)
        if kind == "fixed":
            return model.Delay(kind="fixed", ms=self.sub(number, body, kind))
        if kind == "uniform":
            if not isinstance(body, list) or len(body) != 2:
                raise ValidationError({kind: ["expected [low_ms, high_ms]"]})
            low, high = self.sub(number, body[0], kind), self.sub(number, body[1], kind)
            if high < low:
                raise ValidationError({kind: [f"high {high:g} is below low {low:g}"]})
            return model.Delay(kind="uniform", lower=low, upper=high)
        delay = LognormalSchema().load(body) if isinstance(body, dict) else None
        if delay is None:
            raise ValidationError({kind: ["expected {median: ms, sigma: s, cap: ms}"]})
        return delay

    @staticmethod
    def sub(field: fields.Field, value: object, key: str) -> float:
        try:
            return field.deserialize(value)
        except ValidationError as exc:
            raise ValidationError({key: exc.messages}) from None


class LognormalSchema(Base):
    median = Num(required=True, low=0, low_open=True)
    sigma = Num(required=True, low=0)
    cap = Num(low=0, low_open=True, allow_none=True)

    @post_load
    def make(self, data, **kwargs):
        if data.get("cap") is not None and data["cap"] < data["median"]:
            raise ValidationError("cap must not be below median", "cap")
        return model.Delay(kind="lognormal", **data)

    def handle_error(self, error, data, **kwargs):
        raise ValidationError({"lognormal": error.messages})


class FaultSchema(Base):
    name = Name()
    method = Choice(HTTP_METHODS)
    path = Str(non_empty=True)
    rate = Num(low=0, high=1, low_open=True)
    every = Int(low=1)
    times = Int(low=1, allow_none=True)
    status = Choice(FAULT_STATUSES, allow_none=True)
    retry_after = Num(low=0, allow_none=True)
    message = Str(allow_none=True)
    delay = DelayField(allow_none=True)
    scope = Choice(("request", "batch", "any"))
    socket = Choice(SOCKET_FAULTS, allow_none=True)

    @validates_schema
    def check(self, data, **kwargs):
        if data.get("socket") is not None:
            if "status" in data or "retry_after" in data:
                raise ValidationError("a socket fault breaks the connection: it takes no status or retry_after",
                                      "socket")
            if data.get("scope", "request") != "request":
                raise ValidationError("a socket fault breaks a connection, so scope must be request", "scope")
        if ("rate" in data) == ("every" in data):
            raise ValidationError("give exactly one of rate (a share of requests) or every "
                                  "(every n-th request)",
                                  "every" if "every" in data else "rate" if "rate" in data else "_schema")
        if "status" in data and data["status"] is None and not data.get("delay"):
            raise ValidationError("status: null (serve normally) only makes sense with a delay", "status")
        if data.get("retry_after") is not None and data.get("status", 503) is None:
            raise ValidationError("retry_after needs a status", "retry_after")

    @post_load
    def make(self, data, **kwargs):
        return data
