"""simulator.scenario.fields: strict marshmallow fields that say what they expected, and the Base schema."""
from __future__ import annotations

import functools
import math
import re
import typing as t
import uuid

from marshmallow import RAISE
from marshmallow import Schema
from marshmallow import ValidationError
from marshmallow import fields

from picommon import pitime
from ..pi import states
from .context import CTX

#: Default ids of servers and databases are uuid5 of their (upper-case) name or path in this namespace.
NAMESPACE = uuid.UUID("6f0c2a4e-2b1d-5c7e-9a43-5049534d2026")
_BAD_NAME_CHARS = set("*?;{}[]|\\'\"`")
_SCALARS = (str, int, float, bool, type(None))


def listing(options: t.Iterable[object]) -> str:
    """Options as a comma-separated list for a message."""
    return ", ".join(str(o) for o in options)


@functools.cache
def _faker() -> t.Any:
    from faker import Faker  # slow to import; only string signals and event-frame recipes need it

    return Faker()


def faker_has(provider: str) -> bool:
    """Whether `provider` names a Faker provider (name, company, uuid4, ...)."""
    return (not provider.startswith("_") and provider not in ("seed", "seed_instance", "add_provider")
            and callable(getattr(_faker(), provider, None)))


#: The messages of every field for a missing or null value.
REQUIRED = {"required": "required field is missing", "null": "must not be null"}


