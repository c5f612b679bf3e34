"""simulator.scenario.af: AF servers, databases, element templates and trees, and their cross-references."""
from __future__ import annotations

import difflib
import re
import typing as t
import uuid

from . import model
from .attributes import AttributeSchema
from .attributes import first_of_each_name
from .attributes import infer_type
from .attributes import template_attribute
from .attributes import unique_attributes
from .attributes import value_problem
from .eventframes import EventFrameSchema
from .eventframes import EventFrameTemplateSchema
from .eventframes import FrameRefs
from .eventframes import ScheduleSchema
from .fields import NAMESPACE
from .fields import Base
from .fields import Guid
from .fields import ListOf
from .fields import Name
from .fields import Nest
from .fields import Str
from .fields import listing


class ElementTemplateSchema(Base):
    name = Name(required=True)
    description = Str()
    categories = ListOf(Name())
    base_template = Name()
    attributes = ListOf(Nest(AttributeSchema))


class ElementSchema(Base):
    name = Name(required=True)
    description = Str()
    template = Name()
    categories = ListOf(Name())
    attributes = ListOf(Nest(AttributeSchema))
    elements = ListOf(Nest(lambda: ElementSchema()))


class DatabaseSchema(Base):
    name = Name(required=True)
    id = Guid()
    description = Str()
    default_data_server = Name()
    element_templates = ListOf(Nest(ElementTemplateSchema))
    elements = ListOf(Nest(ElementSchema))
    event_frame_templates = ListOf(Nest(EventFrameTemplateSchema))
    event_frames = ListOf(Nest(EventFrameSchema))
    schedules = ListOf(Nest(ScheduleSchema))


class AssetServerSchema(Base):
    name = Name(required=True)
    id = Guid()
    version = Str(non_empty=True)
    databases = ListOf(Nest(DatabaseSchema))


AF_TYPE_OF_POINT = {"Float32": "Single", "Float64": "Double", "Float16": "Single", "Int16": "Int16",
                    "Int32": "Int32", "Digital": "EnumerationValue", "String": "String",
                    "Timestamp": "DateTime"}
_SUBSTITUTION_RE = re.compile(r"%([^%]+)%")
_SUBSTITUTIONS = r"%Element%, %..\Element%, %Attribute%, %Server%, %Database%"
_ATTRIBUTE_FIELDS = ("name", "type", "units", "description", "categories", "pi_point", "value", "is_hidden",
                     "is_excluded")


class _SubstitutionError(ValueError):
    pass


class _Database:
    """What resolving one database needs: its names, templates and the element paths seen so far."""

    def __init__(self, name: str, server: str, default_data_server: str | None) -> None:
        self.name, self.server, self.default_data_server = name, server, default_data_server
        self.templates: dict[str, dict] = {}
        self.effective: dict[str, list[dict]] = {}
        self.paths: dict[str, str] = {}


