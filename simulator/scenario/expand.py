"""simulator.scenario.expand: `for_each` expansion of list items in a marked scenario tree.

A list item that is a mapping with a `for_each` key is repeated for the cartesian product of its
variables (first variable outermost). A variable is a list, `{range: [first, last]}` or
`{range: [first, last, step]}` (inclusive integers), or a string that is exactly one reference to
a list, of an enclosing item or of an earlier variable of the same for_each
("{equipment.sensors}"). Inside the item every string (and mapping key) is a format string over
the variables: "{plant}.U{unit:02d}.{sensor.code}". Only dotted keys into mappings are allowed
(no attributes, no [index]). A string that is exactly one reference
("{sensor.signal}") becomes the referenced value itself, keeping its type. Nested items see the
variables of the items around them. Strings outside any for_each item are left alone; inside
`schedules`, the names the archive fills per frame ({index}, {element}, {template}) are
kept as written unless a for_each defines them. Expanded items keep the template's marks, so a
later error points at the line of the template.

Templates are compiled once into render functions. Subtrees without any "{" are shared between
all copies, and so are rendered mappings and lists that come out equal (the `events` of every
copy of a sensor): the schema then checks each of them once, so 30,000 expanded points cost
little more than 30,000 small dicts.
"""
from __future__ import annotations

import re
import string
import typing as t

from picommon.markedyaml import MarkedDict
from picommon.markedyaml import MarkedList
from picommon.markedyaml import format_path
from picommon.markedyaml import new_dict

from ..pi.errors import ScenarioError

if t.TYPE_CHECKING:
    from picommon.markedyaml import Mark

Scope = dict[str, object]
Render = t.Callable[[Scope], object]
CONVERSIONS: dict[str, t.Callable[[object], str]] = {"r": repr, "s": str, "a": ascii}  # {x!r}, {x!s}, {x!a}

#: Filled by the archive per generated event frame; kept as written inside `schedules`.
RESERVED = frozenset({"index", "element", "template"})
#: The most items all the for_each blocks of one file may produce together (large.yaml makes 30,010).
MAX_ITEMS = 300_000
#: The widest format spec allowed ("{n:05d}" has width 5).
MAX_WIDTH = 200

_FORMATTER = string.Formatter()
_VARIABLE_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEY_RE = re.compile(r"[^.\[\]{}!:]+")


def expand(root: MarkedDict, *, file: str) -> MarkedDict:
    """The tree with every for_each item expanded; ScenarioError (with line) on a bad template."""
    return _Expander(file).walk(root, (), False, set())  # type: ignore[return-value]


