"""simulator.serving.shapes: domain objects -> PI Web API JSON; the only module that spells PI's field names
for objects (encoder.py spells TimedValues).

Every shaper takes `base` (the absolute URL of /piwebapi, no trailing slash) for Links and the
requested webIdType.
"""
from __future__ import annotations

import orjson

from ..pi import encoder
from picommon import pitime
from ..archive.summaries import SummaryValue
from ..archive.values import Values
from ..backend.entries import AssetServerEntry
from ..backend.entries import AttributeEntry
from ..backend.entries import DatabaseEntry
from ..backend.entries import DataServerEntry
from ..backend.entries import ElementEntry
from ..backend.entries import PointEntry
from ..backend.entries import TemplateEntry
from ..backend.entries import EventFrameEntry
from ..pi.params import Selection
from ..pi.params import select
from ..backend.streams import Stream

OPEN_END = "9999-12-31T23:59:59Z"
ITEMS_MARKER = "\x00items\x00"

_ATTRIBUTE_TYPES = {"Float32": "Single", "Float64": "Double", "Float16": "Single", "Int16": "Int16",
                    "Int32": "Int32", "Digital": "EnumerationValue", "String": "String", "Timestamp": "DateTime"}


def dumps(obj: object) -> bytes:
    return orjson.dumps(obj)


def collection(items: list, links: dict | None = None) -> dict:
    return {"Links": links or {}, "Items": items}


def _stream_links(base: str, kind: str, web_id: str) -> dict:
    root = f"{base}/{kind}/{web_id}"
    return {"InterpolatedData": f"{root}/interpolated", "RecordedData": f"{root}/recorded",
            "PlotData": f"{root}/plot", "SummaryData": f"{root}/summary", "Value": f"{root}/value",
            "EndValue": f"{root}/end"}


# -- data archive ------------------------------------------------------------------------------------

def data_server(entry: DataServerEntry, base: str, web_id_type: str, now: int) -> dict:
    web_id = entry.web_id(web_id_type)
    return {
        "WebId": web_id, "Id": entry.id, "Name": entry.name, "Path": entry.path, "IsConnected": True,
        "ServerVersion": entry.server.version, "ServerTime": pitime.format_time(now),
        "Links": {"Self": f"{base}/dataservers/{web_id}", "Points": f"{base}/dataservers/{web_id}/points",
                  "EnumerationSets": f"{base}/dataservers/{web_id}/enumerationsets"},
    }


def point(entry: PointEntry, base: str, web_id_type: str) -> dict:
    p = entry.point
    web_id = entry.web_id(web_id_type)
    links = {"Self": f"{base}/points/{web_id}",
             "DataServer": f"{base}/dataservers/{entry.server.web_id(web_id_type)}"}
    links.update(_stream_links(base, "streams", web_id))
    return {
        "WebId": web_id, "Id": p.id, "Name": p.name, "Path": entry.path, "Descriptor": p.descriptor,
        "PointClass": p.point_class, "PointType": p.point_type, "DigitalSetName": p.digital_set,
        "EngineeringUnits": p.engineering_units, "Span": float(p.span), "Zero": float(p.zero), "Step": p.step,
        "Future": p.future, "DisplayDigits": p.display_digits, "Links": links,
    }


def enumeration_set(name: str, states: tuple[tuple[int, str], ...], server: DataServerEntry, base: str,
                    web_id_type: str) -> dict:
    from ..pi import webid
    from ..backend.entries import object_guid

    guid = object_guid(server.id, "enumerationset", name)
    web_id = webid.encode("MS", owner="D", guids=(server.id, guid), path=f"{server.name}\\{name}",
                          web_id_type=web_id_type)
    return {"WebId": web_id, "Id": guid, "Name": name, "Description": "", "SerializeDescription": False,
            "Path": f"{server.path}\\{name}",
            "Links": {"DataServer": f"{base}/dataservers/{server.web_id(web_id_type)}"},
            "Values": [{"Name": state, "Value": code} for code, state in states]}


# -- asset framework ---------------------------------------------------------------------------------

def asset_server(entry: AssetServerEntry, base: str, web_id_type: str, now: int) -> dict:
    web_id = entry.web_id(web_id_type)
    return {
        "WebId": web_id, "Id": entry.id, "Name": entry.name, "Description": "", "Path": entry.path,
        "IsConnected": True, "ServerVersion": entry.server.version, "ServerTime": pitime.format_time(now),
        "ExtendedProperties": {},
        "Links": {"Self": f"{base}/assetservers/{web_id}", "Databases": f"{base}/assetservers/{web_id}/assetdatabases"},
    }


