"""Routes of PI's Element and Attribute controllers: /piwebapi/elements..., /piwebapi/attributes..."""
from __future__ import annotations

from flask import Blueprint

from ..backend import catalog as cat
from ..backend import entries
from ..serving import shapes
from .common import args
from .common import base
from .common import by_path
from .common import json_response
from .common import one
from .common import page
from .common import sim
from .common import typed

bp = Blueprint("elements", __name__, url_prefix="/piwebapi")

SORT_ORDERS = ("Ascending", "Descending")
ELEMENT_TYPES = ("Any", "Other", "Node", "Boundary", "PIPoint", "Transfer", "Flow", "Measurement")
VALUE_TYPES = ("Any", "Boolean", "Byte", "DateTime", "Double", "Int16", "Int32", "Int64", "Single", "String",
               "EnumerationValue", "Guid")


def _sorted(items: list, a, fields: dict) -> list:
    field = a.choice("sortField", tuple(fields), "Name")
    descending = a.choice("sortOrder", SORT_ORDERS, "Ascending") == "Descending"
    return sorted(items, key=fields[field], reverse=descending)


def associations(a) -> set[str]:
    """The lower-cased names of `associations` (repeated, or separated by ';' or ',')."""
    return {part.strip().lower() for value in a.getlist("associations")
            for part in value.replace(",", ";").split(";") if part.strip()}


def element_list(children: list, everything: list):
    """Elements under a root: immediate children, or all descendants with searchFullHierarchy."""
    s, a = sim(), args()
    web_id_type = a.web_id_type(s.scenario.web_id_type)
    pool = everything if a.boolean("searchFullHierarchy", False) else children
    name_filter, description_filter = a.get("nameFilter"), a.get("descriptionFilter")
    category, template = a.get("categoryName"), a.get("templateName")
    a.choice("elementType", ELEMENT_TYPES, "Any")
    found = []
    for e in pool:
        if not cat.name_matches(name_filter, e.name):
            continue
        if description_filter and not cat.name_matches(description_filter, e.element.description):
            continue
        if category and category.lower() not in (c.lower() for c in e.element.categories):
            continue
        if template:
            t = e.database.templates.get((e.element.template or "").lower())
            if t is None or template.lower() not in t.lineage():
                continue
        found.append(e)
    found = _sorted(found, a, {"Name": lambda e: e.name.lower(), "Description": lambda e: e.element.description,
                               "ID": lambda e: e.id})
    chosen, links = page(found, a, s.limits.max_returned_items_per_call)
    with_paths = "paths" in associations(a)
    items = [shapes.element(e, base(), web_id_type, with_paths=with_paths) for e in chosen]
    return json_response(shapes.listed(items, a.selected_fields(), links))


def attribute_list(attributes: list):
    s, a = sim(), args()
    web_id_type = a.web_id_type(s.scenario.web_id_type)
    name_filter, category, template = a.get("nameFilter"), a.get("categoryName"), a.get("templateName")
    value_type = a.choice("valueType", VALUE_TYPES, "Any")
    show_excluded, show_hidden = a.boolean("showExcluded", False), a.boolean("showHidden", False)
    a.boolean("searchFullHierarchy", False)
    found = [x for x in attributes
             if cat.name_matches(name_filter, x.name)
             and (not category or category.lower() in (c.lower() for c in x.attribute.categories))
             and (not template or (x.attribute.template or "").lower() == template.lower())
             and (value_type == "Any" or shapes.attribute(x, base(), web_id_type)["Type"] == value_type)
             and (show_excluded or not x.attribute.is_excluded)
             and (show_hidden or not x.attribute.is_hidden)]
    found = _sorted(found, a, {"Name": lambda x: x.name.lower(), "Description": lambda x: x.attribute.description,
                               "ID": lambda x: x.id})
    chosen, links = page(found, a, s.limits.max_returned_items_per_call)
    with_dr = "datareference" in associations(a)
    items = [shapes.attribute(x, base(), web_id_type, with_data_reference=with_dr) for x in chosen]
    return json_response(shapes.listed(items, a.selected_fields(), links))


@bp.get("/elements")
def get_element_by_path():
    return one(shapes.element, by_path(entries.ElementEntry, "element"))


@bp.get("/elements/<webId>")
def get_element(webId: str):
    return one(shapes.element, typed(webId, entries.ElementEntry, "an element"))


@bp.get("/elements/<webId>/elements")
def get_child_elements(webId: str):
    entry = typed(webId, entries.ElementEntry, "an element")
    return element_list(entry.children, entry.descendants())


@bp.get("/elements/<webId>/attributes")
def get_element_attributes(webId: str):
    return attribute_list(typed(webId, entries.ElementEntry, "an element").attributes)


@bp.get("/attributes")
def get_attribute_by_path():
    return one(shapes.attribute, by_path(entries.AttributeEntry, "attribute"))


@bp.get("/attributes/<webId>")
def get_attribute(webId: str):
    return one(shapes.attribute, typed(webId, entries.AttributeEntry, "an attribute"))


@bp.get("/attributes/<webId>/attributes")
def get_child_attributes(webId: str):
    typed(webId, entries.AttributeEntry, "an attribute")
    return attribute_list([])


@bp.get("/attributes/<webId>/value")
def get_attribute_value(webId: str):
    """The attribute's value (static attributes; PI Point attributes their snapshot, or for a
    closed event frame their value at its end)."""
    from .streams import current

    s, a = sim(), args()
    stream = s.stream(webId)
    return json_response(shapes.timed_value(current(stream, s), stream, a.selected_fields()))
