"""simulator.console: the read-only web console at /__console (scenario, tags, a plot, journal, faults).

The page is plain HTML and JavaScript served from this package (no CDN: it works offline); it
draws its plot as inline SVG. Its JSON comes from the routes below, which read the backend
directly, and from /__admin (journal, faults). Like /__admin it is the simulator's own: open under
the same rules, never journaled, stubbed or faulted (`simulator.mock.store.exempt`).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
from flask import Blueprint
from flask import Response
from flask import current_app
from flask import request
from flask import send_from_directory

from picommon import pitime
from ..pi.encoder import items
from ..pi.errors import InvalidParameterError
from ..pi.errors import PIError
from ..pi.errors import error_response
from ..backend.streams import open_stream

HERE = Path(__file__).resolve().parent
MAX_TAGS = 500
MAX_RECORDED = 20_000
MAX_INTERPOLATED = 2_000

bp = Blueprint("console", __name__, url_prefix="/__console", static_folder="static")
bp.register_error_handler(PIError, error_response)


def _sim():
    return current_app.extensions["pisim"]


def _json(document: object) -> Response:
    return Response(orjson.dumps(document), mimetype="application/json")


@bp.get("/")
def page():
    return send_from_directory(HERE, "index.html")


@bp.get("/api/summary")
def summary():
    sim = _sim()
    scenario = sim.scenario
    databases = [db for server in scenario.asset_servers for db in server.databases]
    return _json({
        "name": scenario.name, "description": scenario.description, "seed": scenario.seed,
        "now": pitime.format_time(sim.now()), "pinned": scenario.clock.now is not None or sim.settings.now is not None,
        "timezone": scenario.clock.timezone, "auth": list(scenario.auth.methods),
        "limits": {"max_returned_items_per_call": sim.limits.max_returned_items_per_call,
                   "default_max_count": sim.limits.default_max_count},
        "data_servers": [{"name": s.name, "points": len(s.points)} for s in sim.catalog.data_servers],
        "asset_servers": len(scenario.asset_servers), "databases": len(databases),
        "faults": len(scenario.faults),
    })


@bp.get("/api/tags")
def tags():
    sim = _sim()
    query = request.args.get("q") or "*"
    found = []
    for server in sim.catalog.data_servers:
        found.extend(sim.catalog.find_points(server, query))
    rows = [{"name": e.name, "server": e.server.server.name, "web_id": e.web_id(), "type": e.point.point_type,
             "units": e.point.engineering_units, "descriptor": e.point.descriptor,
             "digital_set": e.point.digital_set} for e in found[:MAX_TAGS]]
    return _json({"total": len(found), "tags": rows})


@bp.get("/api/values")
def values():
    """A tag's recorded events in [start, end] and its interpolated values every `interval`."""
    sim = _sim()
    entry = _point(sim, request.args.get("tag", ""))
    now = sim.now()
    try:
        start = pitime.parse_time(request.args.get("start") or "*-1h", now=now, tz=sim.timezone)
        end = pitime.parse_time(request.args.get("end") or "*", now=now, tz=sim.timezone, relative_to=start)
        step = pitime.parse_interval(request.args.get("interval") or "1m").ticks
    except pitime.TimeParseError as exc:
        raise InvalidParameterError(str(exc)) from None
    if end <= start or step <= 0:
        raise InvalidParameterError("the window must end after it starts, and the interval be positive")
    stream = open_stream(entry, sim.catalog, sim.archive, now)
    recorded = stream.archive.recorded(start, end, now, max_count=MAX_RECORDED + 1)
    truncated = len(recorded) > MAX_RECORDED
    recorded = recorded.take(np.arange(min(len(recorded), MAX_RECORDED)))
    count = min(MAX_INTERPOLATED, (end - start) // step + 1)
    grid = start + step * np.arange(count, dtype=np.int64)
    interpolated = stream.archive.interpolated_at(grid, now)
    digital = sim.catalog.digital_set(entry.point.digital_set)
    states = dict(digital.states) if digital is not None else {}
    return _json({
        "tag": entry.name, "type": entry.point.point_type, "units": entry.point.engineering_units,
        "start": pitime.format_time(start), "end": pitime.format_time(end), "truncated": truncated,
        "states": {str(code): name for code, name in states.items()},
        "recorded": [orjson.loads(text) for text in items(recorded, stream.fmt)],
        "interpolated": [orjson.loads(text) for text in items(interpolated, stream.fmt)],
    })


def _point(sim, name: str):
    for server in sim.catalog.data_servers:
        entry = server.by_name.get(name.strip().lower())
        if entry is not None:
            return entry
    raise InvalidParameterError(f"no PI point named {name!r}")
