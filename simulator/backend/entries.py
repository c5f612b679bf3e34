"""simulator.backend.entries: the catalog's objects (servers, points, databases, templates, elements,
attributes, event frames) with their identities (WebID parts, stable GUIDs), and nothing else.

Both the catalog (which builds and finds them) and the event-frame index (which generates frames on
demand) use them; neither is needed to read one.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from dataclasses import field

from ..scenario.model import AssetServer
from ..scenario.model import Attribute
from ..scenario.model import Database
from ..scenario.model import DataServer
from ..scenario.model import Element
from ..scenario.model import ElementTemplate
from ..scenario.model import Point
from ..pi.webid import Identified

NAMESPACE = uuid.UUID("0d7f1c52-9a43-4f0e-9a55-5e3c1b2a7c10")


def object_guid(*parts: str) -> str:
    """A stable GUID for a named object (uuid5 of its upper-cased identity)."""
    return str(uuid.uuid5(NAMESPACE, "\x1f".join(p.upper() for p in parts)))


@dataclass(eq=False)
class DataServerEntry(Identified):
    server: DataServer
    path: str
    points: list[PointEntry] = field(default_factory=list)
    by_name: dict[str, PointEntry] = field(default_factory=dict)
    by_id: dict[int, PointEntry] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.server.name

    @property
    def id(self) -> str:
        return self.server.id

    def _web_id_parts(self) -> dict:
        return {"marker": "DS", "guids": (self.id,), "path": self.name}


@dataclass(eq=False)
class PointEntry(Identified):
    point: Point
    server: DataServerEntry
    path: str

    @property
    def name(self) -> str:
        return self.point.name

    def _web_id_parts(self) -> dict:
        return {"marker": "DP", "guids": (self.server.id,), "point_id": self.point.id,
                "path": f"{self.server.name}\\{self.point.name}"}

    def exists(self, now: int | None) -> bool:
        """Whether the point exists at `now`: from its `created` until its `deleted` (None: any time)."""
        p = self.point
        if now is None:
            return True
        return (p.created is None or p.created <= now) and (p.deleted is None or now < p.deleted)


@dataclass(eq=False)
class AssetServerEntry(Identified):
    server: AssetServer
    path: str
    databases: list[DatabaseEntry] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.server.name

    @property
    def id(self) -> str:
        return self.server.id

    def _web_id_parts(self) -> dict:
        return {"marker": "RS", "guids": (self.id,), "path": self.name}


@dataclass(eq=False)
class DatabaseEntry(Identified):
    database: Database
    server: AssetServerEntry
    path: str
    roots: list[ElementEntry] = field(default_factory=list)
    elements: list[ElementEntry] = field(default_factory=list)
    templates: dict[str, TemplateEntry] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.database.name

    @property
    def id(self) -> str:
        return self.database.id

    def _web_id_parts(self) -> dict:
        return {"marker": "RD", "guids": (self.server.id, self.id), "path": self.path[2:]}


@dataclass(eq=False)
class TemplateEntry(Identified):
    template: ElementTemplate
    database: DatabaseEntry
    id: str
    path: str
    base: TemplateEntry | None = None

    @property
    def name(self) -> str:
        return self.template.name

    def lineage(self) -> list[str]:
        """This template's name and its base templates' names (derived templates match a base)."""
        names: list[str] = []
        entry: TemplateEntry | None = self
        while entry is not None:
            names.append(entry.name.lower())
            entry = entry.base
        return names

    def _web_id_parts(self) -> dict:
        return {"marker": "ET", "guids": (self.database.server.id, self.id), "path": self.path[2:]}


@dataclass(eq=False)
class ElementEntry(Identified):
    element: Element
    database: DatabaseEntry
    parent: ElementEntry | None
    path: str
    depth: int
    id: str
    children: list[ElementEntry] = field(default_factory=list)
    attributes: list[AttributeEntry] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.element.name

    def _web_id_parts(self) -> dict:
        return {"marker": "Em", "guids": (self.database.server.id, self.id), "path": self.path[2:]}

    def descendants(self) -> list[ElementEntry]:
        out: list[ElementEntry] = []
        stack = list(reversed(self.children))
        while stack:
            entry = stack.pop()
            out.append(entry)
            stack.extend(reversed(entry.children))
        return out


@dataclass(eq=False)
class AttributeEntry(Identified):
    """An attribute of an element or event frame; `point` is set for PI Point data references."""

    attribute: Attribute
    owner: ElementEntry | EventFrameEntry
    id: str
    path: str
    point: PointEntry | None
    value: object = None
    static_time: int = 0

    @property
    def name(self) -> str:
        return self.attribute.name

    @property
    def owner_marker(self) -> str:
        return "F" if isinstance(self.owner, EventFrameEntry) else "E"

    def _web_id_parts(self) -> dict:
        return {"marker": "Ab", "owner": self.owner_marker,
                "guids": (self.owner.database.server.id, self.owner.id, self.id), "path": self.path[2:]}


@dataclass(eq=False)
class EventFrameEntry(Identified):
    database: DatabaseEntry
    name: str
    template: str | None
    start: int
    end: int | None  # None while in progress
    elements: list[ElementEntry]
    id: str
    path: str
    severity: str = "None"
    description: str = ""
    categories: tuple[str, ...] = ()
    attributes: list[AttributeEntry] = field(default_factory=list)
    closed_at: int | None = None  # when the end shows (a frame closed late); None: at its end
    edit_at: int | None = None  # when `edited` replaces `attributes` (AF users correcting it later)
    edited: list[AttributeEntry] | None = None

    @property
    def is_open(self) -> bool:
        return self.end is None

    def _web_id_parts(self) -> dict:
        return {"marker": "Fm", "guids": (self.database.server.id, self.id), "path": self.path[2:]}
