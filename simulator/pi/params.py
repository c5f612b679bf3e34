"""simulator.pi.params: query arguments -> typed values, the way PI reads them.

PI matches parameter names and enum values case-insensitively. Every bad value becomes an
InvalidParameterError (400) that names the parameter, the value and what was expected.
"""
from __future__ import annotations

import typing as t

from picommon import pitime
from . import webid
from .errors import InvalidParameterError
from .errors import TooManyValuesError

INT32_MAX = 2**31 - 1


class Args:
    """A case-insensitive view of a request's query arguments."""

    def __init__(self, pairs: t.Iterable[tuple[str, str]]) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in pairs:
            self._values.setdefault(name.lower(), []).append(value)

    @classmethod
    def of(cls, multidict) -> Args:
        return cls(multidict.items(multi=True))

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._values

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self._values.get(name.lower())
        return values[0] if values else default

    def getlist(self, name: str) -> list[str]:
        return list(self._values.get(name.lower(), ()))

    def text(self, name: str, default: str | None = None) -> str | None:
        return self.get(name, default)

    def integer(self, name: str, default: int, *, minimum: int | None = None,
                maximum: int = INT32_MAX) -> int:
        raw = self.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw.strip())
        except ValueError:
            raise InvalidParameterError(
                f"The value '{raw}' of parameter '{name}' is not valid: expected a whole number.") from None
        if minimum is not None and value < minimum:
            raise InvalidParameterError(
                f"The value '{raw}' of parameter '{name}' is not valid: it must be at least {minimum}.")
        if value > maximum:
            raise InvalidParameterError(
                f"The value '{raw}' of parameter '{name}' is not valid: it must be at most {maximum}.")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        raw = self.get(name)
        if raw is None or raw == "":
            return default
        lowered = raw.strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise InvalidParameterError(
            f"The value '{raw}' of parameter '{name}' is not valid: expected true or false.")

    def choice(self, name: str, choices: t.Sequence[str], default: str) -> str:
        raw = self.get(name)
        if raw is None or raw == "":
            return default
        return canonical(name, raw, choices)

    def choices(self, name: str, choices: t.Sequence[str], default: t.Sequence[str]) -> tuple[str, ...]:
        """A repeated enum parameter (also accepting comma-separated values)."""
        raw = [part for value in self.getlist(name) for part in value.split(",") if part.strip()]
        if not raw:
            return tuple(default)
        out: list[str] = []
        for value in raw:
            item = canonical(name, value.strip(), choices)
            if item not in out:
                out.append(item)
        return tuple(out)

    def time(self, name: str, default: str | None, *, now: int, tz, relative_to: int | None = None) -> int:
        raw = self.get(name)
        text = default if raw is None else raw
        try:
            return pitime.parse_time(text, now=now, tz=tz, relative_to=relative_to)
        except pitime.TimeParseError as exc:
            message = f"The value '{text}' of parameter '{name}' is not a valid time: {exc}"
            raise InvalidParameterError(message) from None

    def times(self, name: str, *, now: int, tz) -> list[int]:
        """A repeated time parameter (empty values count as absent); 400 when none is given."""
        values = [value for value in self.getlist(name) if value.strip()]
        if not values:
            raise InvalidParameterError(f"The parameter '{name}' is required.")
        out = []
        for text in values:
            try:
                out.append(pitime.parse_time(text, now=now, tz=tz))
            except pitime.TimeParseError as exc:
                raise InvalidParameterError(
                    f"The value '{text}' of parameter '{name}' is not a valid time: {exc}") from None
        return out

    @t.overload
    def interval(self, name: str, default: str) -> pitime.Interval: ...

    @t.overload
    def interval(self, name: str, default: None = None) -> pitime.Interval | None: ...

    def interval(self, name: str, default: str | None = None) -> pitime.Interval | None:
        raw = self.get(name)
        text = default if raw is None or raw == "" else raw
        if text is None:
            return None
        try:
            interval = pitime.parse_interval(text)
        except pitime.TimeParseError as exc:
            raise InvalidParameterError(
                f"The value '{text}' of parameter '{name}' is not a valid interval: {exc}") from None
        return interval

    def timezone(self, default: t.Any) -> t.Any:
        raw = self.get("timeZone")
        if raw is None or raw == "":
            return default
        try:
            return pitime.resolve_timezone(raw)
        except pitime.TimeParseError as exc:
            raise InvalidParameterError(f"The value '{raw}' of parameter 'timeZone' is not valid: {exc}") from None

    def web_id_type(self, default: str = "Full") -> str:
        raw = self.get("webIdType")
        if raw is None or raw == "":
            return default
        try:
            return webid.normalize_type(raw)
        except ValueError:
            raise InvalidParameterError(
                f"The value '{raw}' of parameter 'webIdType' is not valid: expected one of "
                f"{', '.join(webid.WEB_ID_TYPES)}.") from None

    def selected_fields(self) -> Selection | None:
        raw = self.get("selectedFields")
        return Selection.parse(raw) if raw is not None and raw.strip() else None

    def required(self, name: str) -> str:
        value = self.get(name)
        if value is None or value == "":
            raise InvalidParameterError(f"The parameter '{name}' is required.")
        return value


def canonical(name: str, raw: str, choices: t.Sequence[str]) -> str:
    lowered = raw.strip().lower()
    for choice in choices:
        if choice.lower() == lowered:
            return choice
    raise InvalidParameterError(
        f"The value '{raw}' of parameter '{name}' is not valid: expected one of {', '.join(choices)}.")


def check_limit(name: str, requested: int, limit: int) -> None:
    """PI's MaxReturnedItemsPerCall check: 400 when a call would return more than the limit."""
    if requested > limit:
        raise TooManyValuesError(f"Parameter '{name}' is greater than the maximum allowed ({limit}).")


class Selection:
    """A parsed selectedFields value: a tree of lower-cased field names; an empty node keeps all."""

    def __init__(self, tree: dict) -> None:
        self.tree = tree

    @classmethod
    def parse(cls, text: str) -> Selection:
        tree: dict = {}
        for path in text.split(";"):
            parts = [p.strip().lower() for p in path.strip().split(".") if p.strip()]
            node = tree
            for i, part in enumerate(parts):
                if node.get(part) == {}:
                    break  # selected whole already: a deeper path adds nothing
                if i == len(parts) - 1:
                    node[part] = {}  # selected whole, whatever deeper paths said
                else:
                    node = node.setdefault(part, {})
        return cls(tree)

    def child(self, *names: str) -> Selection | None:
        """The selection below a path, None when the path is selected whole (or not at all)."""
        node = self.tree
        for name in names:
            if node == {}:
                return None
            if name.lower() not in node:
                return Selection({"\x00none": {}})
            node = node[name.lower()]
        return None if node == {} else Selection(node)

    def keeps(self, name: str) -> bool:
        return self.tree == {} or name.lower() in self.tree

    def apply(self, obj):
        return _select(obj, self.tree)


def _select(obj, tree: dict):
    if not tree:
        return obj
    if isinstance(obj, list):
        return [_select(item, tree) for item in obj]
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            sub = tree.get(key.lower())
            if sub is not None:
                out[key] = _select(value, sub)
        return out
    return obj


def select(obj, selection: Selection | None):
    """`obj` trimmed to the selected fields (unchanged without a selection)."""
    return obj if selection is None else selection.apply(obj)
