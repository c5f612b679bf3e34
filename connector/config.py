"""Connector configuration: YAML with line numbers -> ${ENV} -> marshmallow -> frozen dataclasses.

The shape (every section but source and destination is optional; defaults shown)::

    source:
      url: http://127.0.0.1:8000/piwebapi       # required, http(s), no credentials in it
      auth: {type: anonymous}                   # basic: username, password; bearer: token;
                                                # kerberos; ntlm: username ("DOMAIN\\user"), password
      verify: true                              # false, true, or a CA bundle path (must exist)
      timeout: 60                               # read timeout, seconds, > 0
      connect_timeout: 10                       # seconds, > 0 (default: min(10, timeout))
      data_server: null                         # name; default: the first data server
      web_id_type: IDOnly                       # or Full; IDOnly keys survive tag renames
      max_items_per_call: 150000                # the server's MaxReturnedItemsPerCall
      max_url_bytes: 4000                       # longest request URL (gunicorn's request line: 4094)
      concurrency: 4                            # parallel requests, 1..64
      retry: {attempts: 6, backoff: 0.5, max_backoff: 30, max_retry_after: 120}
    destination:
      uri: ./lakehouse                          # a path (relative to this file) or a deltalake URI
      storage_options: {}                       # string map, passed to deltalake (never printed)
    tags:                                       # selectors, their union; needed while recorded,
      - name_filter: "SYD.*"                    # interpolated or summaries is enabled
      - names: [A, B]
      - af: {database: "\\\\PIAF01\\DB", element_template: Pump, element_path: null, attributes: null}
    recorded: {enabled: true, start: "*-1d", end: "*", lookback: 10m, method: streamsets, max_count: null,
               flush_rows: 500000, workers: null, mode: lookback}
    interpolated: {enabled: false, interval: 1h, start: "*-1d", end: "*"}
    summaries: {enabled: false, duration: 1h, types: [Average, Minimum, Maximum],
                calculation_basis: TimeWeighted, start: "*-1d", end: "*"}
    af: {enabled: true, databases: []}          # [] = every database of every asset server
    event_frames: {enabled: true, start: "*-30d", lookback: 1d, databases: [], search_mode: Overlapped}

Strings may use ``${NAME}`` and ``${NAME:-default}`` (``$$`` is a literal ``$``). Times are PI time
strings sent to PI as written (``*``, ``*-1d``, ``t``, ``y``, ``today``, ``yesterday``, ``now``, with
``+``/``-`` offsets, or ISO 8601; a time without an offset is UTC); resolve_time() gives the runner
the same instant in UTC. Durations are a number and a unit (s, m, h, d, w). Every error reads
``file:line: field: problem``; secrets (passwords, tokens, storage options) never appear in repr(),
str() or error messages.
"""
from __future__ import annotations

import contextvars
import datetime as dt
import difflib
import os
import re
import typing as t
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from marshmallow import Schema
from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import post_load
from marshmallow import validates_schema
from picommon import pitime

from .errors import ConfigError

AUTH_TYPES = ("anonymous", "basic", "bearer", "kerberos", "ntlm")
WEB_ID_TYPES = ("Full", "IDOnly")
RECORDED_METHODS = ("streamsets", "batch")
RECORDED_MODES = ("lookback", "follow")  # follow: Stream Updates markers (connector/jobs/follow.py)
SUMMARY_TYPES = ("Total", "Average", "Minimum", "Maximum", "Range", "StdDev", "PopulationStdDev", "Count",
                 "PercentGood", "TotalWithUOM", "All", "AllForNonNumeric")
CALCULATION_BASES = ("TimeWeighted", "EventWeighted", "TimeWeightedContinuous", "TimeWeightedDiscrete",
                     "EventWeightedExcludeMostRecentEvent", "EventWeightedExcludeEarliestEvent",
                     "EventWeightedIncludeBothEnds")
SEARCH_MODES = ("Overlapped", "Inclusive", "BackwardFromStartTime", "ForwardFromStartTime",
                "BackwardFromEndTime", "ForwardFromEndTime", "BackwardInProgress", "ForwardInProgress")
