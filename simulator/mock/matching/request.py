"""simulator.mock.matching.request: WireMock's RequestPattern and the RequestView it measures."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from dataclasses import field
from urllib.parse import parse_qsl

from ...pi.errors import InvalidParameterError
from .distance import MatchResult
from .distance import edit_distance
from .values import ValuePattern
from .values import as_string
from .values import compile_regex
from .values import parse_value_pattern

#: Weights of the parts of a request pattern in its distance (WireMock's RequestPattern).
URL_WEIGHT = 10.0
METHOD_WEIGHT = 3.0
PART_WEIGHT = 1.0


@dataclass(frozen=True)
class RequestView:
    """An HTTP request as the matchers see it, independent of Flask.

    query and headers are (name, value) pairs in arrival order; `path` is decoded, `query_string`
    raw (without "?").
    """

    method: str
    path: str
    query_string: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    query: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if not self.query and self.query_string:
            object.__setattr__(self, "query", tuple(parse_qsl(self.query_string, keep_blank_values=True)))

    @property
    def url(self) -> str:
        return f"{self.path}?{self.query_string}" if self.query_string else self.path

    def query_values(self, name: str) -> list[str]:
        """Values of query parameter `name`; PI parameter names are case-insensitive."""
        key = name.lower()
        return [value for n, value in self.query if n.lower() == key]

    def header_values(self, name: str) -> list[str]:
        key = name.lower()
        return [value for n, value in self.headers if n.lower() == key]

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


URL_KINDS = ("url", "urlPath", "urlPattern", "urlPathPattern", "urlPathTemplate")
_TEMPLATE_VAR = re.compile(r"^\{([A-Za-z_][\w-]*)\}$")


@dataclass
class UrlPattern:
    """One of WireMock's five URL match types."""

    kind: str
    value: str
    regex: re.Pattern | None = None

    @classmethod
    def parse(cls, kind: str, value: object, where: str) -> UrlPattern:
        text = as_string(value, f"{where}.{kind}")
        if kind in ("urlPattern", "urlPathPattern"):
            return cls(kind, text, compile_regex(text, f"{where}.{kind}"))
        if kind == "urlPathTemplate" and not text.startswith("/"):
            raise InvalidParameterError(f"{where}.urlPathTemplate: must start with '/', got {text!r}")
        return cls(kind, text)

    def distance(self, view: RequestView) -> float:
        target = view.url if self.kind in ("url", "urlPattern") else view.path
        if self.regex is not None:
            return 0.0 if self.regex.fullmatch(target) else 1.0
        if self.kind == "urlPathTemplate":
            return 0.0 if self.variables(view.path) is not None else max(
                edit_distance(self.value, target), 1e-6)
        return edit_distance(self.value, target)

    def matches(self, view: RequestView) -> bool:
        if self.regex is None and self.kind != "urlPathTemplate":
            return self.value == (view.url if self.kind == "url" else view.path)
        return self.distance(view) == 0.0

    def variables(self, path: str) -> dict[str, str] | None:
        """For urlPathTemplate: the path variables of `path`, or None if it does not fit."""
        template, actual = self.value.strip("/").split("/"), path.strip("/").split("/")
        if len(template) != len(actual):
            return None
        found = {}
        for part, segment in zip(template, actual):
            var = _TEMPLATE_VAR.match(part)
            if var:
                if not segment:
                    return None
                found[var[1]] = segment
            elif part != segment:
                return None
        return found