class Str(fields.Field):
    default_error_messages = {**REQUIRED, "invalid": "expected a string, not {input!r}",
                              "empty": "must not be empty"}

    def __init__(self, *, non_empty: bool = False, **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        self.non_empty = non_empty

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise self.make_error("invalid", input=value)
        if self.non_empty and not value.strip():
            raise self.make_error("empty")
        return value


class Name(Str):
    """A PI or AF object name: not empty, no surrounding spaces, none of * ? ; { } [ ] | \\ ' " `."""

    def __init__(self, **kwargs: t.Any) -> None:
        super().__init__(non_empty=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        problem = name_problem(value)
        if problem:
            raise ValidationError(problem)
        return value


_BAD_NAME_RE = re.compile(r"[*?;{}\[\]|\\'\"`\x00-\x1f]")


def name_problem(value: str) -> str | None:
    """Why `value` is not a valid PI/AF name, or None."""
    if _BAD_NAME_RE.search(value) is None and value.strip() and value[0] != " " and value[-1] != " ":
        return None
    if not value.strip():
        return "must not be empty"
    bad = sorted(set(value) & _BAD_NAME_CHARS) + sorted({c for c in value if ord(c) < 32})
    if bad:
        return f"{value!r} is not a valid name: it must not contain {' '.join(repr(c) for c in bad)}"
    return f"{value!r} must not start or end with spaces"


class Num(fields.Field):
    default_error_messages = {**REQUIRED, "invalid": "expected a number, not {input!r}",
                              "range": "must be {bound}, not {input!r}"}

    def __init__(self, *, low: float | None = None, high: float | None = None, low_open: bool = False,
                 **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        self.low, self.high, self.low_open = low, high, low_open

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            raise self.make_error("invalid", input=value)
        value = self.convert(value)
        too_low = self.low is not None and (value <= self.low if self.low_open else value < self.low)
        if too_low or (self.high is not None and value > self.high):
            raise self.make_error("range", input=value, bound=self.bound())
        return value

    def convert(self, value):
        return float(value)

    def bound(self) -> str:
        low = f"> {self.low:g}" if self.low_open else f">= {self.low:g}"
        if self.low is not None and self.high is not None:
            if self.low_open:
                return f"{low} and <= {self.high:g}"
            return f"between {self.low:g} and {self.high:g}"
        return low if self.low is not None else f"<= {self.high:g}"


class Int(Num):
    default_error_messages = {**Num.default_error_messages,
                              "invalid": "expected a whole number, not {input!r}"}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return super()._deserialize(value, attr, data, **kwargs)

    def convert(self, value):
        return int(value)


def Share(**kwargs: t.Any) -> Num:  # noqa: N802 - a field factory reads like a field class
    """A fraction between 0 and 1."""
    return Num(low=0.0, high=1.0, **kwargs)


class Bool(fields.Field):
    default_error_messages = {**REQUIRED, "invalid": "expected true or false, not {input!r}"}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class Choice(fields.Field):
    """One of `options`, matched ignoring case, returned as spelled in `options`."""

    default_error_messages = {**REQUIRED, "invalid": "must be one of: {options} (not {input!r})"}

    def __init__(self, options: t.Sequence[object], **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        self.options = tuple(options)
        self.by_key = {str(o).lower(): o for o in self.options}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, _SCALARS) and not isinstance(value, bool) and str(value).lower() in self.by_key:
            found = self.by_key[str(value).lower()]
            if isinstance(found, str) or value == found:
                return found
        raise self.make_error("invalid", input=value, options=listing(self.options))


class Duration(fields.Field):
    """A PI interval such as "5s", "10m", "1h", "2d", "0.5s" -> ticks (> 0, or >= 0 with allow_zero)."""

    default_error_messages = {**REQUIRED,
                              "invalid": "expected a duration such as '5s', '1h' or '2d', not {input!r}"}

    def __init__(self, *, allow_zero: bool = False, **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        self.allow_zero = allow_zero

    def _deserialize(self, value, attr, data, **kwargs):
        return duration(value, allow_zero=self.allow_zero, error=self.make_error("invalid", input=value))


def duration(value: object, *, allow_zero: bool = False, error: ValidationError | None = None) -> int:
    """Ticks of a fixed-length duration (picommon.pitime.parse_duration), as a marshmallow error."""
    if not isinstance(value, str):
        raise error or ValidationError(f"expected a duration such as '5s', '1h' or '2d', not {value!r}")
    try:
        return pitime.parse_duration(value, allow_zero=allow_zero)
    except pitime.TimeParseError as exc:
        raise ValidationError(str(exc)) from None


class Time(fields.Field):
    """An ISO 8601 time ("2026-11-25T00:00:00Z") or PI time ("*-2d") -> ticks, relative to the clock."""

    default_error_messages = {**REQUIRED, "invalid": "expected a time such as '2026-11-25T00:00:00Z', "
                                                      "not {input!r}"}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise self.make_error("invalid", input=value)
        ctx = CTX.get()
        try:
            return pitime.parse_time(value, now=ctx.now, tz=ctx.tz)
        except pitime.TimeParseError as exc:
            raise ValidationError(str(exc)) from None


class State(fields.Field):
    """A SYSTEM digital state by name ("I/O Timeout", any case) or code (246) -> code."""

    default_error_messages = dict(REQUIRED)

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return states.lookup(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class Guid(fields.Field):
    default_error_messages = {**REQUIRED, "invalid": "expected a GUID such as "
                                                      "'96f9a00e-4d80-471f-aba9-ea89a1db402c', not {input!r}"}

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return str(uuid.UUID(str(value)))
        except ValueError:
            raise self.make_error("invalid", input=value) from None


class ListOf(fields.List):
    default_error_messages = {**REQUIRED, "invalid": "expected a list"}

    def __init__(self, inner: fields.Field | type[fields.Field], *, non_empty: bool = False, **kwargs: t.Any):
        super().__init__(inner, **kwargs)
        self.non_empty = non_empty

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list):
            raise self.make_error("invalid")
        if self.non_empty and not value:
            raise ValidationError("must not be empty")
        return super()._deserialize(value, attr, data, **kwargs)


def Nest(schema: t.Any, **kwargs: t.Any) -> fields.Nested:  # noqa: N802
    return fields.Nested(schema, **kwargs)


class MappingOf(fields.Field):
    """A mapping of names to values checked by `inner`; errors are keyed by the name."""

    default_error_messages = {**REQUIRED, "invalid": "expected a mapping of name: value"}

    def __init__(self, inner: fields.Field, **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        self.inner = inner

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            raise self.make_error("invalid")
        out, errors = {}, {}
        for key, item in value.items():
            if not isinstance(key, str) or name_problem(key):
                errors[key] = [name_problem(key) if isinstance(key, str) else f"{key!r} is not a valid name"]
                continue
            try:
                out[key] = self.inner.deserialize(item, key, value)
            except ValidationError as exc:
                errors[key] = exc.messages
        if errors:
            raise ValidationError(errors)
        return out


class Cached(fields.Nested):
    """A Nested field whose result is reused for the same source mapping (for_each copies share it)."""

    def _deserialize(self, value, attr, data, partial=None, **kwargs):
        cache = CTX.get().recipes
        key = ("nested", self.nested, id(value))
        hit = cache.get(key)
        if hit is not None and hit[0] is value:
            if isinstance(hit[1], ValidationError):
                raise hit[1]
            return hit[1]
        try:
            result = super()._deserialize(value, attr, data, partial=partial, **kwargs)
        except ValidationError as exc:
            cache[key] = (value, exc)
            raise
        cache[key] = (value, result)
        return result


class StaticValue(fields.Field):
    default_error_messages = {**REQUIRED, "invalid": "expected a number, string or true/false"}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, (dict, list)):
            raise self.make_error("invalid")
        return value


class DurationRange(fields.Field):
    """`duration: 4h` or `duration: [4h, 10h]` -> (min ticks, max ticks)."""

    default_error_messages = {**REQUIRED,
                              "invalid": "expected a duration ('4h') or [min, max] ('[4h, 10h]')"}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            ticks = duration(value)
            return ticks, ticks
        if isinstance(value, list) and len(value) == 2:
            low, high = duration(value[0]), duration(value[1])
            if high < low:
                raise ValidationError(f"the longest duration {value[1]!r} is shorter than the shortest "
                                      f"{value[0]!r}")
            return low, high
        raise self.make_error("invalid")


class Base(Schema):
    """A schema whose unknown keys are errors naming the accepted ones; fields left out stay out."""

    class Meta:
        unknown = RAISE

    extra_names: tuple[str, ...] = ()

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        names = listing(sorted([*self.fields, *self.extra_names]))
        self.error_messages = {**self.error_messages, "unknown": f"unknown field; expected one of: {names}",
                               "type": "expected a mapping (key: value)"}