#: Paths (after the section) whose values are never echoed in messages.
SECRET_FIELDS = ("source.auth.password", "source.auth.token", "destination.storage_options")

_BASE_DIR: contextvars.ContextVar[Path] = contextvars.ContextVar("connector_config_base_dir")


# --------------------------------------------------------------------------- secrets


@dataclass(frozen=True)
class Secret:
    """A string that never shows itself: repr() and str() print ***; reveal() gives the value."""

    value: str = field(repr=False)

    def reveal(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class AuthConfig:
    """source.auth: how to authenticate."""

    type: str = "anonymous"
    username: str | None = None
    password: Secret | None = None
    token: Secret | None = None


@dataclass(frozen=True)
class RetryConfig:
    """source.retry: attempts in all, first backoff and its cap (seconds), cap on Retry-After."""

    attempts: int = 6
    backoff: float = 0.5
    max_backoff: float = 30.0
    max_retry_after: float = 120.0


@dataclass(frozen=True)
class SourceConfig:
    """source: the PI Web API server and how to talk to it."""

    url: str
    auth: AuthConfig = AuthConfig()
    verify: bool | str = True
    timeout: float = 60.0
    connect_timeout: float = 10.0
    data_server: str | None = None
    web_id_type: str = "IDOnly"
    max_items_per_call: int = 150_000
    max_url_bytes: int = 4000
    concurrency: int = 4
    retry: RetryConfig = RetryConfig()


@dataclass(frozen=True)
class DestinationConfig:
    """destination: where the Delta tables go."""

    uri: str
    storage_options: dict[str, str] = field(default_factory=dict, repr=False, hash=False)


@dataclass(frozen=True)
class NameFilter:
    """tags[i].name_filter: points whose names match a PI wildcard (* and ?)."""

    name_filter: str


@dataclass(frozen=True)
class NameList:
    """tags[i].names: points named explicitly."""

    names: tuple[str, ...]


@dataclass(frozen=True)
class AFSelector:
    """tags[i].af: the PI points behind AF attributes (by template and/or element path)."""

    database: str
    element_template: str | None = None
    element_path: str | None = None
    attributes: tuple[str, ...] | None = None


TagSelector = t.Union[NameFilter, NameList, AFSelector]


@dataclass(frozen=True)
class RecordedConfig:
    """recorded: archive events. max_count: values per stream per call (None = auto); flush_rows:
    rows buffered before a Delta commit and its checkpoint (memory vs commit count); workers:
    reader processes (None = one per CPU for 2,000 tags or more, else threads; 0 = threads)."""

    enabled: bool = True
    start: str = "*-1d"
    end: str = "*"
    lookback: dt.timedelta = dt.timedelta(minutes=10)
    method: str = "streamsets"
    max_count: int | None = None
    flush_rows: int = 500_000
    workers: int | None = None
    mode: str = "lookback"


@dataclass(frozen=True)
class InterpolatedConfig:
    """interpolated: values every `interval` (a PI interval string such as "1h")."""

    enabled: bool = False
    interval: str = "1h"
    start: str = "*-1d"
    end: str = "*"


@dataclass(frozen=True)
class SummariesConfig:
    """summaries: one row per summary type per `duration` (a PI interval string)."""

    enabled: bool = False
    duration: str = "1h"
    types: tuple[str, ...] = ("Average", "Minimum", "Maximum")
    calculation_basis: str = "TimeWeighted"
    start: str = "*-1d"
    end: str = "*"


@dataclass(frozen=True)
class AFConfig:
    """af: element and attribute metadata. databases: paths or names; () = all of them."""

    enabled: bool = True
    databases: tuple[str, ...] = ()


@dataclass(frozen=True)
class EventFramesConfig:
    """event_frames: frames overlapping [start, *], re-read from cursor - lookback."""

    enabled: bool = True
    start: str = "*-30d"
    lookback: dt.timedelta = dt.timedelta(days=1)
    databases: tuple[str, ...] = ()
    search_mode: str = "Overlapped"


@dataclass(frozen=True)
class ConnectorConfig:
    """The whole configuration, validated. `file` is where it came from (for messages)."""

    source: SourceConfig
    destination: DestinationConfig
    tags: tuple[TagSelector, ...] = ()
    recorded: RecordedConfig = RecordedConfig()
    interpolated: InterpolatedConfig = InterpolatedConfig()
    summaries: SummariesConfig = SummariesConfig()
    af: AFConfig = AFConfig()
    event_frames: EventFramesConfig = EventFramesConfig()
    file: str = field(default="<dict>", compare=False)
    lines: dict[str, int] = field(default_factory=dict, repr=False, compare=False, hash=False)

    @classmethod
    def from_dict(cls, mapping: Mapping[str, t.Any], source: str = "<dict>", *,
                  environ: Mapping[str, str] | None = None,
                  base_dir: str | Path | None = None) -> ConnectorConfig:
        """Validate a mapping (Lakeflow options, tests); relative paths are taken from base_dir (cwd).

        Raises:
            ConfigError: naming the field (no line numbers: a mapping has none).
        """
        if not isinstance(mapping, Mapping):
            raise ConfigError(f"must be a mapping, got {type(mapping).__name__}", file=source, line=None,
                              field="(config)")
        return _build(t.cast(dict, _track(mapping)), source, os.environ if environ is None else environ,
                      Path(base_dir) if base_dir is not None else Path.cwd())

    def line_of(self, field_path: str) -> int | None:
        """The line of a field in the file ("source.data_server", "tags[0].names"), if known."""
        while field_path:
            if field_path in self.lines:
                return self.lines[field_path]
            parent = re.sub(r"(\.[^.\[\]]+|\[\d+\])$", "", field_path)
            field_path = parent if parent != field_path else ""
        return None

    def error(self, field_path: str, message: str) -> ConfigError:
        """A ConfigError for a field found wrong later (e.g. a data server the server lacks)."""
        return ConfigError(message, file=self.file, line=self.line_of(field_path), field=field_path)


def load_config(path: str | Path, *, environ: Mapping[str, str] | None = None) -> ConnectorConfig:
    """Read and validate a YAML configuration file.

    Args:
        path: the YAML file.
        environ: variables for ${NAME} (default: os.environ).

    Raises:
        ConfigError: `file:line: field: problem` (exit code 2), for the first problem by line and
            then the others.
    """
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the file: {exc.strerror or exc}", file=file, line=None,
                          field="(file)") from None
    try:
        raw = yaml.load(text, Loader=LineLoader)  # noqa: S506 - LineLoader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise ConfigError(f"invalid YAML: {problem}", file=file, line=mark.line + 1 if mark else None,
                          field="(yaml)") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", file=file, line=None, field="(yaml)") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"must be a mapping with source and destination, got {type(raw).__name__}",
                          file=file, line=1, field="(config)")
    return _build(raw, file, os.environ if environ is None else environ, Path(path).resolve().parent)


