"""simulator.scenario.loader: scenario YAML -> a tree that remembers where each node was written.

`read_yaml` parses with a SafeLoader subclass (the C one when PyYAML has it) whose mappings are
`MarkedDict` and sequences `MarkedList`: both carry the (line, column) of every key, value and
item, so any later error reads `file:line:column: dotted.path: message`. The implicit types are
YAML 1.2's (`true`/`false` only, decimal ints, no timestamps): `On`, `Off`, `yes`, `no` and
`2026-11-25T00:00:00Z` stay strings. `${NAME}` and `${NAME:-default}` in string scalars are taken
from the environment (`$${` writes a literal `${`). `load_scenario` runs read -> expand ->
schema and is the only entry point the rest of the simulator uses.
"""
from __future__ import annotations

import os
import re
import typing as t
from pathlib import Path

import yaml

from ..errors import ScenarioError

if t.TYPE_CHECKING:
    from collections.abc import Iterable
    from collections.abc import Mapping

    from .model import Scenario

Mark = tuple[int, int]  # (line, column), both 1-based

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
MAX_SHOWN_ERRORS = 10


class MarkedDict(dict):
    """A YAML mapping with `mark` (its own position), `key_marks` and `value_marks` per key.

    Hashable by identity, so that the schema can cache what it made of a mapping that for_each
    copies share.
    """

    __slots__ = ("mark", "key_marks", "value_marks")
    mark: Mark
    key_marks: dict[t.Any, Mark]
    value_marks: dict[t.Any, Mark]
    __hash__ = object.__hash__  # type: ignore[assignment]


class MarkedList(list):
    """A YAML sequence with `mark` (its own position) and `item_marks`, one per item; hashable by identity."""

    __slots__ = ("mark", "item_marks")
    mark: Mark
    item_marks: list[Mark]
    __hash__ = object.__hash__  # type: ignore[assignment]


def new_dict(items: Iterable | Mapping = (), *, like: MarkedDict | None = None,
             mark: Mark = (0, 0)) -> MarkedDict:
    """A MarkedDict with the items given, sharing the marks of `like` when given."""
    out = MarkedDict(items)
    if like is not None:
        out.mark, out.key_marks, out.value_marks = like.mark, like.key_marks, like.value_marks
    else:
        out.mark, out.key_marks, out.value_marks = mark, {}, {}
    return out


# --------------------------------------------------------------------------------------------------
# the YAML loader

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_ENV_RE = re.compile(r"\$(\$)?\{([^}]*)\}")
_ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MERGE_TAG = "tag:yaml.org,2002:merge"


def _mark_of(node: yaml.Node) -> Mark:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """SafeLoader with line marks, YAML 1.2 core scalars and ${ENV} substitution."""

    file = "<scenario>"
    env: Mapping[str, str] = {}


_Loader.yaml_implicit_resolvers = {}
for _tag, _regex, _first in (
    ("tag:yaml.org,2002:bool", r"true|True|TRUE|false|False|FALSE", "tTfF"),
    ("tag:yaml.org,2002:int", r"[-+]?[0-9][0-9_]*|0x[0-9a-fA-F_]+|0o[0-7_]+", "-+0123456789"),
    ("tag:yaml.org,2002:float",
     r"[-+]?(?:[0-9][0-9_]*)?\.[0-9_]+(?:[eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+"
     r"|[-+]?[0-9][0-9_]*\.|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)", "-+0123456789."),
    (_MERGE_TAG, r"<<", "<"),
    ("tag:yaml.org,2002:null", r"~|null|Null|NULL|", ["~", "n", "N", ""]),
):
    _Loader.add_implicit_resolver(_tag, re.compile(f"^(?:{_regex})$"), list(_first))


def _substitute(loader: _Loader, text: str, node: yaml.Node) -> str:
    def replace(match: re.Match) -> str:
        if match.group(1):  # "$${...}" is a literal "${...}"
            return "${" + match.group(2) + "}"
        body = match.group(2)
        name, sep, default = body.partition(":-")
        if not _ENV_NAME_RE.fullmatch(name):
            line, column = _mark_of(node)
            raise ScenarioError(f"bad environment reference ${{{body}}}: expected ${{NAME}} or "
                                f"${{NAME:-default}}", file=loader.file, line=line, column=column)
        value = loader.env.get(name)
        if value is None or (sep and value == ""):
            if sep:
                return default
            line, column = _mark_of(node)
            raise ScenarioError(f"environment variable {name} is not set (write ${{{name}:-default}} "
                                f"to give a default)", file=loader.file, line=line, column=column)
        return value

    return _ENV_RE.sub(replace, text)


def _construct_str(loader: _Loader, node: yaml.ScalarNode) -> str:
    value = node.value
    return _substitute(loader, value, node) if "$" in value else value


