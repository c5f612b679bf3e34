"""simulator.scenario.eventframes: event frame templates, explicit frames, schedules and their recipes."""
from __future__ import annotations

import re
import string
import typing as t

from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import validates_schema

from . import model
from .attributes import AttributeSchema
from .attributes import Fail
from .attributes import first_of_each_name
from .attributes import template_attribute
from .attributes import unique_attributes
from .fields import REQUIRED
from .fields import Base
from .fields import Choice
from .fields import Duration
from .fields import DurationRange
from .fields import Int
from .fields import ListOf
from .fields import MappingOf
from .fields import Name
from .fields import Nest
from .fields import Share
from .fields import StaticValue
from .fields import Str
from .fields import Time
from .fields import faker_has
from .fields import listing

SEVERITIES = ("None", "Information", "Warning", "Minor", "Major", "Critical")


class EventFrameTemplateSchema(Base):
    name = Name(required=True)
    description = Str()
    categories = ListOf(Name())
    attributes = ListOf(Nest(AttributeSchema))


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

    default_error_messages = dict(REQUIRED)

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
                                  f"{listing(value)}")
        kind = kinds[0]
        body = value[kind]
        if kind == "choice":
            if not isinstance(body, list) or not body or any(isinstance(v, (dict, list)) for v in body):
                raise ValidationError({kind: ["expected a non-empty list of plain values"]})
            return model.AttributeRecipe(kind="choice", choices=tuple(body))
        if kind == "faker":
            if not isinstance(body, str) or not faker_has(body):
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


class EditsSchema(Base):
    rate = Share(required=True)
    after = DurationRange(required=True)
    attributes = MappingOf(Recipe(), required=True)


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
    close_delay = DurationRange()
    edits = Nest(EditsSchema)

    @validates_schema
    def check(self, data, **kwargs):
        problem = format_problem(data.get("name", ""), FRAME_FIELDS)
        if problem:
            raise ValidationError(problem, "name")


class FrameRefs:
    """Cross-references of one database's event frames: their templates, elements and attribute names."""

    def __init__(self, database: str, paths: dict[str, str], fail: Fail) -> None:
        self.database, self.paths, self.fail = database, paths, fail
        self.templates: dict[str, model.EventFrameTemplate] = {}

    def add_templates(self, raws: t.Iterable[dict], path: tuple) -> None:
        for where, tmpl in first_of_each_name(raws, path, "event_frame_templates", "event frame template",
                                              self.fail):
            attributes = unique_attributes(tmpl.get("attributes", ()), where, self.fail)
            self.templates[tmpl["name"].lower()] = model.EventFrameTemplate(
                name=tmpl["name"], description=tmpl.get("description", ""),
                categories=tuple(tmpl.get("categories", ())),
                attributes=tuple(template_attribute(a) for a in attributes))

    def element_refs(self, raws: t.Iterable[str], path: tuple) -> tuple[str, ...]:
        out = []
        for index, text in enumerate(raws):
            key = "\\".join(p for p in re.split(r"[\\/]+", text.strip().strip("\\/")) if p).lower()
            found = self.paths.get(key)
            if found is None:
                self.fail(path + ("elements", index),
                          f"no element '{text}' in database {self.database!r} "
                          f"(paths are relative to the database, e.g. 'Site\\Unit1')")
            else:
                out.append(found)
        return tuple(out)

    def template_of(self, name: str | None, path: tuple) -> model.EventFrameTemplate | None:
        if name is None:
            return None
        found = self.templates.get(name.lower())
        if found is None:
            self.fail(path + ("template",), f"unknown event frame template {name!r} (event_frame_templates: "
                                            f"{listing(t.name for t in self.templates.values()) or 'none'})")
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
                                                      f"(it has: {listing(names.values()) or 'none'})")
            else:
                out.append((names[key.lower()], value))
        return out

    def event_frame(self, raw: dict, path: tuple) -> model.EventFrame:
        template = self.template_of(raw.get("template"), path)
        return model.EventFrame(
            name=raw["name"], template=template.name if template else None, start=raw["start"],
            end=raw.get("end"), elements=self.element_refs(raw.get("elements", ()), path),
            severity=raw.get("severity", "None"),
            description=raw.get("description", ""), categories=tuple(raw.get("categories", ())),
            attributes=tuple(self.attribute_names(raw.get("attributes", {}), template, path)))

    def schedule(self, raw: dict, path: tuple) -> model.EventFrameSchedule:
        template = self.template_of(raw["template"], path)
        low, high = raw["duration"]
        return model.EventFrameSchedule(
            template=template.name if template else raw["template"],
            name=raw.get("name", "{template}-{index:05d}"), start=raw["start"], every=raw["every"],
            min_duration=low, max_duration=high, jitter=raw.get("jitter", 0),
            count=raw.get("count"), elements=self.element_refs(raw.get("elements", ()), path),
            severity=raw.get("severity", "None"), description=raw.get("description", ""),
            attributes=tuple(self.attribute_names(raw.get("attributes", {}), template, path)),
            close_delay=raw.get("close_delay", (0, 0)), edits=self._edits(raw.get("edits"), template, path))

    def _edits(self, raw: dict | None, template: model.EventFrameTemplate | None, path: tuple
               ) -> model.FrameEdits | None:
        if raw is None:
            return None
        low, high = raw["after"]
        names = self.attribute_names(raw["attributes"], template, path + ("edits",))
        return model.FrameEdits(rate=raw["rate"], min_after=low, max_after=high, attributes=tuple(names))
