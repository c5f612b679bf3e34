"""Routes of PI's DataServer controller: /piwebapi/dataservers..."""
from __future__ import annotations

from flask import Blueprint

from ..serving import shapes
from ..backend.entries import DataServerEntry
from ..pi.errors import UnknownWebIdError
from .common import args
from .common import many
from .common import one
from .common import page
from .common import sim
from .common import typed

bp = Blueprint("dataservers", __name__, url_prefix="/piwebapi/dataservers")


def _server(web_id: str) -> DataServerEntry:
    return typed(web_id, DataServerEntry, "a data server")


@bp.get("")
def get_dataservers():
    """GET dataservers (all), or ?name= / ?path= for one."""
    s, a = sim(), args()
    name, path = a.get("name"), a.get("path")
    if name is None and path is None:
        return many(shapes.data_server, s.catalog.data_servers, s.now())
    entry = s.catalog.data_server_by_name(name) if name is not None else s.catalog.data_server_by_path(path)
    if entry is None:
        raise UnknownWebIdError(f"The data server '{name if name is not None else path}' was not found.")
    return one(shapes.data_server, entry, s.now())


@bp.get("/<webId>")
def get_dataserver(webId: str):
    return one(shapes.data_server, _server(webId), sim().now())


@bp.get("/<webId>/points")
def get_points(webId: str):
    """GET dataservers/{webId}/points: nameFilter wildcards, startIndex/maxCount paging."""
    s, a = sim(), args()
    found = s.catalog.find_points(_server(webId), a.get("nameFilter"), s.now())
    chosen, links = page(found, a, s.limits.max_returned_items_per_call)
    return many(shapes.point, chosen, links=links)


@bp.get("/<webId>/enumerationsets")
def get_enumeration_sets(webId: str):
    entry = _server(webId)
    return many(lambda digital, root, kind: shapes.enumeration_set(digital.name, digital.states, entry, root, kind),
                sim().scenario.digital_sets)
