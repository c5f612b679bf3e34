"""Routes of PI's Stream controller: /piwebapi/streams/{webId}/... for a point or attribute."""
from __future__ import annotations

from flask import Blueprint

from .. import shapes
from ..queries import AtTimesQuery
from ..queries import InterpolatedQuery
from ..queries import PlotQuery
from ..queries import RecordedQuery
from ..queries import SummaryQuery
from .common import args
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
