"""simulator.pi.jsonpath: the values a JSONPath selects in a JSON document (jsonpath-ng, parsed once): PI batch's
Parameters and Resource paths (Json.NET's dialect) and WireMock's matchesJsonPath (Jayway's) both read it."""
from __future__ import annotations

import functools
import re
import typing as t

from jsonpath_ng.ext import parse

if t.TYPE_CHECKING:
    from jsonpath_ng import JSONPath


class JsonPathError(ValueError):
    """A JSONPath expression that cannot be read; the message names it."""


# Jayway JSONPath (WireMock's) and Json.NET (PI Web API's) write a regex filter as `=~ /re/` or
# `=~ /re/i`; jsonpath-ng reads only `=~ 're'` (re.search, no flags). This adapter quotes the literal
# and turns the i flag into an inline (?i); a bad regex is an error here rather than when matching.
_REGEX_LITERAL = re.compile(r"=~\s*/(.*?)/(i?)(?=\s*\))")


def _quoted_regex(match: re.Match) -> str:
    pattern = f"(?{match[2]}){match[1]}" if match[2] else match[1]
    try:
        re.compile(pattern)
    except re.error as exc:
        raise JsonPathError(f"bad regular expression /{match[1]}/: {exc}") from None
    return "=~ '" + pattern.replace("\\", "\\\\").replace("'", "\\'") + "'"


@functools.lru_cache(maxsize=512)
def compile_path(expression: str) -> JSONPath:
    """`expression` parsed by jsonpath-ng's extended parser (filters such as [?(@.Value > 2)]).

    Raises:
        JsonPathError: `expression` does not parse.
    """
    try:
        return parse(_REGEX_LITERAL.sub(_quoted_regex, expression))
    except Exception as exc:  # jsonpath-ng raises bare Exceptions for some input, _quoted_regex ours
        raise JsonPathError(f"JSONPath {expression!r}: {exc}") from None


def select(document: object, expression: str | JSONPath) -> list:
    """Every value `expression` selects in `document`, in document order; [] when it selects none."""
    path = compile_path(expression) if isinstance(expression, str) else expression
    return [match.value for match in path.find(document)]
