"""Route of PI's Batch controller: POST /piwebapi/batch.

The body is a dictionary of keyed sub-requests ({Method, Resource, Parameters, ParentIds,
RequestTemplate, Content, Headers}). Sub-requests run in dependency order against this same app
(host and port in their URLs are ignored, as PI does), each through the full request pipeline
(faults, auth, routes) with environ["pisim.batch"] set. The answer is always 207 with
{key: {Status, Headers, Content}}; children of a failed parent get 409; a JSONPath that selects
nothing gives that sub-request 400; a RequestTemplate fans out into Content.Items.
"""
from __future__ import annotations

import re
from graphlib import CycleError
from graphlib import TopologicalSorter
from urllib.parse import urlsplit

import orjson
from flask import Blueprint
from flask import current_app
from flask import request
from jsonpath_ng import parse as jsonpath
from jsonpath_ng.exceptions import JsonPathParserError
from werkzeug.test import EnvironBuilder
from werkzeug.test import run_wsgi_app

from ..errors import InvalidParameterError
from .common import json_response

bp = Blueprint("batch", __name__, url_prefix="/piwebapi")

FIELDS = {"method", "resource", "parameters", "parentids", "requesttemplate", "content", "headers"}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
FORWARDED_HEADERS = ("Authorization", "X-Requested-With", "Cookie")
_PLACEHOLDER = re.compile(r"\{(\d+)\}")


