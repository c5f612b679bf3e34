"""Routes of PI's DataServer controller: /piwebapi/dataservers..."""
from __future__ import annotations

from flask import Blueprint

from .. import shapes
from ..catalog import DataServerEntry
from ..errors import InvalidParameterError
from ..errors import UnknownWebIdError
from .common import args
from .common import base
from .common import json_response
from .common import page
from .common import sim

bp = Blueprint("dataservers", __name__, url_prefix="/piwebapi/dataservers")


def _server(web_id: str) -> DataServerEntry:
    found = sim().resolve(web_id)
    if not isinstance(found, DataServerEntry):
        raise InvalidParameterError(f"The WebID '{web_id}' does not name a data server.")
    return found


@bp.get("")
def get_dataservers():
    """GET dataservers (all), or ?name= / ?path= for one."""
    s, a = sim(), args()
    web_id_type = a.web_id_type(s.scenario.web_id_type)
    name, path = a.get("name"), a.get("path")
    if name is not None or path is not None:
        entry = s.catalog.data_server_by_name(name) if name is not None else s.catalog.data_server_by_path(path)
        if entry is None:
            raise UnknownWebIdError(f"The data server '{name if name is not None else path}' was not found.")
        return json_response(shapes.single(shapes.data_server(entry, base(), web_id_type, s.now()),
                                           a.selected_fields()))
    items = [shapes.data_server(e, base(), web_id_type, s.now()) for e in s.catalog.data_servers]
    return json_response(shapes.listed(items, a.selected_fields()))


@bp.get("/<webId>")
def get_dataserver(webId: str):
    s, a = sim(), args()
    entry = _server(webId)
    return json_response(shapes.single(shapes.data_server(entry, base(), a.web_id_type(s.scenario.web_id_type), s.now()),
                                       a.selected_fields()))


@bp.get("/<webId>/points")
def get_points(webId: str):
    """GET dataservers/{webId}/points: nameFilter wildcards, startIndex/maxCount paging."""
    s, a = sim(), args()
    entry = _server(webId)
    web_id_type = a.web_id_type(s.scenario.web_id_type)
    found = s.catalog.find_points(entry, a.get("nameFilter"))
    chosen, links = page(found, a, s.limits.max_returned_items_per_call)
    items = [shapes.point(p, base(), web_id_type) for p in chosen]
    return json_response(shapes.listed(items, a.selected_fields(), links))


@bp.get("/<webId>/enumerationsets")
def get_enumeration_sets(webId: str):
    s, a = sim(), args()
    entry = _server(webId)
    web_id_type = a.web_id_type(s.scenario.web_id_type)
    items = [shapes.enumeration_set(d.name, d.states, entry, base(), web_id_type) for d in s.scenario.digital_sets]
    return json_response(shapes.listed(items, a.selected_fields()))
