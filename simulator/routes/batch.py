"""Route of PI's Batch controller: POST /piwebapi/batch.

The body is a dictionary of keyed sub-requests ({Method, Resource, Parameters, ParentIds,
RequestTemplate, Content, Headers}). Sub-requests run in dependency order against this same app
(host and port in their URLs are ignored, as PI does), each through the full request pipeline
(faults, auth, routes) with environ["pisim.batch"] set. Once the body parses the answer is 207 with
{key: {Status, Headers, Content}}; children of a failed parent get 409; a sub-request without a
resource, or whose JSONPath selects nothing, gets 400; a RequestTemplate fans out into Content.Items.
A body of the wrong shape, an unknown parent or a cycle is a 400 for the whole batch.
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
from werkzeug.test import EnvironBuilder
from werkzeug.test import run_wsgi_app

from ..pi.errors import InvalidParameterError
from ..pi.jsonpath import JsonPathError
from ..pi.jsonpath import select
from .common import json_response

bp = Blueprint("batch", __name__, url_prefix="/piwebapi")

FIELDS = {"method", "resource", "parameters", "parentids", "requesttemplate", "content", "headers"}
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
            if spec["problem"]:
                raise _SubRequestError(400, spec["problem"])
            results[key] = _execute(spec, results)
        except _SubRequestError as exc:
            results[key] = _error(exc.status, exc.message)
    return json_response(orjson.dumps({key: results[key] for key in requests}), 207)


def _error(status: int, message: str) -> dict:
    return {"Status": status, "Headers": {"Content-Type": "application/json; charset=utf-8"},
            "Content": {"Errors": [message]}}


def _parse_body(raw: bytes) -> dict[str, dict]:
    """The keyed sub-requests. A body of the wrong shape (not JSON, a field of the wrong JSON type,
    an unknown parent) is a 400 for the whole batch; a sub-request that is well typed but cannot
    run (no Resource, a Method that is no HTTP token) keeps a `problem` and answers 400 on its own.
    Null fields are absent and unknown fields are ignored, as Json.NET reads PI's batch body."""
    try:
        body = orjson.loads(raw or b"null")
    except orjson.JSONDecodeError as exc:
        raise InvalidParameterError(f"The batch request body is not valid JSON: {exc}.") from None
    if not isinstance(body, dict):
        raise InvalidParameterError("The batch request body must be a JSON object of keyed requests.")
    parsed: dict[str, dict] = {}
    for key, spec in body.items():
        if not isinstance(spec, dict):
            raise InvalidParameterError(f"Batch request '{key}' must be an object.")
        lowered = {str(k).lower(): v for k, v in spec.items() if str(k).lower() in FIELDS}
        method = _typed(key, lowered, "method", str) or "GET"
        resource = _typed(key, lowered, "resource", str)
        template = _typed(key, lowered, "requesttemplate", dict)
        parameters = _typed(key, lowered, "parameters", list) or []
        parents = _typed(key, lowered, "parentids", list) or []
        headers = _typed(key, lowered, "headers", dict) or {}
        content = _typed(key, lowered, "content", str)
        if not all(isinstance(p, str) for p in parameters) or not all(isinstance(p, str) for p in parents):
            raise InvalidParameterError(f"Batch request '{key}': Parameters and ParentIds must be lists of strings.")
        if not all(isinstance(v, str) for v in headers.values()):
            raise InvalidParameterError(f"Batch request '{key}': Headers must map names to strings.")
        if template is not None:
            template = {str(k).lower(): v for k, v in template.items()}.get("resource")
            if template is not None and not isinstance(template, str):
                raise InvalidParameterError(f"Batch request '{key}': RequestTemplate.Resource must be a string.")
        for parent in parents:
            if parent not in body:
                raise InvalidParameterError(f"Batch request '{key}' names an unknown parent '{parent}'.")
        problem = None
        if not re.fullmatch(r"[A-Za-z]+", method):
            problem = f"Batch request '{key}' has an unsupported Method '{method}'."
        elif template is None and not resource:
            problem = f"Batch request '{key}' needs a Resource or a RequestTemplate with a Resource."
        parsed[key] = {"method": method.upper(), "resource": resource, "template": template,
                       "parameters": parameters, "parentids": parents, "headers": headers, "content": content,
                       "problem": problem}
    return parsed


def _typed(key: str, fields: dict, name: str, kind: type):
    """A field of a sub-request: None when absent or null; 400 for the whole batch when mistyped."""
    value = fields.get(name)
    if value is not None and not isinstance(value, kind):
        label = {"method": "Method", "resource": "Resource", "requesttemplate": "RequestTemplate",
                 "parameters": "Parameters", "parentids": "ParentIds", "headers": "Headers",
                 "content": "Content"}[name]
        article = {"str": "a string (Content is JSON text)" if name == "content" else "a string",
                   "dict": "an object", "list": "a list of strings"}[kind.__name__]
        raise InvalidParameterError(f"Batch request '{key}': {label} must be {article}.")
    return value


def _order(requests: dict[str, dict]) -> list[str]:
    graph = {key: spec["parentids"] for key, spec in requests.items()}
    try:
        return list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        raise InvalidParameterError(f"The batch request has a circular dependency: {cycle}.") from None


def _select(path: str, results: dict[str, dict]) -> list:
    try:
        values = select(results, path)
    except JsonPathError:
        raise _SubRequestError(400, f"The JSON path '{path}' is not valid.") from None
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
    builder = EnvironBuilder(path=path, query_string=parts.query, method=spec["method"], headers=list(headers.items()),
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
