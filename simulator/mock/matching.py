"""simulator.mock.matching: WireMock request patterns whose match is a distance, not a boolean."""
from __future__ import annotations

import base64
import binascii
import json
import operator
import re
from dataclasses import dataclass
from dataclasses import field
from urllib.parse import parse_qsl

from ..errors import InvalidParameterError

#: Weights of the parts of a request pattern in its distance (WireMock's RequestPattern).
URL_WEIGHT = 10.0
METHOD_WEIGHT = 3.0
PART_WEIGHT = 1.0

#: Longest strings compared by edit distance; longer ones fall back to a prefix/suffix measure.
_EDIT_LIMIT = 1_000_000


@dataclass(frozen=True)
class MatchResult:
    """How far a request (or value) is from a pattern: 0.0 is an exact match, 1.0 nothing alike.

    `parts` names the distance of each sub-pattern ("method", "url", "query.maxCount", "body[0]"),
    which is what a near-miss report shows.
    """

    distance: float
    parts: tuple[tuple[str, float], ...] = ()

    @property
    def is_exact(self) -> bool:
        return self.distance == 0.0

    def to_json(self) -> dict:
        return {"distance": round(self.distance, 6),
                "parts": [{"field": name, "distance": round(d, 6)} for name, d in self.parts]}


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


# --------------------------------------------------------------------------- distances


def edit_distance(a: str, b: str) -> float:
    """Levenshtein distance of a and b divided by the longer length: 0.0 equal, 1.0 disjoint."""
    if a == b:
        return 0.0
    longest = max(len(a), len(b))
    if len(a) * len(b) > _EDIT_LIMIT:
        prefix = len(_common_prefix(a, b))
        suffix = len(_common_prefix(a[prefix:][::-1], b[prefix:][::-1]))
        return 1.0 - (prefix + suffix) / longest
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1] / longest


def _common_prefix(a: str, b: str) -> str:
    n = 0
    for ca, cb in zip(a, b):
        if ca != cb:
            break
        n += 1
    return a[:n]


def _size(value: object) -> int:
    if isinstance(value, dict):
        return max(1, sum(_size(v) for v in value.values()))
    if isinstance(value, list):
        return max(1, sum(_size(v) for v in value))
    return 1


_PLACEHOLDERS = {
    "${json-unit.ignore}": lambda v: True,
    "${json-unit.any-string}": lambda v: isinstance(v, str),
    "${json-unit.any-number}": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "${json-unit.any-boolean}": lambda v: isinstance(v, bool),
}


def json_diff(expected: object, actual: object, *, ignore_order: bool = False,
              ignore_extra: bool = False) -> tuple[int, int]:
    """(differing leaves, compared leaves) between two JSON documents, WireMock equalToJson style."""
    if isinstance(expected, str) and expected in _PLACEHOLDERS:
        return (0 if _PLACEHOLDERS[expected](actual) else 1), 1
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            n = _size(expected)
            return n, n
        bad = size = 0
        for key, value in expected.items():
            if key in actual:
                b, s = json_diff(value, actual[key], ignore_order=ignore_order, ignore_extra=ignore_extra)
            else:
                b = s = _size(value)
            bad, size = bad + b, size + s
        if not ignore_extra:
            for key in actual.keys() - expected.keys():
                n = _size(actual[key])
                bad, size = bad + n, size + n
        return bad, max(size, 1)
    if isinstance(expected, list):
        if not isinstance(actual, list):
            n = _size(expected)
            return n, n
        return _list_diff(expected, actual, ignore_order=ignore_order, ignore_extra=ignore_extra)
    same = expected == actual and isinstance(expected, bool) == isinstance(actual, bool)
    return (0 if same else 1), 1


