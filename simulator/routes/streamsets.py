"""Routes of PI's StreamSet controller: many streams in one call.

Ad hoc sets name their streams with repeated `webId` parameters; /streamsets/{webId}/... reads the
attributes of an element, event frame or attribute. A stream that cannot be read (unknown or
malformed WebID), or whose scenario declares stream errors that strike now (simulator.backend.badvalues), gets a
per-item WebException in its place instead of failing the whole call.
sortField=Name orders the streams by name.
"""
from __future__ import annotations

from flask import Blueprint
from flask import Response

from ..backend import catalog as cat
from ..backend import entries
from ..serving import shapes
from ..backend import updates
from ..backend import write_paths
from ..pi.errors import InvalidParameterError
from ..pi.errors import PIError
from ..backend.queries import InterpolatedQuery
from ..backend.queries import PlotQuery
from ..backend.queries import RecordedQuery
from ..backend.queries import SummaryQuery
from ..backend.streams import open_stream
from .common import args
from .common import base
from .common import json_response
from .common import sim
from .streams import end_of
from .streams import value_of

bp = Blueprint("streamsets", __name__, url_prefix="/piwebapi/streamsets")


SORT_ORDERS = ("Ascending", "Descending")


def _ad_hoc(a) -> list:
    """The streams named by repeated `webId` parameters, in order; a failure dict for each one that
    cannot be read."""
    web_ids = a.getlist("webId")
    if not web_ids:
        raise InvalidParameterError("The parameter 'webId' is required (repeat it once per stream).")
    s = sim()
    members: list = []
    for web_id in web_ids:
        try:
            members.append(s.stream(web_id))
        except PIError as exc:
            members.append({"WebId": web_id, "WebException": {"StatusCode": exc.status, "Errors": exc.messages}})
    return members


def _of_object(web_id: str, a) -> list:
    """The attribute streams of an element or event frame (an attribute: its child attributes)."""
    s = sim()
    owner = s.resolve(web_id)
    if isinstance(owner, entries.ElementEntry):
        attributes = list(owner.attributes)
        if a.boolean("searchFullHierarchy", False):
            for child in owner.descendants():
                attributes.extend(child.attributes)
    elif isinstance(owner, entries.AttributeEntry):
        attributes = []
    elif hasattr(owner, "attributes"):
        attributes = list(owner.attributes)
    else:
        raise InvalidParameterError(f"The WebID '{web_id}' does not name an element, event frame or attribute.")
    name_filter, category = a.get("nameFilter"), a.get("categoryName")
    template = a.get("templateName")
    show_excluded, show_hidden = a.boolean("showExcluded", False), a.boolean("showHidden", False)
    chosen = [x for x in attributes
              if cat.name_matches(name_filter, x.name)
              and (not category or category.lower() in (c.lower() for c in x.attribute.categories))
              and (not template or (x.attribute.template or "").lower() == template.lower())
              and (show_excluded or not x.attribute.is_excluded)
              and (show_hidden or not x.attribute.is_hidden)]
    now = s.now()
    return [open_stream(x, s.catalog, s.archive, now) for x in chosen]


def _sorted(members: list, a) -> list:
    """sortField=Name (the only field) orders the streams by name; without it the order is kept.
    Streams that could not be read have no name and stay last."""
    descending = a.choice("sortOrder", SORT_ORDERS, "Ascending") == "Descending"
    if a.get("sortField") is None:
        return members
    a.choice("sortField", ("Name",), "Name")
    streams = sorted((m for m in members if not isinstance(m, dict)), key=lambda m: m.source.name.lower(),
                     reverse=descending)
    return streams + [m for m in members if isinstance(m, dict)]


def _failing(members: list, now: int, web_id_type: str) -> list:
    """Streams whose scenario declares stream errors that strike at `now`: a failure in their place."""
    out = []
    for m in members:
        rule = None if isinstance(m, dict) else m.fmt.bad
        if rule is not None and rule.stream_fails(now):
            m = {"WebId": m.source.web_id(web_id_type), "WebException": rule.stream_exception()}
        out.append(m)
    return out


