"""simulator.scenario.attributes: AF attributes as templates, elements and event frames declare them."""
from __future__ import annotations

import typing as t

from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import post_load
from marshmallow import validates_schema

from . import model
from .fields import Base
from .fields import Bool
from .fields import Choice
from .fields import ListOf
from .fields import Name
from .fields import Str

#: Reports a problem at a path of the scenario tree (the cross-reference passes collect them).
Fail = t.Callable[[tuple, str], None]

AF_TYPES = ("Boolean", "Byte", "Int16", "Int32", "Int64", "Single", "Double", "String", "DateTime", "Guid",
            "EnumerationValue")


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
    """Why `value` cannot be the static value of an attribute of `af_type`, or None."""
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


def first_of_each_name(items: t.Iterable[dict], path: tuple, section: str, noun: str, fail: Fail
                       ) -> t.Iterator[tuple[tuple, dict]]:
    """(path, item) of the first item of each name (ignoring case) in `section`; `fail`s on the others."""
    seen: set[str] = set()
    for index, item in enumerate(items):
        where = path + (section, index)
        if item["name"].lower() in seen:
            fail(where + ("name",), f"{noun} {item['name']!r} is defined twice")
            continue
        seen.add(item["name"].lower())
        yield where, item


def unique_attributes(attributes: t.Iterable[dict], path: tuple, fail: Fail) -> list[dict]:
    """The attributes of a template, first of each name (ignoring case); `fail`s on the others."""
    return [attribute for _, attribute in first_of_each_name(attributes, path, "attributes", "attribute", fail)]
