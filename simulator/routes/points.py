"""Routes of PI's Point controller: /piwebapi/points..."""
from __future__ import annotations

import re

from flask import Blueprint

from ..serving import shapes
from ..backend.entries import DataServerEntry
from ..backend.entries import PointEntry
from ..backend.catalog import name_matches
from ..pi.errors import InvalidParameterError
from ..pi.errors import PIError
from ..pi.errors import UnknownWebIdError
from .common import args
from .common import base
from .common import json_response
from .common import one
from .common import page
from .common import sim
from .common import typed

bp = Blueprint("points", __name__, url_prefix="/piwebapi/points")


def _point(web_id: str) -> PointEntry:
    return typed(web_id, PointEntry, "a PI point")


@bp.get("")
def get_by_path():
    """GET points?path=\\\\SERVER\\TAG"""
    path = args().required("path")
    s = sim()
    entry = s.catalog.point_by_path(path, s.now())
    if entry is None:
        raise UnknownWebIdError(f"The PI point '{path}' was not found.")
    return one(shapes.point, entry)


@bp.get("/<webId>")
def get_point(webId: str):
    return one(shapes.point, _point(webId))


@bp.get("/multiple")
def get_multiple():
    """GET points/multiple?webId=..&path=..: Items of {Identifier, IdentifierType, Object | Exception};
    207 when some fail; includeMode keeps all items, only the failed ones or only the found ones."""
    s, a = sim(), args()
    web_id_type = a.web_id_type(s.scenario.web_id_type)
    include = a.choice("includeMode", INCLUDE_MODES, "All")
    a.boolean("asParallel", False)
    identifiers = [("WebId", w) for w in a.getlist("webId")] + [("Path", p) for p in a.getlist("path")]
    if not identifiers:
        raise InvalidParameterError("Either 'webId' or 'path' must be given.")
    items, failed = [], False
    for kind, identifier in identifiers:
        try:
            entry = _point(identifier) if kind == "WebId" else s.catalog.point_by_path(identifier, s.now())
            if entry is None:
                raise UnknownWebIdError(f"The PI point '{identifier}' was not found.")
            items.append({"Identifier": identifier, "IdentifierType": kind,
                          "Object": shapes.point(entry, base(), web_id_type)})
        except PIError as exc:
            failed = True
            items.append({"Identifier": identifier, "IdentifierType": kind, "Exception": {"Errors": exc.messages}})
    if include == "ItemsWithExceptionOnly":
        items = [item for item in items if "Exception" in item]
    elif include == "ItemsWithoutExceptionOnly":
        items = [item for item in items if "Exception" not in item]
    body = shapes.listed(items, a.selected_fields())
    return json_response(body, 207 if failed else 200)


INCLUDE_MODES = ("All", "ItemsWithExceptionOnly", "ItemsWithoutExceptionOnly")
_CLAUSE = re.compile(r"^\s*(?:(?P<field>[A-Za-z]+)\s*:\s*=?\s*)?(?P<value>\"[^\"]*\"|'[^']*'|\S+)\s*$")
_FIELDS = {"tag": lambda p: p.point.name, "name": lambda p: p.point.name,
           "descriptor": lambda p: p.point.descriptor, "pointtype": lambda p: p.point.point_type,
           "engunits": lambda p: p.point.engineering_units, "digitalset": lambda p: p.point.digital_set,
           "pointclass": lambda p: p.point.point_class}


def _query(text: str | None):
    """A PI point query (`Tag:=SYD* AND PointType:=Float32`) as a predicate; None matches all."""
    if text is None or not text.strip():
        return None
    tests = []
    for clause in re.split(r"\s+AND\s+", text.strip()):
        match = _CLAUSE.match(clause)
        field = (match.group("field") or "tag").lower() if match else None
        if match is None or field not in _FIELDS:
            raise InvalidParameterError(
                f"The value '{text}' of parameter 'query' is not supported: use clauses like Tag:=NAME* joined "
                f"by AND (fields: {', '.join(sorted(_FIELDS))}; wildcards * and ?).")
        value = match.group("value").strip("\"'").replace("\\", "")
        tests.append((_FIELDS[field], value))
    return lambda point: all(name_matches(value, get(point)) for get, value in tests)


@bp.get("/search")
def get_search():
    """GET points/search?dataServerWebId=&query=Tag:=SIN*: a point query over one data server (or all)."""
    s, a = sim(), args()
    server_id = a.get("dataServerWebId")
    servers = s.catalog.data_servers
    if server_id:
        server = s.resolve(server_id)
        if not isinstance(server, DataServerEntry):
            raise InvalidParameterError(f"The WebID '{server_id}' does not name a data server.")
        servers = [server]
    test = _query(a.get("query"))
    now = s.now()
    found = [p for server in servers for p in s.catalog.existing(server.points, now) if test is None or test(p)]
    chosen, links = page(found, a, min(s.limits.search_max_count, s.limits.max_returned_items_per_call))
    web_id_type = a.web_id_type(s.scenario.web_id_type)
    return json_response(shapes.listed([shapes.point(p, base(), web_id_type) for p in chosen],
                                       a.selected_fields(), links))