class _Expander:
    def __init__(self, file: str) -> None:
        self.file = file
        self.made = 0  # items made by for_each so far, against MAX_ITEMS

    def fail(self, mark: Mark | None, path: tuple, message: str) -> t.NoReturn:
        line, column = mark if mark else (None, None)
        raise ScenarioError(message, file=self.file, line=line, column=column, path=format_path(path))

    # ---- outside any for_each: look for lists holding for_each items, change nothing else

    def walk(self, node: object, path: tuple, sched: bool, active: set[int]) -> object:
        if not isinstance(node, (MarkedDict, MarkedList)):
            return node
        if id(node) in active:
            self.fail(node.mark, path, "an alias refers to a node that contains it (a recursive structure)")
        active.add(id(node))
        try:
            if isinstance(node, MarkedDict):
                changed = {}
                for key, value in node.items():
                    if not path and key == "definitions":
                        continue  # free-form anchors for the rest of the file; never expanded
                    new = self.walk(value, path + (key,), sched or key == "schedules", active)
                    if new is not value:
                        changed[key] = new
                if not changed:
                    return node
                copied = new_dict(node, like=node)
                copied.update(changed)
                return copied
            items = MarkedList()
            marks: list[Mark] = []
            for i, item in enumerate(node):
                mark = node.item_marks[i]
                if isinstance(item, MarkedDict) and "for_each" in item:
                    copies = t.cast("list", self.compile_for_each(item, path + (i,), sched, 0)({}))
                    items.extend(copies)
                    marks.extend([mark] * len(copies))
                else:
                    items.append(self.walk(item, path + (i,), sched, active))
                    marks.append(mark)
            if len(items) == len(node) and all(a is b for a, b in zip(items, node)):
                return node
            items.mark, items.item_marks = node.mark, marks
            return items
        finally:
            active.discard(id(node))

    # ---- templates: compile to render(scope) functions; None means "renders to itself"

    def compile(self, node: object, mark: Mark, path: tuple, sched: bool, depth: int = 0) -> Render | None:
        if depth > 200:
            self.fail(mark, path, "nested too deeply (a recursive alias?)")
        if isinstance(node, str):
            return self.compile_str(node, mark, path, sched) if ("{" in node or "}" in node) else None
        if isinstance(node, MarkedDict):
            return self.compile_dict(node, path, sched, depth)
        if isinstance(node, MarkedList):
            return self.compile_list(node, path, sched, depth)
        return None

    def compile_dict(self, node: MarkedDict, path: tuple, sched: bool, depth: int = 0, *,
                     share: bool = True) -> Render | None:
        """A render for a mapping; with `share`, equal renderings come out as one shared object."""
        parts = []
        renamed = False
        for key, value in node.items():
            key_render = None
            if isinstance(key, str) and ("{" in key or "}" in key):
                key_render = self.compile_str(key, node.key_marks[key], path + (key,), sched)
                renamed = True
            value_render = self.compile(value, node.value_marks[key], path + (key,),
                                        sched or key == "schedules", depth + 1)
            if key_render or value_render:
                parts.append((key, key_render, value_render))
        if not parts:
            return None

        memo: dict[tuple, MarkedDict] = {}

        def render(scope: Scope) -> MarkedDict:
            rendered = [(key, key_render(scope) if key_render else None,
                         value_render(scope) if value_render else node[key])
                        for key, key_render, value_render in parts]
            shared = _memo_key([v for _, k, value in rendered for v in (k, value)]) if share else None
            hit = memo.get(shared) if shared is not None else None
            if hit is not None:
                return hit
            out = new_dict(node, like=node)
            if renamed:
                out.key_marks, out.value_marks = dict(node.key_marks), dict(node.value_marks)
            for key, new_key, value in rendered:
                if new_key is None:
                    out[key] = value
                    continue
                if not isinstance(new_key, str):
                    new_key = str(new_key)
                del out[key]
                out[new_key] = value
                out.key_marks[new_key] = node.key_marks[key]
                out.value_marks[new_key] = node.value_marks[key]
            if shared is not None:
                memo[shared] = out
            return out

        return render

    def compile_list(self, node: MarkedList, path: tuple, sched: bool, depth: int = 0) -> Render | None:
        entries: list[tuple[bool, object, Render | None, Mark]] = []
        dynamic = False
        for i, item in enumerate(node):
            mark = node.item_marks[i]
            if isinstance(item, MarkedDict) and "for_each" in item:
                entries.append((True, item, self.compile_for_each(item, path + (i,), sched, depth), mark))
                dynamic = True
            else:
                item_render = self.compile(item, mark, path + (i,), sched, depth + 1)
                entries.append((False, item, item_render, mark))
                dynamic = dynamic or item_render is not None
        if not dynamic:
            return None

        memo: dict[tuple, MarkedList] = {}

        def render(scope: Scope) -> MarkedList:
            out = MarkedList()
            marks: list[Mark] = []
            for repeated, item, item_render, mark in entries:
                if repeated:
                    copies = item_render(scope)  # type: ignore[misc]
                    out.extend(copies)  # type: ignore[arg-type]
                    marks.extend([mark] * len(copies))  # type: ignore[arg-type]
                else:
                    out.append(item_render(scope) if item_render else item)
                    marks.append(mark)
            shared = _memo_key(out)
            hit = memo.get(shared) if shared is not None else None
            if hit is not None and hit.item_marks == marks:
                return hit
            out.mark, out.item_marks = node.mark, marks
            if shared is not None:
                memo[shared] = out
            return out

        return render

    def compile_for_each(self, item: MarkedDict, path: tuple, sched: bool, depth: int) -> Render:
        spec = item["for_each"]
        spec_mark = item.value_marks["for_each"]
        spec_path = path + ("for_each",)
        if not isinstance(spec, MarkedDict) or not spec:
            self.fail(spec_mark, spec_path, "for_each must be a mapping of variable name to a list or "
                                            "{range: [first, last]}")
        names: list[str] = []
        sources: list[Render] = []
        for name, values in spec.items():
            if not isinstance(name, str) or not _VARIABLE_RE.fullmatch(name):
                self.fail(spec.key_marks[name], spec_path + (name,),
                          f"for_each variable name {name!r} must be an identifier (letters, digits, _)")
            names.append(name)
            sources.append(self.compile_values(values, spec.value_marks[name], spec_path + (name,), sched))
        body = new_dict(((k, v) for k, v in item.items() if k != "for_each"), like=item)
        body_render = self.compile_dict(body, path, sched, depth + 1, share=False)

        def scopes(scope: Scope, level: int) -> t.Iterator[Scope]:
            """Every combination; a variable's list may refer to the variables before it."""
            values = sources[level](scope)
            name = names[level]
            if level == len(names) - 1:
                for value in values:  # type: ignore[attr-defined]
                    inner = dict(scope)
                    inner[name] = value
                    yield inner
                return
            for value in values:  # type: ignore[attr-defined]
                inner = dict(scope)
                inner[name] = value
                yield from scopes(inner, level + 1)

        def render(scope: Scope) -> list[object]:
            out = []
            for inner in scopes(scope, 0):
                self.made += 1
                if self.made > MAX_ITEMS:
                    self.fail(spec_mark, spec_path, f"the for_each blocks make more than {MAX_ITEMS} items")
                out.append(body if body_render is None else body_render(inner))
            return out

        return render

    def compile_values(self, values: object, mark: Mark, path: tuple, sched: bool) -> Render:
        """A render giving the list of values of one for_each variable."""
        if isinstance(values, MarkedDict) and "range" in values:
            if len(values) != 1:
                extra = ", ".join(repr(k) for k in values if k != "range")
                self.fail(mark, path, f"a range takes only 'range: [first, last, step]', not {extra}")
            bounds = values["range"]
            bounds_mark = values.value_marks["range"]
            bounds_render = self.compile(bounds, bounds_mark, path + ("range",), sched)

            def render_range(scope: Scope) -> range:
                got = bounds_render(scope) if bounds_render else bounds
                return self.make_range(got, bounds_mark, path + ("range",))

            return render_range
        if isinstance(values, MarkedList):
            list_render = self.compile(values, mark, path, sched)
            if list_render is None:
                return lambda scope: values
            return list_render
        if isinstance(values, str):
            ref = self.compile_str(values, mark, path, sched)

            def render_ref(scope: Scope) -> list[object]:
                got = ref(scope)
                if not isinstance(got, list):
                    self.fail(mark, path, f"for_each variable {path[-1]!r}: {values!r} gives {got!r}, "
                                          f"not a list")
                return got

            return render_ref
        self.fail(mark, path, f"for_each variable {path[-1]!r} must be a list, {{range: [first, last]}} "
                              f"or a reference to a list, not {values!r}")

    def make_range(self, bounds: object, mark: Mark, path: tuple) -> range:
        ok = (isinstance(bounds, list) and len(bounds) in (2, 3)
              and all(isinstance(b, int) and not isinstance(b, bool) for b in bounds))
        if not ok:
            self.fail(mark, path, f"range must be [first, last] or [first, last, step] of integers, "
                                  f"not {bounds!r}")
        first, last = bounds[0], bounds[1]  # type: ignore[index]
        step = bounds[2] if len(bounds) == 3 else 1  # type: ignore[arg-type, index]
        if step == 0:
            self.fail(mark, path, "range step must not be 0")
        values = range(first, last + (1 if step > 0 else -1), step)
        if not values:
            self.fail(mark, path, f"range [{first}, {last}] with step {step} is empty")
        if len(values) > MAX_ITEMS:
            self.fail(mark, path, f"range [{first}, {last}] has {len(values)} values (at most {MAX_ITEMS})")
        return values

    # ---- strings

    def compile_str(self, text: str, mark: Mark, path: tuple, sched: bool) -> Render:
        try:
            parsed = list(_FORMATTER.parse(text))
        except ValueError as exc:
            self.fail(mark, path, f"bad format string {text!r}: {exc} "
                                  f"(write {{{{ and }}}} for literal braces)")
        segments: list[tuple[str, list[str] | None, str, Render | None, str | None]] = []
        for literal, field, spec, conversion in parsed:
            if field is None:
                segments.append((literal, None, "", None, None))
                continue
            keys = self.parse_field(field, text, mark, path)
            if spec and any(int(number) > MAX_WIDTH for number in re.findall(r"\d+", spec)):
                self.fail(mark, path, f"{text!r}: format width or precision above {MAX_WIDTH}")
            spec_render = None
            if spec and ("{" in spec or "}" in spec):
                spec_render = self.compile_str(spec, mark, path, sched)
            segments.append((literal, keys, spec or "", spec_render, conversion))
        single = (len(segments) == 1 and segments[0][0] == "" and segments[0][1] is not None
                  and not segments[0][2] and segments[0][4] is None)
        resolve = self.resolve
        if single and not sched:
            keys0 = segments[0][1]
            get = _getter(keys0)  # type: ignore[arg-type]

            def render_single(scope: Scope) -> object:
                try:
                    return get(scope)
                except (KeyError, TypeError):
                    return resolve(keys0, scope, text, mark, path)  # type: ignore[arg-type]

            return render_single
        if not sched and all(s[3] is None for s in segments):
            return self.compile_plain(segments, text, mark, path)

        def render(scope: Scope) -> object:
            if single:
                keys = segments[0][1]
                if keys[0] in scope or keys[0] not in RESERVED:  # type: ignore[index]
                    return resolve(keys, scope, text, mark, path)  # type: ignore[arg-type]
            kept = sched and any(k is not None and k[0] not in scope and k[0] in RESERVED
                                 for _, k, _, _, _ in segments)
            out = []
            for literal, keys, spec, spec_render, conversion in segments:
                out.append(literal.replace("{", "{{").replace("}", "}}") if kept else literal)
                if keys is None:
                    continue
                if kept and keys[0] not in scope and keys[0] in RESERVED:
                    out.append("{" + ".".join(keys) + (f"!{conversion}" if conversion else "")
                               + (f":{spec}" if spec else "") + "}")
                    continue
                value = resolve(keys, scope, text, mark, path)
                if conversion:
                    value = CONVERSIONS[conversion](value)
                if spec_render is not None:
                    spec = str(spec_render(scope))
                try:
                    out.append(format(value, spec))
                except (ValueError, TypeError) as exc:
                    self.fail(mark, path, f"cannot format {'.'.join(keys)} = {value!r} with "
                                          f"':{spec}' in {text!r}: {exc}")
            return "".join(out)

        return render

    def compile_plain(self, segments: list, text: str, mark: Mark, path: tuple) -> Render:
        """The common case, rendered by one str.format call: "{plant}.U{unit:02d}" -> "{0}.U{1:02d}"."""
        pieces: list[str] = []
        keys_list: list[list[str]] = []
        for literal, keys, spec, _, conversion in segments:
            pieces.append(literal.replace("{", "{{").replace("}", "}}"))
            if keys is not None:
                pieces.append("{" + str(len(keys_list)) + (f"!{conversion}" if conversion else "")
                              + (f":{spec}" if spec else "") + "}")
                keys_list.append(keys)
        template = "".join(pieces)
        getters = [_getter(keys) for keys in keys_list]
        resolve = self.resolve

        def render_plain(scope: Scope) -> str:
            try:
                values = [get(scope) for get in getters]
            except (KeyError, TypeError, IndexError):
                for keys in keys_list:
                    resolve(keys, scope, text, mark, path)
                raise
            try:
                return template.format(*values)
            except (ValueError, TypeError) as exc:
                for keys, value in zip(keys_list, values):
                    spec = next(s[2] for s in segments if s[1] is keys)
                    try:
                        format(value, spec)
                    except (ValueError, TypeError) as inner:
                        self.fail(mark, path, f"cannot format {'.'.join(keys)} = {value!r} with "
                                              f"':{spec}' in {text!r}: {inner}")
                self.fail(mark, path, f"cannot format {text!r}: {exc}")

        return render_plain

    def parse_field(self, field: str, text: str, mark: Mark, path: tuple) -> list[str]:
        if field == "" or field.isdigit():
            self.fail(mark, path, f"{text!r}: positional {{}} fields are not allowed; "
                                  f"name a for_each variable")
        keys = field.split(".")
        if not _VARIABLE_RE.fullmatch(keys[0]) or not all(_KEY_RE.fullmatch(k) for k in keys[1:]):
            self.fail(mark, path, f"{text!r}: {{{field}}} is not a variable reference; use {{name}} or "
                                  f"{{name.key}} (no [index] or attribute access)")
        return keys

    def resolve(self, keys: list[str], scope: Scope, text: str, mark: Mark, path: tuple) -> object:
        try:
            value = scope[keys[0]]
            for key in keys[1:]:
                if not isinstance(value, dict):
                    raise TypeError
                value = value[key]
        except (KeyError, TypeError):
            self.explain(keys, scope, text, mark, path)
        return value

    def explain(self, keys: list[str], scope: Scope, text: str, mark: Mark, path: tuple) -> t.NoReturn:
        """Fail with why `keys` does not resolve in `scope`."""
        head = keys[0]
        if head not in scope:
            known = ", ".join(sorted(scope)) or "none"
            hint = " (it is only filled in for event frame schedules)" if head in RESERVED else ""
            self.fail(mark, path, f"unknown variable {head!r} in {text!r}{hint}; known variables: {known}")
        value = scope[head]
        for depth, key in enumerate(keys[1:], start=1):
            where = ".".join(keys[:depth])
            if not isinstance(value, dict):
                self.fail(mark, path, f"{{{'.'.join(keys)}}} in {text!r}: {where} is {value!r}, "
                                      f"not a mapping")
            if key not in value:
                known = ", ".join(str(k) for k in value) or "none"
                self.fail(mark, path, f"{{{'.'.join(keys)}}} in {text!r}: {where} has no key {key!r} "
                                      f"(keys: {known})")
            value = value[key]
        raise AssertionError(keys)


def _memo_key(values: list[object]) -> tuple | None:
    """A key under which equal renderings share one object (1, 1.0 and True stay apart), or None.

    Sharing lets the schema validate a mapping that many for_each copies render alike only once.
    """
    key = (*values, *map(type, values))
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _getter(keys: list[str]) -> t.Callable[[Scope], object]:
    """scope -> scope[k0][k1]...; KeyError or TypeError when a key is missing or a value is no mapping."""
    if len(keys) == 1:
        (k0,) = keys
        return lambda scope: scope[k0]
    if len(keys) == 2:
        k0, k1 = keys

        def get2(scope: Scope) -> object:
            value = scope[k0]
            if not isinstance(value, dict):
                raise TypeError(k0)
            return value[k1]

        return get2

    def get(scope: Scope) -> object:
        value: object = scope
        for key in keys:
            if not isinstance(value, dict):
                raise TypeError(key)
            value = value[key]
        return value

    return get