def database(entry: DatabaseEntry, base: str, web_id_type: str) -> dict:
    web_id = entry.web_id(web_id_type)
    root = f"{base}/assetdatabases/{web_id}"
    return {
        "WebId": web_id, "Id": entry.id, "Name": entry.name, "Description": entry.database.description,
        "Path": entry.path, "ExtendedProperties": {},
        "Links": {"Self": root, "Elements": f"{root}/elements", "ElementTemplates": f"{root}/elementtemplates",
                  "EventFrames": f"{root}/eventframes",
                  "AssetServer": f"{base}/assetservers/{entry.server.web_id(web_id_type)}"},
    }


def element_template(entry: TemplateEntry, base: str, web_id_type: str) -> dict:
    web_id = entry.web_id(web_id_type)
    t = entry.template
    return {
        "WebId": web_id, "Id": entry.id, "Name": t.name, "Description": t.description, "Path": entry.path,
        "AllowElementToExtend": True, "BaseTemplate": t.base_template or "", "InstanceType": "Element",
        "NamingPattern": "", "CategoryNames": list(t.categories), "ExtendedProperties": {},
        "Links": {"Self": f"{base}/elementtemplates/{web_id}",
                  "Database": f"{base}/assetdatabases/{entry.database.web_id(web_id_type)}"},
    }


def element(entry: ElementEntry, base: str, web_id_type: str, *, with_paths: bool = False) -> dict:
    web_id = entry.web_id(web_id_type)
    root = f"{base}/elements/{web_id}"
    links = {"Self": root, "Attributes": f"{root}/attributes", "Elements": f"{root}/elements",
             "Database": f"{base}/assetdatabases/{entry.database.web_id(web_id_type)}",
             "EventFrames": f"{root}/eventframes"}
    if entry.parent is not None:
        links["Parent"] = f"{base}/elements/{entry.parent.web_id(web_id_type)}"
    template = entry.database.templates.get((entry.element.template or "").lower())
    if template is not None:
        links["Template"] = f"{base}/elementtemplates/{template.web_id(web_id_type)}"
    links.update(_stream_links(base, "streamsets", web_id))
    shaped = {
        "WebId": web_id, "Id": entry.id, "Name": entry.name, "Description": entry.element.description,
        "Path": entry.path, "TemplateName": entry.element.template or "", "HasChildren": bool(entry.children),
        "CategoryNames": list(entry.element.categories), "ExtendedProperties": {}, "Links": links,
    }
    if with_paths:
        shaped["Paths"] = [entry.path]
    return shaped


def attribute(entry: AttributeEntry, base: str, web_id_type: str, *, with_data_reference: bool = False) -> dict:
    a = entry.attribute
    web_id = entry.web_id(web_id_type)
    root = f"{base}/attributes/{web_id}"
    owner = entry.owner
    links = {"Self": root, "Attributes": f"{root}/attributes"}
    if isinstance(owner, EventFrameEntry):
        links["EventFrame"] = f"{base}/eventframes/{owner.web_id(web_id_type)}"
    else:
        links["Element"] = f"{base}/elements/{owner.web_id(web_id_type)}"
    links.update(_stream_links(base, "streams", web_id))
    if entry.point is not None:
        links["Point"] = f"{base}/points/{entry.point.web_id(web_id_type)}"
    point_entry = entry.point
    kind = a.type
    if point_entry is not None and point_entry.point.point_type in _ATTRIBUTE_TYPES:
        point_kind = _ATTRIBUTE_TYPES[point_entry.point.point_type]
        # no type, or the default Double on a digital/string/timestamp point: the point's own type
        if a.type == "" or (a.type == "Double" and point_kind in ("EnumerationValue", "String", "DateTime")):
            kind = point_kind
    shaped = {
        "WebId": web_id, "Id": entry.id, "Name": a.name, "Description": a.description, "Path": entry.path,
        "Type": kind,
        "TypeQualifier": point_entry.point.digital_set if point_entry and point_entry.point.digital_set else "",
        "DefaultUnitsName": a.units, "DefaultUnitsNameAbbreviation": a.units, "DisplayDigits": -5,
        "DataReferencePlugIn": "PI Point" if point_entry is not None else "",
        "ConfigString": point_entry.path if point_entry is not None else "",
        "IsConfigurationItem": point_entry is None, "IsExcluded": a.is_excluded, "IsHidden": a.is_hidden,
        "IsManualDataEntry": False, "HasChildren": False, "CategoryNames": list(a.categories),
        "Step": bool(point_entry.point.step) if point_entry is not None else False, "TraitName": "",
        "Links": links,
    }
    if with_data_reference and point_entry is not None:
        described = point(point_entry, base, web_id_type)
        del described["Links"]
        shaped["DataReference"] = {"Type": "PI Point", "PIPoint": described}
    return shaped


