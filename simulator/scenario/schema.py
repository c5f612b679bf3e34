"""simulator.scenario.schema: marshmallow schemas that check an expanded scenario tree and build the model.

`build(tree, file=...)` loads in three steps: the clock and digital sets (other fields need them),
then the whole file (unknown keys are errors everywhere), then the cross-references that need all
of it (`_Af`: AF templates, element trees and the PI points behind their attributes, event
frames). Every problem is reported as (path, message) and the loader turns the path back into the
file's line and column. Points are the one hot spot (30,000 in large.yaml): their names, ids and
descriptors are checked by hand and the rest of each point, which for_each copies share, is
loaded by marshmallow once per distinct recipe.
"""
from __future__ import annotations

import contextvars
import dataclasses
import difflib
import math
import re
import string
import typing as t
import uuid

from marshmallow import RAISE
from marshmallow import Schema
from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import post_load
from marshmallow import validates_schema

from .. import pitime
from .. import states
from . import model

#: Default ids of servers and databases are uuid5 of their (upper-case) name or path in this namespace.
NAMESPACE = uuid.UUID("6f0c2a4e-2b1d-5c7e-9a43-5049534d2026")
DIGITAL_SET_KINDS = ("digital",)
STRING_KINDS = ("string",)
NUMERIC_KINDS = tuple(k for k in model.SIGNAL_KINDS if k not in ("digital", "string"))
_COMMON_NUMERIC = ("mean", "noise", "timescale", "anomalies", "minimum", "maximum", "decimals")
SIGNAL_FIELDS = {
    "daily": _COMMON_NUMERIC + ("amplitude", "period", "phase"),
    "sine": _COMMON_NUMERIC + ("amplitude", "period", "phase"),
    "square": _COMMON_NUMERIC + ("amplitude", "period", "phase"),
    "sawtooth": _COMMON_NUMERIC + ("amplitude", "period", "phase"),
    "ramp": _COMMON_NUMERIC + ("rate", "period"),
    "counter": _COMMON_NUMERIC + ("rate", "period"),
    "random_walk": _COMMON_NUMERIC + ("amplitude",),
    "constant": _COMMON_NUMERIC,
    "digital": ("dwell",),
    "string": ("choices", "faker", "dwell"),
}
AF_TYPES = ("Boolean", "Byte", "Int16", "Int32", "Int64", "Single", "Double", "String", "DateTime", "Guid",
            "EnumerationValue")