def _list_diff(expected: list, actual: list, *, ignore_order: bool, ignore_extra: bool) -> tuple[int, int]:
    bad = size = 0
    unused = list(range(len(actual)))
    for i, item in enumerate(expected):
        if ignore_order:
            scored = [(json_diff(item, actual[j], ignore_order=True, ignore_extra=ignore_extra), j)
                      for j in unused]
            best = min(scored, key=lambda s: s[0][0] / s[0][1], default=None)
        elif i < len(actual):
            best = (json_diff(item, actual[i], ignore_order=False, ignore_extra=ignore_extra), i)
        else:
            best = None
        if best is None:
            n = _size(item)
            bad, size = bad + n, size + n
            continue
        (b, s), j = best
        unused.remove(j)
        bad, size = bad + b, size + s
    if not ignore_extra:
        for j in unused:
            n = _size(actual[j])
            bad, size = bad + n, size + n
    return bad, max(size, 1)


# --------------------------------------------------------------------------- JSONPath (a subset)

_PATH_TOKEN = re.compile(
    r"""\.\.(?P<deep>[\w$@-]+|\*)        # ..name  ..*
      | \.(?P<name>[\w$@-]+|\*)          # .name   .*
      | \[\s*(?P<quoted>'[^']*'|"[^"]*")\s*\]
      | \[\s*(?P<index>-?\d+)\s*\]
      | \[\s*(?P<star>\*)\s*\]
      | \[\s*\?\((?P<filter>.*?)\)\s*\]
    """, re.VERBOSE)
_COMPARE = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
            ">": operator.gt, ">=": operator.ge}
_FILTER = re.compile(r"^\s*@(?P<path>(?:\.[\w$-]+|\[[^\]]*\])*)\s*"
                     r"(?:(?P<op>==|!=|<=|>=|<|>|=~)\s*(?P<value>.+?))?\s*$")


def json_path(document: object, expression: str) -> list:
    """Values selected by a JSONPath `expression`: $, .name, ['name'], [n], [*], .., [?(@.a op v)]."""
    if not expression.startswith("$"):
        raise InvalidParameterError(f"JSONPath {expression!r} must start with '$'")
    nodes = [document]
    rest = expression[1:]
    while rest:
        token = _PATH_TOKEN.match(rest)
        if token is None:
            raise InvalidParameterError(f"JSONPath {expression!r}: cannot read {rest!r}")
        rest = rest[token.end():]
        nodes = _step(nodes, token, expression)
    return nodes


def _children(node: object) -> list:
    if isinstance(node, dict):
        return list(node.values())
    if isinstance(node, list):
        return list(node)
    return []


def _descendants(node: object) -> list:
    found = [node]
    for child in _children(node):
        found.extend(_descendants(child))
    return found


def _step(nodes: list, token: re.Match, expression: str) -> list:
    kind = token.lastgroup
    value = token.group(kind)
    out: list = []
    if kind == "deep":
        for node in nodes:
            for inner in _descendants(node):
                if value == "*":
                    out.extend(_children(inner))
                else:
                    out.extend(_step([inner], _name_token(value), expression))
        return out
    for node in nodes:
        if kind in ("name", "quoted"):
            key = value[1:-1] if kind == "quoted" else value
            if key == "*" and kind == "name":
                out.extend(_children(node))
            elif isinstance(node, dict) and key in node:
                out.append(node[key])
        elif kind == "index":
            if isinstance(node, list) and -len(node) <= int(value) < len(node):
                out.append(node[int(value)])
        elif kind == "star":
            out.extend(_children(node))
        else:
            out.extend(item for item in _children(node) if _filter(item, value, expression))
    return out


def _name_token(name: str) -> re.Match:
    match = _PATH_TOKEN.match(f".{name}")
    assert match is not None
    return match