def _construct_int(loader: _Loader, node: yaml.ScalarNode) -> int:
    text = node.value.replace("_", "")
    try:
        return int(text, 0) if text.startswith(("0x", "0o")) else int(text, 10)
    except ValueError:
        line, column = _mark_of(node)
        raise ScenarioError(f"{node.value!r} is not an integer", file=loader.file, line=line,
                            column=column) from None


def _construct_float(loader: _Loader, node: yaml.ScalarNode) -> float:
    text = node.value.replace("_", "").lower()
    if text.endswith("inf"):
        return float("-inf") if text.startswith("-") else float("inf")
    try:
        return float(text)
    except ValueError:
        line, column = _mark_of(node)
        raise ScenarioError(f"{node.value!r} is not a number", file=loader.file, line=line,
                            column=column) from None


def _construct_map(loader: _Loader, node: yaml.MappingNode):
    data = MarkedDict()
    data.mark, data.key_marks, data.value_marks = _mark_of(node), {}, {}
    yield data
    seen: dict[object, yaml.Node] = {}
    for key_node, _ in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.tag != _MERGE_TAG:
            ident = (key_node.tag, key_node.value)
            if ident in seen:
                first = seen[ident].start_mark.line + 1
                line, column = _mark_of(key_node)
                raise ScenarioError(f"duplicate key {key_node.value!r} (first at line {first})",
                                    file=loader.file, line=line, column=column)
            seen[ident] = key_node
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, (MarkedDict, MarkedList)) or not _hashable(key):
            line, column = _mark_of(key_node)
            raise ScenarioError("a mapping key must be a plain value, not a list or mapping",
                                file=loader.file, line=line, column=column) from None
        data[key] = loader.construct_object(value_node)
        data.key_marks[key] = _mark_of(key_node)
        data.value_marks[key] = _mark_of(value_node)


def _construct_seq(loader: _Loader, node: yaml.SequenceNode):
    data = MarkedList()
    data.mark = _mark_of(node)
    data.item_marks = [_mark_of(item) for item in node.value]
    yield data
    data.extend(loader.construct_object(item) for item in node.value)


_Loader.add_constructor("tag:yaml.org,2002:str", _construct_str)
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def _construct_unsupported(loader: _Loader, node: yaml.Node) -> t.NoReturn:
    line, column = _mark_of(node)
    raise ScenarioError(f"YAML tag {node.tag} is not supported here (write a plain value or quote it)",
                        file=loader.file, line=line, column=column)


for _tag in ("omap", "pairs", "set", "timestamp", "binary"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _construct_unsupported)
_Loader.add_constructor(None, _construct_unsupported)


def read_yaml(text: str, *, file: str = "<scenario>", env: Mapping[str, str] | None = None) -> object:
    """Parse one YAML document into MarkedDict/MarkedList/scalars; errors become ScenarioError."""
    loader = _Loader(text)
    loader.file = file
    loader.env = os.environ if env is None else env
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = f"invalid YAML: {exc.problem or exc.context or 'syntax error'}"
        if exc.context and exc.problem and exc.context_mark is not None:
            message += f" ({exc.context} at line {exc.context_mark.line + 1})"
        raise ScenarioError(message, file=file, line=mark.line + 1 if mark else None,
                            column=mark.column + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"invalid YAML: {exc}", file=file) from None
    except RecursionError:
        raise ScenarioError("invalid YAML: nested too deeply", file=file) from None
    finally:
        loader.dispose()


# --------------------------------------------------------------------------------------------------
# paths and marks

_PLAIN_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")


def format_path(path: Iterable[object]) -> str:
    """`("data_servers", 0, "points", 3, "name")` -> "data_servers[0].points[3].name"."""
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        elif isinstance(part, str) and _PLAIN_KEY_RE.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out


