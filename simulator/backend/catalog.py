"""simulator.backend.catalog: every named object of a scenario, found by WebID, path or filter.

Data servers and their points, digital state sets, asset servers, databases, element templates,
the element tree with its attributes, and event frames (explicit ones, and the ones schedules
generate on demand for a query window). Knows nothing of HTTP; raises UnknownWebIdError for a
well-formed WebID that names nothing and InvalidParameterError for a malformed one.
"""
from __future__ import annotations

import re
from functools import lru_cache

from ..pi import webid
from .entries import AssetServerEntry
from .entries import AttributeEntry
from .entries import DatabaseEntry
from .entries import DataServerEntry
from .entries import ElementEntry
from .entries import EventFrameEntry
from .entries import PointEntry
from .entries import TemplateEntry
from .entries import object_guid
from ..pi.errors import InvalidParameterError
from ..pi.errors import UnknownWebIdError
from .eventframes import EventFrameIndex
from ..scenario.model import AssetServer
from ..scenario.model import Attribute
from ..scenario.model import DigitalSet
from ..scenario.model import Element
from ..scenario.model import Scenario

RESOLVED_CACHE = 200_000


@lru_cache(maxsize=512)
def _wildcard(pattern: str) -> re.Pattern[str]:
    """PI name filters: * any run of characters, ? one character, case-insensitive."""
    out = []
    for ch in pattern:
        out.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
    return re.compile("".join(out) + r"\Z", re.IGNORECASE | re.DOTALL)


def name_matches(pattern: str | None, name: str) -> bool:
    return not pattern or pattern == "*" or _wildcard(pattern).match(name) is not None


