"""Routes of PI's AssetServer, AssetDatabase and ElementTemplate controllers."""
from __future__ import annotations

from flask import Blueprint

from ..backend import entries
from ..serving import shapes
from ..pi.errors import UnknownWebIdError
from .common import args
from .common import by_path
from .common import many
from .common import one
from .common import sim
from .common import typed
from .elements import element_list
from .eventframes import event_frame_list

bp = Blueprint("assets", __name__, url_prefix="/piwebapi")


@bp.get("/assetservers")
def get_asset_servers():
    """GET assetservers (all), or ?name= / ?path= for one."""
    s, a = sim(), args()
    name, path = a.get("name"), a.get("path")
    if name is None and path is None:
        return many(shapes.asset_server, s.catalog.asset_servers, s.now())
    entry = s.catalog.asset_server_by_name(name if name is not None else path.strip().lstrip("\\"))
    if entry is None:
        raise UnknownWebIdError(f"The asset server '{name if name is not None else path}' was not found.")
    return one(shapes.asset_server, entry, s.now())


@bp.get("/assetservers/<webId>")
def get_asset_server(webId: str):
    return one(shapes.asset_server, typed(webId, entries.AssetServerEntry, "an asset server"), sim().now())


@bp.get("/assetservers/<webId>/assetdatabases")
def get_databases(webId: str):
    return many(shapes.database, typed(webId, entries.AssetServerEntry, "an asset server").databases)


@bp.get("/assetdatabases")
def get_database_by_path():
    return one(shapes.database, by_path(entries.DatabaseEntry, "asset database"))


@bp.get("/assetdatabases/<webId>")
def get_database(webId: str):
    return one(shapes.database, typed(webId, entries.DatabaseEntry, "an asset database"))


@bp.get("/assetdatabases/<webId>/elements")
def get_database_elements(webId: str):
    entry = typed(webId, entries.DatabaseEntry, "an asset database")
    return element_list(entry.roots, entry.elements)


@bp.get("/assetdatabases/<webId>/elementtemplates")
def get_element_templates(webId: str):
    return many(shapes.element_template, typed(webId, entries.DatabaseEntry, "an asset database").templates.values())


@bp.get("/elementtemplates/<webId>")
def get_element_template(webId: str):
    return one(shapes.element_template, typed(webId, entries.TemplateEntry, "an element template"))


@bp.get("/assetdatabases/<webId>/eventframes")
def get_database_event_frames(webId: str):
    return event_frame_list(typed(webId, entries.DatabaseEntry, "an asset database"), None)
