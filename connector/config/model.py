"""connector.config.model: what a validated configuration is: frozen dataclasses, one per section.

Every section has its defaults here (the schema only checks and converts); `ConnectorConfig` also
remembers the file and the line of every field, so a problem found later (a data server the
server lacks) still reads `file:line: field: problem`. `Secret` keeps passwords, tokens and
storage options out of repr(), str() and messages.
"""
from __future__ import annotations

import datetime as dt
import re
import typing as t
from dataclasses import dataclass
from dataclasses import field

from ..errors import ConfigError

if t.TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

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
        from .loading import load_mapping  # loading builds this class: imported when first used

        return load_mapping(mapping, source, environ=environ, base_dir=base_dir)

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