class _SubRequestError(Exception):
    """A sub-request that cannot be formed: answered with `status` and `message`, not executed."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@bp.post("/batch")
def post_batch():
    requests = _parse_body(request.get_data())
    order = _order(requests)
    results: dict[str, dict] = {}
    for key in order:
        spec = requests[key]
        failed_parents = [p for p in spec["parentids"] if results[p]["Status"] >= 400]
        if failed_parents:
            results[key] = _error(409, f"The request was not executed because its parent request(s) "
                                       f"{', '.join(failed_parents)} failed.")
            continue
        try:
            results[key] = _execute(spec, results)
        except _SubRequestError as exc:
            results[key] = _error(exc.status, exc.message)
    return json_response(orjson.dumps({key: results[key] for key in requests}), 207)


def _error(status: int, message: str) -> dict:
    return {"Status": status, "Headers": {"Content-Type": "application/json; charset=utf-8"},
            "Content": {"Errors": [message]}}


def _parse_body(raw: bytes) -> dict[str, dict]:
    try:
        body = orjson.loads(raw or b"null")
    except orjson.JSONDecodeError as exc:
        raise InvalidParameterError(f"The batch request body is not valid JSON: {exc}.") from None
    if not isinstance(body, dict) or not body:
        raise InvalidParameterError("The batch request body must be a non-empty JSON object of keyed requests.")
    parsed: dict[str, dict] = {}
    for key, spec in body.items():
        if not isinstance(spec, dict):
            raise InvalidParameterError(f"Batch request '{key}' must be an object.")
        lowered = {str(k).lower(): v for k, v in spec.items()}
        unknown = set(lowered) - FIELDS
        if unknown:
            raise InvalidParameterError(f"Batch request '{key}' has unknown fields: {', '.join(sorted(unknown))}.")
        method = str(lowered.get("method") or "GET").upper()
        if method not in METHODS:
            raise InvalidParameterError(f"Batch request '{key}' has an unsupported Method '{method}'.")
        template = lowered.get("requesttemplate")
        resource = lowered.get("resource")
        if template is not None:
            if not isinstance(template, dict) or not isinstance(
                    {str(k).lower(): v for k, v in template.items()}.get("resource"), str):
                raise InvalidParameterError(f"Batch request '{key}' has a RequestTemplate without a Resource.")
            template = {str(k).lower(): v for k, v in template.items()}["resource"]
        elif not isinstance(resource, str) or not resource:
            raise InvalidParameterError(f"Batch request '{key}' needs a Resource or a RequestTemplate.")
        parameters = lowered.get("parameters") or []
        parents = lowered.get("parentids") or []
        headers = lowered.get("headers") or {}
        content = lowered.get("content")
        if (not isinstance(parameters, list) or not all(isinstance(p, str) for p in parameters)
                or not isinstance(parents, list) or not all(isinstance(p, str) for p in parents)):
            raise InvalidParameterError(f"Batch request '{key}': Parameters and ParentIds must be lists of strings.")
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise InvalidParameterError(f"Batch request '{key}': Headers must map names to strings.")
        if content is not None and not isinstance(content, str):
            raise InvalidParameterError(f"Batch request '{key}': Content must be a string (JSON text).")
        for parent in parents:
            if parent not in body:
                raise InvalidParameterError(f"Batch request '{key}' names an unknown parent '{parent}'.")
        parsed[key] = {"method": method, "resource": resource, "template": template, "parameters": parameters,
                       "parentids": parents, "headers": headers, "content": content}
    return parsed


def _order(requests: dict[str, dict]) -> list[str]:
    graph = {key: spec["parentids"] for key, spec in requests.items()}
    try:
        return list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise InvalidParameterError(f"The batch request has a circular dependency: {' -> '.join(exc.args[1])}.") from None


def _select(path: str, results: dict[str, dict]) -> list:
    try:
        expression = jsonpath(path)
    except (JsonPathParserError, Exception):  # jsonpath-ng raises bare Exceptions for some input
        raise _SubRequestError(400, f"The JSON path '{path}' is not valid.") from None
    values = [match.value for match in expression.find(results)]
    if not values:
        raise _SubRequestError(400, f"Some JSON paths did not select any tokens: '{path}'.")
    return values


def _fill(resource: str, parameters: list[list]) -> str:
    """Placeholders {0}, {1}... replaced; a parameter with several values repeats its query name."""
    def replace(match: re.Match) -> str:
        index = int(match.group(1))
        if index >= len(parameters):
            raise _SubRequestError(400, f"The Resource '{resource}' uses {{{index}}} but only "
                                        f"{len(parameters)} Parameters are given.")
        values = [str(v) for v in parameters[index]]
        before = resource[:match.start()]
        name = re.search(r"[?&]([^=&?]+)=$", before)
        if name and len(values) > 1:
            return ("&" + name.group(1) + "=").join(values)
        return ",".join(values)

    return _PLACEHOLDER.sub(replace, resource)


def _execute(spec: dict, results: dict[str, dict]) -> dict:
    parameters = [_select(p, results) for p in spec["parameters"]]
    if spec["template"] is None:
        resource = spec["resource"]
        if resource.startswith("$"):
            selected = _select(resource, results)
            resource = str(selected[0])
        return _call(spec, _fill(resource, parameters))
    counts = {len(p) for p in parameters if len(p) != 1}
    if len(counts) > 1:
        raise _SubRequestError(400, "The Parameters of a RequestTemplate select different numbers of tokens.")
    fan_out = counts.pop() if counts else 1
    items = []
    for i in range(fan_out):
        chosen = [[p[0] if len(p) == 1 else p[i]] for p in parameters]
        items.append(_call(spec, _fill(spec["template"], chosen)))
    return {"Status": 207, "Headers": {}, "Content": {"Items": items}}


def _call(spec: dict, resource: str) -> dict:
    """Run one sub-request through the whole app and capture Status, Headers and Content."""
    parts = urlsplit(resource)
    path = parts.path
    if not parts.scheme and not path.startswith("/"):
        path = "/piwebapi/" + path
    headers = {name: request.headers[name] for name in FORWARDED_HEADERS if name in request.headers}
    headers.update(spec["headers"])
    builder = EnvironBuilder(path=path, query_string=parts.query, method=spec["method"], headers=headers,
                             data=(spec["content"] or "").encode("utf-8") if spec["content"] is not None else None,
                             content_type="application/json" if spec["content"] is not None else None)
    environ = builder.get_environ()
    environ["pisim.batch"] = True
    environ["REMOTE_ADDR"] = request.remote_addr or "127.0.0.1"
    try:
        app_iter, status, response_headers = run_wsgi_app(current_app.wsgi_app, environ, buffered=True)
        try:
            body = b"".join(app_iter)
        finally:
            if hasattr(app_iter, "close"):
                app_iter.close()
    except OSError:  # a socket-level fault stub hit inside a sub-request
        return _error(502, "The request was cancelled.")
    content_type = response_headers.get("Content-Type", "")
    content: object = body.decode("utf-8", "replace")
    if "json" in content_type and body:
        try:
            content = orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
    kept = {k: v for k, v in response_headers.items() if k.lower() not in ("content-length", "date", "server")}
    return {"Status": int(status.split()[0]), "Headers": kept, "Content": content}