# --------------------------------------------------------------------------- times and durations

_UNITS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), "seconds"),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), "minutes"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "hours"),
    **dict.fromkeys(("d", "day", "days"), "days"),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), "weeks"),
    **dict.fromkeys(("mo", "mon", "month", "months"), "months"),
    **dict.fromkeys(("y", "yr", "yrs", "year", "years"), "years"),
}
_AMOUNT = re.compile(r"\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z]+)\s*", re.IGNORECASE)
TIME_HELP = ("a PI time: *, *-1d, t, y, today, yesterday, a weekday or month name (with +/- offsets such as "
             "t+6h) or ISO 8601")


def resolve_time(text: str, now: dt.datetime) -> dt.datetime:
    """The UTC instant of a PI time string, as PI would resolve it with timeZone=UTC: picommon.pitime's
    parser (the simulator's), so both halves read every form the same ("*-1d", "t+6h", "mon", ISO 8601
    with Z or an offset such as +10:00; no offset means UTC).

    Raises:
        ValueError: naming the text and what is accepted.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{text!r} is not {TIME_HELP}")
    try:
        return pitime.from_ticks(pitime.parse_time(text, now=pitime.to_ticks(now), tz="UTC"))
    except pitime.TimeParseError as exc:
        detail = str(exc)
        if "is not valid" in detail:  # the generic refusal: say what the connector's docs list
            raise ValueError(f"{text!r} is not {TIME_HELP}") from None
        raise ValueError(detail) from None


def parse_duration(text: str) -> dt.timedelta:
    """A duration such as "10m", "1h", "1.5d", "2w" (units s, m, h, d, w and their long names).

    Raises:
        ValueError: not a number and a unit, or a unit without a fixed length (months, years).
    """
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a duration such as 10m, 1h or 1d")
    match = _AMOUNT.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration such as 10m, 1h or 1d")
    kind = _UNITS.get(match.group(2).lower())
    if kind is None:
        raise ValueError(f"{text!r}: unknown unit {match.group(2)!r}; use s, m, h, d or w")
    if kind in ("months", "years"):
        raise ValueError(f"{text!r}: {kind} have no fixed length; use d or w")
    return dt.timedelta(**{kind: float(match.group(1))})


# --------------------------------------------------------------------------- YAML with line numbers


class LineDict(dict):
    """A mapping from YAML that remembers the line (1-based) of each key."""

    line: int | None = None
    key_lines: dict

    def __init__(self, *args: object, line: int | None = None) -> None:
        super().__init__(*args)
        self.line = line
        self.key_lines = {}


class LineList(list):
    """A sequence from YAML that remembers the line (1-based) of each item."""

    line: int | None = None
    item_lines: list

    def __init__(self, *args: object, line: int | None = None) -> None:
        super().__init__(*args)
        self.line = line
        self.item_lines = []


class LineLoader(yaml.SafeLoader):
    """yaml.SafeLoader whose mappings and sequences keep line numbers; duplicate keys are errors."""


def _construct_mapping(loader: LineLoader, node: yaml.MappingNode) -> t.Iterator[LineDict]:
    data = LineDict(line=node.start_mark.line + 1)
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError("while constructing a mapping", node.start_mark,
                                                    "found an unhashable key", key_node.start_mark) from None
        if key in data:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark,
                f"found duplicate key {key!r} (first on line {data.key_lines[key]})", key_node.start_mark)
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[key] = key_node.start_mark.line + 1


def _construct_sequence(loader: LineLoader, node: yaml.SequenceNode) -> t.Iterator[LineList]:
    data = LineList(line=node.start_mark.line + 1)
    yield data
    for child in node.value:
        data.append(loader.construct_object(child, deep=True))
        data.item_lines.append(child.start_mark.line + 1)


LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


def _track(value: object) -> object:
    """A plain mapping/list tree as LineDict/LineList without lines (for from_dict)."""
    if isinstance(value, Mapping) and not isinstance(value, LineDict):
        return LineDict({k: _track(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)) and not isinstance(value, LineList):
        out = LineList([_track(v) for v in value])
        out.item_lines = [None] * len(out)
        return out
    return value


def _join(path: str, key: object) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def _walk(value: object, path: str, line: int | None) -> t.Iterator[tuple[t.Any, t.Any, str, int | None]]:
    """(container, key, path, line) for every value of the tree, depth first."""
    if isinstance(value, dict):
        lines = getattr(value, "key_lines", {})
        for key in list(value):
            child_path, child_line = _join(path, key), lines.get(key, line)
            yield value, key, child_path, child_line
            yield from _walk(value[key], child_path, child_line)
    elif isinstance(value, list):
        lines = getattr(value, "item_lines", [])
        for index in range(len(value)):
            child_path = _join(path, index)
            child_line = lines[index] if index < len(lines) and lines[index] is not None else line
            yield value, index, child_path, child_line
            yield from _walk(value[index], child_path, child_line)


# --------------------------------------------------------------------------- ${ENV} substitution

_ENV = re.compile(r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|(\{[^}]*\}?))")


def substitute(text: str, environ: Mapping[str, str]) -> str:
    """${NAME} and ${NAME:-default} replaced from environ; $$ is a literal $.

    Raises:
        KeyError: a variable without a default is not set (the message names it).
        ValueError: a malformed ${...}.
    """
    def replace(match: re.Match) -> str:
        dollar, name, default, bad = match.groups()
        if dollar:
            return "$"
        if bad is not None:
            raise ValueError(f"malformed {match.group(0)!r}: "
                             f"use ${{NAME}} or ${{NAME:-default}} ($$ for a $)")
        value = environ.get(name)
        if value is None or (value == "" and default is not None):
            if default is None:
                raise KeyError(name)
            return default
        return value

    return _ENV.sub(replace, text)


def _substitute_tree(raw: object, file: str, environ: Mapping[str, str]) -> list[ConfigError]:
    errors = []
    for container, key, path, line in list(_walk(raw, "", None)):
        value = container[key]
        if not isinstance(value, str) or "$" not in value:
            continue
        try:
            container[key] = substitute(value, environ)
        except KeyError as exc:
            name = exc.args[0]
            errors.append(ConfigError(f"environment variable {name} is not set (write ${{{name}:-default}} "
                                      f"for a default)", file=file, line=line, field=path))
        except ValueError as exc:
            errors.append(ConfigError(str(exc), file=file, line=line, field=path))
    return errors


# --------------------------------------------------------------------------- fields


def _shown(value: object) -> str:
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
            shown = "" if self.secret else f" {_shown(value)}"
            self.fail(f"must be a string; YAML read{shown} as {type(value).__name__} (quote it)")
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
            self.fail(f"must be an integer, got {_shown(value)}")
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
            self.fail(f"must be a number, got {_shown(value)}")
        if number < 0 or (self.positive and number == 0):
            self.fail(f"must be {'> 0' if self.positive else '>= 0'}, got {_shown(value)}")
        return number


class Flag(_Field):
    def _deserialize(self, value: object, attr: str | None, data: object, **kwargs: t.Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        self.fail(f"must be true or false, got {_shown(value)}")


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
        self.fail(f"must be one of: {', '.join(self.choices)} (got {_shown(value)})")


class PITime(_Field):
    """A PI time string (checked by resolving it); YAML timestamps are turned back into ISO text."""

    def _deserialize(self, value: object, attr: str | None, data: object, **kwargs: t.Any) -> str:
        if isinstance(value, dt.datetime):
            value = value.isoformat() if value.tzinfo else value.isoformat() + "Z"
        elif isinstance(value, dt.date):
            value = value.isoformat()
        if not isinstance(value, str):
            self.fail(f"must be {TIME_HELP}, got {_shown(value)}")
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
            self.fail(f"must be a duration with a unit such as 10m, 1h or 1d, got {_shown(value)}")
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
            self.fail(f"must be an http(s) URL, got {_shown(value)}")
        try:
            parts = urlsplit(value.strip())
            host = parts.hostname
        except ValueError:
            self.fail("must be an http(s) URL such as https://pi.example.com/piwebapi")
        if "@" in parts.netloc:
            self.fail("must not contain credentials: put them in source.auth (with ${ENV} for secrets)")
        if parts.scheme.lower() not in ("http", "https") or not host:
            self.fail(f"must be an http(s) URL such as https://pi.example.com/piwebapi, got {_shown(value)}")
        if parts.query or parts.fragment:
            self.fail(f"must not have a query or fragment, got {_shown(value)}")
        return value.strip().rstrip("/")


class Verify(_Field):
    """true, false, or the path of a CA bundle (relative to the config file), which must exist."""

    def _deserialize(self, value: object, attr: str | None, data: object, **kwargs: t.Any) -> bool | str:
        if isinstance(value, bool):
            return value
        if not isinstance(value, str) or not value.strip():
            self.fail(f"must be true, false or a CA bundle path, got {_shown(value)}")
        if value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        path = Path(value.strip()).expanduser()
        if not path.is_absolute():
            path = _BASE_DIR.get(Path.cwd()) / path
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
                self.fail(f"keys must be strings, got {_shown(key)}")
            if isinstance(item, bool):
                item = "true" if item else "false"
            elif isinstance(item, (int, float)):
                item = str(item)
            if not isinstance(item, str):
                self.fail(f"{key}: must be a string, got {type(item).__name__}")
            out[key] = item
        return out


def _names(**kwargs: t.Any) -> fields.List:
    return fields.List(Text(), **kwargs)


# --------------------------------------------------------------------------- schemas


class AuthSchema(Schema):
    type = Choice(AUTH_TYPES, required=True)
    username = Text()
    password = Text(secret=True, allow_empty=True)
    token = Text(secret=True)

    NEEDS = {"anonymous": (), "basic": ("username", "password"), "bearer": ("token",), "kerberos": (),
             "ntlm": ("username", "password")}

    @validates_schema
    def _by_type(self, data: dict, **kwargs: t.Any) -> None:
        kind = data["type"]
        errors: dict[str, list[str]] = {}
        for name in self.NEEDS[kind]:
            if data.get(name) is None:
                errors[name] = [f"is required for {kind} authentication"]
        for name in ("username", "password", "token"):
            if name not in self.NEEDS[kind] and data.get(name) is not None:
                errors[name] = [f"is not used by {kind} authentication"]
        if errors:
            raise ValidationError(errors)

    @post_load
    def _make(self, data: dict, **kwargs: t.Any) -> AuthConfig:
        return AuthConfig(**data)


class RetrySchema(Schema):
    attempts = Integer(minimum=1, maximum=100)
    backoff = Number()
    max_backoff = Number()
    max_retry_after = Number()

    @post_load
    def _make(self, data: dict, **kwargs: t.Any) -> RetryConfig:
        return RetryConfig(**data)


class SourceSchema(Schema):
    url = Url(required=True)
    auth = fields.Nested(AuthSchema, load_default=AuthConfig())
    verify = Verify()
    timeout = Number(positive=True)
    connect_timeout = Number(positive=True)
    data_server = Text(allow_none=True)
    web_id_type = Choice(WEB_ID_TYPES)
    max_items_per_call = Integer(minimum=1)
    max_url_bytes = Integer(minimum=512)
    concurrency = Integer(minimum=1, maximum=64)
    retry = fields.Nested(RetrySchema, load_default=RetryConfig())

    @post_load
    def _make(self, data: dict, **kwargs: t.Any) -> SourceConfig:
        if "connect_timeout" not in data:
            data["connect_timeout"] = min(10.0, data.get("timeout", 60.0))
        return SourceConfig(**data)


class DestinationSchema(Schema):
    uri = Text(required=True)
    storage_options = StringMap()

    @post_load
    def _make(self, data: dict, **kwargs: t.Any) -> DestinationConfig:
        uri = data["uri"].strip()
        if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", uri):  # a local path: relative to the config file
            path = Path(uri).expanduser()
            uri = str(path if path.is_absolute() else (_BASE_DIR.get(Path.cwd()) / path).resolve())
        data["uri"] = uri
        return DestinationConfig(**data)


class AFSelectorSchema(Schema):
    database = Text(required=True)
    element_template = Text(allow_none=True)
    element_path = Text(allow_none=True)
    attributes = _names(allow_none=True)

    @post_load
    def _make(self, data: dict, **kwargs: t.Any) -> AFSelector:
        if data.get("attributes") is not None:
            data["attributes"] = tuple(data["attributes"])
        return AFSelector(**data)


class TagSelectorSchema(Schema):
    name_filter = Text()
    names = _names()
    af = fields.Nested(AFSelectorSchema)

    @validates_schema
    def _exactly_one(self, data: dict, **kwargs: t.Any) -> None:
        given = [name for name in ("name_filter", "names", "af") if name in data]
        if len(given) != 1:
            found = ", ".join(given) if given else "none"
            raise ValidationError(f"give exactly one of name_filter, names, af (found: {found})")
        if "names" in data and not data["names"]:
            raise ValidationError("must list at least one name", field_name="names")

    @post_load
    def _make(self, data: dict, **kwargs: t.Any) -> TagSelector:
        if "name_filter" in data:
            return NameFilter(data["name_filter"])
        if "names" in data:
            return NameList(tuple(data["names"]))
        return data["af"]


class _Window(Schema):
    """Checks that start comes before end (both resolved at the same now)."""

    @validates_schema
    def _ordered(self, data: dict, **kwargs: t.Any) -> None:
        start, end = data.get("start", self.DEFAULT_START), data.get("end", "*")
        now = dt.datetime.now(dt.timezone.utc)
        if resolve_time(start, now) >= resolve_time(end, now):
            raise ValidationError(f"{start!r} is not before end {end!r}", field_name="start")

    DEFAULT_START = "*-1d"


class RecordedSchema(_Window):
    enabled = Flag()
    start = PITime()
    end = PITime()
    lookback = Duration()
    method = Choice(RECORDED_METHODS)
    max_count = Integer(minimum=1, allow_none=True)
    flush_rows = Integer(minimum=1)
    workers = Integer(minimum=0, maximum=64, allow_none=True)
    mode = Choice(RECORDED_MODES)

    @post_load
    def _make(self, data: dict, **kwargs: t.Any) -> RecordedConfig:
        return RecordedConfig(**data)


class InterpolatedSchema(_Window):
    enabled = Flag()
    interval = Duration(as_text=True, positive=True)
    start = PITime()
    end = PITime()

    @post_load
    def _make(self, data: dict, **kwargs: t.Any) -> InterpolatedConfig:
        return InterpolatedConfig(**data)


class SummariesSchema(_Window):
    enabled = Flag()
    duration = Duration(as_text=True, positive=True)
    types = fields.List(Choice(SUMMARY_TYPES))
    calculation_basis = Choice(CALCULATION_BASES)
    start = PITime()
    end = PITime()

    @validates_schema
    def _some_types(self, data: dict, **kwargs: t.Any) -> None:
        if "types" in data and not data["types"]:
            raise ValidationError("must list at least one summary type", field_name="types")

    @post_load
    def _make(self, data: dict, **kwargs: t.Any) -> SummariesConfig:
        if "types" in data:
            data["types"] = tuple(dict.fromkeys(data["types"]))
        return SummariesConfig(**data)


class AFSchema(Schema):
    enabled = Flag()
    databases = _names()

    @post_load
    def _make(self, data: dict, **kwargs: t.Any) -> AFConfig:
        if "databases" in data:
            data["databases"] = tuple(data["databases"])
        return AFConfig(**data)


class EventFramesSchema(Schema):
    enabled = Flag()
    start = PITime()
    lookback = Duration()
    databases = _names()
    search_mode = Choice(SEARCH_MODES)

    @post_load
    def _make(self, data: dict, **kwargs: t.Any) -> EventFramesConfig:
        if "databases" in data:
            data["databases"] = tuple(data["databases"])
        return EventFramesConfig(**data)


class ConfigSchema(Schema):
    source = fields.Nested(SourceSchema, required=True)
    destination = fields.Nested(DestinationSchema, required=True)
    tags = fields.List(fields.Nested(TagSelectorSchema))
    recorded = fields.Nested(RecordedSchema, load_default=RecordedConfig())
    interpolated = fields.Nested(InterpolatedSchema, load_default=InterpolatedConfig())
    summaries = fields.Nested(SummariesSchema, load_default=SummariesConfig())
    af = fields.Nested(AFSchema, load_default=AFConfig())
    event_frames = fields.Nested(EventFramesSchema, load_default=EventFramesConfig())

    @validates_schema
    def _tags_needed(self, data: dict, **kwargs: t.Any) -> None:
        if data.get("tags"):
            return
        reading = [name for name in ("recorded", "interpolated", "summaries") if data[name].enabled]
        if reading:
            raise ValidationError(f"at least one selector is needed while {', '.join(reading)} "
                                  f"{'is' if len(reading) == 1 else 'are'} enabled", field_name="tags")

    @validates_schema
    def _max_count(self, data: dict, **kwargs: t.Any) -> None:
        limit, max_count = data["source"].max_items_per_call, data["recorded"].max_count
        if max_count is not None and max_count > limit:
            raise ValidationError({"recorded": {"max_count": [
                f"{max_count} is above source.max_items_per_call ({limit})"]}})

    @post_load
    def _make(self, data: dict, **kwargs: t.Any) -> dict:
        data["tags"] = tuple(data.get("tags") or ())
        return data


# --------------------------------------------------------------------------- errors -> file:line

_MESSAGES = {
    "Missing data for required field.": "is required",
    "Field may not be null.": "must not be null",
    "Not a valid list.": "must be a list",
    "Invalid input type.": "must be a mapping",
    "Not a valid mapping type.": "must be a mapping",
}


def _child_schema(schema: Schema | None, key: object) -> Schema | None:
    if schema is None or not isinstance(key, str):
        return schema if isinstance(key, int) else None
    found = schema.fields.get(key)
    if isinstance(found, fields.List):
        found = found.inner
    return found.schema if isinstance(found, fields.Nested) else None


def _problems(messages: object, raw: object, schema: Schema | None, path: str,
              line: int | None) -> t.Iterator[tuple[int | None, str, str]]:
    """(line, field path, problem) for marshmallow's nested error messages."""
    if isinstance(messages, list):
        for message in messages:
            if isinstance(message, (dict, list)):
                yield from _problems(message, raw, schema, path, line)
            else:
                yield line, path or "(config)", _humanize(str(message), raw, path)
        return
    if not isinstance(messages, dict):
        yield line, path or "(config)", str(messages)
        return
    for key, sub in messages.items():
        if key == "_schema":
            yield from _problems(sub, raw, schema, path, line)
            continue
        child_path = _join(path, key)
        child_line, child_raw = line, None
        if isinstance(key, int) and isinstance(raw, list) and key < len(raw):
            child_raw = raw[key]
            lines = getattr(raw, "item_lines", [])
            child_line = lines[key] if key < len(lines) and lines[key] is not None else line
        elif isinstance(raw, dict) and key in raw:
            child_raw = raw[key]
            child_line = getattr(raw, "key_lines", {}).get(key, line)
        if sub == ["Unknown field."] and schema is not None:
            known = sorted(schema.fields)
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"expected one of: {', '.join(known)}"
            yield child_line, child_path, f"unknown key; {hint}"
            continue
        yield from _problems(sub, child_raw, _child_schema(schema, key), child_path, child_line)


