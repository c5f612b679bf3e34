"""connector.config.tree: the marked tree a configuration is validated from: walking it, its lines, ${ENV}.

A file is read by picommon.markedyaml into MarkedDict/MarkedList nodes that know their lines; a
mapping given in code (Lakeflow or Spark options, tests) is turned into the same nodes without
lines by `mark_free`. `walk` visits every value with its dotted path and line, which is how
`${NAME}` is substituted over the tree (so a file and a mapping follow the same rules) and how
`lines` records where each field was written.
"""
from __future__ import annotations

import typing as t
from collections.abc import Mapping

from picommon.markedyaml import MarkedDict
from picommon.markedyaml import MarkedList
from picommon.markedyaml import format_path
from picommon.markedyaml import new_dict
from picommon.markedyaml import new_list
from picommon.markedyaml import substitute
from picommon.markedyaml import unset_message

from ..errors import ConfigError

FieldPath = tuple[t.Union[str, int], ...]


def mark_free(value: object) -> object:
    """A plain mapping/list tree as MarkedDict/MarkedList nodes without marks (tuples become lists)."""
    if isinstance(value, Mapping):
        return new_dict({k: mark_free(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return new_list(mark_free(v) for v in value)
    return value


def child_line(container: object, key: object, default: int | None) -> int | None:
    """The line of `container[key]` (of the key, for a mapping), or `default` when it has none."""
    if isinstance(container, MarkedDict):
        mark = container.key_marks.get(key)
    elif isinstance(container, MarkedList) and isinstance(key, int) and key < len(container.item_marks):
        mark = container.item_marks[key]
    else:
        mark = None
    return mark[0] if mark else default


def walk(value: object, path: FieldPath = (), line: int | None = None
         ) -> t.Iterator[tuple[t.Any, t.Any, FieldPath, int | None]]:
    """(container, key, path, line) for every value of the tree, depth first."""
    if isinstance(value, dict):
        keys: t.Iterable[t.Any] = list(value)
    elif isinstance(value, list):
        keys = range(len(value))
    else:
        return
    for key in keys:
        here, at = (*path, key), child_line(value, key, line)
        yield value, key, here, at
        yield from walk(value[key], here, at)


def field_lines(tree: object) -> dict[str, int]:
    """{"source.url": 2, "tags[0].names": 7, ...}: the line of every field that has one."""
    return {format_path(path): line for _, _, path, line in walk(tree) if line is not None}


def substitute_env(tree: object, file: str, environ: Mapping[str, str]) -> list[ConfigError]:
    """Replace ${NAME} in every string of the tree, in place; one ConfigError per bad string."""
    errors = []
    for container, key, path, line in list(walk(tree)):
        value = container[key]
        if not isinstance(value, str) or "$" not in value:
            continue
        try:
            container[key] = substitute(value, environ)
        except KeyError as exc:
            errors.append(ConfigError(unset_message(exc.args[0]), file=file, line=line, field=format_path(path)))
        except ValueError as exc:
            errors.append(ConfigError(str(exc), file=file, line=line, field=format_path(path)))
    return errors