def locate(root: object, path: Iterable[object], *, key: bool = False) -> Mark | None:
    """The (line, column) of the node at `path`, or of its deepest existing ancestor.

    With `key`, the position of the last key itself rather than of its value (for unknown keys).
    """
    node = root
    mark: Mark | None = getattr(root, "mark", None)
    parts = list(path)
    for i, part in enumerate(parts):
        if isinstance(node, MarkedDict) and _hashable(part) and part in node:
            last = i == len(parts) - 1
            mark = node.key_marks[part] if key and last else node.value_marks[part]
            node = node[part]
        elif isinstance(node, MarkedList) and isinstance(part, int) and 0 <= part < len(node):
            mark = node.item_marks[part]
            node = node[part]
        else:
            break
    return mark


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def error_at(root: object, file: str, problems: list[tuple[tuple, str, bool]]) -> ScenarioError:
    """One ScenarioError for `problems` ((path, message, at_key) triples), the first by line.

    The message of the first problem leads; up to MAX_SHOWN_ERRORS follow as full
    `file:line:column: path: message` lines. `.errors` holds one ScenarioError per problem (the same
    message at the same place counts once).
    """
    located = []
    seen: set[tuple] = set()
    for path, message, at_key in problems:
        mark = locate(root, path, key=at_key)
        line, column = mark if mark else (None, None)
        if mark is not None and (line, column, message) in seen:
            continue  # one mistake in a mapping that many for_each copies share
        seen.add((line, column, message))
        located.append(ScenarioError(message, file=file, line=line, column=column, path=format_path(path)))
    located.sort(key=lambda e: (e.line or 0, e.column or 0))
    first = located[0]
    if len(located) == 1:
        first.errors = located  # type: ignore[attr-defined]
        return first
    shown = located[:MAX_SHOWN_ERRORS]
    more = f"\n... and {len(located) - len(shown)} more" if len(located) > len(shown) else ""
    message = first.message + f"\n({len(located)} problems)\n" + "\n".join(str(e) for e in shown) + more
    error = ScenarioError(message, file=file, line=first.line, column=first.column, path=first.path)
    error.errors = located  # type: ignore[attr-defined]
    return error


# --------------------------------------------------------------------------------------------------
# entry points

def scenario_path(name_or_path: str | os.PathLike) -> Path:
    """A path to a scenario file: an existing path as is, or a bare name from simulator/scenarios/.

    "default", "qa-gaps" or "default.yaml" name a bundled scenario; anything with a directory part or
    that exists on disk is a path. ScenarioError when neither exists.
    """
    text = os.fspath(name_or_path)
    path = Path(text)
    if path.is_file():
        return path
    bare = not (os.sep in text or (os.altsep and os.altsep in text))
    if bare:
        bundled = SCENARIO_DIR / (text if text.endswith((".yaml", ".yml")) else f"{text}.yaml")
        if bundled.exists():
            return bundled
        known = ", ".join(sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml")))
        raise ScenarioError(f"no scenario file or bundled scenario named {text!r} (bundled: {known})",
                            file=text)
    raise ScenarioError("no such scenario file", file=text)


def read_scenario_tree(path_or_name: str | os.PathLike, *, env: Mapping[str, str] | None = None
                       ) -> tuple[str, object]:
    """(file, expanded tree): the YAML read with marks and its for_each items expanded."""
    from .expand import expand

    path = scenario_path(path_or_name)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read scenario file: {exc}", file=file) from None
    root = read_yaml(text, file=file, env=env)
    if root is None:
        raise ScenarioError("the scenario file is empty", file=file, line=1, column=1)
    if not isinstance(root, MarkedDict):
        line, column = getattr(root, "mark", (1, 1))
        raise ScenarioError("a scenario file must be a mapping (name:, data_servers:, ...)",
                            file=file, line=line, column=column)
    return file, expand(root, file=file)


def load_scenario(path_or_name: str | os.PathLike, *, env: Mapping[str, str] | None = None) -> Scenario:
    """The validated Scenario of a YAML file or bundled scenario name; ScenarioError if it is wrong.

    Args:
        path_or_name: a path to a .yaml file, or a bundled name such as "default", "large", "qa-gaps".
        env: the variables for ${NAME} substitution (default: os.environ).
    """
    from .schema import Problems
    from .schema import build

    file, tree = read_scenario_tree(path_or_name, env=env)
    try:
        return build(t.cast("MarkedDict", tree), file=file)
    except Problems as exc:
        raise error_at(tree, file, exc.problems) from None


def validate_file(path: str | os.PathLike, *, env: Mapping[str, str] | None = None) -> str:
    """Load the scenario and summarise it in one line for `pi-sim validate` (ScenarioError if wrong).

    E.g. "reference-plant: 1 data server, 111 points, 1 asset server, 63 elements, 273 attributes,
    4 event frame templates, 0 event frames, 4 schedules, 0 faults".
    """
    scenario = load_scenario(path, env=env)
    databases = [db for server in scenario.asset_servers for db in server.databases]
    elements = attributes = 0
    stack = [element for db in databases for element in db.elements]
    while stack:
        element = stack.pop()
        elements += 1
        attributes += len(element.attributes)
        stack.extend(element.children)
    counts = (
        (len(scenario.data_servers), "data server"),
        (sum(len(server.points) for server in scenario.data_servers), "point"),
        (len(scenario.asset_servers), "asset server"),
        (elements, "element"),
        (attributes, "attribute"),
        (sum(len(db.event_frame_templates) for db in databases), "event frame template"),
        (sum(len(db.event_frames) for db in databases), "event frame"),
        (sum(len(db.schedules) for db in databases), "schedule"),
        (len(scenario.faults), "fault"),
    )
    return f"{scenario.name}: " + ", ".join(f"{n} {noun}{'' if n == 1 else 's'}" for n, noun in counts)
