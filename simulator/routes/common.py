"""simulator.routes.common: what every route needs: the Simulator, parsed args, Links base, JSON."""
from __future__ import annotations

from urllib.parse import urlencode

import orjson
from flask import Response
from flask import current_app
from flask import request

from ..backend import Simulator
from ..params import Args
from ..params import check_limit

JSON = "application/json; charset=utf-8"


def sim() -> Simulator:
    return current_app.extensions["pisim"]


def args() -> Args:
    return Args.of(request.args)


def base() -> str:
    """Absolute URL of /piwebapi for Links (as the client addressed us)."""
    return request.url_root.rstrip("/") + "/piwebapi"


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