def _humanize(message: str, raw: object, path: str) -> str:
    text = _MESSAGES.get(message)
    if text is None:
        return message
    if text == "must be a mapping" and raw is not None and not any(path.startswith(s) for s in SECRET_FIELDS):
        text += f", got {_shown(raw)}"
    return text


def _collect_lines(raw: object) -> dict[str, int]:
    return {path: line for _, _, path, line in _walk(raw, "", None) if line is not None}


def _build(raw: dict, file: str, environ: Mapping[str, str], base_dir: Path) -> ConnectorConfig:
    errors = _substitute_tree(raw, file, environ)
    if errors:
        _raise(errors)
    token = _BASE_DIR.set(base_dir)
    try:
        data = ConfigSchema().load(raw)
    except ValidationError as exc:
        problems = _problems(exc.messages, raw, ConfigSchema(), "", None)
        _raise([ConfigError(problem, file=file, line=line, field=where) for line, where, problem in problems])
    finally:
        _BASE_DIR.reset(token)
    return ConnectorConfig(**data, file=file, lines=_collect_lines(raw))


def _raise(errors: list[ConfigError]) -> t.NoReturn:
    ordered = sorted(errors, key=lambda e: (e.line is None, e.line or 0, e.field))
    first, rest = ordered[0], ordered[1:]
    raise ConfigError(first.problem, file=first.file, line=first.line, field=first.field, more=rest)
