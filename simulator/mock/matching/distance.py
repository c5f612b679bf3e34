"""simulator.mock.matching.distance: how far apart two strings or JSON documents are (0.0 to 1.0)."""
from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein


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


def edit_distance(a: str, b: str) -> float:
    """Levenshtein distance of a and b divided by the longer length: 0.0 equal, 1.0 disjoint."""
    return 0.0 if a == b else Levenshtein.normalized_distance(a, b)


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
