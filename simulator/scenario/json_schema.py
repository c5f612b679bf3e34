"""simulator.scenario.json_schema: a JSON Schema of scenario files, walked from the marshmallow schemas.

For editors (yaml-language-server completes and checks keys); `pi-sim validate` stays the judge of
what the simulator accepts, with its file:line:column messages. Items of a list may carry
`for_each`, and inside them any value may be a template reference such as "{sensor.signal}".
"""
from __future__ import annotations

import typing as t

from marshmallow import Schema
from marshmallow import fields

from . import fields as ours
from .changes import TagFilters

SCHEMA_ID = "https://pi-lakehouse.invalid/scenario.schema.json"
TEMPLATE = {"$ref": "#/$defs/template"}
DEFS: dict[str, dict] = {
    "template": {"type": "string", "pattern": r"\{[^{}]+\}",
                 "description": "A for_each reference (\"{unit}\", \"{sensor.signal}\"), replaced when expanded."},
    "duration": {"type": "string", "description": "A PI interval: 5s, 10m, 1h, 2d, 0.5s."},
    "time": {"type": "string", "description": "ISO 8601 (2026-11-25T00:00:00Z) or a PI time (*-2d, t, y)."},
    "for_each": {
        "type": "object", "description": "Repeat this item for every combination (first variable outermost).",
        "additionalProperties": {"anyOf": [
            {"type": "array"},
            {"type": "object", "required": ["range"], "additionalProperties": False,
             "properties": {"range": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 3}}},
            TEMPLATE]}},
}


def _templated(schema: dict) -> dict:
    """`schema`, or a template reference that for_each replaces with such a value."""
    return {"anyOf": [schema, TEMPLATE]}


def _number(field: ours.Num, kind: str) -> dict:
    out: dict[str, object] = {"type": kind}
    if field.low is not None:
        out["exclusiveMinimum" if field.low_open else "minimum"] = field.low
    if field.high is not None:
        out["maximum"] = field.high
    return out


def _leaf(field: fields.Field, walker: Walker) -> dict | None:
    """The JSON Schema of one of our own leaf fields, or None if it is not one."""
    if isinstance(field, TagFilters):
        name = {"type": "string", "minLength": 1}
        return {"anyOf": [name, {"type": "array", "items": name, "minItems": 1}]}
    if isinstance(field, ours.Str):
        return {"type": "string", **({"minLength": 1} if field.non_empty else {})}
    if isinstance(field, ours.Int):
        return _templated(_number(field, "integer"))
    if isinstance(field, ours.Num):
        return _templated(_number(field, "number"))
    if isinstance(field, ours.Choice):
        return _templated({"enum": list(field.options)})
    simple = {
        ours.Bool: _templated({"type": "boolean"}),
        ours.Duration: {"$ref": "#/$defs/duration"},
        ours.Time: {"$ref": "#/$defs/time"},
        ours.State: {"type": ["string", "integer"], "description": "A system state by name or code."},
        ours.Guid: {"type": "string", "format": "uuid"},
        ours.StaticValue: {"type": ["number", "string", "boolean"]},
        ours.DurationRange: {"anyOf": [{"$ref": "#/$defs/duration"},
                                       {"type": "array", "items": {"$ref": "#/$defs/duration"},
                                        "minItems": 2, "maxItems": 2}]},
        fields.Raw: {},
    }
    for kind, schema in simple.items():
        if type(field) is kind:
            return schema
    return walker.custom(field)