class AfRefs:
    """Cross-references of the AF part: templates, element trees, PI points, event frames."""

    def __init__(self, servers: list[model.DataServer], problems: list[tuple[tuple, str, bool]]) -> None:
        self.servers = {s.name.upper(): s for s in servers}
        self.points = {s.name.upper(): {p.name.upper(): p for p in s.points} for s in servers}
        self.problems = problems

    def fail(self, path: tuple, message: str) -> None:
        self.problems.append((path, message, False))

    def asset_server(self, raw: dict, path: tuple) -> model.AssetServer:
        name = raw["name"]
        databases = []
        seen: dict[str, int] = {}
        for index, db in enumerate(raw.get("databases", ())):
            first = seen.setdefault(db["name"].upper(), index)
            if first != index:
                self.fail(path + ("databases", index, "name"),
                          f"database {db['name']!r} is already defined at databases[{first}]")
            databases.append(self.database(db, name, path + ("databases", index)))
        ident = raw.get("id") or str(uuid.uuid5(NAMESPACE, "\\\\" + name.upper()))
        return model.AssetServer(name=name, id=ident, version=raw.get("version", model.AssetServer.version),
                                 databases=tuple(databases))

    def database(self, raw: dict, server: str, path: tuple) -> model.Database:
        default = raw.get("default_data_server")
        if default is not None:
            found = self.servers.get(default.upper())
            if found is None:
                known = listing(s.name for s in self.servers.values()) or "none"
                self.fail(path + ("default_data_server",),
                          f"unknown data server {default!r} (data_servers: {known})")
            default = found.name if found else None
        elif len(self.servers) == 1:
            default = next(iter(self.servers.values())).name
        db = _Database(raw["name"], server, default)
        element_templates = self.element_templates(raw.get("element_templates", ()), db, path)
        elements = self.children(raw.get("elements", ()), [], path, db)
        frames = FrameRefs(db.name, db.paths, self.fail)
        frames.add_templates(raw.get("event_frame_templates", ()), path)
        event_frames = [frames.event_frame(f, path + ("event_frames", i))
                        for i, f in enumerate(raw.get("event_frames", ()))]
        schedules = [frames.schedule(s, path + ("schedules", i)) for i, s in enumerate(raw.get("schedules", ()))]
        ident = raw.get("id") or str(uuid.uuid5(NAMESPACE, f"\\\\{server}\\{raw['name']}".upper()))
        return model.Database(name=raw["name"], id=ident, description=raw.get("description", ""),
                              element_templates=tuple(element_templates), elements=tuple(elements),
                              event_frame_templates=tuple(frames.templates.values()),
                              event_frames=tuple(event_frames),
                              schedules=tuple(schedules), default_data_server=default)

    # ---- templates

    def element_templates(self, raws: t.Iterable[dict], db: _Database, path: tuple
                          ) -> list[model.ElementTemplate]:
        for where, raw in first_of_each_name(raws, path, "element_templates", "element template", self.fail):
            attributes = unique_attributes(raw.get("attributes", ()), where, self.fail)
            db.templates[raw["name"].lower()] = {**raw, "_path": where, "attributes": attributes}
        out = []
        for key, raw in db.templates.items():
            base = raw.get("base_template")
            if base is not None and base.lower() not in db.templates:
                self.fail(raw["_path"] + ("base_template",), f"unknown element template {base!r} "
                          f"(element_templates: {listing(r['name'] for r in db.templates.values())})")
                base = None
            elif base is not None:
                base = db.templates[base.lower()]["name"]
            db.effective[key] = self.effective_attributes(key, db, raw["_path"])
            out.append(model.ElementTemplate(
                name=raw["name"], description=raw.get("description", ""),
                categories=tuple(raw.get("categories", ())), base_template=base,
                attributes=tuple(template_attribute(a) for a in raw["attributes"])))
        return out

    def effective_attributes(self, key: str | None, db: _Database, path: tuple) -> list[dict]:
        """The attributes of a template and its base templates (derived ones win by name)."""
        chain: list[str] = []
        seen: set[str] = set()
        while key is not None and key in db.templates:
            if key in seen:
                self.fail(path + ("base_template",), f"base templates form a loop: {' -> '.join(chain)}")
                return []
            seen.add(key)
            chain.append(db.templates[key]["name"])
            base = db.templates[key].get("base_template")
            key = base.lower() if base else None
        merged: dict[str, dict] = {}
        for name in reversed(chain):
            for attribute in db.templates[name.lower()]["attributes"]:
                merged[attribute["name"].lower()] = {**attribute, "template": chain[0]}
        return list(merged.values())

    # ---- elements

    def children(self, raws: t.Iterable[dict], ancestors: list[str], path: tuple, db: _Database
                 ) -> list[model.Element]:
        out = []
        seen: dict[str, int] = {}
        for index, raw in enumerate(raws):
            where = path + ("elements", index)
            first = seen.setdefault(raw["name"].lower(), index)
            if first != index:
                self.fail(where + ("name",), f"element {raw['name']!r} is already defined at "
                                             f"elements[{first}] (sibling names must differ, ignoring case)")
                continue
            out.append(self.element(raw, ancestors, where, db))
        return out

    def element(self, raw: dict, ancestors: list[str], path: tuple, db: _Database) -> model.Element:
        name = raw["name"]
        template = raw.get("template")
        categories: list[str] = []
        attributes: dict[str, dict] = {}
        if template is not None:
            if template.lower() not in db.templates:
                known = listing(r["name"] for r in db.templates.values()) or "none"
                self.fail(path + ("template",),
                          f"unknown element template {template!r} (element_templates: {known})")
                template = None
            else:
                tmpl = db.templates[template.lower()]
                template = tmpl["name"]
                categories.extend(tmpl.get("categories", ()))
                for attribute in db.effective[template.lower()]:
                    attributes[attribute["name"].lower()] = {**attribute, "_path": path + ("template",)}
        seen: set[str] = set()
        for index, given in enumerate(raw.get("attributes", ())):
            key = given["name"].lower()
            where = path + ("attributes", index)
            if key in seen:
                self.fail(where + ("name",), f"attribute {given['name']!r} is defined twice on this element")
                continue
            seen.add(key)
            merged = {**attributes.get(key, {}), **given, "_path": where}
            if "value" in given and "pi_point" not in given:
                merged.pop("pi_point", None)
            if "pi_point" in given:
                merged.pop("value", None)
            attributes[key] = merged
        categories.extend(c for c in raw.get("categories", ()) if c not in categories)
        chain = [*ancestors, name]
        db.paths["\\".join(chain).lower()] = "\\".join(chain)
        return model.Element(
            name=name, description=raw.get("description", ""), template=template,
            categories=tuple(categories),
            attributes=tuple(self.attribute(a, chain, db) for a in attributes.values()),
            children=tuple(self.children(raw.get("elements", ()), chain, path, db)))

    def attribute(self, given: dict, chain: list[str], db: _Database) -> model.Attribute:
        path = given["_path"]
        from_template = path[-1] == "template"
        fields_ = {k: given[k] for k in _ATTRIBUTE_FIELDS if k in given}
        config = fields_.pop("pi_point", None)
        pi_point = None
        if config is not None:
            try:
                pi_point, point = self.resolve_point(config, chain, given["name"], db)
            except _SubstitutionError as exc:
                if from_template:
                    origin = f"attribute {given['name']!r} of template {given.get('template')!r}"
                    self.fail(path, f"{origin}: {exc}")
                else:
                    self.fail(path + ("pi_point",), str(exc))
            else:
                fields_.setdefault("type", AF_TYPE_OF_POINT[point.point_type])
        elif fields_.get("value") is not None:
            problem = value_problem(fields_["value"], fields_.get("type"))
            if problem:
                self.fail(path if from_template else path + ("value",),
                          f"attribute {given['name']!r}: {problem}")
            fields_.setdefault("type", infer_type(fields_["value"]))
        return model.Attribute(pi_point=pi_point, template=given.get("template"), **fields_)

    def resolve_point(self, config: str, chain: list[str], attribute: str, db: _Database
                      ) -> tuple[str, model.Point]:
        """A PI point config string -> ("\\\\SERVER\\TAG", point), after AF substitutions."""

        def substitute(match: re.Match) -> str:
            token = match.group(1)
            ups = 0
            while token.startswith("..\\"):
                ups, token = ups + 1, token[3:]
            low = token.lower()
            if low == "element":
                if ups >= len(chain):
                    raise _SubstitutionError(f"%{match.group(1)}% in {config!r} goes above the top element "
                                             f"{chain[0]!r}")
                return chain[-1 - ups]
            if ups == 0 and low == "attribute":
                return attribute
            if ups == 0 and low == "database":
                return db.name
            if ups == 0 and low == "server":
                if db.default_data_server is None:
                    raise _SubstitutionError(f"%Server% in {config!r} needs default_data_server on database "
                                             f"{db.name!r}")
                return db.default_data_server
            raise _SubstitutionError(f"unknown substitution %{match.group(1)}% in {config!r} "
                                     f"(known: {_SUBSTITUTIONS})")

        text = _SUBSTITUTION_RE.sub(substitute, config).split(";", 1)[0].strip()
        shown = f"{text!r} (from {config!r})" if text != config else repr(text)
        if text.startswith("\\\\"):
            server_name, sep, tag = text[2:].partition("\\")
            if not sep or not tag:
                raise _SubstitutionError(f"PI point reference {shown} must read \\\\SERVER\\TAG or TAG")
        else:
            default, tag = db.default_data_server, text
            if default is None:
                raise _SubstitutionError(f"PI point {shown} names no server and database {db.name!r} has no "
                                         f"default_data_server")
            server_name = default
        server = self.servers.get(server_name.upper())
        if server is None:
            raise _SubstitutionError(f"PI point reference {shown}: unknown data server {server_name!r}")
        point = self.points[server.name.upper()].get(tag.upper())
        if point is None:
            names = [p.name for p in server.points]
            close = difflib.get_close_matches(tag, names, n=1, cutoff=0.8)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            origin = f" (from {config!r})" if text != config else ""
            raise _SubstitutionError(f"PI point {tag!r}{origin} not found on data server "
                                     f"{server.name!r}{hint}")
        return f"\\\\{server.name}\\{point.name}", point