def event_frame(entry: EventFrameEntry, base: str, web_id_type: str) -> dict:
    web_id = entry.web_id(web_id_type)
    root = f"{base}/eventframes/{web_id}"
    links = {"Self": root, "Attributes": f"{root}/attributes", "ReferencedElements": f"{root}/referencedelements",
             "Database": f"{base}/assetdatabases/{entry.database.web_id(web_id_type)}"}
    if entry.elements:
        links["PrimaryReferencedElement"] = f"{base}/elements/{entry.elements[0].web_id(web_id_type)}"
    links.update(_stream_links(base, "streamsets", web_id))
    return {
        "WebId": web_id, "Id": entry.id, "Name": entry.name, "Description": entry.description,
        "Path": entry.path, "TemplateName": entry.template or "", "HasChildren": False,
        "CategoryNames": list(entry.categories), "ExtendedProperties": {},
        "StartTime": pitime.format_time(entry.start),
        "EndTime": OPEN_END if entry.end is None else pitime.format_time(entry.end),
        "Severity": entry.severity, "AcknowledgedBy": "", "AcknowledgedDate": "1970-01-01T00:00:00Z",
        "CanBeAcknowledged": False, "IsAcknowledged": False, "IsAnnotated": False, "IsLocked": False,
        "AreValuesCaptured": entry.end is not None,
        "RefElementWebIds": [e.web_id(web_id_type) for e in entry.elements],
        "Security": {"CanAnnotate": True, "CanDelete": False, "CanExecute": False, "CanRead": True,
                     "CanReadData": True, "CanSubscribe": True, "CanSubscribeOthers": False,
                     "CanWrite": False, "CanWriteData": False, "HasAdmin": False, "Rights": ["Read", "ReadData"]},
        "Links": links,
    }


# -- time series -------------------------------------------------------------------------------------

def stream_identity(stream: Stream, base: str, web_id_type: str) -> dict:
    """WebId/Name/Path/Links of one member of a stream set."""
    source = stream.source
    web_id = source.web_id(web_id_type)
    kind = "points" if isinstance(source, PointEntry) else "attributes"
    return {"WebId": web_id, "Name": source.name, "Path": source.path,
            "Links": {"Source": f"{base}/{kind}/{web_id}"}}


def timed_values(values: Values, stream: Stream, selection: Selection | None) -> str:
    """A TimedValues body: {"Links": {}, "Items": [...], "UnitsAbbreviation": ...}."""
    fields = encoder.item_fields(selection.child("Items") if selection else None)
    envelope = {"Links": {}, "Items": ITEMS_MARKER, "UnitsAbbreviation": stream.units}
    parts = encoder.envelope_parts(envelope, selection, ITEMS_MARKER)
    if parts is None:
        return dumps(select(envelope, selection)).decode()
    pieces = [parts[0], "["]
    pieces += encoder.item_pieces(values, stream.fmt, fields)
    pieces += ["]", parts[1]]
    return "".join(pieces)


def timed_value(values: Values, stream: Stream, selection: Selection | None) -> str:
    return encoder.timed_value(values, stream.fmt, selection)


