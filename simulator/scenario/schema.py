"""simulator.scenario.schema: the Scenario schema and `build`, which checks an expanded tree and makes the model."""
from __future__ import annotations

import dataclasses
import typing as t
import difflib
from pathlib import Path

from marshmallow import Schema
from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import post_load
from marshmallow import validates_schema

from picommon import pitime
from . import model
from .af import AfRefs
from .af import AssetServerSchema
from .changes import ChangeRuleSchema
from .changes import check_rules
from .context import CTX
from .context import Context
from .faults import FaultSchema
from .fields import Base
from .fields import Bool
from .fields import Choice
from .fields import Int
from .fields import ListOf
from .fields import Nest
from .fields import Str
from .fields import listing
from .points import DataServerSchema
from .points import DigitalSetSchema

AUTH_METHODS = ("anonymous", "basic", "bearer")
ADMIN_AUTH = ("auto", "required", "none")
WEB_ID_TYPES = ("Full", "IDOnly", "PathOnly", "LocalIDOnly", "DefaultIDOnly")


class Problems(Exception):
    """Everything wrong with a scenario: (path, message, at_key) triples for the loader to locate."""

    def __init__(self, problems: list[tuple[tuple, str, bool]]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


class ClockSchema(Base):
    now = Str(allow_none=True)
    timezone = Str(non_empty=True)

    @post_load
    def make(self, data, **kwargs):
        ctx = CTX.get()
        try:
            zone = pitime.resolve_timezone(data.get("timezone", "UTC"))
        except pitime.TimeParseError as exc:
            raise ValidationError(str(exc), "timezone") from None
        now = None
        if data.get("now") is not None:
            try:
                now = pitime.parse_time(data["now"], now=ctx.real_now, tz=zone)
            except pitime.TimeParseError as exc:
                raise ValidationError(str(exc), "now") from None
        return model.Clock(now=now, timezone=zone.key)


class LimitsSchema(Base):
    max_returned_items_per_call = Int(low=1)
    default_max_count = Int(low=1)
    search_max_count = Int(low=1)

    @post_load
    def make(self, data, **kwargs):
        return model.Limits(**data)


class WritesSchema(Base):
    """Where values written through PI's write paths are kept across restarts (JSON lines)."""

    file = Str(non_empty=True, required=True)

    @post_load
    def make(self, data, **kwargs):
        return data["file"]


class UserSchema(Base):
    username = Str(required=True, non_empty=True)
    password = Str(required=True)

    @post_load
    def make(self, data, **kwargs):
        return model.User(**data)


class AuthSchema(Base):
    methods = ListOf(Choice(AUTH_METHODS), non_empty=True)
    users = ListOf(Nest(UserSchema))
    tokens = ListOf(Str(non_empty=True))
    csrf = Bool()
    realm = Str()

    @validates_schema
    def check(self, data, **kwargs):
        methods = data.get("methods", ("anonymous",))
        if len(set(methods)) != len(methods):
            raise ValidationError("lists a method twice", "methods")
        if "basic" in methods and not data.get("users"):
            raise ValidationError("basic authentication needs at least one user: "
                                  "users: [{username, password}]", "users" if "users" in data else "methods")
        if "bearer" in methods and not data.get("tokens"):
            raise ValidationError("bearer authentication needs at least one token: tokens: [...]",
                                  "tokens" if "tokens" in data else "methods")
        names = [u.username.lower() for u in data.get("users", ())]
        if len(set(names)) != len(names):
            raise ValidationError("two users have the same username", "users")

    @post_load
    def make(self, data, **kwargs):
        return model.Auth(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


class AdminSchema(Base):
    auth = Choice(ADMIN_AUTH)
    users = ListOf(Nest(UserSchema))
    tokens = ListOf(Str(non_empty=True))

    @validates_schema
    def check(self, data, **kwargs):
        if data.get("auth") == "none" and (data.get("users") or data.get("tokens")):
            raise ValidationError("none opens the admin API to everyone; drop users/tokens or the opt-out",
                                  "auth")

    @post_load
    def make(self, data, **kwargs):
        return model.Admin(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


class ScenarioSchema(Base):
    name = Str(non_empty=True)
    description = Str()
    seed = Int(low=0)
    clock = Nest(ClockSchema)
    limits = Nest(LimitsSchema)
    auth = Nest(AuthSchema)
    admin = Nest(AdminSchema)
    writes = Nest(WritesSchema)
    digital_sets = ListOf(Nest(DigitalSetSchema))
    data_servers = ListOf(Nest(DataServerSchema))
    asset_servers = ListOf(Nest(AssetServerSchema))
    faults = ListOf(Nest(FaultSchema))
    changes = ListOf(Nest(ChangeRuleSchema))
    system_version = Str(non_empty=True)
    product_title = Str(non_empty=True)
    web_id_type = Choice(WEB_ID_TYPES)
    definitions = fields.Raw(allow_none=True)  # anchors for the rest of the file; not read


# --------------------------------------------------------------------------------------------------
# errors

def flatten(messages: object, prefix: tuple = ()) -> list[tuple[tuple, str, bool]]:
    """marshmallow's nested error dict -> (path, message, at_key) triples."""
    out: list[tuple[tuple, str, bool]] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            out.extend(flatten(value, prefix if key == "_schema" else prefix + (key,)))
    elif isinstance(messages, (list, tuple)):
        for message in messages:
            out.extend(flatten(message, prefix))
    else:
        text = str(messages)
        marker = "unknown field; expected one of: "
        if text.startswith(marker) and prefix:
            names = text[len(marker):].split(", ")
            bad = str(prefix[-1])
            close = difflib.get_close_matches(bad, names, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            if bad == "for_each":
                hint = " here: for_each repeats items of a list, not a mapping"
            out.append((prefix, f"unknown field {bad!r}{hint} (expected one of: {listing(names)})", True))
        else:
            out.append((prefix, text, False))
    return out


def load_part(schema: Schema, data: t.Any, path: tuple) -> tuple[t.Any, list[tuple[tuple, str, bool]]]:
    try:
        return schema.load(data), []
    except ValidationError as exc:
        return None, flatten(exc.messages, path)


# --------------------------------------------------------------------------------------------------
# build

def build(tree: dict, *, file: str, now: str | int | None = None) -> model.Scenario:
    """The Scenario of an expanded tree; raises Problems listing everything wrong.

    Three steps: the clock and digital sets (other fields need them), then the whole file
    (unknown keys are errors everywhere), then the cross-references that need all of it
    (`AfRefs`: AF templates, element trees and the PI points behind their attributes, event
    frames). Every problem is reported as (path, message) and the loader turns the path back
    into the file's line and column. `now` (ticks or time text) pins the clock over the file's.
    """
    ctx = Context()
    token = CTX.set(ctx)
    try:
        problems: list[tuple[tuple, str, bool]] = []
        if tree.get("clock") is not None:
            clock, found = load_part(ClockSchema(), tree["clock"], ("clock",))
            problems += found
            if isinstance(clock, model.Clock):
                ctx.tz = clock.timezone
                ctx.now = clock.now if clock.now is not None else ctx.real_now
        if now is not None:
            ctx.now = now if isinstance(now, int) else pitime.parse_time(now, now=ctx.real_now, tz=ctx.tz)
        if isinstance(tree.get("digital_sets"), list):
            sets, found = load_part(DigitalSetSchema(many=True), tree["digital_sets"], ("digital_sets",))
            problems += found
            for index, digital_set in enumerate(sets or ()):
                if digital_set.name.lower() in ctx.digital_sets:
                    problems.append((("digital_sets", index, "name"),
                                     f"digital set {digital_set.name!r} is defined twice", False))
                ctx.digital_sets.setdefault(digital_set.name.lower(), digital_set)
        if problems:
            raise Problems(problems)
        data, problems = load_part(ScenarioSchema(), tree, ())
        if problems:
            raise Problems(problems)
        if now is not None:
            data["clock"] = dataclasses.replace(data.get("clock", model.Clock()), now=ctx.now)
        return _finish(data, file)
    finally:
        CTX.reset(token)


def _finish(data: dict, file: str) -> model.Scenario:
    problems: list[tuple[tuple, str, bool]] = []
    servers: list[model.DataServer] = data.get("data_servers", [])
    seen: dict[str, int] = {}
    for index, server in enumerate(servers):
        first = seen.setdefault(server.name.upper(), index)
        if first != index:
            message = f"data server {server.name!r} is already defined at data_servers[{first}]"
            problems.append((("data_servers", index, "name"), message, False))
    af = AfRefs(servers, problems)
    asset_servers = []
    seen = {}
    for index, raw in enumerate(data.get("asset_servers", ())):
        path = ("asset_servers", index)
        first = seen.setdefault(raw["name"].upper(), index)
        if first != index:
            af.fail(path + ("name",),
                    f"asset server {raw['name']!r} is already defined at asset_servers[{first}]")
        asset_servers.append(af.asset_server(raw, path))
    faults = []
    seen = {}
    for index, raw in enumerate(data.get("faults", ())):
        name = raw.pop("name", f"fault-{index + 1}")
        first = seen.setdefault(name.lower(), index)
        if first != index:
            af.fail(("faults", index, "name"), f"fault name {name!r} is already used by faults[{first}]")
        faults.append(model.Fault(name=name, **raw))
    changes = tuple(data.get("changes", ()))
    check_rules(changes, tuple(servers), problems)
    if problems:
        raise Problems(problems)
    stem = file.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    kwargs = {key: data[key] for key in ("description", "seed", "clock", "limits", "auth", "admin", "system_version",
                                         "product_title", "web_id_type") if key in data}
    if data.get("writes"):  # a relative path is relative to the scenario file
        kwargs["writes_file"] = str(Path(file).parent / data["writes"])
    return model.Scenario(name=data.get("name", stem), source=file,
                          digital_sets=tuple(data.get("digital_sets", ())), data_servers=tuple(servers),
                          asset_servers=tuple(asset_servers), faults=tuple(faults), changes=changes, **kwargs)
