"""connector.config.schema: the marshmallow schemas of each section, and the rules across fields.

Each schema checks and converts its section and makes its dataclass (connector.config.model) in
post_load; the rules that span fields live here too: what each auth type needs, exactly one kind
of tag selector, start before end, tags needed while a values job is on, max_count within
source.max_items_per_call.
"""
from __future__ import annotations

import datetime as dt
import re
import typing as t

from marshmallow import Schema
from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import post_load
from marshmallow import validates_schema

from .fields import Choice
from .fields import Duration
from .fields import Flag
from .fields import Integer
from .fields import Number
from .fields import PITime
from .fields import StringMap
from .fields import Text
from .fields import Url
from .fields import Verify
from .fields import from_base
from .fields import names
from .model import AUTH_TYPES
from .model import CALCULATION_BASES
from .model import RECORDED_METHODS
from .model import RECORDED_MODES
from .model import SEARCH_MODES
from .model import SUMMARY_TYPES
from .model import WEB_ID_TYPES
from .model import AFConfig
from .model import AFSelector
from .model import AuthConfig
from .model import DestinationConfig
from .model import EventFramesConfig
from .model import InterpolatedConfig
from .model import NameFilter
from .model import NameList
from .model import RecordedConfig
from .model import RetryConfig
from .model import SourceConfig
from .model import SummariesConfig
from .model import TagSelector
from .times import resolve_time


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
            uri = str(from_base(uri).resolve())
        data["uri"] = uri
        return DestinationConfig(**data)


class AFSelectorSchema(Schema):
    database = Text(required=True)
    element_template = Text(allow_none=True)
    element_path = Text(allow_none=True)
    attributes = names(allow_none=True)

    @post_load
    def _make(self, data: dict, **kwargs: t.Any) -> AFSelector:
        if data.get("attributes") is not None:
            data["attributes"] = tuple(data["attributes"])
        return AFSelector(**data)


class TagSelectorSchema(Schema):
    name_filter = Text()
    names = names()
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
    databases = names()

    @post_load
    def _make(self, data: dict, **kwargs: t.Any) -> AFConfig:
        if "databases" in data:
            data["databases"] = tuple(data["databases"])
        return AFConfig(**data)


class EventFramesSchema(Schema):
    enabled = Flag()
    start = PITime()
    lookback = Duration()
    databases = names()
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