def stream_set(members: list, base: str, web_id_type: str, selection: Selection | None) -> str:
    """Items[StreamValues]: one entry per stream with its TimedValues.

    `members` holds (Stream, Values) pairs and, in their place, failure dicts ({"WebId",
    "WebException"}) for streams that could not be read.
    """
    inner = selection.child("Items") if selection else None
    fields = encoder.item_fields(inner.child("Items") if inner else None)
    outer = encoder.envelope_parts({"Links": {}, "Items": ITEMS_MARKER}, selection, ITEMS_MARKER)
    if outer is None:
        return dumps(select({"Links": {}, "Items": []}, selection)).decode()
    pieces = [outer[0], "["]
    read = [m for m in members if not isinstance(m, dict)]
    items = iter(encoder.item_pieces_many([(values, stream.fmt) for stream, values in read], fields))
    for n, member in enumerate(members):
        if n:
            pieces.append(",")
        if isinstance(member, dict):
            pieces.append(_failure(member, inner, "Items"))
            continue
        stream, values = member
        member_items = next(items)
        envelope = stream_identity(stream, base, web_id_type)
        envelope["Items"] = ITEMS_MARKER
        envelope["UnitsAbbreviation"] = stream.units
        parts = encoder.envelope_parts(envelope, inner, ITEMS_MARKER)
        if parts is None:
            pieces.append(dumps(select(envelope, inner)).decode())
            continue
        pieces += [parts[0], "["]
        pieces += member_items
        pieces += ["]", parts[1]]
    pieces += ["]", outer[1]]
    return "".join(pieces)


def stream_set_values(members: list, base: str, web_id_type: str, selection: Selection | None) -> str:
    """Items[StreamValue]: one entry per stream with a single Value (value, end)."""
    inner = selection.child("Items") if selection else None
    value_sel = inner.child("Value") if inner else None
    parts = []
    for member in members:
        if isinstance(member, dict):
            parts.append(_failure(member, inner, None))
            continue
        stream, values = member
        envelope = stream_identity(stream, base, web_id_type)
        envelope["Value"] = ITEMS_MARKER  # OSIsoft's StreamValue has no UnitsAbbreviation: the TimedValue does
        raw = encoder.timed_value(values, stream.fmt, value_sel)
        parts.append(encoder.splice(envelope, inner, {ITEMS_MARKER: raw}))
    return encoder.splice({"Links": {}, "Items": ITEMS_MARKER}, selection, {ITEMS_MARKER: "[" + ",".join(parts) + "]"})


def _failure(failure: dict, selection: Selection | None, items: str | None) -> str:
    """A stream set member that could not be read: its WebId, an empty list, its WebException."""
    shaped = {"WebId": failure["WebId"]}
    if items:
        shaped[items] = []
    shaped["WebException"] = failure["WebException"]
    return dumps(select(shaped, selection)).decode()


def summary_items(results: list[SummaryValue], stream: Stream, selection: Selection | None) -> str:
    """The JSON array of SummaryValue objects: [{"Type": ..., "Value": TimedValue}, ...]."""
    value_sel = selection.child("Value") if selection else None
    out = []
    formats = {"Count": encoder.ValueFormat("Float64", ""), "PercentGood": encoder.ValueFormat("Float64", "%")}
    numeric = encoder.ValueFormat("Float64", stream.units)
    for result in results:
        fmt = formats.get(result.type, numeric)
        raw = encoder.timed_value(result.values, fmt, value_sel)
        out.append(encoder.splice({"Type": result.type, "Value": ITEMS_MARKER}, selection, {ITEMS_MARKER: raw}))
    return "[" + ",".join(out) + "]"


def summaries(results: list[SummaryValue], stream: Stream, selection: Selection | None) -> str:
    raw = summary_items(results, stream, selection.child("Items") if selection else None)
    return encoder.splice({"Links": {}, "Items": ITEMS_MARKER}, selection, {ITEMS_MARKER: raw})


def stream_set_summaries(members: list, base: str, web_id_type: str, selection: Selection | None) -> str:
    """Items[StreamSummaries]: one entry per stream with its SummaryValues (failures as in stream_set)."""
    inner = selection.child("Items") if selection else None
    parts = []
    for member in members:
        if isinstance(member, dict):
            parts.append(_failure(member, inner, "Items"))
            continue
        stream, results = member
        envelope = stream_identity(stream, base, web_id_type)
        envelope["Items"] = ITEMS_MARKER
        raw = summary_items(results, stream, inner.child("Items") if inner else None)
        parts.append(encoder.splice(envelope, inner, {ITEMS_MARKER: raw}))
    return encoder.splice({"Links": {}, "Items": ITEMS_MARKER}, selection, {ITEMS_MARKER: "[" + ",".join(parts) + "]"})


def listed(objects: list[dict], selection: Selection | None, links: dict | None = None) -> bytes:
    return dumps(select(collection(objects, links), selection))


def single(obj: dict, selection: Selection | None) -> bytes:
    return dumps(select(obj, selection))
