"""simulator.scenario.changes: the `changes:` section, how tag groups' archives change after the fact.

    changes:
      - tags: ["SYD.*", MEL.U1.FT]        # PI name filters (* and ?), one or a list
        server: PISRV01                  # optional: only this data server's points
        late: {fraction: 0.05, delay: [1m, 20m]}       # visible only a delay after their time
        edits: {fraction: 0.01, after: [5m, 2h], by: 5}  # replaced once visible (by: numeric shift)
        deletions: {fraction: 0.005, after: 30m}        # removed once visible
        buffered: {per_day: 2, min_duration: 5m, max_duration: 30m, backfill: [1m, 10m]}

Durations are PI intervals, or [shortest, longest] drawn per event. A point matched by several rules
takes each kind from the last rule that declares it. A filter that matches no point is an error.
Future points (forecasts) are left as they are. Outage and creation events (system states) never change.
"""
from __future__ import annotations

from marshmallow import ValidationError
from marshmallow import post_load
from marshmallow import validates_schema

from . import model
from .fields import Base
from .fields import DurationRange
from .fields import Duration
from .fields import Nest
from .fields import Num
from .fields import Share
from .fields import Str

KINDS = ("late", "edits", "deletions", "buffered")


class LateSchema(Base):
    fraction = Share(required=True)
    delay = DurationRange(required=True)

    @post_load
    def make(self, data, **kwargs):
        return model.LateArrival(**data)


class EditsSchema(Base):
    fraction = Share(required=True)
    after = DurationRange(required=True)
    by = Num(low=0.0, low_open=True)

    @post_load
    def make(self, data, **kwargs):
        return model.Edits(**data)


class DeletionsSchema(Base):
    fraction = Share(required=True)
    after = DurationRange(required=True)

    @post_load
    def make(self, data, **kwargs):
        return model.Deletions(**data)


class BufferedSchema(Base):
    per_day = Num(low=0.0, low_open=True, required=True)
    min_duration = Duration(required=True)
    max_duration = Duration(required=True)
    backfill = DurationRange(required=True)

    @validates_schema
    def check(self, data, **kwargs):
        if "min_duration" in data and "max_duration" in data and data["max_duration"] < data["min_duration"]:
            raise ValidationError("max_duration must not be shorter than min_duration", "max_duration")
        if "max_duration" in data and data["max_duration"] > model.TICKS_PER_DAY:
            raise ValidationError("a buffered outage lasts at most 1d", "max_duration")

    @post_load
    def make(self, data, **kwargs):
        return model.Buffered(**data)


class TagFilters(Str):
    """One PI name filter or a non-empty list of them -> a tuple."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, list):
            if not value:
                raise ValidationError("must not be empty")
            return tuple(super(TagFilters, self)._deserialize(v, attr, data, **kwargs) for v in value)
        return (super()._deserialize(value, attr, data, **kwargs),)


class ChangeRuleSchema(Base):
    tags = TagFilters(required=True, non_empty=True)
    server = Str(non_empty=True)
    late = Nest(LateSchema)
    edits = Nest(EditsSchema)
    deletions = Nest(DeletionsSchema)
    buffered = Nest(BufferedSchema)

    @validates_schema
    def check(self, data, **kwargs):
        if not any(kind in data for kind in KINDS):
            raise ValidationError(f"a change rule needs at least one of: {', '.join(KINDS)}", "tags")

    @post_load
    def make(self, data, **kwargs):
        changes = model.Changes(**{kind: data[kind] for kind in KINDS if kind in data})
        return model.ChangeRule(tags=data["tags"], changes=changes, server=data.get("server"))


def check_rules(rules: tuple[model.ChangeRule, ...], servers: tuple[model.DataServer, ...],
                problems: list[tuple[tuple, str, bool]]) -> None:
    """Every rule's server exists and each of its filters matches at least one point."""
    names = {server.name.upper(): server for server in servers}
    for index, rule in enumerate(rules):
        if rule.server is not None and rule.server.upper() not in names:
            known = ", ".join(s.name for s in servers) or "none"
            problems.append((("changes", index, "server"),
                             f"no data server named {rule.server!r} (the scenario has: {known})", False))
            continue
        chosen = [names[rule.server.upper()]] if rule.server is not None else list(servers)
        for position, pattern in enumerate(rule.tags):
            if not any(matches(pattern, p.name) for s in chosen for p in s.points):
                path = ("changes", index, "tags") + ((position,) if len(rule.tags) > 1 else ())
                problems.append((path, f"the tag filter {pattern!r} matches no point", False))


def for_point(rules: tuple[model.ChangeRule, ...], point: model.Point) -> model.Changes | None:
    """The changes of one point: each kind from the last rule that matches it and declares it."""
    found: dict[str, object] = {}
    for rule in rules:
        if rule.server is not None and rule.server.upper() != point.server.upper():
            continue
        if any(matches(pattern, point.name) for pattern in rule.tags):
            found.update({kind: getattr(rule.changes, kind) for kind in KINDS
                          if getattr(rule.changes, kind) is not None})
    return model.Changes(**found) if found else None  # type: ignore[arg-type]


def matches(pattern: str, name: str) -> bool:
    from ..backend.catalog import name_matches

    return name_matches(pattern, name)
