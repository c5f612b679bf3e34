"""simulator.mock.matching.values: WireMock's value matchers (equalTo, matches, equalToJson, ...)."""
from __future__ import annotations

import base64
import binascii
import json
import re
import typing as t
from dataclasses import dataclass

from ...pi.errors import InvalidParameterError
from ...pi.jsonpath import JsonPathError
from ...pi.jsonpath import compile_path
from ...pi.jsonpath import select
from .distance import edit_distance
from .distance import json_diff

if t.TYPE_CHECKING:
    from jsonpath_ng import JSONPath


class ValuePattern:
    """A WireMock StringValuePattern: distance(value) with value None meaning "absent"."""

    spec: dict

    def distance(self, value: str | None) -> float:
        raise NotImplementedError

    def matches(self, value: str | None) -> bool:
        """Whether `value` matches exactly (what serving asks; cheaper than a distance for some)."""
        return self.distance(value) == 0.0


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

    def matches(self, value: str | None) -> bool:
        if self.operator != "equalTo" or value is None:
            return self.distance(value) == 0.0
        return (value.lower() == self.expected.lower()) if self.case_insensitive else value == self.expected


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
    path: JSONPath
    sub: ValuePattern | None

    def distance(self, value: str | None) -> float:
        if value is None:
            return 1.0
        try:
            selected = select(json.loads(value), self.path)
        except ValueError:
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
        return _Text(spec, op, as_string(arg, where_op), bool(spec.get("caseInsensitive", False)))
    if op in ("matches", "doesNotMatch"):
        return _Regex(spec, compile_regex(arg, where_op), negate=op == "doesNotMatch")
    if op == "absent":
        if arg is not True:
            raise InvalidParameterError(f"{where_op}: must be true, got {arg!r}")
        return _Absent(spec)
    if op == "binaryEqualTo":
        try:
            return _Binary(spec, base64.b64decode(as_string(arg, where_op), validate=True))
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
        expression = as_string(arg.get("expression"), f"{where}.expression")
        rest = {k: v for k, v in arg.items() if k != "expression"}
        if rest:
            sub = parse_value_pattern(rest, where)
    else:
        expression = as_string(arg, where)
    return _JsonPath(spec, expression, _compiled(expression), sub)


def json_path(document: object, expression: str) -> list:
    """Values selected by a JSONPath `expression` starting with '$': .name, ['name'], [n], [*], ..,
    [?(@.a op v)], [?(@.a =~ /regex/i)] (see simulator.pi.jsonpath)."""
    return select(document, _compiled(expression))


def _compiled(expression: str) -> JSONPath:
    if not expression.startswith("$"):
        raise InvalidParameterError(f"JSONPath {expression!r} must start with '$'")
    try:
        return compile_path(expression)
    except JsonPathError as exc:
        raise InvalidParameterError(str(exc)) from None


def _as_text(value: object) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def as_string(value: object, where: str) -> str:
    """`value` if it is a string, else InvalidParameterError naming `where`."""
    if not isinstance(value, str):
        raise InvalidParameterError(f"{where}: must be a string, got {value!r}")
    return value


def compile_regex(value: object, where: str) -> re.Pattern:
    """`value` compiled as a regular expression, else InvalidParameterError naming `where`."""
    try:
        return re.compile(as_string(value, where))
    except re.error as exc:
        raise InvalidParameterError(f"{where}: bad regular expression {value!r}: {exc}") from exc