class Walker:
    """Turns marshmallow schemas into JSON Schema definitions, one per schema class."""

    def __init__(self, custom: t.Mapping[str, t.Callable[[fields.Field, Walker], dict]]) -> None:
        self.defs: dict[str, dict] = dict(DEFS)
        self.owners: dict[str, type] = {}
        self.custom_rules = custom

    def custom(self, field: fields.Field) -> dict | None:
        rule = self.custom_rules.get(type(field).__name__)
        return rule(field, self) if rule else None

    def field(self, field: fields.Field, *, item: bool = False) -> dict:
        schema = self._field(field, item=item)
        return {"anyOf": [schema, {"type": "null"}]} if field.allow_none and schema else schema

    def _field(self, field: fields.Field, *, item: bool) -> dict:
        if isinstance(field, fields.Nested):
            return self.ref(field.schema, item=item)
        if isinstance(field, fields.List):
            return _templated({"type": "array", "items": self.field(field.inner, item=True)})
        schema = _leaf(field, self)
        if schema is None:
            raise TypeError(f"json_schema: no JSON Schema for field {type(field).__name__}; add a rule for it")
        return schema

    def ref(self, schema: Schema, *, item: bool = False) -> dict:
        cls = type(schema)
        name = cls.__name__.removesuffix("Schema") + ("Item" if item else "")
        owner = self.owners.setdefault(name, cls)
        if owner is not cls:  # two schemas of one name in two modules (event-frame edits, archive edits)
            name = f"{cls.__module__.rsplit('.', 1)[-1]}.{name}"
            self.owners.setdefault(name, cls)
        if name not in self.defs:
            self.defs[name] = {}  # placeholder against recursion (elements nest elements)
            self.defs[name] = self.object(schema, item=item)
        return _templated({"$ref": f"#/$defs/{name}"})

    def object(self, schema: Schema, *, item: bool = False, extra: dict | None = None) -> dict:
        properties = {name: self.field(f) for name, f in schema.fields.items()}
        for name in getattr(schema, "extra_names", ()):
            properties.setdefault(name, {})
        properties.update(extra or {})
        if item:
            properties["for_each"] = {"$ref": "#/$defs/for_each"}
        required = [name for name, f in schema.fields.items() if f.required]
        doc = (type(schema).__doc__ or "").strip().splitlines()
        out: dict[str, object] = {"type": "object", "properties": properties, "additionalProperties": False}
        if required:
            out["required"] = required
        if doc and not doc[0].startswith("A schema whose unknown keys"):
            out["description"] = doc[0]
        return out


def _points(field: fields.Field, walker: Walker) -> dict:
    from .points import PointRecipeSchema

    name = "PointItem"
    if name not in walker.defs:
        identity = {"name": {"type": "string", "minLength": 1}, "id": _templated({"type": "integer", "minimum": 1}),
                    "descriptor": {"type": "string"}}
        point = walker.object(PointRecipeSchema(), item=True, extra=identity)
        point["required"] = ["name"]
        walker.defs[name] = point
    return {"type": "array", "items": {"$ref": f"#/$defs/{name}"}}


def _digital_states(field: fields.Field, walker: Walker) -> dict:
    return {"anyOf": [{"type": "array", "items": {"type": "string"}, "minItems": 1},
                      {"type": "object", "patternProperties": {"^[0-9]+$": {"type": "string"}},
                       "additionalProperties": False, "minProperties": 1}],
            "description": "State names (codes 0, 1, ...) or a mapping of code: name."}


def _mapping_of(field: fields.Field, walker: Walker) -> dict:
    assert isinstance(field, ours.MappingOf)
    return {"type": "object", "additionalProperties": walker.field(field.inner)}


def _delay(field: fields.Field, walker: Walker) -> dict:
    ms = {"type": "number", "minimum": 0}
    return {"type": "object", "minProperties": 1, "maxProperties": 1, "additionalProperties": False, "properties": {
        "fixed": ms, "uniform": {"type": "array", "items": ms, "minItems": 2, "maxItems": 2},
        "lognormal": {"type": "object", "additionalProperties": False, "required": ["median", "sigma"],
                      "properties": {"median": ms, "sigma": ms, "cap": {"type": ["number", "null"]}}}}}


def _recipe(field: fields.Field, walker: Walker) -> dict:
    return {"description": "A plain value, {choice: [...]}, {faker: provider}, {format: '...'} or "
                           "{number: [low, high], decimals: n}.",
            "anyOf": [{"type": ["number", "string", "boolean", "null"]},
                      {"type": "object", "additionalProperties": False, "minProperties": 1, "properties": {
                          "choice": {"type": "array", "minItems": 1}, "faker": {"type": "string"},
                          "format": {"type": "string"}, "number": {"type": "array", "minItems": 2, "maxItems": 2},
                          "decimals": {"type": "integer", "minimum": 0, "maximum": 15}}}]}


CUSTOM = {"PointsField": _points, "DigitalStates": _digital_states, "MappingOf": _mapping_of,
          "DelayField": _delay, "Recipe": _recipe}


def scenario_json_schema() -> dict:
    """The JSON Schema (draft 2020-12) of a scenario file."""
    from .schema import ScenarioSchema

    walker = Walker(CUSTOM)
    top = walker.object(ScenarioSchema())
    top["properties"]["definitions"] = {"description": "Free space for YAML anchors; not read."}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            "title": "pi-sim scenario", "description": "A PI Web API simulator scenario (simulator/scenarios/).",
            **top, "$defs": walker.defs}
