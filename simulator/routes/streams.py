"""Routes of PI's Stream controller: /piwebapi/streams/{webId}/... for a point or attribute."""
from __future__ import annotations

from flask import Blueprint
from flask import Response

from ..serving import shapes
from ..backend import updates
from ..backend import write_paths
from ..archive.writes import WriteRefused
from ..pi.errors import PIError
from ..backend.queries import AtTimesQuery
from ..backend.queries import InterpolatedQuery
from ..backend.queries import PlotQuery
from ..backend.queries import RecordedQuery
from ..backend.queries import SummaryQuery
from .common import args
from .common import base
from .common import json_response
from .common import sim

bp = Blueprint("streams", __name__, url_prefix="/piwebapi/streams")


def _answer(web_id: str, query_class, read, shape, **options):
    """Parse the query, read the stream, shape the answer: what every stream route does."""
    s, a = sim(), args()
    stream = s.stream(web_id)
    query = query_class.from_args(a, s, **options)
    return json_response(shape(read(query, stream, s.now()), stream, a.selected_fields()))


@bp.get("/<webId>/recorded")
def get_recorded(webId: str):
    """Recorded events between startTime and endTime; silently truncated at maxCount, as PI does."""
    return _answer(webId, RecordedQuery, RecordedQuery.run, shapes.timed_values)


@bp.get("/<webId>/interpolated")
def get_interpolated(webId: str):
    return _answer(webId, InterpolatedQuery, InterpolatedQuery.run, shapes.timed_values)


@bp.get("/<webId>/interpolatedattimes")
def get_interpolated_at_times(webId: str):
    return _answer(webId, AtTimesQuery, AtTimesQuery.interpolated, shapes.timed_values)


@bp.get("/<webId>/recordedattime")
def get_recorded_at_time(webId: str):
    return _answer(webId, AtTimesQuery, AtTimesQuery.recorded, shapes.timed_value, single=True)


@bp.get("/<webId>/plot")
def get_plot(webId: str):
    return _answer(webId, PlotQuery, PlotQuery.run, shapes.timed_values)


@bp.get("/<webId>/summary")
def get_summary(webId: str):
    return _answer(webId, SummaryQuery, SummaryQuery.run, shapes.summaries)


@bp.get("/<webId>/value")
def get_value(webId: str):
    """The value at `time` (interpolated), or the snapshot without it."""
    s, a = sim(), args()
    stream = s.stream(webId)
    return json_response(shapes.timed_value(_value(stream, a, s), stream, a.selected_fields()))


@bp.get("/<webId>/end")
def get_end(webId: str):
    s, a = sim(), args()
    stream = s.stream(webId)
    return json_response(shapes.timed_value(_end(stream, s), stream, a.selected_fields()))


def _value(stream, a, s):
    """The value at `time`; without it (or with it empty) the stream's current value."""
    now = s.now()
    if not a.get("time"):
        return current(stream, s)
    t = a.time("time", None, now=now, tz=a.timezone(s.timezone))
    if stream.archive is None:
        return stream.static_values([stream.static_time])
    return stream.archive.value_at(t, now)


def current(stream, s):
    """The value a read without a time gives: the snapshot, or for the attribute of a closed event
    frame its value at the frame's end."""
    if stream.archive is not None and stream.context_time is not None:
        return stream.archive.value_at(stream.context_time, s.now())
    return _end(stream, s)


def _end(stream, s):
    if stream.archive is None:
        return stream.static_values([stream.static_time])
    return stream.archive.end(s.now())


value_of = _value
end_of = _end


# -- PI's write paths (simulator/backend/write_paths.py) ------------------------------------------------------

@bp.post("/<webId>/value")
def post_value(webId: str):
    """Write one value (updateOption, bufferOption): 202 buffered, 204 with DoNotBuffer; no body."""
    s, options = sim(), write_paths.Options.from_args(args())
    stream = s.stream(webId)
    write_paths.writable(stream)
    try:
        write_paths.write_one(write_paths.store(), s, stream, write_paths.body(), options, s.now())
    except WriteRefused as exc:
        raise PIError(str(exc), status=exc.status) from None
    return Response(status=options.success_status)


@bp.post("/<webId>/recorded")
def post_recorded(webId: str):
    """Write a list of values: 202/204 without a body when every one applied, else 207 with
    Items[Substatus], one per value in order."""
    s, options = sim(), write_paths.Options.from_args(args())
    stream = s.stream(webId)
    write_paths.writable(stream)
    values = write_paths.check_values(write_paths.body())
    results = write_paths.write_many(write_paths.store(), s, stream, values, options, s.now())
    if all(r["Substatus"] == options.success_status for r in results):
        return Response(status=options.success_status)
    return json_response({"Items": results}, 207)


# -- Stream Updates (simulator/backend/updates.py) -------------------------------------------------------------

@bp.post("/<webId>/updates")
def post_updates(webId: str):
    """Register for updates: StreamUpdatesRegister with the first marker; Location is its retrieve URL."""
    s, a = sim(), args()
    return _with_next(updates.register(s, write_paths.store(), webId, a.web_id_type(s.scenario.web_id_type)), a)


@bp.get("/updates/<marker>")
def get_updates(marker: str):
    """The events since `marker` and the next marker (409 invalid marker, 404 expired)."""
    s, a = sim(), args()
    return _with_next(updates.retrieve(s, write_paths.store(), marker, a.web_id_type(s.scenario.web_id_type)), a)


def _with_next(body: dict, a):
    """The body, trimmed to selectedFields, with Location: the URL that retrieves from its marker."""
    response = json_response(shapes.single(body, a.selected_fields()))
    response.headers["Location"] = f"{base()}/streams/updates/{body['LatestMarker']}"
    return response
