"""picommon.markedyaml: YAML that remembers where each node was written, for scenario and config files.

`read_yaml` parses one document with PyYAML's safe loader (the C one when PyYAML has it) whose
mappings are `MarkedDict` and sequences `MarkedList`: both carry the (line, column) of every key,
value and item, so a later error can name `file:line:column`. The implicit types are YAML 1.2's
core schema (`true`/`false` only, decimal/0x/0o ints, no timestamps): `On`, `yes`, `no` and
`2026-11-25T00:00:00Z` stay strings. Duplicate keys, non-scalar keys and tags such as `!!set` or
`!!timestamp` are errors. Every problem is a `YAMLProblem` with its line and column; callers wrap
it in their own error type.

`substitute` is the one `${NAME}` / `${NAME:-default}` expander (`$$` writes a `$`): `read_yaml`
applies it to string scalars when given `env`, and the connector applies it to option mappings
that never were YAML.
"""
from __future__ import annotations

import re
import typing as t

import yaml

if t.TYPE_CHECKING:
    from collections.abc import Iterable
    from collections.abc import Mapping

Mark = tuple[int, int]  # (line, column), both 1-based


class YAMLProblem(ValueError):
    """A YAML text that cannot be read: `message` and, when known, the 1-based `line` and `column`."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


class MarkedDict(dict):
    """A YAML mapping with `mark` (its own position), `key_marks` and `value_marks` per key.

    Hashable by identity, so that a schema can cache what it made of a mapping that copies share.
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


def new_list(items: Iterable = (), *, mark: Mark = (0, 0)) -> MarkedList:
    """A MarkedList with the items given and no item marks (a tree that never was YAML)."""
    out = MarkedList(items)
    out.mark, out.item_marks = mark, []
    return out


# --------------------------------------------------------------------------------------------------
# ${ENV}

_ENV_RE = re.compile(r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|(\{[^}]*\}?))")


def substitute(text: str, environ: Mapping[str, str]) -> str:
    """`${NAME}` and `${NAME:-default}` replaced from environ (an empty value takes the default);
    `$$` is a literal `$`, so `$${X}` writes `${X}`.

    Raises:
        KeyError: a variable without a default is not set (args[0] is its name).
        ValueError: a malformed `${...}` (the message shows it and the accepted forms).
    """
    def replace(match: re.Match) -> str:
        dollar, name, default, bad = match.groups()
        if dollar:
            return "$"
        if bad is not None:
            raise ValueError(f"malformed {match.group(0)!r}: use ${{NAME}} or ${{NAME:-default}} ($$ for a $)")
        value = environ.get(name)
        if value is None or (value == "" and default is not None):
            if default is None:
                raise KeyError(name)
            return default
        return value

    return _ENV_RE.sub(replace, text)


def unset_message(name: str) -> str:
    """What to say about `${name}` when the variable is not set."""
    return f"environment variable {name} is not set (write ${{{name}:-default}} to give a default)"


# --------------------------------------------------------------------------------------------------
# the loader

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE_TAG = "tag:yaml.org,2002:merge"


def _mark_of(node: yaml.Node) -> Mark:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _problem(message: str, node: yaml.Node) -> YAMLProblem:
    return YAMLProblem(message, *_mark_of(node))


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """The safe loader with marks, YAML 1.2 core scalars and optional ${ENV} substitution."""

    env: Mapping[str, str] | None = None


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


def _construct_str(loader: _Loader, node: yaml.ScalarNode) -> str:
    value = node.value
    if loader.env is None or "$" not in value:
        return value
    try:
        return substitute(value, loader.env)
    except KeyError as exc:
        raise _problem(unset_message(exc.args[0]), node) from None
    except ValueError as exc:
        raise _problem(str(exc), node) from None


def _construct_int(loader: _Loader, node: yaml.ScalarNode) -> int:
    text = node.value.replace("_", "")
    try:
        return int(text, 0) if text.startswith(("0x", "0o")) else int(text, 10)
    except ValueError:
        raise _problem(f"{node.value!r} is not an integer", node) from None


def _construct_float(loader: _Loader, node: yaml.ScalarNode) -> float:
    text = node.value.replace("_", "").lower()
    if text.endswith("inf"):
        return float("-inf") if text.startswith("-") else float("inf")
    try:
        return float(text)
    except ValueError:
        raise _problem(f"{node.value!r} is not a number", node) from None


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> t.Iterator[MarkedDict]:
    data = new_dict(mark=_mark_of(node))
    yield data
    seen: dict[object, yaml.Node] = {}
    for key_node, _ in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.tag != _MERGE_TAG:
            ident = (key_node.tag, key_node.value)
            if ident in seen:
                first = seen[ident].start_mark.line + 1
                raise _problem(f"duplicate key {key_node.value!r} (first at line {first})", key_node)
            seen[ident] = key_node
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, (MarkedDict, MarkedList)) or not _hashable(key):
            raise _problem("a mapping key must be a plain value, not a list or mapping", key_node)
        data[key] = loader.construct_object(value_node)
        data.key_marks[key] = _mark_of(key_node)
        data.value_marks[key] = _mark_of(value_node)


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> t.Iterator[MarkedList]:
    data = new_list(mark=_mark_of(node))
    data.item_marks = [_mark_of(item) for item in node.value]
    yield data
    data.extend(loader.construct_object(item) for item in node.value)


def _construct_unsupported(loader: _Loader, node: yaml.Node) -> t.NoReturn:
    raise _problem(f"YAML tag {node.tag} is not supported here (write a plain value or quote it)", node)


_Loader.add_constructor("tag:yaml.org,2002:str", _construct_str)
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
for _tag in ("omap", "pairs", "set", "timestamp", "binary"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _construct_unsupported)
_Loader.add_constructor(None, _construct_unsupported)


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def read_yaml(text: str, *, env: Mapping[str, str] | None = None) -> object:
    """One YAML document as MarkedDict/MarkedList/scalars (None for an empty one).

    Args:
        text: the YAML text.
        env: when given, `${NAME}` in string scalars is substituted from it (see `substitute`).

    Raises:
        YAMLProblem: a syntax error, a duplicate key, an unsupported tag or an unset variable,
            with its line and column.
    """
    loader = _Loader(text)
    loader.env = env
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = f"invalid YAML: {exc.problem or exc.context or 'syntax error'}"
        if exc.context and exc.problem and exc.context_mark is not None:
            message += f" ({exc.context} at line {exc.context_mark.line + 1})"
        raise YAMLProblem(message, mark.line + 1 if mark else None, mark.column + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise YAMLProblem(f"invalid YAML: {exc}") from None
    except RecursionError:
        raise YAMLProblem("invalid YAML: nested too deeply") from None
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
    """The (line, column) of the node at `path`, or of its deepest existing ancestor with a mark.

    With `key`, the position of the last key itself rather than of its value (for unknown keys).
    Nodes built by new_dict/new_list without marks give None.
    """
    node = root
    mark: Mark | None = getattr(root, "mark", None)
    parts = list(path)
    for i, part in enumerate(parts):
        if isinstance(node, MarkedDict) and _hashable(part) and part in node:
            marks = node.key_marks if key and i == len(parts) - 1 else node.value_marks
            mark = marks.get(part, mark)
            node = node[part]
        elif isinstance(node, MarkedList) and isinstance(part, int) and 0 <= part < len(node):
            if part < len(node.item_marks):
                mark = node.item_marks[part]
            node = node[part]
        else:
            break
    return mark if mark != (0, 0) else None
