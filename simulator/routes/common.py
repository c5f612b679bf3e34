"""simulator.routes.common: what every route needs: the Simulator, parsed args, Links base, JSON."""
from __future__ import annotations

from urllib.parse import urlencode

import orjson
from flask import Response
from flask import current_app
from flask import request

from ..serving import shapes
from ..backend.simulator import Simulator
from ..pi.errors import InvalidParameterError
from ..pi.errors import UnknownWebIdError
from ..pi.params import Args
from ..pi.params import check_limit

JSON = "application/json; charset=utf-8"


def sim() -> Simulator:
    return current_app.extensions["pisim"]


def args() -> Args:
    return Args.of(request.args)


def base() -> str:
    """Absolute URL of /piwebapi for Links (as the client addressed us)."""
    return request.url_root.rstrip("/") + "/piwebapi"


def web_id_type(a: Args) -> str:
    """The requested webIdType, or the scenario's default."""
    return a.web_id_type(sim().scenario.web_id_type)


def typed(web_id: str, kind: type | tuple[type, ...], label: str):
    """The object a WebID names, which must be a `kind` (400 naming `label` otherwise)."""
    found = sim().resolve(web_id)
    if not isinstance(found, kind):
        raise InvalidParameterError(f"The WebID '{web_id}' does not name {label}.")
    return found


def by_path(kind: type, label: str):
    """The AF object named by the required `path` parameter, which must be a `kind` (404 otherwise)."""
    path = args().required("path")
    found = sim().catalog.by_path(path)
    if not isinstance(found, kind):
        raise UnknownWebIdError(f"The {label} '{path}' was not found.")
    return found


def one(shaper, entry, *extra) -> Response:
    """One object, shaped and trimmed to selectedFields."""
    a = args()
    return json_response(shapes.single(shaper(entry, base(), web_id_type(a), *extra), a.selected_fields()))


def many(shaper, entries, *extra, links: dict | None = None) -> Response:
    """A collection {"Links", "Items"} of shaped objects, trimmed to selectedFields."""
    a = args()
    kind = web_id_type(a)
    return json_response(shapes.listed([shaper(e, base(), kind, *extra) for e in entries], a.selected_fields(), links))


def json_response(body: bytes | str | dict | list, status: int = 200) -> Response:
    if isinstance(body, (dict, list)):
        body = orjson.dumps(body)
    elif isinstance(body, str):
        body = body.encode("utf-8")
    return Response(body, status=status, content_type=JSON)


def page(items: list, query: Args, limit: int) -> tuple[list, dict]:
    """startIndex/maxCount paging of a list endpoint, with PI's pagination Links."""
    start = query.integer("startIndex", 0, minimum=0)
    count = query.integer("maxCount", 1000, minimum=1)
    check_limit("maxCount", count, limit)
    chosen = items[start:start + count]
    links: dict[str, str] = {}
    if start > 0 or start + count < len(items):
        links["First"] = _with(start=0, count=count)
        if start > 0:
            links["Previous"] = _with(start=max(0, start - count), count=count)
        if start + count < len(items):
            links["Next"] = _with(start=start + count, count=count)
        links["Last"] = _with(start=max(0, (len(items) - 1) // count * count), count=count)
    return chosen, links


def _with(*, start: int, count: int) -> str:
    pairs = [(k, v) for k, v in request.args.items(multi=True) if k.lower() not in ("startindex", "maxcount")]
    pairs += [("startIndex", str(start)), ("maxCount", str(count))]
    return request.base_url + "?" + urlencode(pairs)
