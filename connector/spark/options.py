"""connector.spark.options: Spark and Lakeflow string options -> a checked `ReadOptions` (no pyspark needed).

Every option is checked on the driver before anything is read; a bad one is a `ConfigError` that
names the option and what was expected ("<spark options>: start: expected a PI time ...").
Option names are case-insensitive (Spark lowercases some of them).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from ..config import SUMMARY_TYPES
from ..config import ConnectorConfig
from ..config import parse_duration
from ..config import resolve_time
from ..context import NS
from ..errors import ConfigError

TABLE_ALIASES = {"recorded": "recorded_values", "interpolated": "interpolated_values", "summary": "summary_values",
                 "summaries": "summary_values"}
READABLE = ("recorded_values", "interpolated_values", "summary_values", "points", "af_elements", "af_attributes",
            "event_frames")
KNOWN = ("url", "auth", "auth_type", "username", "password", "token", "verify", "dataserver", "data_server",
         "webidtype", "web_id_type", "tags", "tag_filter", "start", "end", "table", "interval", "summarytype",
         "summaryduration", "calculationbasis", "partitionwindow", "window", "tagsperpartition", "maxcount",
         "maxitemspercall", "lookback", "maxwindowperbatch", "path")
# where ConnectorConfig reports a field, the option a user wrote
FIELD_OPTIONS = {"source.url": "url", "source.auth.type": "auth", "source.auth.username": "username",
                 "source.auth.password": "password", "source.auth.token": "token", "source.web_id_type": "webIdType",
                 "source.max_items_per_call": "maxItemsPerCall", "source.verify": "verify",
                 "summaries.calculation_basis": "calculationBasis", "interpolated.interval": "interval",
                 "summaries.duration": "summaryDuration", "summaries.types": "summaryType"}
_SAMPLE_NOW = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)  # time syntax is checked, not resolved


@dataclass(frozen=True)
class ReadOptions:
    """What a read asks for: the source (as a ConnectorConfig), the table, the span and how to cut it."""

    config: ConnectorConfig
    table: str
    start: str
    end: str
    window_ns: int
    tags_per_part: int | None
    max_count: int | None
    lookback_ns: int
    batch_window_ns: int | None  # a stream's micro-batch reads at most this much of each tag (None: all there is)
    options: Mapping[str, str]

    @property
    def step_ns(self) -> int:
        text = self.config.interpolated.interval if self.table == "interpolated_values" else \
            self.config.summaries.duration
        return int(parse_duration(text).total_seconds() * NS)

    @property
    def values_per_step(self) -> int:
        return len(self.config.summaries.types) if self.table == "summary_values" else 1


def parse_options(options: Mapping[str, str] | None, *, where: str = "<spark options>", default_table: str = "recorded",
                  default_window: str = "1h", strict: bool = True) -> ReadOptions:
    """Checked options; `strict` refuses names this source does not know (a typo is not silently ignored)."""
    given = {str(k).lower(): ("" if v is None else str(v)) for k, v in (options or {}).items()}

    def fail(option: str, expected: str) -> ConfigError:
        shown = given.get(option.lower())
        got = f", got {shown!r}" if shown is not None and option.lower() not in ("password", "token") else ""
        return ConfigError(f"expected {expected}{got}", file=where, line=None, field=option)

    if strict:
        unknown = sorted(k for k in given if k not in KNOWN)
        if unknown:
            raise fail(unknown[0], "one of the options url, auth, username, password, token, verify, dataServer, "
                                   "webIdType, tags, start, end, table, interval, summaryType, summaryDuration, "
                                   "calculationBasis, partitionWindow, tagsPerPartition, maxCount, maxItemsPerCall, "
                                   "lookback, maxWindowPerBatch (this option is not known)")

    def text(*names: str, default: str | None = None) -> str | None:
        for name in names:
            if given.get(name.lower(), "").strip():
                return given[name.lower()].strip()
        return default

    def text_or(default: str, *names: str) -> str:
        return text(*names) or default

    url = text("url")
    if not url or not url.lower().startswith(("http://", "https://")):
        raise fail("url", "the PI Web API root, such as https://server/piwebapi")
    table = text_or(default_table, "table")
    table = TABLE_ALIASES.get(table.lower(), table.lower())
    if table not in READABLE:
        raise fail("table", "one of recorded, interpolated, summary, points, af_elements, af_attributes, event_frames")
    start, end = text_or("*-1d", "start"), text_or("*", "end")
    for name, value in (("start", start), ("end", end)):
        try:
            resolve_time(value, _SAMPLE_NOW)
        except ValueError:
            raise fail(name, "a PI time such as *-1d, t, y+6h or an ISO 8601 instant") from None
    durations = {}
    for name, default in (("partitionWindow", default_window), ("lookback", "0s"), ("interval", "1h"),
                          ("summaryDuration", "1h"), ("maxWindowPerBatch", "0s")):
        value = text_or(default, name, "window" if name == "partitionWindow" else name)
        try:
            durations[name] = parse_duration(value)
        except ValueError:
            raise fail(name, "a duration such as 10m, 1h or 1d") from None
        if durations[name].total_seconds() < 0 or (
                name not in ("lookback", "maxWindowPerBatch") and durations[name].total_seconds() <= 0):
            raise fail(name, "a positive duration such as 10m, 1h or 1d")
    numbers = {}
    for name in ("tagsPerPartition", "maxCount", "maxItemsPerCall"):
        number = text(name)
        if number is None:
            continue
        if not number.isdigit() or int(number) < 1:
            raise fail(name, "a whole number of at least 1")
        numbers[name] = int(number)
    types = [t.strip() for t in text_or("Average,Minimum,Maximum", "summaryType").split(",") if t.strip()]
    bad = [t for t in types if t not in SUMMARY_TYPES]
    if bad or not types:
        raise fail("summaryType", f"comma-separated PI summary types from {', '.join(SUMMARY_TYPES)}")
    config = _config(given, text, where, durations, types, numbers)
    return ReadOptions(config, table, start, end, int(durations["partitionWindow"].total_seconds() * NS),
                       numbers.get("tagsPerPartition"), numbers.get("maxCount"),
                       int(durations["lookback"].total_seconds() * NS),
                       int(durations["maxWindowPerBatch"].total_seconds() * NS) or None, dict(options or {}))


def tag_selectors(value: str | None, name_filter: str | None = None) -> list[dict]:
    """The `tags` option as config selectors: an AF element path (\\\\server\\db\\element...), a PI
    wildcard (* or ?) or comma-separated names; every point of the data server when absent."""
    if not value:
        return [{"name_filter": name_filter or "*"}]
    if value.startswith("\\\\"):
        parts = value.split("\\")  # ["", "", server, db, element...]
        database = "\\".join(parts[:4])
        return [{"af": {"database": database, "element_path": value if len(parts) > 4 else None}}]
    if "*" in value or "?" in value:
        return [{"name_filter": value}]
    return [{"names": [t.strip() for t in value.split(",") if t.strip()]}]


def _config(given: dict, text, where: str, durations: dict, types: list[str], numbers: dict) -> ConnectorConfig:
    source: dict = {"url": text("url"), "auth": {"type": text("auth", "auth_type", default="anonymous").lower()},
                    "web_id_type": text("webIdType", "web_id_type", default="IDOnly")}
    for name in ("username", "password", "token"):
        if text(name):
            source["auth"][name] = text(name)
    if text("verify"):  # true/false, or the path of a CA bundle (kept, not turned into True)
        value = text("verify")
        flag = {"false": False, "0": False, "no": False, "true": True, "1": True, "yes": True}.get(value.lower())
        source["verify"] = value if flag is None else flag
    if text("dataServer", "data_server"):
        source["data_server"] = text("dataServer", "data_server")
    if "maxItemsPerCall" in numbers:
        source["max_items_per_call"] = numbers["maxItemsPerCall"]
    mapping = {"source": source, "destination": {"uri": "unused"},
               "tags": tag_selectors(text("tags"), text("tag_filter")),
               "interpolated": {"interval": text("interval", default="1h")},
               "summaries": {"duration": text("summaryDuration", default="1h"), "types": types,
                             "calculation_basis": text("calculationBasis", default="TimeWeighted")}}
    try:
        return ConnectorConfig.from_dict(mapping, source=where)
    except ConfigError as error:
        option = FIELD_OPTIONS.get(error.field, error.field)
        raise ConfigError(error.problem, file=where, line=None, field=option) from None
