"""simulator.pi.filters: the subset of PI filter expressions the simulator evaluates, and the 400s."""
from __future__ import annotations

import numpy as np
import pytest

from simulator.pi import filters
from simulator.archive.values import Values
from simulator.pi.errors import InvalidParameterError

# five values; the fourth is a system state (bad)
VALUES = Values(np.arange(5, dtype=np.int64), np.array([1.0, 5.0, 50.0, 0.0, 99.5]),
                np.array([-1, -1, -1, 246, -1], np.int32), np.zeros(5, np.uint8))


def mask(text: str) -> list[bool]:
    return filters.parse(text).evaluate(VALUES).tolist()


@pytest.mark.parametrize(("text", "expected"), [
    ("'.' > 5", [False, False, True, False, True]),
    ("'.' >= 5", [False, True, True, False, True]),
    ("5 < '.'", [False, False, True, False, True]),
    ("'.' = 50", [False, False, True, False, False]),
    ("'.' <> 50", [True, True, False, False, True]),
    ("'.' != 50", [True, True, False, False, True]),
    ("'.' < 0", [False, False, False, False, False]),  # a bad value is not less than anything
    ("'.' > -1.5e1", [True, True, True, False, True]),
    ("'.' > 1 and '.' < 99", [False, True, True, False, False]),
    ("'.' < 2 OR '.' > 90", [True, False, False, False, True]),
    ("NOT '.' = 5", [True, False, True, True, True]),
    ("not ('.' > 1 AND '.' < 60)", [True, False, False, True, True]),
    ("BadVal('.')", [False, False, False, True, False]),
    ("NOT BadVal('.') AND '.' < 10", [True, True, False, False, False]),
    ("('.' < 2) OR ('.' = 50) OR ('.' > 99)", [True, False, True, False, True]),
])
def test_expressions(text, expected):
    assert mask(text) == expected


def test_no_filter():
    assert filters.parse(None) is None
    assert filters.parse("   ") is None


@pytest.mark.parametrize("text", [
    "'.' >", "> 5", "'.' > 'abc'", "'.' = \"on\"", "('.' > 1", "'.' > 1)", "foo", "'.' > 1 garbage",
    "Tag('x') > 1", "'.' ~ 1", "()", "BadVal(.)", "'.' > 1 AND", "NOT",
])
def test_unsupported_expressions_are_400_saying_what_is_supported(text):
    with pytest.raises(InvalidParameterError) as caught:
        filters.parse(text)
    assert "filterExpression" in str(caught.value) and "supported" in str(caught.value)


def test_deep_nesting_is_a_400_not_a_crash():
    deep = "(" * 2000 + "'.' > 1" + ")" * 2000
    with pytest.raises(InvalidParameterError, match="nests"):
        filters.parse(deep)
    with pytest.raises(InvalidParameterError, match="nests"):
        filters.parse("NOT " * 2000 + "'.' > 1")
    assert filters.parse("(" * 40 + "'.' > 1" + ")" * 40).evaluate(VALUES).tolist() == mask("'.' > 1")


def test_empty_values():
    assert filters.parse("'.' > 1").evaluate(Values.empty()).tolist() == []
