"""simulator.scenario.points: data servers, their points, the points' signals and the digital sets."""
from __future__ import annotations

import dataclasses
import uuid

from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import post_load
from marshmallow import validates_schema

from ..pi import states
from . import model
from .context import CTX
from .fields import NAMESPACE
from .fields import REQUIRED
from .fields import Base
from .fields import Bool
from .fields import Cached
from .fields import Choice
from .fields import Duration
from .fields import Guid
from .fields import Int
from .fields import ListOf
from .fields import Name
from .fields import Nest
from .fields import Num
from .fields import Share
from .fields import State
from .fields import Str
from .fields import Time
from .fields import faker_has
from .fields import listing
from .fields import name_problem

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


class DigitalStates(fields.Field):
    """[name, ...] (codes 0, 1, ...) or {code: name} -> ((code, name), ...)."""

    default_error_messages = {**REQUIRED, "invalid": "expected a list of state names or a mapping of "
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
                                      f"(it takes: {listing(allowed)})", name)
        if "minimum" in data and "maximum" in data and data["minimum"] > data["maximum"]:
            raise ValidationError(f"minimum {data['minimum']:g} is above maximum {data['maximum']:g}",
                                  "minimum")
        if kind == "string":
            if ("choices" in data) == ("faker" in data):
                raise ValidationError("a string signal needs either choices: [...] or faker: <provider>")
            if "faker" in data and not faker_has(data["faker"]):
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


class StreamErrorsSchema(Base):
    rate = Share()
    status = Int(low=400, high=599)
    message = Str(non_empty=True)

    @post_load
    def make(self, data, **kwargs):
        return model.StreamErrors(**data)


class BadValuesSchema(Base):
    rate = Share()
    kinds = ListOf(Choice(model.BAD_VALUE_KINDS), non_empty=True)
    name = Str(non_empty=True)
    code = Int()
    message = Str(non_empty=True)
    array = Int(low=0, high=1000)
    stream_errors = Nest(StreamErrorsSchema)

    @post_load
    def make(self, data, **kwargs):
        if "kinds" in data:
            data["kinds"] = tuple(dict.fromkeys(data["kinds"]))
        return model.BadValues(**data)


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
    deleted = Time()
    signal = Cached(SignalSchema)
    events = Cached(EventsSchema)
    quality = Cached(QualitySchema)
    gaps = ListOf(Nest(GapSchema))
    outages = Cached(OutagesSchema)
    system_states = Cached(SystemStatesSchema)
    bad_values = Cached(BadValuesSchema)

    @validates_schema
    def check(self, data, **kwargs):
        point_type = data.get("point_type", "Float32")
        if point_type == "Digital":
            if "digital_set" not in data:
                raise ValidationError("a Digital point needs digital_set: <name of a digital set>",
                                      "point_type")
            found = CTX.get().digital_sets.get(data["digital_set"].lower())
            if found is None:
                known = listing(s.name for s in CTX.get().digital_sets.values()) or "none defined"
                raise ValidationError(f"unknown digital set {data['digital_set']!r} (digital_sets: {known})",
                                      "digital_set")
        elif "digital_set" in data:
            raise ValidationError(f"only Digital points take a digital_set (this one is {point_type})",
                                  "digital_set")
        if "deleted" in data and "created" in data and data["deleted"] <= data["created"]:
            raise ValidationError("a point must be deleted after it is created", "deleted")
        if "bad_values" in data and data["bad_values"].array and point_type not in model.NUMERIC_POINT_TYPES:
            raise ValidationError(f"only numeric points take bad_values.array (this one is {point_type})",
                                  "bad_values")
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
            data["digital_set"] = CTX.get().digital_sets[data["digital_set"].lower()].name
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
    """The points of a data server -> [(item index, item, name, descriptor, recipe dict)].

    Points are the one hot spot (30,000 in large.yaml): their names, ids and descriptors are
    checked by hand (`check_identity`) and the rest of each point, which for_each copies share,
    is loaded by marshmallow once per distinct recipe.
    """

    default_error_messages = {**REQUIRED, "invalid": "expected a list of points"}
    recipe_schema = PointRecipeSchema()

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list):
            raise self.make_error("invalid")
        cache = CTX.get().recipes
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
                problems.update(hit[1].messages)
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