def _filter(item: object, condition: str, expression: str) -> bool:
    match = _FILTER.match(condition)
    if match is None:
        raise InvalidParameterError(f"JSONPath {expression!r}: unsupported filter {condition!r}")
    selected = json_path(item, "$" + match["path"])
    if not match["op"]:
        return bool(selected)
    if not selected:
        return False
    left, op, raw = selected[0], match["op"], match["value"].strip()
    if op == "=~":
        regex = re.fullmatch(r"/(.*)/(i?)", raw)
        if regex is None:
            raise InvalidParameterError(f"JSONPath {expression!r}: =~ needs /regex/, got {raw!r}")
        flags = re.IGNORECASE if regex[2] else 0
        return isinstance(left, str) and re.search(regex[1], left, flags) is not None
    try:
        right = json.loads(raw.replace("'", '"') if raw.startswith("'") else raw)
    except ValueError as exc:
        raise InvalidParameterError(f"JSONPath {expression!r}: bad literal {raw!r}") from exc
    try:
        return bool(_COMPARE[op](left, right))
    except TypeError:
        return False


def _as_text(value: object) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# --------------------------------------------------------------------------- value patterns


class ValuePattern:
    """A WireMock StringValuePattern: distance(value) with value None meaning "absent"."""

    spec: dict

    def distance(self, value: str | None) -> float:
        raise NotImplementedError


@dataclass
class _Text(ValuePattern):
    spec: dict
    operator: str
    expected: str
    case_insensitive: bool = False

    def distance(self, value: str | None) -> float:
        if value is None:
            return 1.0
        expected, value = ((self.expected.lower(), value.lower()) if self.case_insensitive
                           else (self.expected, value))
        if self.operator == "equalTo":
            return edit_distance(expected, value)
        if self.operator == "contains":
            return 0.0 if expected in value else 1.0
        return 1.0 if expected in value else 0.0  # doesNotContain


@dataclass
class _Regex(ValuePattern):
    spec: dict
    regex: re.Pattern
    negate: bool = False

    def distance(self, value: str | None) -> float:
        if value is None:
            return 1.0
        found = self.regex.fullmatch(value) is not None
        return 0.0 if found != self.negate else 1.0


@dataclass
class _Absent(ValuePattern):
    spec: dict

    def distance(self, value: str | None) -> float:
        return 0.0 if value is None else 1.0


@dataclass
class _Binary(ValuePattern):
    spec: dict
    expected: bytes

    def distance(self, value: str | None) -> float:
        if value is None:
            return 1.0
        return 0.0 if value.encode("utf-8", "surrogateescape") == self.expected else 1.0


@dataclass
class _EqualToJson(ValuePattern):
    spec: dict
    expected: object
    ignore_order: bool
    ignore_extra: bool

    def distance(self, value: str | None) -> float:
        if value is None:
            return 1.0
        try:
            actual = json.loads(value)
        except ValueError:
            return 1.0
        bad, size = json_diff(self.expected, actual, ignore_order=self.ignore_order,
                              ignore_extra=self.ignore_extra)
        return bad / size


@dataclass
class _JsonPath(ValuePattern):
    spec: dict
    expression: str
    sub: ValuePattern | None

    def distance(self, value: str | None) -> float:
        if value is None:
            return 1.0
        try:
            selected = json_path(json.loads(value), self.expression)
        except (ValueError, InvalidParameterError):
            return 1.0
        selected = [s for s in selected if s is not None and s != []]
        if not selected:
            return 1.0
        if self.sub is None:
            return 0.0
        return min(self.sub.distance(_as_text(s)) for s in selected)


@dataclass
class _Logical(ValuePattern):
    spec: dict
    operator: str  # "and" | "or" | "not"
    parts: tuple[ValuePattern, ...]

    def distance(self, value: str | None) -> float:
        distances = [p.distance(value) for p in self.parts]
        if self.operator == "not":
            return 0.0 if distances[0] > 0 else 1.0
        if self.operator == "or":
            return min(distances)
        exact = all(d == 0 for d in distances)
        return 0.0 if exact else max(sum(distances) / len(distances), 1e-6)


_OPERATORS = ("equalTo", "contains", "doesNotContain", "matches", "doesNotMatch", "absent", "equalToJson",
              "matchesJsonPath", "binaryEqualTo", "and", "or", "not")