@dataclass
class RequestPattern:
    """WireMock's RequestPattern: method, URL, query, headers, path parameters and body patterns."""

    spec: dict
    method: str = "ANY"
    url: UrlPattern | None = None
    query: tuple[tuple[str, ValuePattern], ...] = ()
    headers: tuple[tuple[str, ValuePattern], ...] = ()
    path_parameters: tuple[tuple[str, ValuePattern], ...] = ()
    body: tuple[ValuePattern, ...] = ()

    @classmethod
    def parse(cls, spec: object, where: str = "request") -> RequestPattern:
        if not isinstance(spec, dict):
            raise InvalidParameterError(f"{where}: must be an object, got {spec!r}")
        known = {"method", *URL_KINDS, "queryParameters", "headers", "pathParameters", "bodyPatterns"}
        unknown = sorted(set(spec) - known)
        if unknown:
            raise InvalidParameterError(
                f"{where}: unknown key(s) {unknown}; expected some of {sorted(known)}")
        method = spec.get("method", "ANY")
        if not isinstance(method, str) or not re.fullmatch(r"[A-Za-z*]+", method):
            raise InvalidParameterError(f"{where}.method: must be an HTTP method or ANY, got {method!r}")
        kinds = [k for k in URL_KINDS if k in spec]
        if len(kinds) > 1:
            raise InvalidParameterError(f"{where}: give one of {', '.join(URL_KINDS)}, got {kinds}")
        url = UrlPattern.parse(kinds[0], spec[kinds[0]], where) if kinds else None
        path_params = _named(spec, "pathParameters", where)
        if path_params and (url is None or url.kind != "urlPathTemplate"):
            raise InvalidParameterError(f"{where}.pathParameters: needs urlPathTemplate")
        bodies = spec.get("bodyPatterns", [])
        if not isinstance(bodies, list):
            raise InvalidParameterError(f"{where}.bodyPatterns: must be a list, got {bodies!r}")
        return cls(spec=spec, method=method.upper(), url=url, query=_named(spec, "queryParameters", where),
                   headers=_named(spec, "headers", where), path_parameters=path_params,
                   body=tuple(parse_value_pattern(b, f"{where}.bodyPatterns[{i}]")
                              for i, b in enumerate(bodies)))

    def matches(self, view: RequestView) -> bool:
        """Whether `view` matches exactly: what serving asks of every stub, so it stops at the first
        part that differs and measures no distances (match() does, for near-miss reports)."""
        if self.method not in ("ANY", "*") and self.method != view.method.upper():
            return False
        if self.url is not None and not self.url.matches(view):
            return False
        for name, pattern in self.query:
            if not _any(pattern, view.query_values(name)):
                return False
        for name, pattern in self.headers:
            if not _any(pattern, view.header_values(name)):
                return False
        if self.path_parameters:
            found = (self.url.variables(view.path) if self.url else None) or {}
            if not all(pattern.matches(found.get(name)) for name, pattern in self.path_parameters):
                return False
        return not self.body or all(pattern.matches(view.text()) for pattern in self.body)

    def match(self, view: RequestView) -> MatchResult:
        parts: list[tuple[str, float, float]] = []
        method_ok = self.method in ("ANY", "*") or self.method == view.method.upper()
        parts.append(("method", 0.0 if method_ok else 1.0, METHOD_WEIGHT))
        if self.url is not None:
            parts.append((self.url.kind, self.url.distance(view), URL_WEIGHT))
        for name, pattern in self.query:
            parts.append((f"queryParameters.{name}", _best(pattern, view.query_values(name)), PART_WEIGHT))
        for name, pattern in self.headers:
            parts.append((f"headers.{name}", _best(pattern, view.header_values(name)), PART_WEIGHT))
        if self.path_parameters:
            found = self.url.variables(view.path) if self.url else None
            for name, pattern in self.path_parameters:
                value = None if found is None else found.get(name)
                parts.append((f"pathParameters.{name}", pattern.distance(value), PART_WEIGHT))
        if self.body:
            text = view.text()
            for i, pattern in enumerate(self.body):
                parts.append((f"bodyPatterns[{i}]", pattern.distance(text), PART_WEIGHT))
        total = sum(weight for _, _, weight in parts)
        distance = sum(d * weight for _, d, weight in parts) / total
        if distance == 0.0 and any(d > 0 for _, d, _ in parts):
            distance = 1e-6
        return MatchResult(distance, tuple((name, d) for name, d, _ in parts))


def _any(pattern: ValuePattern, values: list[str]) -> bool:
    return pattern.matches(None) if not values else any(pattern.matches(v) for v in values)


def _best(pattern: ValuePattern, values: list[str]) -> float:
    if not values:
        return pattern.distance(None)
    return min(pattern.distance(v) for v in values)


def _named(spec: dict, key: str, where: str) -> tuple[tuple[str, ValuePattern], ...]:
    given = spec.get(key, {})
    if not isinstance(given, dict):
        raise InvalidParameterError(f"{where}.{key}: must be an object of name: matcher, got {given!r}")
    return tuple((name, parse_value_pattern(p, f"{where}.{key}.{name}")) for name, p in given.items())


def view_from_json(spec: object, where: str = "request") -> RequestView:
    """A RequestView from a WireMock LoggedRequest-like object {method, url, headers, body}."""
    if not isinstance(spec, dict):
        raise InvalidParameterError(f"{where}: must be an object, got {spec!r}")
    url = as_string(spec.get("url", "/"), f"{where}.url")
    path, _, query = url.partition("?")
    headers = spec.get("headers", {})
    if not isinstance(headers, dict):
        raise InvalidParameterError(f"{where}.headers: must be an object, got {headers!r}")
    pairs = tuple((name, str(v)) for name, value in headers.items()
                  for v in (value if isinstance(value, list) else [value]))
    body = spec.get("body", "")
    if not isinstance(body, str):
        body = json.dumps(body)
    return RequestView(as_string(spec.get("method", "GET"), f"{where}.method").upper(), path, query,
                       pairs, body.encode("utf-8"))
