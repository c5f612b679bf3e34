"""connector.discovery: tag selectors -> the PI points to extract, with their metadata.

Selectors are a name filter on the data server (PI wildcards), an explicit list of names, or AF
elements (by template and/or path) whose attributes reference PI points. Their union is returned
once per point; names and AF references that name no point are reported, not fatal.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field

from .config import AFSelector
from .config import NameFilter
from .config import NameList

POINT_FIELDS = ("WebId;Id;Name;Path;Descriptor;PointClass;PointType;DigitalSetName;EngineeringUnits;Step;"
                "Future;Span;Zero;DisplayDigits")
LIST_FIELDS = ";".join(f"Items.{f}" for f in POINT_FIELDS.split(";"))
MULTIPLE_CHUNK = 100
ELEMENT_FIELDS = "Items.WebId;Items.TemplateName;Items.Path"


@dataclass(frozen=True)
class PointInfo:
    """A PI point's identity and metadata (one row of the `points` table)."""

    web_id: str
    point_id: int
    server: str
    name: str
    path: str
    descriptor: str = ""
    point_class: str = "classic"
    point_type: str = "Float32"
    engineering_units: str = ""
    digital_set: str = ""
    step: bool = False
    future: bool = False
    span: float = 0.0
    zero: float = 0.0
    display_digits: int = -5

    @classmethod
    def from_json(cls, doc: dict, server: str) -> PointInfo:
        return cls(web_id=doc["WebId"], point_id=int(doc.get("Id") or 0), server=server, name=doc.get("Name", ""),
                   path=doc.get("Path", ""), descriptor=doc.get("Descriptor") or "",
                   point_class=doc.get("PointClass") or "", point_type=doc.get("PointType") or "",
                   engineering_units=doc.get("EngineeringUnits") or "", digital_set=doc.get("DigitalSetName") or "",
                   step=bool(doc.get("Step")), future=bool(doc.get("Future")), span=float(doc.get("Span") or 0.0),
                   zero=float(doc.get("Zero") or 0.0), display_digits=int(doc.get("DisplayDigits") or 0))


@dataclass
class Discovery:
    points: list[PointInfo] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)  # (what, why)

    def add(self, point: PointInfo, seen: set[str]) -> None:
        if point.web_id not in seen:
            seen.add(point.web_id)
            self.points.append(point)


def discover(client, server: dict, selectors: Iterable) -> Discovery:
    """The points the selectors name, in selector order, each once."""
    result = Discovery()
    seen: set[str] = set()
    server_name = server.get("Name", "")
    for selector in selectors:
        if isinstance(selector, NameFilter):
            for doc in client.points(server["WebId"], selector.name_filter, selected_fields=LIST_FIELDS):
                result.add(PointInfo.from_json(doc, server_name), seen)
        elif isinstance(selector, NameList):
            paths = [f"\\\\{server_name}\\{name}" for name in selector.names]
            _by_paths(client, paths, server_name, result, seen)
        elif isinstance(selector, AFSelector):
            paths = af_point_paths(client, selector, result)
            _by_paths(client, paths, server_name, result, seen)
    return result


def _by_paths(client, paths: list[str], server_name: str, result: Discovery, seen: set[str]) -> None:
    """points/multiple by path, a chunk at a time; unknown paths go to result.missing."""
    for i in range(0, len(paths), MULTIPLE_CHUNK):
        chunk = paths[i:i + MULTIPLE_CHUNK]
        answer = client.get_json("points/multiple", client._list_params(
            {"path": chunk, "selectedFields": "Items.Identifier;Items.Exception;"
             + ";".join(f"Items.Object.{f}" for f in POINT_FIELDS.split(";"))}))
        for item in answer.get("Items") or []:
            obj = item.get("Object")
            if obj and obj.get("WebId"):
                server = obj.get("Path", "").lstrip("\\").split("\\", 1)[0] or server_name
                result.add(PointInfo.from_json(obj, server), seen)
            else:
                errors = (item.get("Exception") or {}).get("Errors") or ["not found"]
                result.missing.append((item.get("Identifier", "?"), "; ".join(errors)))


def af_point_paths(client, selector: AFSelector, result: Discovery) -> list[str]:
    """The PI point paths behind the attributes of the selected AF elements."""
    database = client.get_json("assetdatabases", client._list_params({"path": selector.database}))
    if selector.element_path:
        roots = [client.get_json("elements", client._list_params({"path": selector.element_path}))]
        elements = list(roots)
        for root in roots:
            elements.extend(client.paged(f"elements/{root['WebId']}/elements",
                                         {"searchFullHierarchy": "true", "selectedFields": ELEMENT_FIELDS}))
    else:
        elements = list(client.paged(f"assetdatabases/{database['WebId']}/elements",
                                     {"searchFullHierarchy": "true", "selectedFields": ELEMENT_FIELDS}))
    if selector.element_template:
        wanted = selector.element_template.lower()
        elements = [e for e in elements if (e.get("TemplateName") or "").lower() == wanted]
    names = {a.lower() for a in selector.attributes} if selector.attributes else None
    paths: list[str] = []
    requests = {str(i): {"Method": "GET", "Resource": f"elements/{e['WebId']}/attributes?selectedFields="
                         "Items.Name;Items.DataReferencePlugIn;Items.ConfigString;Items.Path"}
                for i, e in enumerate(elements)}
    for chunk in _chunks(requests, 100):
        answers = client.batch(chunk)
        for key, answer in answers.items():
            if answer.get("Status", 500) >= 400:
                result.missing.append((elements[int(key)].get("Path", key), f"attributes: HTTP {answer.get('Status')}"))
                continue
            for attribute in (answer.get("Content") or {}).get("Items") or []:
                if names is not None and attribute.get("Name", "").lower() not in names:
                    continue
                if attribute.get("DataReferencePlugIn") == "PI Point" and attribute.get("ConfigString"):
                    paths.append(attribute["ConfigString"].split(";", 1)[0])
    return list(dict.fromkeys(paths))


def _chunks(mapping: dict, size: int):
    items = list(mapping.items())
    for i in range(0, len(items), size):
        yield dict(items[i:i + size])
