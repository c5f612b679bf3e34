"""Routes of PI's AssetServer, AssetDatabase and ElementTemplate controllers."""
from __future__ import annotations

from flask import Blueprint

from .. import catalog as cat
from .. import shapes
from ..errors import InvalidParameterError
from ..errors import UnknownWebIdError
from .common import args
from .common import base
from .common import json_response
from .common import sim
from .elements import element_list
from .eventframes import event_frame_list

bp = Blueprint("assets", __name__, url_prefix="/piwebapi")


def _typed(web_id: str, kind: type, label: str):
    found = sim().resolve(web_id)
    if not isinstance(found, kind):
        raise InvalidParameterError(f"The WebID '{web_id}' does not name {label}.")
    return found


@bp.get("/assetservers")
def get_asset_servers():
    s, a = sim(), args()
    web_id_type = a.web_id_type(s.scenario.web_id_type)
    name, path = a.get("name"), a.get("path")
    if name is not None or path is not None:
        key = name if name is not None else path.strip().lstrip("\\")
        entry = s.catalog.asset_server_by_name(key)
        if entry is None:
            raise UnknownWebIdError(f"The asset server '{name if name is not None else path}' was not found.")
        return json_response(shapes.single(shapes.asset_server(entry, base(), web_id_type, s.now()), a.selected_fields()))
    items = [shapes.asset_server(e, base(), web_id_type, s.now()) for e in s.catalog.asset_servers]
    return json_response(shapes.listed(items, a.selected_fields()))


@bp.get("/assetservers/<webId>")
def get_asset_server(webId: str):
    s, a = sim(), args()
    entry = _typed(webId, cat.AssetServerEntry, "an asset server")
    return json_response(shapes.single(shapes.asset_server(entry, base(), a.web_id_type(s.scenario.web_id_type),
                                                           s.now()), a.selected_fields()))


@bp.get("/assetservers/<webId>/assetdatabases")
def get_databases(webId: str):
    s, a = sim(), args()
    entry = _typed(webId, cat.AssetServerEntry, "an asset server")
    web_id_type = a.web_id_type(s.scenario.web_id_type)
    return json_response(shapes.listed([shapes.database(d, base(), web_id_type) for d in entry.databases],
                                       a.selected_fields()))


@bp.get("/assetdatabases")
def get_database_by_path():
    s, a = sim(), args()
    path = a.required("path")
    entry = s.catalog.by_path(path)
    if not isinstance(entry, cat.DatabaseEntry):
        raise UnknownWebIdError(f"The asset database '{path}' was not found.")
    return json_response(shapes.single(shapes.database(entry, base(), a.web_id_type(s.scenario.web_id_type)),
                                       a.selected_fields()))


@bp.get("/assetdatabases/<webId>")
def get_database(webId: str):
    s, a = sim(), args()
    entry = _typed(webId, cat.DatabaseEntry, "an asset database")
    return json_response(shapes.single(shapes.database(entry, base(), a.web_id_type(s.scenario.web_id_type)),
                                       a.selected_fields()))


@bp.get("/assetdatabases/<webId>/elements")
def get_database_elements(webId: str):
    entry = _typed(webId, cat.DatabaseEntry, "an asset database")
    return element_list(entry.roots, entry.elements)


@bp.get("/assetdatabases/<webId>/elementtemplates")
def get_element_templates(webId: str):
    s, a = sim(), args()
    entry = _typed(webId, cat.DatabaseEntry, "an asset database")
    web_id_type = a.web_id_type(s.scenario.web_id_type)
    items = [shapes.element_template(t, base(), web_id_type) for t in entry.templates.values()]
    return json_response(shapes.listed(items, a.selected_fields()))


@bp.get("/elementtemplates/<webId>")
def get_element_template(webId: str):
    s, a = sim(), args()
    entry = _typed(webId, cat.TemplateEntry, "an element template")
    return json_response(shapes.single(shapes.element_template(entry, base(), a.web_id_type(s.scenario.web_id_type)),
                                       a.selected_fields()))


@bp.get("/assetdatabases/<webId>/eventframes")
def get_database_event_frames(webId: str):
    entry = _typed(webId, cat.DatabaseEntry, "an asset database")
    return event_frame_list(entry, None)
