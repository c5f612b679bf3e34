"""Routes of PI's Point controller: /piwebapi/points..."""
from __future__ import annotations

import re

from flask import Blueprint

from .. import shapes
from ..catalog import PointEntry
from ..errors import InvalidParameterError
from ..errors import PIError
from ..errors import UnknownWebIdError
from .common import args
from .common import base
from .common import json_response
from .common import page
from .common import sim

bp = Blueprint("points", __name__, url_prefix="/piwebapi/points")


def _point(web_id: str) -> PointEntry:
    found = sim().resolve(web_id)
    if not isinstance(found, PointEntry):
        raise InvalidParameterError(f"The WebID '{web_id}' does not name a PI point.")
    return found


@bp.get("")
def get_by_path():
    """GET points?path=\\\\SERVER\\TAG"""
    s, a = sim(), args()
    path = a.required("path")
    entry = s.catalog.point_by_path(path)
    if entry is None:
        raise UnknownWebIdError(f"The PI point '{path}' was not found.")
    return json_response(shapes.single(shapes.point(entry, base(), a.web_id_type(s.scenario.web_id_type)),
                                       a.selected_fields()))


@bp.get("/<webId>")
def get_point(webId: str):
    s, a = sim(), args()
    return json_response(shapes.single(shapes.point(_point(webId), base(), a.web_id_type(s.scenario.web_id_type)),
                                       a.selected_fields()))


@bp.get("/multiple")
def get_multiple():
    """GET points/multiple?webId=..&path=..: Items of {Identifier, IdentifierType, Object | Exception};
    207 when some fail."""
    s, a = sim(), args()
    web_id_type = a.web_id_type(s.scenario.web_id_type)
    identifiers = [("WebId", w) for w in a.getlist("webId")] + [("Path", p) for p in a.getlist("path")]
    if not identifiers:
        raise InvalidParameterError("Either 'webId' or 'path' must be given.")
    items, failed = [], False
    for kind, identifier in identifiers:
        try:
            entry = _point(identifier) if kind == "WebId" else s.catalog.point_by_path(identifier)
            if entry is None:
                raise UnknownWebIdError(f"The PI point '{identifier}' was not found.")
            items.append({"Identifier": identifier, "IdentifierType": kind,
                          "Object": shapes.point(entry, base(), web_id_type)})
        except PIError as exc:
            failed = True
            items.append({"Identifier": identifier, "IdentifierType": kind, "Exception": {"Errors": exc.messages}})
    body = shapes.listed(items, a.selected_fields())
    return json_response(body, 207 if failed else 200)


_QUERY = re.compile(r"^\s*(?:(?:tag|name)\s*:=?\s*)?(?P<pattern>\S+)\s*$", re.IGNORECASE)


@bp.get("/search")
def get_search():
    """GET points/search?dataServerWebId=&query=tag:=SIN*: a name query over one data server."""
    s, a = sim(), args()
    server_id = a.required("dataServerWebId")
    server = s.resolve(server_id)
    from ..catalog import DataServerEntry

    if not isinstance(server, DataServerEntry):
        raise InvalidParameterError(f"The WebID '{server_id}' does not name a data server.")
    query = a.required("query")
    match = _QUERY.match(query)
    if not match:
        raise InvalidParameterError(f"The query '{query}' is not supported: use tag:=NAME* (wildcards * and ?).")
    found = s.catalog.find_points(server, match.group("pattern").replace("\\", ""))
    chosen, links = page(found, a, min(s.limits.search_max_count, s.limits.max_returned_items_per_call))
    web_id_type = a.web_id_type(s.scenario.web_id_type)
    return json_response(shapes.listed([shapes.point(p, base(), web_id_type) for p in chosen],
                                       a.selected_fields(), links))
