"""connector.config.fields: marshmallow fields whose messages are ours (lower case, naming the bad value).

YAML reads `1001` as an int and `true` as a bool; `Text` refuses both with a hint to quote them,
`Choice` matches case-insensitively and returns the canonical spelling, `PITime` and `Duration`
check PI times and durations, `Verify` and relative paths are taken from the configuration file's
directory (`BASE_DIR`, set by the loader while it validates).
"""
from __future__ import annotations

import contextvars
import datetime as dt
import re
import typing as t
from pathlib import Path
from urllib.parse import urlsplit

from marshmallow import ValidationError
from marshmallow import fields

from .model import Secret
from .times import TIME_HELP
from .times import parse_duration
from .times import resolve_time

#: The directory relative paths are taken from while a configuration is validated.
BASE_DIR: contextvars.ContextVar[Path] = contextvars.ContextVar("connector_config_base_dir")


def from_base(text: str) -> Path:
    """A path as written in the configuration: relative ones are taken from BASE_DIR (else the cwd)."""
    path = Path(text).expanduser()
    return path if path.is_absolute() else BASE_DIR.get(Path.cwd()) / path


def shown(value: object) -> str:
    """A value as messages show it: its repr, cut to 80 characters."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class _Field(fields.Field):
    """A field whose messages are ours: lower-case, naming the bad value."""

    def fail(self, message: str) -> t.NoReturn:
        raise ValidationError(message)


class Text(_Field):
    """A non-empty string. YAML's 1001, true or 1.5 are refused with a hint to quote them."""

    def __init__(self, *, secret: bool = False, allow_empty: bool = False, **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        self.secret, self.allow_empty = secret, allow_empty

    def _deserialize(self, value: object, attr: str | None, data: object, **kwargs: t.Any) -> object:
        if not isinstance(value, str):
            what = "" if self.secret else f" {shown(value)}"
            self.fail(f"must be a string; YAML read{what} as {type(value).__name__} (quote it)")
        if not value.strip() and not self.allow_empty:
            self.fail("must not be empty")
        return Secret(value) if self.secret else value


class Integer(_Field):
    def __init__(self, *, minimum: int | None = None, maximum: int | None = None, **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        self.minimum, self.maximum = minimum, maximum

    def _deserialize(self, value: object, attr: str | None, data: object, **kwargs: t.Any) -> int:
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
            number = int(value)
        if number is None:
            self.fail(f"must be an integer, got {shown(value)}")
        too_low = self.minimum is not None and number < self.minimum
        if too_low or (self.maximum is not None and number > self.maximum):
            bounds = (f"between {self.minimum} and {self.maximum}" if self.maximum is not None
                      else f">= {self.minimum}")
            self.fail(f"must be {bounds}, got {number}")
        return number


class Number(_Field):
    def __init__(self, *, positive: bool = False, **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        self.positive = positive

    def _deserialize(self, value: object, attr: str | None, data: object, **kwargs: t.Any) -> float:
        number: float | None = None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                number = None
        if number is None or number != number or number in (float("inf"), float("-inf")):
            self.fail(f"must be a number, got {shown(value)}")
        if number < 0 or (self.positive and number == 0):
            self.fail(f"must be {'> 0' if self.positive else '>= 0'}, got {shown(value)}")
        return number


class Flag(_Field):
    def _deserialize(self, value: object, attr: str | None, data: object, **kwargs: t.Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        self.fail(f"must be true or false, got {shown(value)}")


class Choice(_Field):
    """One of a few names, matched case-insensitively, returned in their canonical spelling."""

    def __init__(self, choices: t.Sequence[str], **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        self.choices = tuple(choices)

    def _deserialize(self, value: object, attr: str | None, data: object, **kwargs: t.Any) -> str:
        if isinstance(value, str):
            for choice in self.choices:
                if choice.lower() == value.strip().lower():
                    return choice
        self.fail(f"must be one of: {', '.join(self.choices)} (got {shown(value)})")


class PITime(_Field):
    """A PI time string (checked by resolving it); YAML timestamps are turned back into ISO text."""

    def _deserialize(self, value: object, attr: str | None, data: object, **kwargs: t.Any) -> str:
        if isinstance(value, dt.datetime):
            value = value.isoformat() if value.tzinfo else value.isoformat() + "Z"
        elif isinstance(value, dt.date):
            value = value.isoformat()
        if not isinstance(value, str):
            self.fail(f"must be {TIME_HELP}, got {shown(value)}")
        try:
            resolve_time(value, dt.datetime.now(dt.timezone.utc))
        except ValueError as exc:
            self.fail(str(exc))
        return value.strip()


class Duration(_Field):
    """A duration ("10m"); as_text keeps the text (PI intervals), else a timedelta."""

    def __init__(self, *, as_text: bool = False, positive: bool = False, **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        self.as_text, self.positive = as_text, positive

    def _deserialize(self, value: object, attr: str | None, data: object, **kwargs: t.Any) -> object:
        if not isinstance(value, str):
            self.fail(f"must be a duration with a unit such as 10m, 1h or 1d, got {shown(value)}")
        try:
            delta = parse_duration(value)
        except ValueError as exc:
            self.fail(str(exc))
        if self.positive and delta <= dt.timedelta(0):
            self.fail(f"must be longer than 0, got {value!r}")
        return value.strip() if self.as_text else delta


class Url(_Field):
    def _deserialize(self, value: object, attr: str | None, data: object, **kwargs: t.Any) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(f"must be an http(s) URL, got {shown(value)}")
        try:
            parts = urlsplit(value.strip())
            host = parts.hostname
        except ValueError:
            self.fail("must be an http(s) URL such as https://pi.example.com/piwebapi")
        if "@" in parts.netloc:
            self.fail("must not contain credentials: put them in source.auth (with ${ENV} for secrets)")
        if parts.scheme.lower() not in ("http", "https") or not host:
            self.fail(f"must be an http(s) URL such as https://pi.example.com/piwebapi, got {shown(value)}")
        if parts.query or parts.fragment:
            self.fail(f"must not have a query or fragment, got {shown(value)}")
        return value.strip().rstrip("/")


class Verify(_Field):
    """true, false, or the path of a CA bundle (relative to the config file), which must exist."""

    def _deserialize(self, value: object, attr: str | None, data: object, **kwargs: t.Any) -> bool | str:
        if isinstance(value, bool):
            return value
        if not isinstance(value, str) or not value.strip():
            self.fail(f"must be true, false or a CA bundle path, got {shown(value)}")
        if value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        path = from_base(value.strip())
        if not path.is_file():
            self.fail(f"CA bundle {str(path)!r} does not exist (or is not a file)")
        return str(path)


class StringMap(_Field):
    """A map of strings (scalars are turned into strings: true -> "true"); values stay secret."""

    def _deserialize(self, value: object, attr: str | None, data: object, **kwargs: t.Any) -> dict:
        if not isinstance(value, dict):
            self.fail(f"must be a mapping of strings, got {type(value).__name__}")
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                self.fail(f"keys must be strings, got {shown(key)}")
            if isinstance(item, bool):
                item = "true" if item else "false"
            elif isinstance(item, (int, float)):
                item = str(item)
            if not isinstance(item, str):
                self.fail(f"{key}: must be a string, got {type(item).__name__}")
            out[key] = item
        return out


def names(**kwargs: t.Any) -> fields.List:
    """A list of non-empty strings (point names, database paths)."""
    return fields.List(Text(), **kwargs)