def parse_value_pattern(spec: object, where: str) -> ValuePattern:
    """A ValuePattern from WireMock JSON such as {"equalTo": "x", "caseInsensitive": true}."""
    if isinstance(spec, str):  # shorthand: a bare string is equalTo
        spec = {"equalTo": spec}
    if not isinstance(spec, dict):
        raise InvalidParameterError(f"{where}: a matcher must be an object, got {spec!r}")
    operators = [key for key in spec if key in _OPERATORS]
    if len(operators) != 1:
        raise InvalidParameterError(
            f"{where}: a matcher needs exactly one of {', '.join(_OPERATORS)}; got keys {sorted(spec)}")
    op = operators[0]
    arg = spec[op]
    where_op = f"{where}.{op}"
    if op in ("equalTo", "contains", "doesNotContain"):
        return _Text(spec, op, _string(arg, where_op), bool(spec.get("caseInsensitive", False)))
    if op in ("matches", "doesNotMatch"):
        return _Regex(spec, _regex(arg, where_op), negate=op == "doesNotMatch")
    if op == "absent":
        if arg is not True:
            raise InvalidParameterError(f"{where_op}: must be true, got {arg!r}")
        return _Absent(spec)
    if op == "binaryEqualTo":
        try:
            return _Binary(spec, base64.b64decode(_string(arg, where_op), validate=True))
        except binascii.Error as exc:
            raise InvalidParameterError(f"{where_op}: not base64: {arg!r}") from exc
    if op == "equalToJson":
        expected = arg
        if isinstance(arg, str):
            try:
                expected = json.loads(arg)
            except ValueError as exc:
                raise InvalidParameterError(f"{where_op}: not JSON: {arg!r}") from exc
        return _EqualToJson(spec, expected, bool(spec.get("ignoreArrayOrder", False)),
                            bool(spec.get("ignoreExtraElements", False)))
    if op == "matchesJsonPath":
        return _json_path_pattern(spec, arg, where_op)
    if op == "not":
        return _Logical(spec, "not", (parse_value_pattern(arg, where_op),))
    if not isinstance(arg, list) or not arg:
        raise InvalidParameterError(f"{where_op}: must be a non-empty list of matchers, got {arg!r}")
    return _Logical(spec, op, tuple(parse_value_pattern(p, f"{where_op}[{i}]") for i, p in enumerate(arg)))


def _json_path_pattern(spec: dict, arg: object, where: str) -> ValuePattern:
    sub = None
    if isinstance(arg, dict):
        expression = _string(arg.get("expression"), f"{where}.expression")
        rest = {k: v for k, v in arg.items() if k != "expression"}
        if rest:
            sub = parse_value_pattern(rest, where)
    else:
        expression = _string(arg, where)
    json_path({}, expression)  # raises on a malformed expression
    return _JsonPath(spec, expression, sub)


def _string(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise InvalidParameterError(f"{where}: must be a string, got {value!r}")
    return value


def _regex(value: object, where: str) -> re.Pattern:
    try:
        return re.compile(_string(value, where))
    except re.error as exc:
        raise InvalidParameterError(f"{where}: bad regular expression {value!r}: {exc}") from exc


# --------------------------------------------------------------------------- request patterns

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
        text = _string(value, f"{where}.{kind}")
        if kind in ("urlPattern", "urlPathPattern"):
            return cls(kind, text, _regex(text, f"{where}.{kind}"))
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
    url = _string(spec.get("url", "/"), f"{where}.url")
    path, _, query = url.partition("?")
    headers = spec.get("headers", {})
    if not isinstance(headers, dict):
        raise InvalidParameterError(f"{where}.headers: must be an object, got {headers!r}")
    pairs = tuple((name, str(v)) for name, value in headers.items()
                  for v in (value if isinstance(value, list) else [value]))
    body = spec.get("body", "")
    if not isinstance(body, str):
        body = json.dumps(body)
    return RequestView(_string(spec.get("method", "GET"), f"{where}.method").upper(), path, query,
                       pairs, body.encode("utf-8"))