SEVERITIES = ("None", "Information", "Warning", "Minor", "Major", "Critical")
AUTH_METHODS = ("anonymous", "basic", "bearer")
FAULT_STATUSES = (429, 500, 502, 503, 504)
HTTP_METHODS = ("*", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
WEB_ID_TYPES = ("Full", "IDOnly", "PathOnly", "LocalIDOnly", "DefaultIDOnly")
_BAD_NAME_CHARS = set("*?;{}[]|\\'\"`")
_SCALARS = (str, int, float, bool, type(None))


class Problems(Exception):
    """Everything wrong with a scenario: (path, message, at_key) triples for the loader to locate."""

    def __init__(self, problems: list[tuple[tuple, str, bool]]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


class _Context:
    """What schemas need besides the data: set once per build, read through `_CTX`."""

    def __init__(self) -> None:
        self.real_now = pitime.now_ticks()
        self.now = self.real_now
        self.tz = "UTC"
        self.digital_sets: dict[str, model.DigitalSet] = {}
        self.recipes: dict[tuple, tuple[object, dict | ValidationError]] = {}


_CTX: contextvars.ContextVar[_Context] = contextvars.ContextVar("scenario_schema_context")
_FAKER: list[object] = []


def _faker_has(provider: str) -> bool:
    if not _FAKER:
        from faker import Faker

        _FAKER.append(Faker())
    return (not provider.startswith("_") and provider not in ("seed", "seed_instance", "add_provider")
            and callable(getattr(_FAKER[0], provider, None)))


def _listing(options: t.Iterable[object]) -> str:
    return ", ".join(str(o) for o in options)


# --------------------------------------------------------------------------------------------------
# fields: strict scalars with messages that say what was expected

_REQUIRED = {"required": "required field is missing", "null": "must not be null"}


class Str(fields.Field):
    default_error_messages = {**_REQUIRED, "invalid": "expected a string, not {input!r}",
                              "empty": "must not be empty"}

    def __init__(self, *, non_empty: bool = False, **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        self.non_empty = non_empty

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise self.make_error("invalid", input=value)
        if self.non_empty and not value.strip():
            raise self.make_error("empty")
        return value


class Name(Str):
    """A PI or AF object name: not empty, no surrounding spaces, none of * ? ; { } [ ] | \\ ' " `."""

    def __init__(self, **kwargs: t.Any) -> None:
        super().__init__(non_empty=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        problem = name_problem(value)
        if problem:
            raise ValidationError(problem)
        return value


_BAD_NAME_RE = re.compile(r"[*?;{}\[\]|\\'\"`\x00-\x1f]")


def name_problem(value: str) -> str | None:
    """Why `value` is not a valid PI/AF name, or None."""
    if _BAD_NAME_RE.search(value) is None and value.strip() and value[0] != " " and value[-1] != " ":
        return None
    if not value.strip():
        return "must not be empty"
    bad = sorted(set(value) & _BAD_NAME_CHARS) + sorted({c for c in value if ord(c) < 32})
    if bad:
        return f"{value!r} is not a valid name: it must not contain {' '.join(repr(c) for c in bad)}"
    return f"{value!r} must not start or end with spaces"


class Num(fields.Field):
    default_error_messages = {**_REQUIRED, "invalid": "expected a number, not {input!r}",
                              "range": "must be {bound}, not {input!r}"}

    def __init__(self, *, low: float | None = None, high: float | None = None, low_open: bool = False,
                 **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        self.low, self.high, self.low_open = low, high, low_open

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            raise self.make_error("invalid", input=value)
        value = self.convert(value)
        too_low = self.low is not None and (value <= self.low if self.low_open else value < self.low)
        if too_low or (self.high is not None and value > self.high):
            raise self.make_error("range", input=value, bound=self.bound())
        return value

    def convert(self, value):
        return float(value)

    def bound(self) -> str:
        low = f"> {self.low:g}" if self.low_open else f">= {self.low:g}"
        if self.low is not None and self.high is not None:
            if self.low_open:
                return f"{low} and <= {self.high:g}"
            return f"between {self.low:g} and {self.high:g}"
        return low if self.low is not None else f"<= {self.high:g}"


class Int(Num):
    default_error_messages = {**Num.default_error_messages,
                              "invalid": "expected a whole number, not {input!r}"}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return super()._deserialize(value, attr, data, **kwargs)

    def convert(self, value):
        return int(value)


def Share(**kwargs: t.Any) -> Num:  # noqa: N802 - a field factory reads like a field class
    """A fraction between 0 and 1."""
    return Num(low=0.0, high=1.0, **kwargs)


class Bool(fields.Field):
    default_error_messages = {**_REQUIRED, "invalid": "expected true or false, not {input!r}"}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class Choice(fields.Field):
    """One of `options`, matched ignoring case, returned as spelled in `options`."""

    default_error_messages = {**_REQUIRED, "invalid": "must be one of: {options} (not {input!r})"}

    def __init__(self, options: t.Sequence[object], **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        self.options = tuple(options)
        self.by_key = {str(o).lower(): o for o in self.options}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, _SCALARS) and not isinstance(value, bool) and str(value).lower() in self.by_key:
            found = self.by_key[str(value).lower()]
            if isinstance(found, str) or value == found:
                return found
        raise self.make_error("invalid", input=value, options=_listing(self.options))


class Duration(fields.Field):
    """A PI interval such as "5s", "10m", "1h", "2d", "0.5s" -> ticks (> 0, or >= 0 with allow_zero)."""

    default_error_messages = {**_REQUIRED,
                              "invalid": "expected a duration such as '5s', '1h' or '2d', not {input!r}"}

    def __init__(self, *, allow_zero: bool = False, **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        self.allow_zero = allow_zero

    def _deserialize(self, value, attr, data, **kwargs):
        return duration(value, allow_zero=self.allow_zero, error=self.make_error("invalid", input=value))


def duration(value: object, *, allow_zero: bool = False, error: ValidationError | None = None) -> int:
    if not isinstance(value, str):
        raise error or ValidationError(f"expected a duration such as '5s', '1h' or '2d', not {value!r}")
    try:
        interval = pitime.parse_interval(value, allow_zero=allow_zero)
    except pitime.TimeParseError as exc:
        raise ValidationError(str(exc)) from None
    if interval.months:
        raise ValidationError(f"duration {value!r}: months and years have no fixed length; use days ('30d')")
    if interval.ticks < 0:
        raise ValidationError(f"duration {value!r} must not be negative")
    if interval.ticks > pitime.MAX_TICKS:
        raise ValidationError(f"duration {value!r} is longer than the years PI can store")
    return interval.ticks


class Time(fields.Field):
    """An ISO 8601 time ("2026-11-25T00:00:00Z") or PI time ("*-2d") -> ticks, relative to the clock."""

    default_error_messages = {**_REQUIRED, "invalid": "expected a time such as '2026-11-25T00:00:00Z', "
                                                      "not {input!r}"}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise self.make_error("invalid", input=value)
        ctx = _CTX.get()
        try:
            return pitime.parse_time(value, now=ctx.now, tz=ctx.tz)
        except pitime.TimeParseError as exc:
            raise ValidationError(str(exc)) from None


class State(fields.Field):
    """A SYSTEM digital state by name ("I/O Timeout", any case) or code (246) -> code."""

    default_error_messages = dict(_REQUIRED)

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return states.lookup(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class Guid(fields.Field):
    default_error_messages = {**_REQUIRED, "invalid": "expected a GUID such as "
                                                      "'96f9a00e-4d80-471f-aba9-ea89a1db402c', not {input!r}"}

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return str(uuid.UUID(str(value)))
        except ValueError:
            raise self.make_error("invalid", input=value) from None


class ListOf(fields.List):
    default_error_messages = {**_REQUIRED, "invalid": "expected a list"}

    def __init__(self, inner: fields.Field | type[fields.Field], *, non_empty: bool = False, **kwargs: t.Any):
        super().__init__(inner, **kwargs)
        self.non_empty = non_empty

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list):
            raise self.make_error("invalid")
        if self.non_empty and not value:
            raise ValidationError("must not be empty")
        return super()._deserialize(value, attr, data, **kwargs)


def Nest(schema: t.Any, **kwargs: t.Any) -> fields.Nested:  # noqa: N802
    return fields.Nested(schema, **kwargs)


class MappingOf(fields.Field):
    """A mapping of names to values checked by `inner`; errors are keyed by the name."""

    default_error_messages = {**_REQUIRED, "invalid": "expected a mapping of name: value"}

    def __init__(self, inner: fields.Field, **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        self.inner = inner

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            raise self.make_error("invalid")
        out, errors = {}, {}
        for key, item in value.items():
            if not isinstance(key, str) or name_problem(key):
                errors[key] = [name_problem(key) if isinstance(key, str) else f"{key!r} is not a valid name"]
                continue
            try:
                out[key] = self.inner.deserialize(item, key, value)
            except ValidationError as exc:
                errors[key] = exc.messages
        if errors:
            raise ValidationError(errors)
        return out


# --------------------------------------------------------------------------------------------------
# schemas

class Base(Schema):
    """A schema whose unknown keys are errors naming the accepted ones; fields left out stay out."""

    class Meta:
        unknown = RAISE

    extra_names: tuple[str, ...] = ()

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        names = _listing(sorted([*self.fields, *self.extra_names]))
        self.error_messages = {**self.error_messages, "unknown": f"unknown field; expected one of: {names}",
                               "type": "expected a mapping (key: value)"}


class ClockSchema(Base):
    now = Str(allow_none=True)
    timezone = Str(non_empty=True)

    @post_load
    def make(self, data, **kwargs):
        ctx = _CTX.get()
        try:
            zone = pitime.resolve_timezone(data.get("timezone", "UTC"))
        except pitime.TimeParseError as exc:
            raise ValidationError(str(exc), "timezone") from None
        now = None
        if data.get("now") is not None:
            try:
                now = pitime.parse_time(data["now"], now=ctx.real_now, tz=zone)
            except pitime.TimeParseError as exc:
                raise ValidationError(str(exc), "now") from None
        return model.Clock(now=now, timezone=zone.key)


class LimitsSchema(Base):
    max_returned_items_per_call = Int(low=1)
    default_max_count = Int(low=1)
    search_max_count = Int(low=1)

    @post_load
    def make(self, data, **kwargs):
        return model.Limits(**data)


class UserSchema(Base):
    username = Str(required=True, non_empty=True)
    password = Str(required=True)

    @post_load
    def make(self, data, **kwargs):
        return model.User(**data)


class AuthSchema(Base):
    methods = ListOf(Choice(AUTH_METHODS), non_empty=True)
    users = ListOf(Nest(UserSchema))
    tokens = ListOf(Str(non_empty=True))
    csrf = Bool()
    realm = Str()

    @validates_schema
    def check(self, data, **kwargs):
        methods = data.get("methods", ("anonymous",))
        if len(set(methods)) != len(methods):
            raise ValidationError("lists a method twice", "methods")
        if "basic" in methods and not data.get("users"):
            raise ValidationError("basic authentication needs at least one user: "
                                  "users: [{username, password}]", "users" if "users" in data else "methods")
        if "bearer" in methods and not data.get("tokens"):
            raise ValidationError("bearer authentication needs at least one token: tokens: [...]",
                                  "tokens" if "tokens" in data else "methods")
        names = [u.username.lower() for u in data.get("users", ())]
        if len(set(names)) != len(names):
            raise ValidationError("two users have the same username", "users")

    @post_load
    def make(self, data, **kwargs):
        return model.Auth(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


class DigitalStates(fields.Field):
    """[name, ...] (codes 0, 1, ...) or {code: name} -> ((code, name), ...)."""

    default_error_messages = {**_REQUIRED, "invalid": "expected a list of state names or a mapping of "
                                                      "code: name"}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, list):
            pairs = list(enumerate(value))
        elif isinstance(value, dict):
            pairs = list(value.items())
        else:
            raise self.make_error("invalid")
        if not pairs:
            raise ValidationError("a digital set needs at least one state")
        errors: dict[object, list[str]] = {}
        seen_codes: set[int] = set()
        seen_names: dict[str, object] = {}
        out = []
        for key, name in pairs:
            code = key
            if isinstance(code, bool) or not isinstance(code, int) or code < 0:
                errors[key] = [f"state code {code!r} must be a whole number >= 0"]
                continue
            if isinstance(name, (int, float)) and not isinstance(name, bool):
                name = str(name)
            problem = "expected a state name" if not isinstance(name, str) else name_problem(name)
            if problem:
                errors[key] = [problem]
            elif code in seen_codes:
                errors[key] = [f"state code {code} is used twice"]
            elif name.lower() in seen_names:
                errors[key] = [f"state name {name!r} is used twice"]
            else:
                seen_codes.add(code)
                seen_names[name.lower()] = key
                out.append((code, name))
        if errors:
            raise ValidationError(errors)
        return tuple(sorted(out))


class DigitalSetSchema(Base):
    name = Name(required=True)
    states = DigitalStates(required=True)

    @post_load
    def make(self, data, **kwargs):
        if data["name"].upper() == states.SET_NAME:
            raise ValidationError("SYSTEM is PI's own set of system states; choose another name", "name")
        return model.DigitalSet(**data)


class SignalSchema(Base):
    kind = Choice(model.SIGNAL_KINDS)
    mean = Num()
    amplitude = Num(low=0)
    period = Duration()
    phase = Num()
    rate = Num()
    noise = Num(low=0)
    timescale = Duration()
    anomalies = Share()
    minimum = Num()
    maximum = Num()
    decimals = Int(low=0, high=15)
    dwell = Duration()
    choices = ListOf(Str(), non_empty=True)
    faker = Str(non_empty=True)

    @validates_schema
    def check(self, data, **kwargs):
        kind = data.get("kind", "daily")
        allowed = SIGNAL_FIELDS[kind]
        for name in data:
            if name != "kind" and name not in allowed:
                raise ValidationError(f"does not apply to signal kind {kind!r} "
                                      f"(it takes: {_listing(allowed)})", name)
        if "minimum" in data and "maximum" in data and data["minimum"] > data["maximum"]:
            raise ValidationError(f"minimum {data['minimum']:g} is above maximum {data['maximum']:g}",
                                  "minimum")
        if kind == "string":
            if ("choices" in data) == ("faker" in data):
                raise ValidationError("a string signal needs either choices: [...] or faker: <provider>")
            if "faker" in data and not _faker_has(data["faker"]):
                raise ValidationError(f"{data['faker']!r} is not a Faker provider (e.g. name, company, "
                                      f"city, uuid4)", "faker")

    @post_load
    def make(self, data, **kwargs):
        if "choices" in data:
            data["choices"] = tuple(data["choices"])
        return model.Signal(**data)


class EventsSchema(Base):
    spacing = Duration()
    jitter = Share()
    keep = Num(low=0.0, high=1.0, low_open=True)
    duplicates = Share()
    subsecond = Bool()

    @post_load
    def make(self, data, **kwargs):
        return model.EventSpec(**data)


class QualitySchema(Base):
    questionable = Share()
    substituted = Share()
    annotated = Share()

    @validates_schema
    def check(self, data, **kwargs):
        total = sum(data.values())
        if total > 1.0 + 1e-9:
            raise ValidationError(f"the shares add up to {total:g}; they must add up to at most 1")

    @post_load
    def make(self, data, **kwargs):
        return model.QualityMix(**data)


class GapSchema(Base):
    start = Time(required=True)
    end = Time(required=True)
    state = State()

    @validates_schema
    def check(self, data, **kwargs):
        if data["end"] <= data["start"]:
            raise ValidationError("a gap must end after it starts", "end")

    @post_load
    def make(self, data, **kwargs):
        return model.Gap(**data)


class OutagesSchema(Base):
    per_day = Num(low=0)
    min_duration = Duration()
    max_duration = Duration()
    state = State()

    @validates_schema
    def check(self, data, **kwargs):
        low = data.get("min_duration", model.Outages.min_duration)
        high = data.get("max_duration", model.Outages.max_duration)
        if high < low:
            raise ValidationError("max_duration must not be shorter than min_duration",
                                  "max_duration" if "max_duration" in data else "min_duration")

    @post_load
    def make(self, data, **kwargs):
        return model.Outages(**data)


class SystemStatesSchema(Base):
    rate = Share()
    states = ListOf(State(), non_empty=True)

    @post_load
    def make(self, data, **kwargs):
        if "states" in data:
            data["states"] = tuple(data["states"])
        return model.SystemStates(**data)


class Cached(fields.Nested):
    """A Nested field whose result is reused for the same source mapping (for_each copies share it)."""

    def _deserialize(self, value, attr, data, partial=None, **kwargs):
        cache = _CTX.get().recipes
        key = ("nested", self.nested, id(value))
        hit = cache.get(key)
        if hit is not None and hit[0] is value:
            if isinstance(hit[1], ValidationError):
                raise hit[1]
            return hit[1]
        try:
            result = super()._deserialize(value, attr, data, partial=partial, **kwargs)
        except ValidationError as exc:
            cache[key] = (value, exc)
            raise
        cache[key] = (value, result)
        return result


IDENTITY_FIELDS = ("name", "id", "descriptor")


class PointRecipeSchema(Base):
    """Everything of a point but its identity (name, id, descriptor), which `check_identity` checks."""

    extra_names = IDENTITY_FIELDS
    point_type = Choice(model.POINT_TYPES)
    point_class = Choice(("classic", "base"))
    engineering_units = Str()
    step = Bool()
    future = Bool()
    digital_set = Str(non_empty=True)
    span = Num(low=0, low_open=True)
    zero = Num()
    display_digits = Int(low=-20, high=10)
    created = Time()
    signal = Cached(SignalSchema)
    events = Cached(EventsSchema)
    quality = Cached(QualitySchema)
    gaps = ListOf(Nest(GapSchema))
    outages = Cached(OutagesSchema)
    system_states = Cached(SystemStatesSchema)

    @validates_schema
    def check(self, data, **kwargs):
        point_type = data.get("point_type", "Float32")
        if point_type == "Digital":
            if "digital_set" not in data:
                raise ValidationError("a Digital point needs digital_set: <name of a digital set>",
                                      "point_type")
            found = _CTX.get().digital_sets.get(data["digital_set"].lower())
            if found is None:
                known = _listing(s.name for s in _CTX.get().digital_sets.values()) or "none defined"
                raise ValidationError(f"unknown digital set {data['digital_set']!r} (digital_sets: {known})",
                                      "digital_set")
        elif "digital_set" in data:
            raise ValidationError(f"only Digital points take a digital_set (this one is {point_type})",
                                  "digital_set")
        kind = data["signal"].kind if "signal" in data else None
        allowed = (DIGITAL_SET_KINDS if point_type == "Digital" else STRING_KINDS if point_type == "String"
                   else NUMERIC_KINDS)
        if kind is not None and kind not in allowed:
            raise ValidationError(f"a {point_type} point takes signal kind {' or '.join(allowed)}, "
                                  f"not {kind!r}", "signal")

    @post_load
    def make(self, data, **kwargs):
        point_type = data.get("point_type", "Float32")
        if "digital_set" in data:
            data["digital_set"] = _CTX.get().digital_sets[data["digital_set"].lower()].name
        if "signal" not in data and point_type in ("Digital", "String"):
            if point_type == "String":
                raise ValidationError("a String point needs signal: {kind: string, choices: [...]}",
                                      "point_type")
            data["signal"] = model.Signal(kind="digital")
        if "gaps" in data:
            data["gaps"] = tuple(sorted(data["gaps"], key=lambda g: g.start))
        return data


def check_identity(item: dict) -> tuple[dict[str, list[str]], str, str]:
    """(errors, name, descriptor) of a point's name, id and descriptor, the fields for_each copies change.

    Numbers are taken as text, as `Str` does ("{n}" renders to a number).
    """
    errors: dict[str, list[str]] = {}
    name = item.get("name")
    if isinstance(name, (int, float)) and not isinstance(name, bool):
        name = str(name)
    if name is None:
        errors["name"] = ["required field is missing" if "name" not in item else "must not be null"]
    elif not isinstance(name, str):
        errors["name"] = [f"expected a string, not {name!r}"]
    else:
        problem = name_problem(name)
        if problem:
            errors["name"] = [problem]
    if "id" in item:
        ident = item["id"]
        if isinstance(ident, bool) or not isinstance(ident, int) or not 1 <= ident <= 2**31 - 1:
            errors["id"] = [f"expected a whole number from 1 to 2147483647, not {ident!r}"]
    descriptor = item.get("descriptor", "")
    if isinstance(descriptor, (int, float)) and not isinstance(descriptor, bool):
        descriptor = str(descriptor)
    if not isinstance(descriptor, str):
        errors["descriptor"] = [f"expected a string, not {descriptor!r}"]
    return errors, name, descriptor  # type: ignore[return-value]


class PointsField(fields.Field):
    """The points of a data server -> [(item index, item, name, descriptor, recipe dict)]."""

    default_error_messages = {**_REQUIRED, "invalid": "expected a list of points"}
    recipe_schema = PointRecipeSchema()

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list):
            raise self.make_error("invalid")
        cache = _CTX.get().recipes
        out, errors = [], {}
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                errors[index] = ["expected a mapping (name: ..., point_type: ...)"]
                continue
            recipe = dict(item)
            for name in IDENTITY_FIELDS:
                recipe.pop(name, None)
            key = tuple(recipe.items())  # MarkedDict/MarkedList hash by identity: for_each copies share them
            try:
                hit = cache.get(key)
            except TypeError:
                key, hit = ("unhashable", index, id(item)), None
            if hit is None:
                try:
                    result: dict | ValidationError = self.recipe_schema.load(recipe)
                except ValidationError as exc:
                    result = exc
                hit = cache[key] = (key, result)
            problems, name, descriptor = check_identity(item)
            if isinstance(hit[1], ValidationError):
                problems.update(hit[1].messages)  # type: ignore[arg-type]
            if problems:
                errors[index] = problems
            else:
                out.append((index, item, name, descriptor, hit[1]))
        if errors:
            raise ValidationError(errors)
        return out


def _copy_point(prototype: model.Point, ident: int, name: str, descriptor: str) -> model.Point:
    """`dataclasses.replace(prototype, id=..., name=..., descriptor=...)`, five times faster.

    for_each copies of a point differ only in these three fields; 30,000 frozen-dataclass
    __init__ calls with twenty fields each would be a third of the load time of large.yaml.
    """
    if not hasattr(prototype, "__dict__"):
        return dataclasses.replace(prototype, id=ident, name=name, descriptor=descriptor)
    point = object.__new__(model.Point)
    state = point.__dict__
    state.update(prototype.__dict__)
    state["id"], state["name"], state["descriptor"] = ident, name, descriptor
    return point


class DataServerSchema(Base):
    name = Name(required=True)
    id = Guid()
    version = Str(non_empty=True)
    points = PointsField()

    @post_load
    def make(self, data, **kwargs):
        server = data["name"]
        explicit: dict[int, int] = {}
        errors: dict[int, dict[str, list[str]]] = {}
        for index, item, _, _, _ in data.get("points", ()):
            if "id" in item:
                first = explicit.setdefault(item["id"], index)
                if first != index:
                    errors[index] = {"id": [f"point id {item['id']} is already used by points[{first}]"]}
        names: dict[str, int] = {}
        for index, _, name, _, _ in data.get("points", ()):
            first = names.setdefault(name.upper(), index)
            if first != index:
                errors.setdefault(index, {})["name"] = [f"point name {name!r} is already used by "
                                                        f"points[{first}] (names are case-insensitive)"]
        if errors:
            raise ValidationError({"points": errors})
        points = []
        next_id = 1
        prototypes: dict[int, model.Point] = {}
        for _, item, name, descriptor, recipe in data.get("points", ()):
            ident = item.get("id")
            if ident is None:
                while next_id in explicit:
                    next_id += 1
                ident, next_id = next_id, next_id + 1
            prototype = prototypes.get(id(recipe))
            if prototype is None:
                prototype = prototypes[id(recipe)] = model.Point(id=0, name="", server=server, **recipe)
            points.append(_copy_point(prototype, ident, name, descriptor))
        return model.DataServer(name=server, id=data.get("id") or str(uuid.uuid5(NAMESPACE, server.upper())),
                                version=data.get("version", model.DataServer.version), points=tuple(points))


# ---- AF

class AttributeSchema(Base):
    """An attribute of a template or element -> dict of the given fields (elements merge them)."""

    name = Name(required=True)
    type = Choice(AF_TYPES)
    units = Str()
    description = Str()
    categories = ListOf(Name())
    pi_point = Str(non_empty=True)
    value = fields.Raw(allow_none=True)
    is_hidden = Bool()
    is_excluded = Bool()

    @validates_schema
    def check(self, data, **kwargs):
        if "pi_point" in data and data.get("value") is not None:
            raise ValidationError("give either pi_point (a PI point reference) or value (a static value), "
                                  "not both", "value")
        if data.get("value") is not None:
            problem = value_problem(data["value"], data.get("type"))
            if problem:
                raise ValidationError(problem, "value")

    @post_load
    def make(self, data, **kwargs):
        if "categories" in data:
            data["categories"] = tuple(data["categories"])
        return data


def template_attribute(given: dict) -> model.AttributeTemplate:
    """An AttributeTemplate from an attribute's given fields; a static value's type is inferred."""
    if "type" not in given and given.get("value") is not None:
        given = {**given, "type": infer_type(given["value"])}
    return model.AttributeTemplate(**given)


def infer_type(value: object) -> str:
    """The AF type of a static value written without a type: Boolean, Int32/Int64, Double or String."""
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Int32" if -2**31 <= value < 2**31 else "Int64"
    if isinstance(value, float):
        return "Double"
    return "String"


def value_problem(value: object, af_type: str | None) -> str | None:
    if isinstance(value, (dict, list)):
        return "a static value must be a single number, string or true/false"
    if af_type is None:
        return None
    if af_type == "Boolean" and not isinstance(value, bool):
        return f"a Boolean attribute needs true or false, not {value!r}"
    whole = isinstance(value, int) and not isinstance(value, bool)
    if af_type in ("Byte", "Int16", "Int32", "Int64") and not whole:
        return f"an {af_type} attribute needs a whole number, not {value!r}"
    if af_type in ("Single", "Double") and (isinstance(value, bool) or not isinstance(value, (int, float))):
        return f"a {af_type} attribute needs a number, not {value!r}"
    if af_type in ("String", "DateTime", "Guid", "EnumerationValue") and not isinstance(value, str):
        return f"a {af_type} attribute needs a string, not {value!r} (quote it)"
    return None


class ElementTemplateSchema(Base):
    name = Name(required=True)
    description = Str()
    categories = ListOf(Name())
    base_template = Name()
    attributes = ListOf(Nest(AttributeSchema))


class ElementSchema(Base):
    name = Name(required=True)
    description = Str()
    template = Name()
    categories = ListOf(Name())
    attributes = ListOf(Nest(AttributeSchema))
    elements = ListOf(Nest(lambda: ElementSchema()))


class EventFrameTemplateSchema(Base):
    name = Name(required=True)
    description = Str()
    categories = ListOf(Name())
    attributes = ListOf(Nest(AttributeSchema))


class StaticValue(fields.Field):
    default_error_messages = {**_REQUIRED, "invalid": "expected a number, string or true/false"}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, (dict, list)):
            raise self.make_error("invalid")
        return value


class EventFrameSchema(Base):
    name = Name(required=True)
    template = Name(allow_none=True)
    start = Time(required=True)
    end = Time(allow_none=True)
    elements = ListOf(Str(non_empty=True))
    severity = Choice(SEVERITIES)
    description = Str()
    categories = ListOf(Name())
    attributes = MappingOf(StaticValue())

    @validates_schema
    def check(self, data, **kwargs):
        if data.get("end") is not None and data["end"] <= data["start"]:
            raise ValidationError("an event frame must end after it starts (leave end out for an open frame)",
                                  "end")


RECIPE_KINDS = ("choice", "faker", "format", "number")
FRAME_FIELDS = ("index", "element", "template")
RECIPE_FORMAT_FIELDS = FRAME_FIELDS


class Recipe(fields.Field):
    """An event-frame attribute recipe: a plain value, {choice: [...]}, {faker: provider},
    {format: "..."} or {number: [low, high], decimals: n} -> AttributeRecipe."""

    default_error_messages = dict(_REQUIRED)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, list):
            raise ValidationError("write {choice: [...]} to pick from a list")
        if not isinstance(value, dict):
            return model.AttributeRecipe(kind="value", value=value)
        kinds = [k for k in value if k in RECIPE_KINDS]
        extra = [k for k in value if k not in RECIPE_KINDS and not (k == "decimals" and kinds == ["number"])]
        if len(kinds) != 1 or extra:
            raise ValidationError(f"expected a plain value or one of {{choice: [...]}}, {{faker: provider}}, "
                                  f"{{format: '...'}}, {{number: [low, high], decimals: n}}; got keys "
                                  f"{_listing(value)}")
        kind = kinds[0]
        body = value[kind]
        if kind == "choice":
            if not isinstance(body, list) or not body or any(isinstance(v, (dict, list)) for v in body):
                raise ValidationError({kind: ["expected a non-empty list of plain values"]})
            return model.AttributeRecipe(kind="choice", choices=tuple(body))
        if kind == "faker":
            if not isinstance(body, str) or not _faker_has(body):
                raise ValidationError({kind: [f"{body!r} is not a Faker provider (e.g. name, company)"]})
            return model.AttributeRecipe(kind="faker", provider=body)
        if kind == "format":
            problem = format_problem(body, RECIPE_FORMAT_FIELDS)
            if problem:
                raise ValidationError({kind: [problem]})
            return model.AttributeRecipe(kind="format", value=body)
        numbers = isinstance(body, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                 for v in body)
        if not numbers or len(body) != 2 or body[0] > body[1]:
            raise ValidationError({kind: ["expected [low, high] numbers with low <= high"]})
        decimals = value.get("decimals")
        if decimals is not None and (isinstance(decimals, bool) or not isinstance(decimals, int)
                                     or not 0 <= decimals <= 15):
            raise ValidationError({"decimals": ["expected a whole number from 0 to 15"]})
        return model.AttributeRecipe(kind="number", low=float(body[0]), high=float(body[1]),
                                     decimals=decimals)


def format_problem(text: object, allowed: tuple[str, ...]) -> str | None:
    """Why `text` is not a format string over `allowed` names, or None."""
    if not isinstance(text, str):
        return f"expected a format string, not {text!r}"
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        return f"bad format string {text!r}: {exc}"
    for _, field, spec, _ in parsed:
        if field is None:
            continue
        if field not in allowed:
            return f"{{{field}}} in {text!r} is not one of {{{'}, {'.join(allowed)}}}"
        if spec and any(int(number) > 200 for number in re.findall(r"\d+", spec)):
            return f"format width or precision above 200 in {text!r}"
        try:
            format(0 if field == "index" else "x", spec or "")
        except ValueError as exc:
            return f"bad format spec {{{field}:{spec}}} in {text!r}: {exc}"
    return None


class DurationRange(fields.Field):
    """`duration: 4h` or `duration: [4h, 10h]` -> (min ticks, max ticks)."""

    default_error_messages = {**_REQUIRED,
                              "invalid": "expected a duration ('4h') or [min, max] ('[4h, 10h]')"}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            ticks = duration(value)
            return ticks, ticks
        if isinstance(value, list) and len(value) == 2:
            low, high = duration(value[0]), duration(value[1])
            if high < low:
                raise ValidationError(f"the longest duration {value[1]!r} is shorter than the shortest "
                                      f"{value[0]!r}")
            return low, high
        raise self.make_error("invalid")


class ScheduleSchema(Base):
    template = Name(required=True)
    name = Str(non_empty=True)
    start = Time(required=True)
    every = Duration(required=True)
    duration = DurationRange(required=True)
    jitter = Duration(allow_zero=True)
    count = Int(low=0, allow_none=True)
    elements = ListOf(Str(non_empty=True))
    severity = Choice(SEVERITIES)
    description = Str()
    attributes = MappingOf(Recipe())

    @validates_schema
    def check(self, data, **kwargs):
        problem = format_problem(data.get("name", ""), FRAME_FIELDS)
        if problem:
            raise ValidationError(problem, "name")


class DatabaseSchema(Base):
    name = Name(required=True)
    id = Guid()
    description = Str()
    default_data_server = Name()
    element_templates = ListOf(Nest(ElementTemplateSchema))
    elements = ListOf(Nest(ElementSchema))
    event_frame_templates = ListOf(Nest(EventFrameTemplateSchema))
    event_frames = ListOf(Nest(EventFrameSchema))
    schedules = ListOf(Nest(ScheduleSchema))


class AssetServerSchema(Base):
    name = Name(required=True)
    id = Guid()
    version = Str(non_empty=True)
    databases = ListOf(Nest(DatabaseSchema))


# ---- faults

class DelayField(fields.Field):
    """{fixed: ms} | {uniform: [low, high]} | {lognormal: {median, sigma, cap}} -> Delay."""

    default_error_messages = {**_REQUIRED,
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

    @validates_schema
    def check(self, data, **kwargs):
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


class ScenarioSchema(Base):
    name = Str(non_empty=True)
    description = Str()
    seed = Int(low=0)
    clock = Nest(ClockSchema)
    limits = Nest(LimitsSchema)
    auth = Nest(AuthSchema)
    digital_sets = ListOf(Nest(DigitalSetSchema))
    data_servers = ListOf(Nest(DataServerSchema))
    asset_servers = ListOf(Nest(AssetServerSchema))
    faults = ListOf(Nest(FaultSchema))
    system_version = Str(non_empty=True)
    product_title = Str(non_empty=True)
    web_id_type = Choice(WEB_ID_TYPES)
    definitions = fields.Raw(allow_none=True)  # anchors for the rest of the file; not read


# --------------------------------------------------------------------------------------------------
# errors

def flatten(messages: object, prefix: tuple = ()) -> list[tuple[tuple, str, bool]]:
    """marshmallow's nested error dict -> (path, message, at_key) triples."""
    out: list[tuple[tuple, str, bool]] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            out.extend(flatten(value, prefix if key == "_schema" else prefix + (key,)))
    elif isinstance(messages, (list, tuple)):
        for message in messages:
            out.extend(flatten(message, prefix))
    else:
        text = str(messages)
        marker = "unknown field; expected one of: "
        if text.startswith(marker) and prefix:
            names = text[len(marker):].split(", ")
            bad = str(prefix[-1])
            close = difflib.get_close_matches(bad, names, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            if bad == "for_each":
                hint = " here: for_each repeats items of a list, not a mapping"
            out.append((prefix, f"unknown field {bad!r}{hint} (expected one of: {_listing(names)})", True))
        else:
            out.append((prefix, text, False))
    return out


def load_part(schema: Schema, data: object, path: tuple) -> tuple[object, list[tuple[tuple, str, bool]]]:
    try:
        return schema.load(data), []
    except ValidationError as exc:
        return None, flatten(exc.messages, path)


# --------------------------------------------------------------------------------------------------
# build

def build(tree: dict, *, file: str) -> model.Scenario:
    """The Scenario of an expanded tree; raises Problems listing everything wrong."""
    ctx = _Context()
    token = _CTX.set(ctx)
    try:
        problems: list[tuple[tuple, str, bool]] = []
        if tree.get("clock") is not None:
            clock, found = load_part(ClockSchema(), tree["clock"], ("clock",))
            problems += found
            if isinstance(clock, model.Clock):
                ctx.tz = clock.timezone
                ctx.now = clock.now if clock.now is not None else ctx.real_now
        if isinstance(tree.get("digital_sets"), list):
            sets, found = load_part(DigitalSetSchema(many=True), tree["digital_sets"], ("digital_sets",))
            problems += found
            for index, digital_set in enumerate(sets or ()):
                if digital_set.name.lower() in ctx.digital_sets:
                    problems.append((("digital_sets", index, "name"),
                                     f"digital set {digital_set.name!r} is defined twice", False))
                ctx.digital_sets.setdefault(digital_set.name.lower(), digital_set)
        if problems:
            raise Problems(problems)
        data, problems = load_part(ScenarioSchema(), tree, ())
        if problems:
            raise Problems(problems)
        return _finish(data, file)  # type: ignore[arg-type]
    finally:
        _CTX.reset(token)


def _finish(data: dict, file: str) -> model.Scenario:
    problems: list[tuple[tuple, str, bool]] = []
    servers: list[model.DataServer] = data.get("data_servers", [])
    seen: dict[str, int] = {}
    for index, server in enumerate(servers):
        first = seen.setdefault(server.name.upper(), index)
        if first != index:
            message = f"data server {server.name!r} is already defined at data_servers[{first}]"
            problems.append((("data_servers", index, "name"), message, False))
    af = _Af(servers, problems)
    asset_servers = []
    seen = {}
    for index, raw in enumerate(data.get("asset_servers", ())):
        path = ("asset_servers", index)
        first = seen.setdefault(raw["name"].upper(), index)
        if first != index:
            af.fail(path + ("name",),
                    f"asset server {raw['name']!r} is already defined at asset_servers[{first}]")
        asset_servers.append(af.asset_server(raw, path))
    faults = []
    seen = {}
    for index, raw in enumerate(data.get("faults", ())):
        name = raw.pop("name", f"fault-{index + 1}")
        first = seen.setdefault(name.lower(), index)
        if first != index:
            af.fail(("faults", index, "name"), f"fault name {name!r} is already used by faults[{first}]")
        faults.append(model.Fault(name=name, **raw))
    if problems:
        raise Problems(problems)
    stem = file.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    kwargs = {key: data[key] for key in ("description", "seed", "clock", "limits", "auth", "system_version",
                                         "product_title", "web_id_type") if key in data}
    return model.Scenario(name=data.get("name", stem), source=file,
                          digital_sets=tuple(data.get("digital_sets", ())), data_servers=tuple(servers),
                          asset_servers=tuple(asset_servers), faults=tuple(faults), **kwargs)


AF_TYPE_OF_POINT = {"Float32": "Single", "Float64": "Double", "Float16": "Single", "Int16": "Int16",
                    "Int32": "Int32", "Digital": "EnumerationValue", "String": "String",
                    "Timestamp": "DateTime"}
_SUBSTITUTION_RE = re.compile(r"%([^%]+)%")
_SUBSTITUTIONS = r"%Element%, %..\Element%, %Attribute%, %Server%, %Database%"
_ATTRIBUTE_FIELDS = ("name", "type", "units", "description", "categories", "pi_point", "value", "is_hidden",
                     "is_excluded")


class _SubstitutionError(ValueError):
    pass


class _Database:
    """What resolving one database needs: its names, templates and the element paths seen so far."""

    def __init__(self, name: str, server: str, default_data_server: str | None) -> None:
        self.name, self.server, self.default_data_server = name, server, default_data_server
        self.templates: dict[str, dict] = {}
        self.effective: dict[str, list[dict]] = {}
        self.paths: dict[str, str] = {}


class _Af:
    """Cross-references of the AF part: templates, element trees, PI points, event frames."""

    def __init__(self, servers: list[model.DataServer], problems: list[tuple[tuple, str, bool]]) -> None:
        self.servers = {s.name.upper(): s for s in servers}
        self.points = {s.name.upper(): {p.name.upper(): p for p in s.points} for s in servers}
        self.problems = problems

    def fail(self, path: tuple, message: str) -> None:
        self.problems.append((path, message, False))

    def asset_server(self, raw: dict, path: tuple) -> model.AssetServer:
        name = raw["name"]
        databases = []
        seen: dict[str, int] = {}
        for index, db in enumerate(raw.get("databases", ())):
            first = seen.setdefault(db["name"].upper(), index)
            if first != index:
                self.fail(path + ("databases", index, "name"),
                          f"database {db['name']!r} is already defined at databases[{first}]")
            databases.append(self.database(db, name, path + ("databases", index)))
        ident = raw.get("id") or str(uuid.uuid5(NAMESPACE, "\\\\" + name.upper()))
        return model.AssetServer(name=name, id=ident, version=raw.get("version", model.AssetServer.version),
                                 databases=tuple(databases))

    def database(self, raw: dict, server: str, path: tuple) -> model.Database:
        default = raw.get("default_data_server")
        if default is not None:
            found = self.servers.get(default.upper())
            if found is None:
                known = _listing(s.name for s in self.servers.values()) or "none"
                self.fail(path + ("default_data_server",),
                          f"unknown data server {default!r} (data_servers: {known})")
            default = found.name if found else None
        elif len(self.servers) == 1:
            default = next(iter(self.servers.values())).name
        db = _Database(raw["name"], server, default)
        element_templates = self.element_templates(raw.get("element_templates", ()), db, path)
        elements = self.children(raw.get("elements", ()), [], path, db)
        ef_templates = {}
        for index, tmpl in enumerate(raw.get("event_frame_templates", ())):
            where = path + ("event_frame_templates", index)
            if tmpl["name"].lower() in ef_templates:
                self.fail(where + ("name",), f"event frame template {tmpl['name']!r} is defined twice")
                continue
            attributes = self.unique_attributes(tmpl.get("attributes", ()), where)
            ef_templates[tmpl["name"].lower()] = model.EventFrameTemplate(
                name=tmpl["name"], description=tmpl.get("description", ""),
                categories=tuple(tmpl.get("categories", ())),
                attributes=tuple(template_attribute(a) for a in attributes))
        frames = [self.event_frame(f, ef_templates, db, path + ("event_frames", i))
                  for i, f in enumerate(raw.get("event_frames", ()))]
        schedules = [self.schedule(s, ef_templates, db, path + ("schedules", i))
                     for i, s in enumerate(raw.get("schedules", ()))]
        ident = raw.get("id") or str(uuid.uuid5(NAMESPACE, f"\\\\{server}\\{raw['name']}".upper()))
        return model.Database(name=raw["name"], id=ident, description=raw.get("description", ""),
                              element_templates=tuple(element_templates), elements=tuple(elements),
                              event_frame_templates=tuple(ef_templates.values()), event_frames=tuple(frames),
                              schedules=tuple(schedules), default_data_server=default)

    # ---- templates

    def unique_attributes(self, attributes: t.Iterable[dict], path: tuple) -> list[dict]:
        seen: set[str] = set()
        out = []
        for index, attribute in enumerate(attributes):
            if attribute["name"].lower() in seen:
                self.fail(path + ("attributes", index, "name"),
                          f"attribute {attribute['name']!r} is defined twice")
                continue
            seen.add(attribute["name"].lower())
            out.append(attribute)
        return out

    def element_templates(self, raws: t.Iterable[dict], db: _Database, path: tuple
                          ) -> list[model.ElementTemplate]:
        for index, raw in enumerate(raws):
            where = path + ("element_templates", index)
            if raw["name"].lower() in db.templates:
                self.fail(where + ("name",), f"element template {raw['name']!r} is defined twice")
                continue
            attributes = self.unique_attributes(raw.get("attributes", ()), where)
            db.templates[raw["name"].lower()] = {**raw, "_path": where, "attributes": attributes}
        out = []
        for key, raw in db.templates.items():
            base = raw.get("base_template")
            if base is not None and base.lower() not in db.templates:
                self.fail(raw["_path"] + ("base_template",), f"unknown element template {base!r} "
                          f"(element_templates: {_listing(r['name'] for r in db.templates.values())})")
                base = None
            elif base is not None:
                base = db.templates[base.lower()]["name"]
            db.effective[key] = self.effective_attributes(key, db, raw["_path"])
            out.append(model.ElementTemplate(
                name=raw["name"], description=raw.get("description", ""),
                categories=tuple(raw.get("categories", ())), base_template=base,
                attributes=tuple(template_attribute(a) for a in raw["attributes"])))
        return out

    def effective_attributes(self, key: str, db: _Database, path: tuple) -> list[dict]:
        """The attributes of a template and its base templates (derived ones win by name)."""
        chain = []
        seen: set[str] = set()
        while key is not None and key in db.templates:
            if key in seen:
                self.fail(path + ("base_template",), f"base templates form a loop: {' -> '.join(chain)}")
                return []
            seen.add(key)
            chain.append(db.templates[key]["name"])
            base = db.templates[key].get("base_template")
            key = base.lower() if base else None
        merged: dict[str, dict] = {}
        for name in reversed(chain):
            for attribute in db.templates[name.lower()]["attributes"]:
                merged[attribute["name"].lower()] = {**attribute, "template": chain[0]}
        return list(merged.values())

    # ---- elements

    def children(self, raws: t.Iterable[dict], ancestors: list[str], path: tuple, db: _Database
                 ) -> list[model.Element]:
        out = []
        seen: dict[str, int] = {}
        for index, raw in enumerate(raws):
            where = path + ("elements", index)
            first = seen.setdefault(raw["name"].lower(), index)
            if first != index:
                self.fail(where + ("name",), f"element {raw['name']!r} is already defined at "
                                             f"elements[{first}] (sibling names must differ, ignoring case)")
                continue
            out.append(self.element(raw, ancestors, where, db))
        return out

    def element(self, raw: dict, ancestors: list[str], path: tuple, db: _Database) -> model.Element:
        name = raw["name"]
        template = raw.get("template")
        categories: list[str] = []
        attributes: dict[str, dict] = {}
        if template is not None:
            if template.lower() not in db.templates:
                known = _listing(r["name"] for r in db.templates.values()) or "none"
                self.fail(path + ("template",),
                          f"unknown element template {template!r} (element_templates: {known})")
                template = None
            else:
                tmpl = db.templates[template.lower()]
                template = tmpl["name"]
                categories.extend(tmpl.get("categories", ()))
                for attribute in db.effective[template.lower()]:
                    attributes[attribute["name"].lower()] = {**attribute, "_path": path + ("template",)}
        seen: set[str] = set()
        for index, given in enumerate(raw.get("attributes", ())):
            key = given["name"].lower()
            where = path + ("attributes", index)
            if key in seen:
                self.fail(where + ("name",), f"attribute {given['name']!r} is defined twice on this element")
                continue
            seen.add(key)
            merged = {**attributes.get(key, {}), **given, "_path": where}
            if "value" in given and "pi_point" not in given:
                merged.pop("pi_point", None)
            if "pi_point" in given:
                merged.pop("value", None)
            attributes[key] = merged
        categories.extend(c for c in raw.get("categories", ()) if c not in categories)
        chain = [*ancestors, name]
        db.paths["\\".join(chain).lower()] = "\\".join(chain)
        return model.Element(
            name=name, description=raw.get("description", ""), template=template,
            categories=tuple(categories),
            attributes=tuple(self.attribute(a, chain, db) for a in attributes.values()),
            children=tuple(self.children(raw.get("elements", ()), chain, path, db)))

    def attribute(self, given: dict, chain: list[str], db: _Database) -> model.Attribute:
        path = given["_path"]
        from_template = path[-1] == "template"
        fields_ = {k: given[k] for k in _ATTRIBUTE_FIELDS if k in given}
        config = fields_.pop("pi_point", None)
        pi_point = None
        if config is not None:
            try:
                pi_point, point = self.resolve_point(config, chain, given["name"], db)
            except _SubstitutionError as exc:
                if from_template:
                    origin = f"attribute {given['name']!r} of template {given.get('template')!r}"
                    self.fail(path, f"{origin}: {exc}")
                else:
                    self.fail(path + ("pi_point",), str(exc))
            else:
                fields_.setdefault("type", AF_TYPE_OF_POINT[point.point_type])
        elif fields_.get("value") is not None:
            problem = value_problem(fields_["value"], fields_.get("type"))
            if problem:
                self.fail(path if from_template else path + ("value",),
                          f"attribute {given['name']!r}: {problem}")
            fields_.setdefault("type", infer_type(fields_["value"]))
        return model.Attribute(pi_point=pi_point, template=given.get("template"), **fields_)

    def resolve_point(self, config: str, chain: list[str], attribute: str, db: _Database
                      ) -> tuple[str, model.Point]:
        """A PI point config string -> ("\\\\SERVER\\TAG", point), after AF substitutions."""

        def substitute(match: re.Match) -> str:
            token = match.group(1)
            ups = 0
            while token.startswith("..\\"):
                ups, token = ups + 1, token[3:]
            low = token.lower()
            if low == "element":
                if ups >= len(chain):
                    raise _SubstitutionError(f"%{match.group(1)}% in {config!r} goes above the top element "
                                             f"{chain[0]!r}")
                return chain[-1 - ups]
            if ups == 0 and low == "attribute":
                return attribute
            if ups == 0 and low == "database":
                return db.name
            if ups == 0 and low == "server":
                if db.default_data_server is None:
                    raise _SubstitutionError(f"%Server% in {config!r} needs default_data_server on database "
                                             f"{db.name!r}")
                return db.default_data_server
            raise _SubstitutionError(f"unknown substitution %{match.group(1)}% in {config!r} "
                                     f"(known: {_SUBSTITUTIONS})")

        text = _SUBSTITUTION_RE.sub(substitute, config).split(";", 1)[0].strip()
        shown = f"{text!r} (from {config!r})" if text != config else repr(text)
        if text.startswith("\\\\"):
            server_name, sep, tag = text[2:].partition("\\")
            if not sep or not tag:
                raise _SubstitutionError(f"PI point reference {shown} must read \\\\SERVER\\TAG or TAG")
        else:
            server_name, tag = db.default_data_server, text
            if server_name is None:
                raise _SubstitutionError(f"PI point {shown} names no server and database {db.name!r} has no "
                                         f"default_data_server")
        server = self.servers.get(server_name.upper())
        if server is None:
            raise _SubstitutionError(f"PI point reference {shown}: unknown data server {server_name!r}")
        point = self.points[server.name.upper()].get(tag.upper())
        if point is None:
            names = [p.name for p in server.points]
            close = difflib.get_close_matches(tag, names, n=1, cutoff=0.8)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            origin = f" (from {config!r})" if text != config else ""
            raise _SubstitutionError(f"PI point {tag!r}{origin} not found on data server "
                                     f"{server.name!r}{hint}")
        return f"\\\\{server.name}\\{point.name}", point

    # ---- event frames

    def element_refs(self, raws: t.Iterable[str], db: _Database, path: tuple) -> tuple[str, ...]:
        out = []
        for index, text in enumerate(raws):
            key = "\\".join(p for p in re.split(r"[\\/]+", text.strip().strip("\\/")) if p).lower()
            found = db.paths.get(key)
            if found is None:
                self.fail(path + ("elements", index),
                          f"no element '{text}' in database {db.name!r} "
                          f"(paths are relative to the database, e.g. 'Site\\Unit1')")
            else:
                out.append(found)
        return tuple(out)

    def template_of(self, name: str | None, templates: dict, path: tuple) -> model.EventFrameTemplate | None:
        if name is None:
            return None
        found = templates.get(name.lower())
        if found is None:
            self.fail(path + ("template",), f"unknown event frame template {name!r} (event_frame_templates: "
                                            f"{_listing(t.name for t in templates.values()) or 'none'})")
        return found

    def attribute_names(self, given: dict, template: model.EventFrameTemplate | None, path: tuple
                        ) -> list[tuple]:
        if template is None:
            return list(given.items())
        names = {a.name.lower(): a.name for a in template.attributes}
        out = []
        for key, value in given.items():
            if key.lower() not in names:
                self.fail(path + ("attributes", key), f"template {template.name!r} has no attribute {key!r} "
                                                      f"(it has: {_listing(names.values()) or 'none'})")
            else:
                out.append((names[key.lower()], value))
        return out

    def event_frame(self, raw: dict, templates: dict, db: _Database, path: tuple) -> model.EventFrame:
        template = self.template_of(raw.get("template"), templates, path)
        return model.EventFrame(
            name=raw["name"], template=template.name if template else None, start=raw["start"],
            end=raw.get("end"), elements=self.element_refs(raw.get("elements", ()), db, path),
            severity=raw.get("severity", "None"),
            description=raw.get("description", ""), categories=tuple(raw.get("categories", ())),
            attributes=tuple(self.attribute_names(raw.get("attributes", {}), template, path)))

    def schedule(self, raw: dict, templates: dict, db: _Database, path: tuple) -> model.EventFrameSchedule:
        template = self.template_of(raw["template"], templates, path)
        low, high = raw["duration"]
        return model.EventFrameSchedule(
            template=template.name if template else raw["template"],
            name=raw.get("name", "{template}-{index:05d}"), start=raw["start"], every=raw["every"],
            min_duration=low, max_duration=high, jitter=raw.get("jitter", 0),
            count=raw.get("count"), elements=self.element_refs(raw.get("elements", ()), db, path),
            severity=raw.get("severity", "None"), description=raw.get("description", ""),
            attributes=tuple(self.attribute_names(raw.get("attributes", {}), template, path)))
