"""Routes of PI's EventFrame controller and the event-frame searches of databases and elements."""
from __future__ import annotations

from flask import Blueprint

from ..backend import catalog as cat
from ..backend import entries
from ..serving import shapes
from ..pi.errors import InvalidParameterError
from ..backend.eventframes import SEARCH_MODES
from ..backend.entries import EventFrameEntry
from .common import args
from .common import many
from .common import one
from .common import page
from .common import sim
from .common import typed
from .elements import attribute_list
from .elements import element_list

bp = Blueprint("eventframes", __name__, url_prefix="/piwebapi")

SORT_FIELDS = ("Name", "StartTime", "EndTime", "ID", "Description")
_DIRECTIONAL = ("BackwardFromStartTime", "ForwardFromStartTime", "BackwardFromEndTime", "ForwardFromEndTime",
                "BackwardInProgress", "ForwardInProgress")


def event_frame_list(database: entries.DatabaseEntry, element: entries.ElementEntry | None):
    """Event frames of a database (or referencing one element) by search mode and filters."""
    s, a = sim(), args()
    now = s.now()
    tz = a.timezone(s.timezone)
    mode = a.choice("searchMode", SEARCH_MODES, "Overlapped")
    directional = mode in _DIRECTIONAL
    if directional and ("endTime" in a or "sortField" in a or "sortOrder" in a):
        raise InvalidParameterError(f"searchMode '{mode}' does not allow endTime, sortField or sortOrder.")
    start = a.time("startTime", "*-8h", now=now, tz=tz)
    end = None if directional else a.time("endTime", "*", now=now, tz=tz, relative_to=start)
    frames = s.catalog.event_frames(database).search(start, end, mode, now)
    name_filter, template, category = a.get("nameFilter"), a.get("templateName"), a.get("categoryName")
    ref_name, ref_template = a.get("referencedElementNameFilter"), a.get("referencedElementTemplateName")
    a.boolean("searchFullHierarchy", False)
    frames = [f for f in frames
              if cat.name_matches(name_filter, f.name)
              and (not template or (f.template or "").lower() == template.lower())
              and (not category or category.lower() in (c.lower() for c in f.categories))
              and (not ref_name or any(cat.name_matches(ref_name, e.name) for e in f.elements))
              and (not ref_template or any((e.element.template or "").lower() == ref_template.lower()
                                           for e in f.elements))
              and (element is None or element in f.elements)]
    if directional:
        backward = mode.startswith("Backward")
        key = (lambda f: f.start) if "Start" in mode or "InProgress" in mode else (lambda f: f.end or 0)
        frames.sort(key=key, reverse=backward)
    else:
        field = a.choice("sortField", SORT_FIELDS, "Name")
        descending = a.choice("sortOrder", ("Ascending", "Descending"), "Ascending") == "Descending"
        keys = {"Name": lambda f: f.name.lower(), "StartTime": lambda f: f.start,
                "EndTime": lambda f: f.end if f.end is not None else 2**63, "ID": lambda f: f.id,
                "Description": lambda f: f.description}
        frames.sort(key=keys[field], reverse=descending)
    chosen, links = page(frames, a, s.limits.max_returned_items_per_call)
    return many(shapes.event_frame, chosen, links=links)


def _frame(web_id: str) -> EventFrameEntry:
    return typed(web_id, EventFrameEntry, "an event frame")


@bp.get("/eventframes/<webId>")
def get_event_frame(webId: str):
    return one(shapes.event_frame, _frame(webId))


@bp.get("/eventframes/<webId>/attributes")
def get_event_frame_attributes(webId: str):
    return attribute_list(_frame(webId).attributes)


@bp.get("/eventframes/<webId>/referencedelements")
def get_referenced_elements(webId: str):
    frame = _frame(webId)
    return element_list(frame.elements, frame.elements)


@bp.get("/elements/<webId>/eventframes")
def get_element_event_frames(webId: str):
    found = sim().resolve(webId)
    if not isinstance(found, entries.ElementEntry):
        raise InvalidParameterError(f"The WebID '{webId}' does not name an element.")
    return event_frame_list(found.database, found)