class Catalog:
    """Lookups over one scenario's objects."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.digital_sets: dict[str, DigitalSet] = {s.name.lower(): s for s in scenario.digital_sets}
        self.data_servers: list[DataServerEntry] = []
        self._servers_by_name: dict[str, DataServerEntry] = {}
        self._servers_by_id: dict[str, DataServerEntry] = {}
        for server in scenario.data_servers:
            entry = DataServerEntry(server, f"\\\\PIServers[{server.name}]")
            for point in server.points:
                p = PointEntry(point, entry, f"\\\\{server.name}\\{point.name}")
                entry.points.append(p)
                entry.by_name[point.name.lower()] = p
                entry.by_id[point.id] = p
            self.data_servers.append(entry)
            self._servers_by_name[server.name.lower()] = entry
            self._servers_by_id[server.id.lower()] = entry
        # whether any point comes or goes with the clock (30,000 points need no filter otherwise)
        self._lifetimes = any(p.created is not None or p.deleted is not None
                              for server in scenario.data_servers for p in server.points)
        self.asset_servers: list[AssetServerEntry] = []
        self._asset_by_id: dict[str, AssetServerEntry] = {}
        self._databases_by_id: dict[str, DatabaseEntry] = {}
        self._elements_by_id: dict[str, ElementEntry] = {}
        self._attributes_by_id: dict[str, AttributeEntry] = {}
        self._templates_by_id: dict[str, TemplateEntry] = {}
        self._event_frames: dict[str, EventFrameIndex] = {}  # by database id
        self._by_path: dict[str, object] = {}
        self._resolved: dict[str, object] = {}
        for asset_server in scenario.asset_servers:
            self._add_asset_server(asset_server)

    def event_frames(self, database: DatabaseEntry) -> EventFrameIndex:
        """The event frames of `database` (every database has its index once the catalog is built)."""
        return self._event_frames[database.id]

    # -- building --------------------------------------------------------------------------------

    def _add_asset_server(self, server: AssetServer) -> None:
        entry = AssetServerEntry(server, f"\\\\{server.name}")
        self.asset_servers.append(entry)
        self._asset_by_id[server.id.lower()] = entry
        self._by_path[entry.path.lower()] = entry
        for database in server.databases:
            db = DatabaseEntry(database, entry, f"{entry.path}\\{database.name}")
            entry.databases.append(db)
            self._databases_by_id[database.id.lower()] = db
            self._by_path[db.path.lower()] = db
            for template in database.element_templates:
                t = TemplateEntry(template, db, object_guid(db.id, "template", template.name),
                                  f"{db.path}\\ElementTemplates[{template.name}]")
                db.templates[template.name.lower()] = t
                self._templates_by_id[t.id] = t
            for t in db.templates.values():
                if t.template.base_template:
                    t.base = db.templates.get(t.template.base_template.lower())
            for element in database.elements:
                db.roots.append(self._add_element(element, db, None, db.path, 1))
            self._event_frames[db.id] = EventFrameIndex(self, db)

    def _add_element(self, element: Element, db: DatabaseEntry, parent: ElementEntry | None,
                     parent_path: str, depth: int) -> ElementEntry:
        path = f"{parent_path}\\{element.name}"
        entry = ElementEntry(element, db, parent, path, depth, object_guid(db.id, "element", path))
        db.elements.append(entry)
        self._elements_by_id[entry.id] = entry
        self._by_path[path.lower()] = entry
        for attribute in element.attributes:
            a = self.make_attribute(attribute, entry)
            entry.attributes.append(a)
            self._attributes_by_id[a.id] = a
            self._by_path[a.path.lower()] = a
        for child in element.children:
            entry.children.append(self._add_element(child, db, entry, path, depth + 1))
        return entry

    def make_attribute(self, attribute: Attribute, owner, value: object = None,
                       static_time: int = 0) -> AttributeEntry:
        path = f"{owner.path}|{attribute.name}"
        point = self.point_by_path(attribute.pi_point) if attribute.pi_point else None
        return AttributeEntry(attribute, owner, object_guid(owner.id, "attribute", attribute.name), path,
                              point, attribute.value if value is None else value, static_time)

    # -- data servers and points -----------------------------------------------------------------

    def data_server_by_name(self, name: str) -> DataServerEntry | None:
        return self._servers_by_name.get(name.strip().lower())

    def data_server_by_path(self, path: str) -> DataServerEntry | None:
        text = path.strip()
        m = re.fullmatch(r"\\\\(?:PIServers\[(?P<a>[^\]]+)\]|(?P<b>[^\\\[\]]+))", text, re.IGNORECASE)
        return self.data_server_by_name(m.group("a") or m.group("b")) if m else None

    def point_by_path(self, path: str, now: int | None = None) -> PointEntry | None:
        """A point by \\\\SERVER\\TAG; None when unknown or, given `now`, not existing then."""
        m = re.fullmatch(r"\\\\([^\\]+)\\(.+)", path.strip())
        if not m:
            return None
        server = self.data_server_by_name(m.group(1))
        found = server.by_name.get(m.group(2).lower()) if server else None
        return found if found is not None and found.exists(now) else None

    def find_points(self, server: DataServerEntry, name_filter: str | None, now: int | None = None
                    ) -> list[PointEntry]:
        """The server's points matching a name filter that exist at `now` (all, without `now`)."""
        points = self.existing(server.points, now)
        if not name_filter or name_filter == "*":
            return points
        pattern = _wildcard(name_filter)
        return [p for p in points if pattern.match(p.point.name)]

    def existing(self, points: list[PointEntry], now: int | None) -> list[PointEntry]:
        """`points` without those not created yet or deleted already at `now` (the same list when none changes)."""
        if now is None or not self._lifetimes:
            return points
        return [p for p in points if p.exists(now)]

    def digital_set(self, name: str) -> DigitalSet | None:
        return self.digital_sets.get(name.lower()) if name else None

    # -- AF --------------------------------------------------------------------------------------

    def asset_server_by_name(self, name: str) -> AssetServerEntry | None:
        for entry in self.asset_servers:
            if entry.name.lower() == name.strip().lower():
                return entry
        return None

    def by_path(self, path: str) -> object | None:
        """An AF object (asset server, database, element, attribute, event frame) by its path."""
        key = path.strip().lower()
        found = self._by_path.get(key)
        if found is not None:
            return found
        m = re.fullmatch(r"(\\\\[^\\]+\\[^\\]+)\\eventframes\[(.+?)\](?:\|(.+))?", key, re.IGNORECASE)
        if m:
            db = self._by_path.get(m.group(1))
            if isinstance(db, DatabaseEntry):
                frame = self.event_frames(db).by_name(m.group(2))
                if frame is not None and m.group(3):
                    return next((a for a in frame.attributes if a.name.lower() == m.group(3)), None)
                return frame
        return None

    # -- WebIDs ----------------------------------------------------------------------------------

    def resolve(self, web_id: str, now: int | None = None):
        """The object a WebID names. Malformed -> 400; well-formed but unknown -> 404.

        Answers are kept, except for event frames (open or closed depends on `now`)."""
        found = self._resolved.get(web_id) or self.point_web_ids().get(web_id)
        if found is not None:
            return self._existing(found, web_id, now)
        try:
            info = webid.decode(web_id)
        except webid.InvalidWebIdError as exc:
            raise InvalidParameterError(f"The specified WebID is not valid: {exc}") from None
        found = self._resolve(info, now)
        if found is None:
            raise UnknownWebIdError(f"The WebID '{web_id}' does not name an object in this system.")
        self._existing(found, web_id, now)
        if not isinstance(found, EventFrameEntry) and not isinstance(getattr(found, "owner", None), EventFrameEntry):
            if len(self._resolved) >= RESOLVED_CACHE:
                self._resolved.clear()
            self._resolved[web_id] = found
        return found

    @staticmethod
    def _existing(found, web_id: str, now: int | None):
        """`found`, unless it is a point that does not exist at `now`: PI's 404 for a deleted point."""
        if isinstance(found, PointEntry) and not found.exists(now):
            raise UnknownWebIdError(f"The WebID '{web_id}' does not name an object in this system.")
        return found

    def point_web_ids(self) -> dict[str, PointEntry]:
        """Every point's Full and IDOnly WebID, made once (a stream set of 30,000 tags would
        otherwise decode 30,000 WebIDs on its first call)."""
        table = self.__dict__.get("_points_by_web_id")
        if table is None:
            table = {}
            for server in self.data_servers:
                for entry in server.points:
                    table[entry.web_id("Full")] = entry
                    table[entry.web_id("IDOnly")] = entry
            self.__dict__["_points_by_web_id"] = table
        return table

    def _resolve(self, info: webid.WebIdInfo, now: int | None):
        marker, guids, path = info.marker, info.guids, info.path
        if marker == "DS":
            if guids:
                return self._servers_by_id.get(guids[-1].lower())
            return self.data_server_by_name(path or "")
        if marker == "DP":
            if info.point_id is not None:
                if guids:
                    server = self._servers_by_id.get(guids[0].lower())
                    return server.by_id.get(info.point_id) if server else None
                for server in self.data_servers:
                    if info.point_id in server.by_id:
                        return server.by_id[info.point_id]
                return None
            return self.point_by_path("\\\\" + (path or ""))
        if marker == "RS":
            if guids:
                return self._asset_by_id.get(guids[-1].lower())
            return self.asset_server_by_name(path or "")
        if marker == "RD":
            return self._databases_by_id.get(guids[-1].lower()) if guids else self.by_path("\\\\" + (path or ""))
        if marker == "ET":
            return self._templates_by_id.get(guids[-1].lower()) if guids else self._template_by_path(path or "")
        if marker == "Em":
            return self._elements_by_id.get(guids[-1].lower()) if guids else self.by_path("\\\\" + (path or ""))
        if marker == "Fm":
            if guids:
                return self._event_frame_by_id(guids[-1], now)
            return self.by_path("\\\\" + (path or ""))
        if marker == "Ab":
            if not guids:
                return self.by_path("\\\\" + (path or ""))
            if info.owner == "F":
                frame = self._event_frame_by_id(guids[-2], now) if len(guids) >= 2 else None
                if frame is None:
                    return None
                return next((a for a in frame.attributes if a.id == guids[-1].lower()), None)
            return self._attributes_by_id.get(guids[-1].lower())
        return None

    def _template_by_path(self, path: str):
        for t in self._templates_by_id.values():
            if t.path[2:].lower() == path.lower():
                return t
        return None

    def _event_frame_by_id(self, guid: str, now: int | None):
        for server in self.asset_servers:
            for db in server.databases:
                frame = self.event_frames(db).by_id(guid.lower(), now)
                if frame is not None:
                    return frame
        return None