def _respond(members: list, run, shape, run_many=None):
    s, a = sim(), args()
    now = s.now()
    web_id_type = a.web_id_type(s.scenario.web_id_type)
    members = _failing(_sorted(members, a), now, web_id_type)
    if run_many is not None:
        streams = [m for m in members if not isinstance(m, dict)]
        results = iter(run_many(streams, now))
        rows = [m if isinstance(m, dict) else (m, next(results)) for m in members]
    else:
        rows = [m if isinstance(m, dict) else (m, run(m, now)) for m in members]
    return json_response(shape(rows, base(), web_id_type, a.selected_fields()))


def _read(kind: str, members: list):
    s, a = sim(), args()
    n = len(members)
    if kind == "recorded":
        recorded = RecordedQuery.from_args(a, s, n)
        return _respond(members, recorded.run, shapes.stream_set, recorded.run_many)
    if kind == "interpolated":
        interpolated = InterpolatedQuery.from_args(a, s, n)
        return _respond(members, interpolated.run, shapes.stream_set)
    if kind == "plot":
        plot = PlotQuery.from_args(a, s, n)
        return _respond(members, plot.run, shapes.stream_set)
    if kind == "summary":
        summary = SummaryQuery.from_args(a, s, n)
        return _respond(members, summary.run, shapes.stream_set_summaries)
    if kind == "value":
        return _respond(members, lambda st, now: value_of(st, a, s), shapes.stream_set_values)
    return _respond(members, lambda st, now: end_of(st, s), shapes.stream_set_values)


KINDS = ("recorded", "interpolated", "plot", "summary", "value", "end")


def _register(kind: str) -> None:
    def ad_hoc():
        return _read(kind, _ad_hoc(args()))

    def of_object(webId: str):
        return _read(kind, _of_object(webId, args()))

    ad_hoc.__name__ = f"get_{kind}_ad_hoc"
    of_object.__name__ = f"get_{kind}"
    bp.add_url_rule(f"/{kind}", view_func=ad_hoc, methods=["GET"])
    bp.add_url_rule(f"/<webId>/{kind}", view_func=of_object, methods=["GET"])


for _kind in KINDS:
    _register(_kind)


@bp.post("/recorded")
def post_recorded_ad_hoc():
    """Write values to several streams (a list of {WebId, Items}): 202/204 without a body when every
    value applied, else 207 with Items[Items[Substatus]], one list per stream in order."""
    s, options = sim(), write_paths.Options.from_args(args())
    streams = write_paths.check_streams(write_paths.body())
    store, now = write_paths.store(), s.now()
    results = [write_paths.write_stream(store, s, member, options, now) for member in streams]
    if all(r["Substatus"] == options.success_status for one in results for r in one):
        return Response(status=options.success_status)
    return json_response({"Items": [{"Items": one} for one in results]}, 207)


@bp.post("/updates")
def post_updates_ad_hoc():
    """Register each `webId` for updates: Items[StreamUpdatesRegister], a Failed item for a bad stream."""
    return _each("webId", "Source", updates.register)


@bp.get("/updates")
def get_updates_ad_hoc():
    """The events since each `marker`: Items[StreamUpdatesRetrieve], a Failed item for a bad marker."""
    return _each("marker", "RequestedMarker", updates.retrieve)


def _each(parameter: str, field: str, call):
    """`call` for each value of a repeated parameter, in order; a Failed item (with the value as
    `field`) in the place of one that raises."""
    s, a = sim(), args()
    values = a.getlist(parameter)
    if not values:
        raise InvalidParameterError(f"The parameter '{parameter}' is required (repeat it once per stream).")
    kind, store, items = a.web_id_type(s.scenario.web_id_type), write_paths.store(), []
    for value in values:
        try:
            items.append(call(s, store, value, kind))
        except PIError as exc:
            items.append(updates.failed(exc, **{field: value}))
    return json_response(shapes.listed(items, a.selected_fields()))
