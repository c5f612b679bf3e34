"""simulator.pi.filters: PI filter expressions over a stream's own values ('.' > 50 AND '.' < 80).

A small subset of PI's performance-equation syntax, evaluated vectorised: comparisons of '.' with
numbers or quoted strings (=, <>, !=, <, <=, >, >=), AND, OR, NOT, parentheses, BadVal('.').
Anything else is a 400 that says what is supported.
"""
from __future__ import annotations

import operator
import re
import typing as t
from dataclasses import dataclass

import numpy as np

from ..archive.values import Values
from .errors import InvalidParameterError

_TOKEN = re.compile(r"\s*(?:(?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|(?P<self>'\.')|(?P<str>\"[^\"]*\")"
                    r"|(?P<op><>|!=|<=|>=|=|<|>)|(?P<paren>[()])|(?P<word>[A-Za-z]+))")
_OPS = {"=": operator.eq, "<>": operator.ne, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
        ">": operator.gt, ">=": operator.ge}
_HELP = "supported: '.' compared with a number (=, <>, <, <=, >, >=), BadVal('.'), AND, OR, NOT, parentheses"


@dataclass(frozen=True)
class Filter:
    text: str
    tokens: tuple[tuple[str, str], ...]

    def evaluate(self, values: Values) -> np.ndarray:
        """A boolean mask: which values pass."""
        parser = _Parser(self.tokens, values, self.text)
        mask = parser.expression()
        if parser.position != len(self.tokens):
            parser.fail()
        return np.asarray(mask, bool) & np.ones(len(values), bool)


def parse(text: str | None) -> Filter | None:
    """A Filter, or None for no filter; 400 for an expression outside the supported subset."""
    if text is None or not text.strip():
        return None
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            if text[position:].strip() == "":
                break
            raise InvalidParameterError(f"The filterExpression '{text}' is not valid at '{text[position:]}': {_HELP}.")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    result = Filter(text, tuple(tokens))
    result.evaluate(Values.empty())  # syntax check
    return result


MAX_DEPTH = 50


class _Parser:
    def __init__(self, tokens, values: Values, text: str) -> None:
        self.tokens, self.values, self.text, self.position = tokens, values, text, 0
        self.depth = 0

    def deeper(self) -> None:
        """One more level of parentheses or NOT; a 400 (not a RecursionError) past MAX_DEPTH."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise InvalidParameterError(f"The filterExpression '{self.text[:60]}...' nests parentheses or NOT "
                                        f"more than {MAX_DEPTH} deep.")

    def fail(self) -> t.NoReturn:
        raise InvalidParameterError(f"The filterExpression '{self.text}' is not valid: {_HELP}.")

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            self.fail()
        self.position += 1
        return token

    def expression(self):
        left = self.conjunction()
        while (t := self.peek()) and t[0] == "word" and t[1].upper() == "OR":
            self.take()
            left = left | self.conjunction()
        return left

    def conjunction(self):
        left = self.negation()
        while (t := self.peek()) and t[0] == "word" and t[1].upper() == "AND":
            self.take()
            left = left & self.negation()
        return left

    def negation(self):
        t = self.peek()
        if t and t[0] == "word" and t[1].upper() == "NOT":
            self.take()
            self.deeper()
            inner = ~self.negation()
            self.depth -= 1
            return inner
        return self.atom()

    def atom(self):
        kind, text = self.take()
        good = self.values.state < 0
        if kind == "paren" and text == "(":
            self.deeper()
            inner = self.expression()
            if self.take() != ("paren", ")"):
                self.fail()
            self.depth -= 1
            return inner
        if kind == "word" and text.lower() == "badval":
            if [self.take(), self.take(), self.take()] != [("paren", "("), ("self", "'.'"), ("paren", ")")]:
                self.fail()
            return ~good
        if kind == "self":
            op_kind, op = self.take()
            value_kind, value = self.take()
            if op_kind != "op" or value_kind != "num":
                self.fail()
            return good & _OPS[op](self.values.value, float(value))
        if kind == "num":
            op_kind, op = self.take()
            if op_kind != "op" or self.take() != ("self", "'.'"):
                self.fail()
            return good & _OPS[op](float(text), self.values.value)
        self.fail()
